//! Generated documents: `docs/controls.md`, the JSON Schema of policy files and the plugins
//! region of `README.md`. All are committed; a test regenerates them and fails when the
//! committed copies differ (`HUBFIX_BLESS=1 cargo test -p hubfix-policy` rewrites them).

use std::fmt::Write as _;

use crate::catalog::{Automatable, CONTROLS, CisId, CisVersion, Control, Membership};
use crate::model::{Action, ControlPolicy, Policy};
use crate::raw::PolicyFile;

/// The JSON Schema of a policy file, pretty-printed with a final newline (the content of
/// `policy/schema/policy.schema.json`). Editors with TOML schema support (Taplo, Even Better
/// TOML) use it for completion and checks; `hubfix policy check` remains the authority.
pub fn policy_schema() -> String {
    let schema = schemars::schema_for!(PolicyFile);
    // Keys sorted explicitly: whether serde_json keeps insertion order depends on features
    // other crates of a build may turn on, and the committed file must not.
    let schema = sorted(serde_json::to_value(&schema).unwrap_or_default());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The value with every object's keys in sorted order.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// How many catalog controls of each membership the policy gives each action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionCounts {
    /// `remediate`.
    pub remediate: usize,
    /// `suppress`.
    pub suppress: usize,
    /// `notify`.
    pub notify: usize,
    /// `ignore`.
    pub ignore: usize,
    /// Catalog controls the policy has no entry for.
    pub missing: usize,
}

impl ActionCounts {
    /// Counts the policy's actions over the catalog controls of one membership.
    pub fn of(policy: &Policy, membership: Membership) -> Self {
        Self::over(
            policy,
            CONTROLS
                .iter()
                .filter(|c| c.membership == membership)
                .map(|c| c.id),
        )
    }

    /// Counts the policy's actions over the controls it declares.
    pub fn of_declared(policy: &Policy) -> Self {
        Self::over(policy, policy.declared_controls().map(|d| d.id.as_str()))
    }

    /// Counts the policy's actions over all its control entries.
    pub fn of_all(policy: &Policy) -> Self {
        Self::over(policy, policy.controls().map(|c| c.control.as_str()))
    }

    fn over<'a>(policy: &Policy, ids: impl Iterator<Item = &'a str>) -> Self {
        let mut counts = Self::default();
        for id in ids {
            match policy.control(id).map(|e| e.action) {
                Some(Action::Remediate) => counts.remediate += 1,
                Some(Action::Suppress) => counts.suppress += 1,
                Some(Action::Notify) => counts.notify += 1,
                Some(Action::Ignore) => counts.ignore += 1,
                None => counts.missing += 1,
            }
        }
        counts
    }

    /// How many controls were counted.
    pub fn total(&self) -> usize {
        self.remediate + self.suppress + self.notify + self.ignore + self.missing
    }

    /// Like `describe`, leaving out the actions no control has.
    fn describe_nonzero(&self) -> String {
        let parts: Vec<String> = [
            (self.remediate, "`remediate`"),
            (self.notify, "`notify`"),
            (self.suppress, "`suppress`"),
            (self.ignore, "`ignore`"),
            (self.missing, "without a policy entry"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(", ")
        }
    }

    fn describe(&self) -> String {
        let mut parts = vec![
            format!("{} `remediate`", self.remediate),
            format!("{} `notify`", self.notify),
        ];
        if self.suppress > 0 {
            parts.push(format!("{} `suppress`", self.suppress));
        }
        if self.ignore > 0 {
            parts.push(format!("{} `ignore`", self.ignore));
        }
        if self.missing > 0 {
            parts.push(format!("{} without a policy entry", self.missing));
        }
        parts.join(", ")
    }
}

