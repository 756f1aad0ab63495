//! CloudWatch calls (`cloudwatch.*`): metric alarms.

use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, Statistic};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Member, Record, call_failed};

/// A CloudWatch call, written `call = "cloudwatch.operation"` with the operation's fields next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
pub enum Op {
    /// `cloudwatch:PutMetricAlarm` of an alarm on one metric (no dimensions), notifying
    /// `alarm-actions`. Returns `name` and `arn`.
    #[serde(rename = "cloudwatch.put-metric-alarm", rename_all = "kebab-case")]
    PutMetricAlarm {
        /// The alarm's name.
        name: String,
        /// The metric's name.
        metric_name: String,
        /// The metric's namespace.
        namespace: String,
        /// `Sum` when absent.
        statistic: Option<String>,
        /// Seconds; 300 when absent.
        period: Option<i32>,
        /// 1 when absent.
        evaluation_periods: Option<i32>,
        /// 1 when absent.
        threshold: Option<i64>,
        /// `GreaterThanOrEqualToThreshold` when absent.
        comparison_operator: Option<String>,
        /// SNS topic ARNs (none when absent).
        alarm_actions: Option<Vec<String>>,
    },
    /// `cloudwatch:DescribeAlarms` of the metric alarms whose names start with `prefix`
    /// (all pages), or, with `metric-name` and `namespace`,
    /// `cloudwatch:DescribeAlarmsForMetric`. Returns `names`, `count`, `actions`
    /// (`NAME=ARN` per alarm action) and `metrics` (`NAME=NAMESPACE/METRIC`).
    #[serde(rename = "cloudwatch.describe-alarms", rename_all = "kebab-case")]
    DescribeAlarms {
        /// The name prefix (every alarm when absent).
        prefix: Option<String>,
        /// Only the alarms on this metric (with `namespace`).
        metric_name: Option<String>,
        /// The metric's namespace (with `metric-name`).
        namespace: Option<String>,
    },
}

/// Every CloudWatch call name.
pub const CALLS: &[&str] = &["cloudwatch.put-metric-alarm", "cloudwatch.describe-alarms"];

