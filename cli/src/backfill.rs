//! `hubfix backfill`: the findings that were failing before the pipeline existed (or that it
//! missed), through the same decision and update path.
//!
//! 1. Page through `GetFindings` (failed, active, workflow NEW; optionally only some
//!    accounts or controls) and Security Hub v2's `GetFindingsV2` (the same in OCSF) at
//!    most 3 requests per second each, deciding each finding with the router's [`route`].
//!    With `--source all` (the default) a `GetFindingsV2` that fails (Security Hub v2 not
//!    enabled) is reported and the ASFF findings are still fixed.
//! 2. Run the remediations: in this process from the plugin registry (`--registry`, as
//!    `hubfix run --registry` does) or through the host Lambda (`--host-function`, as the
//!    proxy does). Without either they are reported and left NEW. The same check reported
//!    twice (as an ASFF and an OCSF finding: same control, account, region and resources)
//!    is remediated once, and both findings get its update.
//! 3. Write every update (suppress, notify, remediation result, remediation failure) with
//!    the archiver: grouped by update, 100 findings per `BatchUpdateFindings` (or
//!    `BatchUpdateFindingsV2`), throttling retried with backoff.
//! 4. Tell the manual topic (`--manual-topic`) what the state machine would: notify
//!    decisions, invalid findings, failed and skipped remediations, one message each. A
//!    finding without an id to update it by is kept in the quarantine (`--quarantine`,
//!    `<sha256>.json`) and reported there too, as the router does.
//!
//! All pages are read before anything is written, so the updates cannot shift the paging.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use clap::Args;
use hubfix_pipeline::archiver::{Archiver, ArchiverConfig, Message};
use hubfix_pipeline::backfill::{Api, Pager, Selection};
use hubfix_pipeline::host::{HostService, HostSettings};
use hubfix_pipeline::proxy::Proxy;
use hubfix_pipeline::remediator::Remediator;
use hubfix_pipeline::route::{
    remediation_failed, remediation_key, route, skipped_notification, today,
};
use hubfix_pipeline::router::{Quarantine, unidentified_unstored};
use hubfix_pipeline::s3::S3Url;
use hubfix_pipeline::{HostTarget, Notification, Update};
use hubfix_policy::Action;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::{Fatal, Output, policy};

#[derive(Args)]
pub struct BackfillArgs {
    /// The policy directory; the shipped policy when absent.
    #[arg(long, value_name = "DIR")]
    policy: Option<PathBuf>,
    /// Only findings about this account (repeatable).
    #[arg(long = "account", value_name = "ID")]
    accounts: Vec<String>,
    /// Only findings of this Security Hub control, e.g. EC2.13 (repeatable).
    #[arg(long = "control", value_name = "ID")]
    controls: Vec<String>,
    /// Also findings already NOTIFIED (not only NEW).
    #[arg(long)]
    include_notified: bool,
    /// Which findings to read: Security Hub CSPM's ASFF findings (`GetFindings`), Security
    /// Hub v2's OCSF findings (`GetFindingsV2`), or both.
    #[arg(long, value_enum, default_value_t = Source::All)]
    source: Source,
    /// Run remediations in this process with plugins from this registry
    /// (`s3://BUCKET[/PREFIX]`).
    #[arg(
        long,
        value_name = "S3_URL",
        env = "HUBFIX_REGISTRY",
        conflicts_with = "host_function"
    )]
    registry: Option<String>,
    /// Where compiled plugins are cached (with `--registry`).
    #[arg(long, value_name = "DIR", requires = "registry")]
    cache_dir: Option<PathBuf>,
    /// Run remediations through the host Lambda (name or ARN).
    #[arg(long, value_name = "FUNCTION")]
    host_function: Option<String>,
    /// The host Lambda's alias or version.
    #[arg(
        long,
        value_name = "QUALIFIER",
        default_value = "live",
        requires = "host_function"
    )]
    host_qualifier: String,
    /// The role assumed in member accounts (with `--registry`).
    #[arg(
        long,
        env = "HUBFIX_ROLE_NAME",
        default_value = "HubfixRemediationRole"
    )]
    role_name: String,
    /// The SNS topic that hears what needs a person (the stack's manual topic): notify
    /// decisions, invalid findings, failed and skipped remediations. Without it they are
    /// only counted.
    #[arg(long, value_name = "TOPIC_ARN", env = "HUBFIX_MANUAL_TOPIC")]
    manual_topic: Option<String>,
    /// Where findings that cannot be identified (no id to update them by) are kept, as
    /// `<sha256>.json` (`s3://BUCKET[/PREFIX]`, the stack's quarantine). Without it the
    /// manual topic still hears of each, by sha256 and size.
    #[arg(long, value_name = "S3_URL", env = "HUBFIX_QUARANTINE_URL")]
    quarantine: Option<String>,
    /// Where each remediation run in this process (with `--registry`) keeps its audit
    /// record (`s3://BUCKET[/PREFIX]`, the stack's audit trail; see `hubfix history`).
    #[arg(long, value_name = "S3_URL", env = "HUBFIX_AUDIT_URL")]
    audit: Option<String>,
    /// Decide and report; change nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

