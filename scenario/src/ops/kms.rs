//! KMS calls (`kms.*`): keys, their state, rotation and policy.
//!
//! Keys are named by key id, key ARN or alias (`alias/…`), as KMS takes them. The emulator
//! makes an AWS managed key on the first use of its alias (`alias/aws/ebs`, …), as AWS does
//! when a service first needs it: `kms.describe-key` of such an alias sets one up.

use aws_sdk_kms::operation::describe_key::DescribeKeyError;
use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Member, Record, call_failed};

/// KMS's limit on a key policy.
const MAX_POLICY_BYTES: usize = 32 << 10;

/// A KMS call, written `call = "kms.operation"` with the operation's fields next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
pub enum Op {
    /// `kms:CreateKey` (and `kms:CreateAlias` when `alias` is given). Returns `key-id` and
    /// `arn`.
    #[serde(rename = "kms.create-key", rename_all = "kebab-case")]
    CreateKey {
        /// `SYMMETRIC_DEFAULT` (default), `RSA_2048`, `ECC_NIST_P256`, `HMAC_256`, …
        key_spec: Option<String>,
        /// `ENCRYPT_DECRYPT` (default for symmetric and RSA keys), `SIGN_VERIFY`,
        /// `GENERATE_VERIFY_MAC`.
        key_usage: Option<String>,
        /// The key's description.
        description: Option<String>,
        /// An alias name with `alias/`, e.g. `alias/app`.
        alias: Option<String>,
        /// The key policy (JSON text); KMS's default policy when absent.
        policy: Option<String>,
    },
    /// `kms:DescribeKey`. Returns `key-id`, `arn`, `key-manager` (`AWS` or `CUSTOMER`),
    /// `key-spec`, `key-usage`, `key-state` and `origin`.
    #[serde(rename = "kms.describe-key", rename_all = "kebab-case")]
    DescribeKey {
        /// The key id, ARN or alias.
        key_id: String,
    },
    /// `kms:GetKeyRotationStatus` (an alias is first resolved with `kms:DescribeKey`, as
    /// KMS takes no alias here). Returns `enabled`.
    #[serde(rename = "kms.get-key-rotation-status", rename_all = "kebab-case")]
    GetKeyRotationStatus {
        /// The key id, ARN or alias.
        key_id: String,
    },
    /// `kms:EnableKeyRotation`. Returns nothing.
    #[serde(rename = "kms.enable-key-rotation", rename_all = "kebab-case")]
    EnableKeyRotation {
        /// The key id or ARN.
        key_id: String,
    },
    /// `kms:DisableKey`. Returns nothing.
    #[serde(rename = "kms.disable-key", rename_all = "kebab-case")]
    DisableKey {
        /// The key id or ARN.
        key_id: String,
    },
    /// `kms:ScheduleKeyDeletion`. Returns nothing.
    #[serde(rename = "kms.schedule-key-deletion", rename_all = "kebab-case")]
    ScheduleKeyDeletion {
        /// The key id or ARN.
        key_id: String,
        /// 7..=30 days (default 30).
        pending_window_in_days: Option<i32>,
    },
    /// `kms:GetKeyPolicy` (policy `default`; an alias is first resolved with
    /// `kms:DescribeKey`). Returns `statements` (how many), `sids` (the
    /// statements' `Sid`s, where they have one), `allows-cloudtrail-encrypt` (whether a
    /// statement allows `cloudtrail.amazonaws.com` `kms:GenerateDataKey*` under a
    /// `kms:EncryptionContext:aws:cloudtrail:arn` condition), `allows-account-root` (whether
    /// a statement allows the account's root `kms:*`) and `policy` (the text).
    #[serde(rename = "kms.get-key-policy", rename_all = "kebab-case")]
    GetKeyPolicy {
        /// The key id, ARN or alias.
        key_id: String,
    },
}

/// Every KMS call name.
pub const CALLS: &[&str] = &[
    "kms.create-key",
    "kms.describe-key",
    "kms.get-key-rotation-status",
    "kms.enable-key-rotation",
    "kms.disable-key",
    "kms.schedule-key-deletion",
    "kms.get-key-policy",
];

