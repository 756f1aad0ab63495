//! `hubfix:plugin/cloudwatch`: CloudWatch metric alarms in the finding's account and
//! region.
//!
//! Alarms are named by name. Every string and number a plugin sends is checked before it
//! reaches CloudWatch; alarm actions must be SNS topics of the finding's account and
//! region. Listing reads at most [`MAX_PAGES`] pages.

use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, Statistic};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use hubfix_contract::{HostFunction, function};

use crate::aws::{AwsClients, CallError, PluginCtx, map_sdk_error, read_pages};
use crate::bindings::cloudwatch::{Host, Metric, MetricAlarm, NewAlarm};
use crate::bindings::types::AwsError;

const DESCRIBE: &HostFunction = function("cloudwatch.describe-alarms");
const PUT: &HostFunction = function("cloudwatch.put-metric-alarm");

/// The most pages `describe-alarms` reads (100 alarms each).
pub(crate) const MAX_PAGES: usize = 20;
/// CloudWatch's limit on an alarm name.
const MAX_ALARM_NAME: usize = 255;
/// CloudWatch's limit on a metric name and on a namespace.
const MAX_METRIC: usize = 255;
/// CloudWatch's limit on alarm actions per state.
const MAX_ACTIONS: usize = 5;
/// The longest an alarm may look back: `period * evaluation-periods` (7 days).
const MAX_WINDOW_SECS: u64 = 7 * 24 * 3600;
/// The longest period (1 day).
const MAX_PERIOD_SECS: u32 = 24 * 3600;
/// SNS's limit on a topic name.
const MAX_TOPIC_NAME: usize = 256;

const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
const OPERATORS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];
const MISSING_DATA: &[&str] = &["breaching", "notBreaching", "ignore", "missing"];

fn cloudwatch(aws: &AwsClients) -> aws_sdk_cloudwatch::Client {
    aws.client(aws_sdk_cloudwatch::Client::new)
}

fn invalid(function: &HostFunction, message: String) -> CallError {
    AwsError::InvalidInput(format!("{}: {message}", function.name)).into()
}

/// Maps CloudWatch errors: `ResourceNotFound` is `not-found`; the rest as every
/// service's.
fn cloudwatch_error<E, R>(err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match map_sdk_error(err) {
        AwsError::Service(text) if text.starts_with("ResourceNotFound") => AwsError::NotFound(text),
        other => other,
    }
}

/// `value` is 1 to `max` printable characters (0 to `max` with `allow_empty`), none of
/// them control characters.
fn printable(
    function: &HostFunction,
    field: &str,
    value: &str,
    max: usize,
    allow_empty: bool,
) -> Result<(), CallError> {
    let ok = (allow_empty || !value.is_empty())
        && value.chars().count() <= max
        && !value.chars().any(char::is_control);
    if !ok {
        return Err(invalid(
            function,
            format!(
                "`{field}` must be {} to {max} characters without control characters, not {value:?}",
                if allow_empty { 0 } else { 1 }
            ),
        ));
    }
    Ok(())
}

/// A metric namespace: printable, not starting with `:` (CloudWatch's pattern `[^:].*`).
fn namespace(function: &HostFunction, field: &str, value: &str) -> Result<(), CallError> {
    printable(function, field, value, MAX_METRIC, false)?;
    if value.starts_with(':') {
        return Err(invalid(
            function,
            format!("`{field}` must not start with `:`, not {value:?}"),
        ));
    }
    Ok(())
}

/// `value` is one of `allowed`.
fn one_of(
    function: &HostFunction,
    field: &str,
    value: &str,
    allowed: &[&str],
) -> Result<(), CallError> {
    if !allowed.contains(&value) {
        return Err(invalid(
            function,
            format!("`{field}` must be one of {allowed:?}, not {value:?}"),
        ));
    }
    Ok(())
}

impl PluginCtx {
    /// An SNS topic ARN of the finding's account and region:
    /// `arn:<partition>:sns:<region>:<account>:<name>`.
    fn own_topic_arn(&self, function: &HostFunction, arn: &str) -> Result<(), CallError> {
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
                    "`alarm-actions` must be SNS topic ARNs in account {} and region {}, not {arn:?}",
                    self.scope.account_id(),
                    self.scope.region()
                ),
            ));
        }
        Ok(())
    }
}

