//! `wit/cloudtrail.wit`. Trails are named by name or ARN.

use super::{any, on_target, on_type, row};
use crate::{CLOUDTRAIL_TRAIL, HostFunction, IAM_ROLE, Target};

pub(super) const FUNCTIONS: &[HostFunction] = &[
    row(
        "cloudtrail.describe-trails",
        "DescribeTrails",
        &[any("cloudtrail:DescribeTrails")],
        Target::Read,
    ),
    row(
        "cloudtrail.get-trail",
        "GetTrail",
        &[on_target("cloudtrail:GetTrail")],
        Target::Read,
    ),
    row(
        "cloudtrail.get-trail-status",
        "GetTrailStatus",
        &[on_target("cloudtrail:GetTrailStatus")],
        Target::Read,
    ),
    // Delivering to CloudWatch Logs passes the delivery role to CloudTrail.
    row(
        "cloudtrail.update-trail",
        "UpdateTrail",
        &[
            on_target("cloudtrail:UpdateTrail"),
            on_type("iam:PassRole", IAM_ROLE),
        ],
        Target::Resource(CLOUDTRAIL_TRAIL),
    ),
    row(
        "cloudtrail.create-trail",
        "CreateTrail",
        &[on_target("cloudtrail:CreateTrail")],
        Target::Create(CLOUDTRAIL_TRAIL),
    ),
    // CloudTrail.1 is about the account: the trail that must log may be one the finding
    // does not name.
    row(
        "cloudtrail.start-logging",
        "StartLogging",
        &[on_target("cloudtrail:StartLogging")],
        Target::Configure(CLOUDTRAIL_TRAIL),
    ),
    row(
        "cloudtrail.get-event-selectors",
        "GetEventSelectors",
        &[on_target("cloudtrail:GetEventSelectors")],
        Target::Read,
    ),
    // S3.22 / S3.23 are about the account: the data events go on its multi-Region trail.
    row(
        "cloudtrail.put-event-selectors",
        "PutEventSelectors",
        &[on_target("cloudtrail:PutEventSelectors")],
        Target::Configure(CLOUDTRAIL_TRAIL),
    ),
];
