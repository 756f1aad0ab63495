//! `hubfix:plugin/iam`: IAM operations in the finding's account.
//!
//! Roles and users are named by name. Policy documents (trust and inline policies) are
//! checked before they reach IAM: a JSON object, within IAM's size limits. User names,
//! access key ids and key statuses are checked against IAM's patterns before they reach it.

use aws_sdk_iam::operation::get_account_password_policy::GetAccountPasswordPolicyError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use aws_sdk_iam::types::ReportStateType;
use hubfix_contract::{HostFunction, IAM_GROUP, IAM_ROLE, IAM_USER, function};

use crate::aws::{CallError, PluginCtx, map_sdk_error, read_pages};
use crate::bindings::iam::{
    AccessKey, CredentialReportRow, Group, Host, PasswordPolicy, PolicyEntities, ReportKey, Role,
    ServerCertificate, User,
};
use crate::bindings::types::{AwsError, Mode};

const GET_PASSWORD_POLICY: &HostFunction = function("iam.get-account-password-policy");
const UPDATE_PASSWORD_POLICY: &HostFunction = function("iam.update-account-password-policy");
const GET_ROLE: &HostFunction = function("iam.get-role");
const CREATE_ROLE: &HostFunction = function("iam.create-role");
const PUT_ROLE_POLICY: &HostFunction = function("iam.put-role-policy");
const CREATE_SERVICE_LINKED_ROLE: &HostFunction = function("iam.create-service-linked-role");
const LIST_USERS: &HostFunction = function("iam.list-users");
const LIST_ACCESS_KEYS: &HostFunction = function("iam.list-access-keys");
const GET_ACCESS_KEY_LAST_USED: &HostFunction = function("iam.get-access-key-last-used");
const UPDATE_ACCESS_KEY: &HostFunction = function("iam.update-access-key");
const GET_LOGIN_PROFILE: &HostFunction = function("iam.get-login-profile");
const DELETE_LOGIN_PROFILE: &HostFunction = function("iam.delete-login-profile");
const ATTACH_ROLE_POLICY: &HostFunction = function("iam.attach-role-policy");
const DETACH_ROLE_POLICY: &HostFunction = function("iam.detach-role-policy");
const DETACH_USER_POLICY: &HostFunction = function("iam.detach-user-policy");
const DETACH_GROUP_POLICY: &HostFunction = function("iam.detach-group-policy");
const LIST_ENTITIES_FOR_POLICY: &HostFunction = function("iam.list-entities-for-policy");
const LIST_SERVER_CERTIFICATES: &HostFunction = function("iam.list-server-certificates");
const DELETE_SERVER_CERTIFICATE: &HostFunction = function("iam.delete-server-certificate");
const LIST_ATTACHED_USER_POLICIES: &HostFunction = function("iam.list-attached-user-policies");
const LIST_USER_POLICIES: &HostFunction = function("iam.list-user-policies");
const GET_USER_POLICY: &HostFunction = function("iam.get-user-policy");
const DELETE_USER_POLICY: &HostFunction = function("iam.delete-user-policy");
const GET_GROUP: &HostFunction = function("iam.get-group");
const CREATE_GROUP: &HostFunction = function("iam.create-group");
const ATTACH_GROUP_POLICY: &HostFunction = function("iam.attach-group-policy");
const PUT_GROUP_POLICY: &HostFunction = function("iam.put-group-policy");
const ADD_USER_TO_GROUP: &HostFunction = function("iam.add-user-to-group");
const GENERATE_CREDENTIAL_REPORT: &HostFunction = function("iam.generate-credential-report");
const GET_CREDENTIAL_REPORT: &HostFunction = function("iam.get-credential-report");

/// Most users `iam.list-users` returns: an account with more is an error, not a silently
/// shortened list (a plugin would take the users it never saw for compliant).
const MAX_USERS: usize = 1000;
/// Most access keys `iam.list-access-keys` returns (IAM allows two per user).
const MAX_ACCESS_KEYS: usize = 100;
/// Most users, groups and roles together `iam.list-entities-for-policy` returns.
const MAX_POLICY_ENTITIES: usize = 1000;
/// Most server certificates `iam.list-server-certificates` returns.
const MAX_SERVER_CERTIFICATES: usize = 1000;
/// Most pages of a user's attached or inline policies read (100 per page).
const MAX_USER_POLICY_PAGES: usize = 10;
/// Most rows of a credential report: the account's users (at most 1,000 read elsewhere)
/// and `<root_account>`.
const MAX_REPORT_ROWS: usize = 1001;
/// Largest credential report accepted (1,001 rows of a few hundred bytes fit easily).
const MAX_REPORT_BYTES: usize = 4 * 1024 * 1024;
/// IAM's limit on an ARN passed as `PolicyArn`.
const MAX_POLICY_ARN: usize = 2048;

/// IAM's limit on an inline role policy (10,240 characters).
const MAX_INLINE_ROLE_POLICY: usize = 10 * 1024;
/// IAM's limit on an inline group policy (5,120 characters).
const MAX_INLINE_GROUP_POLICY: usize = 5 * 1024;
/// IAM's largest trust policy (the quota, 2,048 by default, can be raised to 4,096).
const MAX_TRUST_POLICY: usize = 4096;
/// IAM's limit on a role description.
const MAX_ROLE_DESCRIPTION: usize = 1000;

/// Checks that `text`, the `field` of a call to `function`, is a JSON object of at most
/// `max` bytes: what IAM, KMS and S3 accept as a policy document.
pub(super) fn json_document(
    function: &HostFunction,
    field: &str,
    text: &str,
    max: usize,
) -> Result<(), CallError> {
    let problem = if text.len() > max {
        Some(format!(
            "is {} bytes, more than the {max} allowed",
            text.len()
        ))
    } else {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(_)) => None,
            Ok(_) => Some("is not a JSON object".to_owned()),
            Err(e) => Some(format!("is not JSON ({e})")),
        }
    };
    match problem {
        Some(p) => Err(AwsError::InvalidInput(format!("{}: `{field}` {p}", function.name)).into()),
        None => Ok(()),
    }
}

/// The characters IAM allows in role and policy names.
fn iam_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)
}

/// A kind of IAM name and its longest length (IAM's pattern `[\w+=,.@-]+`).
#[derive(Clone, Copy)]
struct NameKind {
    word: &'static str,
    max: usize,
}

const ROLE: NameKind = NameKind {
    word: "role",
    max: 64,
};
const USER: NameKind = NameKind {
    word: "user",
    max: 64,
};
const GROUP: NameKind = NameKind {
    word: "group",
    max: 128,
};
const POLICY: NameKind = NameKind {
    word: "policy",
    max: 128,
};
const CERTIFICATE: NameKind = NameKind {
    word: "certificate",
    max: 128,
};

/// Checks `name` (the argument `field`) is an IAM name of `kind`: 1 to `kind.max` of
/// letters, digits and `+=,.@_-`.
fn iam_name(
    function: &HostFunction,
    field: &str,
    kind: NameKind,
    name: &str,
) -> Result<(), CallError> {
    if name.is_empty() || name.len() > kind.max || !name.bytes().all(iam_name_byte) {
        return Err(AwsError::InvalidInput(format!(
            "{}: `{field}` must be a {} name of 1 to {} letters, digits and `+=,.@_-`, not {name:?}",
            function.name, kind.word, kind.max
        ))
        .into());
    }
    Ok(())
}

/// An inline policy name (the argument `policy-name`).
fn inline_policy_name(function: &HostFunction, name: &str) -> Result<(), CallError> {
    iam_name(function, "policy-name", POLICY, name)
}

/// A group name (the argument `field`).
fn group_name(function: &HostFunction, field: &str, name: &str) -> Result<(), CallError> {
    iam_name(function, field, GROUP, name)
}

/// A role name (the argument `field`).
fn role_name(function: &HostFunction, field: &str, name: &str) -> Result<(), CallError> {
    iam_name(function, field, ROLE, name)
}

/// A user name (the argument `user-name`).
fn user_name(function: &HostFunction, name: &str) -> Result<(), CallError> {
    iam_name(function, "user-name", USER, name)
}

/// An access key id: `AKIA` (long-term) or `ASIA` (temporary) and 16 uppercase letters
/// or digits.
fn access_key_id(function: &HostFunction, id: &str) -> Result<(), CallError> {
    let valid = id.len() == 20
        && (id.starts_with("AKIA") || id.starts_with("ASIA"))
        && id
            .bytes()
            .skip(4)
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !valid {
        return Err(AwsError::InvalidInput(format!(
            "{}: `access-key-id` must be `AKIA` or `ASIA` and 16 uppercase letters or digits, not {id:?}",
            function.name
        ))
        .into());
    }
    Ok(())
}

/// Whether an IAM error says the user has no login profile (rather than no such user).
fn no_login_profile(code: Option<&str>, message: Option<&str>) -> bool {
    code == Some("NoSuchEntity")
        && message.is_some_and(|m| m.to_ascii_lowercase().contains("login profile"))
}

/// The role name in IAM's "Service role name NAME has been taken in this account".
fn taken_role_name(message: Option<&str>) -> Option<String> {
    let rest = message?.split_once("role name ")?.1;
    let (name, _) = rest.split_once(" has been taken")?;
    (!name.is_empty() && name.bytes().all(iam_name_byte)).then(|| name.to_owned())
}

/// Decodes IAM's URL-encoded policy documents (`%7B%22Version%22…`); text that is not
/// validly encoded is returned as it is.
fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => return text.to_owned(),
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// A managed policy ARN in `partition`: `arn:<partition>:iam::<account>:policy/<path>name`
/// where the account is `account` (a customer-managed policy of the finding's account)
/// or `aws` (an AWS-managed policy). The path is `/`-separated IAM name characters; the
/// name 1 to 128 of them.
fn policy_arn(
    function: &HostFunction,
    arn: &str,
    partition: &str,
    account: &str,
) -> Result<(), CallError> {
    let rest = arn
        .strip_prefix("arn:")
        .and_then(|r| r.strip_prefix(partition))
        .and_then(|r| r.strip_prefix(":iam::"));
    let valid = arn.len() <= MAX_POLICY_ARN
        && !partition.is_empty()
        && rest
            .and_then(|r| r.split_once(":policy/"))
            .is_some_and(|(owner, path_name)| {
                let name = path_name.rsplit('/').next().unwrap_or_default();
                (owner == account || owner == "aws")
                    && !name.is_empty()
                    && name.len() <= 128
                    && path_name
                        .split('/')
                        .all(|seg| !seg.is_empty() && seg.bytes().all(iam_name_byte))
            });
    if !valid {
        return Err(AwsError::InvalidInput(format!(
            "{}: `policy-arn` must be a managed policy ARN `arn:{partition}:iam::{account}:policy/NAME` or `arn:{partition}:iam::aws:policy/NAME`, not {arn:?}",
            function.name
        ))
        .into());
    }
    Ok(())
}

fn role(r: &aws_sdk_iam::types::Role) -> Role {
    Role {
        name: r.role_name().to_owned(),
        arn: r.arn().to_owned(),
        path: r.path().to_owned(),
        assume_role_policy_document: r
            .assume_role_policy_document()
            .map(url_decode)
            .unwrap_or_default(),
    }
}

