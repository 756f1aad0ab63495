//! `iam-support-role`: makes sure a role can manage incidents with AWS Support (Security
//! Hub IAM.18; CIS AWS Foundations 1.2.0 1.20, 1.4.0 1.17, 3.0.0 1.17).
//!
//! The finding names the account (`AwsAccount`). The control passes when some role has
//! the AWS-managed policy `AWSSupportAccess` attached (`iam:ListEntitiesForPolicy`): then
//! nothing is done (users or groups with it do not count, as for the control). Otherwise
//! the plugin creates the role `role-name` (default `hubfix-support`; it must start with
//! the host's create prefix) with a trust policy that lets `trusted-principal` assume it,
//! and attaches `AWSSupportAccess` to it.
//!
//! A role of that name that already exists without the policy is `skipped` (it is not
//! this remediation's to change: someone chose its permissions). Parameters:
//!
//! - `role-name`: the role to create (IAM's role-name characters, at most 64).
//! - `trusted-principal`: who may assume it: a 12-digit account id (its root, meaning any
//!   principal of that account its own IAM policies allow) or an IAM ARN of the finding's
//!   partition (`arn:aws:iam::111122223333:role/Admin`). Default: the finding's account
//!   root, `arn:<partition>:iam::<account>:root`.

use hubfix_plugin_sdk::iam;
use hubfix_plugin_sdk::iam_entity::{Kind, aws_managed_policy_arn, name_byte, valid_name};
use hubfix_plugin_sdk::{AwsError, Finding, Guest, Outcome, Params, PluginInfo, Request};

const NAME: &str = "iam-support-role";
const CONTROLS: &[&str] = &["IAM.18"];
const LIST_ENTITIES: &str = "iam.list-entities-for-policy";
const GET_ROLE: &str = "iam.get-role";
const CREATE_ROLE: &str = "iam.create-role";
const ATTACH: &str = "iam.attach-role-policy";
const ROLE_NAME: &str = "role-name";
const TRUSTED: &str = "trusted-principal";
const DEFAULT_ROLE: &str = "hubfix-support";
const POLICY: &str = "AWSSupportAccess";
/// IAM's longest principal ARN we accept (ARNs are at most 2,048 characters).
const MAX_PRINCIPAL: usize = 2048;

struct SupportRole;

impl Guest for SupportRole {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[LIST_ENTITIES, GET_ROLE, CREATE_ROLE, ATTACH],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let finding = &request.finding;
        if let Err(skipped) = finding.own_account("the account's support role") {
            return skipped;
        }
        let params = match Params::new(&request.params, &[ROLE_NAME, TRUSTED]) {
            Ok(params) => params,
            Err(e) => return e.to_outcome(),
        };
        let role_name = params.get(ROLE_NAME).unwrap_or(DEFAULT_ROLE);
        if !valid_role_name(role_name) {
            return Outcome::failed(format!(
                "parameter `{ROLE_NAME}` must be 1 to 64 letters, digits and `+=,.@_-`, not {role_name:?}"
            ));
        }
        let principal = match trusted_principal(params.get(TRUSTED), finding) {
            Ok(principal) => principal,
            Err(reason) => return Outcome::failed(format!("parameter `{TRUSTED}`: {reason}")),
        };
        let arn = aws_managed_policy_arn(&finding.partition, POLICY);
        let entities = match iam::list_entities_for_policy(&arn) {
            Ok(entities) => entities,
            Err(e) => return e.to_outcome(LIST_ENTITIES),
        };
        if let Some(role) = entities.roles.first() {
            return Outcome::already_compliant(format!("role {role} has {POLICY} attached"));
        }
        match iam::get_role(role_name) {
            Ok(_) => {
                return Outcome::skipped(format!(
                    "no role has {POLICY} attached, and role {role_name} already exists without it; attach {POLICY} to a support role, or set `{ROLE_NAME}` to a new role"
                ));
            }
            Err(AwsError::NotFound(_)) => {}
            Err(e) => return e.to_outcome(GET_ROLE),
        }
        let trust = trust_policy(&principal);
        if let Err(e) = iam::create_role(
            role_name,
            &trust,
            "AWS Support incident management (created by hubfix for IAM.18)",
        ) {
            return e.to_outcome(CREATE_ROLE);
        }
        if let Err(e) = iam::attach_role_policy(role_name, &arn) {
            return e.to_outcome(ATTACH);
        }
        Outcome::remediated(format!(
            "{} role {role_name} trusted by {principal} with {POLICY} attached",
            request.mode.verb("created", "would create")
        ))
    }
}

