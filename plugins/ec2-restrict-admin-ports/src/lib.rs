//! `ec2-restrict-admin-ports`: revokes the security group ingress rules that open a
//! remote administration port to the whole internet (Security Hub EC2.13, EC2.14,
//! EC2.53, EC2.54; CIS AWS Foundations 5.2/5.3 in v3.0).
//!
//! The finding names an `AwsEc2SecurityGroup`. The plugin lists the group's rules with
//! `ec2.describe-security-group-rules` and revokes, in one
//! `ec2.revoke-security-group-ingress`, exactly the ingress rules whose peer is
//! `0.0.0.0/0` or `::/0` and that open an admin port: all traffic (protocol `-1`), or
//! TCP/UDP with a port range that covers one of the admin ports. Every other rule stays.
//!
//! Parameter (optional): `ports`, the admin ports as a comma-separated list
//! (default `22,3389`).

use hubfix_plugin_sdk::ec2::{self, SecurityGroupRule};
use hubfix_plugin_sdk::{Guest, Mode, Outcome, ParamError, Params, PluginInfo, Request};

const NAME: &str = "ec2-restrict-admin-ports";
const CONTROLS: &[&str] = &["EC2.13", "EC2.14", "EC2.53", "EC2.54"];
const DESCRIBE_RULES: &str = "ec2.describe-security-group-rules";
const REVOKE_INGRESS: &str = "ec2.revoke-security-group-ingress";

const SECURITY_GROUP: &str = "AwsEc2SecurityGroup";
const PORTS: &str = "ports";
const DEFAULT_PORTS: &[u32] = &[22, 3389];

struct RestrictAdminPorts;

impl Guest for RestrictAdminPorts {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[DESCRIBE_RULES, REVOKE_INGRESS],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let ports = match admin_ports(&request.params) {
            Ok(ports) => ports,
            Err(e) => return e.to_outcome(),
        };
        let Some(group) = request.finding.resource_short_id(SECURITY_GROUP) else {
            return Outcome::skipped(format!(
                "the finding names no {SECURITY_GROUP} resource; nothing to restrict"
            ));
        };
        let rules = match ec2::describe_security_group_rules(group) {
            Ok(rules) => rules,
            Err(e) => return e.to_outcome(DESCRIBE_RULES),
        };
        let revoke = rules_to_revoke(&rules, &ports);
        if revoke.is_empty() {
            return Outcome::already_compliant(format!(
                "{group} has no ingress rule opening {} to 0.0.0.0/0 or ::/0",
                ports_phrase(&ports)
            ));
        }
        let ids: Vec<String> = revoke.iter().map(|r| r.rule_id.clone()).collect();
        match ec2::revoke_security_group_ingress(group, &ids) {
            Err(e) => e.to_outcome(REVOKE_INGRESS),
            Ok(()) => Outcome::remediated(revoked_message(request.mode, group, &revoke)),
        }
    }
}

hubfix_plugin_sdk::export!(RestrictAdminPorts);

/// The admin ports: the `ports` parameter, or 22 and 3389.
fn admin_ports(raw: &[(String, String)]) -> Result<Vec<u32>, ParamError> {
    let params = Params::new(raw, &[PORTS])?;
    let Some(ports) = params.u32_list(PORTS)? else {
        return Ok(DEFAULT_PORTS.to_vec());
    };
    match ports.iter().find(|p| !(1..=65535).contains(*p)) {
        Some(bad) => Err(ParamError::invalid_value(
            PORTS,
            params.get(PORTS).unwrap_or_default(),
            &format!("port {bad} is not from 1 to 65535"),
        )),
        None => Ok(ports),
    }
}

/// The ingress rules that open one of `ports` to the whole internet, in rule order.
fn rules_to_revoke<'a>(
    rules: &'a [SecurityGroupRule],
    ports: &[u32],
) -> Vec<&'a SecurityGroupRule> {
    rules
        .iter()
        .filter(|r| !r.is_egress && world_peer(r).is_some() && opens_any(r, ports))
        .collect()
}

