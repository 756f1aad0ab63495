//! The router's decision for one finding, as the state machine's next state.
//!
//! Pure: [`route`] takes the policy and the date; [`crate::router`] adds the policy read
//! from S3.

use std::time::{SystemTime, UNIX_EPOCH};

use hubfix_policy::{Action, Date, Decision, NoOrg, Policy};
use serde_json::Value;

use crate::error::{Error, ErrorName};
use crate::message::{
    HostRequest, HostResponse, Identifier, Notification, PluginRef, Requester, Route, Trigger,
    Update, Workflow, truncate,
};
use crate::trim::trim;

/// Today's date in UTC, which policy exceptions expire against.
pub fn today() -> Date {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_unix_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// The finding's key, which every update needs: ASFF `Id` and `ProductArn`, or OCSF
/// `finding_info.uid`, `metadata.product.uid` and `cloud.account.uid`.
pub fn identifier(finding: &Value) -> Result<Identifier, Error> {
    let field = |path: &str| {
        finding
            .pointer(path)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::new(
                    ErrorName::InvalidFinding,
                    format!(
                        "the finding has no `{}` (Security Hub needs it to update the finding)",
                        path.trim_start_matches('/').replace('/', ".")
                    ),
                )
            })
    };
    match finding.as_object() {
        Some(obj) if hubfix_finding::ocsf::is_ocsf(obj) => Ok(Identifier {
            id: field("/finding_info/uid")?,
            product_arn: field("/metadata/product/uid")?,
            cloud_account_uid: Some(field("/cloud/account/uid")?),
        }),
        _ => Ok(Identifier::asff(field("/Id")?, field("/ProductArn")?)),
    }
}

/// The check a remediation fixes, the same whichever format its finding arrived in:
/// control, plugin and parameters, account, region and the resources (type and id). The
/// ASFF and the OCSF finding of one check share it and need one remediation. `None` when
/// the finding does not parse.
pub fn remediation_key(request: &HostRequest) -> Option<String> {
    let finding = hubfix_finding::Finding::from_value(request.finding.clone()).ok()?;
    let mut resources: Vec<String> = finding
        .resources
        .iter()
        .map(|r| format!("{}={}", r.resource_type, r.id))
        .collect();
    resources.sort();
    let params: Vec<String> = request
        .params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Some(format!(
        "{}|{}|{}|{}|{}|{}",
        request.control,
        request.plugin.name,
        params.join("&"),
        finding.account_id,
        finding.region,
        resources.join(",")
    ))
}

/// The EventBridge detail-type of a Security Hub custom action.
pub const CUSTOM_ACTION_EVENT: &str = "Security Hub Findings - Custom Action";

/// The id of the "Remediate (hubfix)" custom action the Security account template creates
/// (`AWS::SecurityHub::ActionTarget`; a test keeps the template in step).
pub const REMEDIATE_ACTION_ID: &str = "HubfixRemediate";

/// The id of the "Plan (hubfix)" custom action.
pub const PLAN_ACTION_ID: &str = "HubfixPlan";

impl Trigger {
    /// The trigger of an EventBridge event, from its `detail-type` and `resources` (a
    /// custom action's event names its action target:
    /// `arn:aws:securityhub:REGION:ACCOUNT:action/custom/ID`).
    ///
    /// Errors: `Hubfix.InvalidRequest` for a custom action that is not one of hubfix's.
    pub fn of_event(detail_type: Option<&str>, resources: &[Value]) -> Result<Self, Error> {
        if detail_type != Some(CUSTOM_ACTION_EVENT) {
            return Ok(Trigger::Imported);
        }
        let ids: Vec<&str> = resources
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|arn| arn.split_once(":action/custom/").map(|(_, id)| id))
            .collect();
        match ids.as_slice() {
            [id] if *id == REMEDIATE_ACTION_ID => Ok(Trigger::Remediate),
            [id] if *id == PLAN_ACTION_ID => Ok(Trigger::Plan),
            _ => Err(Error::invalid_request(format!(
                "a custom action event must name one of hubfix's actions \
                 ({REMEDIATE_ACTION_ID}, {PLAN_ACTION_ID}); it names {}",
                truncate(&format!("{ids:?}"), 200)
            ))),
        }
    }
}

