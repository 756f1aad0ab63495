//! `hubfix:plugin/config`: the AWS Config recorder and delivery channel of the finding's
//! account and region.
//!
//! Only the customer managed recorder is seen and changed: service-linked recorders
//! (those another AWS service made with `PutServiceLinkedConfigurationRecorder`, which
//! name a service principal) are left out of `describe-configuration-recorders`, since
//! they are the other service's to manage. Every mutating function is account-level. The
//! recorder's role must be a role of the finding's account; Config is given it with
//! `iam:PassRole`.

use aws_sdk_config::types::{ConfigurationRecorder as SdkRecorder, DeliveryChannel as SdkChannel};
use aws_sdk_config::types::{RecordingGroup as SdkGroup, ResourceType};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use hubfix_contract::{HostFunction, function};

use crate::aws::{AwsClients, CallError, PluginCtx, map_sdk_error};
use crate::bindings::config::{
    ConfigurationRecorder, DeliveryChannel, Host, RecorderStatus, RecordingGroup,
};
use crate::bindings::types::AwsError;

const DESCRIBE_RECORDERS: &HostFunction = function("config.describe-configuration-recorders");
const DESCRIBE_STATUS: &HostFunction = function("config.describe-configuration-recorder-status");
const DESCRIBE_CHANNELS: &HostFunction = function("config.describe-delivery-channels");
const PUT_RECORDER: &HostFunction = function("config.put-configuration-recorder");
const PUT_CHANNEL: &HostFunction = function("config.put-delivery-channel");
const START: &HostFunction = function("config.start-configuration-recorder");

/// Config's limit on recorder and channel names.
const MAX_NAME: usize = 256;

fn config(aws: &AwsClients) -> aws_sdk_config::Client {
    aws.client(aws_sdk_config::Client::new)
}

fn invalid(function: &HostFunction, message: String) -> CallError {
    AwsError::InvalidInput(format!("{}: {message}", function.name)).into()
}

/// A recorder or channel name: 1 to 256 printable characters without spaces.
fn name(function: &HostFunction, field: &str, name: &str) -> Result<(), CallError> {
    if name.is_empty() || name.len() > MAX_NAME || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            function,
            format!("`{field}` must be 1 to {MAX_NAME} printable characters, not {name:?}"),
        ));
    }
    Ok(())
}

/// Maps Config's errors: its `NoSuch…` codes are `not-found`, its `Invalid…` codes and
/// the missing-prerequisite ones are `invalid-input`.
fn config_error<E, R>(err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned).unwrap_or_default();
    match map_sdk_error(err) {
        AwsError::Service(text) if code.starts_with("NoSuch") => AwsError::NotFound(text),
        AwsError::Service(text)
            if code.starts_with("Invalid")
                || code.starts_with("NoAvailable")
                || code == "InsufficientDeliveryPolicyException"
                || code == "MaxNumberOfConfigurationRecordersExceededException"
                || code == "MaxNumberOfDeliveryChannelsExceededException" =>
        {
            AwsError::InvalidInput(text)
        }
        other => other,
    }
}

fn recorder(r: &SdkRecorder) -> ConfigurationRecorder {
    ConfigurationRecorder {
        name: r.name().unwrap_or_default().to_owned(),
        role_arn: r.role_arn().unwrap_or_default().to_owned(),
        recording_group: r.recording_group().map(|g| RecordingGroup {
            all_supported: g.all_supported(),
            include_global_resource_types: g.include_global_resource_types(),
            resource_types: g
                .resource_types()
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
        }),
    }
}

/// Checks the recorder a plugin passes: its name, a role of the finding's account, and
/// resource types written `AWS::Service::Type` (none when recording all supported).
fn check_recorder(
    r: &ConfigurationRecorder,
    partition: &str,
    account: &str,
) -> Result<(), CallError> {
    name(PUT_RECORDER, "name", &r.name)?;
    let role_prefix = format!("arn:{partition}:iam::{account}:role/");
    let role_ok = r.role_arn.len() <= 2048
        && r.role_arn.strip_prefix(&role_prefix).is_some_and(|path| {
            !path.is_empty()
                && path
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
        });
    if !role_ok {
        return Err(invalid(
            PUT_RECORDER,
            format!(
                "`role-arn` must be a role of account {account} (`{role_prefix}…`), not {:?}",
                r.role_arn
            ),
        ));
    }
    if let Some(g) = &r.recording_group {
        if g.all_supported && !g.resource_types.is_empty() {
            return Err(invalid(
                PUT_RECORDER,
                "`resource-types` must be empty when `all-supported` is set".into(),
            ));
        }
        if g.resource_types.len() > 1000 {
            return Err(invalid(
                PUT_RECORDER,
                "more than 1000 `resource-types`".into(),
            ));
        }
        for t in &g.resource_types {
            let parts: Vec<&str> = t.split("::").collect();
            let ok = parts.len() == 3
                && parts[0] == "AWS"
                && parts[1..]
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
            if !ok {
                return Err(invalid(
                    PUT_RECORDER,
                    format!("`resource-types` must be written `AWS::Service::Type`, not {t:?}"),
                ));
            }
        }
    }
    Ok(())
}

