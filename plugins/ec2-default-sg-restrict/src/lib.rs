//! `ec2-default-sg-restrict`: removes every rule from a VPC's default security group
//! (Security Hub EC2.2; CIS AWS Foundations 5.4 in v3.0, 4.3 in v1.2/v1.4).
//!
//! The finding names the default group (`AwsEc2SecurityGroup`). The plugin checks with
//! `ec2.describe-security-groups` that the group is really named `default` (any other
//! group is skipped: emptying it could cut off a workload), lists its rules with
//! `ec2.describe-security-group-rules`, and revokes all ingress rules with one
//! `ec2.revoke-security-group-ingress` and all egress rules with one
//! `ec2.revoke-security-group-egress`, leaving out a call with nothing to revoke.
//! A group without rules is already compliant. Takes no parameters.

use hubfix_plugin_sdk::ec2::{self, SecurityGroup, SecurityGroupRule};
use hubfix_plugin_sdk::{Guest, Mode, Outcome, Params, PluginInfo, Request};

const NAME: &str = "ec2-default-sg-restrict";
const CONTROLS: &[&str] = &["EC2.2"];
const DESCRIBE_GROUPS: &str = "ec2.describe-security-groups";
const DESCRIBE_RULES: &str = "ec2.describe-security-group-rules";
const REVOKE_INGRESS: &str = "ec2.revoke-security-group-ingress";
const REVOKE_EGRESS: &str = "ec2.revoke-security-group-egress";

const SECURITY_GROUP: &str = "AwsEc2SecurityGroup";
const DEFAULT_GROUP_NAME: &str = "default";

struct DefaultSgRestrict;

impl Guest for DefaultSgRestrict {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[
                DESCRIBE_GROUPS,
                DESCRIBE_RULES,
                REVOKE_INGRESS,
                REVOKE_EGRESS,
            ],
        )
    }

    fn remediate(request: Request) -> Outcome {
        if let Err(e) = Params::new(&request.params, &[]) {
            return e.to_outcome();
        }
        let Some(group) = request.finding.resource_short_id(SECURITY_GROUP) else {
            return Outcome::skipped(format!(
                "the finding names no {SECURITY_GROUP} resource; nothing to restrict"
            ));
        };
        let groups = match ec2::describe_security_groups(&[group.to_owned()]) {
            Ok(groups) => groups,
            Err(e) => return e.to_outcome(DESCRIBE_GROUPS),
        };
        if let Some(skip) = check_default_group(group, &groups) {
            return skip;
        }
        let rules = match ec2::describe_security_group_rules(group) {
            Ok(rules) => rules,
            Err(e) => return e.to_outcome(DESCRIBE_RULES),
        };
        let (ingress, egress) = split_rules(&rules);
        if ingress.is_empty() && egress.is_empty() {
            return Outcome::already_compliant(format!(
                "the default security group {group} has no rules"
            ));
        }
        if !ingress.is_empty()
            && let Err(e) = ec2::revoke_security_group_ingress(group, &ingress)
        {
            return e.to_outcome(REVOKE_INGRESS);
        }
        if !egress.is_empty()
            && let Err(e) = ec2::revoke_security_group_egress(group, &egress)
        {
            let mut out = e.to_outcome(REVOKE_EGRESS);
            if !ingress.is_empty() {
                out.message = format!(
                    "{}; its {} ingress rule(s) {}",
                    out.message,
                    ingress.len(),
                    request.mode.verb("were revoked", "would have been revoked")
                );
            }
            return out;
        }
        Outcome::remediated(revoked_message(request.mode, group, &ingress, &egress))
    }
}

hubfix_plugin_sdk::export!(DefaultSgRestrict);

/// `None` when `groups` (the answer to describing `group`) shows a default security
/// group; otherwise the `skipped` outcome that says why not.
fn check_default_group(group: &str, groups: &[SecurityGroup]) -> Option<Outcome> {
    match groups.iter().find(|g| g.group_id == group) {
        None => Some(Outcome::skipped(format!(
            "security group {group} was not found; the finding is probably stale"
        ))),
        Some(g) if g.group_name == DEFAULT_GROUP_NAME => None,
        Some(g) => Some(Outcome::skipped(format!(
            "{group} (named `{}`) is not a default security group",
            g.group_name
        ))),
    }
}

