//! The decision: what to do with one finding, and which policy entry said so.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;

use serde::Serialize;
use serde_json::Value;

use crate::date::Date;
use crate::error::Location;
use crate::glob;
use crate::identity::ControlSource;
use crate::load::is_account_id;
use crate::model::{Action, Exception, Override, Policy, ou_match_depth, ou_segments};
use crate::view::{FindingView, InputError, ResourceView, findings_in};

/// Where an account sits in the AWS Organization. Findings do not say, so the caller (the
/// router Lambda with AWS Organizations data, or the CLI) provides it; the policy's own
/// `[accounts]` map is consulted when this returns `None`.
pub trait OrgContext {
    /// The OU path of an account, e.g. `Root/Workloads/Prod`, when known.
    fn ou_path(&self, account_id: &str) -> Option<String>;
}

/// No organization data: only the policy's `[accounts]` map gives OU paths.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoOrg;

impl OrgContext for NoOrg {
    fn ou_path(&self, _: &str) -> Option<String> {
        None
    }
}

impl<S: BuildHasher> OrgContext for HashMap<String, String, S> {
    fn ou_path(&self, account_id: &str) -> Option<String> {
        self.get(account_id).cloned()
    }
}

impl OrgContext for BTreeMap<String, String> {
    fn ou_path(&self, account_id: &str) -> Option<String> {
        self.get(account_id).cloned()
    }
}

/// The plugin a `remediate` decision runs: name, version, and the digest the policy pins,
/// when it pins one (the host refuses to run a plugin without a matching digest; `hubfix
/// run` locally may not).
pub use hubfix_contract::PluginRef;

/// What kind of rule produced a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleKind {
    /// The input is not a readable finding, or names no control.
    Input,
    /// The finding's state (compliance, record or workflow status, account) is not acted on.
    FindingState,
    /// The control is neither in the catalog nor declared by the policy, or has no policy
    /// entry.
    Catalog,
    /// A `[controls."ID"]` entry.
    Control,
    /// An `[[overrides]]` entry.
    Override,
    /// An `[[exceptions]]` entry.
    Exception,
}

/// A rule that shaped a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// What kind of rule.
    pub kind: RuleKind,
    /// The policy entry (`controls."EC2.53"`, `exceptions[0] (bastion-ssh)`), or a short name
    /// of the built-in rule (`compliance-status`, `workflow-status`).
    pub name: String,
    /// Where the policy entry is; `None` for built-in rules.
    #[serde(flatten)]
    pub location: Option<Location>,
}

impl Rule {
    fn builtin(kind: RuleKind, name: &str) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            location: None,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{} ({location})", self.name),
            None => write!(f, "built-in rule {}", self.name),
        }
    }
}

/// What to do with one finding. Serializes to the JSON `hubfix policy explain --output json`
/// prints: `{"action": "remediate", "control": "EC2.53", "plugin": {...} or null,
/// "reason": "...", "rule": {...}, ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The action.
    pub action: Action,
    /// The Security Hub control, when the finding names one.
    pub control: Option<String>,
    /// The plugin to run; set exactly when the action is `remediate`.
    pub plugin: Option<PluginRef>,
    /// Why, in a sentence.
    pub reason: String,
    /// The rule that decided.
    pub rule: Rule,
    /// Every policy entry that shaped the decision, in the order applied (the control entry,
    /// then overrides, then an exception); empty for built-in rules.
    pub rules: Vec<Rule>,
    /// The plugin's parameters (plugin defaults, then the control's, then overrides'); empty
    /// unless the action is `remediate`.
    pub params: BTreeMap<String, String>,
    /// The host functions granted to the plugin; empty unless the action is `remediate`.
    pub grants: Vec<String>,
    /// The finding's id (ASFF `Id`, OCSF `finding_info.uid`).
    pub finding_id: Option<String>,
    /// The account the finding is about.
    pub account_id: Option<String>,
    /// The region the finding is about.
    pub region: Option<String>,
    /// The account's OU path, when known.
    pub ou: Option<String>,
    /// How the control was identified.
    pub source: Option<ControlSource>,
    /// Things worth knowing that did not decide (an expired exception, an unknown OU).
    pub notes: Vec<String>,
}

