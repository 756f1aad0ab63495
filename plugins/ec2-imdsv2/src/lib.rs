//! `ec2-imdsv2`: requires IMDSv2 on the finding's EC2 instance (Security Hub EC2.8; CIS
//! AWS Foundations 5.6 in v3.0).
//!
//! The finding names an `AwsEc2Instance`. The plugin reads its metadata options with
//! `ec2.describe-instances` and, unless `http-tokens` is already `required`, sets it to
//! `required` with `ec2.modify-instance-metadata-options`. Nothing else changes: the hop
//! limit and the endpoint keep their values (the call sends only `HttpTokens`). An
//! instance that is gone or terminated is skipped as not found.
//!
//! Disruptive for software that still uses IMDSv1 (old SDKs and agents), which is why the
//! shipped policy leaves EC2.8 opt-in. No parameters.

use hubfix_plugin_sdk::ec2::{self, Instance};
use hubfix_plugin_sdk::{AwsError, Guest, Mode, Outcome, Params, PluginInfo, Request};

const NAME: &str = "ec2-imdsv2";
const CONTROLS: &[&str] = &["EC2.8"];
const DESCRIBE: &str = "ec2.describe-instances";
const MODIFY: &str = "ec2.modify-instance-metadata-options";
const INSTANCE: &str = "AwsEc2Instance";

struct Imdsv2;

impl Guest for Imdsv2 {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[DESCRIBE, MODIFY],
        )
    }

    fn remediate(request: Request) -> Outcome {
        if let Err(e) = Params::new(&request.params, &[]) {
            return e.to_outcome();
        }
        let Some(id) = request.finding.resource_short_id(INSTANCE) else {
            return Outcome::skipped(format!(
                "the finding names no {INSTANCE} resource; nothing to change"
            ));
        };
        let instance = match ec2::describe_instances(&[id.to_owned()]) {
            Ok(found) => found.into_iter().find(|i| i.instance_id == id),
            Err(AwsError::NotFound(_)) => None,
            Err(e) => return e.to_outcome(DESCRIBE),
        };
        let instance = match instance {
            Some(i) if !gone(&i) => i,
            Some(i) => {
                return Outcome::skipped(format!(
                    "instance {id} not found: it is {}; the finding is stale",
                    i.state
                ));
            }
            None => {
                return Outcome::skipped(format!("instance {id} not found; the finding is stale"));
            }
        };
        match decide(&instance) {
            Decision::Compliant => Outcome::already_compliant(format!(
                "instance {id} already requires IMDSv2 (http-tokens = required)"
            )),
            Decision::Require => {
                match ec2::modify_instance_metadata_options(id, "required", None) {
                    Err(AwsError::NotFound(_)) => {
                        Outcome::skipped(format!("instance {id} not found; the finding is stale"))
                    }
                    Err(e) => e.to_outcome(MODIFY),
                    Ok(()) => Outcome::remediated(message(request.mode, &instance)),
                }
            }
        }
    }
}

hubfix_plugin_sdk::export!(Imdsv2);

#[derive(Debug, PartialEq)]
enum Decision {
    Compliant,
    Require,
}

/// Terminated (or on its way there): as good as gone.
fn gone(instance: &Instance) -> bool {
    matches!(instance.state.as_str(), "terminated" | "shutting-down")
}

fn decide(instance: &Instance) -> Decision {
    if instance.http_tokens == "required" {
        Decision::Compliant
    } else {
        Decision::Require
    }
}

fn message(mode: Mode, instance: &Instance) -> String {
    let was = if instance.http_tokens.is_empty() {
        "unset"
    } else {
        instance.http_tokens.as_str()
    };
    let hops = instance
        .http_put_response_hop_limit
        .map_or_else(String::new, |n| format!(", hop limit {n} kept"));
    format!(
        "{} IMDSv2 on instance {} (http-tokens {was} -> required{hops}); software that \
         still uses IMDSv1 on it must move to IMDSv2",
        mode.verb("required", "would require"),
        instance.instance_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(state: &str, tokens: &str, hops: Option<i32>) -> Instance {
        Instance {
            instance_id: "i-0123456789abcdef0".into(),
            state: state.into(),
            http_tokens: tokens.into(),
            http_endpoint: "enabled".into(),
            http_put_response_hop_limit: hops,
        }
    }

    #[test]
    fn describes_itself() {
        let info = Imdsv2::describe();
        assert_eq!(info.name, "ec2-imdsv2");
        assert_eq!(info.controls, ["EC2.8"]);
        assert_eq!(
            info.functions,
            [
                "ec2.describe-instances",
                "ec2.modify-instance-metadata-options"
            ]
        );
    }

    #[test]
    fn only_required_tokens_are_compliant() {
        assert_eq!(
            decide(&instance("running", "required", Some(1))),
            Decision::Compliant
        );
        assert_eq!(
            decide(&instance("running", "optional", Some(2))),
            Decision::Require
        );
        assert_eq!(decide(&instance("stopped", "", None)), Decision::Require);
    }

    #[test]
    fn terminated_instances_are_gone() {
        assert!(gone(&instance("terminated", "optional", None)));
        assert!(gone(&instance("shutting-down", "optional", None)));
        assert!(!gone(&instance("stopped", "optional", None)));
        assert!(!gone(&instance("pending", "optional", None)));
    }

    #[test]
    fn messages_say_what_changed_and_what_was_kept() {
        assert_eq!(
            message(Mode::Apply, &instance("running", "optional", Some(2))),
            "required IMDSv2 on instance i-0123456789abcdef0 (http-tokens optional -> \
             required, hop limit 2 kept); software that still uses IMDSv1 on it must move \
             to IMDSv2"
        );
        assert!(
            message(Mode::Plan, &instance("running", "", None))
                .starts_with("would require IMDSv2 on instance i-0123456789abcdef0 (http-tokens unset -> required)")
        );
    }
}
