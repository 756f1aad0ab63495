//! CloudWatch Logs calls (`logs.*`): log groups and their metric filters.

use aws_sdk_cloudwatchlogs::types::MetricTransformation;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Member, Record, call_failed};

/// A CloudWatch Logs call, written `call = "logs.operation"` with the operation's fields next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
pub enum Op {
    /// `logs:CreateLogGroup`. Returns `name` and `arn` (the group's ARN ending in `:*`, as
    /// CloudTrail takes it).
    #[serde(rename = "logs.create-log-group", rename_all = "kebab-case")]
    CreateLogGroup {
        /// The group's name.
        name: String,
    },
    /// `logs:DescribeLogGroups` of the groups whose names start with `prefix` (all pages).
    /// Returns `names`, `count` and `retention` (`NAME=DAYS` for groups with a retention
    /// period).
    #[serde(rename = "logs.describe-log-groups", rename_all = "kebab-case")]
    DescribeLogGroups {
        /// The name prefix (every group when absent).
        prefix: Option<String>,
    },
    /// `logs:PutMetricFilter` with one metric transformation. Returns `name`.
    #[serde(rename = "logs.put-metric-filter", rename_all = "kebab-case")]
    PutMetricFilter {
        /// The log group it watches.
        log_group: String,
        /// The filter's name.
        name: String,
        /// The filter pattern.
        pattern: String,
        /// The metric's name.
        metric_name: String,
        /// The metric's namespace.
        metric_namespace: String,
        /// The value per match; `1` when absent.
        metric_value: Option<String>,
    },
    /// `logs:DescribeMetricFilters` of one log group (all pages). Returns `names`, `count`,
    /// `patterns` (`NAME=PATTERN`) and `metrics` (`NAME=NAMESPACE/METRIC` per
    /// transformation).
    #[serde(rename = "logs.describe-metric-filters", rename_all = "kebab-case")]
    DescribeMetricFilters {
        /// The log group.
        log_group: String,
    },
}

/// Every CloudWatch Logs call name.
pub const CALLS: &[&str] = &[
    "logs.create-log-group",
    "logs.describe-log-groups",
    "logs.put-metric-filter",
    "logs.describe-metric-filters",
];

impl Op {
    /// Its `call` name.
    pub fn call(&self) -> &'static str {
        match self {
            Op::CreateLogGroup { .. } => "logs.create-log-group",
            Op::DescribeLogGroups { .. } => "logs.describe-log-groups",
            Op::PutMetricFilter { .. } => "logs.put-metric-filter",
            Op::DescribeMetricFilters { .. } => "logs.describe-metric-filters",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::CreateLogGroup { .. } => &["name", "arn"],
            Op::DescribeLogGroups { .. } => &["names", "count", "retention"],
            Op::PutMetricFilter { .. } => &["name"],
            Op::DescribeMetricFilters { .. } => &["names", "count", "patterns", "metrics"],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Op::DescribeLogGroups { .. } | Op::DescribeMetricFilters { .. }
        )
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        match self {
            Op::CreateLogGroup { name } if name.trim().is_empty() => {
                vec!["`name` is empty".to_owned()]
            }
            Op::DescribeLogGroups {
                prefix: Some(prefix),
            } if prefix.trim().is_empty() => {
                vec!["`prefix` is empty: leave it out to list every group".to_owned()]
            }
            Op::PutMetricFilter {
                log_group,
                name,
                metric_name,
                metric_namespace,
                ..
            } => [
                ("log-group", log_group),
                ("name", name),
                ("metric-name", metric_name),
                ("metric-namespace", metric_namespace),
            ]
            .into_iter()
            .filter(|(_, v)| v.trim().is_empty())
            .map(|(field, _)| format!("`{field}` is empty"))
            .collect(),
            Op::DescribeMetricFilters { log_group } if log_group.trim().is_empty() => {
                vec!["`log-group` is empty".to_owned()]
            }
            _ => Vec::new(),
        }
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        match self {
            Op::CreateLogGroup { name } => {
                m.logs
                    .create_log_group()
                    .log_group_name(name)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let region = m
                    .logs
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
                            "arn:{partition}:logs:{region}:{}:log-group:{name}:*",
                            m.account
                        )),
                    ),
                ]))
            }
            Op::DescribeLogGroups { prefix } => {
                let mut names = Vec::new();
                let mut retention = Vec::new();
                let mut pages = m
                    .logs
                    .describe_log_groups()
                    .set_log_group_name_prefix(prefix.clone())
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| failed(&e))?;
                    for g in page.log_groups() {
                        let name = g.log_group_name().unwrap_or_default().to_owned();
                        if let Some(days) = g.retention_in_days() {
                            retention.push(format!("{name}={days}"));
                        }
                        names.push(name);
                    }
                }
                Ok(Record::from([
                    ("count".to_owned(), json!(names.len())),
                    ("names".to_owned(), json!(names)),
                    ("retention".to_owned(), json!(retention)),
                ]))
            }
            Op::PutMetricFilter {
                log_group,
                name,
                pattern,
                metric_name,
                metric_namespace,
                metric_value,
            } => {
                let transformation = MetricTransformation::builder()
                    .metric_name(metric_name)
                    .metric_namespace(metric_namespace)
                    .metric_value(metric_value.as_deref().unwrap_or("1"))
                    .build()
                    .map_err(|e| failed(&e))?;
                m.logs
                    .put_metric_filter()
                    .log_group_name(log_group)
                    .filter_name(name)
                    .filter_pattern(pattern)
                    .metric_transformations(transformation)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::from([("name".to_owned(), json!(name))]))
            }
            Op::DescribeMetricFilters { log_group } => {
                let mut names = Vec::new();
                let mut patterns = Vec::new();
                let mut metrics = Vec::new();
                let mut pages = m
                    .logs
                    .describe_metric_filters()
                    .log_group_name(log_group)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| failed(&e))?;
                    for f in page.metric_filters() {
                        let name = f.filter_name().unwrap_or_default().to_owned();
                        patterns.push(format!("{name}={}", f.filter_pattern().unwrap_or_default()));
                        for t in f.metric_transformations() {
                            metrics.push(format!(
                                "{name}={}/{}",
                                t.metric_namespace(),
                                t.metric_name()
                            ));
                        }
                        names.push(name);
                    }
                }
                Ok(Record::from([
                    ("count".to_owned(), json!(names.len())),
                    ("names".to_owned(), json!(names)),
                    ("patterns".to_owned(), json!(patterns)),
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
        assert!(Op::CreateLogGroup { name: " ".into() }.problems()[0].contains("`name`"));
        let op = Op::DescribeLogGroups {
            prefix: Some("".into()),
        };
        assert!(op.problems()[0].contains("`prefix`"));
        assert!(Op::DescribeLogGroups { prefix: None }.problems().is_empty());
        let op = Op::PutMetricFilter {
            log_group: "g".into(),
            name: "f".into(),
            pattern: String::new(),
            metric_name: " ".into(),
            metric_namespace: "CISBenchmark".into(),
            metric_value: None,
        };
        assert_eq!(op.problems(), ["`metric-name` is empty"]);
        let op = Op::DescribeMetricFilters {
            log_group: String::new(),
        };
        assert!(op.problems()[0].contains("`log-group`"));
    }
}
