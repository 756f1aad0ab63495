//! `iam-admin-policy-report`: says who uses a customer-managed policy with full `"*"`
//! administrative rights, and changes nothing (Security Hub IAM.1; CIS AWS Foundations
//! 1.2.0 1.22, 1.4.0 1.16).
//!
//! Detaching or rewriting such a policy can lock administrators and break-glass roles out
//! of the account, so hubfix never does it: this plugin is granted one read
//! (`iam:ListEntitiesForPolicy`) and always ends `skipped`, which leaves the finding
//! NOTIFIED with a note naming every user, group and role the policy is attached to, for
//! the person who decides. The finding names the `AwsIamPolicy` by ARN (its path is kept);
//! an ARN of another account or partition, or an AWS-managed policy, is `skipped` without
//! a call. No parameters.

use hubfix_plugin_sdk::iam::{self, PolicyEntities};
use hubfix_plugin_sdk::{AwsError, Finding, Guest, Outcome, PluginInfo, Request};

const NAME: &str = "iam-admin-policy-report";
const CONTROLS: &[&str] = &["IAM.1"];
const LIST_ENTITIES: &str = "iam.list-entities-for-policy";
const POLICY: &str = "AwsIamPolicy";
/// Names listed per kind in the note; the rest are counted.
const SHOWN: usize = 20;

struct AdminPolicyReport;

impl Guest for AdminPolicyReport {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(NAME, env!("CARGO_PKG_VERSION"), CONTROLS, &[LIST_ENTITIES])
    }

    fn remediate(request: Request) -> Outcome {
        if !request.params.is_empty() {
            return Outcome::failed(format!("{NAME} takes no parameters"));
        }
        let (arn, name) = match policy_of(&request.finding) {
            Ok(policy) => policy,
            Err(reason) => return Outcome::skipped(reason),
        };
        let entities = match iam::list_entities_for_policy(&arn) {
            Ok(entities) => entities,
            Err(AwsError::NotFound(m)) => {
                return Outcome::skipped(format!(
                    "policy {name} does not exist (any more; {m}); the finding is stale"
                ));
            }
            Err(e) => return e.to_outcome(LIST_ENTITIES),
        };
        Outcome::skipped(format!(
            "customer-managed policy {name} grants full administrative rights; hubfix never \
             detaches or rewrites it. {} Replace it with least-privilege policies, keeping \
             break-glass access.",
            attached_to(&entities)
        ))
    }
}

/// The ARN and name of the customer-managed policy the finding names.
fn policy_of(finding: &Finding) -> Result<(String, String), String> {
    let Some(resource) = finding.resource(POLICY) else {
        return Err(format!(
            "the finding names no {POLICY}; {} is about IAM policies",
            finding.control_id
        ));
    };
    let arn = resource.id.trim();
    let shown = || arn.chars().take(200).collect::<String>();
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "iam", "", account, rest] = parts.as_slice() else {
        return Err(format!("`{}` is not an IAM policy ARN", shown()));
    };
    let Some(path_and_name) = rest.strip_prefix("policy/") else {
        return Err(format!("`{}` is not an IAM policy ARN", shown()));
    };
    if *account == "aws" {
        return Err(format!(
            "`{}` is AWS-managed; {} is about customer-managed policies",
            shown(),
            finding.control_id
        ));
    }
    if *partition != finding.partition || *account != finding.account_id {
        return Err(format!(
            "`{}` is not a policy of account {}",
            shown(),
            finding.account_id
        ));
    }
    let name = path_and_name.rsplit('/').next().unwrap_or_default();
    let valid = |s: &str| !s.is_empty() && s.bytes().all(hubfix_plugin_sdk::iam_entity::name_byte);
    if !valid(name) || !path_and_name.split('/').all(|s| s.is_empty() || valid(s)) {
        return Err(format!("`{}` is not an IAM policy ARN", shown()));
    }
    Ok((arn.to_owned(), name.to_owned()))
}

/// "Attached to 2 users (alice, bob), no group and 1 role (BreakGlass)."
fn attached_to(entities: &PolicyEntities) -> String {
    let kinds = [
        ("user", &entities.users),
        ("group", &entities.groups),
        ("role", &entities.roles),
    ];
    if kinds.iter().all(|(_, names)| names.is_empty()) {
        return "It is attached to no user, group or role.".to_owned();
    }
    let parts: Vec<String> = kinds
        .iter()
        .map(|(word, names)| match names.len() {
            0 => format!("no {word}"),
            n => {
                let mut list = names
                    .iter()
                    .take(SHOWN)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                if n > SHOWN {
                    list.push_str(&format!(" and {} more", n - SHOWN));
                }
                let plural = if n == 1 { "" } else { "s" };
                format!("{n} {word}{plural} ({list})")
            }
        })
        .collect();
    format!("Attached to {}, {} and {}.", parts[0], parts[1], parts[2])
}

hubfix_plugin_sdk::export!(AdminPolicyReport);

#[cfg(test)]
mod tests {
    use super::*;
    use hubfix_plugin_sdk::types::Resource;

    fn finding(id: &str) -> Finding {
        Finding {
            id: "f".into(),
            control_id: "IAM.1".into(),
            generator_id: "g".into(),
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
            title: String::new(),
            resources: vec![Resource {
                type_: POLICY.into(),
                id: id.into(),
                partition: "aws".into(),
                region: "us-east-1".into(),
                details: None,
            }],
            raw: String::new(),
        }
    }

    #[test]
    fn the_policy_is_a_customer_managed_one_of_the_findings_account() {
        let arn = "arn:aws:iam::111111111111:policy/ops/Admin";
        assert_eq!(
            policy_of(&finding(arn)).unwrap(),
            (arn.to_owned(), "Admin".to_owned())
        );
        for bad in [
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::222222222222:policy/Admin",
            "arn:aws-cn:iam::111111111111:policy/Admin",
            "arn:aws:iam::111111111111:role/Admin",
            "arn:aws:iam::111111111111:policy/",
            "arn:aws:iam::111111111111:policy/a b",
            "Admin",
        ] {
            assert!(policy_of(&finding(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_note_names_every_kind_and_counts_what_it_leaves_out() {
        let names = |n: usize| (0..n).map(|i| format!("u{i}")).collect::<Vec<_>>();
        let entities = PolicyEntities {
            users: names(22),
            groups: vec![],
            roles: vec!["BreakGlass".into()],
        };
        let text = attached_to(&entities);
        assert!(text.starts_with("Attached to 22 users (u0, u1"), "{text}");
        assert!(
            text.contains("u19 and 2 more), no group and 1 role (BreakGlass)."),
            "{text}"
        );
        let none = PolicyEntities {
            users: vec![],
            groups: vec![],
            roles: vec![],
        };
        assert_eq!(
            attached_to(&none),
            "It is attached to no user, group or role."
        );
    }
}