/// Which Security Hub findings `backfill` reads.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Source {
    /// ASFF findings (`GetFindings`).
    Asff,
    /// Security Hub v2 OCSF findings (`GetFindingsV2`).
    Ocsf,
    /// Both; a `GetFindingsV2` that fails is reported, not fatal.
    All,
}

impl Source {
    fn apis(self) -> &'static [Api] {
        match self {
            Source::Asff => &[Api::V1],
            Source::Ocsf => &[Api::V2],
            Source::All => &[Api::V1, Api::V2],
        }
    }
}

/// The command's result, printed as a table or JSON.
#[derive(Default, Serialize)]
struct Summary {
    findings: usize,
    get_findings_calls: u32,
    get_findings_v2_calls: u32,
    /// Why `GetFindingsV2` was not read (with `--source all`).
    #[serde(skip_serializing_if = "Option::is_none")]
    v2_not_read: Option<String>,
    /// Findings that could not be identified, kept in the quarantine (`--quarantine`).
    unidentified_kept: usize,
    /// Findings that could not be identified and could not be kept either.
    unidentified_not_kept: usize,
    /// Remediations not run because the same check was already fixed for another finding
    /// (its ASFF or OCSF twin), whose update they share.
    remediations_shared: usize,
    decisions: BTreeMap<String, usize>,
    /// Remediation outcomes (`remediated`, `already_compliant`, …) and error names.
    remediations: BTreeMap<String, usize>,
    /// Remediations not run (no `--registry` or `--host-function`).
    remediations_pending: usize,
    updates_written: usize,
    updates_failed: usize,
    /// Messages for the manual topic: published, failed to publish, or (without
    /// `--manual-topic`, or in a dry run) not sent.
    notifications_published: usize,
    notifications_failed: usize,
    notifications_not_sent: usize,
    batch_update_calls: u32,
    throttled_calls: u32,
    dry_run: bool,
}