fn alarm_of(a: &aws_sdk_cloudwatch::types::MetricAlarm) -> MetricAlarm {
    MetricAlarm {
        name: a.alarm_name().unwrap_or_default().to_owned(),
        arn: a.alarm_arn().unwrap_or_default().to_owned(),
        metric_name: a.metric_name().map(str::to_owned),
        namespace: a.namespace().map(str::to_owned),
        statistic: a.statistic().map(|s| s.as_str().to_owned()),
        period: a.period().and_then(|p| u32::try_from(p).ok()),
        evaluation_periods: a
            .evaluation_periods()
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or_default(),
        threshold: a.threshold(),
        comparison_operator: a
            .comparison_operator()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        actions_enabled: a.actions_enabled().unwrap_or(true),
        alarm_actions: a.alarm_actions().to_vec(),
        treat_missing_data: a.treat_missing_data().map(str::to_owned),
        state: a
            .state_value()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
    }
}

impl Host for PluginCtx {
    async fn describe_alarms(
        &mut self,
        name_prefix: String,
        for_metric: Option<Metric>,
    ) -> Result<Vec<MetricAlarm>, CallError> {
        self.enter(const { function("cloudwatch.describe-alarms") })?;
        printable(DESCRIBE, "name-prefix", &name_prefix, MAX_ALARM_NAME, true)?;
        if let Some(metric) = &for_metric {
            printable(DESCRIBE, "for-metric.name", &metric.name, MAX_METRIC, false)?;
            namespace(DESCRIBE, "for-metric.namespace", &metric.namespace)?;
        }
        let resource = (!name_prefix.is_empty()).then(|| name_prefix.clone());
        self.call(DESCRIBE, resource.as_deref(), |aws| async move {
            let client = cloudwatch(&aws);
            if let Some(metric) = for_metric {
                // Not paginated: CloudWatch answers every alarm on the metric at once.
                let out = client
                    .describe_alarms_for_metric()
                    .metric_name(metric.name)
                    .namespace(metric.namespace)
                    .send()
                    .await
                    .map_err(cloudwatch_error)?;
                return Ok(out
                    .metric_alarms()
                    .iter()
                    .filter(|a| a.alarm_name().unwrap_or_default().starts_with(&name_prefix))
                    .map(alarm_of)
                    .collect());
            }
            let mut alarms = Vec::new();
            let pages = client
                .describe_alarms()
                .alarm_types(AlarmType::MetricAlarm)
                .set_alarm_name_prefix((!name_prefix.is_empty()).then_some(name_prefix))
                .into_paginator()
                .send();
            let what = "alarms: narrow the name prefix";
            read_pages(pages, MAX_PAGES, what, cloudwatch_error, |page| {
                alarms.extend(page.metric_alarms().iter().map(alarm_of))
            })
            .await?;
            Ok(alarms)
        })
        .await
    }

