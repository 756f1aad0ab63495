//! `hubfix policy check [DIR]` and `hubfix policy explain --finding FILE`.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::{Args, Subcommand};
use hubfix_policy::{NoOrg, Policy};
use serde_json::Value;

use crate::{Fatal, Output, read_file};

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy directory and warn about expired exceptions.
    Check {
        /// The policy directory (every `*.toml` in it).
        #[arg(default_value = "policies")]
        dir: PathBuf,
    },
    /// Show the decision for each finding of a file and the rule that produced it.
    Explain(ExplainArgs),
}

#[derive(Args)]
pub struct ExplainArgs {
    /// A finding (ASFF or OCSF), a list of findings, or a whole EventBridge event.
    #[arg(long, value_name = "FILE")]
    finding: PathBuf,
    /// The policy directory; the shipped policy when absent.
    #[arg(long, value_name = "DIR")]
    policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

pub use hubfix_pipeline::route::today;

/// Reads and validates every `*.toml` file of `dir`, or the shipped policy.
pub fn load(dir: Option<&Path>) -> Result<Policy, Fatal> {
    let Some(dir) = dir else {
        return Policy::shipped()
            .map_err(|e| Fatal::input(anyhow!("the shipped policy is invalid:\n{e}")));
    };
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Fatal::input(anyhow!(
            "cannot read policy directory {}: {e}",
            dir.display()
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(Fatal::input(anyhow!(
            "{} holds no *.toml policy file",
            dir.display()
        )));
    }
    let mut files = Vec::with_capacity(paths.len());
    for path in &paths {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Fatal::input(anyhow!("cannot read {}: {e}", path.display())))?;
        files.push((path.display().to_string(), text));
    }
    Policy::from_files(&files).map_err(|e| Fatal::input(anyhow!("invalid policy:\n{e}")))
}

/// Reads a JSON document (finding, list or event).
pub fn read_json(path: &PathBuf) -> Result<Value, Fatal> {
    let bytes = read_file(path)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Fatal::input(anyhow!("{} is not valid JSON: {e}", path.display())))
}

pub fn policy(command: PolicyCommand) -> Result<u8, Fatal> {
    match command {
        PolicyCommand::Check { dir } => {
            let policy = load(Some(&dir))?;
            out!("{}: {}", dir.display(), policy.summary());
            let warnings = policy.warnings(today());
            for w in &warnings {
                out!("warning: {w}");
            }
            Ok(0)
        }
        PolicyCommand::Explain(args) => {
            let policy = load(args.policy.as_deref())?;
            let document = read_json(&args.finding)?;
            let decisions = hubfix_policy::decide(&document, &policy, &NoOrg, today())
                .map_err(|e| Fatal::input(anyhow!("{}: {e}", args.finding.display())))?;
            match args.output {
                Output::Json => {
                    let json = hubfix_policy::explain_json(&decisions);
                    let text = serde_json::to_string_pretty(&json).map_err(Fatal::input)?;
                    out!("{text}");
                }
                Output::Table => {
                    for d in &decisions {
                        out!("{d}");
                    }
                }
            }
            Ok(0)
        }
    }
}