/// The ids of the ingress rules and of the egress rules.
fn split_rules(rules: &[SecurityGroupRule]) -> (Vec<String>, Vec<String>) {
    let ids = |egress: bool| {
        rules
            .iter()
            .filter(|r| r.is_egress == egress)
            .map(|r| r.rule_id.clone())
            .collect::<Vec<_>>()
    };
    (ids(false), ids(true))
}

fn revoked_message(mode: Mode, group: &str, ingress: &[String], egress: &[String]) -> String {
    let mut parts = Vec::new();
    for (direction, ids) in [("ingress", ingress), ("egress", egress)] {
        if !ids.is_empty() {
            parts.push(format!(
                "{} {direction} rule{} ({})",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                ids.join(", ")
            ));
        }
    }
    format!(
        "{} every rule of the default security group {group}: {}",
        mode.verb("revoked", "would revoke"),
        parts.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubfix_plugin_sdk::Status;

    fn group(id: &str, name: &str) -> SecurityGroup {
        SecurityGroup {
            group_id: id.into(),
            group_name: name.into(),
            vpc_id: Some("vpc-1".into()),
            owner_id: "111111111111".into(),
            description: "d".into(),
        }
    }

    fn rule(id: &str, egress: bool) -> SecurityGroupRule {
        SecurityGroupRule {
            rule_id: id.into(),
            group_id: "sg-1".into(),
            is_egress: egress,
            ip_protocol: "-1".into(),
            from_port: None,
            to_port: None,
            cidr_ipv4: Some("0.0.0.0/0".into()),
            cidr_ipv6: None,
            prefix_list_id: None,
            referenced_group_id: None,
            description: None,
        }
    }

    #[test]
    fn describes_itself() {
        let info = DefaultSgRestrict::describe();
        assert_eq!(info.name, "ec2-default-sg-restrict");
        assert_eq!(info.controls, ["EC2.2"]);
        assert_eq!(info.functions.len(), 4);
        assert!(
            info.functions
                .iter()
                .any(|f| f == "ec2.revoke-security-group-egress")
        );
    }

    #[test]
    fn only_a_default_group_is_touched() {
        assert_eq!(
            check_default_group("sg-1", &[group("sg-1", "default")]),
            None
        );
        let web = check_default_group("sg-1", &[group("sg-1", "web")]).unwrap();
        assert_eq!(web.status, Status::Skipped);
        assert!(
            web.message.contains("not a default security group"),
            "{}",
            web.message
        );
        assert!(web.message.contains("`web`"), "{}", web.message);
        let gone = check_default_group("sg-1", &[]).unwrap();
        assert_eq!(gone.status, Status::Skipped);
        // The answer must be about the group the finding names.
        let other = check_default_group("sg-1", &[group("sg-2", "default")]).unwrap();
        assert_eq!(other.status, Status::Skipped);
    }

    #[test]
    fn splits_ingress_from_egress() {
        let rules = vec![
            rule("sgr-a", false),
            rule("sgr-b", true),
            rule("sgr-c", false),
        ];
        let (ingress, egress) = split_rules(&rules);
        assert_eq!(ingress, ["sgr-a", "sgr-c"]);
        assert_eq!(egress, ["sgr-b"]);
        let (ingress, egress) = split_rules(&[rule("sgr-b", true)]);
        assert!(ingress.is_empty());
        assert_eq!(egress, ["sgr-b"]);
        let (ingress, egress) = split_rules(&[]);
        assert!(ingress.is_empty() && egress.is_empty());
    }

    #[test]
    fn message_names_the_rules() {
        let msg = revoked_message(
            Mode::Apply,
            "sg-1",
            &["sgr-a".into(), "sgr-c".into()],
            &["sgr-b".into()],
        );
        assert_eq!(
            msg,
            "revoked every rule of the default security group sg-1: \
             2 ingress rules (sgr-a, sgr-c) and 1 egress rule (sgr-b)"
        );
        let plan = revoked_message(Mode::Plan, "sg-1", &[], &["sgr-b".into()]);
        assert_eq!(
            plan,
            "would revoke every rule of the default security group sg-1: 1 egress rule (sgr-b)"
        );
    }
}
