//! `wit/iam.wit`.

use super::{any, on_target, row};
use crate::{HostFunction, IAM_ROLE, Target};

pub(super) const FUNCTIONS: &[HostFunction] = &[
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
    row(
        "iam.get-role",
        "GetRole",
        &[on_target("iam:GetRole")],
        Target::Read,
    ),
    row(
        "iam.create-role",
        "CreateRole",
        &[on_target("iam:CreateRole")],
        Target::Create(IAM_ROLE),
    ),
    row(
        "iam.put-role-policy",
        "PutRolePolicy",
        &[on_target("iam:PutRolePolicy")],
        Target::Resource(IAM_ROLE),
    ),
    // Enabling a service's own role (e.g. `AWSServiceRoleForConfig`) is an account-level
    // setting: its name is the service's, not ours.
    row(
        "iam.create-service-linked-role",
        "CreateServiceLinkedRole",
        &[any("iam:CreateServiceLinkedRole")],
        Target::Account,
    ),
];
