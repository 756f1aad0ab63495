//! A plugin's own S3 bucket (feature `bucket`): created under the host's create prefix, or
//! reused when the account already owns it, then given the statements a service needs
//! (merged into its policy by `Sid`, other statements kept verbatim), all four Block
//! Public Access settings, and optionally a default encryption.
//!
//! Used by plugins that deliver logs to a bucket they make (CloudTrail.1's trail bucket,
//! CloudTrail.7's access-log bucket).

use serde_json::Value;
use serde_json::value::RawValue;

use crate::document::Document;
use crate::public_access::ALL_ON;
use crate::s3::{self, BucketEncryption};
use crate::{AwsError, Mode, Outcome};

/// `s3.create-bucket`.
pub const CREATE: &str = "s3.create-bucket";
/// `s3.get-bucket-policy`.
pub const GET_POLICY: &str = "s3.get-bucket-policy";
/// `s3.put-bucket-policy`.
pub const PUT_POLICY: &str = "s3.put-bucket-policy";
/// `s3.get-bucket-public-access-block`.
pub const GET_PAB: &str = "s3.get-bucket-public-access-block";
/// `s3.put-bucket-public-access-block`.
pub const PUT_PAB: &str = "s3.put-bucket-public-access-block";
/// `s3.get-bucket-encryption`.
pub const GET_ENCRYPTION: &str = "s3.get-bucket-encryption";
/// `s3.put-bucket-encryption`.
pub const PUT_ENCRYPTION: &str = "s3.put-bucket-encryption";

/// What preparing the bucket did (or, in plan mode, would do).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Prepared {
    /// The bucket was created (not reused).
    pub created: bool,
    /// Its policy was written.
    pub policy: bool,
    /// Its Block Public Access settings were turned on.
    pub public_access_block: bool,
    /// Its default encryption was set.
    pub encryption: bool,
}

impl Prepared {
    /// What was done, for the outcome's message: `created B, let WHO write to it, …`.
    pub fn phrase(&self, mode: Mode, bucket: &str, who: &str) -> String {
        let mut done = Vec::new();
        if self.created {
            done.push(format!("{} {bucket}", mode.verb("created", "would create")));
        } else {
            done.push(format!(
                "{} the existing {bucket}",
                mode.verb("reused", "would reuse")
            ));
        }
        if self.policy {
            done.push(format!(
                "{} {who} write to it",
                mode.verb("let", "would let")
            ));
        }
        if self.public_access_block {
            done.push(format!(
                "{} its Block Public Access on",
                mode.verb("turned", "would turn")
            ));
        }
        if self.encryption {
            done.push(format!(
                "{} its default encryption",
                mode.verb("set", "would set")
            ));
        }
        done.join(", ")
    }
}

/// `e` as the outcome of the failed call `call`.
pub fn fail(call: &'static str) -> impl Fn(AwsError) -> Outcome {
    move |e| e.to_outcome(call)
}

/// Creates (or reuses) `bucket`, then makes sure of its policy (`policy` maps the current
/// policy text, `None` when there is none, to the text to write, or `None` when it needs
/// no change), its Block Public Access settings (all on) and, with `encryption`, a default
/// encryption (an existing one is kept: it may be stricter).
///
/// The bucket is read first (`s3.get-bucket-policy`: not found = no such bucket), so
/// that plan mode, where `s3.create-bucket` answers "created" without asking AWS, plans
/// exactly what apply mode does to an existing bucket. A bucket created now has nothing
/// else to read.
pub fn prepare(
    bucket: &str,
    policy: impl FnOnce(Option<&str>) -> Result<Option<String>, String>,
    encryption: Option<&BucketEncryption>,
) -> Result<Prepared, Outcome> {
    let before = match s3::get_bucket_policy(bucket) {
        Ok(current) => Some(current),
        Err(AwsError::NotFound(_)) => None,
        Err(e) => return Err(e.to_outcome(GET_POLICY)),
    };
    let existed = s3::create_bucket(bucket).map_err(fail(CREATE))?;
    let mut done = Prepared {
        created: before.is_none() && !existed,
        ..Prepared::default()
    };
    let (current, pab, encrypted) = if done.created {
        (None, None, false)
    } else {
        let current = match before {
            Some(current) => current,
            // Created meanwhile by someone else of the account: read it now.
            None => s3::get_bucket_policy(bucket).map_err(fail(GET_POLICY))?,
        };
        let pab = s3::get_bucket_public_access_block(bucket).map_err(fail(GET_PAB))?;
        let encrypted = match encryption {
            Some(_) => s3::get_bucket_encryption(bucket)
                .map_err(fail(GET_ENCRYPTION))?
                .is_some(),
            None => true,
        };
        (current, pab, encrypted)
    };
    let text = policy(current.as_deref()).map_err(|e| {
        Outcome::failed(format!(
            "the policy of bucket {bucket} cannot be merged into: {e}"
        ))
    })?;
    if let Some(text) = text {
        s3::put_bucket_policy(bucket, &text).map_err(fail(PUT_POLICY))?;
        done.policy = true;
    }
    if pab != Some(ALL_ON) {
        s3::put_bucket_public_access_block(bucket, ALL_ON).map_err(fail(PUT_PAB))?;
        done.public_access_block = true;
    }
    if let Some(encryption) = encryption.filter(|_| !encrypted) {
        s3::put_bucket_encryption(bucket, encryption).map_err(fail(PUT_ENCRYPTION))?;
        done.encryption = true;
    }
    Ok(done)
}

