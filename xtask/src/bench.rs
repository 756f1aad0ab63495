//! `cargo xtask bench`: the performance numbers of docs/performance.md.
//!
//! 1. Warm per-finding host overhead: the criterion bench `hubfix-host/benches/warm.rs`.
//! 2. Cold start as whole processes: the release `hubfix` binary runs one finding through a
//!    plugin from the S3 registry (the emulator), first with an empty compiled-code cache
//!    (fetch + compile), then with the cache warm. The plugin is the `misbehave` fixture's
//!    `noop`, so no AWS call but the registry's is made.
//! 3. Sizes: each plugin component and the release binary.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::cmd;
use crate::emulator::Instance;
use crate::paths::Paths;
use crate::plugins;
use crate::test::set_emulator_env;

/// Process runs per cold-start variant.
const RUNS: usize = 15;

const BENCH_POLICY: &str = r#"# The fixture as a plugin, for the cold-start harness only.
[plugins.misbehave]
version = "0.1.0"
controls = ["EC2.7"]
grants = ["ec2.revoke-security-group-ingress", "ec2.describe-security-group-rules", "ec2.get-ebs-encryption-by-default"]
"#;

const FINDING: &str = r#"{
  "Id": "arn:aws:securityhub:us-east-1:111111111111:security-control/EC2.7/finding/bench",
  "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
  "GeneratorId": "security-control/EC2.7",
  "AwsAccountId": "111111111111",
  "Region": "us-east-1",
  "Compliance": {"Status": "FAILED", "SecurityControlId": "EC2.7"},
  "Resources": [{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}]
}"#;

pub fn run(paths: &Paths) -> Result<()> {
    let plugin_dir = plugins::build(paths)?;

    eprintln!("xtask: warm path (criterion)…");
    let mut bench = cmd::cargo(paths);
    bench
        .args(["bench", "-p", "hubfix-host", "--bench", "warm"])
        .env("HUBFIX_PLUGIN_DIR", &plugin_dir);
    cmd::run(&mut bench)?;

    eprintln!("xtask: building the release CLI…");
    cmd::run(cmd::cargo(paths).args(["build", "--release", "-p", "hubfix"]))?;
    let hubfix = paths.target.join("release").join("hubfix");

    let work = std::env::temp_dir().join(format!("hubfix-bench-{}", std::process::id()));
    let policy_dir = work.join("policy");
    let cache = work.join("cache");
    std::fs::create_dir_all(&policy_dir)?;
    std::fs::write(policy_dir.join("plugins.toml"), BENCH_POLICY)?;
    let finding = work.join("finding.json");
    std::fs::write(&finding, FINDING)?;

    let mut emulator = Instance::start(paths)?;
    let endpoint = emulator.endpoint();
    let result = cold(
        &hubfix,
        &endpoint,
        &plugin_dir,
        &policy_dir,
        &finding,
        &cache,
    );
    if result.is_err() {
        emulator.keep_log();
    }
    let _ = std::fs::remove_dir_all(&work);
    let (fetch, disk) = result?;

    println!();
    println!("| cold start, whole process (median of {RUNS}) | ms |");
    println!("|---|---|");
    println!(
        "| registry fetch + compile (empty disk cache) | {:.1} |",
        ms(median(fetch))
    );
    println!("| disk cache warm | {:.1} |", ms(median(disk)));
    println!();
    println!("| artifact | bytes |");
    println!("|---|---|");
    for entry in std::fs::read_dir(&plugin_dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            println!(
                "| {} | {} |",
                file_name(&path),
                std::fs::metadata(&path)?.len()
            );
        }
    }
    println!(
        "| hubfix (release, stripped) | {} |",
        std::fs::metadata(&hubfix)?.len()
    );
    Ok(())
}

fn cold(
    hubfix: &Path,
    endpoint: &str,
    plugin_dir: &Path,
    policy_dir: &Path,
    finding: &Path,
    cache: &Path,
) -> Result<(Vec<Duration>, Vec<Duration>)> {
    create_bucket(endpoint, "hubfix-bench")?;
    let registry = "s3://hubfix-bench/bench";
    let mut publish = Command::new(hubfix);
    publish
        .arg("publish")
        .arg(plugin_dir.join("misbehave.wasm"))
        .args(["--registry", registry, "--policy"])
        .arg(policy_dir);
    set_emulator_env(&mut publish, endpoint, plugin_dir);
    cmd::run(&mut publish)?;

    let run_once = || -> Result<Duration> {
        let mut run = Command::new(hubfix);
        run.arg("run")
            .arg("--finding")
            .arg(finding)
            .args(["--registry", registry, "--plugin", "misbehave"])
            .args([
                "--grant",
                "ec2.revoke-security-group-ingress,ec2.describe-security-group-rules,ec2.get-ebs-encryption-by-default",
            ])
            .args([
                "--param",
                "behavior=noop",
                "--output",
                "json",
                "--cache-dir",
            ])
            .arg(cache);
        set_emulator_env(&mut run, endpoint, plugin_dir);
        let started = Instant::now();
        let out = run.output().context("run hubfix")?;
        let elapsed = started.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !stdout.contains("\"skipped\"") {
            bail!(
                "hubfix run failed ({}): {stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(elapsed)
    };

    eprintln!("xtask: cold start, empty cache ({RUNS} processes)…");
    let mut fetch = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let _ = std::fs::remove_dir_all(cache);
        fetch.push(run_once()?);
    }
    eprintln!("xtask: cold start, disk cache warm ({RUNS} processes)…");
    let mut disk = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        disk.push(run_once()?);
    }
    Ok((fetch, disk))
}

/// Creates a bucket with one unsigned path-style PUT (the emulator accepts it).
fn create_bucket(endpoint: &str, bucket: &str) -> Result<()> {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).with_context(|| format!("connect {host}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let request = format!(
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    if !response.starts_with("HTTP/1.1 200") {
        bail!(
            "creating bucket {bucket} failed: {}",
            response.lines().next().unwrap_or_default()
        );
    }
    Ok(())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_sample() {
        let ms = |n| Duration::from_millis(n);
        assert_eq!(median(vec![ms(5), ms(1), ms(3)]), ms(3));
        assert_eq!(median(vec![]), Duration::ZERO);
    }
}
