//! The validated policy: what [`Policy::from_files`] returns once every file parsed and every
//! cross-reference checked. Nothing here can name an unknown control, plugin or host function.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::{self, CisVersion};
use crate::date::Date;
use crate::error::{Location, PolicyWarning};

/// What happens to a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Run the control's plugin on the finding's resource.
    Remediate,
    /// Set the finding's workflow status to SUPPRESSED, with the reason as a note.
    Suppress,
    /// Tell a person (workflow status NOTIFIED, manual queue).
    Notify,
    /// Do nothing.
    Ignore,
}

impl Action {
    /// `remediate`, `suppress`, `notify` or `ignore`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Remediate => "remediate",
            Action::Suppress => "suppress",
            Action::Notify => "notify",
            Action::Ignore => "ignore",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Security Hub workflow status that a policy can choose to act on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
pub enum WorkflowStatus {
    /// A new finding (OCSF status `New`).
    #[serde(rename = "NEW")]
    New,
    /// A finding someone was notified about (OCSF status `In Progress`).
    #[serde(rename = "NOTIFIED")]
    Notified,
}

impl WorkflowStatus {
    /// `NEW` or `NOTIFIED`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::New => "NEW",
            WorkflowStatus::Notified => "NOTIFIED",
        }
    }
}

/// Settings for the whole policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// The workflow statuses acted on (default `NEW` only).
    pub workflow_statuses: Vec<WorkflowStatus>,
    /// The action for findings of controls no policy entry covers: [`Action::Notify`]
    /// (default) or [`Action::Ignore`].
    pub unknown_controls: Action,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            workflow_statuses: vec![WorkflowStatus::New],
            unknown_controls: Action::Notify,
        }
    }
}

/// A remediation plugin the policy can run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plugin {
    /// Its name, e.g. `ec2-restrict-admin-ports`.
    pub name: String,
    /// Its version, e.g. `0.1.0`.
    pub version: String,
    /// The pinned sha256 digest of the component (lowercase hex), when published.
    pub sha256: Option<String>,
    /// The controls it remediates.
    pub controls: Vec<String>,
    /// The host functions it is granted (`ec2.revoke-security-group-ingress`), each one of
    /// [`host_functions`](crate::host_functions). Empty means nothing is granted.
    pub grants: Vec<String>,
    /// The parameters it takes that have a default, with the default (always passed).
    pub params: BTreeMap<String, String>,
    /// The parameters it takes without a default (passed only when set).
    pub optional_params: Vec<String>,
    /// The resource types its grants act on ([`hubfix_contract::acted_on`]), one of which
    /// a finding it remediates must name; empty when it only reads.
    pub acted_on: BTreeSet<&'static str>,
    /// Where it is defined.
    pub location: Location,
}

impl Plugin {
    /// Whether the plugin takes a parameter.
    pub fn takes(&self, param: &str) -> bool {
        self.params.contains_key(param) || self.optional_params.iter().any(|p| p == param)
    }

    /// Every parameter it takes, sorted.
    pub fn param_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .params
            .keys()
            .map(String::as_str)
            .chain(self.optional_params.iter().map(String::as_str))
            .collect();
        names.sort_unstable();
        names
    }
}

/// The treatment of one control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlPolicy {
    /// The Security Hub control id.
    pub control: String,
    /// What to do with its failed findings.
    pub action: Action,
    /// Why.
    pub reason: String,
    /// The plugin (always set when the action is `remediate`).
    pub plugin: Option<String>,
    /// Parameters over the plugin's defaults.
    pub params: BTreeMap<String, String>,
    /// Where it is defined.
    pub location: Location,
}

/// A control the policy declares (`[controls."ID".declare]`) because the built-in catalog
/// lacks it: a newer or custom Security Hub control. Its findings are identified and decided
/// like those of catalog controls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredControl {
    /// The Security Hub control id, matching
    /// [`DECLARED_CONTROL_ID_PATTERN`](crate::catalog::DECLARED_CONTROL_ID_PATTERN).
    pub id: String,
    /// Its title, when given.
    pub title: Option<String>,
    /// The ASFF resource types its findings name (at least one).
    pub resource_types: Vec<String>,
    /// Its CIS id in each CIS version that has it.
    pub cis: BTreeMap<CisVersion, String>,
    /// Where the `declare` table is.
    pub location: Location,
}