impl Decision {
    fn ignore(view: Option<&FindingView>, kind: RuleKind, name: &str, reason: String) -> Self {
        Self::builtin(Action::Ignore, view, kind, name, reason)
    }

    /// A decision of a built-in rule (no policy entry decided).
    fn builtin(
        action: Action,
        view: Option<&FindingView>,
        kind: RuleKind,
        name: &str,
        reason: String,
    ) -> Self {
        Self {
            action,
            control: view.and_then(|v| v.identity.control.clone()),
            plugin: None,
            reason,
            rule: Rule::builtin(kind, name),
            rules: Vec::new(),
            params: BTreeMap::new(),
            grants: Vec::new(),
            finding_id: view.and_then(|v| v.id.clone()),
            account_id: view.and_then(|v| v.account_id.clone()),
            region: view.and_then(|v| v.region.clone()),
            ou: None,
            source: view.map(|v| v.identity.source.clone()),
            notes: Vec::new(),
        }
    }
}

/// Decides every finding in a document (one finding in any format, a list, a `GetFindings`
/// page, or an EventBridge event): one decision per finding, in order. `today` is the UTC date
/// exceptions expire against. Fails only when the document holds no findings at all; a finding
/// that cannot be read is decided `ignore` with the reason.
pub fn decide(
    document: &Value,
    policy: &Policy,
    org: &dyn OrgContext,
    today: Date,
) -> Result<Vec<Decision>, InputError> {
    policy.decide_document(document, org, today)
}

impl Policy {
    /// Decides every finding in a document. See [`decide`].
    pub fn decide_document(
        &self,
        document: &Value,
        org: &dyn OrgContext,
        today: Date,
    ) -> Result<Vec<Decision>, InputError> {
        Ok(findings_in(document)?
            .into_iter()
            .map(|finding| self.decide(finding, org, today))
            .collect())
    }

    /// Decides one finding (ASFF or OCSF).
    ///
    /// Only `FAILED`, `ACTIVE` findings whose workflow status is one of
    /// `settings.workflow-statuses` (`NEW` by default; a finding without one counts as `NEW`)
    /// are acted on; everything else is `ignore` with the reason. Then the control's entry
    /// gives the action, overrides for the account or its OU change it (least specific first),
    /// and the first matching exception that has not expired wins over both.
    pub fn decide(&self, finding: &Value, org: &dyn OrgContext, today: Date) -> Decision {
        self.decide_for(finding, org, today, false)
    }

    /// Decides a finding a person asked about (a Security Hub custom action): as
    /// [`Policy::decide`], except that its workflow status is not a reason to ignore it.
    /// The control's entry, overrides and exceptions decide as always.
    pub fn decide_requested(&self, finding: &Value, org: &dyn OrgContext, today: Date) -> Decision {
        self.decide_for(finding, org, today, true)
    }

