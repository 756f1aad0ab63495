//! `hubfix:plugin/logs`: CloudWatch Logs log groups in the finding's account and region.
//!
//! Log groups are named by name. Names and retention periods are checked before they
//! reach CloudWatch Logs.

use hubfix_contract::{HostFunction, function};

use crate::aws::{AwsClients, CallError, PluginCtx, map_sdk_error};
use crate::bindings::logs::{Host, LogGroup};
use crate::bindings::types::AwsError;

const DESCRIBE: &HostFunction = function("logs.describe-log-groups");
const CREATE: &HostFunction = function("logs.create-log-group");
const RETENTION: &HostFunction = function("logs.put-retention-policy");

/// The retention periods `PutRetentionPolicy` accepts, in days.
const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// CloudWatch Logs' limit on a log group name.
const MAX_NAME: usize = 512;

fn logs(aws: &AwsClients) -> aws_sdk_cloudwatchlogs::Client {
    aws.client(aws_sdk_cloudwatchlogs::Client::new)
}

/// A log group name (or, with `allow_empty`, a name prefix): at most 512 of letters,
/// digits and `._-/#`.
fn group_name(
    function: &HostFunction,
    field: &str,
    name: &str,
    allow_empty: bool,
) -> Result<(), CallError> {
    let ok = (allow_empty || !name.is_empty())
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b));
    if !ok {
        return Err(AwsError::InvalidInput(format!(
            "{}: `{field}` must be a log group name of {} to {MAX_NAME} letters, digits and `._-/#`, not {name:?}",
            function.name,
            if allow_empty { 0 } else { 1 },
        ))
        .into());
    }
    Ok(())
}