/// The `docs/controls.md` table: every catalog control, its CIS ids in each version, how
/// automatable it is, and the action, plugin and reason the policy gives it.
pub fn controls_markdown(policy: &Policy) -> String {
    let mut out = String::new();
    let cis = ActionCounts::of(policy, Membership::Cis);
    let per_version: Vec<String> = CisVersion::ALL
        .iter()
        .map(|v| {
            let n = CONTROLS
                .iter()
                .filter(|c| c.membership == Membership::Cis && c.in_version(*v))
                .count();
            format!("{n} in v{v}")
        })
        .collect();
    let _ = writeln!(
        out,
        "# CIS AWS Foundations controls and what hubfix does with them"
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "<!-- Generated from the catalog in policy/src/catalog.rs and the policy in policies/. \
         Do not edit: run `HUBFIX_BLESS=1 cargo test -p hubfix-policy` to regenerate. -->"
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "Every Security Hub control of the CIS AWS Foundations Benchmark {} \
         standards ({} controls: {}), with the action the shipped policy gives it: \
         {}.",
        version_list(&CisVersion::ALL),
        CONTROLS
            .iter()
            .filter(|c| c.membership == Membership::Cis)
            .count(),
        per_version.join(", "),
        cis.describe()
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "One policy entry, keyed by the Security Hub control id, covers the control's findings in \
         every format: CIS v1.2.0 per-standard findings (`GeneratorId` \
         `arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/<id>`), CIS \
         {} per-standard findings (`cis-aws-foundations-benchmark/v/<version>/<id>`), \
         consolidated control findings (`Compliance.SecurityControlId`) and Security Hub v2 OCSF \
         findings (`compliance.control`). Where the id a finding carries differs from the CIS \
         requirement, it is shown in parentheses. \"Automatable\" is `yes` (additive, safe), \
         `risky` (can break workloads; remediated only where a plugin exists, and exceptions \
         or overrides can turn it off) or `no` (needs a person, a device, root sign-in or a \
         migration).",
        version_list(&CisVersion::ALL[1..])
    );
    out.push('\n');
    coverage_table(&mut out, policy);
    out.push('\n');
    table(&mut out, policy, Membership::Cis);

    out.push('\n');
    let _ = writeln!(out, "## Retired controls");
    out.push('\n');
    let _ = writeln!(
        out,
        "Security Hub no longer reports these, but older CIS findings still name them. Where a \
         retired control shares a CIS id with a current one (v1.2.0 `1.1`: IAM.20 and \
         CloudWatch.1), a finding without `Compliance.SecurityControlId` resolves to the current \
         control. Shipped policy: {}.",
        ActionCounts::of(policy, Membership::Retired).describe()
    );
    out.push('\n');
    table(&mut out, policy, Membership::Retired);

    out.push('\n');
    let _ = writeln!(out, "## Other controls handled by shipped plugins");
    out.push('\n');
    let _ = writeln!(
        out,
        "Not CIS controls; in the catalog because a shipped plugin remediates them, so their \
         findings from other standards (AWS Foundational Security Best Practices) follow the \
         same policy. Shipped policy: {}.",
        ActionCounts::of(policy, Membership::Extra).describe()
    );
    out.push('\n');
    table(&mut out, policy, Membership::Extra);

    if policy.declared_controls().next().is_some() {
        out.push('\n');
        let _ = writeln!(out, "## Controls the policy declares");
        out.push('\n');
        let _ = writeln!(
            out,
            "Not in the built-in catalog: the policy declares them (`[controls.\"ID\".declare]`) \
             with the resource types their findings name and their CIS ids, so their findings \
             are routed without rebuilding hubfix. Policy: {}.",
            ActionCounts::of_declared(policy).describe()
        );
        out.push('\n');
        declared_table(&mut out, policy);
    }

    out.push('\n');
    let _ = writeln!(out, "## Plugins");
    out.push('\n');
    plugin_table(&mut out, policy);
    out
}

