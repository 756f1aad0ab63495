//! `s3-bucket-default-encryption`: turns on default encryption for the bucket the finding
//! names (Security Hub S3.4, retired but still in CIS AWS Foundations 1.4.0 2.1.1
//! findings).
//!
//! The finding names an `AwsS3Bucket`. The plugin reads `s3.get-bucket-encryption`; a
//! bucket that already has a default-encryption rule (any algorithm, any key) passes and
//! is left alone. Otherwise one `s3.put-bucket-encryption` sets SSE-S3 (`AES256`), or,
//! with the parameter `kms-key-id`, SSE-KMS with that key and an S3 Bucket Key (fewer KMS
//! requests). A bucket that no longer exists is `skipped` (not found).
//!
//! Parameter (optional): `kms-key-id`, a KMS key id, key ARN or alias ARN; without it,
//! SSE-S3. The key's policy must let S3 use it for the bucket's writers: the plugin does
//! not change key policies.

use hubfix_plugin_sdk::s3::{self, BucketEncryption};
use hubfix_plugin_sdk::{Guest, Mode, Outcome, ParamError, Params, PluginInfo, Request};

const NAME: &str = "s3-bucket-default-encryption";
const CONTROLS: &[&str] = &["S3.4"];
const GET: &str = "s3.get-bucket-encryption";
const PUT: &str = "s3.put-bucket-encryption";
const BUCKET: &str = "AwsS3Bucket";
const KMS_KEY_ID: &str = "kms-key-id";

struct DefaultEncryption;

impl Guest for DefaultEncryption {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(NAME, env!("CARGO_PKG_VERSION"), CONTROLS, &[GET, PUT])
    }

    fn remediate(request: Request) -> Outcome {
        let wanted = match wanted(&request.params) {
            Ok(wanted) => wanted,
            Err(e) => return e.to_outcome(),
        };
        let Some(bucket) = request.finding.resource_short_id(BUCKET) else {
            return Outcome::skipped(format!(
                "the finding names no {BUCKET} resource; this plugin fixes S3 buckets only"
            ));
        };
        match s3::get_bucket_encryption(bucket) {
            Err(e) => return e.to_outcome(GET),
            Ok(Some(current)) => {
                return Outcome::already_compliant(format!(
                    "bucket {bucket} already has default encryption ({})",
                    describe(&current)
                ));
            }
            Ok(None) => {}
        }
        match s3::put_bucket_encryption(bucket, &wanted) {
            Err(e) => e.to_outcome(PUT),
            Ok(()) => Outcome::remediated(turned_on(request.mode, bucket, &wanted)),
        }
    }
}

hubfix_plugin_sdk::export!(DefaultEncryption);

/// The rule to set: SSE-KMS with a bucket key when `kms-key-id` is given, else SSE-S3.
fn wanted(raw: &[(String, String)]) -> Result<BucketEncryption, ParamError> {
    let params = Params::new(raw, &[KMS_KEY_ID])?;
    match params.get(KMS_KEY_ID).map(str::trim) {
        None => Ok(BucketEncryption {
            sse_algorithm: "AES256".into(),
            kms_master_key_id: None,
            bucket_key_enabled: false,
        }),
        Some(key) if key.is_empty() || key.chars().any(char::is_whitespace) => {
            Err(ParamError::invalid_value(
                KMS_KEY_ID,
                params.get(KMS_KEY_ID).unwrap_or_default(),
                "expected a KMS key id, key ARN or alias ARN",
            ))
        }
        Some(key) => Ok(BucketEncryption {
            sse_algorithm: "aws:kms".into(),
            kms_master_key_id: Some(key.to_owned()),
            bucket_key_enabled: true,
        }),
    }
}

/// `SSE-S3 (AES256)`, `SSE-KMS (aws:kms) with key K and an S3 Bucket Key`, ….
fn describe(e: &BucketEncryption) -> String {
    let kind = match e.sse_algorithm.as_str() {
        "AES256" => "SSE-S3",
        "aws:kms" => "SSE-KMS",
        "aws:kms:dsse" => "DSSE-KMS",
        _ => "server-side encryption",
    };
    let mut text = format!("{kind}, {}", e.sse_algorithm);
    match &e.kms_master_key_id {
        Some(key) => text.push_str(&format!(", key {key}")),
        None if e.sse_algorithm.starts_with("aws:kms") => text.push_str(", the AWS managed key"),
        None => {}
    }
    if e.bucket_key_enabled {
        text.push_str(", with an S3 Bucket Key");
    }
    text
}

fn turned_on(mode: Mode, bucket: &str, e: &BucketEncryption) -> String {
    format!(
        "{} default encryption for bucket {bucket} ({}); existing objects are not re-encrypted",
        mode.verb("turned on", "would turn on"),
        describe(e)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn sse_s3_by_default_and_sse_kms_with_a_key() {
        let plain = wanted(&[]).unwrap();
        assert_eq!(plain.sse_algorithm, "AES256");
        assert_eq!(plain.kms_master_key_id, None);
        assert!(!plain.bucket_key_enabled);
        let kms = wanted(&raw(&[(KMS_KEY_ID, " alias/s3-default ")])).unwrap();
        assert_eq!(kms.sse_algorithm, "aws:kms");
        assert_eq!(kms.kms_master_key_id.as_deref(), Some("alias/s3-default"));
        assert!(kms.bucket_key_enabled);
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(wanted(&raw(&[(KMS_KEY_ID, "  ")])).is_err());
        assert!(wanted(&raw(&[(KMS_KEY_ID, "alias/a b")])).is_err());
        let e = wanted(&raw(&[("kms-key", "k")])).unwrap_err();
        assert!(
            e.to_string().contains("allowed parameters: kms-key-id"),
            "{e}"
        );
    }

    #[test]
    fn messages_say_what_was_set() {
        let m = turned_on(Mode::Plan, "b", &wanted(&[]).unwrap());
        assert_eq!(
            m,
            "would turn on default encryption for bucket b (SSE-S3, AES256); existing objects are not re-encrypted"
        );
        let kms = wanted(&raw(&[(KMS_KEY_ID, "k-1")])).unwrap();
        assert!(describe(&kms).contains("key k-1, with an S3 Bucket Key"));
        let managed = BucketEncryption {
            sse_algorithm: "aws:kms".into(),
            kms_master_key_id: None,
            bucket_key_enabled: false,
        };
        assert_eq!(describe(&managed), "SSE-KMS, aws:kms, the AWS managed key");
    }
}
