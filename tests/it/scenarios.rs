use std::path::Path;

use anyhow::{Context, Result};
use hubfix_policy::Policy;
use hubfix_scenario::{Member, Op, ROLE_NAME, Runner, load_dir, package_name, plugin_dirs};
use hubfix_tests::{REGION, plugin_bytes};
use serde_json::json;

use crate::common::require_emulator;

/// The plugin workspace of this repository.
fn plugins_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins")
}

/// How many plugins' scenarios run at once (`HUBFIX_SCENARIO_CONCURRENCY`, default 4).
/// Every scenario works in fresh accounts of its own, so they are independent; the
/// emulator, not this process, sets the pace.
fn scenario_concurrency() -> usize {
    std::env::var("HUBFIX_SCENARIO_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(4)
}

/// What one plugin's scenarios came to.
struct PluginRun {
    name: String,
    ran: usize,
    failures: Vec<String>,
}

/// Runs every scenario of the plugin in `dir`, one after the other.
async fn run_plugin_scenarios(
    dir: std::path::PathBuf,
    policy: Policy,
    base: aws_config::SdkConfig,
) -> Result<PluginRun> {
    let name = package_name(&dir)?;
    let scenarios = load_dir(&dir)?;
    let bytes = plugin_bytes(&name)?;
    let runner = Runner::with_config(&bytes, policy, base)
        .await
        .with_context(|| format!("plugin {name}"))?;
    let mut failures = Vec::new();
    for scenario in &scenarios {
        let report = Box::pin(runner.run(scenario, &mut |step| {
            eprintln!(
                "{name}/{}: {} {} {}: {}",
                scenario.name,
                step.account,
                step.phase,
                if step.passed { "ok" } else { "FAILED" },
                step.detail
            );
        }))
        .await;
        assert_eq!(report.accounts.len(), 2, "{}", scenario.name);
        assert_ne!(report.accounts[0], report.accounts[1]);
        if let Some(error) = &report.error {
            failures.push(format!("{}: {error}", report.file));
        }
        failures.extend(report.failures().map(|s| {
            format!(
                "{} (account {}, {}): {}",
                report.file, s.account, s.phase, s.detail
            )
        }));
        if !report.passed() && report.error.is_none() && report.failures().next().is_none() {
            failures.push(format!("{}: did not reach every step", report.file));
        }
    }
    Ok(PluginRun {
        name,
        ran: scenarios.len(),
        failures,
    })
}

/// Every plugin with a `scenarios/` directory passes all of them, each in two fresh
/// accounts, with the grants and parameters of the shipped policy and the component
/// `cargo xtask plugins` built. Plugins run concurrently (bounded), each plugin's
/// scenarios in order.
#[tokio::test(flavor = "multi_thread")]
async fn every_plugin_passes_its_scenarios() -> Result<()> {
    use futures::StreamExt;

    require_emulator!();
    let policy = Policy::shipped().map_err(|e| anyhow::anyhow!("{e}"))?;
    let base = hubfix_host::load_aws_config().await;
    let runs: Vec<Result<PluginRun>> = futures::stream::iter(plugin_dirs(&plugins_dir())?)
        .map(|dir| Box::pin(run_plugin_scenarios(dir, policy.clone(), base.clone())))
        .buffer_unordered(scenario_concurrency())
        .collect()
        .await;
    let mut plugins = Vec::new();
    let mut failures = Vec::new();
    let mut ran = 0;
    for run in runs {
        let run = run?;
        ran += run.ran;
        failures.extend(run.failures);
        plugins.push(run.name);
    }
    for shipped in [
        "iam-password-policy",
        "ec2-restrict-admin-ports",
        "ec2-default-sg-restrict",
        "ec2-ebs-default-encryption",
    ] {
        assert!(
            plugins.iter().any(|p| p == shipped),
            "{shipped} has no scenarios: {plugins:?}"
        );
    }
    assert!(ran >= 8, "only {ran} scenarios ran");
    failures.sort();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    Ok(())
}

/// A scenario that expects the wrong thing fails, and says what differed: the runner's
/// checks can fail.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_expectation_fails_with_expected_and_got() -> Result<()> {
    require_emulator!();
    let dir = plugins_dir().join("ec2-ebs-default-encryption");
    let mut scenario = load_dir(&dir)?
        .into_iter()
        .next()
        .context("a scenario of ec2-ebs-default-encryption")?;
    scenario.after[0]
        .expect
        .insert("enabled".to_owned(), json!(false));
    let policy = Policy::shipped().map_err(|e| anyhow::anyhow!("{e}"))?;
    let runner = Runner::new(&plugin_bytes(&package_name(&dir)?)?, policy).await?;
    let report = Box::pin(runner.run(&scenario, &mut |_| {})).await;
    assert!(!report.passed());
    let failures: Vec<_> = report.failures().collect();
    // The first account stops at its `after` check; the second does too.
    assert_eq!(failures.len(), 2, "{failures:?}");
    for failure in failures {
        assert_eq!(failure.phase, hubfix_scenario::Phase::After);
        assert!(
            failure
                .detail
                .contains("`enabled`: expected false, got true"),
            "{}",
            failure.detail
        );
    }
    Ok(())
}

/// The S3 Control calls scenarios can make (account Block Public Access) reach the
/// emulator through an assumed role, with the account id in the host name.
#[tokio::test(flavor = "multi_thread")]
async fn s3control_scenario_calls_put_get_and_delete_block_public_access() -> Result<()> {
    require_emulator!();
    let base = hubfix_host::load_aws_config().await;
    let member = Member::assume(&base, REGION, "290000000001", ROLE_NAME)
        .await
        .map_err(anyhow::Error::msg)?;
    let get: Op = serde_json::from_value(json!({"call": "s3control.get-public-access-block"}))?;
    let delete: Op =
        serde_json::from_value(json!({"call": "s3control.delete-public-access-block"}))?;
    let put: Op = serde_json::from_value(json!({
        "call": "s3control.put-public-access-block",
        "block-public-acls": true,
        "ignore-public-acls": true,
        "restrict-public-buckets": true,
    }))?;
    delete.run(&member).await.map_err(anyhow::Error::msg)?;
    let none = get.run(&member).await.map_err(anyhow::Error::msg)?;
    assert_eq!(none["exists"], json!(false), "{none:?}");
    assert_eq!(none["block-public-acls"], json!(false));

    put.run(&member).await.map_err(anyhow::Error::msg)?;
    let set = get.run(&member).await.map_err(anyhow::Error::msg)?;
    assert_eq!(set["exists"], json!(true), "{set:?}");
    assert_eq!(set["block-public-acls"], json!(true));
    assert_eq!(set["ignore-public-acls"], json!(true));
    assert_eq!(set["block-public-policy"], json!(false));
    assert_eq!(set["restrict-public-buckets"], json!(true));

    delete.run(&member).await.map_err(anyhow::Error::msg)?;
    let gone = get.run(&member).await.map_err(anyhow::Error::msg)?;
    assert_eq!(gone["exists"], json!(false), "{gone:?}");
    Ok(())
}
