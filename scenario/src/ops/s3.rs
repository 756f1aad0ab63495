//! S3 calls (`s3.*`): buckets and their settings (the client uses path-style addressing).
//!
//! Bucket names are global (in AWS and in the emulator, across accounts), so scenarios name
//! their buckets with `{{account}}` in them.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Member, Record, call_failed};

/// Most bytes of a bucket policy (S3's limit).
const MAX_POLICY_BYTES: usize = 20 << 10;

/// An S3 call, written `call = "s3.operation"` with the operation's fields next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
pub enum Op {
    /// `s3:CreateBucket` in the scenario's region (any name: scenarios set accounts up as
    /// an administrator). Returns `bucket` and `arn`.
    #[serde(rename = "s3.create-bucket", rename_all = "kebab-case")]
    CreateBucket {
        /// The bucket's name.
        bucket: String,
    },
    /// `s3:PutBucketPolicy`: replaces the bucket's policy with `policy` (JSON text).
    /// Returns nothing.
    #[serde(rename = "s3.put-bucket-policy", rename_all = "kebab-case")]
    PutBucketPolicy {
        /// The bucket.
        bucket: String,
        /// The policy document, JSON text.
        policy: String,
    },
    /// `s3:GetBucketPolicy`. Returns `exists`, `statements` (how many), `sids` (the
    /// statements' `Sid`s, where they have one), `deny-insecure-transport` (whether a
    /// statement denies `s3:*` on the bucket and `bucket/*` when `aws:SecureTransport` is
    /// `false`), `allows-log-delivery` (whether a statement allows
    /// `logging.s3.amazonaws.com` to `s3:PutObject`) and `policy` (the text; empty when
    /// there is none).
    #[serde(rename = "s3.get-bucket-policy", rename_all = "kebab-case")]
    GetBucketPolicy {
        /// The bucket.
        bucket: String,
    },
    /// `s3:PutBucketPublicAccessBlock`. All four settings are written; those left out are
    /// `false`. Returns nothing.
    #[serde(
        rename = "s3.put-bucket-public-access-block",
        rename_all = "kebab-case"
    )]
    PutBucketPublicAccessBlock {
        /// The bucket.
        bucket: String,
        /// Block public ACLs.
        block_public_acls: Option<bool>,
        /// Ignore public ACLs.
        ignore_public_acls: Option<bool>,
        /// Block public bucket policies.
        block_public_policy: Option<bool>,
        /// Restrict public buckets.
        restrict_public_buckets: Option<bool>,
    },
    /// `s3:DeleteBucketPublicAccessBlock`; a bucket without one is fine. Returns nothing.
    #[serde(
        rename = "s3.delete-bucket-public-access-block",
        rename_all = "kebab-case"
    )]
    DeleteBucketPublicAccessBlock {
        /// The bucket.
        bucket: String,
    },
    /// `s3:GetBucketPublicAccessBlock`. Returns `exists` and the four settings (`false`
    /// where the bucket has no configuration).
    #[serde(
        rename = "s3.get-bucket-public-access-block",
        rename_all = "kebab-case"
    )]
    GetBucketPublicAccessBlock {
        /// The bucket.
        bucket: String,
    },
    /// `s3:PutEncryptionConfiguration`: one default-encryption rule. Returns nothing.
    #[serde(rename = "s3.put-bucket-encryption", rename_all = "kebab-case")]
    PutBucketEncryption {
        /// The bucket.
        bucket: String,
        /// `AES256`, `aws:kms` or `aws:kms:dsse`.
        sse_algorithm: String,
        /// The KMS key for `aws:kms`.
        kms_master_key_id: Option<String>,
        /// Whether an S3 Bucket Key is used (default `false`).
        bucket_key_enabled: Option<bool>,
    },
    /// `s3:DeleteBucketEncryption` (the bucket keeps no default-encryption configuration).
    /// Returns nothing.
    #[serde(rename = "s3.delete-bucket-encryption", rename_all = "kebab-case")]
    DeleteBucketEncryption {
        /// The bucket.
        bucket: String,
    },
    /// `s3:GetEncryptionConfiguration`. Returns `exists`, `sse-algorithm`,
    /// `kms-master-key-id` (empty strings when absent) and `bucket-key-enabled` of the first
    /// rule.
    #[serde(rename = "s3.get-bucket-encryption", rename_all = "kebab-case")]
    GetBucketEncryption {
        /// The bucket.
        bucket: String,
    },
    /// `s3:GetBucketLogging`. Returns `enabled`, `target-bucket` and `target-prefix`
    /// (empty strings when logging is off).
    #[serde(rename = "s3.get-bucket-logging", rename_all = "kebab-case")]
    GetBucketLogging {
        /// The bucket.
        bucket: String,
    },
}

