//! `hubfix new NAME --control ID...`: a new plugin crate from a worked example, and its
//! policy entries.
//!
//! Writes `PLUGINS/NAME/` (`Cargo.toml`, `src/lib.rs`, `scenarios/<one>.toml`), makes it a
//! member of the plugin workspace (unless a `members` glob already covers it), and adds to
//! the policy directory a `[plugins.NAME]` entry and, per control, a `[controls."ID"]`
//! entry with `action = "remediate"`. A control the built-in catalog lacks is declared
//! (`[controls."ID".declare]`, with `--resource-type`). A control the policy already has
//! (the shipped policy lists every CIS control, most as `notify`) is edited in place; one
//! that another plugin already remediates is refused, as a control has one plugin.
//!
//! The example is real: it turns on EBS encryption by default in the finding's account
//! (grants `ec2.get-ebs-encryption-by-default`, `ec2.enable-ebs-encryption-by-default`),
//! and its scenario disables it first, so `hubfix test` passes on it unchanged. The author
//! then replaces the remediation, the grants and the scenario.
//!
//! Nothing is written unless everything can be: the policy with the new entries is
//! validated first, and the plugin directory must not exist.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;
use hubfix_policy::{Action, Policy};

use crate::Fatal;

#[derive(Args)]
pub struct NewArgs {
    /// The plugin's name, lowercase kebab-case (`s3-account-public-access-block`); also its
    /// crate's and directory's name.
    name: String,
    /// A Security Hub control the plugin remediates (repeat for more).
    #[arg(long = "control", value_name = "ID", required = true)]
    controls: Vec<String>,
    /// The ASFF resource type of a control's findings, for controls the built-in catalog
    /// lacks (declared in the policy).
    #[arg(long, value_name = "TYPE", default_value = "AwsAccount")]
    resource_type: String,
    /// The plugin workspace.
    #[arg(long, value_name = "DIR", default_value = "plugins")]
    plugins: PathBuf,
    /// The policy directory that gets the plugin's entries.
    #[arg(long, value_name = "DIR", default_value = "policies")]
    policy: PathBuf,
}

/// The example's grants: what its `remediate` calls.
const EXAMPLE_GRANTS: [&str; 2] = [
    "ec2.get-ebs-encryption-by-default",
    "ec2.enable-ebs-encryption-by-default",
];

/// Names a plugin directory may not have.
const RESERVED: &[&str] = &["sdk", "target", "fixture", "fixture-v2", "scenarios"];

/// The policy file new entries go to (the shipped policy's file for plugins).
const PLUGINS_FILE: &str = "plugins.toml";