/// A resource tag condition of an exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagMatch {
    /// The tag key.
    pub key: String,
    /// The value it must have; any value when `None`.
    pub value: Option<String>,
}

/// An exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    /// Its unique name.
    pub id: String,
    /// Why it exists.
    pub reason: String,
    /// The controls it covers; all when `None`.
    pub controls: Option<Vec<String>>,
    /// Account ids (any of them).
    pub accounts: Vec<String>,
    /// OU paths, normalised without leading or trailing `/` (any of them, or below).
    pub ous: Vec<String>,
    /// Tags (any of them on any resource).
    pub tags: Vec<TagMatch>,
    /// Resource id patterns (any of them on any resource).
    pub resources: Vec<String>,
    /// The last day it applies.
    pub expires: Option<Date>,
    /// What to do instead: `suppress`, `notify` or `ignore`.
    pub action: Action,
    /// Where it is defined.
    pub location: Location,
    /// Its entry name (`exceptions[0] (bastion-ssh)`).
    pub entry: String,
}

impl Exception {
    /// Whether it has expired on `today` (it applies through its `expires` day).
    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|last| today > last)
    }
}

/// An override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Override {
    /// Its unique name.
    pub id: String,
    /// Why it exists.
    pub reason: String,
    /// The controls it changes; all when `None`.
    pub controls: Option<Vec<String>>,
    /// Account ids.
    pub accounts: Vec<String>,
    /// OU paths, normalised.
    pub ous: Vec<String>,
    /// The action instead of the control's.
    pub action: Option<Action>,
    /// The plugin instead of the control's.
    pub plugin: Option<String>,
    /// Parameters over the control's.
    pub params: BTreeMap<String, String>,
    /// Where it is defined.
    pub location: Location,
    /// Its entry name (`overrides[0] (team-a)`).
    pub entry: String,
}

/// A validated policy. Build it with [`Policy::from_files`]; decide with
/// [`Policy::decide`](crate::Policy::decide) or [`decide`](crate::decide).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub(crate) settings: Settings,
    pub(crate) plugins: BTreeMap<String, Plugin>,
    pub(crate) controls: BTreeMap<String, ControlPolicy>,
    /// Controls the catalog lacks, declared by their `controls` entries.
    pub(crate) declared: BTreeMap<String, DeclaredControl>,
    pub(crate) accounts: BTreeMap<String, String>,
    pub(crate) exceptions: Vec<Exception>,
    pub(crate) overrides: Vec<Override>,
    /// What loading found worth attention (a `declare` repeating the catalog).
    pub(crate) load_warnings: Vec<PolicyWarning>,
}

impl Policy {
    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A plugin by name.
    pub fn plugin(&self, name: &str) -> Option<&Plugin> {
        self.plugins.get(name)
    }

    /// Every plugin, by name.
    pub fn plugins(&self) -> impl Iterator<Item = &Plugin> {
        self.plugins.values()
    }

    /// A control's entry, by Security Hub control id.
    pub fn control(&self, id: &str) -> Option<&ControlPolicy> {
        self.controls.get(id)
    }

    /// Every control entry, by control id.
    pub fn controls(&self) -> impl Iterator<Item = &ControlPolicy> {
        self.controls.values()
    }

