//! `iam-expired-certificates`: deletes expired SSL/TLS server certificates stored in IAM
//! that nothing uses (Security Hub IAM.26; CIS AWS Foundations 3.0.0 1.19, 5.0.0 1.18).
//!
//! The finding names an `AwsIamServerCertificate` (by ARN, path included, or by name), or
//! the account (`AwsAccount`: every certificate of it). The plugin lists the account's
//! certificates (`iam:ListServerCertificates`) and, for each one the finding is about that
//! expired before now, calls `iam:DeleteServerCertificate`. IAM refuses to delete a
//! certificate a load balancer or CloudFront distribution still uses (DeleteConflict):
//! that one is kept, and the outcome is `skipped`, naming it, because serving an expired
//! certificate is a problem a person must fix where it is used. A certificate that has
//! not expired is left alone, one that no longer exists is compliant, one IAM gives no
//! expiry for is `skipped`, and an ARN of another account is `skipped` without a call.
//! No parameters.

use hubfix_plugin_sdk::iam::{self, ServerCertificate};
use hubfix_plugin_sdk::{Finding, Guest, Mode, Outcome, PluginInfo, Request};

const NAME: &str = "iam-expired-certificates";
const CONTROLS: &[&str] = &["IAM.26"];
const LIST: &str = "iam.list-server-certificates";
const DELETE: &str = "iam.delete-server-certificate";
const CERTIFICATE: &str = "AwsIamServerCertificate";

struct ExpiredCertificates;

/// Which certificates the finding is about.
#[derive(Debug, PartialEq, Eq)]
enum About {
    /// Every certificate of the account.
    Account,
    /// The one with this ARN or name.
    One(String),
}

fn about(finding: &Finding) -> Result<About, Outcome> {
    if let Some(resource) = finding.resource(CERTIFICATE) {
        let id = resource.id.trim();
        if id.is_empty() || id.len() > 2048 {
            return Err(Outcome::skipped(format!(
                "the finding's {CERTIFICATE} id is not one"
            )));
        }
        if id.starts_with("arn:") && id.split(':').nth(4) != Some(finding.account_id.as_str()) {
            return Err(Outcome::skipped(format!(
                "`{}` is not a server certificate of account {}",
                id.chars().take(200).collect::<String>(),
                finding.account_id
            )));
        }
        return Ok(About::One(id.to_owned()));
    }
    finding.own_account("the account's server certificates")?;
    Ok(About::Account)
}

/// What became of the expired certificates.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    deleted: Vec<String>,
    in_use: Vec<String>,
}

impl Guest for ExpiredCertificates {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(NAME, env!("CARGO_PKG_VERSION"), CONTROLS, &[LIST, DELETE])
    }

    fn remediate(request: Request) -> Outcome {
        if !request.params.is_empty() {
            return Outcome::failed(format!("{NAME} takes no parameters"));
        }
        let about = match about(&request.finding) {
            Ok(about) => about,
            Err(skipped) => return skipped,
        };
        let now = match hubfix_plugin_sdk::now_secs() {
            Ok(now) => now,
            Err(failed) => return failed,
        };
        let all = match iam::list_server_certificates() {
            Ok(all) => all,
            Err(e) => return e.to_outcome(LIST),
        };
        let chosen: Vec<&ServerCertificate> = match &about {
            About::Account => all.iter().collect(),
            About::One(id) => all
                .iter()
                .filter(|c| &c.arn == id || &c.name == id)
                .collect(),
        };
        if let About::One(id) = &about {
            let Some(cert) = chosen.first() else {
                // Deleting it is the fix: gone is compliant (whoever deleted it).
                return Outcome::already_compliant(format!(
                    "account {} has no server certificate `{}` (any more)",
                    request.finding.account_id,
                    id.chars().take(200).collect::<String>()
                ));
            };
            if cert.expiration.is_none() {
                return Outcome::skipped(format!(
                    "IAM gives no expiry for server certificate {}",
                    cert.name
                ));
            }
        }
        let expired: Vec<&ServerCertificate> = chosen
            .into_iter()
            .filter(|c| c.expiration.is_some_and(|t| t <= now))
            .collect();
        if expired.is_empty() {
            return Outcome::already_compliant(match &about {
                About::Account => "no server certificate of the account has expired".to_owned(),
                About::One(_) => "the server certificate has not expired".to_owned(),
            });
        }
        let mut tally = Tally::default();
        for cert in expired {
            match iam::delete_server_certificate(&cert.name) {
                Ok(true) => tally.deleted.push(cert.name.clone()),
                Ok(false) => tally.in_use.push(cert.name.clone()),
                Err(e) => return e.to_outcome(DELETE),
            }
        }
        verdict(&tally, request.mode)
    }
}

fn verdict(tally: &Tally, mode: Mode) -> Outcome {
    let deleted = if tally.deleted.is_empty() {
        String::new()
    } else {
        format!(
            "{} expired server certificate(s) {}",
            mode.verb("deleted", "would delete"),
            tally.deleted.join(", ")
        )
    };
    if tally.in_use.is_empty() {
        return Outcome::remediated(deleted);
    }
    let kept = format!(
        "kept expired server certificate(s) {}: still used by a load balancer or CloudFront \
         distribution; replace the certificate there, then delete it",
        tally.in_use.join(", ")
    );
    Outcome::skipped(if deleted.is_empty() {
        kept
    } else {
        format!("{deleted}; {kept}")
    })
}

hubfix_plugin_sdk::export!(ExpiredCertificates);

#[cfg(test)]
mod tests {
    use super::*;
    use hubfix_plugin_sdk::Status;

    #[test]
    fn a_certificate_in_use_keeps_the_control_failing() {
        let tally = Tally {
            deleted: vec!["old".into()],
            in_use: vec!["web".into()],
        };
        let out = verdict(&tally, Mode::Apply);
        assert_eq!(out.status, Status::Skipped);
        assert!(
            out.message
                .starts_with("deleted expired server certificate(s) old; kept")
        );
        assert!(out.message.contains("web: still used"), "{}", out.message);
        let tally = Tally {
            deleted: vec!["old".into(), "older".into()],
            in_use: vec![],
        };
        let out = verdict(&tally, Mode::Plan);
        assert_eq!(out.status, Status::Remediated);
        assert_eq!(
            out.message,
            "would delete expired server certificate(s) old, older"
        );
    }
}
