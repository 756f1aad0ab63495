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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::get_object::GetObjectOutput;
    use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::types::Object;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use hubfix_mocks::{RuleMode, mock, mock_client};

    const GOOD: &str = r#"
        [controls."IAM.6"]
        action = "notify"
        reason = "needs a person"
    "#;

    fn listing(etag: &'static str) -> hubfix_mocks::Rule {
        mock!(aws_sdk_s3::Client::list_objects_v2).then_output(move || {
            ListObjectsV2Output::builder()
                .contents(Object::builder().key("policy/p.toml").e_tag(etag).build())
                .contents(Object::builder().key("policy/README.md").e_tag("x").build())
                .build()
        })
    }

    fn object(text: &'static str) -> hubfix_mocks::Rule {
        mock!(aws_sdk_s3::Client::get_object)
            .match_requests(|r| r.key() == Some("policy/p.toml"))
            .then_output(move || {
                GetObjectOutput::builder()
                    .body(ByteStream::from_static(text.as_bytes()))
                    .build()
            })
    }

    fn store(client: aws_sdk_s3::Client, ttl: Duration) -> PolicyStore {
        PolicyStore::new(client, "s3://b/policy".parse().unwrap(), ttl)
    }

    #[tokio::test]
    async fn reads_once_then_only_lists_and_rereads_when_an_etag_changes() {
        let (list, get) = (listing("\"1\""), object(GOOD));
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&list, &get]);
        let store = store(client, Duration::ZERO);
        let first = store.policy().await.unwrap();
        let second = store.policy().await.unwrap();
        assert!(
            Arc::ptr_eq(&first, &second),
            "same ETag: the parsed policy is kept"
        );
        assert_eq!(get.num_calls(), 1, "only *.toml files are read, once");
        assert_eq!(list.num_calls(), 2);

        let (changed, get_again) = (listing("\"2\""), object(GOOD));
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&changed, &get_again]);
        let store2 = PolicyStore {
            s3: client,
            ..store
        };
        store2.policy().await.unwrap();
        assert_eq!(get_again.num_calls(), 1, "a new ETag is read again");
    }

    #[tokio::test]
    async fn within_the_ttl_nothing_is_listed() {
        let (list, get) = (listing("\"1\""), object(GOOD));
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&list, &get]);
        let store = store(client, Duration::from_secs(60));
        store.policy().await.unwrap();
        store.policy().await.unwrap();
        assert_eq!(list.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_broken_policy_keeps_the_last_good_one_and_fails_without_one() {
        let (list, get) = (listing("\"1\""), object(GOOD));
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&list, &get]);
        let good = store(client, Duration::ZERO);
        let loaded = good.policy().await.unwrap();

        let (list, bad) = (
            listing("\"2\""),
            object("[controls.\"NOPE.1\"]\naction = \"fix\""),
        );
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&list, &bad]);
        let store = PolicyStore { s3: client, ..good };
        let kept = store.policy().await.unwrap();
        assert!(
            Arc::ptr_eq(&loaded, &kept),
            "the last good policy keeps serving"
        );

        let (list, bad) = (
            listing("\"3\""),
            object("[controls.\"NOPE.1\"]\naction = \"fix\""),
        );
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&list, &bad]);
        let err = super::tests::store(client, Duration::ZERO)
            .policy()
            .await
            .unwrap_err();
        assert_eq!(err.name, ErrorName::PolicyInvalid);
        assert!(err.message.contains("policy/p.toml"), "{}", err.message);
    }

    fn s3_error(status: u16, code: &'static str) -> hubfix_mocks::Rule {
        mock!(aws_sdk_s3::Client::list_objects_v2).then_http_response(move || {
            HttpResponse::new(
                StatusCode::try_from(status).unwrap(),
                SdkBody::from(format!(
                    "<Error><Code>{code}</Code><Message>m</Message></Error>"
                )),
            )
        })
    }

    #[tokio::test]
    async fn s3_errors_are_named_by_whether_a_retry_can_help() {
        let missing = s3_error(404, "NoSuchBucket");
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&missing]);
        let err = store(client, Duration::ZERO).policy().await.unwrap_err();
        assert_eq!(err.name, ErrorName::PolicyInvalid, "{}", err.message);

        let slow = s3_error(503, "SlowDown");
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&slow]);
        let err = store(client, Duration::ZERO).policy().await.unwrap_err();
        assert_eq!(err.name, ErrorName::PolicyUnavailable, "{}", err.message);

        let empty = mock!(aws_sdk_s3::Client::list_objects_v2)
            .then_output(|| ListObjectsV2Output::builder().build());
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&empty]);
        let err = store(client, Duration::ZERO).policy().await.unwrap_err();
        assert_eq!(err.name, ErrorName::PolicyInvalid);
        assert!(err.message.contains("no policy files"));
    }

    #[tokio::test]
    async fn the_handler_wants_a_finding() {
        let (list, get) = (listing("\"1\""), object(GOOD));
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&list, &get]);
        let router = Router::new(store(client, Duration::ZERO));
        let err = router.handle(serde_json::json!([1])).await.unwrap_err();
        assert_eq!(err.name, ErrorName::InvalidRequest);
    }
}