fn group(g: &aws_sdk_iam::types::Group) -> Group {
    Group {
        name: g.group_name().to_owned(),
        arn: g.arn().to_owned(),
        path: g.path().to_owned(),
    }
}

/// A credential-report time: RFC 3339 (`2024-05-01T10:00:00+00:00`), or `none` for the
/// report's `N/A`, `no_information` and `not_supported`.
fn report_time(column: &str, text: &str) -> Result<Option<i64>, AwsError> {
    match text {
        "N/A" | "no_information" | "not_supported" | "" => Ok(None),
        // IAM writes UTC as `+00:00`, which the RFC 3339 parser here accepts only as `Z`.
        _ => aws_smithy_types::DateTime::from_str(
            &match text.strip_suffix("+00:00") {
                Some(utc) => format!("{utc}Z"),
                None => text.to_owned(),
            },
            aws_smithy_types::date_time::Format::DateTime,
        )
        .map(|t| Some(t.secs()))
        .map_err(|_| {
            AwsError::Service(format!(
                "GetCredentialReport: `{column}` is not a time: {:?}",
                text.chars().take(40).collect::<String>()
            ))
        }),
    }
}

/// Parses IAM's credential report (CSV with a header row; no field is quoted). The
/// columns are found by name, so IAM adding columns changes nothing.
fn parse_credential_report(content: &[u8]) -> Result<Vec<CredentialReportRow>, AwsError> {
    let bad = |what: String| AwsError::Service(format!("GetCredentialReport: {what}"));
    if content.len() > MAX_REPORT_BYTES {
        return Err(bad(format!(
            "the report is {} bytes, more than {MAX_REPORT_BYTES}",
            content.len()
        )));
    }
    let text = std::str::from_utf8(content).map_err(|_| bad("the report is not UTF-8".into()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| bad("the report is empty".into()))?
        .split(',')
        .map(str::trim)
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| bad(format!("the report has no `{name}` column")))
    };
    let [
        user,
        arn,
        created,
        password,
        password_used,
        password_changed,
        mfa,
    ] = [
        "user",
        "arn",
        "user_creation_time",
        "password_enabled",
        "password_last_used",
        "password_last_changed",
        "mfa_active",
    ]
    .map(column);
    let (user, arn, created, password, password_used, password_changed, mfa) = (
        user?,
        arn?,
        created?,
        password?,
        password_used?,
        password_changed?,
        mfa?,
    );
    let mut keys = Vec::new();
    for n in 1..=2 {
        keys.push((
            column(&format!("access_key_{n}_active"))?,
            format!("access_key_{n}_last_rotated"),
            column(&format!("access_key_{n}_last_rotated"))?,
            format!("access_key_{n}_last_used_date"),
            column(&format!("access_key_{n}_last_used_date"))?,
        ));
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        if rows.len() == MAX_REPORT_ROWS {
            return Err(bad(format!(
                "the report has more than {MAX_REPORT_ROWS} rows"
            )));
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != header.len() {
            return Err(bad(format!(
                "row {} has {} fields, the header {}",
                i + 1,
                fields.len(),
                header.len()
            )));
        }
        let access_keys = keys
            .iter()
            .map(|(active, rotated_name, rotated, used_name, used)| {
                Ok(ReportKey {
                    active: fields[*active] == "true",
                    last_rotated: report_time(rotated_name, fields[*rotated])?,
                    last_used: report_time(used_name, fields[*used])?,
                })
            })
            .collect::<Result<_, AwsError>>()?;
        rows.push(CredentialReportRow {
            user: fields[user].to_owned(),
            arn: fields[arn].to_owned(),
            created: report_time("user_creation_time", fields[created])?,
            password_enabled: fields[password] == "true",
            password_last_used: report_time("password_last_used", fields[password_used])?,
            password_last_changed: report_time("password_last_changed", fields[password_changed])?,
            mfa_active: fields[mfa] == "true",
            access_keys,
        });
    }
    Ok(rows)
}

fn iam(aws: &crate::aws::AwsClients) -> aws_sdk_iam::Client {
    aws.client(aws_sdk_iam::Client::new)
}

fn to_i32(v: Option<u32>) -> Option<i32> {
    v.and_then(|n| i32::try_from(n).ok())
}

fn to_u32(v: Option<i32>) -> Option<u32> {
    v.and_then(|n| u32::try_from(n).ok())
}

/// AWS documents 0 as "not set" for the age and reuse settings (passwords never expire,
/// any password may be reused), and some endpoints return 0 rather than omitting them.
fn unset_if_zero(v: Option<i32>) -> Option<u32> {
    to_u32(v).filter(|n| *n > 0)
}

impl PluginCtx {
    /// Checks `arn` as a policy ARN of the finding's account or AWS-managed.
    fn check_policy_arn(&self, function: &HostFunction, arn: &str) -> Result<(), CallError> {
        policy_arn(
            function,
            arn,
            self.scope.partition(),
            self.scope.account_id(),
        )
    }
}

impl Host for PluginCtx {
    async fn get_account_password_policy(&mut self) -> Result<Option<PasswordPolicy>, CallError> {
        self.enter(const { function("iam.get-account-password-policy") })?;
        self.call(GET_PASSWORD_POLICY, None, |aws| async move {
            match iam(&aws).get_account_password_policy().send().await {
                Ok(out) => Ok(out.password_policy.map(|p| PasswordPolicy {
                    minimum_password_length: to_u32(p.minimum_password_length),
                    require_symbols: p.require_symbols,
                    require_numbers: p.require_numbers,
                    require_uppercase_characters: p.require_uppercase_characters,
                    require_lowercase_characters: p.require_lowercase_characters,
                    allow_users_to_change_password: p.allow_users_to_change_password,
                    max_password_age: unset_if_zero(p.max_password_age),
                    password_reuse_prevention: unset_if_zero(p.password_reuse_prevention),
                    hard_expiry: p.hard_expiry,
                })),
                // An account without a password policy is a normal state, not an error.
                Err(e)
                    if e.as_service_error().is_some_and(
                        GetAccountPasswordPolicyError::is_no_such_entity_exception,
                    ) || e.code() == Some("NoSuchEntity") =>
                {
                    Ok(None)
                }
                Err(e) => Err(map_sdk_error(e)),
            }
        })
        .await
    }