/// `v1.2.0, v1.4.0 and v3.0.0`.
fn version_list(versions: &[CisVersion]) -> String {
    let names: Vec<String> = versions.iter().map(|v| format!("v{v}")).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What a policy does with the controls of one CIS version: of the controls (current and
/// retired) that carry a CIS id of the version, and of those ids, how many the policy
/// remediates, and why the others notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CisCoverage {
    /// The version.
    pub version: CisVersion,
    /// Catalog controls (current and retired) with a CIS id of the version.
    pub controls: usize,
    /// Of those, the ones the policy remediates.
    pub remediated: usize,
    /// `remediate` with a plugin granted only reads: it changes nothing and reports (the
    /// finding ends NOTIFIED with what the plugin found in its note).
    pub reported: usize,
    /// `notify` although a shipped plugin fixes it: opt-in through an override.
    pub opt_in: usize,
    /// `notify`, automatable, no plugin yet.
    pub no_plugin: usize,
    /// `notify`, needs a person (automatable `no`).
    pub person: usize,
    /// Any other action, or no policy entry.
    pub other: usize,
    /// The CIS ids those controls carry in the version (a control can carry two).
    pub ids: usize,
    /// The CIS ids of the remediated controls.
    pub ids_remediated: usize,
}

impl CisCoverage {
    /// Counts the policy's coverage of one CIS version.
    pub fn of(policy: &Policy, version: CisVersion) -> Self {
        let opt_in = |id: &str| policy.plugins().any(|p| p.controls.iter().any(|c| c == id));
        let mut cov = Self {
            version,
            controls: 0,
            remediated: 0,
            reported: 0,
            opt_in: 0,
            no_plugin: 0,
            person: 0,
            other: 0,
            ids: 0,
            ids_remediated: 0,
        };
        for control in CONTROLS.iter().filter(|c| c.in_version(version)) {
            let n = control.cis_ids(version).len();
            cov.controls += 1;
            cov.ids += n;
            let entry = policy.control(control.id);
            match entry.map(|e| e.action) {
                Some(Action::Remediate) if entry.is_some_and(|e| reports_only(policy, e)) => {
                    cov.reported += 1;
                }
                Some(Action::Remediate) => {
                    cov.remediated += 1;
                    cov.ids_remediated += n;
                }
                Some(Action::Notify) if opt_in(control.id) => cov.opt_in += 1,
                Some(Action::Notify) if control.automatable == Automatable::No => cov.person += 1,
                Some(Action::Notify) => cov.no_plugin += 1,
                _ => cov.other += 1,
            }
        }
        cov
    }

    /// The coverage of every CIS version, oldest first.
    pub fn all(policy: &Policy) -> Vec<Self> {
        CisVersion::ALL
            .iter()
            .map(|v| Self::of(policy, *v))
            .collect()
    }
}

/// Whether the entry's plugin is granted only reads, so running it can change nothing.
fn reports_only(policy: &Policy, entry: &ControlPolicy) -> bool {
    let Some(plugin) = entry.plugin.as_deref().and_then(|p| policy.plugin(p)) else {
        return false;
    };
    plugin
        .grants
        .iter()
        .all(|g| hubfix_contract::lookup(g).is_some_and(|f| !f.is_mutating()))
}

/// Coverage per CIS version ([`CisCoverage`]): how many controls the policy remediates, and
/// why the others notify: a shipped plugin the policy leaves opt-in, automatable without a
/// plugin, or in need of a person.
fn coverage_table(out: &mut String, policy: &Policy) {
    let _ = writeln!(out, "## Coverage per CIS version");
    out.push('\n');
    let _ = writeln!(
        out,
        "Controls (current and retired) with a requirement of each version, and the CIS ids \
         they carry (a control can carry two), by what the shipped policy does. *Reported*: \
         the policy runs a plugin granted only reads, which changes nothing and puts what it \
         found (who uses a full-admin policy, say) in the finding's note. *Opt-in*: a \
         shipped plugin fixes it, but the policy notifies until an organization turns it on \
         with an override (the reason says why). *No plugin*: automatable, not yet covered. \
         *Needs a person*: no API fix without root credentials, a device or a decision."
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "| Version | Controls | Remediated | Reported | Opt-in | No plugin | Needs a person | Other | CIS ids remediated |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for c in CisCoverage::all(policy) {
        let _ = writeln!(
            out,
            "| v{} | {} | {} | {} | {} | {} | {} | {} | {} of {} |",
            c.version,
            c.controls,
            c.remediated,
            c.reported,
            c.opt_in,
            c.no_plugin,
            c.person,
            c.other,
            c.ids_remediated,
            c.ids
        );
    }
}

/// The generated region of `README.md` (between `<!-- BEGIN generated by cargo xtask
/// codegen: plugins -->` and `<!-- END generated -->`): the plugin table (plugin, version,
/// controls, grants, parameters with their defaults) and one line counting the policy's
/// controls by action, the CIS ones apart.
pub fn plugins_markdown(policy: &Policy) -> String {
    let mut out = String::new();
    plugin_table(&mut out, policy);
    out.push('\n');
    let cis = ActionCounts::of(policy, Membership::Cis);
    let retired = ActionCounts::of(policy, Membership::Retired);
    let extra = ActionCounts::of(policy, Membership::Extra);
    let declared = ActionCounts::of_declared(policy);
    let all = ActionCounts::of_all(policy);
    let mut groups = vec![
        format!(
            "{} current CIS controls ({})",
            cis.total(),
            cis.describe_nonzero()
        ),
        format!(
            "{} retired CIS controls ({})",
            retired.total(),
            retired.describe_nonzero()
        ),
        format!(
            "{} other control{} of shipped plugins ({})",
            extra.total(),
            if extra.total() == 1 { "" } else { "s" },
            extra.describe_nonzero()
        ),
    ];
    if declared.total() > 0 {
        groups.push(format!(
            "{} declared by the policy ({})",
            declared.total(),
            declared.describe_nonzero()
        ));
    }
    let _ = writeln!(
        out,
        "Controls: {}; {} entries in all ({}). Every control with its CIS ids and reason: \
         [docs/controls.md](docs/controls.md).",
        groups.join(", "),
        all.total(),
        all.describe_nonzero()
    );
    out
}

/// The plugin table: each plugin with its version, controls, grants and parameters.
fn plugin_table(out: &mut String, policy: &Policy) {
    let _ = writeln!(
        out,
        "| Plugin | Version | Controls | Grants | Parameters (defaults) |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for p in policy.plugins() {
        let params: Vec<String> = p
            .params
            .iter()
            .map(|(k, v)| format!("`{k}` = `{v}`"))
            .chain(
                p.optional_params
                    .iter()
                    .map(|k| format!("`{k}` (no default)")),
            )
            .collect();
        let grants: Vec<String> = p.grants.iter().map(|g| format!("`{g}`")).collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            p.name,
            p.version,
            p.controls.join(", "),
            grants.join(", "),
            if params.is_empty() {
                "-".to_owned()
            } else {
                params.join(", ")
            }
        );
    }
}

