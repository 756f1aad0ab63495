//! `wit/logs.wit`: CloudWatch Logs. Log groups are named by name.

use super::{any, any_of, on_target, row};
use crate::{HostFunction, LOG_GROUP, LOG_METRIC_FILTER, Target};

pub(super) const FUNCTIONS: &[HostFunction] = &[
    row(
        "logs.describe-log-groups",
        "DescribeLogGroups",
        &[any("logs:DescribeLogGroups")],
        Target::Read,
    ),
    row(
        "logs.create-log-group",
        "CreateLogGroup",
        &[on_target("logs:CreateLogGroup")],
        Target::Create(LOG_GROUP),
    ),
    row(
        "logs.put-retention-policy",
        "PutRetentionPolicy",
        &[on_target("logs:PutRetentionPolicy")],
        Target::Resource(LOG_GROUP),
    ),
    row(
        "logs.describe-metric-filters",
        "DescribeMetricFilters",
        &[any("logs:DescribeMetricFilters")],
        Target::Read,
    ),
    // Creates (or updates) a filter named with the create prefix, on any log group of the
    // account: the CIS filters go on the group the account's trail delivers to.
    // `logs:PutMetricFilter` is authorised on the log group, not the filter.
    row(
        "logs.put-metric-filter",
        "PutMetricFilter",
        &[any_of("logs:PutMetricFilter", LOG_GROUP)],
        Target::Create(LOG_METRIC_FILTER),
    ),
];