/// Checks the delivery channel a plugin passes: names, an S3 bucket name, a key prefix
/// and an SNS topic ARN of the finding's account.
fn check_channel(c: &DeliveryChannel, partition: &str, account: &str) -> Result<(), CallError> {
    name(PUT_CHANNEL, "name", &c.name)?;
    let b = c.s3_bucket_name.as_bytes();
    let bucket_ok = (3..=63).contains(&b.len())
        && b.iter()
            .all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || matches!(x, b'.' | b'-'))
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric);
    if !bucket_ok {
        return Err(invalid(
            PUT_CHANNEL,
            format!(
                "`s3-bucket-name` must be an S3 bucket name, not {:?}",
                c.s3_bucket_name
            ),
        ));
    }
    if let Some(prefix) = &c.s3_key_prefix
        && (prefix.len() > 1024
            || prefix.chars().any(char::is_control)
            || prefix.contains("AWSLogs"))
    {
        return Err(invalid(
            PUT_CHANNEL,
            format!(
                "`s3-key-prefix` must be at most 1024 characters without `AWSLogs`, not {prefix:?}"
            ),
        ));
    }
    if let Some(topic) = &c.sns_topic_arn {
        let ok = topic
            .strip_prefix(&format!("arn:{partition}:sns:"))
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(_, rest)| {
                rest.strip_prefix(&format!("{account}:"))
                    .is_some_and(|name| !name.is_empty() && name.len() <= 256)
            });
        if !ok {
            return Err(invalid(
                PUT_CHANNEL,
                format!("`sns-topic-arn` must be a topic of account {account}, not {topic:?}"),
            ));
        }
    }
    Ok(())
}

impl Host for PluginCtx {
    async fn describe_configuration_recorders(
        &mut self,
    ) -> Result<Vec<ConfigurationRecorder>, CallError> {
        self.enter(const { function("config.describe-configuration-recorders") })?;
        self.call(DESCRIBE_RECORDERS, None, |aws| async move {
            let out = config(&aws)
                .describe_configuration_recorders()
                .send()
                .await
                .map_err(config_error)?;
            Ok(out
                .configuration_recorders()
                .iter()
                .filter(|r| r.service_principal().is_none())
                .map(recorder)
                .collect())
        })
        .await
    }

    async fn describe_configuration_recorder_status(
        &mut self,
    ) -> Result<Vec<RecorderStatus>, CallError> {
        self.enter(const { function("config.describe-configuration-recorder-status") })?;
        self.call(DESCRIBE_STATUS, None, |aws| async move {
            let out = config(&aws)
                .describe_configuration_recorder_status()
                .send()
                .await
                .map_err(config_error)?;
            Ok(out
                .configuration_recorders_status()
                .iter()
                .filter(|s| s.service_principal().is_none())
                .map(|s| RecorderStatus {
                    name: s.name().unwrap_or_default().to_owned(),
                    recording: s.recording(),
                    last_status: s.last_status().map(|l| l.as_str().to_owned()),
                })
                .collect())
        })
        .await
    }

    async fn describe_delivery_channels(&mut self) -> Result<Vec<DeliveryChannel>, CallError> {
        self.enter(const { function("config.describe-delivery-channels") })?;
        self.call(DESCRIBE_CHANNELS, None, |aws| async move {
            let out = config(&aws)
                .describe_delivery_channels()
                .send()
                .await
                .map_err(config_error)?;
            Ok(out
                .delivery_channels()
                .iter()
                .map(|c| DeliveryChannel {
                    name: c.name().unwrap_or_default().to_owned(),
                    s3_bucket_name: c.s3_bucket_name().unwrap_or_default().to_owned(),
                    s3_key_prefix: c.s3_key_prefix().map(str::to_owned),
                    sns_topic_arn: c.sns_topic_arn().map(str::to_owned),
                })
                .collect())
        })
        .await
    }