    async fn put_metric_alarm(&mut self, alarm: NewAlarm) -> Result<(), CallError> {
        self.enter(const { function("cloudwatch.put-metric-alarm") })?;
        printable(PUT, "name", &alarm.name, MAX_ALARM_NAME, false)?;
        printable(PUT, "metric-name", &alarm.metric_name, MAX_METRIC, false)?;
        namespace(PUT, "namespace", &alarm.namespace)?;
        one_of(PUT, "statistic", &alarm.statistic, STATISTICS)?;
        one_of(
            PUT,
            "comparison-operator",
            &alarm.comparison_operator,
            OPERATORS,
        )?;
        one_of(
            PUT,
            "treat-missing-data",
            &alarm.treat_missing_data,
            MISSING_DATA,
        )?;
        let period_ok = matches!(alarm.period, 10 | 20 | 30)
            || (alarm.period.is_multiple_of(60) && (60..=MAX_PERIOD_SECS).contains(&alarm.period));
        if !period_ok {
            return Err(invalid(
                PUT,
                format!(
                    "`period` must be 10, 20, 30 or a multiple of 60 up to {MAX_PERIOD_SECS} seconds, not {}",
                    alarm.period
                ),
            ));
        }
        let window = u64::from(alarm.period) * u64::from(alarm.evaluation_periods);
        if alarm.evaluation_periods == 0 || window > MAX_WINDOW_SECS {
            return Err(invalid(
                PUT,
                format!(
                    "`evaluation-periods` must be at least 1, and `period` times it at most {MAX_WINDOW_SECS} seconds, not {}",
                    alarm.evaluation_periods
                ),
            ));
        }
        if !alarm.threshold.is_finite() {
            return Err(invalid(
                PUT,
                format!(
                    "`threshold` must be a finite number, not {}",
                    alarm.threshold
                ),
            ));
        }
        if alarm.alarm_actions.len() > MAX_ACTIONS {
            return Err(invalid(
                PUT,
                format!(
                    "`alarm-actions` may hold at most {MAX_ACTIONS} ARNs, not {}",
                    alarm.alarm_actions.len()
                ),
            ));
        }
        for arn in &alarm.alarm_actions {
            self.own_topic_arn(PUT, arn)?;
        }
        let (Ok(period), Ok(evaluation_periods)) = (
            i32::try_from(alarm.period),
            i32::try_from(alarm.evaluation_periods),
        ) else {
            return Err(invalid(PUT, "`period` out of range".into()));
        };
        let resource = alarm.name.clone();
        self.call(PUT, Some(&resource), |aws| async move {
            cloudwatch(&aws)
                .put_metric_alarm()
                .alarm_name(alarm.name)
                .metric_name(alarm.metric_name)
                .namespace(alarm.namespace)
                .statistic(Statistic::from(alarm.statistic.as_str()))
                .period(period)
                .evaluation_periods(evaluation_periods)
                .threshold(alarm.threshold)
                .comparison_operator(ComparisonOperator::from(alarm.comparison_operator.as_str()))
                .actions_enabled(true)
                .set_alarm_actions(Some(alarm.alarm_actions))
                .treat_missing_data(alarm.treat_missing_data)
                .send()
                .await
                .map(|_| ())
                .map_err(cloudwatch_error)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::aws::mock_tests::mock_ctx;

    use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
    use aws_sdk_cloudwatch::operation::describe_alarms_for_metric::DescribeAlarmsForMetricOutput;
    use aws_sdk_cloudwatch::operation::put_metric_alarm::{
        PutMetricAlarmError, PutMetricAlarmOutput,
    };
    use aws_sdk_cloudwatch::types::StateValue;
    use aws_sdk_cloudwatch::types::error::LimitExceededFault;
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_mocks::{Rule, RuleMode, mock, mock_client};

    use serde_json::json;

    use super::*;

    use crate::bindings::types::Mode;

    use crate::outcome::CallResult;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111111111111:hubfix-alarms";

    fn ctx(rules: &[&Rule], mode: Mode) -> PluginCtx {
        mock_ctx(
            "us-east-1",
            json!([{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}]),
            mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, rules),
            &["cloudwatch.describe-alarms", "cloudwatch.put-metric-alarm"],
            mode,
            50,
        )
    }

    fn sdk_alarm(name: &str) -> aws_sdk_cloudwatch::types::MetricAlarm {
        aws_sdk_cloudwatch::types::MetricAlarm::builder()
            .alarm_name(name)
            .alarm_arn(format!(
                "arn:aws:cloudwatch:us-east-1:111111111111:alarm:{name}"
            ))
            .metric_name("RootUsage")
            .namespace("CISBenchmark")
            .statistic(Statistic::Sum)
            .period(300)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
            .actions_enabled(true)
            .alarm_actions(TOPIC)
            .treat_missing_data("notBreaching")
            .state_value(StateValue::Ok)
            .build()
    }

    fn new_alarm() -> NewAlarm {
        NewAlarm {
            name: "hubfix-root-usage".into(),
            metric_name: "RootUsage".into(),
            namespace: "CISBenchmark".into(),
            statistic: "Sum".into(),
            period: 300,
            evaluation_periods: 1,
            threshold: 1.0,
            comparison_operator: "GreaterThanOrEqualToThreshold".into(),
            alarm_actions: vec![TOPIC.into()],
            treat_missing_data: "notBreaching".into(),
        }
    }

    #[tokio::test]
    async fn describe_reads_pages_by_prefix_or_the_alarms_of_one_metric() {
        let pages = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
            .match_requests(|r| {
                r.alarm_name_prefix() == Some("hubfix-")
                    && r.alarm_types() == [AlarmType::MetricAlarm]
            })
            .sequence()
            .output(|| {
                DescribeAlarmsOutput::builder()
                    .metric_alarms(sdk_alarm("hubfix-a"))
                    .next_token("2")
                    .build()
            })
            .output(|| {
                DescribeAlarmsOutput::builder()
                    .metric_alarms(sdk_alarm("hubfix-b"))
                    .build()
            })
            .build();
        let for_metric = mock!(aws_sdk_cloudwatch::Client::describe_alarms_for_metric)
            .match_requests(|r| {
                r.metric_name() == Some("RootUsage") && r.namespace() == Some("CISBenchmark")
            })
            .then_output(|| {
                DescribeAlarmsForMetricOutput::builder()
                    .metric_alarms(sdk_alarm("hubfix-a"))
                    .metric_alarms(sdk_alarm("other"))
                    .build()
            });
        let mut ctx = ctx(&[&pages, &for_metric], Mode::Apply);
        let alarms = ctx.describe_alarms("hubfix-".into(), None).await.unwrap();
        assert_eq!(
            alarms.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            ["hubfix-a", "hubfix-b"]
        );
        let a = &alarms[0];
        assert_eq!(a.metric_name.as_deref(), Some("RootUsage"));
        assert_eq!(a.statistic.as_deref(), Some("Sum"));
        assert_eq!(
            (a.period, a.evaluation_periods, a.threshold),
            (Some(300), 1, Some(1.0))
        );
        assert_eq!(a.comparison_operator, "GreaterThanOrEqualToThreshold");
        assert_eq!(a.alarm_actions, [TOPIC]);
        assert_eq!(a.treat_missing_data.as_deref(), Some("notBreaching"));
        assert_eq!(a.state, "OK");
        assert!(a.actions_enabled);
        assert_eq!(pages.num_calls(), 2);

        let metric = || Metric {
            name: "RootUsage".into(),
            namespace: "CISBenchmark".into(),
        };
        let all = ctx
            .describe_alarms(String::new(), Some(metric()))
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        let ours = ctx
            .describe_alarms("hubfix-".into(), Some(metric()))
            .await
            .unwrap();
        assert_eq!(ours.len(), 1);

        // Hostile input never reaches CloudWatch.
        let bad_metric = Metric {
            name: "x".repeat(300),
            namespace: "CISBenchmark".into(),
        };
        let err = ctx
            .describe_alarms(String::new(), Some(bad_metric))
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`for-metric.name`"))
        );
        let err = ctx.describe_alarms("a\nb".into(), None).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`name-prefix`"))
        );
        assert_eq!((pages.num_calls(), for_metric.num_calls()), (2, 2));
    }

