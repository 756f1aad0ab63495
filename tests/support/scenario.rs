//! The end-to-end scenario the pipeline tests and the demo share: member accounts with the
//! misconfigurations the shipped plugins fix, findings the policy suppresses or only
//! notifies about, and the template's EventBridge rule delivering the imported findings.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use serde_json::Value;

use crate::pipeline::Stack;
use crate::{Member, account_finding, group_finding, unique_suffix};

/// An exception added to the shipped policy: groups whose id starts with `sg-0ba5` (the
/// bastions) are approved, so their findings are suppressed.
pub const EXCEPTIONS: &str = r#"
[[exceptions]]
id = "approved-bastions"
controls = ["EC2.13", "EC2.53", "EC2.54"]
resources = ["sg-0ba5*"]
reason = "Bastion SSH ingress approved in SEC-123"
"#;

/// The repository's `deploy/` directory.
pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// A JSON file.
pub fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parse {}", path.display()))
}

/// `finding` with a run-unique `Id`, so a scenario can run again against the same
/// emulator (Security Hub keeps a finding's workflow status across re-imports).
pub fn fresh(mut finding: Value) -> Value {
    let id = finding["Id"].as_str().unwrap_or("finding").to_owned();
    finding["Id"] = Value::String(format!("{id}/run-{}", unique_suffix()));
    finding
}

/// One seeded misconfiguration and its finding.
pub struct Seeded {
    /// Clients in the member account.
    pub member: Member,
    /// The control it fails.
    pub control: &'static str,
    /// The resource (a group id, or `AWS::::Account:ID`).
    pub resource: String,
    /// The finding about it.
    pub finding: Value,
}

/// Seeds the four misconfigurations the shipped plugins fix in `account`.
pub async fn seed(base: &SdkConfig, account: &str) -> Result<Vec<Seeded>> {
    let member = Member::assume(base, account).await?;
    member.seed_weak_password_policy().await?;
    let open = member
        .seed_open_admin_group(&format!("hubfix-open-admin-{}", unique_suffix()))
        .await?;
    let default = member.seed_default_group_rules().await?;
    member.disable_ebs_default_encryption().await?;
    let account_id = format!("AWS::::Account:{account}");
    Ok(vec![
        Seeded {
            member: member.clone(),
            control: "IAM.15",
            resource: account_id.clone(),
            finding: fresh(account_finding(account, "IAM.15")),
        },
        Seeded {
            member: member.clone(),
            control: "EC2.53",
            finding: fresh(group_finding(account, "EC2.53", &open)),
            resource: open,
        },
        Seeded {
            member: member.clone(),
            control: "EC2.2",
            finding: fresh(group_finding(account, "EC2.2", &default)),
            resource: default,
        },
        Seeded {
            member,
            control: "EC2.7",
            resource: account_id,
            finding: fresh(account_finding(account, "EC2.7")),
        },
    ])
}

/// Whether the seeded resource passes its control now, checked through the SDK.
pub async fn compliant(s: &Seeded) -> Result<bool> {
    let m = &s.member;
    Ok(match s.control {
        "IAM.15" => m.password_policy().await?.is_some_and(|p| {
            p.minimum_password_length.unwrap_or(0) >= 14
                && p.require_symbols
                && p.require_numbers
                && p.require_uppercase_characters
                && p.require_lowercase_characters
                && p.password_reuse_prevention == Some(24)
        }),
        "EC2.53" => !m.rules(&s.resource).await?.iter().any(|r| {
            let world = r.cidr_ipv4.as_deref() == Some("0.0.0.0/0")
                || r.cidr_ipv6.as_deref() == Some("::/0");
            let all = r.ip_protocol.as_deref() == Some("-1");
            let (from, to) = (r.from_port.unwrap_or(-1), r.to_port.unwrap_or(-1));
            let covers = |p: i32| from == -1 || (from <= p && p <= to);
            r.is_egress == Some(false) && world && (all || covers(22) || covers(3389))
        }),
        "EC2.2" => m.rules(&s.resource).await?.is_empty(),
        "EC2.7" => m.ebs_default_encryption().await?,
        other => bail!("no compliance check for {other}"),
    })
}

/// Findings the policy suppresses (the exception's bastion groups), one per account.
pub fn suppressed_findings(accounts: &[&str]) -> Vec<Value> {
    accounts
        .iter()
        .map(|a| fresh(group_finding(a, "EC2.53", &format!("sg-0ba5{}", &a[..4]))))
        .collect()
}

/// Findings the policy only notifies about (IAM.6, hardware MFA for root), one per account.
pub fn notified_findings(accounts: &[&str]) -> Vec<Value> {
    accounts
        .iter()
        .map(|a| fresh(account_finding(a, "IAM.6")))
        .collect()
}

/// The template's EventBridge rule (`deploy/eventbridge/findings-pattern.json`) with an SQS
/// queue as its target in place of the state machine: what it delivers is what would start
/// executions.
pub struct Rule {
    events: aws_sdk_eventbridge::Client,
    queue_url: String,
    name: String,
}

impl Rule {
    /// Creates the rule on the default bus of the Security account.
    pub async fn create(base: &SdkConfig, stack: &Stack) -> Result<Rule> {
        let events = aws_sdk_eventbridge::Client::new(base);
        let suffix = unique_suffix();
        let name = format!("hubfix-findings-{suffix}");
        let queue_url = stack
            .sqs
            .create_queue()
            .queue_name(format!("hubfix-rule-target-{suffix}"))
            .send()
            .await?
            .queue_url
            .context("no queue url")?;
        let arn = stack
            .sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await?
            .attributes
            .and_then(|mut a| a.remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .context("no queue arn")?;
        let pattern = read_json(&deploy_dir().join("eventbridge/findings-pattern.json"))?;
        events
            .put_rule()
            .name(&name)
            .event_pattern(pattern.to_string())
            .send()
            .await?;
        events
            .put_targets()
            .rule(&name)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("state-machine")
                    .arn(arn)
                    .build()?,
            )
            .send()
            .await?;
        Ok(Rule {
            events,
            queue_url,
            name,
        })
    }

    /// The events the rule delivered since the last call.
    pub async fn delivered(&self, stack: &Stack) -> Result<Vec<Value>> {
        stack
            .take_all(&self.queue_url)
            .await?
            .iter()
            .map(|body| Ok(serde_json::from_str(body)?))
            .collect()
    }

    /// Removes the rule.
    pub async fn delete(self) -> Result<()> {
        self.events
            .remove_targets()
            .rule(&self.name)
            .ids("state-machine")
            .send()
            .await?;
        self.events.delete_rule().name(&self.name).send().await?;
        Ok(())
    }
}
