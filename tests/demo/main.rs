//! The demo: the whole pipeline on the local emulator. Started by `cargo xtask demo`
//! (`cargo xtask demo -- --drain 10000` adds the throttled drain).
//!
//! 1. Three member accounts get the four misconfigurations the shipped plugins fix; their
//!    findings, plus findings the policy suppresses and notify-only ones, are imported into
//!    Security Hub in the Security account.
//! 2. The template's EventBridge rule delivers them; each event runs through the state
//!    machine's states: router → suppress / notify / remediate (the proxy invokes the host
//!    Lambda binary in the Service account through the Lambda API; the host loads plugins
//!    from the S3 registry and assumes a role in the member account) → the updates queue →
//!    the archiver.
//! 3. The accounts are checked through the SDK, the findings' workflow and notes read back.
//! 4. More findings, imported while "the pipeline was down", are fixed by `hubfix backfill`.
//! 5. Security Hub v2: OCSF findings ("Findings Imported V2") go through the same rule and
//!    states, and their statuses are written with `BatchUpdateFindingsV2`.
//! 6. With `--drain N`: N suppressions drained through the archiver while the emulator
//!    throttles every 7th `BatchUpdateFindings`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use hubfix_pipeline::HostTarget;
use hubfix_pipeline::archiver::ArchiverConfig;
use hubfix_pipeline::proxy::Proxy;
use hubfix_pipeline::remediator::Remediator;
use hubfix_tests::lambda::{HostLambda, SERVICE_ACCOUNT};
use hubfix_tests::pipeline::{
    Functions, Stack, drain, execute, plugins, policy_files, route_and_enqueue,
};
use hubfix_tests::scenario::{
    EXCEPTIONS, Rule, Seeded, compliant, fresh, notified_findings, seed, suppressed_findings,
};
use hubfix_tests::{base_config, emulator, group_finding, ocsf_group_finding};
use serde_json::Value;

const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];

#[tokio::main]
async fn main() -> Result<()> {
    let drain_n = parse_args()?;
    let base = base_config().await;

    eprintln!(
        "seeding misconfigurations in accounts {}",
        ACCOUNTS.join(", ")
    );
    let mut seeded: Vec<Seeded> = Vec::new();
    for account in ACCOUNTS {
        seeded.extend(seed(&base, account).await?);
    }
    let mut before = Vec::new();
    for s in &seeded {
        before.push(compliant(s).await?);
    }
    let suppressed = suppressed_findings(&ACCOUNTS);
    let notified = notified_findings(&ACCOUNTS);

    eprintln!("deploying the stacks: policy + plugin registry (S3), queue + DLQ, SNS topic, rule");
    let stack = Stack::deploy(
        &base,
        &policy_files(&[("exceptions.toml", EXCEPTIONS)])?,
        &plugins(),
    )
    .await?;
    let rule = Rule::create(&base, &stack).await?;
    let mut all: Vec<Value> = seeded.iter().map(|s| s.finding.clone()).collect();
    all.extend(suppressed.iter().cloned());
    all.extend(notified.iter().cloned());
    stack.import(&all).await?;
    let events = rule.delivered(&stack).await?;
    eprintln!(
        "imported {} findings into Security Hub; the rule delivered {} events",
        all.len(),
        events.len()
    );

    let mut functions = Functions::new(&base, &stack, ArchiverConfig::default())?;
    // Remediations go proxy → Lambda Invoke (cross-account, through a role in the Service
    // account) → the host Lambda binary, attached to the emulator's Runtime API.
    let host_bin = std::env::var_os("HUBFIX_HOST_LAMBDA_BIN")
        .context("HUBFIX_HOST_LAMBDA_BIN is not set; run `cargo xtask demo`")?;
    let host = HostLambda::start(&base, &stack, Path::new(&host_bin)).await?;
    eprintln!(
        "host Lambda running as {} (Service account {SERVICE_ACCOUNT}); the proxy invokes it through {}",
        host.function_arn,
        HostLambda::proxy_role_arn()
    );
    functions.remediator = Remediator::Lambda(
        Proxy::new(&base, Some(&HostLambda::proxy_role_arn())).await,
        HostTarget {
            function: host.function_arn.clone(),
            qualifier: None,
        },
    );
    let mut steps = Vec::new();
    for event in &events {
        steps.extend(Box::pin(execute(&functions, &stack, event)).await?);
    }
    let drained = drain(&stack, &functions.archiver, 10_000).await?;

    println!();
    println!(
        "{:<13} {:<7} {:<24} {:<9} {:<22} {:>8}",
        "account", "control", "resource", "decision", "outcome", "ms"
    );
    print_steps(&steps);
    println!(
        "\narchiver: {} findings updated in {} BatchUpdateFindings calls ({} invocation(s), {:.0} ms)",
        drained.report.updated,
        drained.report.succeeded_calls,
        drained.invocations,
        drained.elapsed.as_secs_f64() * 1e3
    );

    let findings = stack.findings(&ACCOUNTS).await?;
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for f in &all {
        let id = f["Id"].as_str().unwrap_or_default();
        let status = findings
            .get(id)
            .and_then(|f| f["Workflow"].as_str())
            .unwrap_or("?");
        *statuses.entry(status.to_owned()).or_default() += 1;
    }
    println!(
        "findings: {}",
        statuses
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(s) = seeded.first() {
        let id = s.finding["Id"].as_str().unwrap_or_default();
        if let Some(note) = findings.get(id).and_then(|f| f["Note"]["Text"].as_str()) {
            println!("a note:   {note}");
        }
    }
    let published = stack.take_all(&stack.topic_reader_url).await?;
    println!("manual queue (SNS): {} notification(s)", published.len());
    let trail = hubfix_pipeline::audit::AuditTrail::new(
        hubfix_tests::s3_client(&base, None),
        stack.audit_url.parse()?,
    );
    let recorded = trail
        .list(&hubfix_pipeline::audit::HistoryFilter {
            limit: 1000,
            ..Default::default()
        })
        .await?;
    println!(
        "audit trail: {} remediation record(s) kept by the host in {} (`hubfix history --audit {}`)",
        recorded.len(),
        stack.audit_url,
        stack.audit_url
    );
    let matched_again = rule.delivered(&stack).await?;
    println!(
        "rule matches among the pipeline's own update events: {} (no loop)",
        matched_again.len()
    );

    let mut fixed = 0;
    for s in &seeded {
        if compliant(s).await? {
            fixed += 1;
        }
    }
    let before_ok = before.iter().filter(|b| **b).count();
    println!(
        "compliance: {before_ok}/{n} before -> {fixed}/{n} after",
        n = seeded.len()
    );

    backfill(&base, &stack).await?;
    security_hub_v2(&base, &stack, &rule, &functions).await?;
    if let Some(n) = drain_n {
        throttled_drain(&base, &stack, n).await?;
    }
    rule.delete().await?;

    let left_new = statuses.get("NEW").copied().unwrap_or(0);
    if fixed != seeded.len() || left_new > 0 || !matched_again.is_empty() {
        bail!(
            "{} finding(s) not fixed, {left_new} left NEW, {} loop match(es)",
            seeded.len() - fixed,
            matched_again.len()
        );
    }
    Ok(())
}

fn parse_args() -> Result<Option<usize>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(None),
        [flag, n] if flag == "--drain" => Ok(Some(n.parse().context("--drain takes a number")?)),
        other => bail!("usage: demo [--drain N]; got {other:?}"),
    }
}