impl Op {
    /// Its `call` name.
    pub fn call(&self) -> &'static str {
        match self {
            Op::PutMetricAlarm { .. } => "cloudwatch.put-metric-alarm",
            Op::DescribeAlarms { .. } => "cloudwatch.describe-alarms",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::PutMetricAlarm { .. } => &["name", "arn"],
            Op::DescribeAlarms { .. } => &["names", "count", "actions", "metrics"],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(self, Op::DescribeAlarms { .. })
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match self {
            Op::PutMetricAlarm {
                name,
                metric_name,
                namespace,
                statistic,
                comparison_operator,
                ..
            } => {
                for (field, value) in [
                    ("name", name),
                    ("metric-name", metric_name),
                    ("namespace", namespace),
                ] {
                    if value.trim().is_empty() {
                        problems.push(format!("`{field}` is empty"));
                    }
                }
                if let Some(s) = statistic
                    && !Statistic::values().contains(&s.as_str())
                {
                    problems.push(format!(
                        "`statistic` = `{s}`: use one of {}",
                        Statistic::values().join(", ")
                    ));
                }
                if let Some(c) = comparison_operator
                    && !ComparisonOperator::values().contains(&c.as_str())
                {
                    problems.push(format!(
                        "`comparison-operator` = `{c}`: use one of {}",
                        ComparisonOperator::values().join(", ")
                    ));
                }
            }
            Op::DescribeAlarms {
                prefix,
                metric_name,
                namespace,
            } => {
                if prefix.as_ref().is_some_and(|p| p.trim().is_empty()) {
                    problems.push("`prefix` is empty: leave it out to list every alarm".to_owned());
                }
                if metric_name.is_some() != namespace.is_some() {
                    problems.push("`metric-name` and `namespace` go together".to_owned());
                }
            }
        }
        problems
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        match self {
            Op::PutMetricAlarm {
                name,
                metric_name,
                namespace,
                statistic,
                period,
                evaluation_periods,
                threshold,
                comparison_operator,
                alarm_actions,
            } => {
                m.cloudwatch
                    .put_metric_alarm()
                    .alarm_name(name)
                    .metric_name(metric_name)
                    .namespace(namespace)
                    .statistic(Statistic::from(statistic.as_deref().unwrap_or("Sum")))
                    .period(period.unwrap_or(300))
                    .evaluation_periods(evaluation_periods.unwrap_or(1))
                    .threshold(threshold.unwrap_or(1) as f64)
                    .comparison_operator(ComparisonOperator::from(
                        comparison_operator
                            .as_deref()
                            .unwrap_or("GreaterThanOrEqualToThreshold"),
                    ))
                    .set_alarm_actions(alarm_actions.clone())
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let region = m
                    .cloudwatch
                    .config()
                    .region()
                    .map(|r| r.as_ref().to_owned())
                    .unwrap_or_default();
                let partition = crate::template::partition_of(&region);
                Ok(Record::from([
                    ("name".to_owned(), json!(name)),
                    (
                        "arn".to_owned(),
                        json!(format!(
                            "arn:{partition}:cloudwatch:{region}:{}:alarm:{name}",
                            m.account
                        )),
                    ),
                ]))
            }
            Op::DescribeAlarms {
                prefix,
                metric_name,
                namespace,
            } => {
                let mut alarms = Vec::new();
                if let (Some(metric), Some(namespace)) = (metric_name, namespace) {
                    let out = m
                        .cloudwatch
                        .describe_alarms_for_metric()
                        .metric_name(metric)
                        .namespace(namespace)
                        .send()
                        .await
                        .map_err(|e| failed(&e))?;
                    alarms.extend(
                        out.metric_alarms
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|a| {
                                prefix.as_deref().is_none_or(|p| {
                                    a.alarm_name().unwrap_or_default().starts_with(p)
                                })
                            }),
                    );
                } else {
                    let mut pages = m
                        .cloudwatch
                        .describe_alarms()
                        .alarm_types(AlarmType::MetricAlarm)
                        .set_alarm_name_prefix(prefix.clone())
                        .into_paginator()
                        .send();
                    while let Some(page) = pages.next().await {
                        let page = page.map_err(|e| failed(&e))?;
                        alarms.extend(page.metric_alarms.unwrap_or_default());
                    }
                }
                let mut names = Vec::new();
                let mut actions = Vec::new();
                let mut metrics = Vec::new();
                for a in &alarms {
                    let name = a.alarm_name().unwrap_or_default().to_owned();
                    for action in a.alarm_actions() {
                        actions.push(format!("{name}={action}"));
                    }
                    metrics.push(format!(
                        "{name}={}/{}",
                        a.namespace().unwrap_or_default(),
                        a.metric_name().unwrap_or_default()
                    ));
                    names.push(name);
                }
                Ok(Record::from([
                    ("count".to_owned(), json!(names.len())),
                    ("names".to_owned(), json!(names)),
                    ("actions".to_owned(), json!(actions)),
                    ("metrics".to_owned(), json!(metrics)),
                ]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_the_field() {
        let op = Op::PutMetricAlarm {
            name: " ".into(),
            metric_name: "m".into(),
            namespace: "n".into(),
            statistic: Some("p99".into()),
            period: None,
            evaluation_periods: None,
            threshold: None,
            comparison_operator: Some("Equal".into()),
            alarm_actions: None,
        };
        let problems = op.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("`name`"));
        assert!(problems[1].contains("`statistic`"));
        assert!(problems[2].contains("`comparison-operator`"));
        let op = Op::DescribeAlarms {
            prefix: Some("".into()),
            metric_name: Some("m".into()),
            namespace: None,
        };
        let problems = op.problems();
        assert!(problems[0].contains("`prefix`") && problems[1].contains("`namespace`"));
    }
}
