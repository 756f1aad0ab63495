//! `cloudtrail-kms-encryption`: encrypts the log files of the finding's trail with a KMS key
//! (Security Hub CloudTrail.2; CIS AWS Foundations 1.2.0 2.7, 1.4.0 3.7, 3.0.0 3.5).
//!
//! The finding names the trail (`AwsCloudTrailTrail`, by ARN). The plugin reads it with
//! `cloudtrail.get-trail`; a trail that already has a KMS key passes. Otherwise it picks a
//! key and sets it with `cloudtrail.update-trail` (`KmsKeyId` and nothing else):
//!
//! - the key of the `kms-key-id` parameter (a key id, key ARN or alias of the account), as
//!   it is: it must be an enabled customer managed symmetric encryption key whose policy
//!   already lets CloudTrail use it (the plugin cannot change a key the finding does not
//!   name);
//! - or else a key of its own, alias `hubfix-cloudtrail-<trail>` (a `.` in the trail name
//!   is written `__`), made with `kms.create-key` (or reused when an earlier run made it)
//!   with AWS's documented key policy for CloudTrail: the account's root may administer
//!   it (`kms:*`, so IAM policies govern it); CloudTrail may `kms:GenerateDataKey*` for
//!   this trail only (`aws:SourceArn`) and only under the encryption context of the
//!   account's trails (`kms:EncryptionContext:aws:cloudtrail:arn`), and `kms:DescribeKey`;
//!   principals of the account may `kms:Decrypt` / `kms:ReEncryptFrom` log files under
//!   that context (`kms:CallerAccount`), when their IAM policies allow it too. Its
//!   automatic rotation is turned on (`kms.enable-key-rotation`), so the new key does not
//!   fail KMS.4.
//!
//! Risky, which is why the shipped policy leaves CloudTrail.2 opt-in: every reader of the
//! log files then also needs `kms:Decrypt` on the key, and a key in another region than the
//! trail's bucket, or a key policy that does not admit CloudTrail, stops log delivery
//! (CloudTrail refuses such a key in UpdateTrail, and the plugin fails, naming the key).
//!
//! Skipped, with the reason: a finding that names no trail, a trail that no longer exists
//! (not found), an organization trail of another account, and a trail whose home region is
//! not the finding's. Parameter (optional): `kms-key-id`.

use hubfix_plugin_sdk::cloudtrail::{self, Trail, TrailUpdate};
use hubfix_plugin_sdk::kms::{self, KeyMetadata, NewKey};
use hubfix_plugin_sdk::trail::{changeable, finding_trail, parse_trail_arn};
use hubfix_plugin_sdk::{AwsError, Guest, Mode, Outcome, ParamError, Params, PluginInfo, Request};
use serde_json::{Value, json};

const NAME: &str = "cloudtrail-kms-encryption";
const CONTROLS: &[&str] = &["CloudTrail.2"];
const GET_TRAIL: &str = "cloudtrail.get-trail";
const UPDATE_TRAIL: &str = "cloudtrail.update-trail";
const DESCRIBE_KEY: &str = "kms.describe-key";
const CREATE_KEY: &str = "kms.create-key";
const ENABLE_ROTATION: &str = "kms.enable-key-rotation";

const KMS_KEY_ID: &str = "kms-key-id";
/// The alias of the plugin's own key, before the trail's name.
const ALIAS_PREFIX: &str = "hubfix-cloudtrail-";

struct KmsEncryption;

