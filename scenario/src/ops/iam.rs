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
}

/// Every IAM call name.
pub const CALLS: &[&str] = &[
    "iam.update-account-password-policy",
    "iam.delete-account-password-policy",
    "iam.get-account-password-policy",
    "iam.get-role",
    "iam.create-service-linked-role",
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
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::GetAccountPasswordPolicy {} => PASSWORD_POLICY_FIELDS,
            Op::GetRole { .. } => ROLE_FIELDS,
            Op::CreateServiceLinkedRole { .. } => &["name", "arn"],
            Op::UpdateAccountPasswordPolicy { .. } | Op::DeleteAccountPasswordPolicy {} => &[],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(self, Op::GetAccountPasswordPolicy {} | Op::GetRole { .. })
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
        }
    }
}
