//! `cloudtrail-bucket-access-logging`: turns on S3 server access logging for the bucket
//! CloudTrail delivers to (Security Hub CloudTrail.7; CIS AWS Foundations 1.4.0 3.6,
//! 3.0.0 3.4).
//!
//! The finding names the trail's bucket (`AwsS3Bucket`). The plugin reads
//! `s3.get-bucket-logging`; a bucket that already logs (anywhere) passes. Otherwise it
//! turns logging on with `s3.put-bucket-logging`, to:
//!
//! - the bucket in the parameter `target-bucket`, as it is: it must already exist in the
//!   same account and region and allow `logging.s3.amazonaws.com` to write (the plugin
//!   cannot change a bucket the finding does not name);
//! - or else its own log bucket `hubfix-access-logs-<account>-<region>`, created with
//!   `s3.create-bucket` when missing (reused when the account already has it). The plugin
//!   makes sure that bucket's policy lets `logging.s3.amazonaws.com` `s3:PutObject` into
//!   it for this source bucket only (`aws:SourceArn`, `aws:SourceAccount`; a reused
//!   bucket's statement gains the new source, its other statements are kept verbatim),
//!   and that its four Block Public Access settings are on.
//!
//! Log objects are written under the parameter `target-prefix`, default
//! `<source-bucket>/`. A bucket that no longer exists is `skipped` (not found).
//!
//! Parameters (both optional): `target-bucket`, `target-prefix`.

use hubfix_plugin_sdk::bucket::{self, Prepared};
use hubfix_plugin_sdk::s3::{self, BucketLogging};
use hubfix_plugin_sdk::{Guest, Mode, Outcome, ParamError, Params, PluginInfo, Request};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use hubfix_plugin_sdk::document::Document;

const NAME: &str = "cloudtrail-bucket-access-logging";
const CONTROLS: &[&str] = &["CloudTrail.7"];
const GET_LOGGING: &str = "s3.get-bucket-logging";
const PUT_LOGGING: &str = "s3.put-bucket-logging";
const BUCKET: &str = "AwsS3Bucket";

const TARGET_BUCKET: &str = "target-bucket";
const TARGET_PREFIX: &str = "target-prefix";

/// The `Sid` of the log-delivery statement in the plugin's own log bucket.
const SID: &str = "HubfixS3ServerAccessLogs";
/// The service that writes server access logs.
const LOGGING_SERVICE: &str = "logging.s3.amazonaws.com";
/// Who the log bucket's policy lets write, for messages.
const DELIVERY: &str = "S3 log delivery";

struct AccessLogging;

impl Guest for AccessLogging {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[
                GET_LOGGING,
                PUT_LOGGING,
                bucket::CREATE,
                bucket::GET_POLICY,
                bucket::PUT_POLICY,
                bucket::GET_PAB,
                bucket::PUT_PAB,
            ],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let finding = &request.finding;
        let Some(source) = finding.resource_short_id(BUCKET) else {
            return Outcome::skipped(format!(
                "the finding names no {BUCKET} resource (the trail's bucket); nothing to log"
            ));
        };
        let settings = match Settings::from_params(&request.params, source) {
            Ok(settings) => settings,
            Err(e) => return e.to_outcome(),
        };
        match s3::get_bucket_logging(source) {
            Err(e) => return e.to_outcome(GET_LOGGING),
            Ok(Some(on)) => {
                return Outcome::already_compliant(format!(
                    "server access logging of bucket {source} is already on (to {}/{})",
                    on.target_bucket, on.target_prefix
                ));
            }
            Ok(None) => {}
        }
        let mode = request.mode;
        let (target, prepared) = match settings.target_bucket {
            Some(target) => (target, None),
            None => {
                let partition = match finding.partition.as_str() {
                    "" => "aws",
                    p => p,
                };
                let target = own_bucket_name(&finding.account_id, &finding.region);
                let source_arn = format!("arn:{partition}:s3:::{source}");
                let context = LogBucket {
                    name: &target,
                    partition,
                    account: &finding.account_id,
                    source_arn: &source_arn,
                };
                match prepare(&context) {
                    Ok(done) => (target, Some(done)),
                    Err(outcome) => return outcome,
                }
            }
        };
        let logging = BucketLogging {
            target_bucket: target.clone(),
            target_prefix: settings.target_prefix,
        };
        match s3::put_bucket_logging(source, &logging) {
            Err(e) => {
                let mut outcome = e.to_outcome(PUT_LOGGING);
                if let Some(done) = &prepared {
                    outcome.message.push_str(&format!(
                        "; the log bucket was already prepared: {}",
                        done.phrase(Mode::Apply, &target, DELIVERY)
                    ));
                }
                outcome
            }
            Ok(()) => Outcome::remediated(format!(
                "{} server access logging of bucket {source} to {target}/{}{}",
                mode.verb("turned on", "would turn on"),
                logging.target_prefix,
                prepared
                    .map(|p| format!("; {}", p.phrase(mode, &target, DELIVERY)))
                    .unwrap_or_default()
            )),
        }
    }
}

