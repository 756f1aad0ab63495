//! `s3-bucket-ssl-only`: makes the bucket the finding names refuse requests that do not
//! use TLS (Security Hub S3.5; CIS AWS Foundations 1.4.0 2.1.2, 3.0.0 2.1.1).
//!
//! The finding names an `AwsS3Bucket`. The plugin reads `s3.get-bucket-policy` and, unless
//! the policy already denies insecure transport, merges one statement into it:
//!
//! ```json
//! {"Sid": "HubfixDenyInsecureTransport", "Effect": "Deny", "Principal": "*",
//!  "Action": "s3:*", "Resource": ["arn:aws:s3:::NAME", "arn:aws:s3:::NAME/*"],
//!  "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
//! ```
//!
//! and writes the policy back with `s3.put-bucket-policy`. Every other statement, and
//! every other top-level field, is written back exactly as it was read. A bucket without a
//! policy gets one with only this statement.
//!
//! "Already denies insecure transport" is judged by what statements do, not by their
//! `Sid`: `Deny` to every principal of `s3:*` (or `*`), with the only condition
//! `Bool` `aws:SecureTransport` = `false`, covering the bucket and its objects (by one
//! statement or several). A statement that merely carries the plugin's `Sid` but does
//! something else does not count; the new statement then gets a `Sid` no other statement
//! has. The result must fit S3's 20 KiB limit, or the plugin fails and changes nothing.
//! A bucket that no longer exists is `skipped` (not found). No parameters.

use hubfix_plugin_sdk::s3;
use hubfix_plugin_sdk::{Guest, Mode, Outcome, Params, PluginInfo, Request, plugin_info};
use serde_json::Value;
use serde_json::value::RawValue;

use hubfix_plugin_sdk::document::Document;

const NAME: &str = "s3-bucket-ssl-only";
const CONTROLS: &[&str] = &["S3.5"];
const GET: &str = "s3.get-bucket-policy";
const PUT: &str = "s3.put-bucket-policy";
const BUCKET: &str = "AwsS3Bucket";

/// The `Sid` of the statement the plugin adds (with a number after it when taken).
const SID: &str = "HubfixDenyInsecureTransport";
/// Most bytes of a bucket policy (S3's limit).
const MAX_POLICY_BYTES: usize = 20 << 10;

struct SslOnly;

impl Guest for SslOnly {
    fn describe() -> PluginInfo {
        plugin_info(NAME, env!("CARGO_PKG_VERSION"), CONTROLS, &[GET, PUT])
    }

    fn remediate(request: Request) -> Outcome {
        if let Err(e) = Params::new(&request.params, &[]) {
            return e.to_outcome();
        }
        let Some(bucket) = request.finding.resource_short_id(BUCKET) else {
            return Outcome::skipped(format!(
                "the finding names no {BUCKET} resource; this plugin fixes S3 buckets only"
            ));
        };
        let current = match s3::get_bucket_policy(bucket) {
            Ok(current) => current,
            Err(e) => return e.to_outcome(GET),
        };
        let partition = match request.finding.partition.as_str() {
            "" => "aws",
            p => p,
        };
        let (text, sid, kept) = match merge(current.as_deref(), partition, bucket) {
            Err(e) => {
                return Outcome::failed(format!(
                    "the policy of bucket {bucket} cannot be merged into: {e}"
                ));
            }
            Ok(Merge::AlreadyDenied) => {
                return Outcome::already_compliant(format!(
                    "the policy of bucket {bucket} already denies requests without TLS"
                ));
            }
            Ok(Merge::Policy { text, sid, kept }) => (text, sid, kept),
        };
        match s3::put_bucket_policy(bucket, &text) {
            Err(e) => e.to_outcome(PUT),
            Ok(()) => Outcome::remediated(added_message(request.mode, bucket, &sid, kept)),
        }
    }
}

hubfix_plugin_sdk::export!(SslOnly);

/// What the policy needs.
#[derive(Debug, PartialEq)]
enum Merge {
    /// It already denies insecure transport on the bucket and its objects.
    AlreadyDenied,
    /// This policy text: the old one with the statement `sid` added, `kept` statements
    /// kept.
    Policy {
        text: String,
        sid: String,
        kept: usize,
    },
}