    /// This policy with the opt-in `control` turned on for `account`, as an `[[overrides]]`
    /// entry with `controls = [control]`, that account and `action = "remediate"` would turn
    /// it on: the documented way owners opt in. `None` unless the control's entry is opt-in
    /// (`notify` with its plugin named).
    pub fn opted_in(&self, control: &str, account: &str) -> Option<Policy> {
        let entry = self.controls.get(control)?;
        if entry.action != Action::Notify || entry.plugin.is_none() {
            return None;
        }
        let mut policy = self.clone();
        policy.overrides.push(Override {
            id: format!("opt-in-{control}"),
            reason: format!("{control} opted in for account {account}"),
            controls: Some(vec![control.to_owned()]),
            accounts: vec![account.to_owned()],
            ous: Vec::new(),
            action: Some(Action::Remediate),
            plugin: None,
            params: BTreeMap::new(),
            location: entry.location.clone(),
            entry: format!("overrides (opt-in {control} for {account})"),
        });
        Some(policy)
    }

    /// A control the policy declares (one the built-in catalog lacks), by id.
    pub fn declared_control(&self, id: &str) -> Option<&DeclaredControl> {
        self.declared.get(id)
    }

    /// Every control the policy declares, by id.
    pub fn declared_controls(&self) -> impl Iterator<Item = &DeclaredControl> {
        self.declared.values()
    }

    /// Whether the control id is one this policy can route: in the built-in
    /// [catalog](crate::catalog) or declared by the policy.
    pub fn knows_control(&self, id: &str) -> bool {
        catalog::control(id).is_some() || self.declared.contains_key(id)
    }

    /// The control a CIS id of one version names (`3.0.0`, `5.2` → `EC2.53`): the
    /// [catalog](crate::catalog::lookup_cis)'s, or else a declared control's (declared CIS ids
    /// never collide with the catalog's). `resource_type` settles split requirements.
    pub fn control_for_cis(
        &self,
        version: CisVersion,
        id: &str,
        resource_type: Option<&str>,
    ) -> Option<&str> {
        if let Some(c) = catalog::lookup_cis(version, id, resource_type) {
            return Some(c.id);
        }
        self.declared
            .values()
            .find(|d| d.cis.get(&version).is_some_and(|cis| cis == id))
            .map(|d| d.id.as_str())
    }

    /// The static OU path of an account (`[accounts]`).
    pub fn account_ou(&self, account_id: &str) -> Option<&str> {
        self.accounts.get(account_id).map(String::as_str)
    }

    /// The exceptions, in file order.
    pub fn exceptions(&self) -> &[Exception] {
        &self.exceptions
    }

    /// The overrides, in file order.
    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// What deserves attention on `today` without making the policy invalid: `declare` tables
    /// that only repeat the built-in catalog, then exceptions that have expired (they no
    /// longer apply).
    pub fn warnings(&self, today: Date) -> Vec<PolicyWarning> {
        let expired = self
            .exceptions
            .iter()
            .filter(|e| e.is_expired(today))
            .filter_map(|e| {
                let expires = e.expires?;
                Some(PolicyWarning {
                    location: e.location.clone(),
                    entry: e.entry.clone(),
                    message: format!(
                        "exception expired on {expires} and no longer applies: remove it or extend `expires`"
                    ),
                })
            });
        self.load_warnings.iter().cloned().chain(expired).collect()
    }
}

/// The segments of an OU path (`/Root/Prod/` → `["Root", "Prod"]`).
pub(crate) fn ou_segments(path: &str) -> Vec<&str> {
    path.split('/')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// How specifically an OU path condition matches an account's OU path: the number of
/// segments of the condition when the account is at or below it.
pub(crate) fn ou_match_depth(condition: &str, account_ou: &str) -> Option<usize> {
    let cond = ou_segments(condition);
    let acct = ou_segments(account_ou);
    (!cond.is_empty() && acct.len() >= cond.len() && acct[..cond.len()] == cond[..])
        .then_some(cond.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ou_paths() {
        assert_eq!(ou_match_depth("Root/Prod", "Root/Prod/TeamA"), Some(2));
        assert_eq!(ou_match_depth("/Root/Prod/", "Root/Prod"), Some(2));
        assert_eq!(ou_match_depth("Root/Prod", "Root/Production"), None);
        assert_eq!(ou_match_depth("Root/Prod/TeamA", "Root/Prod"), None);
        assert_eq!(ou_match_depth("", "Root"), None);
    }
}
