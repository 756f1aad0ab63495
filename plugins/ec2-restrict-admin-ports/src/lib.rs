//! `ec2-restrict-admin-ports`: closes the remote administration ports that security group
//! ingress rules open to the whole internet (Security Hub EC2.13, EC2.14, EC2.53, EC2.54;
//! CIS AWS Foundations 5.2/5.3 in v3.0), and nothing else.
//!
//! The finding names an `AwsEc2SecurityGroup`. The plugin lists the group's rules with
//! `ec2.describe-security-group-rules` and finds the ingress rules whose peer is
//! `0.0.0.0/0` or `::/0` and that open an admin port: all traffic (protocol `-1`), or
//! TCP/UDP with a port range that covers one of the admin ports (the controls' AWS Config
//! rules check TCP and UDP). Security group rules cannot deny, so a rule that opens more
//! than the admin ports is replaced: the plugin first authorizes what the rule opened
//! except the admin ports (`tcp 0-1024` becomes `tcp 0-21` and `tcp 23-1024`; all traffic
//! becomes TCP and UDP on every other port plus ICMP), with the same peer and description,
//! and only then revokes the old rules, so the group never allows less than intended.
//! Every other rule stays.
//!
//! Parameter (optional): `ports`, the admin ports as a comma-separated list
//! (default `22,3389`).

use hubfix_plugin_sdk::ec2::{self, IpPermission, SecurityGroupRule};
use hubfix_plugin_sdk::{Guest, Mode, Outcome, ParamError, Params, PluginInfo, Request};