impl Guest for KmsEncryption {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[
                GET_TRAIL,
                UPDATE_TRAIL,
                DESCRIBE_KEY,
                CREATE_KEY,
                ENABLE_ROTATION,
            ],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let finding = &request.finding;
        let configured = match configured_key(&request.params, &finding.account_id) {
            Ok(key) => key,
            Err(e) => return e.to_outcome(),
        };
        let arn = match finding_trail(finding) {
            Ok(arn) => arn,
            Err(skipped) => return skipped,
        };
        let trail = match cloudtrail::get_trail(arn) {
            Ok(trail) => trail,
            Err(AwsError::NotFound(_)) => {
                return Outcome::skipped(format!("trail {arn} not found; the finding is stale"));
            }
            Err(e) => return e.to_outcome(GET_TRAIL),
        };
        if let Err(skipped) = changeable(&trail, finding) {
            return skipped;
        }
        if let Some(key) = trail.kms_key_id.as_deref().filter(|k| !k.is_empty()) {
            return Outcome::already_compliant(format!(
                "trail {} already encrypts its log files with KMS key {key}",
                trail.name
            ));
        }
        let mode = request.mode;
        let key = match configured {
            Some(id) => match configured_metadata(&id) {
                Ok(m) => Key {
                    metadata: m,
                    how: How::Configured,
                },
                Err(outcome) => return outcome,
            },
            None => match own_key(&trail, &finding.partition, &finding.account_id) {
                Ok(key) => key,
                Err(outcome) => return outcome,
            },
        };
        let update = TrailUpdate {
            enable_log_file_validation: None,
            kms_key_id: Some(key.metadata.arn.clone()),
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
            is_multi_region_trail: None,
            include_global_service_events: None,
        };
        match cloudtrail::update_trail(arn, &update) {
            Err(AwsError::NotFound(m)) if !key.how.made_now() => {
                Outcome::skipped(format!("trail {arn} not found ({m}); the finding is stale"))
            }
            Err(e) => {
                let mut outcome = e.to_outcome(UPDATE_TRAIL);
                if key.how.made_now() {
                    outcome.message.push_str(&format!(
                        "; the new KMS key {} (alias/{}) exists and is reused by the next run",
                        key.metadata.key_id,
                        alias_for(&trail.name)
                    ));
                }
                outcome
            }
            Ok(_) => Outcome::remediated(message(mode, &trail, &key)),
        }
    }
}

hubfix_plugin_sdk::export!(KmsEncryption);