pub fn new(args: NewArgs) -> Result<u8, Fatal> {
    let name = args.name.trim().to_owned();
    check_name(&name)?;
    let mut controls: Vec<String> = Vec::new();
    for control in &args.controls {
        let control = control.trim().to_owned();
        check_control(&control)?;
        if !controls.contains(&control) {
            controls.push(control);
        }
    }
    check_resource_type(&args.resource_type)?;

    let plugin_dir = args.plugins.join(&name);
    if plugin_dir.exists() {
        return Err(Fatal::input(anyhow!(
            "{} exists already; pick another name or remove it",
            plugin_dir.display()
        )));
    }
    let workspace_manifest = args.plugins.join("Cargo.toml");
    let workspace = std::fs::read_to_string(&workspace_manifest).map_err(|e| {
        Fatal::input(anyhow!(
            "cannot read the plugin workspace {}: {e} (pass --plugins DIR)",
            workspace_manifest.display()
        ))
    })?;
    let members = with_member(&workspace, &name)
        .map_err(|e| Fatal::input(anyhow!("{}: {e}", workspace_manifest.display())))?;

    // The policy as it is, then with the new entries: both must validate.
    let mut files = read_policy(&args.policy)?;
    let current = validate(&files).map_err(|e| {
        Fatal::input(anyhow!(
            "the policy in {} is invalid already:\n{e}",
            args.policy.display()
        ))
    })?;
    if current.plugin(&name).is_some() {
        return Err(Fatal::input(anyhow!(
            "the policy in {} already has a plugin `{name}`",
            args.policy.display()
        )));
    }
    let mut appended = plugin_entry(&name, &controls);
    let mut notes = Vec::new();
    for control in &controls {
        let declare = hubfix_policy::catalog::control(control).is_none();
        match current.control(control) {
            Some(existing) if existing.action == Action::Remediate => {
                return Err(Fatal::input(anyhow!(
                    "control {control} is already remediated by plugin `{}` ({}); a control has \
                     one plugin: change that entry, or pick another control",
                    existing.plugin.as_deref().unwrap_or("?"),
                    existing.location
                )));
            }
            Some(existing) => {
                let file = files
                    .iter_mut()
                    .find(|(path, _)| path.display().to_string() == existing.location.file)
                    .ok_or_else(|| {
                        Fatal::input(anyhow!(
                            "control {control} is defined in {}, which is not in {}",
                            existing.location,
                            args.policy.display()
                        ))
                    })?;
                file.1 = replace_control(&file.1, control, existing.location.line, &name)
                    .map_err(|e| Fatal::input(anyhow!("{}: {e}", existing.location)))?;
                notes.push(format!(
                    "{}: [controls.\"{control}\"] was `{}`, now remediated by {name}",
                    existing.location.file, existing.action
                ));
            }
            None => {
                appended.push_str(&control_entry(
                    control,
                    &name,
                    declare.then_some(args.resource_type.as_str()),
                ));
                notes.push(format!(
                    "{}: [controls.\"{control}\"]{}",
                    args.policy.join(PLUGINS_FILE).display(),
                    if declare {
                        format!(
                            " declared (not in the built-in catalog), resource type {}",
                            args.resource_type
                        )
                    } else {
                        String::new()
                    }
                ));
            }
        }
    }
    let plugins_file = args.policy.join(PLUGINS_FILE);
    match files.iter_mut().find(|(path, _)| *path == plugins_file) {
        Some((_, text)) => {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&appended);
        }
        None => files.push((plugins_file.clone(), appended.trim_start().to_owned())),
    }
    validate(&files).map_err(|e| {
        Fatal::input(anyhow!(
            "the policy with {name}'s entries would not validate; nothing was written:\n{e}"
        ))
    })?;

    // Everything checks out: write.
    let scenario = scenario_name();
    let written = [
        (plugin_dir.join("Cargo.toml"), cargo_toml(&name)),
        (plugin_dir.join("src/lib.rs"), lib_rs(&name, &controls)),
        (
            plugin_dir
                .join("scenarios")
                .join(format!("{scenario}.toml")),
            scenario_toml(&controls[0]),
        ),
    ];
    for (path, text) in &written {
        write(path, text)?;
    }
    if let Some(members) = &members {
        write(&workspace_manifest, members)?;
    }
    for (path, text) in &files {
        let changed = std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str());
        if changed {
            write(path, text)?;
        }
    }

    out!("created {}:", plugin_dir.display());
    for (path, _) in &written {
        out!("  {}", path.display());
    }
    if members.is_some() {
        out!(
            "added {name} to the members of {}",
            workspace_manifest.display()
        );
    }
    out!(
        "policy: {}: [plugins.{name}] (grants {})",
        plugins_file.display(),
        EXAMPLE_GRANTS.join(", ")
    );
    for note in notes {
        out!("policy: {note}");
    }
    out!("");
    out!(
        "The plugin is a worked example (it turns on EBS encryption by default); it passes its \
         scenario as it is:"
    );
    out!(
        "  hubfix test {} --policy {}",
        plugin_dir.display(),
        args.policy.display()
    );
    out!(
        "Then replace its remediation (src/lib.rs), its grants ([plugins.{name}] in {}) and its \
         scenario (scenarios/{scenario}.toml) with your own.",
        plugins_file.display()
    );
    Ok(0)
}

