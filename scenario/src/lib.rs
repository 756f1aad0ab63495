//! Plugin scenarios as data, and the runner that checks a plugin against them.
//!
//! A plugin's scenarios are `plugins/<name>/scenarios/*.toml`. Each one says how to create
//! a misconfiguration (`setup`: AWS calls), which finding reports it (`finding`: ASFF
//! fields over a failed, active, new finding about `control`), what the account looks like
//! before (`before`: reading calls and the values they must return) and after the fix
//! (`after`), and how the plugin's runs end (`outcome`). Strings may hold `{{account}}`,
//! `{{region}}`, `{{partition}}` and `{{setup.<step-id>.<field>}}`.
//!
//! ```toml
//! description = "EBS encryption by default is off; the plugin turns it on"
//! control = "EC2.7"
//!
//! [[setup]]
//! call = "ec2.disable-ebs-encryption-by-default"
//!
//! [finding]
//! Resources = [{ Type = "AwsAccount", Id = "AWS::::Account:{{account}}" }]
//!
//! [[before]]
//! call = "ec2.get-ebs-encryption-by-default"
//! expect = { enabled = false }
//!
//! [[after]]
//! call = "ec2.get-ebs-encryption-by-default"
//! expect = { enabled = true }
//!
//! [outcome]
//! plan = "remediated"
//! fix = "remediated"
//! mutating = ["EnableEbsEncryptionByDefault"]
//! ```
//!
//! [`Runner::run`] runs a scenario in two fresh member accounts (12-digit ids new on every
//! run, reached through STS AssumeRole of [`ROLE_NAME`]). Every account is set up first;
//! then, per account: the `before` checks; the plugin in plan mode (the status as expected,
//! exactly the `mutating` calls planned, then the `before` checks again, unchanged); the
//! plugin in apply mode (the status, the `mutating` calls made, the `after` checks); and
//! the plugin again (`already-compliant`, no mutating call; `run-again = false` leaves it
//! out). The plugin runs in a real [`hubfix_host::Runtime`], loaded with the digest of its
//! bytes and the grants of its policy entry; the policy decides each finding, and its
//! parameters (with the scenario's `params` over them, as an override would set them) are
//! what the plugin gets.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::path::Path;
//!
//! let plugin_dir = Path::new("plugins/ec2-ebs-default-encryption");
//! let scenarios = hubfix_scenario::load_dir(plugin_dir)?;
//! let component = std::fs::read("ec2_ebs_default_encryption.wasm")?;
//! let policy = hubfix_policy::Policy::shipped()?;
//! let runner = hubfix_scenario::Runner::new(&component, policy).await?;
//! for scenario in &scenarios {
//!     let report = runner.run(scenario, &mut |step| {
//!         eprintln!("{} {} {}", step.account, step.phase, step.detail);
//!     }).await;
//!     assert!(report.passed(), "{:?}", report.failures().collect::<Vec<_>>());
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod file;
pub mod ocsf;
mod ops;
mod runner;
mod template;

use std::path::{Path, PathBuf};

pub use file::{
    Check, Expected, ExpectedCall, ExpectedStatus, MAX_FILE_LEN, MAX_STEPS, Scenario,
    ScenarioError, SetupStep, load_dir,
};
pub use ops::{CALLS, Member, Op, Record, Rule};
pub use runner::{
    ACCOUNTS, DEFAULT_REGION, Phase, ROLE_NAME, Runner, RunnerError, ScenarioReport, StepReport,
};
pub use template::Context;

/// Most scenario files one plugin may have.
pub const MAX_SCENARIOS: usize = 256;

/// The package name in a plugin crate's `Cargo.toml` (the component is
/// `<name with underscores>.wasm`).
pub fn package_name(plugin_dir: &Path) -> Result<String, ScenarioError> {
    let manifest = plugin_dir.join("Cargo.toml");
    let file = manifest.display().to_string();
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| ScenarioError::new(&file, format!("cannot read: {e}")))?;
    if text.len() > MAX_FILE_LEN {
        return Err(ScenarioError::new(&file, "too large for a Cargo.toml"));
    }
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| ScenarioError::new(&file, e.message().to_owned()))?;
    table
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ScenarioError::new(&file, "no [package] name"))
}

/// The plugin crates under a plugin workspace directory that have scenarios
/// (`<dir>/*/scenarios/`), sorted.
pub fn plugin_dirs(plugins: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    let listing = |e: std::io::Error| {
        ScenarioError::new(plugins.display().to_string(), format!("cannot list: {e}"))
    };
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(plugins).map_err(listing)? {
        let path = entry.map_err(listing)?.path();
        if path.join("Cargo.toml").is_file() && path.join("scenarios").is_dir() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}