/// Merges the deny-without-TLS statement into `policy` (`None`: the bucket has none).
fn merge(policy: Option<&str>, partition: &str, bucket: &str) -> Result<Merge, String> {
    let bucket_arn = format!("arn:{partition}:s3:::{bucket}");
    let objects_arn = format!("{bucket_arn}/*");
    let mut document = match policy {
        Some(text) => Document::parse(text)?,
        None => Document::new(),
    };
    let statements = document.statements()?;
    let parsed: Vec<Value> = statements
        .iter()
        .map(|s| serde_json::from_str(s.get()).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let covers = |arn: &str| {
        parsed
            .iter()
            .filter(|s| denies_insecure_transport(s))
            .any(|s| {
                strings(s.get("Resource"))
                    .iter()
                    .any(|r| *r == arn || *r == "*")
            })
    };
    if covers(&bucket_arn) && covers(&objects_arn) {
        return Ok(Merge::AlreadyDenied);
    }
    let sids: Vec<&str> = parsed
        .iter()
        .filter_map(|s| s.get("Sid").and_then(Value::as_str))
        .collect();
    let sid = (1..)
        .map(|n| match n {
            1 => SID.to_owned(),
            n => format!("{SID}{n}"),
        })
        .find(|candidate| !sids.contains(&candidate.as_str()))
        .unwrap_or_else(|| SID.to_owned());
    let statement = serde_json::json!({
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, objects_arn],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    });
    let raw = RawValue::from_string(statement.to_string()).map_err(|e| e.to_string())?;
    let kept = statements.len();
    let mut statements = statements;
    statements.push(raw);
    document.set_statements(&statements);
    let text = document.render();
    if text.len() > MAX_POLICY_BYTES {
        return Err(format!(
            "with the deny-without-TLS statement it would have {} bytes, over S3's limit of \
             {MAX_POLICY_BYTES}; shorten the policy or add the statement by hand",
            text.len()
        ));
    }
    Ok(Merge::Policy { text, sid, kept })
}

/// A string or a list of strings, as a list (anything else: empty).
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether `statement` denies every principal every S3 action when, and only when, the
/// request does not use TLS: `Effect` `Deny`, `Principal` `*` (or `{"AWS": "*"}`),
/// `Action` `s3:*` or `*`, and a `Condition` of exactly `Bool` `aws:SecureTransport`
/// `false`. Its resources are checked by the caller.
fn denies_insecure_transport(statement: &Value) -> bool {
    let every_principal = match statement.get("Principal") {
        Some(Value::String(p)) => p == "*",
        Some(Value::Object(p)) => p.len() == 1 && strings(p.get("AWS")).contains(&"*"),
        _ => false,
    };
    let every_action = strings(statement.get("Action"))
        .iter()
        .any(|a| *a == "*" || a.eq_ignore_ascii_case("s3:*"));
    let insecure_only = statement
        .get("Condition")
        .and_then(Value::as_object)
        .filter(|c| c.len() == 1)
        .and_then(|c| c.get("Bool"))
        .and_then(Value::as_object)
        .filter(|b| b.len() == 1)
        .and_then(|b| b.get("aws:SecureTransport"))
        .is_some_and(|v| match v {
            Value::Bool(b) => !b,
            Value::String(s) => s.eq_ignore_ascii_case("false"),
            Value::Array(items) => {
                items.len() == 1
                    && matches!(&items[0], Value::String(s) if s.eq_ignore_ascii_case("false"))
            }
            _ => false,
        });
    statement.get("Effect").and_then(Value::as_str) == Some("Deny")
        && statement.get("NotAction").is_none()
        && statement.get("NotResource").is_none()
        && every_principal
        && every_action
        && insecure_only
}