/// Every S3 call name.
pub const CALLS: &[&str] = &[
    "s3.create-bucket",
    "s3.put-bucket-policy",
    "s3.get-bucket-policy",
    "s3.put-bucket-public-access-block",
    "s3.delete-bucket-public-access-block",
    "s3.get-bucket-public-access-block",
    "s3.put-bucket-encryption",
    "s3.delete-bucket-encryption",
    "s3.get-bucket-encryption",
    "s3.get-bucket-logging",
];

const POLICY_FIELDS: &[&str] = &[
    "exists",
    "statements",
    "sids",
    "deny-insecure-transport",
    "allows-log-delivery",
    "policy",
];

const PUBLIC_ACCESS_BLOCK_FIELDS: &[&str] = &[
    "exists",
    "block-public-acls",
    "ignore-public-acls",
    "block-public-policy",
    "restrict-public-buckets",
];

const ENCRYPTION_FIELDS: &[&str] = &[
    "exists",
    "sse-algorithm",
    "kms-master-key-id",
    "bucket-key-enabled",
];

impl Op {
    /// Its `call` name, e.g. `s3.get-bucket-policy`.
    pub fn call(&self) -> &'static str {
        match self {
            Op::CreateBucket { .. } => "s3.create-bucket",
            Op::PutBucketPolicy { .. } => "s3.put-bucket-policy",
            Op::GetBucketPolicy { .. } => "s3.get-bucket-policy",
            Op::PutBucketPublicAccessBlock { .. } => "s3.put-bucket-public-access-block",
            Op::DeleteBucketPublicAccessBlock { .. } => "s3.delete-bucket-public-access-block",
            Op::GetBucketPublicAccessBlock { .. } => "s3.get-bucket-public-access-block",
            Op::PutBucketEncryption { .. } => "s3.put-bucket-encryption",
            Op::DeleteBucketEncryption { .. } => "s3.delete-bucket-encryption",
            Op::GetBucketEncryption { .. } => "s3.get-bucket-encryption",
            Op::GetBucketLogging { .. } => "s3.get-bucket-logging",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::CreateBucket { .. } => &["bucket", "arn"],
            Op::GetBucketPolicy { .. } => POLICY_FIELDS,
            Op::GetBucketPublicAccessBlock { .. } => PUBLIC_ACCESS_BLOCK_FIELDS,
            Op::GetBucketEncryption { .. } => ENCRYPTION_FIELDS,
            Op::GetBucketLogging { .. } => &["enabled", "target-bucket", "target-prefix"],
            Op::PutBucketPolicy { .. }
            | Op::PutBucketPublicAccessBlock { .. }
            | Op::DeleteBucketPublicAccessBlock { .. }
            | Op::PutBucketEncryption { .. }
            | Op::DeleteBucketEncryption { .. } => &[],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Op::GetBucketPolicy { .. }
                | Op::GetBucketPublicAccessBlock { .. }
                | Op::GetBucketEncryption { .. }
                | Op::GetBucketLogging { .. }
        )
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let bucket = match self {
            Op::CreateBucket { bucket }
            | Op::PutBucketPolicy { bucket, .. }
            | Op::GetBucketPolicy { bucket }
            | Op::PutBucketPublicAccessBlock { bucket, .. }
            | Op::DeleteBucketPublicAccessBlock { bucket }
            | Op::GetBucketPublicAccessBlock { bucket }
            | Op::PutBucketEncryption { bucket, .. }
            | Op::DeleteBucketEncryption { bucket }
            | Op::GetBucketEncryption { bucket }
            | Op::GetBucketLogging { bucket } => bucket,
        };
        if bucket.trim().is_empty() {
            problems.push("`bucket` is empty".to_owned());
        }
        match self {
            Op::PutBucketPolicy { policy, .. } if policy.len() > MAX_POLICY_BYTES => {
                problems.push(format!(
                    "`policy` has {} bytes; a bucket policy has at most {MAX_POLICY_BYTES}",
                    policy.len()
                ));
            }
            Op::PutBucketEncryption { sse_algorithm, .. }
                if !matches!(
                    sse_algorithm.as_str(),
                    "AES256" | "aws:kms" | "aws:kms:dsse"
                ) =>
            {
                problems.push(format!(
                    "`sse-algorithm` = `{sse_algorithm}`: use `AES256`, `aws:kms` or `aws:kms:dsse`"
                ));
            }
            _ => {}
        }
        problems
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        match self {
            Op::CreateBucket { bucket } => {
                let region =
                    m.s3.config()
                        .region()
                        .map(|r| r.as_ref().to_owned())
                        .unwrap_or_default();
                let mut request = m.s3.create_bucket().bucket(bucket);
                if !region.is_empty() && region != "us-east-1" {
                    request = request.create_bucket_configuration(
                        CreateBucketConfiguration::builder()
                            .location_constraint(BucketLocationConstraint::from(region.as_str()))
                            .build(),
                    );
                }
                request.send().await.map_err(|e| failed(&e))?;
                let partition = crate::template::partition_of(&region);
                Ok(Record::from([
                    ("bucket".to_owned(), json!(bucket)),
                    (
                        "arn".to_owned(),
                        json!(format!("arn:{partition}:s3:::{bucket}")),
                    ),
                ]))
            }
            Op::PutBucketPolicy { bucket, policy } => {
                m.s3.put_bucket_policy()
                    .bucket(bucket)
                    .policy(policy)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::GetBucketPolicy { bucket } => {
                let policy = match m.s3.get_bucket_policy().bucket(bucket).send().await {
                    Ok(out) => out.policy.unwrap_or_default(),
                    Err(e) if e.code() == Some("NoSuchBucketPolicy") => String::new(),
                    Err(e) => return Err(failed(&e)),
                };
                policy_record(bucket, &policy).map_err(|e| format!("{}: {e}", self.call()))
            }
            Op::PutBucketPublicAccessBlock {
                bucket,
                block_public_acls,
                ignore_public_acls,
                block_public_policy,
                restrict_public_buckets,
            } => {
                let configuration = PublicAccessBlockConfiguration::builder()
                    .block_public_acls(block_public_acls.unwrap_or(false))
                    .ignore_public_acls(ignore_public_acls.unwrap_or(false))
                    .block_public_policy(block_public_policy.unwrap_or(false))
                    .restrict_public_buckets(restrict_public_buckets.unwrap_or(false))
                    .build();
                m.s3.put_public_access_block()
                    .bucket(bucket)
                    .public_access_block_configuration(configuration)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::DeleteBucketPublicAccessBlock { bucket } => {
                match m
                    .s3
                    .delete_public_access_block()
                    .bucket(bucket)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Record::new()),
                    Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => {
                        Ok(Record::new())
                    }
                    Err(e) => Err(failed(&e)),
                }
            }
            Op::GetBucketPublicAccessBlock { bucket } => {
                let configuration = match m.s3.get_public_access_block().bucket(bucket).send().await
                {
                    Ok(out) => out.public_access_block_configuration,
                    Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => None,
                    Err(e) => return Err(failed(&e)),
                };
                let exists = configuration.is_some();
                let c = configuration
                    .unwrap_or_else(|| PublicAccessBlockConfiguration::builder().build());
                Ok(Record::from([
                    ("exists".to_owned(), json!(exists)),
                    (
                        "block-public-acls".to_owned(),
                        json!(c.block_public_acls.unwrap_or(false)),
                    ),
                    (
                        "ignore-public-acls".to_owned(),
                        json!(c.ignore_public_acls.unwrap_or(false)),
                    ),
                    (
                        "block-public-policy".to_owned(),
                        json!(c.block_public_policy.unwrap_or(false)),
                    ),
                    (
                        "restrict-public-buckets".to_owned(),
                        json!(c.restrict_public_buckets.unwrap_or(false)),
                    ),
                ]))
            }
            Op::PutBucketEncryption {
                bucket,
                sse_algorithm,
                kms_master_key_id,
                bucket_key_enabled,
            } => {
                let default = ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::from(sse_algorithm.as_str()))
                    .set_kms_master_key_id(kms_master_key_id.clone())
                    .build()
                    .map_err(|e| failed(&e))?;
                let rule = ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default)
                    .bucket_key_enabled(bucket_key_enabled.unwrap_or(false))
                    .build();
                let configuration = ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()
                    .map_err(|e| failed(&e))?;
                m.s3.put_bucket_encryption()
                    .bucket(bucket)
                    .server_side_encryption_configuration(configuration)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::DeleteBucketEncryption { bucket } => {
                m.s3.delete_bucket_encryption()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::GetBucketEncryption { bucket } => {
                let rule = match m.s3.get_bucket_encryption().bucket(bucket).send().await {
                    Ok(out) => out
                        .server_side_encryption_configuration
                        .and_then(|c| c.rules.into_iter().next()),
                    Err(e)
                        if e.code() == Some("ServerSideEncryptionConfigurationNotFoundError") =>
                    {
                        None
                    }
                    Err(e) => return Err(failed(&e)),
                };
                let default = rule
                    .as_ref()
                    .and_then(|r| r.apply_server_side_encryption_by_default.as_ref());
                Ok(Record::from([
                    ("exists".to_owned(), json!(default.is_some())),
                    (
                        "sse-algorithm".to_owned(),
                        json!(
                            default
                                .map(|d| d.sse_algorithm.as_str())
                                .unwrap_or_default()
                        ),
                    ),
                    (
                        "kms-master-key-id".to_owned(),
                        json!(
                            default
                                .and_then(|d| d.kms_master_key_id.as_deref())
                                .unwrap_or_default()
                        ),
                    ),
                    (
                        "bucket-key-enabled".to_owned(),
                        json!(rule.and_then(|r| r.bucket_key_enabled).unwrap_or(false)),
                    ),
                ]))
            }
            Op::GetBucketLogging { bucket } => {
                let out =
                    m.s3.get_bucket_logging()
                        .bucket(bucket)
                        .send()
                        .await
                        .map_err(|e| failed(&e))?;
                let logging = out.logging_enabled;
                Ok(Record::from([
                    ("enabled".to_owned(), json!(logging.is_some())),
                    (
                        "target-bucket".to_owned(),
                        json!(
                            logging
                                .as_ref()
                                .map(|l| l.target_bucket.as_str())
                                .unwrap_or_default()
                        ),
                    ),
                    (
                        "target-prefix".to_owned(),
                        json!(
                            logging
                                .as_ref()
                                .map(|l| l.target_prefix.as_str())
                                .unwrap_or_default()
                        ),
                    ),
                ]))
            }
        }
    }
}

