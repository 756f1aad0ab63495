//! The JSON documents that pass between the pipeline's parts: what the state machine hands
//! each Lambda, what each returns, and the finding-update messages on the queue.
//!
//! Field names are part of the contract with `deploy/statemachine/remediation.asl.json`,
//! which reads them with JSONPath (`$.action`, `$.update`, `$.remediation`, …).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A finding's key in Security Hub: the pair `BatchUpdateFindings` takes, or for a Security
/// Hub v2 (OCSF) finding the triple `BatchUpdateFindingsV2` takes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identifier {
    /// ASFF `Id`; OCSF `finding_info.uid`.
    #[serde(rename = "Id")]
    pub id: String,
    /// ASFF `ProductArn`; OCSF `metadata.product.uid`.
    #[serde(rename = "ProductArn")]
    pub product_arn: String,
    /// OCSF `cloud.account.uid`: set exactly for Security Hub v2 findings, which are
    /// updated with `BatchUpdateFindingsV2`.
    #[serde(
        rename = "CloudAccountUid",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cloud_account_uid: Option<String>,
}

impl Identifier {
    /// An ASFF finding's key.
    pub fn asff(id: impl Into<String>, product_arn: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            product_arn: product_arn.into(),
            cloud_account_uid: None,
        }
    }

    /// Whether this is a Security Hub v2 (OCSF) finding's key.
    pub fn is_v2(&self) -> bool {
        self.cloud_account_uid.is_some()
    }
}

/// The workflow status the pipeline sets on a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Workflow {
    /// Policy says the finding is accepted (an exception or a suppressed control).
    Suppressed,
    /// A plugin fixed the resource, or it already complied.
    Resolved,
    /// A person has to look at it (notify-only control, failed remediation).
    Notified,
}

impl Workflow {
    /// The ASFF `Workflow.Status` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::Suppressed => "SUPPRESSED",
            Workflow::Resolved => "RESOLVED",
            Workflow::Notified => "NOTIFIED",
        }
    }
}

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding's route was asked by: Security Hub importing the finding (automatic
/// remediation), or a person choosing one of hubfix's Security Hub custom actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// "Security Hub Findings - Imported" or "Findings Imported V2".
    #[default]
    Imported,
    /// The "Remediate (hubfix)" custom action: remediate whatever the workflow status.
    Remediate,
    /// The "Plan (hubfix)" custom action: run the plugin in plan mode and write the planned
    /// calls into the finding's note.
    Plan,
}

/// Who asked for a finding update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requester {
    /// The router (suppress, notify).
    Router,
    /// The host, after a remediation.
    Host,
    /// The state machine itself (a remediation that failed).
    StateMachine,
    /// `hubfix backfill`.
    Backfill,
}

/// One finding update, as queued for the archiver (the SQS message body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    /// The finding.
    pub finding: Identifier,
    /// The workflow status to set.
    pub workflow: Workflow,
    /// The note to set (Security Hub keeps one note per finding, at most 512 characters;
    /// the archiver shortens longer ones).
    pub note: String,
    /// Who asked.
    pub source: Requester,
}

/// What to tell people (the manual queue, an SNS topic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// A one-line subject (SNS allows 100 characters).
    pub subject: String,
    /// The message.
    pub message: String,
}

/// The plugin a remediation runs: name, the version the policy expects, and the digest it
/// pins, if any.
pub use hubfix_contract::PluginRef;

/// What the host Lambda is asked to do: one finding through one plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRequest {
    /// The (trimmed) finding.
    pub finding: Value,
    /// The control, as the policy identified it.
    pub control: String,
    /// The plugin.
    pub plugin: PluginRef,
    /// The host functions the policy grants it.
    pub grants: Vec<String>,
    /// Its parameters.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Record mutating calls instead of making them.
    #[serde(default)]
    pub plan: bool,
}

/// The router's answer for one finding: small, because it becomes the state machine's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// `remediate`, `suppress`, `notify` or `ignore`.
    pub action: hubfix_policy::Action,
    /// The control, when known.
    pub control: Option<String>,
    /// Why, from the policy.
    pub reason: String,
    /// The policy rule that decided, as `name (file:line)`.
    pub rule: String,
    /// The finding's key.
    pub identifier: Identifier,
    /// The update to queue (suppress and notify).
    pub update: Option<Update>,
    /// What to tell people (notify).
    pub notification: Option<Notification>,
    /// What to ask the host (remediate).
    pub remediation: Option<HostRequest>,
}

/// Where the proxy finds the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostTarget {
    /// The host function's name or ARN (another account's ARN for cross-account calls).
    pub function: String,
    /// Its alias or version (`live`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
}

/// The proxy's input, built by the state machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyRequest {
    /// The host to invoke.
    pub host: HostTarget,
    /// What to ask it.
    pub request: HostRequest,
}

/// The host's (and so the proxy's) answer to a remediation that ended well.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostResponse {
    /// The update to queue: RESOLVED with a note naming plugin, version and what was done
    /// (NOTIFIED when the plugin chose not to act).
    pub update: Update,
    /// The audit record ([`hubfix_host::Outcome`] as JSON).
    pub outcome: Value,
}

/// Cuts `text` to at most `max` characters, ending with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn update_messages_have_the_documented_shape() {
        let update = Update {
            finding: Identifier::asff("f-1", "arn:p"),
            workflow: Workflow::Suppressed,
            note: "accepted".into(),
            source: Requester::StateMachine,
        };
        let json = serde_json::to_value(&update).unwrap();
        assert_eq!(
            json,
            json!({"finding": {"Id": "f-1", "ProductArn": "arn:p"}, "workflow": "SUPPRESSED",
                   "note": "accepted", "source": "state-machine"})
        );
        let back: Update = serde_json::from_value(json).unwrap();
        assert_eq!(back, update);
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("ééééé", 3).chars().count(), 3);
    }
}