fn write(path: &Path, text: &str) -> Result<(), Fatal> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Fatal::input(anyhow!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| Fatal::input(anyhow!("cannot write {}: {e}", path.display())))
}

fn check_name(name: &str) -> Result<(), Fatal> {
    let kebab = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if !kebab {
        return Err(Fatal::input(anyhow!(
            "`{name}` is not a plugin name: use lowercase kebab-case, a letter first, at most \
             64 characters (`s3-account-public-access-block`)"
        )));
    }
    if RESERVED.contains(&name) {
        return Err(Fatal::input(anyhow!(
            "`{name}` is reserved in the plugin workspace"
        )));
    }
    Ok(())
}

/// A Security Hub control id: `Service.N` (`EC2.7`, `Custom.1`).
fn check_control(control: &str) -> Result<(), Fatal> {
    let ok = control.split_once('.').is_some_and(|(service, number)| {
        service.starts_with(|c: char| c.is_ascii_alphabetic())
            && service.len() <= 32
            && service.chars().all(|c| c.is_ascii_alphanumeric())
            && (1..=4).contains(&number.len())
            && number.chars().all(|c| c.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(Fatal::input(anyhow!(
            "`{control}` is not a Security Hub control id (`EC2.7`, `S3.1`, `Custom.1`)"
        )))
    }
}

fn check_resource_type(resource_type: &str) -> Result<(), Fatal> {
    let ok = resource_type.len() <= 64
        && resource_type.starts_with(|c: char| c.is_ascii_uppercase())
        && resource_type.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Fatal::input(anyhow!(
            "`{resource_type}` is not an ASFF resource type (`AwsAccount`, `AwsS3Bucket`)"
        )))
    }
}

fn read_policy(dir: &Path) -> Result<Vec<(PathBuf, String)>, Fatal> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Fatal::input(anyhow!(
            "cannot read policy directory {}: {e} (pass --policy DIR)",
            dir.display()
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Fatal::input(anyhow!("cannot read {}: {e}", path.display())))?;
            Ok((path, text))
        })
        .collect()
}

fn validate(files: &[(PathBuf, String)]) -> Result<Policy, hubfix_policy::PolicyErrors> {
    let named: Vec<(String, &str)> = files
        .iter()
        .map(|(path, text)| (path.display().to_string(), text.as_str()))
        .collect();
    Policy::from_files(&named)
}

/// The workspace manifest with `name` added to `[workspace] members`, or `None` when a
/// member pattern (`"*"`) already covers it.
fn with_member(manifest: &str, name: &str) -> Result<Option<String>, String> {
    let parsed: toml::Table = toml::from_str(manifest).map_err(|e| e.message().to_owned())?;
    let members: Vec<&str> = parsed
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(toml::Value::as_array)
        .ok_or("no [workspace] members list")?
        .iter()
        .filter_map(toml::Value::as_str)
        .collect();
    if members.iter().any(|pattern| glob(pattern, name)) {
        return Ok(None);
    }
    let start = manifest
        .find("members")
        .and_then(|at| manifest[at..].find('[').map(|open| at + open))
        .ok_or("cannot find the `members = [` list")?;
    let close = manifest[start..]
        .find(']')
        .map(|close| start + close)
        .ok_or("the `members` list is not closed")?;
    let inside = &manifest[start + 1..close];
    let mut edited = String::with_capacity(manifest.len() + name.len() + 8);
    if inside.contains('\n') {
        // One member per line: a line for the new one before the closing bracket's line.
        let line_start = manifest[..close].rfind('\n').map_or(close, |n| n + 1);
        let before = manifest[start + 1..line_start].trim_end();
        edited.push_str(&manifest[..start + 1]);
        edited.push_str(before);
        if !before.is_empty() && !before.ends_with(',') && !before.ends_with('[') {
            edited.push(',');
        }
        edited.push_str(&format!("\n    \"{name}\",\n"));
        edited.push_str(&manifest[line_start..]);
    } else {
        let before = inside.trim_end();
        edited.push_str(&manifest[..start + 1]);
        edited.push_str(before);
        if !before.trim().is_empty() && !before.ends_with(',') {
            edited.push_str(", ");
        }
        edited.push_str(&format!("\"{name}\""));
        edited.push_str(&manifest[close..]);
    }
    let check: toml::Table = toml::from_str(&edited).map_err(|e| e.message().to_owned())?;
    let has = check
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(toml::Value::as_array)
        .is_some_and(|m| m.iter().any(|v| v.as_str() == Some(name)));
    if !has {
        return Err(format!("could not add `{name}` to `members`"));
    }
    Ok(Some(edited))
}

