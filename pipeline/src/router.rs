//! The router Lambda's logic: the policy from S3 (cached, revalidated by ETag), and one
//! finding in → one [`Route`] out.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use hubfix_contract::sha256_hex;
use hubfix_policy::Policy;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::error::{Error, ErrorName};
use crate::message::{Identifier, Notification, Route, Trigger, truncate};
use crate::route::{route_for, today};
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

/// Where the router keeps findings it cannot identify (no `Id` or `ProductArn`, not an
/// object, too large): each as its JSON text under `<prefix><sha256>.json`, so the same
/// finding sent twice is one object.
pub struct Quarantine {
    s3: aws_sdk_s3::Client,
    location: S3Url,
}

impl Quarantine {
    /// A quarantine under `location`.
    pub fn new(s3: aws_sdk_s3::Client, location: S3Url) -> Self {
        Self { s3, location }
    }

    /// Stores `finding` and says where: the route that tells the manual topic about it
    /// (nothing can be updated without an identifier).
    pub async fn keep(&self, finding: &Value, why: &Error) -> Result<Route, Error> {
        let text = finding.to_string();
        let sha256 = sha256_hex(text.as_bytes());
        let key = format!("{}{sha256}.json", self.location.prefix);
        let url = format!("s3://{}/{key}", self.location.bucket);
        self.s3
            .put_object()
            .bucket(&self.location.bucket)
            .key(&key)
            .content_type("application/json")
            .body(text.clone().into_bytes().into())
            .send()
            .await
            .map_err(|e| {
                Error::internal(format!(
                    "cannot keep an unidentifiable finding ({}) at {url}: {}",
                    why.message,
                    DisplayErrorContext(&e)
                ))
            })?;
        tracing::warn!(sha256, size = text.len(), stored = %url, reason = %why.message, "finding kept in quarantine");
        Ok(unidentified(&sha256, text.len(), Some(&url), &why.message))
    }
}

/// The route of an unidentifiable finding that was not stored (no quarantine configured):
/// the manual topic still hears of it, by sha256 and size.
pub fn unidentified_unstored(finding: &Value, why: &Error) -> Route {
    let text = finding.to_string();
    unidentified(&sha256_hex(text.as_bytes()), text.len(), None, &why.message)
}

/// The route of a finding kept in quarantine: nothing to update, one message for the
/// manual topic with where it is and why.
fn unidentified(sha256: &str, size: usize, url: Option<&str>, reason: &str) -> Route {
    Route {
        action: hubfix_policy::Action::Notify,
        control: None,
        reason: truncate(reason, 512),
        rule: UNIDENTIFIED_RULE.into(),
        identifier: Identifier::asff(format!("sha256:{sha256}"), ""),
        update: None,
        notification: Some(Notification {
            subject: "hubfix: finding could not be identified".into(),
            message: serde_json::json!({
                "sha256": sha256,
                "size": size,
                "stored": url,
                "reason": truncate(reason, 512),
            })
            .to_string(),
        }),
        remediation: None,
    }
}

/// The rule named by the route of a finding kept in quarantine.
pub const UNIDENTIFIED_RULE: &str = "unidentified-finding";

/// The router Lambda's handler state: built once per container.
pub struct Router {
    store: PolicyStore,
    quarantine: Quarantine,
}

impl Router {
    /// A router deciding with the policy in `store`, keeping findings it cannot identify
    /// in `quarantine`.
    pub fn new(store: PolicyStore, quarantine: Quarantine) -> Self {
        Self { store, quarantine }
    }

    /// Handles one invocation: `{"finding": {...}, "detail-type": ..., "resources": [...]}`
    /// (the event's detail-type and resources tell a custom action, [`Trigger::of_event`])
    /// → [`Route`]. A finding that cannot be identified is kept in the quarantine and routed
    /// to the manual topic alone ([`UNIDENTIFIED_RULE`], no update).
    pub async fn handle(&self, input: Value) -> Result<Route, Error> {
        let finding = input.get("finding").ok_or_else(|| {
            Error::invalid_request(format!(
                "the router takes {{\"finding\": {{...}}}}, got {}",
                hubfix_finding::json_kind(&input)
            ))
        })?;
        // What the state machine passes on from the event (see the ASL's ItemSelector).
        let trigger = Trigger::of_event(
            input.get("detail-type").and_then(Value::as_str),
            input
                .get("resources")
                .and_then(Value::as_array)
                .map_or(&[], Vec::as_slice),
        )?;
        let policy = self.store.policy().await?;
        let route = match route_for(finding, &policy, today(), trigger) {
            Err(e) if e.name == ErrorName::InvalidFinding => {
                return self.quarantine.keep(finding, &e).await;
            }
            routed => routed?,
        };
        tracing::info!(
            finding = %route.identifier.id,
            ?trigger,
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

    fn quarantine(client: aws_sdk_s3::Client) -> Quarantine {
        Quarantine::new(client, "s3://evidence/unidentified".parse().unwrap())
    }

    #[tokio::test]
    async fn the_handler_wants_a_finding() {
        let (list, get) = (listing("\"1\""), object(GOOD));
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&list, &get]);
        let router = Router::new(store(client.clone(), Duration::ZERO), quarantine(client));
        let err = router.handle(serde_json::json!([1])).await.unwrap_err();
        assert_eq!(err.name, ErrorName::InvalidRequest);
    }

