//! `hubfix policy check [DIR]` and `hubfix policy explain --finding FILE`.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use aws_sdk_s3::error::DisplayErrorContext;
use clap::{Args, Subcommand};
use hubfix_pipeline::s3::S3Url;
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
    /// Validate a policy directory and upload it where the router reads it
    /// (`HUBFIX_POLICY_URL`); `*.toml` objects the directory no longer has are deleted.
    Publish {
        /// The policy directory (every `*.toml` in it).
        #[arg(default_value = "policies")]
        dir: PathBuf,
        /// Where: `s3://BUCKET/PREFIX`.
        #[arg(long, value_name = "S3_URL")]
        to: String,
        /// Show what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
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
    validate(&read_dir(dir)?)
}

/// Every `*.toml` file of `dir` as `(path, text)`, sorted by path.
fn read_dir(dir: &Path) -> Result<Vec<(PathBuf, String)>, Fatal> {
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
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Fatal::input(anyhow!("cannot read {}: {e}", path.display())))?;
        files.push((path, text));
    }
    Ok(files)
}

fn validate(files: &[(PathBuf, String)]) -> Result<Policy, Fatal> {
    let named: Vec<(String, &str)> = files
        .iter()
        .map(|(path, text)| (path.display().to_string(), text.as_str()))
        .collect();
    let named: Vec<(&str, &str)> = named.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    Policy::from_files(&named).map_err(|e| Fatal::input(anyhow!("invalid policy:\n{e}")))
}

/// `hubfix policy publish`: validates the directory, uploads every `*.toml` file under the
/// prefix, then deletes the `*.toml` objects there that the directory no longer has. The
/// router notices the change by the objects' ETags within its TTL; while a publish is
/// under way it keeps serving the last policy that validated.
async fn publish(dir: &Path, to: &str, dry_run: bool) -> Result<u8, Fatal> {
    let files = read_dir(dir)?;
    let policy = validate(&files)?;
    let url: S3Url = to.parse().map_err(|e| Fatal::input(anyhow!("--to: {e}")))?;
    let aws = hubfix_host::load_aws_config().await;
    let s3 = hubfix_pipeline::s3::client(&aws);

    let mut existing = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(&url.bucket)
        .prefix(&url.prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| s3_failed(format!("cannot list {url}"), &e))?;
        existing.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .filter(|k| k.ends_with(".toml") && !k[url.prefix.len()..].contains('/'))
                .map(str::to_owned),
        );
    }
    let keys: Vec<String> = files
        .iter()
        .map(|(path, _)| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            format!("{}{name}", url.prefix)
        })
        .collect();
    let stale: Vec<&String> = existing.iter().filter(|k| !keys.contains(k)).collect();
    let verb = if dry_run { "would " } else { "" };
    for ((_, text), key) in files.iter().zip(&keys) {
        if !dry_run {
            s3.put_object()
                .bucket(&url.bucket)
                .key(key)
                .content_type("application/toml")
                .body(text.clone().into_bytes().into())
                .send()
                .await
                .map_err(|e| s3_failed(format!("cannot upload s3://{}/{key}", url.bucket), &e))?;
        }
        out!("{verb}upload s3://{}/{key}", url.bucket);
    }
    for key in stale {
        if !dry_run {
            s3.delete_object()
                .bucket(&url.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| s3_failed(format!("cannot delete s3://{}/{key}", url.bucket), &e))?;
        }
        out!(
            "{verb}delete s3://{}/{key} (not in {})",
            url.bucket,
            dir.display()
        );
    }
    out!("{}: {}", dir.display(), policy.summary());
    Ok(0)
}

fn s3_failed(what: String, e: &(dyn std::error::Error + 'static)) -> Fatal {
    Fatal::input(anyhow!("{what}: {}", DisplayErrorContext(e)))
}

/// Reads a JSON document (finding, list or event), refusing repeated keys.
pub fn read_json(path: &PathBuf) -> Result<Value, Fatal> {
    let bytes = read_file(path)?;
    serde_json::from_slice::<hubfix_finding::StrictValue>(&bytes)
        .map(|v| v.0)
        .map_err(|e| Fatal::input(anyhow!("{} is not valid JSON: {e}", path.display())))
}

pub async fn policy(command: PolicyCommand) -> Result<u8, Fatal> {
    match command {
        PolicyCommand::Publish { dir, to, dry_run } => publish(&dir, &to, dry_run).await,
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
