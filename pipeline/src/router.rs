//! The router Lambda's logic: the policy from S3 (cached, revalidated by ETag), and one
//! finding in → one [`Route`] out.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use hubfix_policy::Policy;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::error::{Error, ErrorName};
use crate::message::Route;
use crate::route::{route, today};
use crate::s3::S3Url;

/// The policy files under an S3 prefix (`*.toml`), read once and re-read only when their
/// ETags change. One listing per TTL is the steady-state cost.
pub struct PolicyStore {
    s3: aws_sdk_s3::Client,
    location: S3Url,
    ttl: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    policy: Option<Arc<Policy>>,
    /// The ETag of each policy file the loaded policy (or the last refused one) came from.
    etags: BTreeMap<String, String>,
    checked: Option<Instant>,
}

impl PolicyStore {
    /// A store over the `*.toml` files under `location`, trusted for `ttl` between checks.
    pub fn new(s3: aws_sdk_s3::Client, location: S3Url, ttl: Duration) -> Self {
        Self {
            s3,
            location,
            ttl,
            state: Mutex::new(State::default()),
        }
    }

    /// The current policy.
    ///
    /// When S3 cannot be read, or the files there no longer validate, the policy loaded
    /// before keeps serving (logged as an error). Without one: `Hubfix.PolicyUnavailable`
    /// (retryable) or `Hubfix.PolicyInvalid`.
    pub async fn policy(&self) -> Result<Arc<Policy>, Error> {
        let mut state = self.state.lock().await;
        if let (Some(policy), Some(checked)) = (&state.policy, state.checked)
            && checked.elapsed() < self.ttl
        {
            return Ok(policy.clone());
        }
        let refreshed = self.refresh(&mut state).await;
        state.checked = Some(Instant::now());
        match (refreshed, &state.policy) {
            (Ok(()), Some(policy)) => Ok(policy.clone()),
            (Ok(()), None) => Err(Error::internal("no policy after a refresh")),
            (Err(e), Some(policy)) => {
                tracing::error!(error = %e, location = %self.location, "keeping the policy loaded before");
                Ok(policy.clone())
            }
            (Err(e), None) => Err(e),
        }
    }

    async fn refresh(&self, state: &mut State) -> Result<(), Error> {
        let etags = self.list().await?;
        if etags.is_empty() {
            return Err(Error::new(
                ErrorName::PolicyInvalid,
                format!("no policy files (*.toml) under {}", self.location),
            ));
        }
        if etags == state.etags {
            return Ok(());
        }
        let mut files = Vec::with_capacity(etags.len());
        for key in etags.keys() {
            files.push((key.clone(), self.get(key).await?));
        }
        // Remember what was seen even when it does not validate: one error per change,
        // not one per finding.
        state.etags = etags;
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(k, text)| (k.as_str(), text.as_str()))
            .collect();
        let policy = Policy::from_files(&files).map_err(|e| {
            Error::new(
                ErrorName::PolicyInvalid,
                format!("the policy under {} does not validate:\n{e}", self.location),
            )
        })?;
        tracing::info!(location = %self.location, files = files.len(), "policy loaded");
        state.policy = Some(Arc::new(policy));
        Ok(())
    }

    async fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        let mut etags = BTreeMap::new();
        let mut pages = self
            .s3
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(&self.location.prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.unavailable("list", e))?;
            for object in page.contents() {
                if let (Some(key), Some(etag)) = (object.key(), object.e_tag())
                    && key.ends_with(".toml")
                {
                    etags.insert(key.to_owned(), etag.to_owned());
                }
            }
        }
        Ok(etags)
    }

    async fn get(&self, key: &str) -> Result<String, Error> {
        let object = self
            .s3
            .get_object()
            .bucket(&self.location.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| self.unavailable(key, e))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| Error::new(ErrorName::PolicyUnavailable, format!("reading {key}: {e}")))?
            .into_bytes();
        String::from_utf8(bytes.to_vec()).map_err(|_| {
            Error::new(
                ErrorName::PolicyInvalid,
                format!("policy file {key} is not UTF-8"),
            )
        })
    }

    fn unavailable<E>(&self, what: &str, e: aws_sdk_s3::error::SdkError<E>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let name = match e.code() {
            Some("AccessDenied" | "NoSuchBucket") => ErrorName::PolicyInvalid,
            _ => ErrorName::PolicyUnavailable,
        };
        Error::new(
            name,
            format!(
                "cannot read the policy ({what} in {}): {}",
                self.location,
                DisplayErrorContext(&e)
            ),
        )
    }
}

/// The router Lambda's handler state: built once per container.
pub struct Router {
    store: PolicyStore,
}

impl Router {
    /// A router deciding with the policy in `store`.
    pub fn new(store: PolicyStore) -> Self {
        Self { store }
    }

    /// Handles one invocation: `{"finding": {...}}` → [`Route`].
    pub async fn handle(&self, input: Value) -> Result<Route, Error> {
        let finding = input.get("finding").ok_or_else(|| {
            Error::invalid_request(format!(
                "the router takes {{\"finding\": {{...}}}}, got {}",
                hubfix_finding::json_kind(&input)
            ))
        })?;
        let policy = self.store.policy().await?;
        let route = route(finding, &policy, today())?;
        tracing::info!(
            finding = %route.identifier.id,
            control = route.control.as_deref().unwrap_or("-"),
            action = ?route.action,
            rule = %route.rule,
            "routed"
        );
        Ok(route)
    }
}