    #[test]
    fn an_unidentifiable_finding_without_a_quarantine_is_still_reported() {
        let finding = serde_json::json!({"Title": "no Id"});
        let why = Error::new(ErrorName::InvalidFinding, "the finding has no `Id`");
        let route = unidentified_unstored(&finding, &why);
        assert_eq!(route.rule, UNIDENTIFIED_RULE);
        assert!(route.update.is_none() && route.remediation.is_none());
        let message: Value = serde_json::from_str(&route.notification.unwrap().message).unwrap();
        let text = finding.to_string();
        assert_eq!(message["sha256"], sha256_hex(text.as_bytes()).as_str());
        assert_eq!(message["size"], text.len());
        assert!(message["stored"].is_null(), "{message}");
    }

    #[tokio::test]
    async fn an_unidentifiable_finding_is_kept_by_its_sha256_and_reported() {
        let finding = serde_json::json!({"AwsAccountId": "111111111111", "Title": "no Id"});
        let text = finding.to_string();
        let sha256 = sha256_hex(text.as_bytes());
        let key = format!("unidentified/{sha256}.json");
        let expected = text.clone();
        let put = mock!(aws_sdk_s3::Client::put_object)
            .match_requests(move |r| {
                r.bucket() == Some("evidence")
                    && r.key() == Some(key.as_str())
                    && r.body().bytes() == Some(expected.as_bytes())
            })
            .then_output(|| aws_sdk_s3::operation::put_object::PutObjectOutput::builder().build());
        let any_put = mock!(aws_sdk_s3::Client::put_object)
            .then_output(|| aws_sdk_s3::operation::put_object::PutObjectOutput::builder().build());
        let (list, get) = (listing("\"1\""), object(GOOD));
        let client = mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            [&list, &get, &put, &any_put]
        );
        let router = Router::new(store(client.clone(), Duration::ZERO), quarantine(client));
        let route = router
            .handle(serde_json::json!({"finding": finding}))
            .await
            .unwrap();
        assert_eq!(put.num_calls(), 1);
        assert_eq!(route.rule, UNIDENTIFIED_RULE);
        assert_eq!(route.action, hubfix_policy::Action::Notify);
        assert!(route.update.is_none() && route.remediation.is_none());
        let message: Value = serde_json::from_str(&route.notification.unwrap().message).unwrap();
        assert_eq!(message["sha256"], sha256.as_str());
        assert_eq!(message["size"], text.len());
        assert_eq!(
            message["stored"],
            format!("s3://evidence/unidentified/{sha256}.json")
        );
        assert!(
            message["reason"].as_str().unwrap().contains("`Id`"),
            "{message}"
        );

        // Not even an object: kept too.
        let route = router
            .handle(serde_json::json!({"finding": "text"}))
            .await
            .unwrap();
        assert_eq!(route.rule, UNIDENTIFIED_RULE);
        assert_eq!((put.num_calls(), any_put.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_quarantine_that_cannot_be_written_is_an_error() {
        let denied = mock!(aws_sdk_s3::Client::put_object).then_http_response(|| {
            HttpResponse::new(
                StatusCode::try_from(403).unwrap(),
                SdkBody::from("<Error><Code>AccessDenied</Code><Message>m</Message></Error>"),
            )
        });
        let (list, get) = (listing("\"1\""), object(GOOD));
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&list, &get, &denied]);
        let router = Router::new(store(client.clone(), Duration::ZERO), quarantine(client));
        let err = router
            .handle(serde_json::json!({"finding": {"Title": "no Id"}}))
            .await
            .unwrap_err();
        assert_eq!(err.name, ErrorName::Internal);
        assert!(
            err.message.contains("s3://evidence/unidentified/"),
            "{}",
            err.message
        );
    }
}