pub async fn backfill(args: BackfillArgs) -> Result<u8, Fatal> {
    let policy = policy::load(args.policy.as_deref())?;
    let aws = hubfix_host::load_aws_config().await;
    // `None`: remediations are reported and left NEW.
    let remediator = if args.dry_run {
        None
    } else if let Some(url) = &args.registry {
        let registry: S3Url = url
            .parse()
            .map_err(|e| Fatal::input(anyhow!("--registry: {e}")))?;
        let settings = HostSettings {
            registry,
            role_name: args.role_name.clone(),
            cache_dir: args
                .cache_dir
                .clone()
                .unwrap_or_else(hubfix_host::default_cache_dir),
            deadline: Duration::from_secs(30),
            trusted_keys: hubfix_pipeline::host::trusted_keys_from_env()
                .map_err(|e| Fatal::input(anyhow!("{e}")))?,
            audit: args
                .audit
                .as_deref()
                .map(|url| {
                    url.parse::<S3Url>()
                        .map_err(|e| Fatal::input(anyhow!("--audit: {e}")))
                })
                .transpose()?,
        };
        Some(Remediator::Local(Box::new(
            HostService::new(&settings, aws.clone()).map_err(|e| Fatal::input(anyhow!("{e}")))?,
        )))
    } else if let Some(function) = &args.host_function {
        Some(Remediator::Lambda(
            Proxy::new(&aws, None).await,
            HostTarget {
                function: function.clone(),
                qualifier: Some(args.host_qualifier.clone()),
            },
        ))
    } else {
        None
    };

    let mut summary = Summary {
        dry_run: args.dry_run,
        ..Summary::default()
    };
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));

    // 1. Read and decide.
    let hub = aws_sdk_securityhub::Client::new(&aws);
    let selection = Selection {
        accounts: args.accounts.clone(),
        controls: args.controls.clone(),
        include_notified: args.include_notified,
    };
    let quarantine = match &args.quarantine {
        Some(url) if !args.dry_run => Some(Quarantine::new(
            aws_sdk_s3::Client::new(&aws),
            url.parse::<S3Url>()
                .map_err(|e| Fatal::input(anyhow!("--quarantine: {e}")))?,
        )),
        _ => None,
    };
    let today = today();
    let mut routes = Vec::new();
    let mut invalid = 0;
    for &api in args.source.apis() {
        let mut pager = Pager::over(hub.clone(), api, &selection);
        loop {
            let page = match pager.next_page().await {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(e) if api == Api::V2 && args.source == Source::All => {
                    tracing::warn!(error = %e, "Security Hub v2 findings not read");
                    summary.v2_not_read = Some(e.to_string());
                    break;
                }
                Err(e) => return Err(Fatal::input(anyhow!("{e}"))),
            };
            for finding in page {
                summary.findings += 1;
                match route(&finding, &policy, today) {
                    Ok(r) => {
                        let action = serde_json::to_value(r.action)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default();
                        *summary.decisions.entry(action).or_default() += 1;
                        routes.push(r);
                    }
                    // No identifier to update it by: kept (with --quarantine) and
                    // reported, as the router does.
                    Err(e) => {
                        invalid += 1;
                        tracing::warn!(error = %e, "finding cannot be identified");
                        let route = match &quarantine {
                            Some(q) => match q.keep(&finding, &e).await {
                                Ok(route) => {
                                    summary.unidentified_kept += 1;
                                    route
                                }
                                Err(kept) => {
                                    tracing::warn!(error = %kept, "finding not kept");
                                    summary.unidentified_not_kept += 1;
                                    unidentified_unstored(&finding, &e)
                                }
                            },
                            None => {
                                summary.unidentified_not_kept += 1;
                                unidentified_unstored(&finding, &e)
                            }
                        };
                        routes.push(route);
                    }
                }
            }
            bar.set_message(format!(
                "reading findings ({}): {} read in {} pages, {}",
                api.operation(),
                summary.findings,
                pager.calls,
                counts(&summary.decisions)
            ));
        }
        match api {
            Api::V1 => summary.get_findings_calls = pager.calls,
            Api::V2 => summary.get_findings_v2_calls = pager.calls,
        }
    }
    if invalid > 0 {
        *summary.decisions.entry("invalid".into()).or_default() += invalid;
    }

    // 2. Remediate.
    let mut updates: Vec<Update> = Vec::new();
    let mut notifications: Vec<Notification> = routes
        .iter()
        .filter_map(|r| r.notification.clone())
        .collect();
    let to_remediate = routes
        .iter()
        .filter(|r| r.action == Action::Remediate)
        .count();
    let mut done = 0;
    // The update of each check already remediated, by remediation key, for its twin.
    let mut fixed: BTreeMap<String, Update> = BTreeMap::new();
    for r in &routes {
        if let Some(update) = &r.update {
            updates.push(update.clone());
        }
        if r.action != Action::Remediate {
            continue;
        }
        let (Some(remediator), Some(request)) = (&remediator, &r.remediation) else {
            summary.remediations_pending += 1;
            continue;
        };
        let key = remediation_key(request);
        if let Some(update) = key.as_ref().and_then(|k| fixed.get(k)) {
            summary.remediations_shared += 1;
            updates.push(Update {
                finding: r.identifier.clone(),
                ..update.clone()
            });
            continue;
        }
        match remediator.run(request).await {
            Ok(response) => {
                let status = response.outcome["status"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned();
                *summary.remediations.entry(status).or_default() += 1;
                notifications.extend(skipped_notification(&response));
                if let Some(key) = key {
                    fixed.insert(key, response.update.clone());
                }
                updates.push(response.update);
            }
            Err(e) => {
                *summary.remediations.entry(e.name.to_string()).or_default() += 1;
                let (update, notification) = remediation_failed(r, &e);
                updates.push(update);
                notifications.push(notification);
            }
        }
        done += 1;
        bar.set_message(format!("remediating: {done}/{to_remediate}"));
    }

    // 3. Write the updates.
    if !args.dry_run && !updates.is_empty() {
        bar.set_message(format!("writing {} finding updates", updates.len()));
        let archiver = Archiver::new(&aws, ArchiverConfig::default());
        let messages: Vec<Message> = updates
            .iter()
            .enumerate()
            .map(|(i, u)| Message {
                id: i.to_string(),
                body: serde_json::to_string(u).unwrap_or_default(),
                sent_at: None,
            })
            .collect();
        let report = archiver.process(&messages, None).await;
        summary.updates_written = report.updated;
        summary.updates_failed = report.failed.len();
        summary.batch_update_calls = report.calls;
        summary.throttled_calls = report.throttled_calls;
    }
    // 4. Tell a person.
    match (&args.manual_topic, args.dry_run) {
        (Some(topic), false) => {
            let sns = aws_sdk_sns::Client::new(&aws);
            let total = notifications.len();
            for (i, n) in notifications.iter().enumerate() {
                bar.set_message(format!("publishing to the manual topic: {i}/{total}"));
                let sent = sns
                    .publish()
                    .topic_arn(topic)
                    .subject(&n.subject)
                    .message(&n.message)
                    .send()
                    .await;
                match sent {
                    Ok(_) => summary.notifications_published += 1,
                    Err(e) => {
                        summary.notifications_failed += 1;
                        tracing::warn!(
                            error = %aws_sdk_sns::error::DisplayErrorContext(&e),
                            subject = n.subject,
                            "manual topic message not published"
                        );
                    }
                }
            }
        }
        _ => summary.notifications_not_sent = notifications.len(),
    }
    bar.finish_and_clear();
    print(&summary, args.output);
    let failed = summary.updates_failed > 0
        || summary.notifications_failed > 0
        || (quarantine.is_some() && summary.unidentified_not_kept > 0)
        || summary
            .remediations
            .keys()
            .any(|k| k.starts_with("Hubfix.") || k == "failed" || k == "denied");
    Ok(u8::from(failed))
}

