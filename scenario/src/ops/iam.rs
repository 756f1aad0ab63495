//! IAM calls (`iam.*`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Member, Record, call_failed};

/// An IAM call, written `call = "iam.operation"` with the operation's fields next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
pub enum Op {
    /// `iam:UpdateAccountPasswordPolicy`. AWS replaces the whole policy: fields left out
    /// take AWS's defaults (no requirement, no expiry). Returns nothing.
    #[serde(
        rename = "iam.update-account-password-policy",
        rename_all = "kebab-case"
    )]
    UpdateAccountPasswordPolicy {
        /// 6..=128.
        minimum_password_length: Option<i32>,
        /// Require a symbol.
        require_symbols: Option<bool>,
        /// Require a digit.
        require_numbers: Option<bool>,
        /// Require an uppercase letter.
        require_uppercase_characters: Option<bool>,
        /// Require a lowercase letter.
        require_lowercase_characters: Option<bool>,
        /// Let IAM users change their own password.
        allow_users_to_change_password: Option<bool>,
        /// Days a password is valid, 1..=1095.
        max_password_age: Option<i32>,
        /// Previous passwords that may not be reused, 1..=24.
        password_reuse_prevention: Option<i32>,
        /// Expired passwords need an administrator reset.
        hard_expiry: Option<bool>,
    },
    /// `iam:DeleteAccountPasswordPolicy`; an account without one is fine. Returns nothing.
    #[serde(rename = "iam.delete-account-password-policy")]
    DeleteAccountPasswordPolicy {},
    /// `iam:GetAccountPasswordPolicy`. Returns `exists`, and when it does, every field of
    /// `iam.update-account-password-policy` that is set, plus `expire-passwords`.
    #[serde(rename = "iam.get-account-password-policy")]
    GetAccountPasswordPolicy {},
    /// `iam:GetRole`. Returns `exists`, and `name`, `arn` and `path` (empty strings when
    /// there is no such role).
    #[serde(rename = "iam.get-role", rename_all = "kebab-case")]
    GetRole {
        /// The role's name.
        name: String,
    },
    /// `iam:CreateServiceLinkedRole` for `service` (e.g. `config.amazonaws.com`). Returns
    /// `name` and `arn`.
    #[serde(rename = "iam.create-service-linked-role", rename_all = "kebab-case")]
    CreateServiceLinkedRole {
        /// The service principal.
        service: String,
    },
    /// `iam:CreateUser`. Returns `name` and `arn`.
    #[serde(rename = "iam.create-user", rename_all = "kebab-case")]
    CreateUser {
        /// The user's name.
        name: String,
        /// Its path (`/contractors/`); `/` when left out.
        path: Option<String>,
    },
    /// `iam:CreateAccessKey` for `user`. Returns `id` (never the secret).
    #[serde(rename = "iam.create-access-key", rename_all = "kebab-case")]
    CreateAccessKey {
        /// The user's name.
        user: String,
    },
    /// `iam:CreateLoginProfile`: a console password for `user`. Returns nothing.
    #[serde(rename = "iam.create-login-profile", rename_all = "kebab-case")]
    CreateLoginProfile {
        /// The user's name.
        user: String,
    },
    /// Emulator only (`POST /moto-ext/iam/backdate`, emulator/README.md): dates a user's
    /// access key (`created-days-ago`, `last-used-days-ago`) or, without `access-key-id`,
    /// the user and its login profile (`created-days-ago`), and its password's last use
    /// (`password-last-used-days-ago`), as AWS would report them after that many days.
    /// AWS itself has no such call: against AWS it fails. Returns nothing.
    #[serde(rename = "iam.backdate", rename_all = "kebab-case")]
    Backdate {
        /// The user's name.
        user: String,
        /// The key the dates are about.
        access_key_id: Option<String>,
        /// Days since the key (or the user) was created.
        created_days_ago: Option<u32>,
        /// Days since the key was last used.
        last_used_days_ago: Option<u32>,
        /// Days since the user's console password was last used.
        password_last_used_days_ago: Option<u32>,
    },
    /// `iam:ListAccessKeys` of `user`, for one key. Returns `exists` and `status`
    /// (`Active`, `Inactive`; empty when there is no such key).
    #[serde(rename = "iam.get-access-key", rename_all = "kebab-case")]
    GetAccessKey {
        /// The user's name.
        user: String,
        /// The key's id.
        id: String,
    },
    /// `iam:GetLoginProfile` of `user`. Returns `exists`.
    #[serde(rename = "iam.get-login-profile", rename_all = "kebab-case")]
    GetLoginProfile {
        /// The user's name.
        user: String,
    },
    /// `iam:CreateRole` trusted by the member account's root. Returns `name` and `arn`.
    #[serde(rename = "iam.create-role", rename_all = "kebab-case")]
    CreateRole {
        /// The role's name.
        name: String,
        /// Its path (`/ops/`); `/` when left out.
        path: Option<String>,
    },
    /// `iam:CreateGroup`. Returns `name` and `arn`.
    #[serde(rename = "iam.create-group", rename_all = "kebab-case")]
    CreateGroup {
        /// The group's name.
        name: String,
        /// Its path (`/eng/`); `/` when left out.
        path: Option<String>,
    },
    /// `iam:AttachUserPolicy`. Returns nothing.
    #[serde(rename = "iam.attach-user-policy", rename_all = "kebab-case")]
    AttachUserPolicy {
        /// The user's name.
        user: String,
        /// The managed policy (`arn:aws:iam::aws:policy/...` or the account's own).
        policy_arn: String,
    },
    /// `iam:AttachGroupPolicy`. Returns nothing.
    #[serde(rename = "iam.attach-group-policy", rename_all = "kebab-case")]
    AttachGroupPolicy {
        /// The group's name.
        group: String,
        /// The managed policy.
        policy_arn: String,
    },
    /// `iam:AttachRolePolicy`. Returns nothing.
    #[serde(rename = "iam.attach-role-policy", rename_all = "kebab-case")]
    AttachRolePolicy {
        /// The role's name.
        role: String,
        /// The managed policy.
        policy_arn: String,
    },
    /// `iam:CreatePolicy`: a customer-managed policy. Returns `name` and `arn`.
    #[serde(rename = "iam.create-policy", rename_all = "kebab-case")]
    CreatePolicy {
        /// The policy's name.
        name: String,
        /// The policy document (JSON text).
        document: String,
    },
    /// `iam:ListEntitiesForPolicy` (one page of up to 1,000). Returns `users`, `groups`
    /// and `roles`: the names the policy is attached to.
    #[serde(rename = "iam.list-entities-for-policy", rename_all = "kebab-case")]
    ListEntitiesForPolicy {
        /// The managed policy.
        policy_arn: String,
    },
    /// `iam:UploadServerCertificate`. Returns `name` and `arn`.
    #[serde(rename = "iam.upload-server-certificate", rename_all = "kebab-case")]
    UploadServerCertificate {
        /// The certificate's name.
        name: String,
        /// Its path (default `/`).
        path: Option<String>,
        /// The PEM certificate.
        body: String,
        /// The PEM private key.
        private_key: String,
    },
    /// `iam:ListServerCertificates` (one page of up to 1,000). Returns `names` and `count`.
    #[serde(rename = "iam.list-server-certificates")]
    ListServerCertificates {},
    /// `iam:PutUserPolicy`: an inline policy on the user. Returns nothing.
    #[serde(rename = "iam.put-user-policy", rename_all = "kebab-case")]
    PutUserPolicy {
        /// The user's name.
        user: String,
        /// The inline policy's name.
        name: String,
        /// The policy document (JSON text).
        document: String,
    },
    /// `iam:ListAttachedUserPolicies` and `iam:ListUserPolicies` (one page of up to 1,000
    /// each). Returns `attached` (policy ARNs) and `inline` (policy names).
    #[serde(rename = "iam.list-user-policies", rename_all = "kebab-case")]
    ListUserPolicies {
        /// The user's name.
        user: String,
    },
    /// `iam:ListAttachedGroupPolicies` and `iam:ListGroupPolicies` (one page of up to
    /// 1,000 each). Returns `exists`, `attached` (policy ARNs) and `inline` (policy names).
    #[serde(rename = "iam.list-group-policies", rename_all = "kebab-case")]
    ListGroupPolicies {
        /// The group's name.
        group: String,
    },
    /// `iam:ListGroupsForUser` (one page of up to 1,000). Returns `groups` (names).
    #[serde(rename = "iam.list-groups-for-user", rename_all = "kebab-case")]
    ListGroupsForUser {
        /// The user's name.
        user: String,
    },
}