/// `0.0.0.0/0` or `::/0` when the rule's peer is the whole internet.
fn world_peer(rule: &SecurityGroupRule) -> Option<&str> {
    match (rule.cidr_ipv4.as_deref(), rule.cidr_ipv6.as_deref()) {
        (Some(v4 @ "0.0.0.0/0"), _) => Some(v4),
        (_, Some(v6 @ "::/0")) => Some(v6),
        _ => None,
    }
}

/// Whether the rule lets traffic to any of `ports` through: all traffic, or TCP/UDP
/// with a port range covering one of them (an absent or `-1` bound is open).
fn opens_any(rule: &SecurityGroupRule, ports: &[u32]) -> bool {
    let protocol = rule.ip_protocol.trim();
    if protocol == "-1" {
        return true;
    }
    let tcp_or_udp = ["tcp", "udp", "6", "17"]
        .iter()
        .any(|p| protocol.eq_ignore_ascii_case(p));
    if !tcp_or_udp {
        return false;
    }
    let (from, to) = port_range(rule);
    ports.iter().any(|p| (from..=to).contains(p))
}

/// The rule's port range, with absent or negative bounds opened to 0 and 65535.
fn port_range(rule: &SecurityGroupRule) -> (u32, u32) {
    let bound =
        |port: Option<i32>, open: u32| port.and_then(|p| u32::try_from(p).ok()).unwrap_or(open);
    (bound(rule.from_port, 0), bound(rule.to_port, 65535))
}

/// `sgr-1 (tcp 0-65535 from 0.0.0.0/0)`.
fn describe_rule(rule: &SecurityGroupRule) -> String {
    let peer = world_peer(rule).unwrap_or("?");
    let what = if rule.ip_protocol.trim() == "-1" {
        "all traffic".to_owned()
    } else {
        let (from, to) = port_range(rule);
        let protocol = match rule.ip_protocol.trim() {
            "6" => "tcp",
            "17" => "udp",
            other => other,
        };
        if from == to {
            format!("{protocol} {from}")
        } else {
            format!("{protocol} {from}-{to}")
        }
    };
    format!("{} ({what} from {peer})", rule.rule_id)
}

fn revoked_message(mode: Mode, group: &str, revoked: &[&SecurityGroupRule]) -> String {
    let rules: Vec<String> = revoked.iter().map(|r| describe_rule(r)).collect();
    format!(
        "{} {} ingress rule{} of {group} open to the internet on an admin port: {}",
        mode.verb("revoked", "would revoke"),
        revoked.len(),
        if revoked.len() == 1 { "" } else { "s" },
        rules.join(", ")
    )
}

