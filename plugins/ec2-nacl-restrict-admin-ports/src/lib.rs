//! `ec2-nacl-restrict-admin-ports`: closes the remote administration ports that a network
//! ACL opens to the whole internet (Security Hub EC2.21; CIS AWS Foundations 5.1), and
//! changes nothing else.
//!
//! The finding names an `AwsEc2NetworkAcl`. The plugin reads its entries with
//! `ec2.describe-network-acls` and, for each admin port and each of `0.0.0.0/0` and `::/0`,
//! finds the inbound entry AWS applies first to TCP traffic from that CIDR to that port
//! (the lowest-numbered entry with that CIDR, protocol TCP or all, and a range covering
//! the port). When that entry allows, the plugin adds a `deny` entry for the port (TCP,
//! the same CIDR) with a rule number just below it, above every narrower entry that
//! already matches the port, so that traffic from those narrower CIDRs keeps its fate.
//! When that entry denies, the port is already closed. No entry is removed or changed.
//!
//! When no free rule number is left below the allowing entry, the allowing entry moves up:
//! it is first copied to the next numbers (which must be free), and only then is its old
//! number replaced by the deny, so no traffic is ever refused that the ACL meant to allow
//! apart from the admin port itself.
//!
//! Parameter: `ports`, the admin ports as a comma-separated list (default `22,3389`).

use hubfix_plugin_sdk::ec2::{self, NetworkAclEntry};
use hubfix_plugin_sdk::{AwsError, Guest, Outcome, ParamError, Params, PluginInfo, Request};

const NAME: &str = "ec2-nacl-restrict-admin-ports";
const CONTROLS: &[&str] = &["EC2.21"];
const DESCRIBE: &str = "ec2.describe-network-acls";
const CREATE: &str = "ec2.create-network-acl-entry";
const REPLACE: &str = "ec2.replace-network-acl-entry";
const NETWORK_ACL: &str = "AwsEc2NetworkAcl";
const PORTS: &str = "ports";
const DEFAULT_PORTS: &[u32] = &[22, 3389];
const WORLD: &[&str] = &["0.0.0.0/0", "::/0"];
const MAX_RULE: i32 = 32766;
const TCP: &str = "6";

struct NaclRestrictAdminPorts;

impl Guest for NaclRestrictAdminPorts {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[DESCRIBE, CREATE, REPLACE],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let ports = match admin_ports(&request.params) {
            Ok(ports) => ports,
            Err(e) => return e.to_outcome(),
        };
        let Some(id) = request.finding.resource_short_id(NETWORK_ACL) else {
            return Outcome::skipped(format!(
                "the finding names no {NETWORK_ACL} resource; nothing to restrict"
            ));
        };
        let acl = match ec2::describe_network_acls(&[id.to_owned()]) {
            Ok(found) => found.into_iter().find(|a| a.network_acl_id == id),
            Err(AwsError::NotFound(_)) => None,
            Err(e) => return e.to_outcome(DESCRIBE),
        };
        let Some(acl) = acl else {
            return Outcome::skipped(format!("network ACL {id} not found; the finding is stale"));
        };
        let steps = match plan(&acl.entries, &ports) {
            Ok(steps) => steps,
            Err(e) => return Outcome::failed(format!("{id}: {e}")),
        };
        if steps.is_empty() {
            return Outcome::already_compliant(format!(
                "network ACL {id} lets no inbound TCP traffic from 0.0.0.0/0 or ::/0 reach {}",
                ports_phrase(&ports)
            ));
        }
        for step in &steps {
            let result = match step {
                Step::Create(entry) => {
                    ec2::create_network_acl_entry(id, entry).map_err(|e| e.to_outcome(CREATE))
                }
                Step::Replace(entry) => {
                    ec2::replace_network_acl_entry(id, entry).map_err(|e| e.to_outcome(REPLACE))
                }
            };
            if let Err(mut outcome) = result {
                let done = steps.iter().take_while(|s| *s != step).count();
                if done > 0 {
                    outcome
                        .message
                        .push_str(&format!("; already done: {}", steps_phrase(&steps[..done])));
                }
                return outcome;
            }
        }
        Outcome::remediated(format!(
            "{} in network ACL {id}: {}",
            request
                .mode
                .verb("closed admin ports", "would close admin ports"),
            steps_phrase(&steps)
        ))
    }
}