/// The manual topic's subject for a remediation its plugin skipped (the state machine's
/// `PublishSkipped`).
pub const SKIPPED_SUBJECT: &str = "hubfix: remediation skipped";

/// The `status` of the host's outcome when the plugin chose not to act.
pub const SKIPPED_STATUS: &str = "skipped";

/// The `WasSkipped` / `PublishSkipped` states of the state machine: a plugin that chose not
/// to act leaves the finding NOTIFIED with its reason, and the manual topic gets that
/// update. `None` for every other outcome.
pub fn skipped_notification(response: &HostResponse) -> Option<Notification> {
    (response.outcome["status"] == SKIPPED_STATUS).then(|| Notification {
        subject: SKIPPED_SUBJECT.into(),
        message: serde_json::to_string(&response.update).unwrap_or_default(),
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

/// Decides one finding and says what the state machine does next. A finding that fails
/// validation (`hubfix_finding::Finding::from_value`: another account's resource, an id
/// of the wrong shape, a malformed timestamp, ...) is never decided: it becomes NOTIFIED
/// with the reason in its note, and the manual topic hears of it.
///
/// Errors: `Hubfix.InvalidFinding` when the finding is not an object, lacks `Id` or
/// `ProductArn`, or is too large even when trimmed.
pub fn route(finding: &Value, policy: &Policy, today: Date) -> Result<Route, Error> {
    route_for(finding, policy, today, Trigger::Imported)
}

/// [`route`] for a finding `trigger` asked about. A custom action is acted on whatever the
/// finding's workflow status (a person asked; [`Policy::decide_requested`]), the policy
/// still picking plugin, grants, parameters and exceptions; `Trigger::Plan` asks the host
/// for a plan only.
pub fn route_for(
    finding: &Value,
    policy: &Policy,
    today: Date,
    trigger: Trigger,
) -> Result<Route, Error> {
    let trimmed = trim(finding)?;
    let identifier = identifier(&trimmed)?;
    let parsed = match hubfix_finding::Finding::from_value(finding.clone()) {
        Ok(parsed) => parsed,
        Err(e) => return Ok(refused(identifier, format!("the finding is invalid: {e}"))),
    };
    let decision = match trigger {
        Trigger::Imported => policy.decide(&trimmed, &NoOrg, today),
        Trigger::Remediate | Trigger::Plan => policy.decide_requested(&trimmed, &NoOrg, today),
    };
    // Security Hub always sets a finding's workflow; automatic remediation acts only on
    // findings whose workflow it can see (NEW) and then set. A person's request is the
    // explicit exception.
    if decision.action == Action::Remediate
        && trigger == Trigger::Imported
        && parsed.workflow_status.is_none()
    {
        let field = match parsed.format {
            hubfix_finding::Format::Asff => "Workflow.Status",
            hubfix_finding::Format::Ocsf => "status_id",
        };
        return Ok(refused(
            identifier,
            format!("the finding has no `{field}`, so it is not remediated automatically"),
        ));
    }
    // The plugin must act on something the finding names (a security-group plugin is
    // never run for a finding about a bucket, whatever the control says).
    if decision.action == Action::Remediate
        && let Some(reason) = unlike_the_plugin(&parsed, &decision, policy)
    {
        return Ok(refused(identifier, reason));
    }
    let mut route = from_decision(decision, identifier, trimmed);
    if let Some(request) = &mut route.remediation {
        request.plan = trigger == Trigger::Plan;
    }
    Ok(route)
}

/// Why the plugin `decision` picks cannot act on what `finding` names, if it cannot: none
/// of the finding's resource types is one its grants act on.
fn unlike_the_plugin(
    finding: &hubfix_finding::Finding,
    decision: &Decision,
    policy: &Policy,
) -> Option<String> {
    // Computed once, when the policy was loaded.
    let plugin = policy.plugin(&decision.plugin.as_ref()?.name)?;
    if plugin.acted_on.is_empty() {
        return None;
    }
    let named: Vec<&str> = finding
        .resources
        .iter()
        .map(|r| r.resource_type.as_str())
        .collect();
    if named.iter().any(|t| plugin.acted_on.contains(t)) {
        return None;
    }
    Some(format!(
        "{} acts on {}, but the finding names {}",
        plugin.name,
        plugin
            .acted_on
            .iter()
            .copied()
            .collect::<Vec<_>>()
            .join(", "),
        if named.is_empty() {
            "no resource".to_owned()
        } else {
            named.join(", ")
        }
    ))
}

/// The route of a finding hubfix will not decide (it failed validation, or lacks what
/// automatic remediation needs): NOTIFIED, with the reason, and a message for the manual
/// topic; nothing is remediated.
fn refused(identifier: Identifier, reason: String) -> Route {
    Route {
        action: Action::Notify,
        control: None,
        rule: "invalid-finding".into(),
        update: Some(Update {
            finding: identifier.clone(),
            workflow: Workflow::Notified,
            note: truncate(&format!("hubfix refused to act: {reason}"), 512),
            source: Requester::Router,
        }),
        notification: Some(Notification {
            subject: "hubfix: an invalid finding needs attention".into(),
            message: truncate(&format!("{}: {reason}", identifier.id), 2048),
        }),
        remediation: None,
        identifier,
        reason,
    }
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
            resources = ["sg-0ba5*"]
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
    fn a_finding_without_a_workflow_is_not_remediated_automatically() {
        let mut f = finding("EC2.13", "sg-11111111");
        f.as_object_mut().unwrap().remove("Workflow");
        let refused = route(&f, &policy(), today()).unwrap();
        assert_eq!(refused.action, Action::Notify);
        assert!(refused.remediation.is_none());
        let note = refused.update.unwrap().note;
        assert!(note.contains("no `Workflow.Status`"), "{note}");
        // A decision other than remediate needs no workflow.
        let mut f = finding("IAM.6", "sg-22222222");
        f.as_object_mut().unwrap().remove("Workflow");
        let notified = route(&f, &policy(), today()).unwrap();
        assert_eq!(notified.action, Action::Notify);
        assert_ne!(notified.rule, "invalid-finding");
    }

    #[test]
    fn a_plugin_is_not_run_for_a_finding_about_something_it_does_not_act_on() {
        let mut f = finding("EC2.13", "sg-33333333");
        f["Resources"] = json!([{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::logs"}]);
        let refused = route(&f, &policy(), today()).unwrap();
        assert_eq!(refused.action, Action::Notify);
        assert!(refused.remediation.is_none());
        let note = refused.update.unwrap().note;
        assert!(
            note.contains("ec2-restrict-admin-ports acts on AwsEc2SecurityGroup, but the finding names AwsS3Bucket"),
            "{note}"
        );
        // Its own type, among others, is remediated.
        let mut f = finding("EC2.13", "sg-44444444");
        f["Resources"]
            .as_array_mut()
            .unwrap()
            .insert(0, json!({"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::logs"}));
        let routed = route(&f, &policy(), today()).unwrap();
        assert_eq!(routed.action, Action::Remediate);
    }

    #[test]
    fn custom_actions_remediate_or_plan_whatever_the_workflow() {
        let action = |id: &str| {
            vec![json!(format!(
                "arn:aws:securityhub:us-east-1:111111111111:action/custom/{id}"
            ))]
        };
        let of = |detail_type: &str, resources: Vec<Value>| {
            Trigger::of_event(Some(detail_type), &resources)
        };
        assert_eq!(
            of(CUSTOM_ACTION_EVENT, action(REMEDIATE_ACTION_ID)).unwrap(),
            Trigger::Remediate
        );
        assert_eq!(
            of(CUSTOM_ACTION_EVENT, action(PLAN_ACTION_ID)).unwrap(),
            Trigger::Plan
        );
        assert_eq!(
            of("Security Hub Findings - Imported", vec![json!("f-1")]).unwrap(),
            Trigger::Imported
        );
        assert_eq!(Trigger::of_event(None, &[]).unwrap(), Trigger::Imported);
        let other = of(CUSTOM_ACTION_EVENT, action("SendToJira")).unwrap_err();
        assert_eq!(other.name, ErrorName::InvalidRequest);
        assert!(of(CUSTOM_ACTION_EVENT, vec![]).is_err());

        let mut f = finding("EC2.13", "sg-11111111");
        f["Workflow"]["Status"] = json!("NOTIFIED");
        assert_eq!(
            route(&f, &policy(), today()).unwrap().action,
            Action::Ignore
        );
        let asked = route_for(&f, &policy(), today(), Trigger::Remediate).unwrap();
        assert_eq!(asked.action, Action::Remediate);
        assert!(!asked.remediation.unwrap().plan);
        let planned = route_for(&f, &policy(), today(), Trigger::Plan).unwrap();
        assert!(planned.remediation.unwrap().plan);
        // Without any workflow too: a person asked.
        f.as_object_mut().unwrap().remove("Workflow");
        let asked = route_for(&f, &policy(), today(), Trigger::Remediate).unwrap();
        assert_eq!(asked.action, Action::Remediate);
        // The policy still decides: the approved bastion stays suppressed.
        let bastion = finding("EC2.13", "sg-0ba51111");
        let asked = route_for(&bastion, &policy(), today(), Trigger::Remediate).unwrap();
        assert_eq!(asked.action, Action::Suppress);
    }

    /// `finding` as Security Hub v2 sends it (OCSF).
    fn ocsf_finding(control: &str, resource: &str) -> Value {
        json!({
            "class_uid": 2003,
            "status_id": 1,
            "cloud": {"account": {"uid": "111111111111"}, "provider": "AWS", "region": "us-east-1"},
            "compliance": {"control": control, "status": "Fail"},
            "finding_info": {"uid": format!("arn:aws:securityhub:us-east-1:111111111111:security-control/{control}/finding/{resource}")},
            "metadata": {"product": {"uid": "arn:aws:securityhub:us-east-1::productv2/aws/securityhub"}},
            "resources": [{"type": "AWS::EC2::SecurityGroup", "uid": resource, "region": "us-east-1",
                           "uid_alt": format!("arn:aws:ec2:us-east-1:111111111111:security-group/{resource}")}]
        })
    }

    #[test]
    fn v2_findings_are_routed_like_asff_and_keyed_for_batch_update_findings_v2() {
        let routed = route(&ocsf_finding("EC2.13", "sg-11111111"), &policy(), today()).unwrap();
        assert_eq!(routed.action, Action::Remediate);
        assert_eq!(
            routed.identifier.cloud_account_uid.as_deref(),
            Some("111111111111")
        );
        assert!(routed.identifier.id.ends_with("finding/sg-11111111"));
        assert!(routed.identifier.product_arn.contains("productv2"));

        let suppressed = route(&ocsf_finding("EC2.13", "sg-0ba51111"), &policy(), today()).unwrap();
        assert_eq!(suppressed.action, Action::Suppress);
        assert!(suppressed.update.unwrap().finding.is_v2());

        let mut f = ocsf_finding("EC2.13", "sg-11111111");
        f.as_object_mut().unwrap().remove("status_id");
        let refused = route(&f, &policy(), today()).unwrap();
        let note = refused.update.unwrap().note;
        assert!(note.contains("no `status_id`"), "{note}");

        let mut f = ocsf_finding("EC2.13", "sg-11111111");
        f["resources"][0]["owner"] = json!({"account": {"uid": "222222222222"}});
        let refused = route(&f, &policy(), today()).unwrap();
        assert_eq!(refused.rule, "invalid-finding");
        assert!(refused.update.unwrap().finding.is_v2());
    }

    #[test]
    fn the_asff_and_ocsf_findings_of_one_check_share_a_remediation_key() {
        let key = |f: &Value| {
            let routed = route(f, &policy(), today()).unwrap();
            remediation_key(&routed.remediation.unwrap()).unwrap()
        };
        let asff = key(&finding("EC2.13", "sg-11111111"));
        assert_eq!(asff, key(&ocsf_finding("EC2.13", "sg-11111111")));
        assert_ne!(asff, key(&ocsf_finding("EC2.13", "sg-22222222")));
        assert!(asff.contains("ec2-restrict-admin-ports|ports=22,3389|111111111111|us-east-1"));
    }

    /// The malformed findings of `tests/cases/findings/`, as the router Lambda gets them:
    /// the payload refuses repeated keys and too deep nesting; what has no `Id` is an
    /// error; every other refused case becomes NOTIFIED with its reason and a message for
    /// the manual topic, and is never decided or remediated.
    #[test]
    fn invalid_findings_are_notified_with_the_reason_and_never_remediated() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/findings");
        let mut cases: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        cases.sort();
        let (mut notified, mut refused) = (0, 0);
        for path in cases {
            let text = std::fs::read_to_string(&path).unwrap();
            let (header, json) = text.split_once('\n').unwrap();
            let name = path.display();
            let payload = serde_json::from_str::<hubfix_finding::StrictValue>(json);
            let Some(expected) = header.strip_prefix("// error: ") else {
                let route = route(&payload.unwrap().0, &policy(), today()).unwrap();
                assert_ne!(route.rule, "invalid-finding", "{name}");
                continue;
            };
            let value = match payload {
                Err(e) => {
                    assert!(e.to_string().contains(expected), "{name}: {e}");
                    refused += 1;
                    continue;
                }
                Ok(v) => v.0,
            };
            match route(&value, &policy(), today()) {
                Ok(route) => {
                    assert_eq!(route.action, Action::Notify, "{name}");
                    assert!(route.remediation.is_none(), "{name}");
                    let update = route.update.unwrap();
                    assert_eq!(update.workflow, Workflow::Notified, "{name}");
                    assert!(update.note.contains(expected), "{name}: {}", update.note);
                    assert!(route.notification.is_some(), "{name}");
                    notified += 1;
                }
                Err(e) => {
                    assert_eq!(e.name, ErrorName::InvalidFinding, "{name}");
                    refused += 1;
                }
            }
        }
        assert!(
            notified >= 30 && refused >= 4,
            "{notified} notified, {refused} refused"
        );
    }

    #[test]
    fn remediate_carries_the_trimmed_finding_plugin_grants_and_params() {
        let route = route(&finding("EC2.13", "sg-11111111"), &policy(), today()).unwrap();
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
        let suppressed = route(&finding("EC2.13", "sg-0ba51111"), &policy(), today()).unwrap();
        assert_eq!(suppressed.action, Action::Suppress);
        let update = suppressed.update.unwrap();
        assert_eq!(update.workflow, Workflow::Suppressed);
        assert!(update.note.contains("approved bastion"), "{}", update.note);
        assert!(suppressed.remediation.is_none());

        let notified = route(&finding("IAM.6", "sg-22222222"), &policy(), today()).unwrap();
        assert_eq!(notified.action, Action::Notify);
        assert_eq!(notified.update.unwrap().workflow, Workflow::Notified);
        let note = notified.notification.unwrap();
        assert!(note.subject.chars().count() <= 100);
        assert!(note.message.contains("hardware MFA"), "{}", note.message);
    }

    #[test]
    fn findings_sharing_a_rule_share_the_note_so_the_archiver_can_batch_them() {
        let a = route(&finding("EC2.13", "sg-0ba51111"), &policy(), today()).unwrap();
        let b = route(&finding("EC2.13", "sg-0ba52222"), &policy(), today()).unwrap();
        assert_eq!(a.update.unwrap().note, b.update.unwrap().note);
    }

    #[test]
    fn a_finding_without_an_identifier_is_invalid() {
        let mut f = finding("EC2.13", "sg-11111111");
        f.as_object_mut().unwrap().remove("ProductArn");
        let err = route(&f, &policy(), today()).unwrap_err();
        assert_eq!(err.name, ErrorName::InvalidFinding);
        assert!(err.message.contains("ProductArn"), "{}", err.message);
    }

    #[test]
    fn the_state_is_small() {
        let mut f = finding("EC2.13", "sg-11111111");
        f["Description"] = Value::String("x".repeat(200_000));
        let route = route(&f, &policy(), today()).unwrap();
        assert!(serde_json::to_vec(&route).unwrap().len() < 4096);
    }
}