const KEY_FIELDS: &[&str] = &[
    "key-id",
    "arn",
    "key-manager",
    "key-spec",
    "key-usage",
    "key-state",
    "origin",
];

const POLICY_FIELDS: &[&str] = &[
    "statements",
    "sids",
    "allows-cloudtrail-encrypt",
    "allows-account-root",
    "policy",
];

impl Op {
    /// Its `call` name, e.g. `kms.describe-key`.
    pub fn call(&self) -> &'static str {
        match self {
            Op::CreateKey { .. } => "kms.create-key",
            Op::DescribeKey { .. } => "kms.describe-key",
            Op::GetKeyRotationStatus { .. } => "kms.get-key-rotation-status",
            Op::EnableKeyRotation { .. } => "kms.enable-key-rotation",
            Op::DisableKey { .. } => "kms.disable-key",
            Op::ScheduleKeyDeletion { .. } => "kms.schedule-key-deletion",
            Op::GetKeyPolicy { .. } => "kms.get-key-policy",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::CreateKey { .. } => &["key-id", "arn"],
            Op::DescribeKey { .. } => KEY_FIELDS,
            Op::GetKeyRotationStatus { .. } => &["enabled"],
            Op::GetKeyPolicy { .. } => POLICY_FIELDS,
            Op::EnableKeyRotation { .. }
            | Op::DisableKey { .. }
            | Op::ScheduleKeyDeletion { .. } => &[],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Op::DescribeKey { .. } | Op::GetKeyRotationStatus { .. } | Op::GetKeyPolicy { .. }
        )
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match self {
            Op::CreateKey {
                key_spec,
                key_usage,
                alias,
                policy,
                ..
            } => {
                if let Some(spec) = key_spec
                    && !KeySpec::values().contains(&spec.as_str())
                {
                    problems.push(format!(
                        "`key-spec` = `{spec}`: use one of {}",
                        KeySpec::values().join(", ")
                    ));
                }
                if let Some(usage) = key_usage
                    && !KeyUsageType::values().contains(&usage.as_str())
                {
                    problems.push(format!(
                        "`key-usage` = `{usage}`: use one of {}",
                        KeyUsageType::values().join(", ")
                    ));
                }
                if let Some(alias) = alias
                    && (!alias.starts_with("alias/") || alias.starts_with("alias/aws/"))
                {
                    problems.push(format!(
                        "`alias` = `{alias}`: write it `alias/NAME` (and not `alias/aws/…`, AWS's own)"
                    ));
                }
                if let Some(policy) = policy
                    && policy.len() > MAX_POLICY_BYTES
                {
                    problems.push(format!(
                        "`policy` has {} bytes; a key policy has at most {MAX_POLICY_BYTES}",
                        policy.len()
                    ));
                }
            }
            Op::ScheduleKeyDeletion {
                pending_window_in_days: Some(days),
                ..
            } if !(7..=30).contains(days) => {
                problems.push(format!(
                    "`pending-window-in-days` = {days}: KMS takes 7 to 30"
                ));
            }
            _ => {}
        }
        let key_id = match self {
            Op::CreateKey { .. } => None,
            Op::DescribeKey { key_id }
            | Op::GetKeyRotationStatus { key_id }
            | Op::EnableKeyRotation { key_id }
            | Op::DisableKey { key_id }
            | Op::ScheduleKeyDeletion { key_id, .. }
            | Op::GetKeyPolicy { key_id } => Some(key_id),
        };
        if key_id.is_some_and(|k| k.trim().is_empty()) {
            problems.push("`key-id` is empty".to_owned());
        }
        problems
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        match self {
            Op::CreateKey {
                key_spec,
                key_usage,
                description,
                alias,
                policy,
            } => {
                let out = m
                    .kms
                    .create_key()
                    .set_key_spec(key_spec.as_deref().map(KeySpec::from))
                    .set_key_usage(key_usage.as_deref().map(KeyUsageType::from))
                    .set_description(description.clone())
                    .set_policy(policy.clone())
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let Some(key) = out.key_metadata else {
                    return Err(format!("{}: KMS returned no KeyMetadata", self.call()));
                };
                if let Some(alias) = alias {
                    m.kms
                        .create_alias()
                        .alias_name(alias)
                        .target_key_id(&key.key_id)
                        .send()
                        .await
                        .map_err(|e| failed(&e))?;
                }
                Ok(Record::from([
                    ("key-id".to_owned(), json!(key.key_id)),
                    ("arn".to_owned(), json!(key.arn.unwrap_or_default())),
                ]))
            }
            Op::DescribeKey { key_id } => {
                let out = m
                    .kms
                    .describe_key()
                    .key_id(key_id)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let Some(k) = out.key_metadata else {
                    return Err(format!("{}: KMS returned no KeyMetadata", self.call()));
                };
                let text = |v: Option<&str>| json!(v.unwrap_or_default());
                Ok(Record::from([
                    ("key-id".to_owned(), json!(k.key_id)),
                    ("arn".to_owned(), text(k.arn.as_deref())),
                    (
                        "key-manager".to_owned(),
                        text(k.key_manager.as_ref().map(|v| v.as_str())),
                    ),
                    (
                        "key-spec".to_owned(),
                        text(k.key_spec.as_ref().map(|v| v.as_str())),
                    ),
                    (
                        "key-usage".to_owned(),
                        text(k.key_usage.as_ref().map(|v| v.as_str())),
                    ),
                    (
                        "key-state".to_owned(),
                        text(k.key_state.as_ref().map(|v| v.as_str())),
                    ),
                    (
                        "origin".to_owned(),
                        text(k.origin.as_ref().map(|v| v.as_str())),
                    ),
                ]))
            }
            Op::GetKeyRotationStatus { key_id } => {
                let key_id = resolved(m, key_id).await.map_err(|e| failed(&e))?;
                let out = m
                    .kms
                    .get_key_rotation_status()
                    .key_id(key_id)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::from([(
                    "enabled".to_owned(),
                    json!(out.key_rotation_enabled),
                )]))
            }
            Op::EnableKeyRotation { key_id } => {
                m.kms
                    .enable_key_rotation()
                    .key_id(key_id)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::DisableKey { key_id } => {
                m.kms
                    .disable_key()
                    .key_id(key_id)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::ScheduleKeyDeletion {
                key_id,
                pending_window_in_days,
            } => {
                m.kms
                    .schedule_key_deletion()
                    .key_id(key_id)
                    .set_pending_window_in_days(*pending_window_in_days)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::GetKeyPolicy { key_id } => {
                let key_id = resolved(m, key_id).await.map_err(|e| failed(&e))?;
                let out = m
                    .kms
                    .get_key_policy()
                    .key_id(key_id)
                    .policy_name("default")
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let account = m.account.as_str();
                policy_record(&out.policy.unwrap_or_default(), account)
                    .map_err(|e| format!("{}: {e}", self.call()))
            }
        }
    }
}

/// `key_id` as a key id or ARN: an alias (`alias/…` or an alias ARN) is resolved with
/// `kms:DescribeKey`.
async fn resolved(
    m: &Member,
    key_id: &str,
) -> Result<String, aws_sdk_kms::error::SdkError<DescribeKeyError>> {
    if !(key_id.starts_with("alias/") || key_id.contains(":alias/")) {
        return Ok(key_id.to_owned());
    }
    let out = m.kms.describe_key().key_id(key_id).send().await?;
    Ok(out
        .key_metadata
        .map_or_else(|| key_id.to_owned(), |k| k.key_id))
}

/// What [`Op::GetKeyPolicy`] returns for `policy`, a key policy of a key in `account`.
fn policy_record(policy: &str, account: &str) -> Result<Record, String> {
    let document: Value =
        serde_json::from_str(policy).map_err(|e| format!("the key policy is not JSON: {e}"))?;
    let statements: Vec<&Value> = match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let sids: Vec<&str> = statements
        .iter()
        .filter_map(|s| s.get("Sid").and_then(Value::as_str))
        .collect();
    let cloudtrail = statements.iter().any(|s| allows_cloudtrail_encrypt(s));
    let root = statements.iter().any(|s| allows_root(s, account));
    Ok(Record::from([
        ("statements".to_owned(), json!(statements.len())),
        ("sids".to_owned(), json!(sids)),
        ("allows-cloudtrail-encrypt".to_owned(), json!(cloudtrail)),
        ("allows-account-root".to_owned(), json!(root)),
        ("policy".to_owned(), json!(policy)),
    ]))
}

/// A string or a list of strings, as a list.
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn allows(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
}

/// Whether `statement` lets CloudTrail generate data keys for its trails' log files: the
/// service principal, `kms:GenerateDataKey*`, and a condition on the CloudTrail encryption
/// context.
fn allows_cloudtrail_encrypt(statement: &Value) -> bool {
    let service = statement
        .get("Principal")
        .and_then(|p| p.get("Service"))
        .is_some_and(|s| strings(Some(s)).contains(&"cloudtrail.amazonaws.com"));
    let action = strings(statement.get("Action"))
        .iter()
        .any(|a| *a == "kms:GenerateDataKey*" || *a == "kms:*");
    let context = statement
        .get("Condition")
        .and_then(Value::as_object)
        .is_some_and(|c| {
            c.values()
                .any(|op| op.get("kms:EncryptionContext:aws:cloudtrail:arn").is_some())
        });
    allows(statement) && service && action && context
}

/// Whether `statement` allows the account's root principal every KMS action (what keeps a
/// key manageable through IAM).
fn allows_root(statement: &Value, account: &str) -> bool {
    let principals = statement
        .get("Principal")
        .and_then(|p| p.get("AWS"))
        .map(|p| strings(Some(p)))
        .unwrap_or_default();
    let root = principals
        .iter()
        .any(|p| *p == account || (p.ends_with(&format!(":iam::{account}:root"))));
    allows(statement) && root && strings(statement.get("Action")).contains(&"kms:*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_policy_reads_as_its_statements() {
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Root", "Effect": "Allow",
                 "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                 "Action": "kms:*", "Resource": "*"},
                {"Sid": "Trail", "Effect": "Allow",
                 "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "kms:GenerateDataKey*", "Resource": "*",
                 "Condition": {"StringLike": {
                     "kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:111111111111:trail/*"}}}
            ]
        })
        .to_string();
        let record = policy_record(&policy, "111111111111").unwrap();
        assert_eq!(record["statements"], json!(2));
        assert_eq!(record["sids"], json!(["Root", "Trail"]));
        assert_eq!(record["allows-cloudtrail-encrypt"], json!(true));
        assert_eq!(record["allows-account-root"], json!(true));
        // Another account's root does not count; nor does CloudTrail without the context.
        let other = policy_record(&policy, "222222222222").unwrap();
        assert_eq!(other["allows-account-root"], json!(false));
        let loose = json!({"Statement": {"Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*", "Resource": "*"}})
        .to_string();
        let record = policy_record(&loose, "111111111111").unwrap();
        assert_eq!(record["statements"], json!(1));
        assert_eq!(record["allows-cloudtrail-encrypt"], json!(false));
        assert!(policy_record("{", "111111111111").is_err());
    }

    #[test]
    fn problems_name_the_field() {
        let op = Op::CreateKey {
            key_spec: Some("RSA_1024".into()),
            key_usage: Some("SIGN".into()),
            description: None,
            alias: Some("aws/s3".into()),
            policy: None,
        };
        let problems = op.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("`key-spec`"));
        assert!(problems[1].contains("`key-usage`"));
        assert!(problems[2].contains("`alias`"));
        let op = Op::ScheduleKeyDeletion {
            key_id: " ".into(),
            pending_window_in_days: Some(3),
        };
        let problems = op.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`pending-window-in-days`"));
        assert!(problems[1].contains("`key-id`"));
    }
}