fn counts(map: &BTreeMap<String, usize>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print(summary: &Summary, output: Output) {
    match output {
        Output::Json => out!(
            "{}",
            serde_json::to_string_pretty(summary).unwrap_or_default()
        ),
        Output::Table => {
            out!(
                "findings read: {} ({} GetFindings, {} GetFindingsV2 calls)",
                summary.findings,
                summary.get_findings_calls,
                summary.get_findings_v2_calls
            );
            if let Some(why) = &summary.v2_not_read {
                out!("not read:      Security Hub v2 (OCSF) findings: {why}");
            }
            out!("decisions:     {}", counts(&summary.decisions));
            if !summary.remediations.is_empty() {
                out!("remediations:  {}", counts(&summary.remediations));
            }
            if summary.unidentified_kept + summary.unidentified_not_kept > 0 {
                out!(
                    "unidentified:  {} finding(s) without an id to update them by: {} kept in the quarantine, {} not kept (give --quarantine)",
                    summary.unidentified_kept + summary.unidentified_not_kept,
                    summary.unidentified_kept,
                    summary.unidentified_not_kept
                );
            }
            if summary.remediations_shared > 0 {
                out!(
                    "shared:        {} finding(s) reported twice (ASFF and OCSF) got their twin's remediation",
                    summary.remediations_shared
                );
            }
            if summary.remediations_pending > 0 {
                out!(
                    "not remediated: {} (give --registry or --host-function to run them)",
                    summary.remediations_pending
                );
            }
            if summary.dry_run {
                out!("dry run: nothing was changed");
            } else {
                out!(
                    "updates:       {} written, {} failed, {} BatchUpdateFindings calls ({} throttled)",
                    summary.updates_written,
                    summary.updates_failed,
                    summary.batch_update_calls,
                    summary.throttled_calls
                );
            }
            if summary.notifications_published + summary.notifications_failed > 0 {
                out!(
                    "manual topic:  {} published, {} failed",
                    summary.notifications_published,
                    summary.notifications_failed
                );
            }
            if summary.notifications_not_sent > 0 {
                out!(
                    "not sent:      {} message(s) for the manual topic (give --manual-topic to publish them)",
                    summary.notifications_not_sent
                );
            }
        }
    }
}
