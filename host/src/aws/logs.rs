//! `hubfix:plugin/logs`: CloudWatch Logs log groups in the finding's account and region.
//!
//! Log groups are named by name. Names and retention periods are checked before they
//! reach CloudWatch Logs.

use hubfix_contract::{HostFunction, function};

use crate::aws::{AwsClients, CallError, PluginCtx, map_sdk_error, read_pages};
use crate::bindings::logs::{Host, LogGroup, MetricFilter, MetricTransformation, NewMetricFilter};
use crate::bindings::types::AwsError;

const DESCRIBE: &HostFunction = function("logs.describe-log-groups");
const CREATE: &HostFunction = function("logs.create-log-group");
const RETENTION: &HostFunction = function("logs.put-retention-policy");
const DESCRIBE_FILTERS: &HostFunction = function("logs.describe-metric-filters");
const PUT_FILTER: &HostFunction = function("logs.put-metric-filter");

/// The most pages `describe-metric-filters` reads (50 filters each; a group has at most
/// 100).
pub(crate) const MAX_PAGES: usize = 20;
/// CloudWatch Logs' limit on a metric filter name.
const MAX_FILTER_NAME: usize = 512;
/// CloudWatch Logs' limit on a filter pattern.
const MAX_PATTERN: usize = 1024;
/// CloudWatch's limit on a metric name and on a namespace.
const MAX_METRIC: usize = 255;
/// CloudWatch Logs' limit on a metric transformation's value.
const MAX_METRIC_VALUE: usize = 100;

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

/// `value` is 1 to `max` characters (0 with `allow_empty`), no control characters and
/// none of `forbidden`.
fn text(
    function: &HostFunction,
    field: &str,
    value: &str,
    max: usize,
    allow_empty: bool,
    forbidden: &[char],
) -> Result<(), CallError> {
    let ok = (allow_empty || !value.is_empty())
        && value.chars().count() <= max
        && !value
            .chars()
            .any(|c| c.is_control() || forbidden.contains(&c));
    if !ok {
        let none_of: String = forbidden.iter().collect();
        return Err(AwsError::InvalidInput(format!(
            "{}: `{field}` must be {} to {max} characters without control characters{}, not {value:?}",
            function.name,
            if allow_empty { 0 } else { 1 },
            if none_of.is_empty() {
                String::new()
            } else {
                format!(" or any of `{none_of}`")
            },
        ))
        .into());
    }
    Ok(())
}

fn transformation(function: &HostFunction, t: &MetricTransformation) -> Result<(), CallError> {
    text(
        function,
        "transformation.name",
        &t.name,
        MAX_METRIC,
        false,
        &[':', '*', '$'],
    )?;
    text(
        function,
        "transformation.namespace",
        &t.namespace,
        MAX_METRIC,
        false,
        &[':', '*', '$'],
    )?;
    text(
        function,
        "transformation.value",
        &t.value,
        MAX_METRIC_VALUE,
        false,
        &[],
    )
}