/// `port 22` or `ports 22, 3389`.
fn ports_phrase(ports: &[u32]) -> String {
    let list: Vec<String> = ports.iter().map(u32::to_string).collect();
    let noun = if list.len() == 1 { "port" } else { "ports" };
    format!("{noun} {}", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        id: &str,
        protocol: &str,
        from: Option<i32>,
        to: Option<i32>,
        cidr: &str,
    ) -> SecurityGroupRule {
        let v6 = cidr.contains(':');
        SecurityGroupRule {
            rule_id: id.into(),
            group_id: "sg-1".into(),
            is_egress: false,
            ip_protocol: protocol.into(),
            from_port: from,
            to_port: to,
            cidr_ipv4: (!v6).then(|| cidr.into()),
            cidr_ipv6: v6.then(|| cidr.into()),
            prefix_list_id: None,
            referenced_group_id: None,
            description: None,
        }
    }

    fn revoked_ids(rules: &[SecurityGroupRule], ports: &[u32]) -> Vec<String> {
        rules_to_revoke(rules, ports)
            .iter()
            .map(|r| r.rule_id.clone())
            .collect()
    }

    #[test]
    fn describes_itself() {
        let info = RestrictAdminPorts::describe();
        assert_eq!(info.name, "ec2-restrict-admin-ports");
        assert_eq!(info.controls, ["EC2.13", "EC2.14", "EC2.53", "EC2.54"]);
        assert_eq!(
            info.functions,
            [
                "ec2.describe-security-group-rules",
                "ec2.revoke-security-group-ingress"
            ]
        );
    }

    #[test]
    fn revokes_only_world_open_admin_rules() {
        let mut egress_all = rule("sgr-egress", "-1", None, None, "0.0.0.0/0");
        egress_all.is_egress = true;
        let mut from_group = rule("sgr-group", "tcp", Some(22), Some(22), "0.0.0.0/0");
        from_group.cidr_ipv4 = None;
        from_group.referenced_group_id = Some("sg-2".into());
        let rules = vec![
            rule("sgr-ssh", "tcp", Some(22), Some(22), "0.0.0.0/0"),
            rule("sgr-all-tcp", "tcp", Some(0), Some(65535), "0.0.0.0/0"),
            rule("sgr-https", "tcp", Some(443), Some(443), "0.0.0.0/0"),
            rule("sgr-private-ssh", "tcp", Some(22), Some(22), "10.0.0.0/8"),
            rule("sgr-all-v6", "-1", None, None, "::/0"),
            rule("sgr-rdp-udp", "17", Some(3389), Some(3389), "0.0.0.0/0"),
            rule("sgr-rdp-range", "6", Some(3000), Some(4000), "::/0"),
            rule("sgr-icmp", "icmp", Some(-1), Some(-1), "0.0.0.0/0"),
            rule("sgr-tcp-any-port", "tcp", Some(-1), Some(-1), "0.0.0.0/0"),
            rule("sgr-v6-web", "tcp", Some(80), Some(443), "::/0"),
            rule("sgr-almost", "tcp", Some(23), Some(3388), "0.0.0.0/0"),
            egress_all,
            from_group,
        ];
        assert_eq!(
            revoked_ids(&rules, DEFAULT_PORTS),
            [
                "sgr-ssh",
                "sgr-all-tcp",
                "sgr-all-v6",
                "sgr-rdp-udp",
                "sgr-rdp-range",
                "sgr-tcp-any-port",
            ]
        );
    }

    #[test]
    fn ports_parameter_overrides_the_admin_ports() {
        let rules = vec![
            rule("sgr-ssh", "tcp", Some(22), Some(22), "0.0.0.0/0"),
            rule("sgr-pg", "tcp", Some(5432), Some(5432), "0.0.0.0/0"),
        ];
        let ports = admin_ports(&[("ports".into(), "5432".into())]).unwrap();
        assert_eq!(revoked_ids(&rules, &ports), ["sgr-pg"]);
        assert_eq!(admin_ports(&[]).unwrap(), [22, 3389]);
        let err = admin_ports(&[("ports".into(), "22,70000".into())]).unwrap_err();
        assert!(err.to_string().contains("70000"), "{err}");
        let err = admin_ports(&[("port".into(), "22".into())]).unwrap_err();
        assert!(
            err.to_string().contains("allowed parameters: ports"),
            "{err}"
        );
    }

    #[test]
    fn compliant_group_revokes_nothing() {
        let rules = vec![
            rule("sgr-https", "tcp", Some(443), Some(443), "0.0.0.0/0"),
            rule("sgr-private", "-1", None, None, "10.0.0.0/8"),
        ];
        assert!(rules_to_revoke(&rules, DEFAULT_PORTS).is_empty());
        assert!(rules_to_revoke(&[], DEFAULT_PORTS).is_empty());
    }

    #[test]
    fn message_names_each_revoked_rule() {
        let rules = vec![
            rule("sgr-1", "tcp", Some(0), Some(65535), "0.0.0.0/0"),
            rule("sgr-2", "-1", None, None, "::/0"),
            rule("sgr-3", "6", Some(22), Some(22), "0.0.0.0/0"),
        ];
        let revoke = rules_to_revoke(&rules, DEFAULT_PORTS);
        assert_eq!(
            revoked_message(Mode::Apply, "sg-1", &revoke),
            "revoked 3 ingress rules of sg-1 open to the internet on an admin port: \
             sgr-1 (tcp 0-65535 from 0.0.0.0/0), sgr-2 (all traffic from ::/0), \
             sgr-3 (tcp 22 from 0.0.0.0/0)"
        );
        assert!(
            revoked_message(Mode::Plan, "sg-1", &revoke[..1])
                .starts_with("would revoke 1 ingress rule of")
        );
    }
}
