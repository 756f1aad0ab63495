//! The router's decision for one finding, as the state machine's next state.
//!
//! Pure: [`route`] takes the policy and the date; [`crate::router`] adds the policy read
//! from S3.

use std::time::{SystemTime, UNIX_EPOCH};

use hubfix_policy::{Action, Date, Decision, NoOrg, Policy};
use serde_json::Value;

use crate::error::{Error, ErrorName};
use crate::message::{
    HostRequest, Identifier, Notification, PluginRef, Requester, Route, Update, Workflow, truncate,
};
use crate::trim::trim;

/// Today's date in UTC, which policy exceptions expire against.
pub fn today() -> Date {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_unix_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// The finding's `Id` and `ProductArn`, which every update needs.
pub fn identifier(finding: &Value) -> Result<Identifier, Error> {
    let field = |name: &str| {
        finding
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::new(
                    ErrorName::InvalidFinding,
                    format!(
                        "the finding has no `{name}` (an ASFF finding is needed to update it \
                         with BatchUpdateFindings)"
                    ),
                )
            })
    };
    Ok(Identifier {
        id: field("Id")?,
        product_arn: field("ProductArn")?,
    })
}

/// The `RemediationFailed` state of the state machine: the finding becomes NOTIFIED with the
/// error in its note, and the manual queue hears of it.
pub fn remediation_failed(route: &Route, error: &Error) -> (Update, Notification) {
    let control = route.control.as_deref().unwrap_or("the control");
    (
        Update {
            finding: route.identifier.clone(),
            workflow: Workflow::Notified,
            note: truncate(
                &format!(
                    "hubfix could not remediate {control}: {} ({})",
                    error.name, error.message
                ),
                512,
            ),
            source: Requester::StateMachine,
        },
        Notification {
            subject: "hubfix: remediation failed".into(),
            message: serde_json::json!({
                "finding": route.identifier.id,
                "control": control,
                "error": error.name,
                "cause": error.message,
            })
            .to_string(),
        },
    )
}

/// Decides one finding and says what the state machine does next.
///
/// Errors: `Hubfix.InvalidFinding` when the finding is not an object, lacks `Id` or
/// `ProductArn`, or is too large even when trimmed.
pub fn route(finding: &Value, policy: &Policy, today: Date) -> Result<Route, Error> {
    let trimmed = trim(finding)?;
    let identifier = identifier(&trimmed)?;
    let decision = policy.decide(&trimmed, &NoOrg, today);
    Ok(from_decision(decision, identifier, trimmed))
}