/// ` CIS v1.2.0 | CIS v1.4.0 | …` header cells, one per version, and their `---|` rule.
fn version_header() -> (String, String) {
    let cells: Vec<String> = CisVersion::ALL
        .iter()
        .map(|v| format!("CIS v{v}"))
        .collect();
    (cells.join(" | "), "---|".repeat(cells.len()))
}

fn declared_table(out: &mut String, policy: &Policy) {
    let (versions, rule) = version_header();
    let _ = writeln!(
        out,
        "| Control | Title | Resource types | {versions} | Action | Plugin | Reason |"
    );
    let _ = writeln!(out, "|---|---|---|{rule}---|---|---|");
    for d in policy.declared_controls() {
        let cis: Vec<String> = CisVersion::ALL
            .iter()
            .map(|v| d.cis.get(v).cloned().unwrap_or_else(|| "-".to_owned()))
            .collect();
        let (action, plugin, reason) = entry_cells(policy, &d.id);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {action} | {plugin} | {} |",
            d.id,
            cell(d.title.as_deref().unwrap_or("-")),
            d.resource_types.join(", "),
            cis.join(" | "),
            cell(reason)
        );
    }
}

/// The action, plugin and reason cells of a control's policy entry.
fn entry_cells<'a>(policy: &'a Policy, id: &str) -> (&'static str, String, &'a str) {
    let entry = policy.control(id);
    let action = entry.map_or("(no entry)", |e| e.action.as_str());
    let plugin = entry
        .and_then(|e| e.plugin.as_deref())
        .and_then(|p| policy.plugin(p))
        .map_or("-".to_owned(), |p| format!("`{}` {}", p.name, p.version));
    let reason = entry.map_or("", |e| e.reason.as_str());
    (action, plugin, reason)
}

fn table(out: &mut String, policy: &Policy, membership: Membership) {
    let (versions, rule) = version_header();
    let _ = writeln!(
        out,
        "| Control | Title | {versions} | Automatable | Action | Plugin | Reason |"
    );
    let _ = writeln!(out, "|---|---|{rule}---|---|---|---|");
    for c in CONTROLS.iter().filter(|c| c.membership == membership) {
        row(out, policy, c);
    }
}

fn row(out: &mut String, policy: &Policy, c: &Control) {
    let (action, plugin, reason) = entry_cells(policy, c.id);
    let cis: Vec<String> = CisVersion::ALL.iter().map(|v| ids(c.cis_ids(*v))).collect();
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} |",
        c.id,
        cell(c.title),
        cis.join(" | "),
        c.automatable.as_str(),
        action,
        plugin,
        cell(reason)
    );
}

fn ids(list: &[CisId]) -> String {
    if list.is_empty() {
        return "-".to_owned();
    }
    list.iter()
        .map(|id| {
            if id.control == id.requirement {
                id.requirement.to_owned()
            } else {
                format!("{} ({})", id.requirement, id.control)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A policy that remediates IAM.1 with a plugin granted `grants`.
    fn iam1_with(grants: &str) -> Policy {
        let text = format!(
            r#"
[plugins.p]
version = "0.1.0"
controls = ["IAM.1"]
grants = [{grants}]

[controls."IAM.1"]
action = "remediate"
plugin = "p"
reason = "test"
"#
        );
        Policy::from_toml("test.toml", &text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_remediating_plugin_that_only_reads_is_counted_as_reported() {
        let reads = CisCoverage::of(
            &iam1_with(r#""iam.list-entities-for-policy""#),
            CisVersion::V1_2_0,
        );
        assert_eq!((reads.reported, reads.remediated), (1, 0));
        assert_eq!(reads.ids_remediated, 0);
        let writes = CisCoverage::of(
            &iam1_with(r#""iam.list-entities-for-policy", "iam.detach-user-policy""#),
            CisVersion::V1_2_0,
        );
        assert_eq!((writes.reported, writes.remediated), (0, 1));
    }
}