const NAME: &str = "ec2-restrict-admin-ports";
const CONTROLS: &[&str] = &["EC2.13", "EC2.14", "EC2.53", "EC2.54"];
const DESCRIBE_RULES: &str = "ec2.describe-security-group-rules";
const REVOKE_INGRESS: &str = "ec2.revoke-security-group-ingress";
const AUTHORIZE_INGRESS: &str = "ec2.authorize-security-group-ingress";
/// Most rules one authorize call carries.
const AUTHORIZE_BATCH: usize = 60;

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
            &[DESCRIBE_RULES, AUTHORIZE_INGRESS, REVOKE_INGRESS],
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
        // What the revoked rules opened besides the admin ports goes back first.
        let keep = replacements(&rules, &revoke, &ports);
        for batch in keep.chunks(AUTHORIZE_BATCH) {
            if let Err(e) = ec2::authorize_security_group_ingress(group, batch) {
                return e.to_outcome(AUTHORIZE_INGRESS);
            }
        }
        let ids: Vec<String> = revoke.iter().map(|r| r.rule_id.clone()).collect();
        match ec2::revoke_security_group_ingress(group, &ids) {
            Err(e) => {
                let mut outcome = e.to_outcome(REVOKE_INGRESS);
                if !keep.is_empty() {
                    outcome.message.push_str(&format!(
                        "; the replacement rules were already added: {}",
                        permissions_phrase(&keep)
                    ));
                }
                outcome
            }
            Ok(()) => Outcome::remediated(revoked_message(request.mode, group, &revoke, &keep)),
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

/// `protocol`'s canonical name: `tcp`, `udp`, `-1`, or as given.
fn protocol_name(protocol: &str) -> &str {
    match protocol.trim() {
        "6" => "tcp",
        "17" => "udp",
        "1" => "icmp",
        "58" => "icmpv6",
        p if p.eq_ignore_ascii_case("tcp") => "tcp",
        p if p.eq_ignore_ascii_case("udp") => "udp",
        other => other,
    }
}

/// `from..=to` without `ports`: the ranges that stay open.
fn without_ports(from: u32, to: u32, ports: &[u32]) -> Vec<(u32, u32)> {
    let mut closed: Vec<u32> = ports
        .iter()
        .copied()
        .filter(|p| (from..=to).contains(p))
        .collect();
    closed.sort_unstable();
    closed.dedup();
    let mut open = Vec::new();
    let mut start = from;
    for port in closed {
        if port > start {
            open.push((start, port - 1));
        }
        start = port + 1;
    }
    if start <= to && start >= from {
        open.push((start, to));
    }
    open
}

/// The rules that give back what the revoked rules opened besides the admin ports: the
/// same peer and description; all traffic becomes TCP and UDP on the other ports plus
/// ICMP (ICMPv6 for `::/0`). Rules the group already has (and keeps) are left out, and so
/// are repeats.
fn replacements(
    rules: &[SecurityGroupRule],
    revoked: &[&SecurityGroupRule],
    ports: &[u32],
) -> Vec<IpPermission> {
    let mut out: Vec<IpPermission> = Vec::new();
    for rule in revoked {
        let Some(peer) = world_peer(rule) else {
            continue;
        };
        let protocol = protocol_name(&rule.ip_protocol);
        let mut add = |protocol: &str, range: Option<(u32, u32)>| {
            let ports = |p: u32| i32::try_from(p).ok();
            let (from_port, to_port) = match range {
                Some((from, to)) => (ports(from), ports(to)),
                None => (Some(-1), Some(-1)),
            };
            let permission = IpPermission {
                ip_protocol: protocol.to_owned(),
                from_port,
                to_port,
                cidr_ipv4: (!peer.contains(':')).then(|| peer.to_owned()),
                cidr_ipv6: peer.contains(':').then(|| peer.to_owned()),
                description: rule.description.clone(),
            };
            let same = |p: &IpPermission| {
                p.ip_protocol == permission.ip_protocol
                    && (p.from_port, p.to_port) == (permission.from_port, permission.to_port)
                    && (&p.cidr_ipv4, &p.cidr_ipv6)
                        == (&permission.cidr_ipv4, &permission.cidr_ipv6)
            };
            let kept = rules
                .iter()
                .filter(|r| !r.is_egress && !revoked.iter().any(|v| v.rule_id == r.rule_id));
            let exists = kept.map(as_permission).any(|p| same(&p));
            if !exists && !out.iter().any(same) {
                out.push(permission);
            }
        };
        match protocol {
            "-1" => {
                for transport in ["tcp", "udp"] {
                    for range in without_ports(0, 65535, ports) {
                        add(transport, Some(range));
                    }
                }
                add(if peer.contains(':') { "icmpv6" } else { "icmp" }, None);
            }
            "tcp" | "udp" => {
                let (from, to) = port_range(rule);
                for range in without_ports(from, to, ports) {
                    add(protocol, Some(range));
                }
            }
            _ => {}
        }
    }
    out
}

/// An existing rule in the shape of a rule to add, for comparison.
fn as_permission(rule: &SecurityGroupRule) -> IpPermission {
    let protocol = protocol_name(&rule.ip_protocol);
    let (from_port, to_port) = match protocol {
        "tcp" | "udp" => {
            let (from, to) = port_range(rule);
            (i32::try_from(from).ok(), i32::try_from(to).ok())
        }
        _ => (rule.from_port, rule.to_port),
    };
    IpPermission {
        ip_protocol: protocol.to_owned(),
        from_port,
        to_port,
        cidr_ipv4: rule.cidr_ipv4.clone(),
        cidr_ipv6: rule.cidr_ipv6.clone(),
        description: rule.description.clone(),
    }
}

/// `tcp 0-21, tcp 23-1024 from 0.0.0.0/0; icmp from ::/0`.
fn permissions_phrase(permissions: &[IpPermission]) -> String {
    let mut by_peer: Vec<(String, Vec<String>)> = Vec::new();
    for p in permissions {
        let peer = p
            .cidr_ipv4
            .clone()
            .or_else(|| p.cidr_ipv6.clone())
            .unwrap_or_default();
        let what = match (p.from_port, p.to_port) {
            (Some(from), Some(to)) if from >= 0 && from == to => {
                format!("{} {from}", p.ip_protocol)
            }
            (Some(from), Some(to)) if from >= 0 => format!("{} {from}-{to}", p.ip_protocol),
            _ => p.ip_protocol.clone(),
        };
        match by_peer.iter_mut().find(|(seen, _)| *seen == peer) {
            Some((_, list)) => list.push(what),
            None => by_peer.push((peer, vec![what])),
        }
    }
    by_peer
        .iter()
        .map(|(peer, list)| format!("{} from {peer}", list.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
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

fn revoked_message(
    mode: Mode,
    group: &str,
    revoked: &[&SecurityGroupRule],
    added: &[IpPermission],
) -> String {
    let rules: Vec<String> = revoked.iter().map(|r| describe_rule(r)).collect();
    let mut message = format!(
        "{} {} ingress rule{} of {group} open to the internet on an admin port: {}",
        mode.verb("revoked", "would revoke"),
        revoked.len(),
        if revoked.len() == 1 { "" } else { "s" },
        rules.join(", ")
    );
    if !added.is_empty() {
        message.push_str(&format!(
            "; {} first, to keep the other ports open: {}",
            mode.verb("re-added", "would re-add"),
            permissions_phrase(added)
        ));
    }
    if revoked.iter().any(|r| r.ip_protocol.trim() == "-1") {
        message.push_str(
            "; all-traffic rules come back as TCP, UDP and ICMP only (other IP protocols are no longer allowed)",
        );
    }
    message
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
                "ec2.authorize-security-group-ingress",
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
            revoked_message(Mode::Apply, "sg-1", &revoke[2..], &[]),
            "revoked 1 ingress rule of sg-1 open to the internet on an admin port: \
             sgr-3 (tcp 22 from 0.0.0.0/0)"
        );
        assert_eq!(
            revoked_message(Mode::Apply, "sg-1", &revoke[..2], &[]),
            "revoked 2 ingress rules of sg-1 open to the internet on an admin port: \
             sgr-1 (tcp 0-65535 from 0.0.0.0/0), sgr-2 (all traffic from ::/0); all-traffic \
             rules come back as TCP, UDP and ICMP only (other IP protocols are no longer allowed)"
        );
        let added = replacements(&rules, &revoke[..1], DEFAULT_PORTS);
        let plan = revoked_message(Mode::Plan, "sg-1", &revoke[..1], &added);
        assert!(plan.starts_with("would revoke 1 ingress rule of"), "{plan}");
        assert!(
            plan.ends_with(
                "; would re-add first, to keep the other ports open: \
                 tcp 0-21, tcp 23-3388, tcp 3390-65535 from 0.0.0.0/0"
            ),
            "{plan}"
        );
    }

    fn summary(p: &IpPermission) -> String {
        let peer = p
            .cidr_ipv4
            .as_deref()
            .or(p.cidr_ipv6.as_deref())
            .unwrap_or("?");
        format!(
            "{} {}:{} {peer} {}",
            p.ip_protocol,
            p.from_port.unwrap_or(-9),
            p.to_port.unwrap_or(-9),
            p.description.as_deref().unwrap_or("-")
        )
    }

    fn replaced(rules: &[SecurityGroupRule], ports: &[u32]) -> Vec<String> {
        let revoke = rules_to_revoke(rules, ports);
        replacements(rules, &revoke, ports)
            .iter()
            .map(summary)
            .collect()
    }

    #[test]
    fn port_ranges_lose_only_the_admin_ports() {
        assert_eq!(without_ports(0, 1024, &[22, 3389]), [(0, 21), (23, 1024)]);
        assert_eq!(without_ports(22, 22, &[22, 3389]), []);
        assert_eq!(without_ports(22, 23, &[22]), [(23, 23)]);
        assert_eq!(without_ports(21, 22, &[22]), [(21, 21)]);
        assert_eq!(without_ports(0, 65535, &[0, 65535]), [(1, 65534)]);
        assert_eq!(
            without_ports(0, 65535, &[3389, 22, 22]),
            [(0, 21), (23, 3388), (3390, 65535)]
        );
        assert_eq!(without_ports(80, 443, &[22]), [(80, 443)]);
    }

    #[test]
    fn a_wide_rule_is_replaced_by_its_other_ports_with_the_same_peer_and_description() {
        let mut web = rule("sgr-web", "tcp", Some(0), Some(1024), "0.0.0.0/0");
        web.description = Some("web".into());
        assert_eq!(
            replaced(&[web.clone()], DEFAULT_PORTS),
            ["tcp 0:21 0.0.0.0/0 web", "tcp 23:1024 0.0.0.0/0 web"]
        );
        assert_eq!(
            replaced(&[web], &[22]),
            ["tcp 0:21 0.0.0.0/0 web", "tcp 23:1024 0.0.0.0/0 web"]
        );
        let udp = rule("sgr-udp", "17", Some(3000), Some(4000), "::/0");
        assert_eq!(
            replaced(&[udp], DEFAULT_PORTS),
            ["udp 3000:3388 ::/0 -", "udp 3390:4000 ::/0 -"]
        );
        // A rule that opens only admin ports comes back as nothing.
        let ssh = rule("sgr-ssh", "tcp", Some(22), Some(22), "0.0.0.0/0");
        assert!(replaced(&[ssh], DEFAULT_PORTS).is_empty());
    }

    #[test]
    fn all_traffic_comes_back_as_tcp_udp_and_icmp_of_its_family() {
        assert_eq!(
            replaced(&[rule("sgr-all", "-1", None, None, "::/0")], &[22]),
            [
                "tcp 0:21 ::/0 -",
                "tcp 23:65535 ::/0 -",
                "udp 0:21 ::/0 -",
                "udp 23:65535 ::/0 -",
                "icmpv6 -1:-1 ::/0 -",
            ]
        );
        let v4 = replaced(
            &[rule("sgr-all", "-1", None, None, "0.0.0.0/0")],
            DEFAULT_PORTS,
        );
        assert_eq!(v4.len(), 7);
        assert_eq!(v4[6], "icmp -1:-1 0.0.0.0/0 -");
    }

    #[test]
    fn replacements_skip_rules_the_group_keeps_and_repeats() {
        let rules = vec![
            rule("sgr-wide", "tcp", Some(0), Some(1024), "0.0.0.0/0"),
            rule("sgr-all", "-1", None, None, "0.0.0.0/0"),
            // Kept (not world-open on an admin port), and equal to a replacement.
            rule("sgr-low", "tcp", Some(0), Some(21), "0.0.0.0/0"),
        ];
        assert_eq!(
            replaced(&rules, &[22]),
            [
                "tcp 23:1024 0.0.0.0/0 -",
                "tcp 23:65535 0.0.0.0/0 -",
                "udp 0:21 0.0.0.0/0 -",
                "udp 23:65535 0.0.0.0/0 -",
                "icmp -1:-1 0.0.0.0/0 -",
            ]
        );
    }
}
