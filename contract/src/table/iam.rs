//! `wit/iam.wit`.

use super::{any, any_of, on_target, row};
use crate::{HostFunction, IAM_GROUP, IAM_ROLE, IAM_SERVER_CERTIFICATE, IAM_USER, Target};

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
    // Attaching or detaching a managed policy changes the role, user or group (the IAM
    // action is authorised on it); the policy itself may be AWS-managed (account `aws`),
    // so it is not a resource of the finding's account.
    row(
        "iam.attach-role-policy",
        "AttachRolePolicy",
        &[on_target("iam:AttachRolePolicy")],
        Target::Resource(IAM_ROLE),
    ),
    row(
        "iam.detach-role-policy",
        "DetachRolePolicy",
        &[on_target("iam:DetachRolePolicy")],
        Target::Resource(IAM_ROLE),
    ),
    row(
        "iam.detach-user-policy",
        "DetachUserPolicy",
        &[on_target("iam:DetachUserPolicy")],
        Target::Resource(IAM_USER),
    ),
    row(
        "iam.detach-group-policy",
        "DetachGroupPolicy",
        &[on_target("iam:DetachGroupPolicy")],
        Target::Resource(IAM_GROUP),
    ),
    // Listed on customer-managed policies of the account and on AWS-managed ones
    // (`arn:aws:iam::aws:policy/...`), which no account-scoped ARN covers.
    row(
        "iam.list-entities-for-policy",
        "ListEntitiesForPolicy",
        &[any("iam:ListEntitiesForPolicy")],
        Target::Read,
    ),
    row(
        "iam.list-server-certificates",
        "ListServerCertificates",
        &[any("iam:ListServerCertificates")],
        Target::Read,
    ),
    // Expired certificates are the account's own housekeeping: the finding's certificate,
    // or any when the finding names the account.
    row(
        "iam.delete-server-certificate",
        "DeleteServerCertificate",
        &[on_target("iam:DeleteServerCertificate")],
        Target::Configure(IAM_SERVER_CERTIFICATE),
    ),
    // A user's directly attached and inline policies are read on any user of the account
    // (IAM.2 moves them to a group); deleting an inline policy changes that user.
    row(
        "iam.list-attached-user-policies",
        "ListAttachedUserPolicies",
        &[any_of("iam:ListAttachedUserPolicies", IAM_USER)],
        Target::Read,
    ),
    row(
        "iam.list-user-policies",
        "ListUserPolicies",
        &[any_of("iam:ListUserPolicies", IAM_USER)],
        Target::Read,
    ),
    row(
        "iam.get-user-policy",
        "GetUserPolicy",
        &[any_of("iam:GetUserPolicy", IAM_USER)],
        Target::Read,
    ),
    row(
        "iam.delete-user-policy",
        "DeleteUserPolicy",
        &[on_target("iam:DeleteUserPolicy")],
        Target::Resource(IAM_USER),
    ),
    row(
        "iam.get-group",
        "GetGroup",
        &[on_target("iam:GetGroup")],
        Target::Read,
    ),
    row(
        "iam.create-group",
        "CreateGroup",
        &[on_target("iam:CreateGroup")],
        Target::Create(IAM_GROUP),
    ),
    // Group policies and membership are authorised on the group; the host also requires
    // the user added to be the finding's.
    row(
        "iam.attach-group-policy",
        "AttachGroupPolicy",
        &[on_target("iam:AttachGroupPolicy")],
        Target::Resource(IAM_GROUP),
    ),
    row(
        "iam.put-group-policy",
        "PutGroupPolicy",
        &[on_target("iam:PutGroupPolicy")],
        Target::Resource(IAM_GROUP),
    ),
    row(
        "iam.add-user-to-group",
        "AddUserToGroup",
        &[on_target("iam:AddUserToGroup")],
        Target::Resource(IAM_GROUP),
    ),
    // The credential report is account-wide and read-only (generating one changes no
    // security setting).
    row(
        "iam.generate-credential-report",
        "GenerateCredentialReport",
        &[any("iam:GenerateCredentialReport")],
        Target::Read,
    ),
    row(
        "iam.get-credential-report",
        "GetCredentialReport",
        &[any("iam:GetCredentialReport")],
        Target::Read,
    ),
];