    async fn put_configuration_recorder(
        &mut self,
        r: ConfigurationRecorder,
    ) -> Result<(), CallError> {
        self.enter(const { function("config.put-configuration-recorder") })?;
        check_recorder(&r, self.scope.partition(), self.scope.account_id())?;
        let resource = r.name.clone();
        self.call(PUT_RECORDER, Some(&resource), |aws| async move {
            let group = r.recording_group.map(|g| {
                SdkGroup::builder()
                    .all_supported(g.all_supported)
                    .include_global_resource_types(g.include_global_resource_types)
                    .set_resource_types((!g.resource_types.is_empty()).then(|| {
                        g.resource_types
                            .iter()
                            .map(|t| ResourceType::from(t.as_str()))
                            .collect()
                    }))
                    .build()
            });
            config(&aws)
                .put_configuration_recorder()
                .configuration_recorder(
                    SdkRecorder::builder()
                        .name(r.name)
                        .role_arn(r.role_arn)
                        .set_recording_group(group)
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(config_error)
        })
        .await
    }

    async fn put_delivery_channel(&mut self, c: DeliveryChannel) -> Result<(), CallError> {
        self.enter(const { function("config.put-delivery-channel") })?;
        check_channel(&c, self.scope.partition(), self.scope.account_id())?;
        let resource = c.name.clone();
        self.call(PUT_CHANNEL, Some(&resource), |aws| async move {
            config(&aws)
                .put_delivery_channel()
                .delivery_channel(
                    SdkChannel::builder()
                        .name(c.name)
                        .s3_bucket_name(c.s3_bucket_name)
                        .set_s3_key_prefix(c.s3_key_prefix)
                        .set_sns_topic_arn(c.sns_topic_arn)
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(config_error)
        })
        .await
    }

    async fn start_configuration_recorder(&mut self, recorder: String) -> Result<(), CallError> {
        self.enter(const { function("config.start-configuration-recorder") })?;
        name(START, "name", &recorder)?;
        let resource = recorder.clone();
        self.call(START, Some(&resource), |aws| async move {
            config(&aws)
                .start_configuration_recorder()
                .configuration_recorder_name(recorder)
                .send()
                .await
                .map(|_| ())
                .map_err(config_error)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::aws::mock_tests::mock_ctx;

    use aws_sdk_config::operation::describe_configuration_recorder_status::DescribeConfigurationRecorderStatusOutput;
    use aws_sdk_config::operation::describe_configuration_recorders::DescribeConfigurationRecordersOutput;
    use aws_sdk_config::operation::describe_delivery_channels::DescribeDeliveryChannelsOutput;
    use aws_sdk_config::operation::put_configuration_recorder::PutConfigurationRecorderOutput;
    use aws_sdk_config::operation::put_delivery_channel::PutDeliveryChannelOutput;
    use aws_sdk_config::operation::start_configuration_recorder::{
        StartConfigurationRecorderError, StartConfigurationRecorderOutput,
    };
    use aws_sdk_config::types::error::NoSuchConfigurationRecorderException;
    use aws_sdk_config::types::{ConfigurationRecorderStatus, RecorderStatus as SdkStatus};
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_mocks::{Rule, RuleMode, mock, mock_client};
    use serde_json::json;

    use super::*;

    use crate::bindings::types::Mode;
    use crate::functions::Grants;
    use crate::scope::Scope;

    const SLR: &str = "arn:aws:iam::111111111111:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig";

    fn ctx(account: &str, rules: &[&Rule]) -> PluginCtx {
        mock_ctx(
            "us-east-1",
            json!([{"Type": "AwsAccount", "Id": format!("AWS::::Account:{account}")}]),
            mock_client!(aws_sdk_config, RuleMode::MatchAny, rules),
            &[
                "config.describe-configuration-recorders",
                "config.describe-configuration-recorder-status",
                "config.describe-delivery-channels",
                "config.put-configuration-recorder",
                "config.put-delivery-channel",
                "config.start-configuration-recorder",
            ],
            Mode::Apply,
            20,
        )
    }

    fn all_supported() -> ConfigurationRecorder {
        ConfigurationRecorder {
            name: "default".into(),
            role_arn: SLR.into(),
            recording_group: Some(RecordingGroup {
                all_supported: true,
                include_global_resource_types: true,
                resource_types: vec![],
            }),
        }
    }

    #[tokio::test]
    async fn reads_map_to_the_wit_records_leaving_service_linked_recorders_out() {
        let recorders = mock!(aws_sdk_config::Client::describe_configuration_recorders)
            .then_output(|| {
                DescribeConfigurationRecordersOutput::builder()
                    .configuration_recorders(
                        SdkRecorder::builder()
                            .name("default")
                            .role_arn(SLR)
                            .recording_group(
                                SdkGroup::builder()
                                    .all_supported(false)
                                    .resource_types(ResourceType::from("AWS::EC2::Instance"))
                                    .build(),
                            )
                            .build(),
                    )
                    .configuration_recorders(
                        SdkRecorder::builder()
                            .name("AWSConfigurationRecorderForOther")
                            .service_principal("other.amazonaws.com")
                            .build(),
                    )
                    .build()
            });
        let status = mock!(aws_sdk_config::Client::describe_configuration_recorder_status)
            .then_output(|| {
                DescribeConfigurationRecorderStatusOutput::builder()
                    .configuration_recorders_status(
                        ConfigurationRecorderStatus::builder()
                            .name("default")
                            .recording(false)
                            .last_status(SdkStatus::Failure)
                            .build(),
                    )
                    .build()
            });
        let channels =
            mock!(aws_sdk_config::Client::describe_delivery_channels).then_output(|| {
                DescribeDeliveryChannelsOutput::builder()
                    .delivery_channels(
                        SdkChannel::builder()
                            .name("default")
                            .s3_bucket_name("logs")
                            .build(),
                    )
                    .build()
            });
        let mut ctx = ctx("111111111111", &[&recorders, &status, &channels]);
        assert_eq!(
            ctx.describe_configuration_recorders().await.unwrap(),
            [ConfigurationRecorder {
                name: "default".into(),
                role_arn: SLR.into(),
                recording_group: Some(RecordingGroup {
                    all_supported: false,
                    include_global_resource_types: false,
                    resource_types: vec!["AWS::EC2::Instance".into()],
                }),
            }]
        );
        assert_eq!(
            ctx.describe_configuration_recorder_status().await.unwrap(),
            [RecorderStatus {
                name: "default".into(),
                recording: false,
                last_status: Some("Failure".into()),
            }]
        );
        assert_eq!(
            ctx.describe_delivery_channels().await.unwrap(),
            [DeliveryChannel {
                name: "default".into(),
                s3_bucket_name: "logs".into(),
                s3_key_prefix: None,
                sns_topic_arn: None,
            }]
        );
    }

    #[tokio::test]
    async fn puts_reach_config_as_given_and_only_for_the_findings_account() {
        let put = mock!(aws_sdk_config::Client::put_configuration_recorder)
            .match_requests(|r| {
                r.configuration_recorder().is_some_and(|c| {
                    c.name() == Some("default")
                        && c.role_arn() == Some(SLR)
                        && c.recording_group().is_some_and(|g| {
                            g.all_supported()
                                && g.include_global_resource_types()
                                && g.resource_types().is_empty()
                        })
                })
            })
            .then_output(|| PutConfigurationRecorderOutput::builder().build());
        let channel = mock!(aws_sdk_config::Client::put_delivery_channel)
            .match_requests(|r| {
                r.delivery_channel().is_some_and(|c| {
                    c.name() == Some("default")
                        && c.s3_bucket_name() == Some("hubfix-config-111111111111-us-east-1")
                        && c.s3_key_prefix().is_none()
                })
            })
            .then_output(|| PutDeliveryChannelOutput::builder().build());
        let start = mock!(aws_sdk_config::Client::start_configuration_recorder)
            .match_requests(|r| r.configuration_recorder_name() == Some("default"))
            .then_output(|| StartConfigurationRecorderOutput::builder().build());
        let new_channel = || DeliveryChannel {
            name: "default".into(),
            s3_bucket_name: "hubfix-config-111111111111-us-east-1".into(),
            s3_key_prefix: None,
            sns_topic_arn: None,
        };

        let mut ctx = ctx("111111111111", &[&put, &channel, &start]);
        ctx.put_configuration_recorder(all_supported())
            .await
            .unwrap();
        ctx.put_delivery_channel(new_channel()).await.unwrap();
        ctx.start_configuration_recorder("default".into())
            .await
            .unwrap();
        assert_eq!(
            (put.num_calls(), channel.num_calls(), start.num_calls()),
            (1, 1, 1)
        );

        // Bad input never reaches Config.
        let mut other_role = all_supported();
        other_role.role_arn = "arn:aws:iam::999999999999:role/x".into();
        let mut mixed = all_supported();
        if let Some(g) = mixed.recording_group.as_mut() {
            g.resource_types = vec!["AWS::EC2::Instance".into()];
        }
        let mut bad_type = all_supported();
        if let Some(g) = bad_type.recording_group.as_mut() {
            g.all_supported = false;
            g.resource_types = vec!["EC2 instance".into()];
        }
        for (bad, field) in [
            (other_role, "`role-arn`"),
            (mixed, "`resource-types`"),
            (bad_type, "`resource-types`"),
        ] {
            let err = ctx.put_configuration_recorder(bad).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains(field)),
                "{err:?}"
            );
        }
        for (bucket, topic, field) in [
            ("Bad_Bucket", None, "`s3-bucket-name`"),
            (
                "ok-bucket",
                Some("arn:aws:sns:us-east-1:999999999999:t"),
                "`sns-topic-arn`",
            ),
        ] {
            let c = DeliveryChannel {
                s3_bucket_name: bucket.into(),
                sns_topic_arn: topic.map(str::to_owned),
                ..new_channel()
            };
            let err = ctx.put_delivery_channel(c).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains(field)),
                "{err:?}"
            );
        }
        let err = ctx
            .start_configuration_recorder(String::new())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::InvalidInput(_))));
        assert_eq!(
            (put.num_calls(), channel.num_calls(), start.num_calls()),
            (1, 1, 1)
        );

        // A finding about another account: no account-level call reaches Config.
        let mut other = ctx_for_other(&put, &channel, &start);
        assert!(
            other
                .put_configuration_recorder(all_supported())
                .await
                .is_err()
        );
        assert!(other.put_delivery_channel(new_channel()).await.is_err());
        assert!(
            other
                .start_configuration_recorder("default".into())
                .await
                .is_err()
        );
        assert_eq!(
            (put.num_calls(), channel.num_calls(), start.num_calls()),
            (1, 1, 1)
        );
    }

    fn ctx_for_other(a: &Rule, b: &Rule, c: &Rule) -> PluginCtx {
        ctx("999999999999", &[a, b, c])
    }

    /// The resources the session policy of `grants` allows `action` on, for `resources`.
    fn allowed(grants: &Grants, resources: serde_json::Value, action: &str) -> Vec<String> {
        let finding =
            crate::scope::tests::unchecked_finding("111111111111", "us-east-1", resources);
        let scope = Scope::of(&finding, crate::DEFAULT_CREATE_PREFIX);
        let policy: serde_json::Value =
            serde_json::from_str(&grants.session_policy(&scope).unwrap()).unwrap();
        let mut arns: Vec<String> = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Action"].as_array().unwrap().iter().any(|a| a == action))
            .flat_map(|s| match &s["Resource"] {
                serde_json::Value::Array(r) => r.clone(),
                other => vec![other.clone()],
            })
            .map(|r| r.as_str().unwrap().to_owned())
            .collect();
        arns.sort();
        arns
    }

    #[test]
    fn the_session_policy_lets_config_be_passed_its_service_linked_role_only() {
        let grants = Grants::new([
            "config.describe-configuration-recorders",
            "config.put-configuration-recorder",
        ])
        .unwrap();
        let account = json!([{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}]);
        // About the account: no role is named, yet Config's own role may be passed, and
        // no other.
        assert_eq!(allowed(&grants, account, "iam:PassRole"), [SLR]);
        // A role the finding names may be passed too; another account's never.
        let with_role = json!([
            {"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"},
            {"Type": "AwsIamRole", "Id": "arn:aws:iam::111111111111:role/recorder"},
            {"Type": "AwsIamRole", "Id": "arn:aws:iam::999999999999:role/theirs"},
        ]);
        assert_eq!(
            allowed(&grants, with_role, "iam:PassRole"),
            [SLR, "arn:aws:iam::111111111111:role/recorder"]
        );
        // Without the put, nothing is passed at all.
        let reads = Grants::new(["config.describe-configuration-recorders"]).unwrap();
        let account = json!([{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}]);
        assert!(allowed(&reads, account, "iam:PassRole").is_empty());
    }

    const NO_RECORDER: &str = "Cannot find configuration recorder with the specified name 'x'.";

    #[tokio::test]
    async fn a_missing_recorder_is_not_found() {
        let missing =
            mock!(aws_sdk_config::Client::start_configuration_recorder).then_error(|| {
                StartConfigurationRecorderError::NoSuchConfigurationRecorderException(
                    NoSuchConfigurationRecorderException::builder()
                        .message(NO_RECORDER)
                        .meta(
                            ErrorMetadata::builder()
                                .code("NoSuchConfigurationRecorderException")
                                .message(NO_RECORDER)
                                .build(),
                        )
                        .build(),
                )
            });
        let mut ctx = ctx("111111111111", &[&missing]);
        let err = ctx
            .start_configuration_recorder("x".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(ref m)) if m.starts_with("StartConfigurationRecorder: NoSuchConfigurationRecorderException")),
            "{err:?}"
        );
    }
}