/// Findings that arrived while the pipeline was down, fixed by `hubfix backfill`.
async fn backfill(base: &aws_config::SdkConfig, stack: &Stack) -> Result<()> {
    let hubfix = PathBuf::from(
        std::env::var_os("HUBFIX_BIN").context("HUBFIX_BIN is not set; run `cargo xtask demo`")?,
    );
    let mut late = Vec::new();
    for account in ACCOUNTS {
        let member = hubfix_tests::Member::assume(base, account).await?;
        let group = member
            .seed_open_admin_group(&format!("late-admin-{}", hubfix_tests::unique_suffix()))
            .await?;
        late.push(Seeded {
            member,
            control: "EC2.53",
            finding: fresh(group_finding(account, "EC2.53", &group)),
            resource: group,
        });
    }
    let findings: Vec<Value> = late.iter().map(|s| s.finding.clone()).collect();
    stack.import(&findings).await?;
    println!(
        "\nbackfill: {} findings imported while the pipeline was down; running `hubfix backfill`",
        late.len()
    );
    let output = Command::new(&hubfix)
        .args([
            "backfill",
            "--registry",
            &stack.registry_url,
            "--control",
            "EC2.53",
        ])
        .args(["--policy", &policy_dir()?])
        .output()
        .with_context(|| format!("run {}", hubfix.display()))?;
    print!("{}", String::from_utf8_lossy(&output.stdout));
    if !output.status.success() {
        bail!(
            "hubfix backfill failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut fixed = 0;
    for s in &late {
        if compliant(s).await? {
            fixed += 1;
        }
    }
    println!(
        "backfill compliance: 0/{n} before -> {fixed}/{n} after",
        n = late.len()
    );
    if fixed != late.len() {
        bail!("backfill left {} finding(s) unfixed", late.len() - fixed);
    }
    Ok(())
}

/// Security Hub v2: an open admin group in each account reported as an OCSF finding
/// ("Findings Imported V2"), delivered by the same rule, run through the same states, and
/// written back with `BatchUpdateFindingsV2`.
async fn security_hub_v2(
    base: &aws_config::SdkConfig,
    stack: &Stack,
    rule: &Rule,
    functions: &Functions,
) -> Result<()> {
    let mut seeded = Vec::new();
    for account in ACCOUNTS {
        let member = hubfix_tests::Member::assume(base, account).await?;
        let group = member
            .seed_open_admin_group(&format!("v2-admin-{}", hubfix_tests::unique_suffix()))
            .await?;
        let finding = ocsf_group_finding(account, "EC2.53", &group);
        seeded.push(Seeded {
            member,
            control: "EC2.53",
            finding,
            resource: group,
        });
    }
    let findings: Vec<Value> = seeded.iter().map(|s| s.finding.clone()).collect();
    stack.import_v2(&findings).await?;
    // (The queue also holds the backfill's findings' events: the backfill fixed those.)
    let events: Vec<Value> = rule
        .delivered(stack)
        .await?
        .into_iter()
        .filter(|e| e["detail-type"] == "Findings Imported V2")
        .collect();
    println!(
        "\nsecurity hub v2: {} OCSF findings imported; the rule delivered {} \"Findings Imported V2\" events",
        findings.len(),
        events.len()
    );
    let mut steps = Vec::new();
    for event in &events {
        steps.extend(Box::pin(execute(functions, stack, event)).await?);
    }
    print_steps(&steps);
    let drained = drain(stack, &functions.archiver, 100).await?;
    let mut fixed = 0;
    for s in &seeded {
        if compliant(s).await? {
            fixed += 1;
        }
    }
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for account in ACCOUNTS {
        let v2 = stack.findings_v2(account).await?;
        for s in seeded.iter().filter(|s| s.member.account == account) {
            let uid = s.finding["finding_info"]["uid"]
                .as_str()
                .unwrap_or_default();
            let status = v2
                .get(uid)
                .and_then(|f| f["status"].as_str())
                .unwrap_or("?");
            *statuses.entry(status.to_owned()).or_default() += 1;
        }
    }
    println!(
        "security hub v2: {} findings written with BatchUpdateFindingsV2; statuses: {}; compliance 0/{n} before -> {fixed}/{n} after",
        drained.report.updated,
        statuses
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", "),
        n = seeded.len()
    );
    if fixed != seeded.len() || statuses.get("Resolved") != Some(&seeded.len()) {
        bail!(
            "security hub v2: {fixed}/{} fixed, statuses {statuses:?}",
            seeded.len()
        );
    }
    Ok(())
}

/// The policy the stack was deployed with, as a directory for the CLI.
fn policy_dir() -> Result<String> {
    let dir = std::env::temp_dir().join(format!("hubfix-demo-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for (name, text) in policy_files(&[("exceptions.toml", EXCEPTIONS)])? {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(dir.to_string_lossy().into_owned())
}

/// `n` suppressions through the archiver while the emulator throttles every 7th
/// `BatchUpdateFindings` call.
async fn throttled_drain(base: &aws_config::SdkConfig, stack: &Stack, n: usize) -> Result<()> {
    println!("\nthrottled drain: importing {n} findings the policy suppresses…");
    let findings: Vec<Value> = (0..n)
        .map(|i| {
            fresh(group_finding(
                "999999999999",
                "EC2.53",
                &format!("sg-0ba5{i:013}"),
            ))
        })
        .collect();
    stack.import(&findings).await?;
    let functions = Functions::new(base, stack, ArchiverConfig::default())?;
    route_and_enqueue(&functions, stack, &findings).await?;
    emulator::clear_requests()?;
    emulator::throttle_batch_update_findings(7)?;
    let drained = drain(stack, &functions.archiver, 10_000).await;
    emulator::clear_faults()?;
    let drained = drained?;
    let ok = emulator::batch_update_calls(200)?;
    let throttled = emulator::batch_update_calls(429)?;
    println!(
        "drained {n} suppressions in {:.2} s ({:.2} s in the archiver, the rest SQS): {ok} successful BatchUpdateFindings calls, {throttled} throttled (429, {:.0} %), {} updated, {} lost",
        drained.elapsed.as_secs_f64(),
        drained.archiver.as_secs_f64(),
        100.0 * throttled as f64 / (ok + throttled).max(1) as f64,
        drained.report.updated,
        n - drained.report.updated.min(n)
    );
    Ok(())
}

/// One table row per finding the states ran: account, control, resource, decision,
/// outcome, time.
fn print_steps(steps: &[hubfix_tests::pipeline::Step]) {
    for step in steps {
        println!(
            "{:<13} {:<7} {:<24} {:<9} {:<22} {:>8.1}",
            step.account,
            step.control,
            short(&step.resource),
            step.decision,
            step.outcome,
            step.ms
        );
    }
}

fn short(text: &str) -> String {
    let tail: String = text
        .chars()
        .rev()
        .take(23)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if tail.len() < text.len() {
        format!("…{tail}")
    } else {
        text.to_owned()
    }
}