hubfix_plugin_sdk::export!(AccessLogging);

/// The parameters, with their defaults.
#[derive(Debug, PartialEq)]
struct Settings {
    target_bucket: Option<String>,
    target_prefix: String,
}

impl Settings {
    fn from_params(raw: &[(String, String)], source: &str) -> Result<Self, ParamError> {
        let params = Params::new(raw, &[TARGET_BUCKET, TARGET_PREFIX])?;
        let target_bucket = match params.get(TARGET_BUCKET).map(str::trim) {
            None => None,
            Some(t) if t.is_empty() || t == source => {
                return Err(ParamError::invalid_value(
                    TARGET_BUCKET,
                    t,
                    "expected the name of another bucket of the account, in the same region",
                ));
            }
            Some(t) => Some(t.to_owned()),
        };
        let target_prefix = params
            .get(TARGET_PREFIX)
            .map_or_else(|| format!("{source}/"), str::to_owned);
        Ok(Self {
            target_bucket,
            target_prefix,
        })
    }
}

/// The plugin's own log bucket of an account and region.
fn own_bucket_name(account: &str, region: &str) -> String {
    format!("hubfix-access-logs-{account}-{region}")
}

/// The plugin's log bucket and the source whose logs it takes.
struct LogBucket<'a> {
    name: &'a str,
    partition: &'a str,
    account: &'a str,
    source_arn: &'a str,
}

/// Creates (or finds) the log bucket and makes sure it accepts the source's logs and is
/// not public.
fn prepare(log_bucket: &LogBucket<'_>) -> Result<Prepared, Outcome> {
    bucket::prepare(
        log_bucket.name,
        |policy| delivery_policy(policy, log_bucket),
        None,
    )
}

/// The log bucket's policy with the delivery statement allowing the source, or `None`
/// when `policy` already has it. Other statements are kept verbatim.
fn delivery_policy(policy: Option<&str>, bucket: &LogBucket<'_>) -> Result<Option<String>, String> {
    let mut document = match policy {
        Some(text) => Document::parse(text)?,
        None => Document::new(),
    };
    let mut statements = document.statements()?;
    let mut ours = None;
    for (i, raw) in statements.iter().enumerate() {
        let statement: Value = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
        if statement.get("Sid").and_then(Value::as_str) == Some(SID) {
            ours = Some((i, statement));
            break;
        }
    }
    // The sources the statement already allows, plus this one.
    let mut sources: Vec<String> = ours
        .as_ref()
        .map(|(_, s)| {
            let arns = &s["Condition"]["ArnLike"]["aws:SourceArn"];
            match arns {
                Value::String(a) => vec![a.clone()],
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            }
        })
        .unwrap_or_default();
    if !sources.iter().any(|s| s == bucket.source_arn) {
        sources.push(bucket.source_arn.to_owned());
    }
    let wanted = delivery_statement(bucket, &sources);
    let raw = RawValue::from_string(wanted.to_string()).map_err(|e| e.to_string())?;
    match ours {
        Some((_, existing)) if existing == wanted => return Ok(None),
        Some((i, _)) => statements[i] = raw,
        None => statements.push(raw),
    }
    document.set_statements(&statements);
    Ok(Some(document.render()))
}