/// Every IAM call name.
pub const CALLS: &[&str] = &[
    "iam.update-account-password-policy",
    "iam.delete-account-password-policy",
    "iam.get-account-password-policy",
    "iam.get-role",
    "iam.create-service-linked-role",
    "iam.create-user",
    "iam.create-access-key",
    "iam.create-login-profile",
    "iam.backdate",
    "iam.get-access-key",
    "iam.get-login-profile",
    "iam.create-role",
    "iam.create-group",
    "iam.attach-user-policy",
    "iam.attach-group-policy",
    "iam.attach-role-policy",
    "iam.create-policy",
    "iam.list-entities-for-policy",
    "iam.upload-server-certificate",
    "iam.list-server-certificates",
    "iam.put-user-policy",
    "iam.list-user-policies",
    "iam.list-group-policies",
    "iam.list-groups-for-user",
];

const ROLE_FIELDS: &[&str] = &["exists", "name", "arn", "path"];

const PASSWORD_POLICY_FIELDS: &[&str] = &[
    "exists",
    "minimum-password-length",
    "require-symbols",
    "require-numbers",
    "require-uppercase-characters",
    "require-lowercase-characters",
    "allow-users-to-change-password",
    "expire-passwords",
    "max-password-age",
    "password-reuse-prevention",
    "hard-expiry",
];