/// `policy` (or a new policy when `None`) with each of `wanted` (statements with a `Sid`)
/// in place of the statement of the same `Sid`, or appended; `None` when every one is
/// already there as wanted. Other statements and fields are kept as they were.
pub fn upsert_statements(policy: Option<&str>, wanted: &[Value]) -> Result<Option<String>, String> {
    let mut document = match policy {
        Some(text) => Document::parse(text)?,
        None => Document::new(),
    };
    let mut statements = document.statements()?;
    let mut changed = false;
    for statement in wanted {
        let Some(sid) = statement.get("Sid").and_then(Value::as_str) else {
            return Err("a statement to merge has no `Sid`".to_owned());
        };
        let raw = RawValue::from_string(statement.to_string()).map_err(|e| e.to_string())?;
        let mut found = None;
        for (i, existing) in statements.iter().enumerate() {
            let value: Value = serde_json::from_str(existing.get()).map_err(|e| e.to_string())?;
            if value.get("Sid").and_then(Value::as_str) == Some(sid) {
                found = Some((i, value));
                break;
            }
        }
        match found {
            Some((_, existing)) if &existing == statement => {}
            Some((i, _)) => {
                statements[i] = raw;
                changed = true;
            }
            None => {
                statements.push(raw);
                changed = true;
            }
        }
    }
    if !changed {
        return Ok(None);
    }
    document.set_statements(&statements);
    Ok(Some(document.render()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn statements_are_merged_by_sid() {
        let a = json!({"Sid": "A", "Effect": "Allow", "Principal": {"Service": "x"}, "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::b"});
        let b = json!({"Sid": "B", "Effect": "Allow", "Principal": {"Service": "x"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"});
        let text = upsert_statements(None, &[a.clone(), b.clone()])
            .unwrap()
            .unwrap();
        let policy: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(policy["Version"], "2012-10-17");
        assert_eq!(policy["Statement"], json!([a, b]));
        // Again: nothing to change.
        assert_eq!(
            upsert_statements(Some(&text), &[a.clone(), b.clone()]).unwrap(),
            None
        );
        // Another statement is kept verbatim; a changed one is replaced in place.
        let other = r#"{"Sid":"Keep",  "Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b"}"#;
        let with_other = format!(
            r#"{{"Version":"2012-10-17","Statement":[{other},{}]}}"#,
            json!({"Sid": "A", "Effect": "Deny"})
        );
        let text = upsert_statements(Some(&with_other), &[a.clone(), b.clone()])
            .unwrap()
            .unwrap();
        assert!(text.contains(other), "{text}");
        let policy: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(policy["Statement"][1], a);
        assert_eq!(policy["Statement"][2], b);
        assert!(upsert_statements(Some("[]"), &[a]).is_err());
        assert!(upsert_statements(None, &[json!({"Effect": "Allow"})]).is_err());
    }

    #[test]
    fn the_message_says_what_was_prepared() {
        let fresh = Prepared {
            created: true,
            policy: true,
            public_access_block: true,
            encryption: true,
        };
        assert_eq!(
            fresh.phrase(Mode::Plan, "logs", "CloudTrail"),
            "would create logs, would let CloudTrail write to it, would turn its Block Public Access on, would set its default encryption"
        );
        assert_eq!(
            Prepared::default().phrase(Mode::Apply, "logs", "CloudTrail"),
            "reused the existing logs"
        );
    }
}