hubfix_plugin_sdk::export!(SupportRole);

fn valid_role_name(name: &str) -> bool {
    valid_name(Kind::Role, name)
}

fn account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The principal ARN the role trusts: the parameter (an account id or an IAM ARN of the
/// finding's partition) or the finding's account root.
fn trusted_principal(param: Option<&str>, finding: &Finding) -> Result<String, String> {
    let partition = &finding.partition;
    let Some(value) = param.map(str::trim) else {
        return Ok(format!("arn:{partition}:iam::{}:root", finding.account_id));
    };
    if account_id(value) {
        return Ok(format!("arn:{partition}:iam::{value}:root"));
    }
    let prefix = format!("arn:{partition}:iam::");
    let valid = value.len() <= MAX_PRINCIPAL
        && value
            .strip_prefix(prefix.as_str())
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(account, resource)| {
                account_id(account)
                    && (resource == "root"
                        || ["user/", "role/"].iter().any(|kind| {
                            resource.strip_prefix(kind).is_some_and(|path_name| {
                                path_name
                                    .split('/')
                                    .all(|s| !s.is_empty() && s.bytes().all(name_byte))
                            })
                        }))
            });
    if valid {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "must be a 12-digit account id or an IAM ARN `{prefix}ACCOUNT:root`, `...:role/NAME` or `...:user/NAME`, not {:?}",
            value.chars().take(100).collect::<String>()
        ))
    }
}

/// A trust policy letting `principal` (already validated: no quotes) assume the role.
fn trust_policy(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(partition: &str) -> Finding {
        Finding {
            id: "f-1".into(),
            control_id: "IAM.18".into(),
            generator_id: "g".into(),
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            partition: partition.into(),
            title: "t".into(),
            resources: Vec::new(),
            raw: "{}".into(),
        }
    }

    #[test]
    fn the_trusted_principal_defaults_to_the_account_root_of_the_partition() {
        let f = finding("aws-cn");
        assert_eq!(
            trusted_principal(None, &f),
            Ok("arn:aws-cn:iam::111111111111:root".into())
        );
        assert_eq!(
            trusted_principal(Some(" 222222222222 "), &f),
            Ok("arn:aws-cn:iam::222222222222:root".into())
        );
        assert_eq!(
            trusted_principal(Some("arn:aws-cn:iam::222222222222:role/ops/Admin"), &f),
            Ok("arn:aws-cn:iam::222222222222:role/ops/Admin".into())
        );
        for bad in [
            "",
            "2222",
            "arn:aws:iam::222222222222:root",
            "arn:aws-cn:iam::22222222222:root",
            "arn:aws-cn:iam::222222222222:group/Admins",
            "arn:aws-cn:iam::222222222222:role/",
            "arn:aws-cn:iam::222222222222:role/a\"b",
            "*",
        ] {
            assert!(trusted_principal(Some(bad), &f).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_trust_policy_is_json_naming_the_principal() {
        assert_eq!(
            trust_policy("arn:aws:iam::111111111111:root"),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#
        );
        assert!(valid_role_name("hubfix-support"));
        assert!(!valid_role_name("a/b"));
        assert!(!valid_role_name(&"r".repeat(65)));
    }
}