impl Host for PluginCtx {
    async fn describe_log_groups(
        &mut self,
        name_prefix: String,
    ) -> Result<Vec<LogGroup>, CallError> {
        group_name(DESCRIBE, "name-prefix", &name_prefix, true)?;
        let resource = (!name_prefix.is_empty()).then(|| name_prefix.clone());
        self.call(DESCRIBE, resource.as_deref(), |aws| async move {
            let mut groups = Vec::new();
            let mut pages = logs(&aws)
                .describe_log_groups()
                .set_log_group_name_prefix((!name_prefix.is_empty()).then_some(name_prefix))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(map_sdk_error)?;
                groups.extend(page.log_groups().iter().map(|g| LogGroup {
                    name: g.log_group_name().unwrap_or_default().to_owned(),
                    arn: g.arn().unwrap_or_default().to_owned(),
                    retention_in_days: g.retention_in_days().and_then(|d| u32::try_from(d).ok()),
                    kms_key_id: g.kms_key_id().map(str::to_owned),
                }));
            }
            Ok(groups)
        })
        .await
    }

    async fn create_log_group(&mut self, name: String) -> Result<(), CallError> {
        group_name(CREATE, "name", &name, false)?;
        let resource = name.clone();
        self.call(CREATE, Some(&resource), |aws| async move {
            logs(&aws)
                .create_log_group()
                .log_group_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn put_retention_policy(&mut self, name: String, days: u32) -> Result<(), CallError> {
        group_name(RETENTION, "name", &name, false)?;
        let Some(days) = RETENTION_DAYS
            .contains(&days)
            .then(|| i32::try_from(days).ok())
            .flatten()
        else {
            return Err(AwsError::InvalidInput(format!(
                "{}: `days` must be one of {RETENTION_DAYS:?}, not {days}",
                RETENTION.name
            ))
            .into());
        };
        let resource = name.clone();
        self.call(RETENTION, Some(&resource), |aws| async move {
            logs(&aws)
                .put_retention_policy()
                .log_group_name(name)
                .retention_in_days(days)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupOutput;
    use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
    use aws_sdk_cloudwatchlogs::operation::put_retention_policy::{
        PutRetentionPolicyError, PutRetentionPolicyOutput,
    };
    use aws_sdk_cloudwatchlogs::types::error::ResourceNotFoundException;
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_finding::Finding;
    use serde_json::json;

    use super::*;
    use crate::aws::{AwsClients, Session};
    use crate::bindings::types::Mode;
    use crate::functions::Grants;
    use crate::scope::Scope;

    fn ctx(rules: &[&Rule]) -> PluginCtx {
        let finding = Finding::from_value(json!({
            "Id": "f", "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
            "GeneratorId": "g", "AwsAccountId": "111111111111", "Region": "us-east-1",
            "Resources": [{"Type": "AwsCloudTrailTrail",
                           "Id": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t"}],
        }))
        .unwrap();
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let clients = AwsClients::from_sdk_config(&config).with_client(mock_client!(
            aws_sdk_cloudwatchlogs,
            RuleMode::MatchAny,
            rules
        ));
        let grants = Grants::new([
            "logs.describe-log-groups",
            "logs.create-log-group",
            "logs.put-retention-policy",
        ])
        .unwrap();
        PluginCtx::new(
            Scope::of(&finding, crate::DEFAULT_CREATE_PREFIX),
            Arc::new(grants),
            Mode::Apply,
            Session::Ready(clients),
            20,
        )
    }

    #[tokio::test]
    async fn describe_reads_every_page_with_the_prefix() {
        let group = |name: &str, days: Option<i32>| {
            aws_sdk_cloudwatchlogs::types::LogGroup::builder()
                .log_group_name(name)
                .arn(format!(
                    "arn:aws:logs:us-east-1:111111111111:log-group:{name}:*"
                ))
                .set_retention_in_days(days)
                .build()
        };
        let pages = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups)
            .match_requests(|r| r.log_group_name_prefix() == Some("hubfix-"))
            .sequence()
            .output(move || {
                DescribeLogGroupsOutput::builder()
                    .log_groups(group("hubfix-a", Some(365)))
                    .next_token("2")
                    .build()
            })
            .output(move || {
                DescribeLogGroupsOutput::builder()
                    .log_groups(group("hubfix-b", None))
                    .build()
            })
            .build();
        let mut ctx = ctx(&[&pages]);
        let groups = ctx.describe_log_groups("hubfix-".into()).await.unwrap();
        assert_eq!(
            groups,
            [
                LogGroup {
                    name: "hubfix-a".into(),
                    arn: "arn:aws:logs:us-east-1:111111111111:log-group:hubfix-a:*".into(),
                    retention_in_days: Some(365),
                    kms_key_id: None,
                },
                LogGroup {
                    name: "hubfix-b".into(),
                    arn: "arn:aws:logs:us-east-1:111111111111:log-group:hubfix-b:*".into(),
                    retention_in_days: None,
                    kms_key_id: None,
                },
            ]
        );
        assert_eq!(pages.num_calls(), 2);
        let err = ctx.describe_log_groups("a b".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`name-prefix`"))
        );
    }

    #[tokio::test]
    async fn creates_need_the_prefix_and_retention_only_the_created_group() {
        let create = mock!(aws_sdk_cloudwatchlogs::Client::create_log_group)
            .match_requests(|r| r.log_group_name() == Some("hubfix-trail"))
            .then_output(|| CreateLogGroupOutput::builder().build());
        let retention = mock!(aws_sdk_cloudwatchlogs::Client::put_retention_policy)
            .match_requests(|r| {
                r.log_group_name() == Some("hubfix-trail") && r.retention_in_days() == Some(365)
            })
            .then_output(|| PutRetentionPolicyOutput::builder().build());
        let mut ctx = ctx(&[&create, &retention]);
        let err = ctx.create_log_group("prod-logs".into()).await.unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
        let err = ctx
            .put_retention_policy("hubfix-trail".into(), 365)
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(_))),
            "not created yet"
        );
        ctx.create_log_group("hubfix-trail".into()).await.unwrap();
        ctx.put_retention_policy("hubfix-trail".into(), 365)
            .await
            .unwrap();
        let err = ctx
            .put_retention_policy("hubfix-trail".into(), 366)
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`days`"))
        );
        let err = ctx.create_log_group("hubfix-a*b".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`name`"))
        );
        assert_eq!((create.num_calls(), retention.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_missing_group_is_not_found() {
        let create = mock!(aws_sdk_cloudwatchlogs::Client::create_log_group)
            .then_output(|| CreateLogGroupOutput::builder().build());
        let missing =
            mock!(aws_sdk_cloudwatchlogs::Client::put_retention_policy).then_error(|| {
                PutRetentionPolicyError::ResourceNotFoundException(
                    ResourceNotFoundException::builder()
                        .message("The specified log group does not exist.")
                        .meta(
                            ErrorMetadata::builder()
                                .code("ResourceNotFoundException")
                                .message("The specified log group does not exist.")
                                .build(),
                        )
                        .build(),
                )
            });
        let mut ctx = ctx(&[&create, &missing]);
        ctx.create_log_group("hubfix-g".into()).await.unwrap();
        let err = ctx
            .put_retention_policy("hubfix-g".into(), 30)
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(ref m)) if m.starts_with("PutRetentionPolicy")),
            "{err:?}"
        );
    }
}