fn from_decision(decision: Decision, identifier: Identifier, finding: Value) -> Route {
    let rule = decision.rule.to_string();
    let control = decision.control.clone();
    let about = control.as_deref().unwrap_or("this finding");
    let update = |workflow, note: String| Update {
        finding: identifier.clone(),
        workflow,
        note: truncate(&note, 512),
        source: Requester::Router,
    };
    let (update, notification, remediation) = match decision.action {
        Action::Suppress => (
            Some(update(
                Workflow::Suppressed,
                format!("hubfix suppressed {about}: {} [{rule}]", decision.reason),
            )),
            None,
            None,
        ),
        Action::Notify => (
            Some(update(
                Workflow::Notified,
                format!(
                    "hubfix: {about} needs a person: {} [{rule}]",
                    decision.reason
                ),
            )),
            Some(Notification {
                subject: truncate(
                    &format!(
                        "hubfix: {about} in {} needs attention",
                        decision.account_id.as_deref().unwrap_or("an account")
                    ),
                    100,
                ),
                message: format!(
                    "{about} failed for {} in account {} ({}).\nWhy a person: {}\nRule: {rule}",
                    identifier.id,
                    decision.account_id.as_deref().unwrap_or("?"),
                    decision.region.as_deref().unwrap_or("?"),
                    decision.reason
                ),
            }),
            None,
        ),
        Action::Remediate => {
            let remediation = match (&decision.plugin, &control) {
                (Some(plugin), Some(control)) => Some(HostRequest {
                    finding,
                    control: control.clone(),
                    plugin: PluginRef {
                        name: plugin.name.clone(),
                        version: plugin.version.clone(),
                        sha256: plugin.sha256.clone(),
                    },
                    grants: decision.grants.clone(),
                    params: decision.params.clone(),
                    plan: false,
                }),
                // The policy guarantees both for `remediate`; without them there is
                // nothing to run, which the Choice state treats as `ignore`.
                _ => None,
            };
            (None, None, remediation)
        }
        Action::Ignore => (None, None, None),
    };
    let action = match (decision.action, &remediation) {
        (Action::Remediate, None) => Action::Ignore,
        (action, _) => action,
    };
    Route {
        action,
        control,
        reason: decision.reason,
        rule,
        identifier,
        update,
        notification,
        remediation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> Policy {
        Policy::from_toml(
            "p.toml",
            r#"
            [plugins.ec2-restrict-admin-ports]
            version = "0.1.0"
            controls = ["EC2.13"]
            grants = ["ec2.describe-security-group-rules", "ec2.revoke-security-group-ingress"]
            params = { ports = "22,3389" }

            [controls."EC2.13"]
            action = "remediate"
            plugin = "ec2-restrict-admin-ports"
            reason = "SSH open to the internet"

            [controls."IAM.6"]
            action = "notify"
            reason = "hardware MFA for root needs a person"

            [[exceptions]]
            id = "bastion"
            resources = ["sg-0bastion*"]
            reason = "approved bastion (SEC-1)"
            "#,
        )
        .unwrap()
    }

    fn finding(control: &str, resource: &str) -> Value {
        json!({
            "SchemaVersion": "2018-10-08",
            "Id": format!("arn:aws:securityhub:us-east-1:111111111111:finding/{resource}"),
            "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
            "GeneratorId": format!("security-control/{control}"),
            "AwsAccountId": "111111111111",
            "Region": "us-east-1",
            "Title": "t",
            "Description": "a long description the router drops",
            "Compliance": {"Status": "FAILED", "SecurityControlId": control},
            "Workflow": {"Status": "NEW"},
            "RecordState": "ACTIVE",
            "Resources": [{"Type": "AwsEc2SecurityGroup", "Partition": "aws", "Region": "us-east-1",
                           "Id": format!("arn:aws:ec2:us-east-1:111111111111:security-group/{resource}")}]
        })
    }

    fn today() -> Date {
        Date::parse("2026-11-26").unwrap()
    }

    #[test]
    fn remediate_carries_the_trimmed_finding_plugin_grants_and_params() {
        let route = route(&finding("EC2.13", "sg-1"), &policy(), today()).unwrap();
        assert_eq!(route.action, Action::Remediate);
        assert!(route.update.is_none());
        let remediation = route.remediation.unwrap();
        assert_eq!(remediation.plugin.name, "ec2-restrict-admin-ports");
        assert_eq!(remediation.control, "EC2.13");
        assert_eq!(remediation.params["ports"], "22,3389");
        assert!(
            remediation
                .grants
                .contains(&"ec2.revoke-security-group-ingress".to_owned())
        );
        assert!(remediation.finding.get("Description").is_none());
        let json = serde_json::to_value(&remediation).unwrap();
        assert_eq!(json["plan"], false);
    }

    #[test]
    fn suppress_and_notify_queue_an_update_with_the_reason() {
        let suppressed = route(&finding("EC2.13", "sg-0bastion1"), &policy(), today()).unwrap();
        assert_eq!(suppressed.action, Action::Suppress);
        let update = suppressed.update.unwrap();
        assert_eq!(update.workflow, Workflow::Suppressed);
        assert!(update.note.contains("approved bastion"), "{}", update.note);
        assert!(suppressed.remediation.is_none());

        let notified = route(&finding("IAM.6", "sg-2"), &policy(), today()).unwrap();
        assert_eq!(notified.action, Action::Notify);
        assert_eq!(notified.update.unwrap().workflow, Workflow::Notified);
        let note = notified.notification.unwrap();
        assert!(note.subject.chars().count() <= 100);
        assert!(note.message.contains("hardware MFA"), "{}", note.message);
    }

    #[test]
    fn findings_sharing_a_rule_share_the_note_so_the_archiver_can_batch_them() {
        let a = route(&finding("EC2.13", "sg-0bastion1"), &policy(), today()).unwrap();
        let b = route(&finding("EC2.13", "sg-0bastion2"), &policy(), today()).unwrap();
        assert_eq!(a.update.unwrap().note, b.update.unwrap().note);
    }

    #[test]
    fn a_finding_without_an_identifier_is_invalid() {
        let mut f = finding("EC2.13", "sg-1");
        f.as_object_mut().unwrap().remove("ProductArn");
        let err = route(&f, &policy(), today()).unwrap_err();
        assert_eq!(err.name, ErrorName::InvalidFinding);
        assert!(err.message.contains("ProductArn"), "{}", err.message);
    }

    #[test]
    fn the_state_is_small() {
        let mut f = finding("EC2.13", "sg-1");
        f["Description"] = Value::String("x".repeat(200_000));
        let route = route(&f, &policy(), today()).unwrap();
        assert!(serde_json::to_vec(&route).unwrap().len() < 4096);
    }
}