/// The `kms-key-id` parameter: a key id, key ARN, alias name (`alias/…`) or alias ARN of
/// the finding's account.
fn configured_key(raw: &[(String, String)], account: &str) -> Result<Option<String>, ParamError> {
    let params = Params::new(raw, &[KMS_KEY_ID])?;
    let Some(value) = params.get(KMS_KEY_ID).map(str::trim) else {
        return Ok(None);
    };
    let bad = |why: &str| ParamError::invalid_value(KMS_KEY_ID, value, why);
    let printable = !value.is_empty()
        && value.len() <= 2048
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_/:".contains(&b));
    if !printable {
        return Err(bad(
            "expected a KMS key id, key ARN, alias name (alias/NAME) or alias ARN",
        ));
    }
    if let Some(rest) = value.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [_, "kms", _, key_account, resource] = parts[..] else {
            return Err(bad("expected a KMS key or alias ARN"));
        };
        if key_account != account {
            return Err(bad(&format!(
                "expected a key of the finding's account {account} (the plugin reads the key \
                 before using it)"
            )));
        }
        if !(resource.starts_with("key/") || resource.starts_with("alias/")) {
            return Err(bad("expected a KMS key or alias ARN"));
        }
    } else if value.starts_with("alias/aws/") {
        return Err(bad(
            "an AWS managed key cannot encrypt CloudTrail logs: name a customer managed key",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// How the key came to be used.
#[derive(Debug, Clone, Copy, PartialEq)]
enum How {
    /// The `kms-key-id` parameter's.
    Configured,
    /// The plugin's own, made by an earlier run.
    Reused,
    /// The plugin's own, made now (or, in plan mode, to be made).
    Created { rotation: bool },
}

impl How {
    fn made_now(self) -> bool {
        matches!(self, How::Created { .. })
    }
}

struct Key {
    metadata: KeyMetadata,
    how: How,
}

/// Why `m` cannot encrypt CloudTrail log files, or `None` when it can.
fn unusable(m: &KeyMetadata) -> Option<String> {
    if m.key_manager != "CUSTOMER" {
        return Some(format!(
            "it is an AWS managed key (key manager {}), whose policy admits no CloudTrail",
            m.key_manager
        ));
    }
    if m.key_spec != "SYMMETRIC_DEFAULT" || m.key_usage != "ENCRYPT_DECRYPT" {
        return Some(format!(
            "it is not a symmetric encryption key ({}, {})",
            m.key_spec, m.key_usage
        ));
    }
    if m.key_state != "Enabled" {
        return Some(format!("it is {}, not Enabled", m.key_state));
    }
    None
}

/// The metadata of the configured key, checked.
fn configured_metadata(id: &str) -> Result<KeyMetadata, Outcome> {
    let m = match kms::describe_key(id) {
        Ok(m) => m,
        Err(AwsError::NotFound(message)) => {
            return Err(Outcome::failed(format!(
                "the {KMS_KEY_ID} parameter names KMS key {id}, which does not exist in the \
                 finding's account and region ({message})"
            )));
        }
        Err(e) => return Err(e.to_outcome(DESCRIBE_KEY)),
    };
    match unusable(&m) {
        Some(why) => Err(Outcome::failed(format!(
            "the {KMS_KEY_ID} parameter names KMS key {id}, which cannot encrypt log files: {why}"
        ))),
        None => Ok(m),
    }
}

/// The alias name (without `alias/`) of the plugin's key for `trail`: alias names take no
/// `.`, which is written `__` (a trail name has no two punctuation marks in a row, so no
/// two trails share an alias).
fn alias_for(trail: &str) -> String {
    format!("{ALIAS_PREFIX}{}", trail.replace('.', "__"))
}

/// The plugin's own key for `trail`: the one an earlier run made, or a new one.
fn own_key(trail: &Trail, partition: &str, account: &str) -> Result<Key, Outcome> {
    let alias = alias_for(&trail.name);
    match kms::describe_key(&format!("alias/{alias}")) {
        Ok(m) => {
            return match unusable(&m) {
                None => Ok(Key {
                    metadata: m,
                    how: How::Reused,
                }),
                Some(why) => Err(Outcome::failed(format!(
                    "the plugin's KMS key alias/{alias} ({}) exists but cannot encrypt log \
                     files: {why}; fix or delete it, or set {KMS_KEY_ID}",
                    m.key_id
                ))),
            };
        }
        Err(AwsError::NotFound(_)) => {}
        Err(e) => return Err(e.to_outcome(DESCRIBE_KEY)),
    }
    let partition = if partition.is_empty() {
        "aws"
    } else {
        partition
    };
    let trail_arn = match parse_trail_arn(&trail.trail_arn) {
        Some(_) => trail.trail_arn.clone(),
        None => {
            return Err(Outcome::failed(format!(
                "CloudTrail reported trail {} with ARN {:?}, not a trail ARN",
                trail.name, trail.trail_arn
            )));
        }
    };
    let new = NewKey {
        alias: alias.clone(),
        description: format!(
            "hubfix: encrypts the log files of CloudTrail trail {} (CloudTrail.2)",
            trail.name
        ),
        policy: key_policy(partition, account, &trail_arn).to_string(),
    };
    let made = kms::create_key(&new).map_err(|e| e.to_outcome(CREATE_KEY))?;
    // A key that rotates, or KMS.4 would flag it next. The key exists whatever happens
    // here: a failure to turn rotation on is reported, not fatal.
    let rotation = kms::enable_key_rotation(&made.key_id).is_ok();
    Ok(Key {
        metadata: made,
        how: How::Created { rotation },
    })
}

/// AWS's documented key policy for a trail's KMS key, for the trail `trail_arn` of
/// `account`.
fn key_policy(partition: &str, account: &str, trail_arn: &str) -> Value {
    let trails = format!("arn:{partition}:cloudtrail:*:{account}:trail/*");
    json!({
        "Version": "2012-10-17",
        "Id": "hubfix-cloudtrail-key-policy",
        "Statement": [
            {
                "Sid": "Enable IAM user permissions",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "Allow CloudTrail to encrypt logs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails},
                },
            },
            {
                "Sid": "Allow CloudTrail to describe key",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
            },
            {
                "Sid": "Allow principals in the account to decrypt log files",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:CallerAccount": account},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails},
                },
            },
        ],
    })
}

fn message(mode: Mode, trail: &Trail, key: &Key) -> String {
    let id = &key.metadata.key_id;
    let which = match key.how {
        How::Configured => format!("the configured KMS key {}", key.metadata.arn),
        How::Reused => format!(
            "the existing KMS key alias/{} ({id})",
            alias_for(&trail.name)
        ),
        How::Created { rotation } => format!(
            "a new KMS key alias/{}{} whose policy lets CloudTrail encrypt this trail's logs \
             and the account's principals decrypt them{}",
            alias_for(&trail.name),
            if mode.is_plan() {
                String::new()
            } else {
                format!(" ({id})")
            },
            if rotation {
                ", with automatic rotation"
            } else {
                ", but its rotation could not be turned on"
            }
        ),
    };
    format!(
        "{} the log files of trail {} with {which}; readers of the logs now also need \
         kms:Decrypt on the key",
        mode.verb("encrypted", "would encrypt"),
        trail.name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "111111111111";
    const TRAIL_ARN: &str = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/audit";

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn key(manager: &str, spec: &str, usage: &str, state: &str) -> KeyMetadata {
        KeyMetadata {
            key_id: "k".into(),
            arn: "arn:aws:kms:eu-west-1:111111111111:key/k".into(),
            key_manager: manager.into(),
            key_spec: spec.into(),
            key_usage: usage.into(),
            key_state: state.into(),
            origin: "AWS_KMS".into(),
        }
    }

    fn trail(name: &str) -> Trail {
        Trail {
            name: name.into(),
            trail_arn: format!("arn:aws:cloudtrail:eu-west-1:111111111111:trail/{name}"),
            home_region: "eu-west-1".into(),
            s3_bucket_name: Some("logs".into()),
            s3_key_prefix: None,
            is_multi_region_trail: true,
            is_organization_trail: false,
            include_global_service_events: true,
            log_file_validation_enabled: false,
            kms_key_id: None,
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
            has_custom_event_selectors: false,
        }
    }

    #[test]
    fn describes_itself() {
        let info = KmsEncryption::describe();
        assert_eq!(info.controls, ["CloudTrail.2"]);
        assert_eq!(info.functions.len(), 5);
    }

    #[test]
    fn the_key_parameter_is_checked() {
        assert_eq!(configured_key(&[], ACCOUNT).unwrap(), None);
        for ok in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "alias/trail-logs",
            "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:eu-west-1:111111111111:alias/trail-logs",
        ] {
            assert_eq!(
                configured_key(&raw(&[(KMS_KEY_ID, ok)]), ACCOUNT).unwrap(),
                Some(ok.to_owned())
            );
        }
        for bad in [
            "",
            "alias/aws/s3",
            "arn:aws:kms:eu-west-1:999999999999:key/k",
            "arn:aws:s3:::bucket",
            "arn:aws:kms:eu-west-1:111111111111:grant/x",
            "key id with spaces",
            "k\"}",
        ] {
            assert!(
                configured_key(&raw(&[(KMS_KEY_ID, bad)]), ACCOUNT).is_err(),
                "{bad:?} was taken"
            );
        }
        assert!(configured_key(&raw(&[("key", "k")]), ACCOUNT).is_err());
    }

    #[test]
    fn only_enabled_customer_managed_symmetric_keys_encrypt_logs() {
        assert_eq!(
            unusable(&key(
                "CUSTOMER",
                "SYMMETRIC_DEFAULT",
                "ENCRYPT_DECRYPT",
                "Enabled"
            )),
            None
        );
        assert!(
            unusable(&key(
                "AWS",
                "SYMMETRIC_DEFAULT",
                "ENCRYPT_DECRYPT",
                "Enabled"
            ))
            .unwrap()
            .contains("AWS managed")
        );
        assert!(
            unusable(&key("CUSTOMER", "RSA_2048", "ENCRYPT_DECRYPT", "Enabled"))
                .unwrap()
                .contains("not a symmetric")
        );
        assert!(
            unusable(&key(
                "CUSTOMER",
                "SYMMETRIC_DEFAULT",
                "ENCRYPT_DECRYPT",
                "Disabled"
            ))
            .unwrap()
            .contains("Disabled")
        );
    }

    #[test]
    fn aliases_are_one_per_trail() {
        assert_eq!(alias_for("audit"), "hubfix-cloudtrail-audit");
        assert_eq!(alias_for("org.audit-1"), "hubfix-cloudtrail-org__audit-1");
        assert_ne!(alias_for("a.b"), alias_for("a_b"));
        assert_ne!(alias_for("a.b"), alias_for("a-b"));
        let alias = alias_for(&"t".repeat(128));
        assert!(alias.len() + "alias/".len() <= 256);
        assert!(
            alias
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b))
        );
    }

    #[test]
    fn the_key_policy_is_awss_for_cloudtrail() {
        let policy = key_policy("aws", ACCOUNT, TRAIL_ARN);
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 4);
        // The account keeps control of the key.
        assert_eq!(
            statements[0]["Principal"]["AWS"],
            "arn:aws:iam::111111111111:root"
        );
        assert_eq!(statements[0]["Action"], "kms:*");
        // CloudTrail encrypts for this trail, under the account's trails' context only.
        let encrypt = &statements[1];
        assert_eq!(encrypt["Principal"]["Service"], "cloudtrail.amazonaws.com");
        assert_eq!(encrypt["Action"], "kms:GenerateDataKey*");
        assert_eq!(
            encrypt["Condition"]["StringEquals"]["aws:SourceArn"],
            TRAIL_ARN
        );
        assert_eq!(
            encrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"],
            "arn:aws:cloudtrail:*:111111111111:trail/*"
        );
        assert_eq!(statements[2]["Action"], "kms:DescribeKey");
        // The account's principals decrypt, nobody else's.
        let decrypt = &statements[3];
        assert_eq!(
            decrypt["Action"],
            json!(["kms:Decrypt", "kms:ReEncryptFrom"])
        );
        assert_eq!(
            decrypt["Condition"]["StringEquals"]["kms:CallerAccount"],
            ACCOUNT
        );
        assert!(policy.to_string().len() < 32 * 1024);
        let china = key_policy("aws-cn", ACCOUNT, TRAIL_ARN).to_string();
        assert!(
            china.contains("arn:aws-cn:iam::111111111111:root"),
            "{china}"
        );
    }

    #[test]
    fn messages_say_which_key() {
        let t = trail("audit");
        let created = Key {
            metadata: key(
                "CUSTOMER",
                "SYMMETRIC_DEFAULT",
                "ENCRYPT_DECRYPT",
                "Enabled",
            ),
            how: How::Created { rotation: true },
        };
        let m = message(Mode::Plan, &t, &created);
        assert!(
            m.starts_with("would encrypt the log files of trail audit with a new KMS key alias/hubfix-cloudtrail-audit whose policy"),
            "{m}"
        );
        assert!(m.contains("with automatic rotation"), "{m}");
        let configured = Key {
            how: How::Configured,
            ..created
        };
        let m = message(Mode::Apply, &t, &configured);
        assert!(
            m.starts_with(
                "encrypted the log files of trail audit with the configured KMS key arn:aws:kms:"
            ),
            "{m}"
        );
        assert!(m.ends_with("kms:Decrypt on the key"), "{m}");
    }
}