impl Host for PluginCtx {
    async fn describe_log_groups(
        &mut self,
        name_prefix: String,
    ) -> Result<Vec<LogGroup>, CallError> {
        self.enter(const { function("logs.describe-log-groups") })?;
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
        self.enter(const { function("logs.create-log-group") })?;
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
        self.enter(const { function("logs.put-retention-policy") })?;
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

    async fn describe_metric_filters(
        &mut self,
        log_group: String,
    ) -> Result<Vec<MetricFilter>, CallError> {
        self.enter(const { function("logs.describe-metric-filters") })?;
        group_name(DESCRIBE_FILTERS, "log-group", &log_group, false)?;
        let resource = log_group.clone();
        self.call(DESCRIBE_FILTERS, Some(&resource), |aws| async move {
            let mut filters = Vec::new();
            let pages = logs(&aws)
                .describe_metric_filters()
                .log_group_name(log_group)
                .into_paginator()
                .send();
            read_pages(pages, MAX_PAGES, "metric filters", map_sdk_error, |page| {
                filters.extend(page.metric_filters().iter().map(|f| {
                    MetricFilter {
                        name: f.filter_name().unwrap_or_default().to_owned(),
                        log_group: f.log_group_name().unwrap_or_default().to_owned(),
                        pattern: f.filter_pattern().unwrap_or_default().to_owned(),
                        transformations: f
                            .metric_transformations()
                            .iter()
                            .map(|t| MetricTransformation {
                                name: t.metric_name().to_owned(),
                                namespace: t.metric_namespace().to_owned(),
                                value: t.metric_value().to_owned(),
                            })
                            .collect(),
                    }
                }))
            })
            .await?;
            Ok(filters)
        })
        .await
    }

    async fn put_metric_filter(&mut self, filter: NewMetricFilter) -> Result<(), CallError> {
        self.enter(const { function("logs.put-metric-filter") })?;
        group_name(PUT_FILTER, "log-group", &filter.log_group, false)?;
        text(
            PUT_FILTER,
            "name",
            &filter.name,
            MAX_FILTER_NAME,
            false,
            &[':', '*'],
        )?;
        text(
            PUT_FILTER,
            "pattern",
            &filter.pattern,
            MAX_PATTERN,
            true,
            &[],
        )?;
        transformation(PUT_FILTER, &filter.transformation)?;
        let t = filter.transformation;
        let transformation = aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
            .metric_name(t.name)
            .metric_namespace(t.namespace)
            .metric_value(t.value)
            .build()
            .map_err(|e| AwsError::InvalidInput(format!("{}: {e}", PUT_FILTER.name)))?;
        let resource = filter.name.clone();
        self.call(PUT_FILTER, Some(&resource), |aws| async move {
            logs(&aws)
                .put_metric_filter()
                .log_group_name(filter.log_group)
                .filter_name(filter.name)
                .filter_pattern(filter.pattern)
                .metric_transformations(transformation)
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
    use crate::aws::mock_tests::mock_ctx;

    use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupOutput;
    use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
    use aws_sdk_cloudwatchlogs::operation::put_retention_policy::{
        PutRetentionPolicyError, PutRetentionPolicyOutput,
    };
    use aws_sdk_cloudwatchlogs::types::error::ResourceNotFoundException;
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_mocks::{Rule, RuleMode, mock, mock_client};

    use serde_json::json;

    use super::*;

    use crate::bindings::types::Mode;

    fn ctx(rules: &[&Rule]) -> PluginCtx {
        mock_ctx(
            "us-east-1",
            json!([{"Type": "AwsCloudTrailTrail",
                     "Id": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t"}]),
            mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, rules),
            &[
                "logs.describe-log-groups",
                "logs.create-log-group",
                "logs.put-retention-policy",
                "logs.describe-metric-filters",
                "logs.put-metric-filter",
            ],
            Mode::Apply,
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

    fn new_filter(name: &str) -> NewMetricFilter {
        NewMetricFilter {
            log_group: "trail-logs".into(),
            name: name.into(),
            pattern: r#"{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }"#
                .into(),
            transformation: MetricTransformation {
                name: "RootUsage".into(),
                namespace: "CISBenchmark".into(),
                value: "1".into(),
            },
        }
    }

    #[tokio::test]
    async fn metric_filters_are_read_by_group_and_put_with_the_prefix() {
        use aws_sdk_cloudwatchlogs::operation::describe_metric_filters::DescribeMetricFiltersOutput;
        use aws_sdk_cloudwatchlogs::operation::put_metric_filter::PutMetricFilterOutput;
        let sdk_filter = |name: &str| {
            aws_sdk_cloudwatchlogs::types::MetricFilter::builder()
                .filter_name(name)
                .log_group_name("trail-logs")
                .filter_pattern("{ $.eventName = ConsoleLogin }")
                .metric_transformations(
                    aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                        .metric_name("Logins")
                        .metric_namespace("CISBenchmark")
                        .metric_value("1")
                        .build()
                        .unwrap(),
                )
                .build()
        };
        let describe = mock!(aws_sdk_cloudwatchlogs::Client::describe_metric_filters)
            .match_requests(|r| r.log_group_name() == Some("trail-logs"))
            .sequence()
            .output(move || {
                DescribeMetricFiltersOutput::builder()
                    .metric_filters(sdk_filter("a"))
                    .next_token("2")
                    .build()
            })
            .output(move || {
                DescribeMetricFiltersOutput::builder()
                    .metric_filters(sdk_filter("b"))
                    .build()
            })
            .build();
        let put = mock!(aws_sdk_cloudwatchlogs::Client::put_metric_filter)
            .match_requests(|r| {
                r.log_group_name() == Some("trail-logs")
                    && r.filter_name() == Some("hubfix-root-usage")
                    && r.filter_pattern().is_some_and(|p| p.contains("Root"))
                    && r.metric_transformations().len() == 1
                    && r.metric_transformations()[0].metric_name() == "RootUsage"
                    && r.metric_transformations()[0].metric_value() == "1"
            })
            .then_output(|| PutMetricFilterOutput::builder().build());
        let mut ctx = ctx(&[&describe, &put]);
        let filters = ctx
            .describe_metric_filters("trail-logs".into())
            .await
            .unwrap();
        assert_eq!(
            filters,
            [
                MetricFilter {
                    name: "a".into(),
                    log_group: "trail-logs".into(),
                    pattern: "{ $.eventName = ConsoleLogin }".into(),
                    transformations: vec![MetricTransformation {
                        name: "Logins".into(),
                        namespace: "CISBenchmark".into(),
                        value: "1".into(),
                    }],
                },
                MetricFilter {
                    name: "b".into(),
                    ..filters[0].clone()
                },
            ]
        );
        ctx.put_metric_filter(new_filter("hubfix-root-usage"))
            .await
            .unwrap();
        let err = ctx
            .put_metric_filter(new_filter("root-usage"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("hubfix-")),
            "{err:?}"
        );
        assert_eq!((describe.num_calls(), put.num_calls()), (2, 1));
    }

    #[tokio::test]
    async fn hostile_metric_filters_never_reach_logs() {
        let put = mock!(aws_sdk_cloudwatchlogs::Client::put_metric_filter).then_output(|| {
            aws_sdk_cloudwatchlogs::operation::put_metric_filter::PutMetricFilterOutput::builder()
                .build()
        });
        let mut ctx = ctx(&[&put]);
        let f = || new_filter("hubfix-f");
        let mut long = f();
        long.pattern = "x".repeat(MAX_PATTERN + 1);
        let mut control = f();
        control.pattern = "ERROR\n\u{7}".into();
        let mut group = f();
        group.log_group = "a b".into();
        let mut name = f();
        name.name = "hubfix-a:b".into();
        let mut metric = f();
        metric.transformation.name = "Root$Usage".into();
        let mut namespace = f();
        namespace.transformation.namespace = String::new();
        let mut value = f();
        value.transformation.value = "1".repeat(MAX_METRIC_VALUE + 1);
        let cases = [
            (long, "`pattern`"),
            (control, "`pattern`"),
            (group, "`log-group`"),
            (name, "`name`"),
            (metric, "`transformation.name`"),
            (namespace, "`transformation.namespace`"),
            (value, "`transformation.value`"),
        ];
        for (filter, field) in cases {
            let err = ctx.put_metric_filter(filter).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains(field)),
                "{field}: {err:?}"
            );
        }
        let mut longest = f();
        longest.pattern = "x".repeat(MAX_PATTERN);
        ctx.put_metric_filter(longest).await.unwrap();
        let err = ctx
            .describe_metric_filters(String::new())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`log-group`"))
        );
        assert_eq!(put.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_filter_on_a_missing_group_is_not_found_and_plan_mode_makes_no_call() {
        use aws_sdk_cloudwatchlogs::operation::put_metric_filter::PutMetricFilterError;
        let missing = mock!(aws_sdk_cloudwatchlogs::Client::put_metric_filter).then_error(|| {
            PutMetricFilterError::ResourceNotFoundException(
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
        let mut apply = ctx(&[&missing]);
        let err = apply
            .put_metric_filter(new_filter("hubfix-f"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(ref m)) if m.starts_with("PutMetricFilter")),
            "{err:?}"
        );
        let mut plan = ctx(&[&missing]);
        plan.mode = Mode::Plan;
        plan.put_metric_filter(new_filter("hubfix-f"))
            .await
            .unwrap();
        assert_eq!(missing.num_calls(), 1);
        let results: Vec<_> = plan.into_trail().calls.iter().map(|c| c.result).collect();
        assert_eq!(results, [crate::outcome::CallResult::Planned]);
    }
}