impl Op {
    /// Its `call` name, e.g. `iam.get-account-password-policy`.
    pub fn call(&self) -> &'static str {
        match self {
            Op::UpdateAccountPasswordPolicy { .. } => "iam.update-account-password-policy",
            Op::DeleteAccountPasswordPolicy {} => "iam.delete-account-password-policy",
            Op::GetAccountPasswordPolicy {} => "iam.get-account-password-policy",
            Op::GetRole { .. } => "iam.get-role",
            Op::CreateServiceLinkedRole { .. } => "iam.create-service-linked-role",
            Op::CreateUser { .. } => "iam.create-user",
            Op::CreateAccessKey { .. } => "iam.create-access-key",
            Op::CreateLoginProfile { .. } => "iam.create-login-profile",
            Op::Backdate { .. } => "iam.backdate",
            Op::GetAccessKey { .. } => "iam.get-access-key",
            Op::GetLoginProfile { .. } => "iam.get-login-profile",
            Op::CreateRole { .. } => "iam.create-role",
            Op::CreateGroup { .. } => "iam.create-group",
            Op::AttachUserPolicy { .. } => "iam.attach-user-policy",
            Op::AttachGroupPolicy { .. } => "iam.attach-group-policy",
            Op::AttachRolePolicy { .. } => "iam.attach-role-policy",
            Op::CreatePolicy { .. } => "iam.create-policy",
            Op::ListEntitiesForPolicy { .. } => "iam.list-entities-for-policy",
            Op::UploadServerCertificate { .. } => "iam.upload-server-certificate",
            Op::ListServerCertificates {} => "iam.list-server-certificates",
            Op::PutUserPolicy { .. } => "iam.put-user-policy",
            Op::ListUserPolicies { .. } => "iam.list-user-policies",
            Op::ListGroupPolicies { .. } => "iam.list-group-policies",
            Op::ListGroupsForUser { .. } => "iam.list-groups-for-user",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::GetAccountPasswordPolicy {} => PASSWORD_POLICY_FIELDS,
            Op::GetRole { .. } => ROLE_FIELDS,
            Op::CreateServiceLinkedRole { .. }
            | Op::CreateUser { .. }
            | Op::CreateRole { .. }
            | Op::CreateGroup { .. }
            | Op::CreatePolicy { .. }
            | Op::UploadServerCertificate { .. } => &["name", "arn"],
            Op::ListServerCertificates {} => &["names", "count"],
            Op::ListEntitiesForPolicy { .. } => &["users", "groups", "roles"],
            Op::ListUserPolicies { .. } => &["attached", "inline"],
            Op::ListGroupPolicies { .. } => &["exists", "attached", "inline"],
            Op::ListGroupsForUser { .. } => &["groups"],
            Op::CreateAccessKey { .. } => &["id"],
            Op::GetAccessKey { .. } => &["exists", "status"],
            Op::GetLoginProfile { .. } => &["exists"],
            Op::UpdateAccountPasswordPolicy { .. }
            | Op::DeleteAccountPasswordPolicy {}
            | Op::CreateLoginProfile { .. }
            | Op::AttachUserPolicy { .. }
            | Op::AttachGroupPolicy { .. }
            | Op::AttachRolePolicy { .. }
            | Op::PutUserPolicy { .. }
            | Op::Backdate { .. } => &[],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Op::GetAccountPasswordPolicy {}
                | Op::GetRole { .. }
                | Op::GetAccessKey { .. }
                | Op::GetLoginProfile { .. }
                | Op::ListEntitiesForPolicy { .. }
                | Op::ListServerCertificates {}
                | Op::ListUserPolicies { .. }
                | Op::ListGroupPolicies { .. }
                | Op::ListGroupsForUser { .. }
        )
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        match self {
            Op::GetRole { name } if name.trim().is_empty() => vec!["`name` is empty".to_owned()],
            Op::CreateServiceLinkedRole { service } if !service.ends_with(".amazonaws.com") => {
                vec![format!(
                    "`service` = `{service}`: a service principal such as `config.amazonaws.com`"
                )]
            }
            Op::CreateUser { name, .. }
            | Op::CreateRole { name, .. }
            | Op::CreateGroup { name, .. }
            | Op::CreatePolicy { name, .. }
            | Op::UploadServerCertificate { name, .. }
                if name.trim().is_empty() =>
            {
                vec!["`name` is empty".to_owned()]
            }
            Op::CreateRole {
                path: Some(path), ..
            }
            | Op::CreateGroup {
                path: Some(path), ..
            } if !(path.starts_with('/') && path.ends_with('/')) => {
                vec![format!(
                    "`path` = `{path}`: a path starts and ends with `/`"
                )]
            }
            Op::AttachUserPolicy { policy_arn, .. }
            | Op::AttachGroupPolicy { policy_arn, .. }
            | Op::AttachRolePolicy { policy_arn, .. }
            | Op::ListEntitiesForPolicy { policy_arn }
                if !policy_arn.starts_with("arn:") =>
            {
                vec![format!("`policy-arn` = `{policy_arn}`: a policy ARN")]
            }
            Op::CreateUser {
                path: Some(path), ..
            } if !(path.starts_with('/') && path.ends_with('/')) => {
                vec![format!(
                    "`path` = `{path}`: a path starts and ends with `/`"
                )]
            }
            Op::Backdate {
                access_key_id,
                created_days_ago,
                last_used_days_ago,
                password_last_used_days_ago,
                ..
            } => {
                let mut problems = Vec::new();
                if created_days_ago.is_none()
                    && last_used_days_ago.is_none()
                    && password_last_used_days_ago.is_none()
                {
                    problems.push("nothing to date: give a `*-days-ago` field".to_owned());
                }
                if last_used_days_ago.is_some() && access_key_id.is_none() {
                    problems.push("`last-used-days-ago` needs `access-key-id`".to_owned());
                }
                problems
            }
            Op::PutUserPolicy { document, .. }
                if !serde_json::from_str::<Value>(document).is_ok_and(|v| v.is_object()) =>
            {
                vec!["`document` is not a JSON object".to_owned()]
            }
            Op::UploadServerCertificate { body, .. }
                if !body.contains("-----BEGIN CERTIFICATE-----") =>
            {
                vec!["`body` is not a PEM certificate".to_owned()]
            }
            _ => Vec::new(),
        }
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        match self {
            Op::UpdateAccountPasswordPolicy {
                minimum_password_length,
                require_symbols,
                require_numbers,
                require_uppercase_characters,
                require_lowercase_characters,
                allow_users_to_change_password,
                max_password_age,
                password_reuse_prevention,
                hard_expiry,
            } => {
                m.iam
                    .update_account_password_policy()
                    .set_minimum_password_length(*minimum_password_length)
                    .set_require_symbols(*require_symbols)
                    .set_require_numbers(*require_numbers)
                    .set_require_uppercase_characters(*require_uppercase_characters)
                    .set_require_lowercase_characters(*require_lowercase_characters)
                    .set_allow_users_to_change_password(*allow_users_to_change_password)
                    .set_max_password_age(*max_password_age)
                    .set_password_reuse_prevention(*password_reuse_prevention)
                    .set_hard_expiry(*hard_expiry)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::DeleteAccountPasswordPolicy {} => {
                match m.iam.delete_account_password_policy().send().await {
                    Ok(_) => Ok(Record::new()),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_no_such_entity_exception()) =>
                    {
                        Ok(Record::new())
                    }
                    Err(e) => Err(failed(&e)),
                }
            }
            Op::GetAccountPasswordPolicy {} => {
                let policy = match m.iam.get_account_password_policy().send().await {
                    Ok(out) => out.password_policy,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_no_such_entity_exception()) =>
                    {
                        None
                    }
                    Err(e) => return Err(failed(&e)),
                };
                let mut record = Record::from([("exists".to_owned(), json!(policy.is_some()))]);
                if let Some(p) = policy {
                    let mut put = |key: &str, value: Value| {
                        record.insert(key.to_owned(), value);
                    };
                    put("require-symbols", json!(p.require_symbols));
                    put("require-numbers", json!(p.require_numbers));
                    put(
                        "require-uppercase-characters",
                        json!(p.require_uppercase_characters),
                    );
                    put(
                        "require-lowercase-characters",
                        json!(p.require_lowercase_characters),
                    );
                    put(
                        "allow-users-to-change-password",
                        json!(p.allow_users_to_change_password),
                    );
                    put("expire-passwords", json!(p.expire_passwords));
                    for (key, value) in [
                        ("minimum-password-length", p.minimum_password_length),
                        ("max-password-age", p.max_password_age),
                        ("password-reuse-prevention", p.password_reuse_prevention),
                    ] {
                        if let Some(v) = value {
                            put(key, json!(v));
                        }
                    }
                    if let Some(v) = p.hard_expiry {
                        put("hard-expiry", json!(v));
                    }
                }
                Ok(record)
            }
            Op::GetRole { name } => {
                let role = match m.iam.get_role().role_name(name).send().await {
                    Ok(out) => out.role,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_no_such_entity_exception()) =>
                    {
                        None
                    }
                    Err(e) => return Err(failed(&e)),
                };
                Ok(Record::from([
                    ("exists".to_owned(), json!(role.is_some())),
                    (
                        "name".to_owned(),
                        json!(
                            role.as_ref()
                                .map(|r| r.role_name.as_str())
                                .unwrap_or_default()
                        ),
                    ),
                    (
                        "arn".to_owned(),
                        json!(role.as_ref().map(|r| r.arn.as_str()).unwrap_or_default()),
                    ),
                    (
                        "path".to_owned(),
                        json!(role.as_ref().map(|r| r.path.as_str()).unwrap_or_default()),
                    ),
                ]))
            }
            Op::CreateServiceLinkedRole { service } => {
                let out = m
                    .iam
                    .create_service_linked_role()
                    .aws_service_name(service)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let Some(role) = out.role else {
                    return Err(format!("{}: IAM returned no role", self.call()));
                };
                Ok(Record::from([
                    ("name".to_owned(), json!(role.role_name)),
                    ("arn".to_owned(), json!(role.arn)),
                ]))
            }
            Op::CreateUser { name, path } => {
                let out = m
                    .iam
                    .create_user()
                    .user_name(name)
                    .set_path(path.clone())
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let Some(user) = out.user else {
                    return Err(format!("{}: IAM returned no user", self.call()));
                };
                Ok(Record::from([
                    ("name".to_owned(), json!(user.user_name)),
                    ("arn".to_owned(), json!(user.arn)),
                ]))
            }
            Op::CreateAccessKey { user } => {
                let out = m
                    .iam
                    .create_access_key()
                    .user_name(user)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let Some(key) = out.access_key else {
                    return Err(format!("{}: IAM returned no key", self.call()));
                };
                Ok(Record::from([("id".to_owned(), json!(key.access_key_id))]))
            }
            Op::CreateLoginProfile { user } => {
                m.iam
                    .create_login_profile()
                    .user_name(user)
                    .password(format!("Hubfix-{}-Aa1!", fastrand::u64(..)))
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::Backdate {
                user,
                access_key_id,
                created_days_ago,
                last_used_days_ago,
                password_last_used_days_ago,
            } => {
                let body = json!({
                    "AccountId": m.account,
                    "UserName": user,
                    "AccessKeyId": access_key_id,
                    "CreatedDaysAgo": created_days_ago,
                    "LastUsedDaysAgo": last_used_days_ago,
                    "PasswordLastUsedDaysAgo": password_last_used_days_ago,
                });
                emulator_post("/moto-ext/iam/backdate", body.to_string())
                    .await
                    .map_err(|e| format!("{}: {e}", self.call()))?;
                Ok(Record::new())
            }
            Op::GetAccessKey { user, id } => {
                let out = m
                    .iam
                    .list_access_keys()
                    .user_name(user)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let status = out
                    .access_key_metadata
                    .iter()
                    .find(|k| k.access_key_id.as_deref() == Some(id.as_str()))
                    .map(|k| {
                        k.status
                            .as_ref()
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_default()
                    });
                Ok(Record::from([
                    ("exists".to_owned(), json!(status.is_some())),
                    ("status".to_owned(), json!(status.unwrap_or_default())),
                ]))
            }
            Op::GetLoginProfile { user } => {
                let exists = match m.iam.get_login_profile().user_name(user).send().await {
                    Ok(_) => true,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_no_such_entity_exception()) =>
                    {
                        false
                    }
                    Err(e) => return Err(failed(&e)),
                };
                Ok(Record::from([("exists".to_owned(), json!(exists))]))
            }
            Op::CreateRole { name, path } => {
                let trust = json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": {"AWS": format!("arn:aws:iam::{}:root", m.account)},
                        "Action": "sts:AssumeRole",
                    }],
                });
                let out = m
                    .iam
                    .create_role()
                    .role_name(name)
                    .set_path(path.clone())
                    .assume_role_policy_document(trust.to_string())
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let Some(role) = out.role else {
                    return Err(format!("{}: IAM returned no role", self.call()));
                };
                Ok(Record::from([
                    ("name".to_owned(), json!(role.role_name)),
                    ("arn".to_owned(), json!(role.arn)),
                ]))
            }
            Op::CreateGroup { name, path } => {
                let out = m
                    .iam
                    .create_group()
                    .group_name(name)
                    .set_path(path.clone())
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let Some(group) = out.group else {
                    return Err(format!("{}: IAM returned no group", self.call()));
                };
                Ok(Record::from([
                    ("name".to_owned(), json!(group.group_name)),
                    ("arn".to_owned(), json!(group.arn)),
                ]))
            }
            Op::AttachUserPolicy { user, policy_arn } => {
                m.iam
                    .attach_user_policy()
                    .user_name(user)
                    .policy_arn(policy_arn)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::AttachGroupPolicy { group, policy_arn } => {
                m.iam
                    .attach_group_policy()
                    .group_name(group)
                    .policy_arn(policy_arn)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::AttachRolePolicy { role, policy_arn } => {
                m.iam
                    .attach_role_policy()
                    .role_name(role)
                    .policy_arn(policy_arn)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::CreatePolicy { name, document } => {
                let out = m
                    .iam
                    .create_policy()
                    .policy_name(name)
                    .policy_document(document)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let Some(policy) = out.policy else {
                    return Err(format!("{}: IAM returned no policy", self.call()));
                };
                Ok(Record::from([
                    ("name".to_owned(), json!(policy.policy_name)),
                    ("arn".to_owned(), json!(policy.arn)),
                ]))
            }
            Op::PutUserPolicy {
                user,
                name,
                document,
            } => {
                m.iam
                    .put_user_policy()
                    .user_name(user)
                    .policy_name(name)
                    .policy_document(document)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::ListUserPolicies { user } => {
                let attached = m
                    .iam
                    .list_attached_user_policies()
                    .user_name(user)
                    .max_items(1000)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let inline = m
                    .iam
                    .list_user_policies()
                    .user_name(user)
                    .max_items(1000)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::from([
                    (
                        "attached".to_owned(),
                        json!(policy_arns(attached.attached_policies())),
                    ),
                    ("inline".to_owned(), json!(inline.policy_names)),
                ]))
            }
            Op::ListGroupPolicies { group } => {
                let attached = match m
                    .iam
                    .list_attached_group_policies()
                    .group_name(group)
                    .max_items(1000)
                    .send()
                    .await
                {
                    Ok(out) => out,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_no_such_entity_exception()) =>
                    {
                        return Ok(Record::from([
                            ("exists".to_owned(), json!(false)),
                            ("attached".to_owned(), json!([])),
                            ("inline".to_owned(), json!([])),
                        ]));
                    }
                    Err(e) => return Err(failed(&e)),
                };
                let inline = m
                    .iam
                    .list_group_policies()
                    .group_name(group)
                    .max_items(1000)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::from([
                    ("exists".to_owned(), json!(true)),
                    (
                        "attached".to_owned(),
                        json!(policy_arns(attached.attached_policies())),
                    ),
                    ("inline".to_owned(), json!(inline.policy_names)),
                ]))
            }
            Op::ListGroupsForUser { user } => {
                let out = m
                    .iam
                    .list_groups_for_user()
                    .user_name(user)
                    .max_items(1000)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let groups: Vec<_> = out.groups.iter().map(|g| g.group_name.clone()).collect();
                Ok(Record::from([("groups".to_owned(), json!(groups))]))
            }
            Op::ListEntitiesForPolicy { policy_arn } => {
                let out = m
                    .iam
                    .list_entities_for_policy()
                    .policy_arn(policy_arn)
                    .max_items(1000)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let users: Vec<_> = out
                    .policy_users()
                    .iter()
                    .filter_map(|u| u.user_name.clone())
                    .collect();
                let groups: Vec<_> = out
                    .policy_groups()
                    .iter()
                    .filter_map(|g| g.group_name.clone())
                    .collect();
                let roles: Vec<_> = out
                    .policy_roles()
                    .iter()
                    .filter_map(|r| r.role_name.clone())
                    .collect();
                Ok(Record::from([
                    ("users".to_owned(), json!(users)),
                    ("groups".to_owned(), json!(groups)),
                    ("roles".to_owned(), json!(roles)),
                ]))
            }
            Op::UploadServerCertificate {
                name,
                path,
                body,
                private_key,
            } => {
                let out = m
                    .iam
                    .upload_server_certificate()
                    .server_certificate_name(name)
                    .set_path(path.clone())
                    .certificate_body(body)
                    .private_key(private_key)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let Some(meta) = out.server_certificate_metadata else {
                    return Err(format!("{}: IAM returned no metadata", self.call()));
                };
                Ok(Record::from([
                    ("name".to_owned(), json!(meta.server_certificate_name)),
                    ("arn".to_owned(), json!(meta.arn)),
                ]))
            }
            Op::ListServerCertificates {} => {
                let out = m
                    .iam
                    .list_server_certificates()
                    .max_items(1000)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let names: Vec<_> = out
                    .server_certificate_metadata_list()
                    .iter()
                    .map(|c| c.server_certificate_name.clone())
                    .collect();
                Ok(Record::from([
                    ("count".to_owned(), json!(names.len())),
                    ("names".to_owned(), json!(names)),
                ]))
            }
        }
    }
}