/// Cargo's member globs, as far as plugin workspaces use them: `*` matches any run of
/// characters within one path segment.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((prefix, rest)) => {
            let Some(tail) = name.strip_prefix(prefix) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| !tail[..i].contains('/') && glob(rest, &tail[i..]))
        }
    }
}

/// `text` with the `[controls."ID"]` table that starts on `line` (1-based) turned into a
/// remediation by `plugin`. Its comments and sub-tables (`declare`) stay.
fn replace_control(text: &str, control: &str, line: usize, plugin: &str) -> Result<String, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let header = format!("[controls.\"{control}\"]");
    // The location may point at the header or at a key inside the table.
    let start = (0..lines.len().min(line))
        .rev()
        .find(|i| lines[*i].trim() == header)
        .ok_or_else(|| format!("cannot find the line `{header}`"))?;
    let end = (start + 1..lines.len())
        .find(|i| lines[*i].trim_start().starts_with('['))
        .unwrap_or(lines.len());
    // Keep the comments and blank lines just before the next table with it.
    let mut body_end = end;
    while body_end > start + 1 {
        let l = lines[body_end - 1].trim();
        if l.is_empty() || l.starts_with('#') {
            body_end -= 1;
        } else {
            break;
        }
    }
    let kept: Vec<&str> = lines[start + 1..body_end]
        .iter()
        .copied()
        .filter(|l| l.trim_start().starts_with("declare"))
        .collect();
    let mut out = String::with_capacity(text.len() + 256);
    for l in &lines[..=start] {
        out.push_str(l);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&control_body(plugin));
    for l in kept {
        out.push_str(l);
    }
    for l in &lines[body_end..] {
        out.push_str(l);
    }
    Ok(out)
}

fn control_body(plugin: &str) -> String {
    format!(
        "action = \"remediate\"\n\
         plugin = \"{plugin}\"\n\
         reason = \"Remediated by the {plugin} plugin. (Written by `hubfix new`: say why this control is safe to fix automatically.)\"\n"
    )
}

fn control_entry(control: &str, plugin: &str, declare: Option<&str>) -> String {
    let mut text = format!("\n[controls.\"{control}\"]\n{}", control_body(plugin));
    if let Some(resource_type) = declare {
        text.push_str(&format!(
            "\n# {control} is not in hubfix's built-in catalog: declared here so its findings are routed.\n\
             [controls.\"{control}\".declare]\n\
             resource-types = [\"{resource_type}\"]\n"
        ));
    }
    text
}

fn plugin_entry(name: &str, controls: &[String]) -> String {
    let list = |items: &mut dyn Iterator<Item = &str>| {
        items
            .map(|i| format!("\"{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "\n# Written by `hubfix new {name}`. The grants are the worked example's (EBS encryption by\n\
         # default): make them exactly the host functions the plugin calls.\n\
         [plugins.{name}]\n\
         version = \"0.1.0\"\n\
         controls = [{}]\n\
         grants = [{}]\n\
         # Parameters with their defaults, passed to every run (none yet).\n\
         params = {{}}\n",
        list(&mut controls.iter().map(String::as_str)),
        list(&mut EXAMPLE_GRANTS.iter().copied()),
    )
}

fn scenario_name() -> &'static str {
    "ebs-encryption-turned-on"
}

fn cargo_toml(name: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
description = "hubfix plugin: {name} (written by `hubfix new`; say what it fixes)"
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish.workspace = true

# A component for wasm32-wasip2; `rlib` is not needed (nothing links against a plugin).
[lib]
crate-type = ["cdylib"]

[dependencies]
hubfix-plugin-sdk.workspace = true

[lints]
workspace = true
"#
    )
}

