//! `wit/iam.wit`.

use super::{any, any_of, on_target, row};
use crate::{HostFunction, IAM_ROLE, IAM_USER, Target};

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
    // Users are listed account-wide (`iam:ListUsers` takes no resource ARN); each user's
    // keys and password are read on any user of the account.
    row(
        "iam.list-users",
        "ListUsers",
        &[any("iam:ListUsers")],
        Target::Read,
    ),
    row(
        "iam.list-access-keys",
        "ListAccessKeys",
        &[any_of("iam:ListAccessKeys", IAM_USER)],
        Target::Read,
    ),
    row(
        "iam.get-access-key-last-used",
        "GetAccessKeyLastUsed",
        &[any_of("iam:GetAccessKeyLastUsed", IAM_USER)],
        Target::Read,
    ),
    // Deactivating a key or removing a console password is scoped to the finding's user,
    // or to any user when the finding is about the account (IAM.8 on `AwsAccount`).
    row(
        "iam.update-access-key",
        "UpdateAccessKey",
        &[on_target("iam:UpdateAccessKey")],
        Target::Configure(IAM_USER),
    ),
    row(
        "iam.get-login-profile",
        "GetLoginProfile",
        &[any_of("iam:GetLoginProfile", IAM_USER)],
        Target::Read,
    ),
    row(
        "iam.delete-login-profile",
        "DeleteLoginProfile",
        &[on_target("iam:DeleteLoginProfile")],
        Target::Configure(IAM_USER),
    ),
];