hubfix_plugin_sdk::export!(NaclRestrictAdminPorts);

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

/// One mutating call.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// A new entry.
    Create(NetworkAclEntry),
    /// An entry put in place of the one with its number.
    Replace(NetworkAclEntry),
}

/// The CIDR of an entry, either family.
fn cidr(entry: &NetworkAclEntry) -> Option<&str> {
    entry
        .cidr_block
        .as_deref()
        .or(entry.ipv6_cidr_block.as_deref())
}

fn is_v6(cidr: &str) -> bool {
    cidr.contains(':')
}

/// Whether an inbound entry applies to TCP traffic to `port` from some address of the
/// family of `world`.
fn matches(entry: &NetworkAclEntry, port: u32, world: &str) -> bool {
    if entry.egress || cidr(entry).is_none_or(|c| is_v6(c) != is_v6(world)) {
        return false;
    }
    match entry.protocol.trim() {
        "-1" => true,
        TCP => {
            let bound =
                |p: Option<i32>, open: u32| p.and_then(|p| u32::try_from(p).ok()).unwrap_or(open);
            (bound(entry.from_port, 0)..=bound(entry.to_port, 65535)).contains(&port)
        }
        _ => false,
    }
}

/// The deny entry for `port` from `world`.
fn deny(rule_number: i32, port: u32, world: &str) -> NetworkAclEntry {
    let port = i32::try_from(port).ok();
    NetworkAclEntry {
        rule_number,
        protocol: TCP.into(),
        rule_action: "deny".into(),
        egress: false,
        cidr_block: (!is_v6(world)).then(|| world.to_owned()),
        ipv6_cidr_block: is_v6(world).then(|| world.to_owned()),
        from_port: port,
        to_port: port,
        icmp_type: None,
        icmp_code: None,
    }
}

/// The calls that deny every admin port from `0.0.0.0/0` and `::/0` ahead of the entry
/// that allows it, in order; empty when the ACL is compliant.
fn plan(entries: &[NetworkAclEntry], ports: &[u32]) -> Result<Vec<Step>, String> {
    let mut current: Vec<NetworkAclEntry> = entries.iter().filter(|e| !e.egress).cloned().collect();
    let mut steps = Vec::new();
    for world in WORLD {
        for &port in ports {
            current.sort_by_key(|e| e.rule_number);
            // The entry AWS applies first to this port from the whole internet.
            let first = current
                .iter()
                .find(|e| cidr(e) == Some(*world) && matches(e, port, world));
            let Some(first) = first.filter(|e| e.rule_action == "allow").cloned() else {
                continue;
            };
            // Above every entry that already decides this port for part of the family.
            let floor = current
                .iter()
                .filter(|e| e.rule_number < first.rule_number && matches(e, port, world))
                .map(|e| e.rule_number)
                .max()
                .unwrap_or(0);
            let used = |n: i32| current.iter().any(|e| e.rule_number == n);
            let free = ((floor + 1)..first.rule_number).rev().find(|n| !used(*n));
            match free {
                Some(n) => {
                    let entry = deny(n, port, world);
                    current.push(entry.clone());
                    steps.push(Step::Create(entry));
                }
                None => {
                    // Move the allowing entry up one number (which must be free), then put
                    // the deny in its place.
                    let up = first.rule_number + 1;
                    if up > MAX_RULE || used(up) {
                        return Err(format!(
                            "no free rule number between {floor} and {} to deny port {port} from \
                             {world}, and {up} is taken: renumber the ACL's entries by hand",
                            first.rule_number
                        ));
                    }
                    let mut moved = first.clone();
                    moved.rule_number = up;
                    let entry = deny(first.rule_number, port, world);
                    current.retain(|e| e.rule_number != first.rule_number);
                    current.push(moved.clone());
                    current.push(entry.clone());
                    steps.push(Step::Create(moved));
                    steps.push(Step::Replace(entry));
                }
            }
        }
    }
    Ok(steps)
}