fn type_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

fn lib_rs(name: &str, controls: &[String]) -> String {
    let controls = controls
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    LIB_RS
        .replace("{{name}}", name)
        .replace("{{Type}}", &type_name(name))
        .replace("{{controls}}", &controls)
}

const LIB_RS: &str = r#"//! `{{name}}`: a hubfix remediation plugin for {{controls}}.
//!
//! Written by `hubfix new` as a worked example that already builds, runs and passes its
//! scenario: it turns on EBS encryption by default in the finding's account and region,
//! as `ec2-ebs-default-encryption` does. Replace it with your remediation:
//!
//! 1. `remediate` below: read the state through the host functions (`hubfix_plugin_sdk::ec2`,
//!    `iam`, …), decide, and make the change; return `already_compliant` when there is
//!    nothing to do, so a second run changes nothing.
//! 2. `FUNCTIONS`, and the `grants` of `[plugins.{{name}}]` in the policy: exactly the host
//!    functions `remediate` calls (the host refuses a component that imports more).
//! 3. `scenarios/*.toml`: set up the misconfiguration, name the finding's resource, and say
//!    what the account looks like before and after; `hubfix test plugins/{{name}}` runs them
//!    in two fresh accounts (setup, plan, fix, run again).

use hubfix_plugin_sdk::{Guest, Mode, Outcome, Params, PluginInfo, Request, ec2, plugin_info};

const NAME: &str = "{{name}}";
const CONTROLS: &[&str] = &[{{controls}}];

// The example's host functions: replace them with the ones your remediation calls.
const GET: &str = "ec2.get-ebs-encryption-by-default";
const ENABLE: &str = "ec2.enable-ebs-encryption-by-default";
const FUNCTIONS: &[&str] = &[GET, ENABLE];

struct {{Type}};

impl Guest for {{Type}} {
    fn describe() -> PluginInfo {
        plugin_info(NAME, env!("CARGO_PKG_VERSION"), CONTROLS, FUNCTIONS)
    }

    fn remediate(request: Request) -> Outcome {
        // The parameters the plugin takes (the policy's `params` of [plugins.{{name}}]).
        if let Err(e) = Params::new(&request.params, &[]) {
            return e.to_outcome();
        }
        // The example: read the setting, change it only when it is off.
        let region = &request.finding.region;
        match ec2::get_ebs_encryption_by_default() {
            Err(e) => e.to_outcome(GET),
            Ok(true) => Outcome::already_compliant(format!(
                "EBS encryption by default is already on in {region}"
            )),
            Ok(false) => match ec2::enable_ebs_encryption_by_default() {
                Err(e) => e.to_outcome(ENABLE),
                Ok(()) => Outcome::remediated(changed(request.mode, region)),
            },
        }
    }
}

hubfix_plugin_sdk::export!({{Type}});