    fn decide_for(
        &self,
        finding: &Value,
        org: &dyn OrgContext,
        today: Date,
        requested: bool,
    ) -> Decision {
        let view = match FindingView::read(finding, self) {
            Ok(view) => view,
            Err(reason) => return Decision::ignore(None, RuleKind::Input, "finding-shape", reason),
        };
        let v = Some(&view);
        let Some(control_id) = view.identity.control.clone() else {
            let problem = view.identity.problem.clone().unwrap_or_default();
            return Decision::ignore(
                v,
                RuleKind::Input,
                "control-identity",
                format!("cannot tell which control the finding is about: {problem}"),
            );
        };

        // The finding's state.
        match view.compliance_status.as_deref() {
            Some("FAILED") => {}
            Some(other) => {
                return Decision::ignore(
                    v,
                    RuleKind::FindingState,
                    "compliance-status",
                    format!("compliance status is {other}: only FAILED findings are acted on"),
                );
            }
            None => {
                return Decision::ignore(
                    v,
                    RuleKind::FindingState,
                    "compliance-status",
                    "the finding has no compliance status, so it is not a failed control check"
                        .to_owned(),
                );
            }
        }
        if view.archived {
            let state = view.record_state.as_deref().unwrap_or("ARCHIVED");
            return Decision::ignore(
                v,
                RuleKind::FindingState,
                "record-state",
                format!("the finding is {state}: only ACTIVE findings are acted on"),
            );
        }
        let mut notes = Vec::new();
        let workflow = match view.workflow_status.as_deref() {
            Some(status) => status,
            None => {
                notes.push("the finding has no workflow status: taken as NEW".to_owned());
                "NEW"
            }
        };
        if !requested
            && !self
                .settings
                .workflow_statuses
                .iter()
                .any(|s| s.as_str() == workflow)
        {
            let acted: Vec<&str> = self
                .settings
                .workflow_statuses
                .iter()
                .map(|s| s.as_str())
                .collect();
            return Decision::ignore(
                v,
                RuleKind::FindingState,
                "workflow-status",
                format!(
                    "workflow status is {workflow}: only {} findings are acted on (settings.workflow-statuses)",
                    acted.join(" or ")
                ),
            );
        }
        let account = match view.account_id.as_deref() {
            Some(a) if is_account_id(a) => a.to_owned(),
            Some(a) => {
                return Decision::ignore(
                    v,
                    RuleKind::FindingState,
                    "account",
                    format!("account id `{a}` is not a 12-digit account id"),
                );
            }
            None => {
                return Decision::ignore(
                    v,
                    RuleKind::FindingState,
                    "account",
                    "the finding names no account id".to_owned(),
                );
            }
        };

        // The control's entry.
        let unknown = self.settings.unknown_controls;
        if !self.knows_control(&control_id) {
            return Decision::builtin(
                unknown,
                v,
                RuleKind::Catalog,
                "catalog",
                format!(
                    "{control_id} is neither in the built-in catalog (CIS AWS Foundations v1.2.0, v1.4.0, v3.0.0, v5.0.0 and the controls of shipped plugins) nor declared by the policy, so the policy does not cover it (a [controls.\"{control_id}\"] entry with a `declare` table would)"
                ),
            );
        }
        let Some(entry) = self.controls.get(&control_id) else {
            return Decision::builtin(
                unknown,
                v,
                RuleKind::Catalog,
                "catalog",
                format!("the policy has no entry for {control_id}"),
            );
        };
        let ou = org
            .ou_path(&account)
            .or_else(|| self.account_ou(&account).map(str::to_owned))
            .map(|p| ou_segments(&p).join("/"))
            .filter(|p| !p.is_empty());

        let mut action = entry.action;
        let mut reason = entry.reason.clone();
        let mut plugin_name = entry.plugin.clone();
        let mut params = plugin_name
            .as_deref()
            .and_then(|p| self.plugins.get(p))
            .map(|p| p.params.clone())
            .unwrap_or_default();
        params.extend(entry.params.clone());
        let mut rules = vec![Rule {
            kind: RuleKind::Control,
            name: format!("controls.\"{control_id}\""),
            location: Some(entry.location.clone()),
        }];
        let mut ou_unknown_mattered = false;

        // Overrides, least specific first.
        let mut matching: Vec<(usize, usize, &Override)> = Vec::new();
        for (index, o) in self.overrides.iter().enumerate() {
            if !covers(o.controls.as_deref(), &control_id) {
                continue;
            }
            let by_account = o.accounts.contains(&account).then_some(usize::MAX);
            let by_ou = match &ou {
                Some(ou) => o.ous.iter().filter_map(|c| ou_match_depth(c, ou)).max(),
                None => {
                    ou_unknown_mattered |= !o.ous.is_empty();
                    None
                }
            };
            if let Some(specificity) = by_account.or(by_ou) {
                matching.push((specificity, index, o));
            }
        }
        matching.sort_by_key(|(specificity, index, _)| (*specificity, *index));
        for (_, _, o) in matching {
            if let Some(p) = &o.plugin
                && plugin_name.as_deref() != Some(p)
            {
                // A different plugin: its parameters start from its own defaults.
                plugin_name = Some(p.clone());
                params = self
                    .plugins
                    .get(p)
                    .map(|p| p.params.clone())
                    .unwrap_or_default();
            }
            if let Some(a) = o.action {
                action = a;
            }
            params.extend(o.params.clone());
            reason = o.reason.clone();
            rules.push(Rule {
                kind: RuleKind::Override,
                name: o.entry.clone(),
                location: Some(o.location.clone()),
            });
        }

        // Exceptions: the first that matches and has not expired.
        for e in &self.exceptions {
            if !covers(e.controls.as_deref(), &control_id) {
                continue;
            }
            match exception_matches(e, &account, ou.as_deref(), &view.resources) {
                Match::Yes => {}
                Match::No => continue,
                Match::OuUnknown => {
                    ou_unknown_mattered = true;
                    continue;
                }
            }
            if e.is_expired(today) {
                let expires = e.expires.map(|d| d.to_string()).unwrap_or_default();
                notes.push(format!(
                    "{} expired on {expires} and no longer applies",
                    e.entry
                ));
                continue;
            }
            action = e.action;
            reason = e.reason.clone();
            rules.push(Rule {
                kind: RuleKind::Exception,
                name: e.entry.clone(),
                location: Some(e.location.clone()),
            });
            break;
        }
        if ou_unknown_mattered {
            notes.push(format!(
                "the OU of account {account} is unknown (no organization data, not in [accounts]): OU conditions did not match"
            ));
        }

        let mut plugin = None;
        let mut grants = Vec::new();
        if action == Action::Remediate {
            match plugin_name.as_deref().and_then(|p| self.plugins.get(p)) {
                Some(p) => {
                    plugin = Some(PluginRef {
                        name: p.name.clone(),
                        version: p.version.clone(),
                        sha256: p.sha256.clone(),
                    });
                    grants = p.grants.clone();
                }
                None => {
                    // Validation makes this unreachable; stay safe rather than run nothing.
                    action = Action::Notify;
                    notes.push(format!(
                        "{control_id} has no plugin to remediate with: notifying instead"
                    ));
                }
            }
        }
        if action != Action::Remediate {
            params.clear();
        }
        let rule = rules
            .last()
            .cloned()
            .unwrap_or_else(|| Rule::builtin(RuleKind::Control, "control"));
        Decision {
            action,
            control: Some(control_id),
            plugin,
            reason,
            rule,
            rules,
            params,
            grants,
            finding_id: view.id.clone(),
            account_id: Some(account),
            region: view.region.clone(),
            ou,
            source: Some(view.identity.source.clone()),
            notes,
        }
    }
}

