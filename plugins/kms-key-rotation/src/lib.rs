//! `kms-key-rotation`: turns on automatic rotation of the finding's KMS key (Security Hub
//! KMS.4; CIS AWS Foundations 1.2.0 2.8, 1.4.0 3.8, 3.0.0 3.6).
//!
//! The finding names an `AwsKmsKey` (by key ARN or key id). The plugin reads the key with
//! `kms.describe-key` and acts only on a key whose rotation the account can turn on:
//!
//! - a customer managed key (`KeyManager` `CUSTOMER`): AWS managed keys (`aws/…`) are
//!   rotated by AWS every year and their rotation cannot be changed;
//! - a symmetric encryption key (`SYMMETRIC_DEFAULT`): KMS rotates no asymmetric or HMAC
//!   key automatically;
//! - key material KMS generated (`Origin` `AWS_KMS`): imported material and keys in a
//!   custom key store are not rotated automatically;
//! - `Enabled`: a disabled key or one pending deletion (or import) is left alone, with the
//!   reason; enabling a key is not this control's decision.
//!
//! Every other key is `skipped` with the reason. For the rest, `kms.get-key-rotation-status`
//! tells whether rotation is already on (`already-compliant`); otherwise
//! `kms.enable-key-rotation` turns it on, with KMS's default period (365 days). A key that
//! does not exist (any more) is `skipped` as not found. No parameters.

use hubfix_plugin_sdk::kms::{self, KeyMetadata};
use hubfix_plugin_sdk::{AwsError, Finding, Guest, Mode, Outcome, Params, PluginInfo, Request};

const NAME: &str = "kms-key-rotation";
const CONTROLS: &[&str] = &["KMS.4"];
const DESCRIBE: &str = "kms.describe-key";
const STATUS: &str = "kms.get-key-rotation-status";
const ENABLE: &str = "kms.enable-key-rotation";
const KEY: &str = "AwsKmsKey";

struct KeyRotation;

impl Guest for KeyRotation {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[DESCRIBE, STATUS, ENABLE],
        )
    }

    fn remediate(request: Request) -> Outcome {
        if let Err(e) = Params::new(&request.params, &[]) {
            return e.to_outcome();
        }
        let key = match finding_key(&request.finding) {
            Ok(key) => key,
            Err(reason) => return Outcome::skipped(reason),
        };
        let metadata = match kms::describe_key(&key) {
            Ok(m) => m,
            Err(AwsError::NotFound(_)) => return not_found(&key),
            Err(e) => return e.to_outcome(DESCRIBE),
        };
        if let Some(reason) = unrotatable(&metadata) {
            return Outcome::skipped(format!("KMS key {key}: {reason}"));
        }
        let id = metadata.key_id.as_str();
        match kms::get_key_rotation_status(id) {
            Err(AwsError::NotFound(_)) => not_found(&key),
            Err(e) => e.to_outcome(STATUS),
            Ok(true) => Outcome::already_compliant(format!(
                "automatic rotation of KMS key {id} is already on"
            )),
            Ok(false) => match kms::enable_key_rotation(id) {
                Err(AwsError::NotFound(_)) => not_found(&key),
                Err(e) => e.to_outcome(ENABLE),
                Ok(()) => Outcome::remediated(message(request.mode, id)),
            },
        }
    }
}

hubfix_plugin_sdk::export!(KeyRotation);

fn not_found(key: &str) -> Outcome {
    Outcome::skipped(format!("KMS key {key} not found; the finding is stale"))
}

fn message(mode: Mode, id: &str) -> String {
    format!(
        "{} automatic rotation of KMS key {id} (new key material every 365 days; data \
         encrypted before stays decryptable)",
        mode.verb("turned on", "would turn on"),
    )
}

