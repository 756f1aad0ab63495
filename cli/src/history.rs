//! `hubfix history`: the remediations the audit trail holds, newest first.

use anyhow::anyhow;
use clap::Args;
use hubfix_pipeline::audit::{AuditTrail, HistoryFilter};
use hubfix_pipeline::s3::S3Url;

use crate::{Fatal, Output};

#[derive(Args)]
pub struct HistoryArgs {
    /// The audit trail (`s3://BUCKET[/PREFIX]`: the Security stack's AuditUrl).
    #[arg(long, value_name = "S3_URL", env = "HUBFIX_AUDIT_URL")]
    audit: String,
    /// Only remediations in this account.
    #[arg(long, value_name = "ID")]
    account: Option<String>,
    /// Only remediations of this control, e.g. EC2.53.
    #[arg(long, value_name = "ID")]
    control: Option<String>,
    /// Only remediations from this date (YYYY-MM-DD) or time (RFC 3339) on.
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// At most this many, the newest.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

pub async fn history(args: HistoryArgs) -> Result<u8, Fatal> {
    if let Some(account) = &args.account
        && !hubfix_finding::is_account_id(account)
    {
        return Err(Fatal::input(anyhow!(
            "--account: `{account}` is not 12 digits"
        )));
    }
    if let Some(control) = &args.control
        && !hubfix_finding::is_control_id(control)
    {
        return Err(Fatal::input(anyhow!(
            "--control: `{control}` is not a control id"
        )));
    }
    let at: S3Url = args
        .audit
        .parse()
        .map_err(|e| Fatal::input(anyhow!("--audit: {e}")))?;
    let aws = hubfix_host::load_aws_config().await;
    let trail = AuditTrail::new(hubfix_pipeline::s3::client(&aws), at);
    let records = trail
        .list(&HistoryFilter {
            account: args.account.clone(),
            control: args.control.clone(),
            since: args.since.clone(),
            limit: args.limit,
        })
        .await
        .map_err(|e| Fatal::input(anyhow!("{e}")))?;
    match args.output {
        Output::Json => out!(
            "{}",
            serde_json::to_string_pretty(&records).map_err(Fatal::input)?
        ),
        Output::Table => {
            if records.is_empty() {
                out!("no remediation recorded");
            }
            for r in &records {
                let o = &r.outcome;
                out!(
                    "{:<24}  {}  {:<8}  {} {}  {:<5}  {:<17}  {}",
                    r.recorded_at,
                    r.account,
                    r.control,
                    o["plugin"]["name"].as_str().unwrap_or("?"),
                    o["plugin"]["version"].as_str().unwrap_or("?"),
                    o["mode"].as_str().unwrap_or("?"),
                    o["status"].as_str().unwrap_or("?"),
                    r.finding.id
                );
            }
        }
    }
    Ok(0)
}