/// What the fix did (or, in plan mode, would do).
fn changed(mode: Mode, region: &str) -> String {
    format!(
        "{} EBS encryption by default in {region}",
        mode.verb("turned on", "would turn on")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_itself() {
        let info = {{Type}}::describe();
        assert_eq!(info.name, NAME);
        assert_eq!(info.controls, CONTROLS);
        assert_eq!(info.functions, FUNCTIONS);
    }

    #[test]
    fn messages_follow_the_mode() {
        assert!(changed(Mode::Apply, "eu-west-1").starts_with("turned on"));
        assert!(changed(Mode::Plan, "eu-west-1").starts_with("would turn on"));
    }
}
"#;

fn scenario_toml(control: &str) -> String {
    SCENARIO.replace("{{control}}", control)
}

const SCENARIO: &str = r#"# A scenario of the worked example `hubfix new` wrote: replace it with your plugin's.
#
# `hubfix test` runs it in two fresh member accounts: `setup` creates the misconfiguration,
# `finding` is the Security Hub finding about it (ASFF fields over a failed, active, new
# finding about `control`), `before` is what the account looks like then (plan mode must
# leave it so), `after` what the fix must leave, and `outcome` how the plan, the fix and a
# second run end. Strings may use {{account}}, {{region}}, {{partition}} and
# {{setup.<step-id>.<field>}} (give the step an `id`).
description = "EBS encryption by default is off; the plugin turns it on"
control = "{{control}}"

[[setup]]
call = "ec2.disable-ebs-encryption-by-default"

[finding]
# An account-level control: the finding names the account.
Resources = [{ Type = "AwsAccount", Id = "AWS::::Account:{{account}}" }]

[[before]]
call = "ec2.get-ebs-encryption-by-default"
expect = { enabled = false }

[[after]]
call = "ec2.get-ebs-encryption-by-default"
expect = { enabled = true }

[outcome]
plan = "remediated"
fix = "remediated"
mutating = ["EnableEbsEncryptionByDefault"]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_controls_are_checked() {
        for good in ["demo-plugin", "s3-account-public-access-block", "a1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "Demo",
            "demo_plugin",
            "-demo",
            "demo-",
            "demo--x",
            "1demo",
            "",
            "sdk",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        for good in ["EC2.7", "Custom.1", "S3.1"] {
            assert!(check_control(good).is_ok(), "{good}");
        }
        for bad in ["EC2", "EC2.x", "1.2", "EC2.12345", "E C2.1"] {
            assert!(check_control(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn members_are_added_unless_a_glob_covers_the_name() {
        assert_eq!(
            with_member("[workspace]\nmembers = [\"*\"]\n", "demo").unwrap(),
            None
        );
        assert_eq!(
            with_member("[workspace]\nmembers = [\"sdk\", \"a\"]\n", "demo").unwrap(),
            Some("[workspace]\nmembers = [\"sdk\", \"a\", \"demo\"]\n".to_owned())
        );
        let multi = "[workspace]\nmembers = [\n    \"sdk\",\n    \"a\"\n]\n[x]\ny = 1\n";
        assert_eq!(
            with_member(multi, "demo").unwrap().unwrap(),
            "[workspace]\nmembers = [\n    \"sdk\",\n    \"a\",\n    \"demo\",\n]\n[x]\ny = 1\n"
        );
        assert!(glob("ec2-*", "ec2-x"));
        assert!(!glob("ec2-*", "iam-x"));
        assert!(glob("*", "anything"));
    }

    #[test]
    fn an_existing_control_is_turned_into_a_remediation_in_place() {
        let text = "# head\n[controls.\"A.1\"]\naction = \"notify\"\nreason = \"r\"\n\n# --- next ---\n\n[controls.\"B.1\"]\naction = \"notify\"\nreason = \"s\"\n";
        let edited = replace_control(text, "A.1", 2, "demo").unwrap();
        assert_eq!(
            edited,
            format!(
                "# head\n[controls.\"A.1\"]\n{}\n# --- next ---\n\n[controls.\"B.1\"]\naction = \"notify\"\nreason = \"s\"\n",
                control_body("demo")
            )
        );
        assert!(replace_control(text, "C.1", 2, "demo").is_err());
    }

    #[test]
    fn the_template_names_the_plugin() {
        let lib = lib_rs("demo-plugin", &["Custom.1".to_owned()]);
        assert!(lib.contains("struct DemoPlugin;"));
        assert!(lib.contains("const CONTROLS: &[&str] = &[\"Custom.1\"];"));
        assert!(!lib.contains("{{"));
        let scenario = scenario_toml("Custom.1");
        assert!(scenario.contains("control = \"Custom.1\""));
    }
}