fn added_message(mode: Mode, bucket: &str, sid: &str, kept: usize) -> String {
    let kept = match kept {
        0 => "the bucket had no policy statements".to_owned(),
        1 => "its 1 other statement is kept as it was".to_owned(),
        n => format!("its {n} other statements are kept as they were"),
    };
    format!(
        "{} statement {sid} to the policy of bucket {bucket}, denying every request without TLS ({kept})",
        mode.verb("added", "would add")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn deny(bucket: &str) -> Value {
        json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
               "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
               "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    }

    #[test]
    fn a_bucket_without_policy_gets_one_statement() {
        let Merge::Policy { text, sid, kept } = merge(None, "aws", "b").unwrap() else {
            panic!("expected a policy");
        };
        assert_eq!((sid.as_str(), kept), (SID, 0));
        let policy = parsed(&text);
        assert_eq!(policy["Version"], "2012-10-17");
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert!(denies_insecure_transport(&statements[0]));
        assert_eq!(
            statements[0]["Resource"],
            json!(["arn:aws:s3:::b", "arn:aws:s3:::b/*"])
        );
        // Merging again finds it.
        assert_eq!(
            merge(Some(&text), "aws", "b").unwrap(),
            Merge::AlreadyDenied
        );
    }

    #[test]
    fn other_statements_and_fields_are_kept_verbatim() {
        let keep = r#"{"Sid":"Keep","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*"}"#;
        let text = format!(r#"{{"Version":"2012-10-17","Id":"P1","Statement":[{keep}]}}"#);
        let Merge::Policy {
            text: out, kept, ..
        } = merge(Some(&text), "aws", "b").unwrap()
        else {
            panic!("expected a policy");
        };
        assert_eq!(kept, 1);
        assert!(out.contains(keep), "{out}");
        assert!(
            out.starts_with(r#"{"Version":"2012-10-17","Id":"P1","Statement":["#),
            "{out}"
        );
        let policy = parsed(&out);
        assert_eq!(policy["Statement"].as_array().unwrap().len(), 2);
        // A single statement object (not a list) becomes a list of two.
        let single = format!(r#"{{"Statement":{keep}}}"#);
        let Merge::Policy { text: out, .. } = merge(Some(&single), "aws", "b").unwrap() else {
            panic!("expected a policy");
        };
        assert_eq!(parsed(&out)["Statement"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn presence_is_judged_by_what_a_statement_does_not_its_sid() {
        // A differently named statement that already denies: compliant.
        let mut other_sid = deny("b");
        other_sid["Sid"] = json!("AllowSSLRequestsOnly");
        let text = json!({"Statement": [other_sid]}).to_string();
        assert_eq!(
            merge(Some(&text), "aws", "b").unwrap(),
            Merge::AlreadyDenied
        );
        // Split over two statements, with a boolean condition value: compliant.
        let mut on_bucket = deny("b");
        on_bucket["Resource"] = json!("arn:aws:s3:::b");
        let mut on_objects = deny("b");
        on_objects["Resource"] = json!("arn:aws:s3:::b/*");
        on_objects["Condition"] = json!({"Bool": {"aws:SecureTransport": false}});
        let text = json!({"Statement": [on_bucket, on_objects]}).to_string();
        assert_eq!(
            merge(Some(&text), "aws", "b").unwrap(),
            Merge::AlreadyDenied
        );

        // The plugin's Sid on something else: not compliant, and a new Sid is used.
        let impostor = json!({"Sid": SID, "Effect": "Allow", "Principal": "*",
                              "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"});
        let text = json!({"Statement": [impostor]}).to_string();
        let Merge::Policy { sid, .. } = merge(Some(&text), "aws", "b").unwrap() else {
            panic!("expected a policy");
        };
        assert_eq!(sid, format!("{SID}2"));
    }

    #[test]
    fn near_misses_do_not_count() {
        let variants: Vec<Value> = vec![
            // Only the objects.
            json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                   "Resource": "arn:aws:s3:::b/*",
                   "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
            // Another bucket.
            deny("c"),
            // Only GetObject.
            {
                let mut s = deny("b");
                s["Action"] = json!("s3:GetObject");
                s
            },
            // A narrower condition.
            {
                let mut s = deny("b");
                s["Condition"]["StringEquals"] = json!({"aws:PrincipalAccount": "1"});
                s
            },
            // One principal only.
            {
                let mut s = deny("b");
                s["Principal"] = json!({"AWS": "arn:aws:iam::1:root"});
                s
            },
            // Allow, not Deny.
            {
                let mut s = deny("b");
                s["Effect"] = json!("Allow");
                s
            },
            // Deny when TLS *is* used.
            {
                let mut s = deny("b");
                s["Condition"] = json!({"Bool": {"aws:SecureTransport": "true"}});
                s
            },
        ];
        for statement in variants {
            let text = json!({"Statement": [statement]}).to_string();
            assert!(
                matches!(
                    merge(Some(&text), "aws", "b").unwrap(),
                    Merge::Policy { .. }
                ),
                "{text}"
            );
        }
        // Another partition's ARN does not count for an aws-cn bucket.
        let text = json!({"Statement": [deny("b")]}).to_string();
        assert!(matches!(
            merge(Some(&text), "aws-cn", "b").unwrap(),
            Merge::Policy { .. }
        ));
    }

    #[test]
    fn the_result_must_fit_s3s_limit() {
        let filler = "x".repeat(MAX_POLICY_BYTES - 100);
        let text = json!({"Id": filler, "Statement": []}).to_string();
        assert!(text.len() < MAX_POLICY_BYTES);
        match merge(Some(&text), "aws", "b") {
            Err(e) => assert!(e.contains("over S3's limit of 20480"), "{e}"),
            Ok(_) => panic!("a policy over 20 KiB was accepted"),
        }
        let fits = json!({"Id": "x".repeat(MAX_POLICY_BYTES - 600), "Statement": []}).to_string();
        assert!(matches!(
            merge(Some(&fits), "aws", "b"),
            Ok(Merge::Policy { .. })
        ));
    }

    #[test]
    fn broken_policies_are_errors() {
        assert!(merge(Some("{not json"), "aws", "b").is_err());
        assert!(merge(Some("[]"), "aws", "b").is_err());
        assert!(merge(Some(r#"{"Statement":"x"}"#), "aws", "b").is_err());
    }

    #[test]
    fn messages_follow_the_mode() {
        let m = added_message(Mode::Plan, "b", SID, 2);
        assert!(
            m.starts_with("would add statement HubfixDenyInsecureTransport"),
            "{m}"
        );
        assert!(m.contains("its 2 other statements are kept"), "{m}");
        assert!(added_message(Mode::Apply, "b", SID, 0).starts_with("added"));
    }
}