/// POSTs JSON to the emulator's own endpoint `path` (`AWS_ENDPOINT_URL`, plain HTTP on
/// loopback): what scenarios use for state AWS has no call for (a key's age).
async fn emulator_post(path: &str, body: String) -> Result<(), String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").map_err(|_| {
        "needs the emulator (AWS_ENDPOINT_URL is not set); AWS has no such call".to_owned()
    })?;
    let authority = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| format!("needs the emulator over plain HTTP, not {endpoint}"))?
        .trim_end_matches('/')
        .to_owned();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&authority)
            .map_err(|e| format!("connecting to {authority}: {e}"))?;
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let request = format!(
            "POST {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| format!("writing to {authority}: {e}"))?;
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .map_err(|e| format!("reading from {authority}: {e}"))?;
        let status = answer.split_whitespace().nth(1).unwrap_or_default();
        if status == "200" {
            Ok(())
        } else {
            let detail = answer.split("\r\n\r\n").nth(1).unwrap_or(&answer);
            Err(format!("the emulator answered {status}: {detail}"))
        }
    })
    .await
    .map_err(|e| format!("emulator request: {e}"))?
}

/// The ARNs of attached managed policies, as a check compares them.
fn policy_arns(attached: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<String> {
    attached
        .iter()
        .filter_map(|p| p.policy_arn.clone())
        .collect()
}