    async fn update_account_password_policy(
        &mut self,
        policy: PasswordPolicy,
    ) -> Result<(), CallError> {
        self.enter(const { function("iam.update-account-password-policy") })?;
        self.call(UPDATE_PASSWORD_POLICY, None, |aws| async move {
            iam(&aws)
                .update_account_password_policy()
                .set_minimum_password_length(to_i32(policy.minimum_password_length))
                .require_symbols(policy.require_symbols)
                .require_numbers(policy.require_numbers)
                .require_uppercase_characters(policy.require_uppercase_characters)
                .require_lowercase_characters(policy.require_lowercase_characters)
                .allow_users_to_change_password(policy.allow_users_to_change_password)
                .set_max_password_age(to_i32(policy.max_password_age))
                .set_password_reuse_prevention(to_i32(policy.password_reuse_prevention))
                .set_hard_expiry(policy.hard_expiry)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }
    async fn get_role(&mut self, name: String) -> Result<Role, CallError> {
        self.enter(const { function("iam.get-role") })?;
        role_name(GET_ROLE, "name", &name)?;
        let resource = name.clone();
        let found: Option<Role> = self
            .call(GET_ROLE, Some(&resource), |aws| async move {
                let out = iam(&aws)
                    .get_role()
                    .role_name(name)
                    .send()
                    .await
                    .map_err(map_sdk_error)?;
                Ok(out.role().map(role))
            })
            .await?;
        found.ok_or_else(|| {
            AwsError::Service(format!("GetRole: no role in the answer for {resource}")).into()
        })
    }

    async fn create_role(
        &mut self,
        name: String,
        trust_policy: String,
        description: String,
    ) -> Result<Role, CallError> {
        self.enter(const { function("iam.create-role") })?;
        role_name(CREATE_ROLE, "name", &name)?;
        json_document(CREATE_ROLE, "trust-policy", &trust_policy, MAX_TRUST_POLICY)?;
        if description.chars().count() > MAX_ROLE_DESCRIPTION
            || description.chars().any(char::is_control)
        {
            return Err(AwsError::InvalidInput(format!(
                "{}: `description` must be at most {MAX_ROLE_DESCRIPTION} characters without control characters",
                CREATE_ROLE.name
            ))
            .into());
        }
        let resource = name.clone();
        let trust = trust_policy.clone();
        let created: Option<Role> = self
            .call(CREATE_ROLE, Some(&resource), |aws| async move {
                let out = iam(&aws)
                    .create_role()
                    .role_name(name)
                    .path("/")
                    .assume_role_policy_document(trust_policy)
                    .set_description((!description.is_empty()).then_some(description))
                    .send()
                    .await
                    .map_err(map_sdk_error)?;
                Ok(out.role().map(role))
            })
            .await?;
        match created {
            Some(created) => Ok(created),
            // Plan mode: the role would be created at path `/` with the trust policy given.
            None if self.mode == Mode::Plan => Ok(Role {
                arn: self.scope.arn_of(&IAM_ROLE, &resource),
                name: resource,
                path: "/".into(),
                assume_role_policy_document: trust,
            }),
            None => Err(AwsError::Service("CreateRole returned no role".into()).into()),
        }
    }

    async fn put_role_policy(
        &mut self,
        role_name_: String,
        policy_name: String,
        policy: String,
    ) -> Result<(), CallError> {
        self.enter(const { function("iam.put-role-policy") })?;
        role_name(PUT_ROLE_POLICY, "role-name", &role_name_)?;
        inline_policy_name(PUT_ROLE_POLICY, &policy_name)?;
        json_document(PUT_ROLE_POLICY, "policy", &policy, MAX_INLINE_ROLE_POLICY)?;
        let resource = role_name_.clone();
        self.call(PUT_ROLE_POLICY, Some(&resource), |aws| async move {
            iam(&aws)
                .put_role_policy()
                .role_name(role_name_)
                .policy_name(policy_name)
                .policy_document(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn create_service_linked_role(&mut self, service: String) -> Result<Role, CallError> {
        self.enter(const { function("iam.create-service-linked-role") })?;
        let valid = service.len() <= 128
            && service.strip_suffix(".amazonaws.com").is_some_and(|s| {
                !s.is_empty()
                    && s.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-')
                    })
            });
        if !valid {
            return Err(AwsError::InvalidInput(format!(
                "{}: `service` must be a service principal such as `config.amazonaws.com`, not {service:?}",
                CREATE_SERVICE_LINKED_ROLE.name
            ))
            .into());
        }
        let resource = service.clone();
        let made: Option<Role> = self
            .call(
                CREATE_SERVICE_LINKED_ROLE,
                Some(&resource),
                |aws| async move {
                    let client = iam(&aws);
                    match client
                        .create_service_linked_role()
                        .aws_service_name(service)
                        .send()
                        .await
                    {
                        Ok(out) => Ok(out.role().map(role)),
                        // IAM answers a role that exists with InvalidInput "Service role name
                        // NAME has been taken in this account": return that role.
                        Err(e) => match taken_role_name(e.message()) {
                            Some(name) if e.code() == Some("InvalidInput") => {
                                let out = client
                                    .get_role()
                                    .role_name(name)
                                    .send()
                                    .await
                                    .map_err(map_sdk_error)?;
                                Ok(out.role().map(role))
                            }
                            _ => Err(map_sdk_error(e)),
                        },
                    }
                },
            )
            .await?;
        match made {
            Some(made) => Ok(made),
            // Plan mode: the role's name is the service's to choose; only its path is known.
            None if self.mode == Mode::Plan => Ok(Role {
                name: String::new(),
                arn: String::new(),
                path: format!("/aws-service-role/{resource}/"),
                assume_role_policy_document: String::new(),
            }),
            None => {
                Err(AwsError::Service("CreateServiceLinkedRole returned no role".into()).into())
            }
        }
    }

    async fn list_users(&mut self) -> Result<Vec<User>, CallError> {
        self.enter(const { function("iam.list-users") })?;
        self.call(LIST_USERS, None, |aws| async move {
            let client = iam(&aws);
            let mut users = Vec::new();
            let mut marker: Option<String> = None;
            loop {
                let out = client
                    .list_users()
                    .set_marker(marker.take())
                    .send()
                    .await
                    .map_err(map_sdk_error)?;
                users.extend(out.users.iter().map(|u| User {
                    name: u.user_name.clone(),
                    arn: u.arn.clone(),
                    path: u.path.clone(),
                    created: u.create_date.secs(),
                    password_last_used: u.password_last_used.map(|d| d.secs()),
                }));
                if users.len() > MAX_USERS {
                    return Err(AwsError::Service(format!(
                        "the account has more than {MAX_USERS} IAM users"
                    )));
                }
                match out.marker {
                    Some(next) if out.is_truncated && !next.is_empty() => marker = Some(next),
                    _ => return Ok(users),
                }
            }
        })
        .await
    }

    async fn list_access_keys(&mut self, user_name_: String) -> Result<Vec<AccessKey>, CallError> {
        self.enter(const { function("iam.list-access-keys") })?;
        user_name(LIST_ACCESS_KEYS, &user_name_)?;
        let resource = user_name_.clone();
        self.call(LIST_ACCESS_KEYS, Some(&resource), |aws| async move {
            let client = iam(&aws);
            let mut keys = Vec::new();
            let mut marker: Option<String> = None;
            loop {
                let out = client
                    .list_access_keys()
                    .user_name(&user_name_)
                    .set_marker(marker.take())
                    .send()
                    .await
                    .map_err(map_sdk_error)?;
                keys.extend(out.access_key_metadata.iter().filter_map(|k| {
                    Some(AccessKey {
                        id: k.access_key_id.clone()?,
                        status: k
                            .status
                            .as_ref()
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_default(),
                        created: k.create_date.map(|d| d.secs()).unwrap_or_default(),
                    })
                }));
                if keys.len() > MAX_ACCESS_KEYS {
                    return Err(AwsError::Service(format!(
                        "user {user_name_} has more than {MAX_ACCESS_KEYS} access keys"
                    )));
                }
                match out.marker {
                    Some(next) if out.is_truncated && !next.is_empty() => marker = Some(next),
                    _ => return Ok(keys),
                }
            }
        })
        .await
    }

    async fn get_access_key_last_used(&mut self, id: String) -> Result<Option<i64>, CallError> {
        self.enter(const { function("iam.get-access-key-last-used") })?;
        access_key_id(GET_ACCESS_KEY_LAST_USED, &id)?;
        let resource = id.clone();
        self.call(
            GET_ACCESS_KEY_LAST_USED,
            Some(&resource),
            |aws| async move {
                let out = iam(&aws)
                    .get_access_key_last_used()
                    .access_key_id(id)
                    .send()
                    .await
                    .map_err(map_sdk_error)?;
                Ok(out
                    .access_key_last_used
                    .and_then(|u| u.last_used_date)
                    .map(|d| d.secs()))
            },
        )
        .await
    }

    async fn update_access_key(
        &mut self,
        user_name_: String,
        id: String,
        status: String,
    ) -> Result<(), CallError> {
        self.enter(const { function("iam.update-access-key") })?;
        user_name(UPDATE_ACCESS_KEY, &user_name_)?;
        access_key_id(UPDATE_ACCESS_KEY, &id)?;
        let status = match status.as_str() {
            "Active" => aws_sdk_iam::types::StatusType::Active,
            "Inactive" => aws_sdk_iam::types::StatusType::Inactive,
            _ => {
                return Err(AwsError::InvalidInput(format!(
                    "{}: `status` must be `Active` or `Inactive`, not {status:?}",
                    UPDATE_ACCESS_KEY.name
                ))
                .into());
            }
        };
        let resource = user_name_.clone();
        self.call(UPDATE_ACCESS_KEY, Some(&resource), |aws| async move {
            iam(&aws)
                .update_access_key()
                .user_name(user_name_)
                .access_key_id(id)
                .status(status)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn get_login_profile(&mut self, user_name_: String) -> Result<Option<i64>, CallError> {
        self.enter(const { function("iam.get-login-profile") })?;
        user_name(GET_LOGIN_PROFILE, &user_name_)?;
        let resource = user_name_.clone();
        self.call(GET_LOGIN_PROFILE, Some(&resource), |aws| async move {
            match iam(&aws)
                .get_login_profile()
                .user_name(user_name_)
                .send()
                .await
            {
                Ok(out) => Ok(out.login_profile.map(|p| p.create_date.secs())),
                // IAM answers NoSuchEntity both for a user without a password ("Login Profile
                // for User NAME cannot be found") and for a user that does not exist ("The
                // user with name NAME cannot be found"): only the first is `none`.
                Err(e) if no_login_profile(e.code(), e.message()) => Ok(None),
                Err(e) => Err(map_sdk_error(e)),
            }
        })
        .await
    }

    async fn delete_login_profile(&mut self, user_name_: String) -> Result<(), CallError> {
        self.enter(const { function("iam.delete-login-profile") })?;
        user_name(DELETE_LOGIN_PROFILE, &user_name_)?;
        let resource = user_name_.clone();
        self.call(DELETE_LOGIN_PROFILE, Some(&resource), |aws| async move {
            iam(&aws)
                .delete_login_profile()
                .user_name(user_name_)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn attach_role_policy(
        &mut self,
        role_name_: String,
        policy_arn_: String,
    ) -> Result<(), CallError> {
        self.enter(const { function("iam.attach-role-policy") })?;
        role_name(ATTACH_ROLE_POLICY, "role-name", &role_name_)?;
        self.check_policy_arn(ATTACH_ROLE_POLICY, &policy_arn_)?;
        let resource = role_name_.clone();
        self.call(ATTACH_ROLE_POLICY, Some(&resource), |aws| async move {
            iam(&aws)
                .attach_role_policy()
                .role_name(role_name_)
                .policy_arn(policy_arn_)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn detach_role_policy(
        &mut self,
        role_name_: String,
        policy_arn_: String,
    ) -> Result<(), CallError> {
        self.enter(const { function("iam.detach-role-policy") })?;
        role_name(DETACH_ROLE_POLICY, "role-name", &role_name_)?;
        self.check_policy_arn(DETACH_ROLE_POLICY, &policy_arn_)?;
        let resource = role_name_.clone();
        self.call(DETACH_ROLE_POLICY, Some(&resource), |aws| async move {
            iam(&aws)
                .detach_role_policy()
                .role_name(role_name_)
                .policy_arn(policy_arn_)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn detach_user_policy(
        &mut self,
        user_name_: String,
        policy_arn_: String,
    ) -> Result<(), CallError> {
        self.enter(const { function("iam.detach-user-policy") })?;
        user_name(DETACH_USER_POLICY, &user_name_)?;
        self.check_policy_arn(DETACH_USER_POLICY, &policy_arn_)?;
        let resource = user_name_.clone();
        self.call(DETACH_USER_POLICY, Some(&resource), |aws| async move {
            iam(&aws)
                .detach_user_policy()
                .user_name(user_name_)
                .policy_arn(policy_arn_)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn detach_group_policy(
        &mut self,
        group_name_: String,
        policy_arn_: String,
    ) -> Result<(), CallError> {
        self.enter(const { function("iam.detach-group-policy") })?;
        iam_name(DETACH_GROUP_POLICY, "group-name", GROUP, &group_name_)?;
        self.check_policy_arn(DETACH_GROUP_POLICY, &policy_arn_)?;
        let resource = group_name_.clone();
        self.call(DETACH_GROUP_POLICY, Some(&resource), |aws| async move {
            iam(&aws)
                .detach_group_policy()
                .group_name(group_name_)
                .policy_arn(policy_arn_)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn list_entities_for_policy(
        &mut self,
        policy_arn_: String,
    ) -> Result<PolicyEntities, CallError> {
        self.enter(const { function("iam.list-entities-for-policy") })?;
        self.check_policy_arn(LIST_ENTITIES_FOR_POLICY, &policy_arn_)?;
        let resource = policy_arn_.clone();
        let (users, groups, roles) = self
            .call(LIST_ENTITIES_FOR_POLICY, Some(&resource), |aws| async move {
            let client = iam(&aws);
            let mut entities = (Vec::new(), Vec::new(), Vec::new());
            let mut marker: Option<String> = None;
            loop {
                let out = client
                    .list_entities_for_policy()
                    .policy_arn(&policy_arn_)
                    .set_marker(marker.take())
                    .send()
                    .await
                    .map_err(map_sdk_error)?;
                entities
                    .0
                    .extend(out.policy_users().iter().filter_map(|u| u.user_name.clone()));
                entities
                    .1
                    .extend(out.policy_groups().iter().filter_map(|g| g.group_name.clone()));
                entities
                    .2
                    .extend(out.policy_roles().iter().filter_map(|r| r.role_name.clone()));
                let n = entities.0.len() + entities.1.len() + entities.2.len();
                if n > MAX_POLICY_ENTITIES {
                    return Err(AwsError::Service(format!(
                        "policy {policy_arn_} is attached to more than {MAX_POLICY_ENTITIES} users, groups and roles"
                    )));
                }
                match out.marker {
                    Some(next) if out.is_truncated && !next.is_empty() => marker = Some(next),
                    _ => return Ok(entities),
                }
            }
        })
        .await?;
        Ok(PolicyEntities {
            users,
            groups,
            roles,
        })
    }

    async fn list_server_certificates(&mut self) -> Result<Vec<ServerCertificate>, CallError> {
        self.enter(const { function("iam.list-server-certificates") })?;
        self.call(LIST_SERVER_CERTIFICATES, None, |aws| async move {
            let client = iam(&aws);
            let mut certificates = Vec::new();
            let mut marker: Option<String> = None;
            loop {
                let out = client
                    .list_server_certificates()
                    .set_marker(marker.take())
                    .send()
                    .await
                    .map_err(map_sdk_error)?;
                certificates.extend(out.server_certificate_metadata_list.iter().map(|c| {
                    ServerCertificate {
                        name: c.server_certificate_name.clone(),
                        arn: c.arn.clone(),
                        path: c.path.clone(),
                        expiration: c.expiration.map(|d| d.secs()),
                    }
                }));
                if certificates.len() > MAX_SERVER_CERTIFICATES {
                    return Err(AwsError::Service(format!(
                        "the account has more than {MAX_SERVER_CERTIFICATES} server certificates"
                    )));
                }
                match out.marker {
                    Some(next) if out.is_truncated && !next.is_empty() => marker = Some(next),
                    _ => return Ok(certificates),
                }
            }
        })
        .await
    }

    async fn delete_server_certificate(&mut self, name: String) -> Result<bool, CallError> {
        self.enter(const { function("iam.delete-server-certificate") })?;
        iam_name(DELETE_SERVER_CERTIFICATE, "name", CERTIFICATE, &name)?;
        let resource = name.clone();
        let deleted = self
            .call(
                DELETE_SERVER_CERTIFICATE,
                Some(&resource),
                |aws| async move {
                    match iam(&aws)
                        .delete_server_certificate()
                        .server_certificate_name(name)
                        .send()
                        .await
                    {
                        Ok(_) => Ok(true),
                        // Still referenced by a load balancer or distribution: kept, not an error.
                        Err(e) if e.code() == Some("DeleteConflict") => Ok(false),
                        Err(e) => Err(map_sdk_error(e)),
                    }
                },
            )
            .await?;
        // Plan mode answers the default (`false`) without asking IAM: it would be deleted.
        Ok(deleted || self.mode == Mode::Plan)
    }

    async fn list_attached_user_policies(
        &mut self,
        user_name_: String,
    ) -> Result<Vec<String>, CallError> {
        self.enter(const { function("iam.list-attached-user-policies") })?;
        user_name(LIST_ATTACHED_USER_POLICIES, &user_name_)?;
        let resource = user_name_.clone();
        self.call(
            LIST_ATTACHED_USER_POLICIES,
            Some(&resource),
            |aws| async move {
                let pages = iam(&aws)
                    .list_attached_user_policies()
                    .user_name(user_name_)
                    .into_paginator()
                    .send();
                let mut arns = Vec::new();
                read_pages(
                    pages,
                    MAX_USER_POLICY_PAGES,
                    "attached policies",
                    map_sdk_error,
                    |page| {
                        arns.extend(
                            page.attached_policies()
                                .iter()
                                .filter_map(|p| p.policy_arn.clone()),
                        )
                    },
                )
                .await?;
                Ok(arns)
            },
        )
        .await
    }

    async fn list_user_policies(&mut self, user_name_: String) -> Result<Vec<String>, CallError> {
        self.enter(const { function("iam.list-user-policies") })?;
        user_name(LIST_USER_POLICIES, &user_name_)?;
        let resource = user_name_.clone();
        self.call(LIST_USER_POLICIES, Some(&resource), |aws| async move {
            let pages = iam(&aws)
                .list_user_policies()
                .user_name(user_name_)
                .into_paginator()
                .send();
            let mut names = Vec::new();
            read_pages(
                pages,
                MAX_USER_POLICY_PAGES,
                "inline policies",
                map_sdk_error,
                |page| names.extend(page.policy_names),
            )
            .await?;
            Ok(names)
        })
        .await
    }

    async fn get_user_policy(
        &mut self,
        user_name_: String,
        policy_name: String,
    ) -> Result<String, CallError> {
        self.enter(const { function("iam.get-user-policy") })?;
        user_name(GET_USER_POLICY, &user_name_)?;
        inline_policy_name(GET_USER_POLICY, &policy_name)?;
        let resource = user_name_.clone();
        let document = self
            .call(GET_USER_POLICY, Some(&resource), |aws| async move {
                let out = iam(&aws)
                    .get_user_policy()
                    .user_name(user_name_)
                    .policy_name(policy_name)
                    .send()
                    .await
                    .map_err(map_sdk_error)?;
                Ok(url_decode(&out.policy_document))
            })
            .await?;
        // What IAM answers is bounded like what a plugin sends: an oversized document is
        // an error, never a large string handed on.
        if document.len() > MAX_INLINE_ROLE_POLICY {
            return Err(AwsError::Service(format!(
                "GetUserPolicy: the policy document is {} bytes, more than {MAX_INLINE_ROLE_POLICY}",
                document.len()
            ))
            .into());
        }
        Ok(document)
    }

    async fn delete_user_policy(
        &mut self,
        user_name_: String,
        policy_name: String,
    ) -> Result<(), CallError> {
        self.enter(const { function("iam.delete-user-policy") })?;
        user_name(DELETE_USER_POLICY, &user_name_)?;
        inline_policy_name(DELETE_USER_POLICY, &policy_name)?;
        let resource = user_name_.clone();
        self.call(DELETE_USER_POLICY, Some(&resource), |aws| async move {
            iam(&aws)
                .delete_user_policy()
                .user_name(user_name_)
                .policy_name(policy_name)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn get_group(&mut self, name: String) -> Result<Group, CallError> {
        self.enter(const { function("iam.get-group") })?;
        group_name(GET_GROUP, "name", &name)?;
        let resource = name.clone();
        let found: Option<Group> = self
            .call(GET_GROUP, Some(&resource), |aws| async move {
                let out = iam(&aws)
                    .get_group()
                    .group_name(name)
                    .max_items(1)
                    .send()
                    .await
                    .map_err(map_sdk_error)?;
                Ok(out.group().map(group))
            })
            .await?;
        found.ok_or_else(|| {
            AwsError::Service(format!("GetGroup: no group in the answer for {resource}")).into()
        })
    }

    async fn create_group(&mut self, name: String) -> Result<Group, CallError> {
        self.enter(const { function("iam.create-group") })?;
        group_name(CREATE_GROUP, "name", &name)?;
        let resource = name.clone();
        let created: Option<Group> = self
            .call(CREATE_GROUP, Some(&resource), |aws| async move {
                let out = iam(&aws)
                    .create_group()
                    .group_name(name)
                    .path("/")
                    .send()
                    .await
                    .map_err(map_sdk_error)?;
                Ok(out.group().map(group))
            })
            .await?;
        match created {
            Some(created) => Ok(created),
            // Plan mode: the group would be created at path `/`.
            None if self.mode == Mode::Plan => Ok(Group {
                arn: self.scope.arn_of(&IAM_GROUP, &resource),
                name: resource,
                path: "/".into(),
            }),
            None => Err(AwsError::Service("CreateGroup returned no group".into()).into()),
        }
    }

    async fn attach_group_policy(
        &mut self,
        group_name_: String,
        policy_arn_: String,
    ) -> Result<(), CallError> {
        self.enter(const { function("iam.attach-group-policy") })?;
        group_name(ATTACH_GROUP_POLICY, "group-name", &group_name_)?;
        self.check_policy_arn(ATTACH_GROUP_POLICY, &policy_arn_)?;
        let resource = group_name_.clone();
        self.call(ATTACH_GROUP_POLICY, Some(&resource), |aws| async move {
            iam(&aws)
                .attach_group_policy()
                .group_name(group_name_)
                .policy_arn(policy_arn_)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn put_group_policy(
        &mut self,
        group_name_: String,
        policy_name: String,
        policy: String,
    ) -> Result<(), CallError> {
        self.enter(const { function("iam.put-group-policy") })?;
        group_name(PUT_GROUP_POLICY, "group-name", &group_name_)?;
        inline_policy_name(PUT_GROUP_POLICY, &policy_name)?;
        json_document(PUT_GROUP_POLICY, "policy", &policy, MAX_INLINE_GROUP_POLICY)?;
        let resource = group_name_.clone();
        self.call(PUT_GROUP_POLICY, Some(&resource), |aws| async move {
            iam(&aws)
                .put_group_policy()
                .group_name(group_name_)
                .policy_name(policy_name)
                .policy_document(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn add_user_to_group(
        &mut self,
        group_name_: String,
        user_name_: String,
    ) -> Result<(), CallError> {
        self.enter(const { function("iam.add-user-to-group") })?;
        group_name(ADD_USER_TO_GROUP, "group-name", &group_name_)?;
        user_name(ADD_USER_TO_GROUP, &user_name_)?;
        // The group is the call's target (checked by `call`); the member must be the
        // finding's own user, so no other user gains the group's permissions.
        if !self.scope.names(&IAM_USER, &user_name_) {
            let reason = format!(
                "{} may add only a user the finding names, not {user_name_}",
                ADD_USER_TO_GROUP.name
            );
            return Err(self.deny(ADD_USER_TO_GROUP, Some(&group_name_), reason));
        }
        let resource = group_name_.clone();
        self.call(ADD_USER_TO_GROUP, Some(&resource), |aws| async move {
            iam(&aws)
                .add_user_to_group()
                .group_name(group_name_)
                .user_name(user_name_)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn generate_credential_report(&mut self) -> Result<bool, CallError> {
        self.enter(const { function("iam.generate-credential-report") })?;
        self.call(GENERATE_CREDENTIAL_REPORT, None, |aws| async move {
            let out = iam(&aws)
                .generate_credential_report()
                .send()
                .await
                .map_err(map_sdk_error)?;
            Ok(out.state == Some(ReportStateType::Complete))
        })
        .await
    }

    async fn get_credential_report(
        &mut self,
    ) -> Result<Option<Vec<CredentialReportRow>>, CallError> {
        self.enter(const { function("iam.get-credential-report") })?;
        self.call(GET_CREDENTIAL_REPORT, None, |aws| async move {
            let out = match iam(&aws).get_credential_report().send().await {
                Ok(out) => out,
                // No current report: not generated yet, expired, or being generated.
                Err(e)
                    if matches!(
                        e.code(),
                        Some("ReportNotPresent" | "ReportExpired" | "ReportInProgress")
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(map_sdk_error(e)),
            };
            let content = out.content.map(|b| b.into_inner()).unwrap_or_default();
            parse_credential_report(&content).map(Some)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::aws::mock_tests::mock_ctx;

    use aws_sdk_iam::operation::add_user_to_group::AddUserToGroupOutput;
    use aws_sdk_iam::operation::attach_group_policy::AttachGroupPolicyOutput;
    use aws_sdk_iam::operation::attach_role_policy::AttachRolePolicyOutput;
    use aws_sdk_iam::operation::create_group::CreateGroupOutput;
    use aws_sdk_iam::operation::create_role::CreateRoleOutput;
    use aws_sdk_iam::operation::create_service_linked_role::{
        CreateServiceLinkedRoleError, CreateServiceLinkedRoleOutput,
    };
    use aws_sdk_iam::operation::delete_login_profile::DeleteLoginProfileOutput;
    use aws_sdk_iam::operation::delete_server_certificate::{
        DeleteServerCertificateError, DeleteServerCertificateOutput,
    };
    use aws_sdk_iam::operation::delete_user_policy::DeleteUserPolicyOutput;
    use aws_sdk_iam::operation::detach_group_policy::DetachGroupPolicyOutput;
    use aws_sdk_iam::operation::detach_role_policy::DetachRolePolicyOutput;
    use aws_sdk_iam::operation::detach_user_policy::DetachUserPolicyOutput;
    use aws_sdk_iam::operation::generate_credential_report::GenerateCredentialReportOutput;
    use aws_sdk_iam::operation::get_access_key_last_used::GetAccessKeyLastUsedOutput;
    use aws_sdk_iam::operation::get_credential_report::{
        GetCredentialReportError, GetCredentialReportOutput,
    };
    use aws_sdk_iam::operation::get_group::GetGroupError;
    use aws_sdk_iam::operation::get_login_profile::{GetLoginProfileError, GetLoginProfileOutput};
    use aws_sdk_iam::operation::get_role::{GetRoleError, GetRoleOutput};
    use aws_sdk_iam::operation::get_user_policy::GetUserPolicyOutput;
    use aws_sdk_iam::operation::list_access_keys::{ListAccessKeysError, ListAccessKeysOutput};
    use aws_sdk_iam::operation::list_attached_user_policies::ListAttachedUserPoliciesOutput;
    use aws_sdk_iam::operation::list_entities_for_policy::ListEntitiesForPolicyOutput;
    use aws_sdk_iam::operation::list_server_certificates::ListServerCertificatesOutput;
    use aws_sdk_iam::operation::list_user_policies::ListUserPoliciesOutput;
    use aws_sdk_iam::operation::list_users::ListUsersOutput;
    use aws_sdk_iam::operation::put_group_policy::PutGroupPolicyOutput;
    use aws_sdk_iam::operation::put_role_policy::PutRolePolicyOutput;
    use aws_sdk_iam::operation::update_access_key::UpdateAccessKeyOutput;
    use aws_sdk_iam::types::error::{DeleteConflictException, NoSuchEntityException};
    use aws_sdk_iam::types::{AccessKeyLastUsed, AccessKeyMetadata, LoginProfile, StatusType};
    use aws_sdk_iam::types::{AttachedPolicy, ReportFormatType};
    use aws_sdk_iam::types::{PolicyGroup, PolicyRole, PolicyUser, ServerCertificateMetadata};
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_mocks::{Rule, RuleMode, mock, mock_client};

    use serde_json::json;

    use super::*;

    use crate::outcome::CallResult;

    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    fn ctx(resource: serde_json::Value, rules: &[&Rule], mode: Mode) -> PluginCtx {
        mock_ctx(
            "us-east-1",
            json!([resource]),
            mock_client!(aws_sdk_iam, RuleMode::MatchAny, rules),
            &[
                "iam.get-role",
                "iam.create-role",
                "iam.put-role-policy",
                "iam.create-service-linked-role",
                "iam.list-users",
                "iam.list-access-keys",
                "iam.get-access-key-last-used",
                "iam.update-access-key",
                "iam.get-login-profile",
                "iam.delete-login-profile",
                "iam.attach-role-policy",
                "iam.detach-role-policy",
                "iam.detach-user-policy",
                "iam.detach-group-policy",
                "iam.list-entities-for-policy",
                "iam.list-server-certificates",
                "iam.delete-server-certificate",
                "iam.list-attached-user-policies",
                "iam.list-user-policies",
                "iam.get-user-policy",
                "iam.delete-user-policy",
                "iam.get-group",
                "iam.create-group",
                "iam.attach-group-policy",
                "iam.put-group-policy",
                "iam.add-user-to-group",
                "iam.generate-credential-report",
                "iam.get-credential-report",
            ],
            mode,
            30,
        )
    }

    fn trail() -> serde_json::Value {
        json!({"Type": "AwsCloudTrailTrail", "Id": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t"})
    }

    fn account() -> serde_json::Value {
        json!({"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"})
    }

    fn sdk_role(name: &str, path: &str, document: &str) -> aws_sdk_iam::types::Role {
        aws_sdk_iam::types::Role::builder()
            .role_name(name)
            .role_id("AROA1")
            .path(path)
            .arn(format!("arn:aws:iam::111111111111:role{path}{name}"))
            .create_date(aws_smithy_types::DateTime::from_secs(0))
            .assume_role_policy_document(document)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn get_role_decodes_the_trust_policy_and_a_missing_role_is_not_found() {
        let found = mock!(aws_sdk_iam::Client::get_role)
            .match_requests(|r| r.role_name() == Some("delivery"))
            .then_output(|| {
                GetRoleOutput::builder()
                    .role(sdk_role(
                        "delivery",
                        "/",
                        "%7B%22Version%22%3A%222012-10-17%22%7D",
                    ))
                    .build()
            });
        let missing = mock!(aws_sdk_iam::Client::get_role)
            .match_requests(|r| r.role_name() == Some("gone"))
            .then_error(|| {
                GetRoleError::NoSuchEntityException(
                    NoSuchEntityException::builder()
                        .message("no role")
                        .meta(
                            ErrorMetadata::builder()
                                .code("NoSuchEntity")
                                .message("no role")
                                .build(),
                        )
                        .build(),
                )
            });
        let mut ctx = ctx(trail(), &[&found, &missing], Mode::Apply);
        let role = ctx.get_role("delivery".into()).await.unwrap();
        assert_eq!(
            role,
            Role {
                name: "delivery".into(),
                arn: "arn:aws:iam::111111111111:role/delivery".into(),
                path: "/".into(),
                assume_role_policy_document: r#"{"Version":"2012-10-17"}"#.into(),
            }
        );
        let err = ctx.get_role("gone".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(_))),
            "{err:?}"
        );
        let err = ctx.get_role("a/b".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`name`"))
        );
        assert_eq!((found.num_calls(), missing.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn create_role_then_its_inline_policy_and_nothing_outside_the_prefix() {
        let create = mock!(aws_sdk_iam::Client::create_role)
            .match_requests(|r| {
                r.role_name() == Some("hubfix-logs")
                    && r.path() == Some("/")
                    && r.assume_role_policy_document() == Some(TRUST)
                    && r.description() == Some("delivers")
            })
            .then_output(|| {
                CreateRoleOutput::builder()
                    .role(sdk_role("hubfix-logs", "/", "%7B%7D"))
                    .build()
            });
        let put = mock!(aws_sdk_iam::Client::put_role_policy)
            .match_requests(|r| {
                r.role_name() == Some("hubfix-logs")
                    && r.policy_name() == Some("deliver")
                    && r.policy_document() == Some(TRUST)
            })
            .then_output(|| PutRolePolicyOutput::builder().build());
        let mut ctx = ctx(trail(), &[&create, &put], Mode::Apply);
        // Not created yet: out of scope.
        let err = ctx
            .put_role_policy("hubfix-logs".into(), "deliver".into(), TRUST.into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
        let err = ctx
            .create_role("admin".into(), TRUST.into(), String::new())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("hubfix-"))
        );
        let role = ctx
            .create_role("hubfix-logs".into(), TRUST.into(), "delivers".into())
            .await
            .unwrap();
        assert_eq!(role.arn, "arn:aws:iam::111111111111:role/hubfix-logs");
        ctx.put_role_policy("hubfix-logs".into(), "deliver".into(), TRUST.into())
            .await
            .unwrap();
        // Another role, a bad document, a bad name: never reach IAM.
        let err = ctx
            .put_role_policy("prod".into(), "deliver".into(), TRUST.into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
        let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(MAX_INLINE_ROLE_POLICY));
        for (policy_name, policy, field) in [
            ("deliver", "{", "`policy`"),
            ("deliver", "\"text\"", "`policy`"),
            ("deliver", big.as_str(), "`policy`"),
            ("", TRUST, "`policy-name`"),
            ("a b", TRUST, "`policy-name`"),
        ] {
            let err = ctx
                .put_role_policy("hubfix-logs".into(), policy_name.into(), policy.into())
                .await
                .unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains(field)),
                "{err:?}"
            );
        }
        let err = ctx
            .create_role("hubfix-x".into(), "[]".into(), String::new())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`trust-policy`"))
        );
        assert_eq!((create.num_calls(), put.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_planned_create_role_answers_the_role_it_would_make() {
        let create = mock!(aws_sdk_iam::Client::create_role)
            .then_output(|| CreateRoleOutput::builder().build());
        let put = mock!(aws_sdk_iam::Client::put_role_policy)
            .then_output(|| PutRolePolicyOutput::builder().build());
        let mut ctx = ctx(trail(), &[&create, &put], Mode::Plan);
        let role = ctx
            .create_role("hubfix-logs".into(), TRUST.into(), String::new())
            .await
            .unwrap();
        assert_eq!(role.arn, "arn:aws:iam::111111111111:role/hubfix-logs");
        assert_eq!(role.assume_role_policy_document, TRUST);
        ctx.put_role_policy("hubfix-logs".into(), "deliver".into(), TRUST.into())
            .await
            .unwrap();
        assert_eq!((create.num_calls(), put.num_calls()), (0, 0));
        let results: Vec<_> = ctx.into_trail().calls.iter().map(|c| c.result).collect();
        assert_eq!(results, [CallResult::Planned, CallResult::Planned]);
    }

    #[tokio::test]
    async fn a_service_linked_role_that_exists_is_returned_and_needs_the_account() {
        let taken = mock!(aws_sdk_iam::Client::create_service_linked_role)
            .match_requests(|r| r.aws_service_name() == Some("config.amazonaws.com"))
            .then_error(|| {
                CreateServiceLinkedRoleError::generic(
                    ErrorMetadata::builder()
                        .code("InvalidInput")
                        .message("Service role name AWSServiceRoleForConfig has been taken in this account, please try a different suffix.")
                        .build(),
                )
            });
        let get = mock!(aws_sdk_iam::Client::get_role)
            .match_requests(|r| r.role_name() == Some("AWSServiceRoleForConfig"))
            .then_output(|| {
                GetRoleOutput::builder()
                    .role(sdk_role(
                        "AWSServiceRoleForConfig",
                        "/aws-service-role/config.amazonaws.com/",
                        "%7B%7D",
                    ))
                    .build()
            });
        let mut ctx = ctx(account(), &[&taken, &get], Mode::Apply);
        let role = ctx
            .create_service_linked_role("config.amazonaws.com".into())
            .await
            .unwrap();
        assert_eq!(
            role.arn,
            "arn:aws:iam::111111111111:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
        );
        assert_eq!((taken.num_calls(), get.num_calls()), (1, 1));
        for bad in ["config", "x.amazonaws.com/../", "CONFIG.amazonaws.com"] {
            let err = ctx
                .create_service_linked_role(bad.into())
                .await
                .unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`service`"))
            );
        }
        assert_eq!(taken.num_calls(), 1);

        // A finding about a trail does not name the account: the call never reaches IAM.
        let created = mock!(aws_sdk_iam::Client::create_service_linked_role).then_output(|| {
            CreateServiceLinkedRoleOutput::builder()
                .role(sdk_role(
                    "AWSServiceRoleForConfig",
                    "/aws-service-role/config.amazonaws.com/",
                    "%7B%7D",
                ))
                .build()
        });
        let mut other = ctx_with(trail(), &created);
        let err = other
            .create_service_linked_role("config.amazonaws.com".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("account-wide"))
        );
        assert_eq!(created.num_calls(), 0);
    }

    const KEY: &str = "AKIAIOSFODNN7EXAMPLE";

    fn user_at_path() -> serde_json::Value {
        json!({"Type": "AwsIamUser", "Id": "arn:aws:iam::111111111111:user/contractors/alice"})
    }

    fn sdk_user(name: &str, page: i64) -> aws_sdk_iam::types::User {
        aws_sdk_iam::types::User::builder()
            .user_name(name)
            .user_id("AIDA1")
            .path("/")
            .arn(format!("arn:aws:iam::111111111111:user/{name}"))
            .create_date(aws_smithy_types::DateTime::from_secs(page))
            .set_password_last_used(
                (page > 1).then(|| aws_smithy_types::DateTime::from_secs(page * 10)),
            )
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn list_users_follows_the_markers() {
        let first = mock!(aws_sdk_iam::Client::list_users)
            .match_requests(|r| r.marker().is_none())
            .then_output(|| {
                ListUsersOutput::builder()
                    .users(sdk_user("alice", 1))
                    .is_truncated(true)
                    .marker("m1")
                    .build()
                    .unwrap()
            });
        let second = mock!(aws_sdk_iam::Client::list_users)
            .match_requests(|r| r.marker() == Some("m1"))
            .then_output(|| {
                ListUsersOutput::builder()
                    .users(sdk_user("bob", 2))
                    .is_truncated(false)
                    .build()
                    .unwrap()
            });
        let mut ctx = ctx(user_at_path(), &[&first, &second], Mode::Apply);
        let users = ctx.list_users().await.unwrap();
        assert_eq!(
            users,
            [
                User {
                    name: "alice".into(),
                    arn: "arn:aws:iam::111111111111:user/alice".into(),
                    path: "/".into(),
                    created: 1,
                    password_last_used: None,
                },
                User {
                    name: "bob".into(),
                    arn: "arn:aws:iam::111111111111:user/bob".into(),
                    path: "/".into(),
                    created: 2,
                    password_last_used: Some(20),
                },
            ]
        );
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn access_keys_are_listed_with_their_last_use_and_bad_ids_never_reach_iam() {
        let list = mock!(aws_sdk_iam::Client::list_access_keys)
            .match_requests(|r| r.user_name() == Some("alice"))
            .then_output(|| {
                ListAccessKeysOutput::builder()
                    .access_key_metadata(
                        AccessKeyMetadata::builder()
                            .user_name("alice")
                            .access_key_id(KEY)
                            .status(StatusType::Active)
                            .create_date(aws_smithy_types::DateTime::from_secs(100))
                            .build(),
                    )
                    .build()
                    .unwrap()
            });
        let used = mock!(aws_sdk_iam::Client::get_access_key_last_used)
            .match_requests(|r| {
                r.access_key_id()
                    .is_some_and(|k| k == KEY || k == "ASIAIOSFODNN7EXAMPLE")
            })
            .then_output(|| {
                GetAccessKeyLastUsedOutput::builder()
                    .user_name("alice")
                    .access_key_last_used(
                        AccessKeyLastUsed::builder()
                            .last_used_date(aws_smithy_types::DateTime::from_secs(200))
                            .service_name("s3")
                            .region("us-east-1")
                            .build()
                            .unwrap(),
                    )
                    .build()
            });
        let missing = mock!(aws_sdk_iam::Client::list_access_keys)
            .match_requests(|r| r.user_name() == Some("gone"))
            .then_error(|| {
                ListAccessKeysError::NoSuchEntityException(
                    NoSuchEntityException::builder()
                        .message("The user with name gone cannot be found.")
                        .meta(ErrorMetadata::builder().code("NoSuchEntity").build())
                        .build(),
                )
            });
        let mut ctx = ctx(user_at_path(), &[&list, &used, &missing], Mode::Apply);
        let keys = ctx.list_access_keys("alice".into()).await.unwrap();
        assert_eq!(
            keys,
            [AccessKey {
                id: KEY.into(),
                status: "Active".into(),
                created: 100,
            }]
        );
        assert_eq!(
            ctx.get_access_key_last_used(KEY.into()).await.unwrap(),
            Some(200)
        );
        let err = ctx.list_access_keys("gone".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(_))),
            "{err:?}"
        );
        for bad in ["", "a/b", "a b", &"x".repeat(65)] {
            let err = ctx.list_access_keys(bad.into()).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`user-name`")),
                "{bad:?}: {err:?}"
            );
        }
        for bad in [
            "AKIA123",
            "AROAIOSFODNN7EXAMPLE",
            "akiaiosfodnn7example",
            "AKIAIOSFODNN7EXAMPL/",
            "AKIAIOSFODNN7EXAMPLEX",
        ] {
            let err = ctx.get_access_key_last_used(bad.into()).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`access-key-id`")),
                "{bad:?}: {err:?}"
            );
        }
        assert!(
            ctx.get_access_key_last_used("ASIAIOSFODNN7EXAMPLE".into())
                .await
                .is_ok()
        );
        assert_eq!(
            (list.num_calls(), used.num_calls(), missing.num_calls()),
            (1, 2, 1)
        );
    }

    #[tokio::test]
    async fn keys_are_deactivated_only_for_the_findings_user_or_the_account() {
        let update = mock!(aws_sdk_iam::Client::update_access_key)
            .match_requests(|r| {
                r.access_key_id() == Some(KEY) && r.status() == Some(&StatusType::Inactive)
            })
            .then_output(|| UpdateAccessKeyOutput::builder().build());
        // The user's ARN has a path: its name is what the call names.
        let mut ctx = ctx(user_at_path(), &[&update], Mode::Apply);
        ctx.update_access_key("alice".into(), KEY.into(), "Inactive".into())
            .await
            .unwrap();
        let err = ctx
            .update_access_key("bob".into(), KEY.into(), "Inactive".into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("bob")));
        let err = ctx
            .update_access_key("alice".into(), KEY.into(), "Disabled".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`status`"))
        );
        let err = ctx
            .update_access_key("alice".into(), "AKIA".into(), "Inactive".into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::InvalidInput(_))));
        assert_eq!(update.num_calls(), 1);

        // An account finding reaches any user; another resource type reaches none.
        let mut account_ctx = ctx_with(account(), &update);
        account_ctx
            .update_access_key("bob".into(), KEY.into(), "Inactive".into())
            .await
            .unwrap();
        let mut trail_ctx = ctx_with(trail(), &update);
        let err = trail_ctx
            .update_access_key("bob".into(), KEY.into(), "Inactive".into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
        assert_eq!(update.num_calls(), 2);
    }

    #[tokio::test]
    async fn login_profiles_are_read_and_deleted_and_a_missing_user_is_not_found() {
        let found = mock!(aws_sdk_iam::Client::get_login_profile)
            .match_requests(|r| r.user_name() == Some("alice"))
            .then_output(|| {
                GetLoginProfileOutput::builder()
                    .login_profile(
                        LoginProfile::builder()
                            .user_name("alice")
                            .create_date(aws_smithy_types::DateTime::from_secs(300))
                            .build()
                            .unwrap(),
                    )
                    .build()
            });
        let none = mock!(aws_sdk_iam::Client::get_login_profile)
            .match_requests(|r| r.user_name() == Some("bob"))
            .then_error(|| {
                GetLoginProfileError::NoSuchEntityException(
                    NoSuchEntityException::builder()
                        .message("Login Profile for User bob cannot be found.")
                        .meta(
                            ErrorMetadata::builder()
                                .code("NoSuchEntity")
                                .message("Login Profile for User bob cannot be found.")
                                .build(),
                        )
                        .build(),
                )
            });
        let gone = mock!(aws_sdk_iam::Client::get_login_profile)
            .match_requests(|r| r.user_name() == Some("gone"))
            .then_error(|| {
                GetLoginProfileError::NoSuchEntityException(
                    NoSuchEntityException::builder()
                        .message("The user with name gone cannot be found.")
                        .meta(
                            ErrorMetadata::builder()
                                .code("NoSuchEntity")
                                .message("The user with name gone cannot be found.")
                                .build(),
                        )
                        .build(),
                )
            });
        let delete = mock!(aws_sdk_iam::Client::delete_login_profile)
            .match_requests(|r| r.user_name() == Some("alice"))
            .then_output(|| DeleteLoginProfileOutput::builder().build());
        let mut ctx = ctx(
            user_at_path(),
            &[&found, &none, &gone, &delete],
            Mode::Apply,
        );
        assert_eq!(
            ctx.get_login_profile("alice".into()).await.unwrap(),
            Some(300)
        );
        assert_eq!(ctx.get_login_profile("bob".into()).await.unwrap(), None);
        let err = ctx.get_login_profile("gone".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(_))),
            "{err:?}"
        );
        ctx.delete_login_profile("alice".into()).await.unwrap();
        let err = ctx.delete_login_profile("bob".into()).await.unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
        let err = ctx.delete_login_profile("a:b".into()).await.unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::InvalidInput(_))));
        assert_eq!(delete.num_calls(), 1);

        // Plan mode records the deletion without reaching IAM.
        let mut plan = ctx_plan(user_at_path(), &delete);
        plan.delete_login_profile("alice".into()).await.unwrap();
        assert_eq!(delete.num_calls(), 1);
        let results: Vec<_> = plan.into_trail().calls.iter().map(|c| c.result).collect();
        assert_eq!(results, [CallResult::Planned]);
    }

    const SUPPORT: &str = "arn:aws:iam::aws:policy/AWSSupportAccess";

    fn error_meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(message).build()
    }

    #[tokio::test]
    async fn managed_policies_attach_to_created_roles_only_and_bad_arns_never_reach_iam() {
        let create = mock!(aws_sdk_iam::Client::create_role).then_output(|| {
            CreateRoleOutput::builder()
                .role(sdk_role("hubfix-support", "/", "%7B%7D"))
                .build()
        });
        let attach = mock!(aws_sdk_iam::Client::attach_role_policy)
            .match_requests(|r| {
                r.role_name() == Some("hubfix-support") && r.policy_arn() == Some(SUPPORT)
            })
            .then_output(|| AttachRolePolicyOutput::builder().build());
        let mut ctx = ctx(account(), &[&create, &attach], Mode::Apply);
        // Not created yet: out of scope even for an account finding.
        let err = ctx
            .attach_role_policy("hubfix-support".into(), SUPPORT.into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(_))),
            "{err:?}"
        );
        ctx.create_role("hubfix-support".into(), TRUST.into(), String::new())
            .await
            .unwrap();
        ctx.attach_role_policy("hubfix-support".into(), SUPPORT.into())
            .await
            .unwrap();
        let err = ctx
            .attach_role_policy("admin".into(), SUPPORT.into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("admin"))
        );
        let long = format!("arn:aws:iam::aws:policy/{}", "a".repeat(129));
        for bad in [
            "",
            "AWSSupportAccess",
            "arn:aws-cn:iam::aws:policy/AWSSupportAccess",
            "arn:aws:iam::222222222222:policy/Other",
            "arn:aws:iam::111111111111:role/Other",
            "arn:aws:iam::aws:policy/",
            "arn:aws:iam::aws:policy//x",
            "arn:aws:iam::aws:policy/a b",
            "arn:aws:iam::aws:policy/a*",
            long.as_str(),
        ] {
            let err = ctx
                .attach_role_policy("hubfix-support".into(), bad.into())
                .await
                .unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`policy-arn`")),
                "{bad:?}: {err:?}"
            );
        }
        // A customer-managed policy of the account, at a path, is fine.
        let own = mock!(aws_sdk_iam::Client::attach_role_policy)
            .match_requests(|r| r.policy_arn() == Some("arn:aws:iam::111111111111:policy/team/ops"))
            .then_output(|| AttachRolePolicyOutput::builder().build());
        let mut trail_ctx = ctx_with(
            json!({"Type": "AwsIamRole", "Id": "arn:aws:iam::111111111111:role/ops/runner"}),
            &own,
        );
        trail_ctx
            .attach_role_policy(
                "runner".into(),
                "arn:aws:iam::111111111111:policy/team/ops".into(),
            )
            .await
            .unwrap();
        assert_eq!(
            (create.num_calls(), attach.num_calls(), own.num_calls()),
            (1, 1, 1)
        );
    }

    #[tokio::test]
    async fn policies_are_detached_only_from_the_findings_user_group_or_role() {
        const SHELL: &str = "arn:aws:iam::aws:policy/AWSCloudShellFullAccess";
        let user = mock!(aws_sdk_iam::Client::detach_user_policy)
            .match_requests(|r| r.user_name() == Some("alice") && r.policy_arn() == Some(SHELL))
            .then_output(|| DetachUserPolicyOutput::builder().build());
        let group = mock!(aws_sdk_iam::Client::detach_group_policy)
            .match_requests(|r| r.group_name() == Some("devs") && r.policy_arn() == Some(SHELL))
            .then_output(|| DetachGroupPolicyOutput::builder().build());
        let role = mock!(aws_sdk_iam::Client::detach_role_policy)
            .match_requests(|r| r.role_name() == Some("runner") && r.policy_arn() == Some(SHELL))
            .then_output(|| DetachRolePolicyOutput::builder().build());
        let rules = [&user, &group, &role];
        let mut u = ctx(user_at_path(), &rules, Mode::Apply);
        u.detach_user_policy("alice".into(), SHELL.into())
            .await
            .unwrap();
        let err = u
            .detach_user_policy("bob".into(), SHELL.into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
        let err = u
            .detach_group_policy("alice".into(), SHELL.into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
        let err = u
            .detach_user_policy("alice".into(), "arn:aws:iam::999999999999:policy/x".into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::InvalidInput(_))));
        let mut g = ctx(
            json!({"Type": "AwsIamGroup", "Id": "arn:aws:iam::111111111111:group/eng/devs"}),
            &rules,
            Mode::Apply,
        );
        g.detach_group_policy("devs".into(), SHELL.into())
            .await
            .unwrap();
        let err = g.detach_group_policy("x".repeat(129), SHELL.into()).await;
        assert!(
            matches!(err, Err(CallError::Aws(AwsError::InvalidInput(ref m))) if m.contains("`group-name`"))
        );
        let mut r = ctx(
            json!({"Type": "AwsIamRole", "Id": "arn:aws:iam::111111111111:role/runner"}),
            &rules,
            Mode::Apply,
        );
        r.detach_role_policy("runner".into(), SHELL.into())
            .await
            .unwrap();
        // An account finding names no user: detaching is not account housekeeping.
        let mut a = ctx(account(), &rules, Mode::Apply);
        let err = a
            .detach_user_policy("alice".into(), SHELL.into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
        // Plan mode: recorded, not sent.
        let mut plan = ctx(user_at_path(), &rules, Mode::Plan);
        plan.detach_user_policy("alice".into(), SHELL.into())
            .await
            .unwrap();
        assert_eq!(
            (user.num_calls(), group.num_calls(), role.num_calls()),
            (1, 1, 1)
        );
    }

    #[tokio::test]
    async fn entities_for_a_policy_follow_the_markers_and_are_bounded() {
        let first = mock!(aws_sdk_iam::Client::list_entities_for_policy)
            .match_requests(|r| r.policy_arn() == Some(SUPPORT) && r.marker().is_none())
            .then_output(|| {
                ListEntitiesForPolicyOutput::builder()
                    .policy_users(PolicyUser::builder().user_name("alice").build())
                    .policy_roles(PolicyRole::builder().role_name("support").build())
                    .is_truncated(true)
                    .marker("m1")
                    .build()
            });
        let second = mock!(aws_sdk_iam::Client::list_entities_for_policy)
            .match_requests(|r| r.marker() == Some("m1"))
            .then_output(|| {
                ListEntitiesForPolicyOutput::builder()
                    .policy_groups(PolicyGroup::builder().group_name("ops").build())
                    .is_truncated(false)
                    .build()
            });
        let mut ctx = ctx(account(), &[&first, &second], Mode::Apply);
        let entities = ctx.list_entities_for_policy(SUPPORT.into()).await.unwrap();
        assert_eq!(
            entities,
            PolicyEntities {
                users: vec!["alice".into()],
                groups: vec!["ops".into()],
                roles: vec!["support".into()],
            }
        );
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));

        let endless = mock!(aws_sdk_iam::Client::list_entities_for_policy).then_output(|| {
            let mut out = ListEntitiesForPolicyOutput::builder()
                .is_truncated(true)
                .marker("again");
            for i in 0..100 {
                out = out.policy_users(PolicyUser::builder().user_name(format!("u{i}")).build());
            }
            out.build()
        });
        let mut big = mock_ctx(
            "us-east-1",
            json!([account()]),
            mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&endless]),
            &["iam.list-entities-for-policy"],
            Mode::Apply,
            50,
        );
        let err = big
            .list_entities_for_policy(SUPPORT.into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::Service(ref m)) if m.contains("more than 1000")),
            "{err:?}"
        );
        assert_eq!(endless.num_calls(), 11);
    }

    fn sdk_certificate(name: &str, expires: i64) -> ServerCertificateMetadata {
        ServerCertificateMetadata::builder()
            .path("/")
            .server_certificate_name(name)
            .server_certificate_id("ASCA1")
            .arn(format!(
                "arn:aws:iam::111111111111:server-certificate/{name}"
            ))
            .expiration(aws_smithy_types::DateTime::from_secs(expires))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn server_certificates_are_listed_and_one_in_use_is_kept() {
        let first = mock!(aws_sdk_iam::Client::list_server_certificates)
            .match_requests(|r| r.marker().is_none())
            .then_output(|| {
                ListServerCertificatesOutput::builder()
                    .server_certificate_metadata_list(sdk_certificate("old", 10))
                    .is_truncated(true)
                    .marker("m1")
                    .build()
                    .unwrap()
            });
        let second = mock!(aws_sdk_iam::Client::list_server_certificates)
            .match_requests(|r| r.marker() == Some("m1"))
            .then_output(|| {
                ListServerCertificatesOutput::builder()
                    .server_certificate_metadata_list(sdk_certificate("used", 20))
                    .build()
                    .unwrap()
            });
        let delete = mock!(aws_sdk_iam::Client::delete_server_certificate)
            .match_requests(|r| r.server_certificate_name() == Some("old"))
            .then_output(|| DeleteServerCertificateOutput::builder().build());
        let conflict = mock!(aws_sdk_iam::Client::delete_server_certificate)
            .match_requests(|r| r.server_certificate_name() == Some("used"))
            .then_error(|| {
                DeleteServerCertificateError::DeleteConflictException(
                    DeleteConflictException::builder()
                        .message("in use")
                        .meta(error_meta("DeleteConflict", "in use"))
                        .build(),
                )
            });
        let gone = mock!(aws_sdk_iam::Client::delete_server_certificate)
            .match_requests(|r| r.server_certificate_name() == Some("gone"))
            .then_error(|| {
                DeleteServerCertificateError::NoSuchEntityException(
                    NoSuchEntityException::builder()
                        .message("no cert")
                        .meta(error_meta("NoSuchEntity", "no cert"))
                        .build(),
                )
            });
        let rules = [&first, &second, &delete, &conflict, &gone];
        let mut ctx = ctx(account(), &rules, Mode::Apply);
        let certificates = ctx.list_server_certificates().await.unwrap();
        assert_eq!(
            certificates
                .iter()
                .map(|c| (c.name.as_str(), c.expiration))
                .collect::<Vec<_>>(),
            [("old", Some(10)), ("used", Some(20))]
        );
        assert_eq!(
            certificates[0].arn,
            "arn:aws:iam::111111111111:server-certificate/old"
        );
        assert!(ctx.delete_server_certificate("old".into()).await.unwrap());
        assert!(!ctx.delete_server_certificate("used".into()).await.unwrap());
        let err = ctx
            .delete_server_certificate("gone".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(_))),
            "{err:?}"
        );
        for bad in ["", "a/b", "a b", &"x".repeat(129)] {
            let err = ctx.delete_server_certificate(bad.into()).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`name`")),
                "{bad:?}"
            );
        }
        // A finding about one certificate reaches that one only.
        let mut one = ctx_with(
            json!({"Type": "AwsIamServerCertificate", "Id": "arn:aws:iam::111111111111:server-certificate/web/old"}),
            &delete,
        );
        assert!(one.delete_server_certificate("old".into()).await.unwrap());
        let err = one
            .delete_server_certificate("used".into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
        // Plan mode answers that it would be deleted, without asking IAM.
        let mut plan = ctx_plan(account(), &delete);
        assert!(plan.delete_server_certificate("old".into()).await.unwrap());
        assert_eq!(
            (
                first.num_calls(),
                second.num_calls(),
                delete.num_calls(),
                conflict.num_calls(),
                gone.num_calls()
            ),
            (1, 1, 2, 1, 1)
        );
    }

    #[tokio::test]
    async fn a_users_policies_are_read_and_move_only_to_a_created_group_it_joins() {
        const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
        const DOC: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let attached = mock!(aws_sdk_iam::Client::list_attached_user_policies)
            .match_requests(|r| r.user_name() == Some("alice"))
            .then_output(|| {
                ListAttachedUserPoliciesOutput::builder()
                    .attached_policies(
                        AttachedPolicy::builder()
                            .policy_name("ReadOnlyAccess")
                            .policy_arn(READ_ONLY)
                            .build(),
                    )
                    .build()
            });
        let inline = mock!(aws_sdk_iam::Client::list_user_policies)
            .match_requests(|r| r.user_name() == Some("alice"))
            .then_output(|| {
                ListUserPoliciesOutput::builder()
                    .policy_names("s3-logs")
                    .build()
                    .unwrap()
            });
        let document = mock!(aws_sdk_iam::Client::get_user_policy)
            .match_requests(|r| r.policy_name() == Some("s3-logs"))
            .then_output(|| {
                GetUserPolicyOutput::builder()
                    .user_name("alice")
                    .policy_name("s3-logs")
                    .policy_document(
                        "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D",
                    )
                    .build()
                    .unwrap()
            });
        let huge = mock!(aws_sdk_iam::Client::get_user_policy)
            .match_requests(|r| r.policy_name() == Some("huge"))
            .then_output(|| {
                GetUserPolicyOutput::builder()
                    .user_name("alice")
                    .policy_name("huge")
                    .policy_document("a".repeat(MAX_INLINE_ROLE_POLICY + 1))
                    .build()
                    .unwrap()
            });
        let create = mock!(aws_sdk_iam::Client::create_group)
            .match_requests(|r| {
                r.group_name() == Some("hubfix-user-alice") && r.path() == Some("/")
            })
            .then_output(|| {
                CreateGroupOutput::builder()
                    .group(sdk_group("hubfix-user-alice"))
                    .build()
            });
        let attach = mock!(aws_sdk_iam::Client::attach_group_policy)
            .match_requests(|r| r.policy_arn() == Some(READ_ONLY))
            .then_output(|| AttachGroupPolicyOutput::builder().build());
        let put = mock!(aws_sdk_iam::Client::put_group_policy)
            .match_requests(|r| r.policy_document() == Some(DOC))
            .then_output(|| PutGroupPolicyOutput::builder().build());
        let add = mock!(aws_sdk_iam::Client::add_user_to_group)
            .match_requests(|r| {
                r.group_name() == Some("hubfix-user-alice") && r.user_name() == Some("alice")
            })
            .then_output(|| AddUserToGroupOutput::builder().build());
        let delete = mock!(aws_sdk_iam::Client::delete_user_policy)
            .match_requests(|r| {
                r.user_name() == Some("alice") && r.policy_name() == Some("s3-logs")
            })
            .then_output(|| DeleteUserPolicyOutput::builder().build());
        let mut ctx = ctx(
            user_at_path(),
            &[
                &attached, &inline, &document, &huge, &create, &attach, &put, &add, &delete,
            ],
            Mode::Apply,
        );
        assert_eq!(
            ctx.list_attached_user_policies("alice".into())
                .await
                .unwrap(),
            [READ_ONLY]
        );
        assert_eq!(
            ctx.list_user_policies("alice".into()).await.unwrap(),
            ["s3-logs"]
        );
        let doc = ctx
            .get_user_policy("alice".into(), "s3-logs".into())
            .await
            .unwrap();
        assert_eq!(doc, DOC);
        // An oversized answer is an error, not a string handed on.
        let err = ctx
            .get_user_policy("alice".into(), "huge".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::Service(ref m)) if m.contains("bytes")),
            "{err:?}"
        );
        // Not created yet: out of scope.
        let err = ctx
            .attach_group_policy("hubfix-user-alice".into(), READ_ONLY.into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(_))),
            "{err:?}"
        );
        // Creates need the prefix.
        let err = ctx.create_group("Admins".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(_))),
            "{err:?}"
        );
        let group = ctx.create_group("hubfix-user-alice".into()).await.unwrap();
        assert_eq!(
            group.arn,
            "arn:aws:iam::111111111111:group/hubfix-user-alice"
        );
        ctx.attach_group_policy("hubfix-user-alice".into(), READ_ONLY.into())
            .await
            .unwrap();
        for (bad, field) in [("[]", "`policy`"), ("{", "`policy`")] {
            let err = ctx
                .put_group_policy("hubfix-user-alice".into(), "s3-logs".into(), bad.into())
                .await
                .unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains(field)),
                "{bad:?}: {err:?}"
            );
        }
        let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(MAX_INLINE_GROUP_POLICY));
        let err = ctx
            .put_group_policy("hubfix-user-alice".into(), "s3-logs".into(), big)
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(_))),
            "{err:?}"
        );
        let err = ctx
            .put_group_policy("hubfix-user-alice".into(), "a b".into(), DOC.into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`policy-name`")),
            "{err:?}"
        );
        ctx.put_group_policy("hubfix-user-alice".into(), "s3-logs".into(), DOC.into())
            .await
            .unwrap();
        // Only the finding's user may join, and only a group in scope.
        let err = ctx
            .add_user_to_group("hubfix-user-alice".into(), "bob".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("bob")),
            "{err:?}"
        );
        let err = ctx
            .add_user_to_group("Admins".into(), "alice".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(_))),
            "{err:?}"
        );
        ctx.add_user_to_group("hubfix-user-alice".into(), "alice".into())
            .await
            .unwrap();
        let err = ctx
            .delete_user_policy("bob".into(), "s3-logs".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(_))),
            "{err:?}"
        );
        ctx.delete_user_policy("alice".into(), "s3-logs".into())
            .await
            .unwrap();
        assert_eq!(
            [&create, &attach, &put, &add, &delete].map(|r| r.num_calls()),
            [1, 1, 1, 1, 1]
        );
    }

    fn sdk_group(name: &str) -> aws_sdk_iam::types::Group {
        aws_sdk_iam::types::Group::builder()
            .group_name(name)
            .group_id("AGPA1")
            .path("/")
            .arn(format!("arn:aws:iam::111111111111:group/{name}"))
            .create_date(aws_smithy_types::DateTime::from_secs(0))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_missing_group_is_not_found_and_a_planned_one_is_answered() {
        let missing = mock!(aws_sdk_iam::Client::get_group).then_error(|| {
            GetGroupError::NoSuchEntityException(
                NoSuchEntityException::builder()
                    .meta(error_meta(
                        "NoSuchEntity",
                        "The group with name g cannot be found.",
                    ))
                    .build(),
            )
        });
        let mut ctx = ctx_plan(user_at_path(), &missing);
        let err = ctx.get_group("hubfix-user-alice".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(_))),
            "{err:?}"
        );
        let err = ctx.get_group("a/b".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(_))),
            "{err:?}"
        );
        let planned = ctx.create_group("hubfix-user-alice".into()).await.unwrap();
        assert_eq!(
            (
                planned.name.as_str(),
                planned.path.as_str(),
                planned.arn.as_str()
            ),
            (
                "hubfix-user-alice",
                "/",
                "arn:aws:iam::111111111111:group/hubfix-user-alice"
            )
        );
        // What was planned is in scope for the rest of the plan.
        ctx.add_user_to_group("hubfix-user-alice".into(), "alice".into())
            .await
            .unwrap();
        assert_eq!(missing.num_calls(), 1);
    }