fn covers(controls: Option<&[String]>, control: &str) -> bool {
    controls.is_none_or(|list| list.iter().any(|c| c == control))
}

enum Match {
    Yes,
    No,
    /// It would depend on the account's OU, which is unknown.
    OuUnknown,
}

fn exception_matches(
    e: &Exception,
    account: &str,
    ou: Option<&str>,
    resources: &[ResourceView],
) -> Match {
    if !e.accounts.is_empty() && !e.accounts.iter().any(|a| a == account) {
        return Match::No;
    }
    if !e.tags.is_empty()
        && !resources.iter().any(|r| {
            e.tags.iter().any(|t| {
                r.tags
                    .iter()
                    .any(|(k, v)| *k == t.key && t.value.as_ref().is_none_or(|want| want == v))
            })
        })
    {
        return Match::No;
    }
    if !e.resources.is_empty()
        && !resources.iter().any(|r| {
            r.ids.iter().any(|id| {
                e.resources.iter().any(|p| {
                    glob::matches(p, id) || glob::matches(p, hubfix_contract::short_id(id))
                })
            })
        })
    {
        return Match::No;
    }
    if !e.ous.is_empty() {
        match ou {
            Some(ou) if e.ous.iter().any(|c| ou_match_depth(c, ou).is_some()) => {}
            Some(_) => return Match::No,
            None => return Match::OuUnknown,
        }
    }
    Match::Yes
}
