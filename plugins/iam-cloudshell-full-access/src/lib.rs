//! `iam-cloudshell-full-access`: detaches the AWS-managed policy `AWSCloudShellFullAccess`
//! from the IAM user, group or role a finding names (Security Hub IAM.27; CIS AWS
//! Foundations 3.0.0 1.22).
//!
//! The finding names an `AwsIamUser`, `AwsIamGroup` or `AwsIamRole` (by ARN, whose path is
//! skipped, or by name). The plugin lists the identities the policy is attached to
//! (`iam:ListEntitiesForPolicy`): when the finding's identity is not among them it is
//! already compliant; otherwise that one policy is detached from that one identity
//! (nothing else it has is touched). Removing the policy takes CloudShell (and its file
//! upload and download) away from the people using it; that is what the control asks.
//! An identity of another account or no IAM identity at all is `skipped`; one that does
//! not exist (any more) is `skipped` as stale. No parameters.

use hubfix_plugin_sdk::iam;
use hubfix_plugin_sdk::iam_entity::{Kind, aws_managed_policy_arn, finding_entity};
use hubfix_plugin_sdk::{AwsError, Guest, Outcome, PluginInfo, Request};

const NAME: &str = "iam-cloudshell-full-access";
const CONTROLS: &[&str] = &["IAM.27"];
const LIST_ENTITIES: &str = "iam.list-entities-for-policy";
const DETACH_USER: &str = "iam.detach-user-policy";
const DETACH_GROUP: &str = "iam.detach-group-policy";
const DETACH_ROLE: &str = "iam.detach-role-policy";
const POLICY: &str = "AWSCloudShellFullAccess";

struct CloudShellFullAccess;

impl Guest for CloudShellFullAccess {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[LIST_ENTITIES, DETACH_USER, DETACH_GROUP, DETACH_ROLE],
        )
    }

    fn remediate(request: Request) -> Outcome {
        if !request.params.is_empty() {
            return Outcome::failed(format!("{NAME} takes no parameters"));
        }
        let (kind, name) = match finding_entity(&request.finding) {
            Ok(entity) => entity,
            Err(reason) => return Outcome::skipped(reason),
        };
        let arn = aws_managed_policy_arn(&request.finding.partition, POLICY);
        let entities = match iam::list_entities_for_policy(&arn) {
            Ok(entities) => entities,
            Err(e) => return e.to_outcome(LIST_ENTITIES),
        };
        let attached = match kind {
            Kind::User => &entities.users,
            Kind::Group => &entities.groups,
            Kind::Role => &entities.roles,
        };
        let who = format!("IAM {} {name}", kind.word());
        if !attached.iter().any(|n| n == &name) {
            return Outcome::already_compliant(format!("{who} does not have {POLICY} attached"));
        }
        let (call, detached) = match kind {
            Kind::User => (DETACH_USER, iam::detach_user_policy(&name, &arn)),
            Kind::Group => (DETACH_GROUP, iam::detach_group_policy(&name, &arn)),
            Kind::Role => (DETACH_ROLE, iam::detach_role_policy(&name, &arn)),
        };
        match detached {
            Ok(()) => Outcome::remediated(format!(
                "{} {POLICY} from {who}",
                request.mode.verb("detached", "would detach")
            )),
            Err(AwsError::NotFound(m)) => Outcome::skipped(format!(
                "{who} or its {POLICY} attachment is gone ({m}); the finding is stale"
            )),
            Err(e) => e.to_outcome(call),
        }
    }
}

hubfix_plugin_sdk::export!(CloudShellFullAccess);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_aws_managed_in_the_findings_partition() {
        assert_eq!(
            aws_managed_policy_arn("aws-us-gov", POLICY),
            "arn:aws-us-gov:iam::aws:policy/AWSCloudShellFullAccess"
        );
    }
}