    const REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::111111111111:root,2020-01-01T00:00:00+00:00,not_supported,2024-05-01T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::111111111111:user/contractors/alice,2021-02-03T04:05:06+00:00,true,no_information,2021-02-03T04:05:06+00:00,N/A,false,true,2021-02-03T04:05:06Z,2024-01-01T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
";

    #[test]
    fn the_credential_report_is_parsed_by_column_name_and_bounded() {
        let rows = parse_credential_report(REPORT.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        let root = &rows[0];
        assert_eq!(
            (root.user.as_str(), root.password_enabled, root.mfa_active),
            ("<root_account>", false, true)
        );
        assert_eq!(root.password_last_used, Some(1_714_557_600));
        assert_eq!(root.password_last_changed, None);
        let alice = &rows[1];
        assert_eq!(
            alice.arn,
            "arn:aws:iam::111111111111:user/contractors/alice"
        );
        assert_eq!(alice.created, Some(1_612_325_106));
        assert!(alice.password_enabled && !alice.mfa_active);
        assert_eq!(alice.password_last_used, None);
        assert_eq!(alice.access_keys.len(), 2);
        let key = &alice.access_keys[0];
        assert!(key.active);
        assert_eq!(
            (key.last_rotated, key.last_used),
            (Some(1_612_325_106), Some(1_704_067_200))
        );
        assert!(!alice.access_keys[1].active);
        for (bad, why) in [
            ("", "empty"),
            ("user,arn\nalice,x\n", "no `user_creation_time` column"),
            (
                &REPORT.replace("2021-02-03T04:05:06+00:00,true", "yesterday,true"),
                "not a time",
            ),
            (&format!("{REPORT}bob,only,three\n"), "fields"),
        ] {
            let bad = bad.replace("\\n", "\n");
            let err = parse_credential_report(bad.as_bytes()).unwrap_err();
            assert!(
                matches!(err, AwsError::Service(ref m) if m.contains(why)),
                "{why}: {err:?}"
            );
        }
        let alice_line = REPORT.lines().nth(2).unwrap();
        let many = std::iter::once(REPORT.lines().next().unwrap())
            .chain(std::iter::repeat_n(alice_line, MAX_REPORT_ROWS + 1))
            .collect::<Vec<_>>()
            .join("\n");
        let err = parse_credential_report(many.as_bytes()).unwrap_err();
        assert!(
            matches!(err, AwsError::Service(ref m) if m.contains("rows")),
            "{err:?}"
        );
        let err = parse_credential_report(&vec![b'a'; MAX_REPORT_BYTES + 1]).unwrap_err();
        assert!(
            matches!(err, AwsError::Service(ref m) if m.contains("bytes")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn the_credential_report_is_none_until_generated() {
        let report = mock!(aws_sdk_iam::Client::get_credential_report)
            .sequence()
            .error(|| {
                GetCredentialReportError::generic(error_meta("ReportNotPresent", "no report"))
            })
            .output(|| {
                GetCredentialReportOutput::builder()
                    .content(aws_smithy_types::Blob::new(REPORT))
                    .report_format(ReportFormatType::TextCsv)
                    .build()
            })
            .build();
        let generate = mock!(aws_sdk_iam::Client::generate_credential_report).then_output(|| {
            GenerateCredentialReportOutput::builder()
                .state(ReportStateType::Complete)
                .build()
        });
        let mut ctx = ctx(account(), &[&report, &generate], Mode::Apply);
        assert_eq!(ctx.get_credential_report().await.unwrap(), None);
        assert!(ctx.generate_credential_report().await.unwrap());
        let rows = ctx.get_credential_report().await.unwrap().unwrap();
        assert_eq!(rows[1].user, "alice");
    }

    fn ctx_plan(resource: serde_json::Value, rule: &Rule) -> PluginCtx {
        ctx(resource, &[rule], Mode::Plan)
    }

    fn ctx_with(resource: serde_json::Value, rule: &Rule) -> PluginCtx {
        ctx(resource, &[rule], Mode::Apply)
    }

    #[test]
    fn documents_and_names() {
        assert_eq!(url_decode("%7B%22a%22%3A+1%7D"), r#"{"a": 1}"#);
        assert_eq!(url_decode("100%"), "100%");
        assert_eq!(
            taken_role_name(Some(
                "Service role name AWSServiceRoleForConfig has been taken in this account"
            )),
            Some("AWSServiceRoleForConfig".into())
        );
        assert_eq!(
            taken_role_name(Some("Role with name x already exists.")),
            None
        );
        assert!(json_document(GET_ROLE, "f", "{}", 2).is_ok());
        assert!(json_document(GET_ROLE, "f", "{ }", 2).is_err());
    }
}
