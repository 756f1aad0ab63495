//! `hubfix:plugin/sns`: SNS topics and subscriptions in the finding's account and region.
//!
//! Topics are named by ARN, and must be the finding's account's and region's; a created
//! topic is also in scope by its name. SNS answers a missing topic with `NotFound`, which
//! is `not-found` here. Listing reads at most [`MAX_PAGES`] pages.
//!
//! In plan mode no topic is created: `create-topic` answers the ARN the topic would have,
//! which the rest of the planned remediation may subscribe to.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use hubfix_contract::{HostFunction, SNS_TOPIC, function};

use crate::aws::{AwsClients, CallError, PluginCtx, map_sdk_error, read_pages};
use crate::bindings::sns::{Host, Subscription};
use crate::bindings::types::{AwsError, Mode};

const CREATE: &HostFunction = function("sns.create-topic");
const SUBSCRIBE: &HostFunction = function("sns.subscribe");
const LIST: &HostFunction = function("sns.list-subscriptions-by-topic");

/// The most pages `list-subscriptions-by-topic` reads (100 subscriptions each).
pub(crate) const MAX_PAGES: usize = 20;
/// SNS's limit on a topic name.
const MAX_TOPIC_NAME: usize = 256;
/// The longest endpoint the host passes on.
const MAX_ENDPOINT: usize = 2048;

fn sns(aws: &AwsClients) -> aws_sdk_sns::Client {
    aws.client(aws_sdk_sns::Client::new)
}

fn invalid(function: &HostFunction, message: String) -> CallError {
    AwsError::InvalidInput(format!("{}: {message}", function.name)).into()
}

/// Maps SNS errors: `NotFound` is `not-found`, `AuthorizationError` `access-denied`;
/// the rest as every service's.
fn sns_error<E, R>(err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.code() {
        Some("NotFound") => AwsError::NotFound(text_of(&err)),
        Some("AuthorizationError") => AwsError::AccessDenied(text_of(&err)),
        _ => map_sdk_error(err),
    }
}

fn text_of<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> String {
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (code, _) => code.unwrap_or_default().to_owned(),
    }
}

/// A standard topic name: 1 to 256 letters, digits, `-` and `_`.
fn topic_name(name: &str) -> Result<(), CallError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_TOPIC_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    if !ok {
        return Err(invalid(
            CREATE,
            format!(
                "`name` must be 1 to {MAX_TOPIC_NAME} letters, digits, `-` and `_`, not {name:?}"
            ),
        ));
    }
    Ok(())
}

/// Whether `endpoint` suits `protocol`; the protocols the host passes on.
fn endpoint_fits(protocol: &str, endpoint: &str) -> Option<bool> {
    let fits = match protocol {
        "email" | "email-json" => endpoint
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.')),
        "http" => endpoint.starts_with("http://"),
        "https" => endpoint.starts_with("https://"),
        "sqs" => endpoint.starts_with("arn:") && endpoint.contains(":sqs:"),
        "lambda" => endpoint.starts_with("arn:") && endpoint.contains(":lambda:"),
        "sms" => endpoint
            .strip_prefix('+')
            .is_some_and(|n| (7..=15).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit())),
        _ => return None,
    };
    Some(fits)
}

impl PluginCtx {
    /// A topic ARN of the finding's account and region.
    fn topic_arn(&self, function: &HostFunction, arn: &str) -> Result<(), CallError> {
        let parts: Vec<&str> = arn.split(':').collect();
        let ok = matches!(
            parts.as_slice(),
            ["arn", partition, "sns", region, account, name]
                if !partition.is_empty()
                    && *region == self.scope.region()
                    && *account == self.scope.account_id()
                    && !name.is_empty()
                    && name.len() <= MAX_TOPIC_NAME
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        );
        if !ok {
            return Err(invalid(
                function,
                format!(
                    "`topic-arn` must be an SNS topic ARN in account {} and region {}, not {arn:?}",
                    self.scope.account_id(),
                    self.scope.region()
                ),
            ));
        }
        Ok(())
    }
}