/// `tcp 22`, `tcp 0-1024`, `all`.
fn traffic(entry: &NetworkAclEntry) -> String {
    match (entry.protocol.trim(), entry.from_port, entry.to_port) {
        ("-1", _, _) => "all traffic".to_owned(),
        (protocol, Some(from), Some(to)) => {
            let name = if protocol == TCP { "tcp" } else { protocol };
            if from == to {
                format!("{name} {from}")
            } else {
                format!("{name} {from}-{to}")
            }
        }
        (protocol, _, _) => format!("protocol {protocol}"),
    }
}

fn steps_phrase(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|step| match step {
            Step::Create(e) if e.rule_action == "deny" => format!(
                "added rule {} deny {} from {}",
                e.rule_number,
                traffic(e),
                cidr(e).unwrap_or("?")
            ),
            Step::Create(e) => format!(
                "copied the {} entry for {} from {} to rule {} (no free number below it)",
                e.rule_action,
                traffic(e),
                cidr(e).unwrap_or("?"),
                e.rule_number
            ),
            Step::Replace(e) => format!(
                "replaced rule {} (now at {}) by deny {} from {}",
                e.rule_number,
                e.rule_number + 1,
                traffic(e),
                cidr(e).unwrap_or("?")
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
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

    fn entry(
        n: i32,
        action: &str,
        protocol: &str,
        ports: Option<(i32, i32)>,
        cidr: &str,
    ) -> NetworkAclEntry {
        NetworkAclEntry {
            rule_number: n,
            protocol: protocol.into(),
            rule_action: action.into(),
            egress: false,
            cidr_block: (!cidr.contains(':')).then(|| cidr.into()),
            ipv6_cidr_block: cidr.contains(':').then(|| cidr.into()),
            from_port: ports.map(|p| p.0),
            to_port: ports.map(|p| p.1),
            icmp_type: None,
            icmp_code: None,
        }
    }

    fn shown(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Create(e) => format!(
                    "create {} {} {} {}",
                    e.rule_number,
                    e.rule_action,
                    traffic(e),
                    cidr(e).unwrap_or("?")
                ),
                Step::Replace(e) => format!(
                    "replace {} {} {} {}",
                    e.rule_number,
                    e.rule_action,
                    traffic(e),
                    cidr(e).unwrap_or("?")
                ),
            })
            .collect()
    }

    fn default_acl() -> Vec<NetworkAclEntry> {
        let mut out = entry(100, "allow", "-1", None, "0.0.0.0/0");
        out.egress = true;
        vec![
            entry(100, "allow", "-1", None, "0.0.0.0/0"),
            entry(32767, "deny", "-1", None, "0.0.0.0/0"),
            out,
        ]
    }

    #[test]
    fn describes_itself() {
        let info = NaclRestrictAdminPorts::describe();
        assert_eq!(info.name, "ec2-nacl-restrict-admin-ports");
        assert_eq!(info.controls, ["EC2.21"]);
        assert_eq!(
            info.functions,
            [
                "ec2.describe-network-acls",
                "ec2.create-network-acl-entry",
                "ec2.replace-network-acl-entry"
            ]
        );
    }

    #[test]
    fn an_allow_all_entry_gets_denies_just_below_it() {
        let steps = plan(&default_acl(), DEFAULT_PORTS).unwrap();
        assert_eq!(
            shown(&steps),
            [
                "create 99 deny tcp 22 0.0.0.0/0",
                "create 98 deny tcp 3389 0.0.0.0/0"
            ]
        );
        // Once they are there, nothing is left to do.
        let mut fixed = default_acl();
        fixed.extend(steps.iter().map(|s| match s {
            Step::Create(e) | Step::Replace(e) => e.clone(),
        }));
        assert_eq!(plan(&fixed, DEFAULT_PORTS).unwrap(), []);
    }

    #[test]
    fn only_the_ports_an_allow_covers_are_denied() {
        let acl = vec![
            entry(100, "allow", TCP, Some((0, 1024)), "0.0.0.0/0"),
            entry(110, "allow", TCP, Some((443, 443)), "::/0"),
            entry(120, "allow", "17", Some((0, 65535)), "0.0.0.0/0"),
        ];
        assert_eq!(
            shown(&plan(&acl, DEFAULT_PORTS).unwrap()),
            ["create 99 deny tcp 22 0.0.0.0/0"]
        );
    }

    #[test]
    fn a_lower_deny_is_compliant_and_a_higher_one_is_not() {
        let acl = vec![
            entry(50, "deny", TCP, Some((22, 22)), "0.0.0.0/0"),
            entry(60, "deny", "-1", None, "0.0.0.0/0"),
            entry(100, "allow", "-1", None, "0.0.0.0/0"),
            entry(200, "deny", TCP, Some((22, 22)), "::/0"),
            entry(300, "allow", TCP, Some((0, 65535)), "::/0"),
        ];
        // ::/0: the deny at 200 comes before the allow at 300 for 22, not for 3389.
        assert_eq!(
            shown(&plan(&acl, DEFAULT_PORTS).unwrap()),
            ["create 299 deny tcp 3389 ::/0"]
        );
    }

    #[test]
    fn ipv6_entries_get_ipv6_denies() {
        let acl = vec![entry(100, "allow", "-1", None, "::/0")];
        let steps = plan(&acl, &[22]).unwrap();
        assert_eq!(shown(&steps), ["create 99 deny tcp 22 ::/0"]);
        let Step::Create(e) = &steps[0] else {
            panic!("{steps:?}")
        };
        assert_eq!(
            (e.cidr_block.as_deref(), e.ipv6_cidr_block.as_deref()),
            (None, Some("::/0"))
        );
    }

    #[test]
    fn narrower_entries_below_keep_their_effect() {
        // 95 allows SSH from a private range: the deny goes above it, at 99, not at 94.
        let acl = vec![
            entry(10, "allow", TCP, Some((3389, 3389)), "10.0.0.0/8"),
            entry(95, "allow", TCP, Some((22, 22)), "10.0.0.0/8"),
            entry(100, "allow", "-1", None, "0.0.0.0/0"),
        ];
        assert_eq!(
            shown(&plan(&acl, DEFAULT_PORTS).unwrap()),
            [
                "create 99 deny tcp 22 0.0.0.0/0",
                "create 98 deny tcp 3389 0.0.0.0/0"
            ]
        );
    }

    #[test]
    fn without_a_free_number_the_allow_moves_up_first() {
        let acl = vec![
            entry(99, "allow", TCP, Some((22, 22)), "10.0.0.0/8"),
            entry(100, "allow", "-1", None, "0.0.0.0/0"),
        ];
        assert_eq!(
            shown(&plan(&acl, DEFAULT_PORTS).unwrap()),
            [
                "create 101 allow all traffic 0.0.0.0/0",
                "replace 100 deny tcp 22 0.0.0.0/0",
                "create 98 deny tcp 3389 0.0.0.0/0",
            ]
        );
        let blocked = vec![
            entry(1, "allow", "-1", None, "0.0.0.0/0"),
            entry(2, "allow", TCP, Some((80, 80)), "0.0.0.0/0"),
        ];
        let err = plan(&blocked, &[22]).unwrap_err();
        assert!(err.contains("renumber"), "{err}");
    }

    #[test]
    fn egress_and_other_protocols_are_left_alone() {
        let mut out = entry(100, "allow", TCP, Some((22, 22)), "0.0.0.0/0");
        out.egress = true;
        let acl = vec![out, entry(100, "allow", "17", Some((22, 22)), "0.0.0.0/0")];
        assert!(plan(&acl, DEFAULT_PORTS).unwrap().is_empty());
    }

    #[test]
    fn ports_parameter() {
        assert_eq!(admin_ports(&[]).unwrap(), [22, 3389]);
        assert_eq!(admin_ports(&[("ports".into(), "22".into())]).unwrap(), [22]);
        assert!(admin_ports(&[("ports".into(), "0".into())]).is_err());
        assert!(admin_ports(&[("port".into(), "22".into())]).is_err());
    }

    #[test]
    fn messages_name_each_change() {
        let steps = plan(
            &[
                entry(99, "allow", TCP, Some((22, 22)), "10.0.0.0/8"),
                entry(100, "allow", "-1", None, "0.0.0.0/0"),
            ],
            &[22],
        )
        .unwrap();
        assert_eq!(
            steps_phrase(&steps),
            "copied the allow entry for all traffic from 0.0.0.0/0 to rule 101 (no free number \
             below it), replaced rule 100 (now at 101) by deny tcp 22 from 0.0.0.0/0"
        );
    }
}