    #[tokio::test]
    async fn describe_reads_a_bounded_number_of_pages() {
        let endless = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_compute_output(|r| {
            let n: u32 = r.next_token().and_then(|t| t.parse().ok()).unwrap_or(0);
            DescribeAlarmsOutput::builder()
                .metric_alarms(sdk_alarm("hubfix-a"))
                .next_token((n + 1).to_string())
                .build()
        });
        let mut ctx = ctx(&[&endless], Mode::Apply);
        let err = ctx.describe_alarms(String::new(), None).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::Service(ref m)) if m.contains("more than 20 pages")),
            "{err:?}"
        );
        assert_eq!(endless.num_calls(), MAX_PAGES + 1);
    }

    #[tokio::test]
    async fn put_creates_only_prefixed_well_formed_alarms() {
        let put = mock!(aws_sdk_cloudwatch::Client::put_metric_alarm)
            .match_requests(|r| {
                r.alarm_name() == Some("hubfix-root-usage")
                    && r.statistic() == Some(&Statistic::Sum)
                    && r.period() == Some(300)
                    && r.comparison_operator()
                        == Some(&ComparisonOperator::GreaterThanOrEqualToThreshold)
                    && r.alarm_actions() == [TOPIC]
                    && r.treat_missing_data() == Some("notBreaching")
            })
            .then_output(|| PutMetricAlarmOutput::builder().build());
        let mut ctx = ctx(&[&put], Mode::Apply);
        ctx.put_metric_alarm(new_alarm()).await.unwrap();
        assert_eq!(put.num_calls(), 1);

        let err = ctx
            .put_metric_alarm(NewAlarm {
                name: "prod-alarm".into(),
                ..new_alarm()
            })
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("hubfix-"))
        );

        let cases: Vec<(NewAlarm, &str)> = vec![
            (
                NewAlarm {
                    name: String::new(),
                    ..new_alarm()
                },
                "`name`",
            ),
            (
                NewAlarm {
                    namespace: ":x".into(),
                    ..new_alarm()
                },
                "`namespace`",
            ),
            (
                NewAlarm {
                    statistic: "p99".into(),
                    ..new_alarm()
                },
                "`statistic`",
            ),
            (
                NewAlarm {
                    period: 45,
                    ..new_alarm()
                },
                "`period`",
            ),
            (
                NewAlarm {
                    evaluation_periods: 0,
                    ..new_alarm()
                },
                "`evaluation-periods`",
            ),
            (
                NewAlarm {
                    period: 86400,
                    evaluation_periods: 8,
                    ..new_alarm()
                },
                "`evaluation-periods`",
            ),
            (
                NewAlarm {
                    threshold: f64::NAN,
                    ..new_alarm()
                },
                "`threshold`",
            ),
            (
                NewAlarm {
                    comparison_operator: "Equal".into(),
                    ..new_alarm()
                },
                "`comparison-operator`",
            ),
            (
                NewAlarm {
                    treat_missing_data: "maybe".into(),
                    ..new_alarm()
                },
                "`treat-missing-data`",
            ),
            (
                NewAlarm {
                    alarm_actions: vec![TOPIC.into(); 6],
                    ..new_alarm()
                },
                "at most 5",
            ),
            (
                NewAlarm {
                    alarm_actions: vec!["arn:aws:sns:us-east-1:999999999999:theirs".into()],
                    ..new_alarm()
                },
                "`alarm-actions`",
            ),
            (
                NewAlarm {
                    alarm_actions: vec!["arn:aws:automate:us-east-1:ec2:terminate".into()],
                    ..new_alarm()
                },
                "`alarm-actions`",
            ),
        ];
        for (alarm, field) in cases {
            let err = ctx.put_metric_alarm(alarm).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains(field)),
                "{field}: {err:?}"
            );
        }
        assert_eq!(put.num_calls(), 1);
    }

    #[tokio::test]
    async fn errors_map_and_plan_mode_makes_no_call() {
        let limit = mock!(aws_sdk_cloudwatch::Client::put_metric_alarm).then_error(|| {
            PutMetricAlarmError::LimitExceededFault(
                LimitExceededFault::builder()
                    .message("too many alarms")
                    .meta(
                        ErrorMetadata::builder()
                            .code("LimitExceeded")
                            .message("too many alarms")
                            .build(),
                    )
                    .build(),
            )
        });
        let mut apply = ctx(&[&limit], Mode::Apply);
        let err = apply.put_metric_alarm(new_alarm()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::Service(ref m)) if m.starts_with("PutMetricAlarm: LimitExceeded")),
            "{err:?}"
        );
        let err = cloudwatch_error(SdkError::<PutMetricAlarmError, ()>::service_error(
            PutMetricAlarmError::generic(
                ErrorMetadata::builder()
                    .code("ResourceNotFound")
                    .message("no such alarm")
                    .build(),
            ),
            (),
        ));
        assert!(matches!(err, AwsError::NotFound(ref m) if m.starts_with("ResourceNotFound")));

        let mut plan = ctx(&[&limit], Mode::Plan);
        plan.put_metric_alarm(new_alarm()).await.unwrap();
        assert_eq!(limit.num_calls(), 1);
        let results: Vec<_> = plan.into_trail().calls.iter().map(|c| c.result).collect();
        assert_eq!(results, [CallResult::Planned]);
    }
}