impl Host for PluginCtx {
    async fn create_topic(&mut self, name: String) -> Result<String, CallError> {
        self.enter(const { function("sns.create-topic") })?;
        topic_name(&name)?;
        let resource = name.clone();
        let arn = self
            .call(CREATE, Some(&resource), |aws| async move {
                let out = sns(&aws)
                    .create_topic()
                    .name(name)
                    .send()
                    .await
                    .map_err(sns_error)?;
                out.topic_arn()
                    .map(str::to_owned)
                    .ok_or_else(|| AwsError::Service("CreateTopic returned no TopicArn".into()))
            })
            .await?;
        if arn.is_empty() && self.mode == Mode::Plan {
            // Nothing was created: the ARN the topic would have (in scope already).
            return Ok(self.scope.arn_of(&SNS_TOPIC, &resource));
        }
        Ok(arn)
    }

    async fn subscribe(
        &mut self,
        topic_arn: String,
        protocol: String,
        endpoint: String,
    ) -> Result<String, CallError> {
        self.enter(const { function("sns.subscribe") })?;
        self.topic_arn(SUBSCRIBE, &topic_arn)?;
        let fits = endpoint.len() <= MAX_ENDPOINT
            && !endpoint
                .chars()
                .any(|c| c.is_control() || c.is_whitespace());
        match endpoint_fits(&protocol, &endpoint) {
            None => {
                return Err(invalid(
                    SUBSCRIBE,
                    format!(
                        "`protocol` must be one of email, email-json, http, https, sqs, lambda, sms, not {protocol:?}"
                    ),
                ));
            }
            Some(ok) if !(ok && fits) => {
                return Err(invalid(
                    SUBSCRIBE,
                    format!(
                        "`endpoint` is not a {protocol} endpoint of at most {MAX_ENDPOINT} characters: {endpoint:?}"
                    ),
                ));
            }
            Some(_) => {}
        }
        let resource = topic_arn.clone();
        self.call(SUBSCRIBE, Some(&resource), |aws| async move {
            let out = sns(&aws)
                .subscribe()
                .topic_arn(topic_arn)
                .protocol(protocol)
                .endpoint(endpoint)
                .send()
                .await
                .map_err(sns_error)?;
            Ok(out.subscription_arn().unwrap_or_default().to_owned())
        })
        .await
    }

