//! `wit/logs.wit`: CloudWatch Logs. Log groups are named by name.

use super::{any, on_target, row};
use crate::{HostFunction, LOG_GROUP, Target};

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
];