/// The key id of the finding's `AwsKmsKey`, from its key ARN or key id, or why there is
/// none to act on.
fn finding_key(finding: &Finding) -> Result<String, String> {
    let Some(resource) = finding.resource(KEY) else {
        return Err(format!(
            "the finding names no {KEY} resource; this plugin rotates KMS keys only"
        ));
    };
    let id = resource.id.trim();
    let key = match id.strip_prefix("arn:") {
        None => id,
        Some(rest) => {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [_partition, service, region, account, resource] = parts[..] else {
                return Err(format!("{id:?} is not a KMS key ARN"));
            };
            let Some(key) = resource.strip_prefix("key/") else {
                return Err(format!("{id:?} is not a KMS key ARN"));
            };
            if service != "kms" {
                return Err(format!("{id:?} is not a KMS key ARN"));
            }
            if account != finding.account_id {
                return Err(format!(
                    "KMS key {key} belongs to account {account}, not to the finding's account {}",
                    finding.account_id
                ));
            }
            if !finding.region.is_empty() && region != finding.region {
                return Err(format!(
                    "KMS key {key} is in region {region}, not in the finding's region {}",
                    finding.region
                ));
            }
            key
        }
    };
    if !is_key_id(key) {
        return Err(format!(
            "the finding's {KEY} id {id:?} is neither a KMS key id nor a key ARN"
        ));
    }
    Ok(key.to_owned())
}

/// A KMS key id: a UUID (`1234abcd-12ab-34cd-56ef-1234567890ab`) or a multi-Region key id
/// (`mrk-` and 32 hex digits).
fn is_key_id(id: &str) -> bool {
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(rest) = id.strip_prefix("mrk-") {
        return rest.len() == 32 && hex(rest);
    }
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && hex(g))
}

/// Why the account cannot turn on automatic rotation of the key, or `None` when it can.
fn unrotatable(m: &KeyMetadata) -> Option<String> {
    if m.key_manager != "CUSTOMER" {
        return Some(format!(
            "an AWS managed key (key manager {}): AWS rotates it every year, and its rotation \
             cannot be changed",
            m.key_manager
        ));
    }
    if m.key_spec != "SYMMETRIC_DEFAULT" {
        let kind = if m.key_spec.starts_with("HMAC_") {
            "an HMAC key"
        } else {
            "an asymmetric key"
        };
        return Some(format!(
            "{kind} ({}, {}): KMS rotates only symmetric encryption keys automatically",
            m.key_spec, m.key_usage
        ));
    }
    if m.origin != "AWS_KMS" {
        return Some(format!(
            "its key material has origin {}: only key material KMS generated is rotated \
             automatically (rotate imported or custom key store material by hand)",
            m.origin
        ));
    }
    match m.key_state.as_str() {
        "Enabled" => None,
        "PendingDeletion" | "PendingReplicaDeletion" => Some(format!(
            "the key is pending deletion ({}); cancel the deletion first if it is still needed",
            m.key_state
        )),
        "Disabled" => Some(
            "the key is disabled; rotation is turned on only for enabled keys (enable it \
             first if it is still needed)"
                .to_owned(),
        ),
        other => Some(format!(
            "the key is in state {other}; rotation is turned on only for enabled keys"
        )),
    }
}

#[cfg(test)]
mod tests {
    use hubfix_plugin_sdk::Resource;

    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    fn key(manager: &str, spec: &str, usage: &str, state: &str, origin: &str) -> KeyMetadata {
        KeyMetadata {
            key_id: ID.into(),
            arn: format!("arn:aws:kms:eu-west-1:111111111111:key/{ID}"),
            key_manager: manager.into(),
            key_spec: spec.into(),
            key_usage: usage.into(),
            key_state: state.into(),
            origin: origin.into(),
        }
    }

    fn symmetric(state: &str) -> KeyMetadata {
        key(
            "CUSTOMER",
            "SYMMETRIC_DEFAULT",
            "ENCRYPT_DECRYPT",
            state,
            "AWS_KMS",
        )
    }

    fn finding(resources: &[(&str, &str)]) -> Finding {
        Finding {
            id: "f".into(),
            control_id: "KMS.4".into(),
            generator_id: "g".into(),
            account_id: "111111111111".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
            title: "t".into(),
            resources: resources
                .iter()
                .map(|(t, id)| Resource {
                    type_: (*t).into(),
                    id: (*id).into(),
                    partition: "aws".into(),
                    region: "eu-west-1".into(),
                    details: None,
                })
                .collect(),
            raw: "{}".into(),
        }
    }

