//! `hubfix run`: findings through one plugin, against the configured AWS endpoint.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use clap::Args;
use hubfix_finding::Finding;
use hubfix_host::{Grants, HostConfig, Mode, Outcome, Request, Runtime, sha256_hex};

use crate::{Fatal, Output, read_file, table};

#[derive(Args)]
pub struct RunArgs {
    /// The finding: one ASFF finding, a JSON array of them, a GetFindings page, or an
    /// EventBridge event.
    #[arg(long, value_name = "FILE")]
    finding: PathBuf,
    /// The plugin component (.wasm).
    #[arg(long, value_name = "PATH")]
    plugin: PathBuf,
    /// Pinned sha256 of the plugin; the plugin is refused when the file differs.
    /// Without it the file's own digest is trusted (local use).
    #[arg(long, value_name = "HEX")]
    sha256: Option<String>,
    /// Host functions granted, `service.function` (repeat or comma-separate).
    #[arg(long = "grant", value_name = "FUNC", num_args = 1.., value_delimiter = ',')]
    grants: Vec<String>,
    /// Plugin parameter (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Record mutating calls instead of making them.
    #[arg(long)]
    plan: bool,
    /// The control, when the finding does not name one (`Compliance.SecurityControlId`).
    #[arg(long, value_name = "ID")]
    control: Option<String>,
    /// The role assumed in the finding's account.
    #[arg(
        long,
        env = "HUBFIX_ROLE_NAME",
        default_value = "HubfixRemediationRole"
    )]
    role_name: String,
    /// Wall-clock limit per remediation, in seconds.
    #[arg(long, default_value_t = 30)]
    deadline_secs: u64,
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{text}`")),
    }
}

pub async fn run(args: RunArgs) -> Result<u8, Fatal> {
    let grants = Grants::new(&args.grants).map_err(Fatal::input)?;
    let finding_text = read_file(&args.finding)?;
    let finding_text = String::from_utf8(finding_text)
        .map_err(|_| Fatal::input(anyhow!("{} is not UTF-8 text", args.finding.display())))?;
    let findings = Finding::parse_all(&finding_text)
        .map_err(|e| Fatal::input(anyhow!("{}: {e}", args.finding.display())))?;
    let requests = findings
        .into_iter()
        .map(|finding| {
            let control = args
                .control
                .clone()
                .or_else(|| finding.control_id.clone())
                .ok_or_else(|| {
                    Fatal::input(anyhow!(
                        "finding {} names no control (no Compliance.SecurityControlId); pass --control",
                        finding.id
                    ))
                })?;
            Ok(Request {
                finding,
                control,
                params: args.params.clone(),
                mode: if args.plan { Mode::Plan } else { Mode::Apply },
            })
        })
        .collect::<Result<Vec<_>, Fatal>>()?;

    let bytes = read_file(&args.plugin)?;
    let expected = args.sha256.clone().unwrap_or_else(|| sha256_hex(&bytes));
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let config = HostConfig {
        role_name: args.role_name.clone(),
        deadline: Duration::from_secs(args.deadline_secs),
        ..HostConfig::default()
    };
    let runtime = Runtime::new(config, aws).map_err(Fatal::input)?;
    let plugin = runtime
        .load(&bytes, &expected, grants)
        .await
        .map_err(|e| Fatal::input(anyhow!("plugin {} refused: {e}", args.plugin.display())))?;

    let mut outcomes: Vec<Outcome> = Vec::with_capacity(requests.len());
    for request in &requests {
        outcomes.push(runtime.remediate(&plugin, request).await);
    }
    match args.output {
        Output::Json => {
            let text = if outcomes.len() == 1 {
                serde_json::to_string_pretty(&outcomes[0])
            } else {
                serde_json::to_string_pretty(&outcomes)
            };
            println!("{}", text.map_err(Fatal::input)?);
        }
        Output::Table => table::print_outcomes(&outcomes),
    }
    let failed = outcomes.iter().any(|o| o.status.is_failure());
    Ok(if failed { 1 } else { 0 })
}
