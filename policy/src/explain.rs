//! Renderings for people and tools: what `hubfix policy explain` and `hubfix policy check`
//! print, so that the CLI only reads files and prints.

use std::fmt;

use serde_json::Value;

use crate::catalog::{CONTROLS, Membership};
use crate::decide::Decision;
use crate::docs::{ActionCounts, CisCoverage};
use crate::model::{Action, Policy};

impl fmt::Display for Decision {
    /// A few aligned lines: the finding, the control and how it was found, the action, the
    /// plugin with its parameters and grants, the reason, the deciding rule, the applied
    /// entries and any notes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unknown)".to_owned());
        writeln!(f, "finding  {}", or_unknown(&self.finding_id))?;
        let ou = self
            .ou
            .as_ref()
            .map(|ou| format!(" (OU {ou})"))
            .unwrap_or_default();
        writeln!(
            f,
            "account  {}{ou}, region {}",
            or_unknown(&self.account_id),
            or_unknown(&self.region)
        )?;
        let mut control = or_unknown(&self.control);
        if let Some(source) = &self.source {
            control.push_str(&format!(
                " ({} finding, from {}",
                source.format.as_str(),
                source.field
            ));
            match (&source.cis_version, &source.standard_control_id) {
                (Some(v), Some(id)) => control.push_str(&format!("; CIS v{v} {id}")),
                (Some(v), None) => control.push_str(&format!("; CIS v{v}")),
                (None, Some(id)) => control.push_str(&format!("; standard control {id}")),
                (None, None) => {}
            }
            control.push(')');
        }
        writeln!(f, "control  {control}")?;
        writeln!(f, "action   {}", self.action)?;
        if let Some(plugin) = &self.plugin {
            let digest = plugin
                .sha256
                .as_ref()
                .map_or("sha256 not pinned".to_owned(), |d| format!("sha256 {d}"));
            writeln!(f, "plugin   {} {} ({digest})", plugin.name, plugin.version)?;
            if !self.params.is_empty() {
                let params: Vec<String> = self
                    .params
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                writeln!(f, "params   {}", params.join(" "))?;
            }
            writeln!(f, "grants   {}", self.grants.join(", "))?;
        }
        writeln!(f, "reason   {}", self.reason)?;
        write!(f, "rule     {}", self.rule)?;
        if self.rules.len() > 1 {
            let names: Vec<String> = self.rules.iter().map(|r| r.name.clone()).collect();
            write!(f, "\napplied  {}", names.join(" -> "))?;
        }
        for note in &self.notes {
            write!(f, "\nnote     {note}")?;
        }
        Ok(())
    }
}

/// The JSON `hubfix policy explain --output json` prints: the decision object for a document
/// holding one finding, an array of decisions for a document holding several.
pub fn explain_json(decisions: &[Decision]) -> Value {
    let to_value = |d: &Decision| serde_json::to_value(d).unwrap_or(Value::Null);
    match decisions {
        [one] => to_value(one),
        many => Value::Array(many.iter().map(to_value).collect()),
    }
}

impl Policy {
    /// One line on what the policy holds, for `hubfix policy check`: e.g. `68 controls
    /// (14 remediate, 54 notify), 4 plugins, 0 exceptions, 0 overrides`, then the CIS
    /// coverage (`65 of 65 CIS controls covered`) and how many controls of each CIS version
    /// it remediates (`remediated per CIS version: v1.2.0 12 of 43, …, v5.0.0 11 of 40`;
    /// current and retired controls with a CIS id of the version, as in `docs/controls.md`).
    /// Controls the policy declares are counted among the controls and named after them
    /// (`, 1 declared (S3.99)`).
    pub fn summary(&self) -> String {
        let count = |a: Action| self.controls().filter(|c| c.action == a).count();
        let mut actions = vec![
            format!("{} remediate", count(Action::Remediate)),
            format!("{} notify", count(Action::Notify)),
        ];
        for (n, name) in [
            (count(Action::Suppress), "suppress"),
            (count(Action::Ignore), "ignore"),
        ] {
            if n > 0 {
                actions.push(format!("{n} {name}"));
            }
        }
        let cis_total = CONTROLS
            .iter()
            .filter(|c| c.membership == Membership::Cis)
            .count();
        let cis = ActionCounts::of(self, Membership::Cis);
        let declared: Vec<&str> = self.declared_controls().map(|d| d.id.as_str()).collect();
        let declared = if declared.is_empty() {
            String::new()
        } else {
            format!(", {} declared ({})", declared.len(), declared.join(", "))
        };
        let per_version: Vec<String> = CisCoverage::all(self)
            .iter()
            .map(|c| format!("v{} {} of {}", c.version, c.remediated, c.controls))
            .collect();
        format!(
            "{} controls ({}){declared}, {} plugins, {} exceptions, {} overrides; {} of {cis_total} CIS controls covered; remediated per CIS version: {}",
            self.controls.len(),
            actions.join(", "),
            self.plugins.len(),
            self.exceptions.len(),
            self.overrides.len(),
            cis_total - cis.missing,
            per_version.join(", "),
        )
    }
}