    #[test]
    fn describes_itself() {
        let info = KeyRotation::describe();
        assert_eq!(info.name, NAME);
        assert_eq!(info.controls, ["KMS.4"]);
        assert_eq!(info.functions, [DESCRIBE, STATUS, ENABLE]);
    }

    #[test]
    fn only_enabled_customer_managed_symmetric_kms_keys_can_rotate() {
        assert_eq!(unrotatable(&symmetric("Enabled")), None);
        let aws = key(
            "AWS",
            "SYMMETRIC_DEFAULT",
            "ENCRYPT_DECRYPT",
            "Enabled",
            "AWS_KMS",
        );
        assert!(unrotatable(&aws).unwrap().contains("AWS managed"));
        let rsa = key("CUSTOMER", "RSA_2048", "SIGN_VERIFY", "Enabled", "AWS_KMS");
        assert!(
            unrotatable(&rsa)
                .unwrap()
                .starts_with("an asymmetric key (RSA_2048")
        );
        let hmac = key(
            "CUSTOMER",
            "HMAC_256",
            "GENERATE_VERIFY_MAC",
            "Enabled",
            "AWS_KMS",
        );
        assert!(unrotatable(&hmac).unwrap().starts_with("an HMAC key"));
        let imported = key(
            "CUSTOMER",
            "SYMMETRIC_DEFAULT",
            "ENCRYPT_DECRYPT",
            "Enabled",
            "EXTERNAL",
        );
        assert!(unrotatable(&imported).unwrap().contains("origin EXTERNAL"));
        assert!(
            unrotatable(&symmetric("PendingDeletion"))
                .unwrap()
                .contains("pending deletion")
        );
        assert!(
            unrotatable(&symmetric("Disabled"))
                .unwrap()
                .contains("disabled")
        );
        assert!(
            unrotatable(&symmetric("PendingImport"))
                .unwrap()
                .contains("PendingImport")
        );
    }

    #[test]
    fn the_key_comes_from_the_findings_key_arn_or_id() {
        let arn = format!("arn:aws:kms:eu-west-1:111111111111:key/{ID}");
        assert_eq!(finding_key(&finding(&[(KEY, &arn)])).unwrap(), ID);
        assert_eq!(finding_key(&finding(&[(KEY, ID)])).unwrap(), ID);
        let mrk = "mrk-1234abcd12ab34cd56ef1234567890ab";
        assert_eq!(finding_key(&finding(&[(KEY, mrk)])).unwrap(), mrk);

        let other_type = finding(&[("AwsS3Bucket", "arn:aws:s3:::b")]);
        assert!(
            finding_key(&other_type)
                .unwrap_err()
                .contains("no AwsKmsKey")
        );
        let other_account = format!("arn:aws:kms:eu-west-1:999999999999:key/{ID}");
        assert!(
            finding_key(&finding(&[(KEY, &other_account)]))
                .unwrap_err()
                .contains("account 999999999999")
        );
        let other_region = format!("arn:aws:kms:us-east-1:111111111111:key/{ID}");
        assert!(
            finding_key(&finding(&[(KEY, &other_region)]))
                .unwrap_err()
                .contains("region us-east-1")
        );
        for hostile in [
            "arn:aws:kms:eu-west-1:111111111111:alias/aws/s3",
            "arn:aws:s3:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:eu-west-1",
            "alias/prod",
            "1234abcd-12ab-34cd-56ef-1234567890ab/../x",
            "1234abcd 12ab-34cd-56ef-1234567890ab",
            "mrk-xyz",
            "",
        ] {
            assert!(
                finding_key(&finding(&[(KEY, hostile)])).is_err(),
                "{hostile:?} was taken"
            );
        }
    }

    #[test]
    fn the_message_follows_the_mode() {
        assert!(message(Mode::Apply, ID).starts_with("turned on automatic rotation of KMS key"));
        assert!(message(Mode::Plan, ID).starts_with("would turn on automatic rotation"));
    }
}
