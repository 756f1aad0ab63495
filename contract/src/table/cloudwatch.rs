//! `wit/cloudwatch.wit`: CloudWatch metric alarms. Alarms are named by name.

use super::{any, on_target, row};
use crate::{CLOUDWATCH_ALARM, HostFunction, Target};

pub(super) const FUNCTIONS: &[HostFunction] = &[
    // By name prefix (`DescribeAlarms`) or for one metric (`DescribeAlarmsForMetric`);
    // neither takes a resource ARN the prefix could be narrowed to.
    row(
        "cloudwatch.describe-alarms",
        "DescribeAlarms",
        &[
            any("cloudwatch:DescribeAlarms"),
            any("cloudwatch:DescribeAlarmsForMetric"),
        ],
        Target::Read,
    ),
    // Creates the alarm, or updates one of the same (prefixed) name.
    row(
        "cloudwatch.put-metric-alarm",
        "PutMetricAlarm",
        &[on_target("cloudwatch:PutMetricAlarm")],
        Target::Create(CLOUDWATCH_ALARM),
    ),
];
