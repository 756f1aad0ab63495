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

/// How many plugins' scenarios run at once on each emulator
/// (`HUBFIX_SCENARIO_CONCURRENCY`, default 3). Every scenario works in fresh accounts of
/// its own, so they are independent; the emulator, not this process, sets the pace.
fn scenario_concurrency() -> usize {
    std::env::var("HUBFIX_SCENARIO_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(3)
}

/// The emulators the scenarios spread over: `HUBFIX_SCENARIO_ENDPOINTS` (comma-separated,
/// set by `cargo xtask test`, which starts one emulator per core), else the one of
/// `AWS_ENDPOINT_URL`.
fn scenario_configs(base: &aws_config::SdkConfig) -> Vec<aws_config::SdkConfig> {
    let endpoints: Vec<String> = std::env::var("HUBFIX_SCENARIO_ENDPOINTS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    if endpoints.is_empty() {
        return vec![base.clone()];
    }
    endpoints
        .into_iter()
        .map(|url| {
            let endpoint = Endpoint {
                // As `cargo xtask test` sets `AWS_ENDPOINT_URL_S3_CONTROL`.
                s3_control: url.replacen("://127.0.0.1", "://localhost", 1),
                url,
                inner: base.service_config().is_some().then(|| base.clone()),
            };
            base.to_builder()
                .endpoint_url(endpoint.url.clone())
                .service_config(endpoint)
                .build()
        })
        .collect()
}

/// The service configuration of `base` with every endpoint (`AWS_ENDPOINT_URL` and the
/// service's own `AWS_ENDPOINT_URL_<SERVICE>`, which the SDK prefers to the config's
/// endpoint) pointing at one emulator; S3 Control at its `localhost` name, which takes
/// the account id in front.
#[derive(Debug)]
struct Endpoint {
    url: String,
    s3_control: String,
    inner: Option<aws_config::SdkConfig>,
}

impl aws_types::service_config::LoadServiceConfig for Endpoint {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        if key.env() == "AWS_ENDPOINT_URL" {
            return Some(if key.service_id() == "S3 Control" {
                self.s3_control.clone()
            } else {
                self.url.clone()
            });
        }
        self.inner.as_ref()?.service_config()?.load_config(key)
    }
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
    let started = std::time::Instant::now();
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
    eprintln!(
        "{name}: {} scenario(s) in {:.1}s",
        scenarios.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(PluginRun {
        name,
        ran: scenarios.len(),
        failures,
    })
}

/// The plugin directories, those with the most scenarios first, so that the longest
/// runs start early and the emulators finish together.
fn plugins_longest_first() -> Result<Vec<std::path::PathBuf>> {
    let mut dirs = Vec::new();
    for dir in plugin_dirs(&plugins_dir())? {
        let scenarios = std::fs::read_dir(dir.join("scenarios"))
            .map(|entries| entries.count())
            .unwrap_or(0);
        dirs.push((scenarios, dir));
    }
    dirs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(dirs.into_iter().map(|(_, dir)| dir).collect())
}

/// Every plugin with a `scenarios/` directory passes all of them, each in two fresh
/// accounts, with the grants and parameters of the shipped policy and the component
/// `cargo xtask plugins` built. Plugins run concurrently (bounded per emulator, spread
/// over every emulator of the run), each plugin's scenarios in order.
#[tokio::test(flavor = "multi_thread")]
async fn every_plugin_passes_its_scenarios() -> Result<()> {
    require_emulator!();
    let policy = Policy::shipped().map_err(|e| anyhow::anyhow!("{e}"))?;
    let base = hubfix_host::load_aws_config().await;
    let queue = std::sync::Mutex::new(std::collections::VecDeque::from(plugins_longest_first()?));
    let next = || queue.lock().expect("the queue lock").pop_front();
    let configs = scenario_configs(&base);
    // Workers take the next plugin whenever they are free: `scenario_concurrency` per
    // emulator.
    let mut workers = Vec::new();
    for config in &configs {
        for _ in 0..scenario_concurrency() {
            let policy = &policy;
            let next = &next;
            workers.push(async move {
                let mut runs = Vec::new();
                while let Some(dir) = next() {
                    let run = run_plugin_scenarios(dir, policy.clone(), config.clone());
                    runs.push(Box::pin(run).await);
                }
                runs
            });
        }
    }
    let runs: Vec<Result<PluginRun>> = futures::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
        .collect();
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

/// Every scenario's finding names a resource its plugin acts on (what the router checks
/// before remediating: the policy's `acted_on` of the plugin's grants), unless the
/// scenario expects the plugin to skip it.
#[test]
fn every_scenario_finding_names_what_its_plugin_acts_on() -> Result<()> {
    let policy = Policy::shipped().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut checked = 0;
    let mut wrong = Vec::new();
    for dir in plugin_dirs(&plugins_dir())? {
        let name = package_name(&dir)?;
        let Some(plugin) = policy.plugin(&name) else {
            continue;
        };
        let acted_on = &plugin.acted_on;
        for scenario in load_dir(&dir)? {
            if scenario.outcome.plan == hubfix_scenario::ExpectedStatus::Skipped {
                continue;
            }
            let named: Vec<&str> = scenario.finding["Resources"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["Type"].as_str())
                .collect();
            checked += 1;
            if !acted_on.is_empty() && !named.iter().any(|t| acted_on.contains(t)) {
                wrong.push(format!(
                    "{}: names {named:?}, {name} acts on {acted_on:?}",
                    scenario.path.display()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    assert!(checked >= 80, "only {checked} scenarios checked");
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
