//! `wit/ec2.wit`.

use super::{any, any_of, on_target, on_type, row};
use crate::{
    EC2_FLOW_LOG, EC2_INSTANCE, EC2_NETWORK_ACL, EC2_VPC, HostFunction, IAM_ROLE, SECURITY_GROUP,
    Target,
};

pub(super) const FUNCTIONS: &[HostFunction] = &[
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
        "ec2.authorize-security-group-ingress",
        "AuthorizeSecurityGroupIngress",
        &[on_target("ec2:AuthorizeSecurityGroupIngress")],
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
    row(
        "ec2.describe-flow-logs",
        "DescribeFlowLogs",
        &[any("ec2:DescribeFlowLogs")],
        Target::Read,
    ),
    // `ec2:CreateFlowLogs` is authorised on the VPC and on the flow log it creates;
    // passing the delivery role needs `iam:PassRole`, an S3 or CloudWatch Logs
    // destination the log-delivery actions.
    row(
        "ec2.create-flow-logs",
        "CreateFlowLogs",
        &[
            on_target("ec2:CreateFlowLogs"),
            any_of("ec2:CreateFlowLogs", EC2_FLOW_LOG),
            on_type("iam:PassRole", IAM_ROLE),
            any("logs:CreateLogDelivery"),
            any("logs:DeleteLogDelivery"),
        ],
        Target::Resource(EC2_VPC),
    ),
    row(
        "ec2.describe-instances",
        "DescribeInstances",
        &[any("ec2:DescribeInstances")],
        Target::Read,
    ),
    row(
        "ec2.modify-instance-metadata-options",
        "ModifyInstanceMetadataOptions",
        &[on_target("ec2:ModifyInstanceMetadataOptions")],
        Target::Resource(EC2_INSTANCE),
    ),
    row(
        "ec2.describe-network-acls",
        "DescribeNetworkAcls",
        &[any("ec2:DescribeNetworkAcls")],
        Target::Read,
    ),
    row(
        "ec2.create-network-acl-entry",
        "CreateNetworkAclEntry",
        &[on_target("ec2:CreateNetworkAclEntry")],
        Target::Resource(EC2_NETWORK_ACL),
    ),
    row(
        "ec2.replace-network-acl-entry",
        "ReplaceNetworkAclEntry",
        &[on_target("ec2:ReplaceNetworkAclEntry")],
        Target::Resource(EC2_NETWORK_ACL),
    ),
    row(
        "ec2.delete-network-acl-entry",
        "DeleteNetworkAclEntry",
        &[on_target("ec2:DeleteNetworkAclEntry")],
        Target::Resource(EC2_NETWORK_ACL),
    ),
];