    async fn list_subscriptions_by_topic(
        &mut self,
        topic_arn: String,
    ) -> Result<Vec<Subscription>, CallError> {
        self.enter(const { function("sns.list-subscriptions-by-topic") })?;
        self.topic_arn(LIST, &topic_arn)?;
        let resource = topic_arn.clone();
        self.call(LIST, Some(&resource), |aws| async move {
            let mut subscriptions = Vec::new();
            let pages = sns(&aws)
                .list_subscriptions_by_topic()
                .topic_arn(topic_arn)
                .into_paginator()
                .send();
            read_pages(pages, MAX_PAGES, "subscriptions", sns_error, |page| {
                subscriptions.extend(page.subscriptions().iter().map(|s| Subscription {
                    arn: s.subscription_arn().unwrap_or_default().to_owned(),
                    protocol: s.protocol().unwrap_or_default().to_owned(),
                    endpoint: s.endpoint().unwrap_or_default().to_owned(),
                    owner: s.owner().unwrap_or_default().to_owned(),
                }))
            })
            .await?;
            Ok(subscriptions)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::aws::mock_tests::mock_ctx;

    use aws_sdk_sns::operation::create_topic::CreateTopicOutput;
    use aws_sdk_sns::operation::list_subscriptions_by_topic::{
        ListSubscriptionsByTopicError, ListSubscriptionsByTopicOutput,
    };
    use aws_sdk_sns::operation::subscribe::SubscribeOutput;
    use aws_sdk_sns::types::error::NotFoundException;
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_mocks::{Rule, RuleMode, mock, mock_client};

    use serde_json::json;

    use super::*;

    use crate::outcome::CallResult;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111111111111:hubfix-alarms";

    fn ctx(rules: &[&Rule], mode: Mode) -> PluginCtx {
        mock_ctx(
            "us-east-1",
            json!([{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}]),
            mock_client!(aws_sdk_sns, RuleMode::MatchAny, rules),
            &[
                "sns.create-topic",
                "sns.subscribe",
                "sns.list-subscriptions-by-topic",
            ],
            mode,
            50,
        )
    }

    fn sub(endpoint: &str) -> aws_sdk_sns::types::Subscription {
        aws_sdk_sns::types::Subscription::builder()
            .subscription_arn(format!("{TOPIC}:1234"))
            .protocol("email")
            .endpoint(endpoint)
            .owner("111111111111")
            .topic_arn(TOPIC)
            .build()
    }

    #[tokio::test]
    async fn a_created_topic_may_be_subscribed_to_and_listed() {
        let create = mock!(aws_sdk_sns::Client::create_topic)
            .match_requests(|r| r.name() == Some("hubfix-alarms"))
            .then_output(|| CreateTopicOutput::builder().topic_arn(TOPIC).build());
        let subscribe = mock!(aws_sdk_sns::Client::subscribe)
            .match_requests(|r| {
                r.topic_arn() == Some(TOPIC)
                    && r.protocol() == Some("email")
                    && r.endpoint() == Some("sec@example.com")
            })
            .then_output(|| {
                SubscribeOutput::builder()
                    .subscription_arn("pending confirmation")
                    .build()
            });
        let list = mock!(aws_sdk_sns::Client::list_subscriptions_by_topic)
            .match_requests(|r| r.topic_arn() == Some(TOPIC))
            .sequence()
            .output(|| {
                ListSubscriptionsByTopicOutput::builder()
                    .subscriptions(sub("a@example.com"))
                    .next_token("2")
                    .build()
            })
            .output(|| {
                ListSubscriptionsByTopicOutput::builder()
                    .subscriptions(sub("b@example.com"))
                    .build()
            })
            .build();
        let mut ctx = ctx(&[&create, &subscribe, &list], Mode::Apply);
        let err = ctx
            .subscribe(TOPIC.into(), "email".into(), "sec@example.com".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(_))),
            "not created yet: {err:?}"
        );
        assert_eq!(
            ctx.create_topic("hubfix-alarms".into()).await.unwrap(),
            TOPIC
        );
        let arn = ctx
            .subscribe(TOPIC.into(), "email".into(), "sec@example.com".into())
            .await
            .unwrap();
        assert_eq!(arn, "pending confirmation");
        let subs = ctx.list_subscriptions_by_topic(TOPIC.into()).await.unwrap();
        assert_eq!(
            subs.iter().map(|s| s.endpoint.as_str()).collect::<Vec<_>>(),
            ["a@example.com", "b@example.com"]
        );
        assert_eq!(subs[0].arn, format!("{TOPIC}:1234"));
        assert_eq!(
            (subs[0].protocol.as_str(), subs[0].owner.as_str()),
            ("email", "111111111111")
        );
        assert_eq!(
            (create.num_calls(), subscribe.num_calls(), list.num_calls()),
            (1, 1, 2)
        );
    }

    #[tokio::test]
    async fn hostile_input_never_reaches_sns() {
        let create = mock!(aws_sdk_sns::Client::create_topic)
            .then_output(|| CreateTopicOutput::builder().topic_arn(TOPIC).build());
        let subscribe = mock!(aws_sdk_sns::Client::subscribe)
            .then_output(|| SubscribeOutput::builder().subscription_arn("x").build());
        let mut ctx = ctx(&[&create, &subscribe], Mode::Apply);
        let err = ctx.create_topic("prod-alarms".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("hubfix-"))
        );
        for bad in ["", "hubfix-a.fifo", "hubfix a", &"h".repeat(300)] {
            let err = ctx.create_topic(bad.into()).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`name`")),
                "{bad}: {err:?}"
            );
        }
        ctx.create_topic("hubfix-alarms".into()).await.unwrap();
        let bad_subscriptions = [
            (TOPIC, "carrier-pigeon", "x", "`protocol`"),
            (TOPIC, "email", "not-an-address", "`endpoint`"),
            (TOPIC, "https", "http://example.com/hook", "`endpoint`"),
            (TOPIC, "sms", "+12 34", "`endpoint`"),
            (TOPIC, "email", "a@example.com\n", "`endpoint`"),
            (
                "arn:aws:sns:us-east-1:999999999999:hubfix-alarms",
                "email",
                "a@example.com",
                "`topic-arn`",
            ),
            (
                "arn:aws:sns:eu-west-1:111111111111:hubfix-alarms",
                "email",
                "a@example.com",
                "`topic-arn`",
            ),
            ("hubfix-alarms", "email", "a@example.com", "`topic-arn`"),
        ];
        for (topic, protocol, endpoint, field) in bad_subscriptions {
            let err = ctx
                .subscribe(topic.into(), protocol.into(), endpoint.into())
                .await
                .unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains(field)),
                "{protocol} {endpoint}: {err:?}"
            );
        }
        let err = ctx
            .list_subscriptions_by_topic("arn:aws:sns:us-east-1:111111111111:a:b".into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::InvalidInput(_))));
        assert_eq!((create.num_calls(), subscribe.num_calls()), (1, 0));
    }

    #[tokio::test]
    async fn a_missing_topic_is_not_found_and_listing_is_bounded() {
        let missing = mock!(aws_sdk_sns::Client::list_subscriptions_by_topic)
            .match_requests(|r| r.topic_arn() == Some(TOPIC))
            .then_error(|| {
                ListSubscriptionsByTopicError::NotFoundException(
                    NotFoundException::builder()
                        .message("Topic does not exist")
                        .meta(
                            ErrorMetadata::builder()
                                .code("NotFound")
                                .message("Topic does not exist")
                                .build(),
                        )
                        .build(),
                )
            });
        let endless =
            mock!(aws_sdk_sns::Client::list_subscriptions_by_topic).then_compute_output(|r| {
                let n: u32 = r.next_token().and_then(|t| t.parse().ok()).unwrap_or(0);
                ListSubscriptionsByTopicOutput::builder()
                    .subscriptions(sub("a@example.com"))
                    .next_token((n + 1).to_string())
                    .build()
            });
        let mut ctx = ctx(&[&missing, &endless], Mode::Apply);
        let err = ctx
            .list_subscriptions_by_topic(TOPIC.into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(ref m)) if m.starts_with("ListSubscriptionsByTopic: NotFound")),
            "{err:?}"
        );
        let other = "arn:aws:sns:us-east-1:111111111111:busy";
        let err = ctx
            .list_subscriptions_by_topic(other.into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::Service(ref m)) if m.contains("more than 20 pages")),
            "{err:?}"
        );
        assert_eq!(endless.num_calls(), MAX_PAGES + 1);
    }

    #[tokio::test]
    async fn a_planned_topic_has_its_arn_and_may_be_subscribed_to() {
        let create = mock!(aws_sdk_sns::Client::create_topic)
            .then_output(|| CreateTopicOutput::builder().topic_arn(TOPIC).build());
        let subscribe = mock!(aws_sdk_sns::Client::subscribe)
            .then_output(|| SubscribeOutput::builder().subscription_arn("x").build());
        let mut ctx = ctx(&[&create, &subscribe], Mode::Plan);
        let arn = ctx.create_topic("hubfix-alarms".into()).await.unwrap();
        assert_eq!(arn, TOPIC);
        ctx.subscribe(arn, "email".into(), "sec@example.com".into())
            .await
            .unwrap();
        assert_eq!((create.num_calls(), subscribe.num_calls()), (0, 0));
        let results: Vec<_> = ctx.into_trail().calls.iter().map(|c| c.result).collect();
        assert_eq!(results, [CallResult::Planned, CallResult::Planned]);
    }
}
