//! The table: one row per AWS host function, one row per WIT interface of them.
//!
//! To add a host function: declare it in `wit/<service>.wit`, add its row here, implement
//! it in `host/src/aws/<service>.rs` (looking its row up with [`crate::function`]), and
//! run `cargo xtask codegen`. A new service also gets a [`SERVICES`] row; codegen adds it
//! to the WIT world, the host's module list and its SDK dependencies.

use crate::{HostFunction, IamAction, On, S3_BUCKET, SECURITY_GROUP, Service, Target};

// `S3_BUCKET` is declared for the S3 functions to come; keep it referenced.
const _: crate::ResourceType = S3_BUCKET;

const fn row(
    name: &'static str,
    operation: &'static str,
    iam_actions: &'static [IamAction],
    target: Target,
) -> HostFunction {
    HostFunction {
        name,
        operation,
        iam_actions,
        target,
    }
}

/// An action that supports no resource-level permissions.
const fn any(name: &'static str) -> IamAction {
    IamAction { name, on: On::Any }
}

/// An action AWS can narrow to the function's target resources.
const fn on_target(name: &'static str) -> IamAction {
    IamAction {
        name,
        on: On::Target,
    }
}

/// The WIT interfaces of AWS host functions, in world import order.
pub const SERVICES: &[Service] = &[
    Service {
        name: "iam",
        sdk_crate: "aws-sdk-iam",
        sdk_version: "1.133",
    },
    Service {
        name: "ec2",
        sdk_crate: "aws-sdk-ec2",
        sdk_version: "1.274",
    },
    Service {
        name: "s3control",
        sdk_crate: "aws-sdk-s3control",
        sdk_version: "1",
    },
];

/// Every AWS host function, in WIT order.
pub const FUNCTIONS: &[HostFunction] = &[
    // --- iam ---
    row(
        "iam.get-account-password-policy",
        "GetAccountPasswordPolicy",
        &[any("iam:GetAccountPasswordPolicy")],
        Target::Read,
    ),
    row(
        "iam.update-account-password-policy",
        "UpdateAccountPasswordPolicy",
        &[any("iam:UpdateAccountPasswordPolicy")],
        Target::Account,
    ),
    // --- ec2 ---
    row(
        "ec2.describe-security-groups",
        "DescribeSecurityGroups",
        &[any("ec2:DescribeSecurityGroups")],
        Target::Read,
    ),
    row(
        "ec2.describe-security-group-rules",
        "DescribeSecurityGroupRules",
        &[any("ec2:DescribeSecurityGroupRules")],
        Target::Read,
    ),
    row(
        "ec2.revoke-security-group-ingress",
        "RevokeSecurityGroupIngress",
        &[on_target("ec2:RevokeSecurityGroupIngress")],
        Target::Resource(SECURITY_GROUP),
    ),
    row(
        "ec2.revoke-security-group-egress",
        "RevokeSecurityGroupEgress",
        &[on_target("ec2:RevokeSecurityGroupEgress")],
        Target::Resource(SECURITY_GROUP),
    ),
    row(
        "ec2.get-ebs-encryption-by-default",
        "GetEbsEncryptionByDefault",
        &[any("ec2:GetEbsEncryptionByDefault")],
        Target::Read,
    ),
    row(
        "ec2.enable-ebs-encryption-by-default",
        "EnableEbsEncryptionByDefault",
        &[any("ec2:EnableEbsEncryptionByDefault")],
        Target::Account,
    ),
    // --- s3control: the account's S3 Block Public Access (IAM names these actions
    // `s3:*AccountPublicAccessBlock`; they take no resource ARN) ---
    row(
        "s3control.get-public-access-block",
        "GetPublicAccessBlock",
        &[any("s3:GetAccountPublicAccessBlock")],
        Target::Read,
    ),
    row(
        "s3control.put-public-access-block",
        "PutPublicAccessBlock",
        &[any("s3:PutAccountPublicAccessBlock")],
        Target::Account,
    ),
];
