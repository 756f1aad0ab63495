//! `wit/config.wit`: the account's AWS Config recorder and delivery channel. Config's
//! recorder actions take no resource ARN; each region has one recorder.

use super::{any, any_of, on_type, row};
use crate::{HostFunction, IAM_ROLE, ResourceType, Target};

/// AWS Config's service-linked role, the role a recorder should use (Security Hub
/// Config.1). Its name and path are AWS's, so no finding names it and no remediation
/// creates it under the prefix: `iam:PassRole` for `put-configuration-recorder` is allowed
/// on exactly this role (an `AwsAccount` finding names no role at all).
pub(crate) const CONFIG_SERVICE_LINKED_ROLE: ResourceType = ResourceType {
    asff: "AwsIamRoleConfigServiceLinked",
    config: crate::IAM_ROLE.config,
    arn: "arn:{partition}:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
    id: crate::IAM_ROLE.id,
};

pub(super) const FUNCTIONS: &[HostFunction] = &[
    row(
        "config.describe-configuration-recorders",
        "DescribeConfigurationRecorders",
        &[any("config:DescribeConfigurationRecorders")],
        Target::Read,
    ),
    row(
        "config.describe-configuration-recorder-status",
        "DescribeConfigurationRecorderStatus",
        &[any("config:DescribeConfigurationRecorderStatus")],
        Target::Read,
    ),
    row(
        "config.describe-delivery-channels",
        "DescribeDeliveryChannels",
        &[any("config:DescribeDeliveryChannels")],
        Target::Read,
    ),
    row(
        "config.put-configuration-recorder",
        "PutConfigurationRecorder",
        &[
            any("config:PutConfigurationRecorder"),
            // The service-linked role, whatever the finding names; and a role the finding
            // names or the remediation created.
            any_of("iam:PassRole", CONFIG_SERVICE_LINKED_ROLE),
            on_type("iam:PassRole", IAM_ROLE),
        ],
        Target::Account,
    ),
    row(
        "config.put-delivery-channel",
        "PutDeliveryChannel",
        &[any("config:PutDeliveryChannel")],
        Target::Account,
    ),
    row(
        "config.start-configuration-recorder",
        "StartConfigurationRecorder",
        &[any("config:StartConfigurationRecorder")],
        Target::Account,
    ),
];