/// The statement that lets S3 log delivery write the `sources`' logs into the bucket.
fn delivery_statement(bucket: &LogBucket<'_>, sources: &[String]) -> Value {
    json!({
        "Sid": SID,
        "Effect": "Allow",
        "Principal": {"Service": LOGGING_SERVICE},
        "Action": "s3:PutObject",
        "Resource": format!("arn:{}:s3:::{}/*", bucket.partition, bucket.name),
        "Condition": {
            "ArnLike": {"aws:SourceArn": sources},
            "StringEquals": {"aws:SourceAccount": bucket.account},
        },
    })
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

    fn log_bucket(source_arn: &str) -> LogBucket<'_> {
        LogBucket {
            name: "hubfix-access-logs-111111111111-eu-west-1",
            partition: "aws",
            account: "111111111111",
            source_arn,
        }
    }

    #[test]
    fn parameters_and_defaults() {
        let s = Settings::from_params(&[], "trail").unwrap();
        assert_eq!(s.target_bucket, None);
        assert_eq!(s.target_prefix, "trail/");
        let s = Settings::from_params(
            &raw(&[(TARGET_BUCKET, " central-logs "), (TARGET_PREFIX, "")]),
            "trail",
        )
        .unwrap();
        assert_eq!(s.target_bucket.as_deref(), Some("central-logs"));
        assert_eq!(s.target_prefix, "");
        assert!(Settings::from_params(&raw(&[(TARGET_BUCKET, "trail")]), "trail").is_err());
        assert!(Settings::from_params(&raw(&[(TARGET_BUCKET, " ")]), "trail").is_err());
        assert!(Settings::from_params(&raw(&[("bucket", "x")]), "trail").is_err());
        assert_eq!(
            own_bucket_name("111111111111", "eu-west-1"),
            "hubfix-access-logs-111111111111-eu-west-1"
        );
    }

    #[test]
    fn a_new_log_bucket_gets_one_statement_for_the_source() {
        let b = log_bucket("arn:aws:s3:::trail");
        let text = delivery_policy(None, &b).unwrap().unwrap();
        let policy: Value = serde_json::from_str(&text).unwrap();
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        let s = &statements[0];
        assert_eq!(s["Principal"]["Service"], LOGGING_SERVICE);
        // One resource string (S3 and the emulator match it as such).
        assert_eq!(
            s["Resource"],
            "arn:aws:s3:::hubfix-access-logs-111111111111-eu-west-1/*"
        );
        assert_eq!(
            s["Condition"]["StringEquals"]["aws:SourceAccount"],
            "111111111111"
        );
        assert_eq!(
            s["Condition"]["ArnLike"]["aws:SourceArn"],
            json!(["arn:aws:s3:::trail"])
        );
        // Again for the same source: nothing to change.
        assert_eq!(delivery_policy(Some(&text), &b).unwrap(), None);
    }

    #[test]
    fn a_reused_bucket_gains_the_source_and_keeps_other_statements() {
        let first = delivery_policy(None, &log_bucket("arn:aws:s3:::one"))
            .unwrap()
            .unwrap();
        let other = r#"{"Sid":"Audit","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/auditor"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::x/*"}"#;
        let with_other = first.replacen("\"Statement\":[", &format!("\"Statement\":[{other},"), 1);
        let text = delivery_policy(Some(&with_other), &log_bucket("arn:aws:s3:::two"))
            .unwrap()
            .unwrap();
        assert!(text.contains(other), "{text}");
        let policy: Value = serde_json::from_str(&text).unwrap();
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(
            statements[1]["Condition"]["ArnLike"]["aws:SourceArn"],
            json!(["arn:aws:s3:::one", "arn:aws:s3:::two"])
        );
        // A statement with the plugin's Sid that does something else is replaced.
        let impostor = json!({"Statement": [{"Sid": SID, "Effect": "Deny", "Principal": "*",
                                             "Action": "s3:PutObject", "Resource": "*"}]})
        .to_string();
        let text = delivery_policy(Some(&impostor), &log_bucket("arn:aws:s3:::one"))
            .unwrap()
            .unwrap();
        let policy: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(policy["Statement"][0]["Effect"], "Allow");
        assert_eq!(policy["Statement"].as_array().unwrap().len(), 1);
        assert!(delivery_policy(Some("[1]"), &log_bucket("arn:aws:s3:::one")).is_err());
    }
}