/// What [`Op::GetBucketPolicy`] returns for `policy` (empty: the bucket has none).
fn policy_record(bucket: &str, policy: &str) -> Result<Record, String> {
    if policy.trim().is_empty() {
        return Ok(Record::from([
            ("exists".to_owned(), json!(false)),
            ("statements".to_owned(), json!(0)),
            ("sids".to_owned(), json!([])),
            ("deny-insecure-transport".to_owned(), json!(false)),
            ("allows-log-delivery".to_owned(), json!(false)),
            ("policy".to_owned(), json!("")),
        ]));
    }
    let document: Value =
        serde_json::from_str(policy).map_err(|e| format!("the policy is not JSON: {e}"))?;
    let statements: Vec<&Value> = match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let sids: Vec<&str> = statements
        .iter()
        .filter_map(|s| s.get("Sid").and_then(Value::as_str))
        .collect();
    let deny = statements
        .iter()
        .any(|s| denies_insecure_transport(s, bucket));
    let log_delivery = statements.iter().any(|s| allows_log_delivery(s));
    Ok(Record::from([
        ("exists".to_owned(), json!(true)),
        ("statements".to_owned(), json!(statements.len())),
        ("sids".to_owned(), json!(sids)),
        ("deny-insecure-transport".to_owned(), json!(deny)),
        ("allows-log-delivery".to_owned(), json!(log_delivery)),
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

/// Whether `statement` denies `s3:*` on `bucket` and its objects, to any principal, when
/// `aws:SecureTransport` is `false` (what Security Hub's S3.5 looks for).
fn denies_insecure_transport(statement: &Value, bucket: &str) -> bool {
    let resources = strings(statement.get("Resource"));
    let covers = |arn_suffix: &str| {
        resources
            .iter()
            .any(|r| r.starts_with("arn:") && r.ends_with(&format!(":::{bucket}{arn_suffix}")))
    };
    let principal_all = match statement.get("Principal") {
        Some(Value::String(p)) => p == "*",
        Some(Value::Object(p)) => strings(p.get("AWS")).contains(&"*"),
        _ => false,
    };
    let insecure = statement
        .get("Condition")
        .and_then(|c| c.get("Bool"))
        .map(|b| strings(b.get("aws:SecureTransport")))
        .is_some_and(|v| v.iter().any(|v| v.eq_ignore_ascii_case("false")));
    statement.get("Effect").and_then(Value::as_str) == Some("Deny")
        && principal_all
        && strings(statement.get("Action")).contains(&"s3:*")
        && covers("")
        && covers("/*")
        && insecure
}

/// Whether `statement` allows the S3 logging service principal to `s3:PutObject`.
fn allows_log_delivery(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
        && statement
            .get("Principal")
            .and_then(|p| p.get("Service"))
            .is_some_and(|s| strings(Some(s)).contains(&"logging.s3.amazonaws.com"))
        && strings(statement.get("Action")).contains(&"s3:PutObject")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_reads_as_its_statements() {
        let none = policy_record("b", "").unwrap();
        assert_eq!(none["exists"], json!(false));
        assert_eq!(none["statements"], json!(0));

        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Keep", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
                 "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
                {"Sid": "TLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"}
            ]
        })
        .to_string();
        let record = policy_record("b", &policy).unwrap();
        assert_eq!(record["statements"], json!(3));
        assert_eq!(record["sids"], json!(["Keep", "TLS"]));
        assert_eq!(record["deny-insecure-transport"], json!(true));
        assert_eq!(record["allows-log-delivery"], json!(true));
        // The same deny on another bucket, or only on the objects, does not count.
        assert_eq!(
            policy_record("c", &policy).unwrap()["deny-insecure-transport"],
            json!(false)
        );
        let objects_only = json!({"Statement": {"Effect": "Deny", "Principal": "*",
            "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}})
        .to_string();
        let record = policy_record("b", &objects_only).unwrap();
        assert_eq!(record["statements"], json!(1));
        assert_eq!(record["deny-insecure-transport"], json!(false));
        assert!(policy_record("b", "{not json").is_err());
    }

    #[test]
    fn problems_name_the_field() {
        let op = Op::PutBucketEncryption {
            bucket: "b".into(),
            sse_algorithm: "ROT13".into(),
            kms_master_key_id: None,
            bucket_key_enabled: None,
        };
        assert!(op.problems()[0].contains("`sse-algorithm`"));
        let op = Op::GetBucketLogging { bucket: " ".into() };
        assert!(op.problems()[0].contains("`bucket`"));
    }
}
