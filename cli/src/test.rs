//! `hubfix test PLUGIN_DIR`: a plugin against its scenarios (`PLUGIN_DIR/scenarios/*.toml`),
//! each in two fresh member accounts of the AWS endpoint the environment names, or of the
//! project's emulator, started for it when none is named.
//!
//! The component is built (`cargo build --release --target wasm32-wasip2`) unless
//! `--component` gives one. Its name comes from its own `describe()`, its grants and
//! parameters from the policy (the shipped one, or `--policy DIR`), as the host would run
//! it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, anyhow};
use clap::Args;
use hubfix_scenario::{Runner, ScenarioReport, StepReport};
use serde_json::{Value, json};

use crate::{Fatal, Output, policy, read_file};

/// The target every plugin is built for.
const WASM_TARGET: &str = "wasm32-wasip2";

/// Set in the environment of the re-run this command starts against the emulator it
/// started, so that it never starts one twice.
const STARTED_EMULATOR: &str = "HUBFIX_TEST_STARTED_EMULATOR";

#[derive(Args)]
pub struct TestArgs {
    /// The plugin crate's directory (`plugins/NAME`), holding `scenarios/*.toml`.
    plugin_dir: PathBuf,
    /// The component to test; without it the crate is built for wasm32-wasip2 (release).
    #[arg(long, value_name = "FILE.wasm")]
    component: Option<PathBuf>,
    /// Take the plugin's grants and parameters from this policy directory instead of the
    /// shipped policy.
    #[arg(long, value_name = "DIR")]
    policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

pub async fn test(args: TestArgs) -> Result<u8, Fatal> {
    // Everything that needs no AWS first: a bad scenario or policy is reported before
    // anything is built or started.
    let scenarios = hubfix_scenario::load_dir(&args.plugin_dir).map_err(Fatal::input)?;
    if scenarios.is_empty() {
        return Err(Fatal::input(anyhow!(
            "{} has no scenarios: write {}/scenarios/*.toml (`hubfix new` writes an example)",
            args.plugin_dir.display(),
            args.plugin_dir.display()
        )));
    }
    let policy = policy::load(args.policy.as_deref())?;

    let Some(endpoint) = std::env::var_os("AWS_ENDPOINT_URL") else {
        return against_started_emulator(&args);
    };
    let endpoint = endpoint.to_string_lossy().into_owned();

    let (component, bytes) = match &args.component {
        Some(path) => (path.clone(), read_file(path)?),
        None => {
            let path = build(&args.plugin_dir)?;
            let bytes = read_file(&path)?;
            (path, bytes)
        }
    };
    let digest = hubfix_host::sha256_hex(&bytes);
    let runner = Runner::new(&bytes, policy)
        .await
        .map_err(|e| Fatal::input(anyhow!("{}: {e}", component.display())))?;
    let plugin = runner.plugin();
    let policy_name = match &args.policy {
        Some(dir) => dir.display().to_string(),
        None => "the shipped policy".to_owned(),
    };
    let table = matches!(args.output, Output::Table);
    if table {
        out!(
            "testing {} {} (sha256 {}) with the grants of {policy_name}: {}",
            plugin.name,
            plugin.version,
            digest.get(..12).unwrap_or(&digest),
            runner.grants().join(", ")
        );
        out!(
            "{} scenario(s), {} accounts each, against {endpoint} in {}",
            scenarios.len(),
            hubfix_scenario::ACCOUNTS,
            runner.region()
        );
    }

    let mut reports = Vec::with_capacity(scenarios.len());
    for scenario in &scenarios {
        if table {
            out!("");
            out!("scenario {}: {}", scenario.name, scenario.description);
        }
        let mut progress = |step: &StepReport| {
            if table {
                print_step(step);
            }
        };
        let report = runner.run(scenario, &mut progress).await;
        if table {
            if let Some(error) = &report.error {
                out!("  FAILED  {error}");
            }
            out!(
                "  {}  {} in {} account(s)",
                if report.passed() { "passed" } else { "FAILED" },
                report.scenario,
                report.accounts.len()
            );
        }
        reports.push(report);
    }

    let failed = reports.iter().filter(|r| !r.passed()).count();
    let passed = reports.len() - failed;
    match args.output {
        Output::Json => {
            let value = json!({
                "plugin": {
                    "name": plugin.name,
                    "version": plugin.version,
                    "sha256": digest,
                    "component": component.display().to_string(),
                },
                "grants": runner.grants(),
                "policy": args.policy.as_ref().map(|d| d.display().to_string()),
                "endpoint": endpoint,
                "region": runner.region(),
                "scenarios": reports,
                "passed": passed,
                "failed": failed,
            });
            let text = serde_json::to_string_pretty(&value).map_err(Fatal::input)?;
            out!("{text}");
        }
        Output::Table => {
            out!("");
            for report in reports.iter().filter(|r| !r.passed()) {
                print_failure(report);
            }
            out!("scenarios: {passed} passed, {failed} failed");
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

fn print_step(step: &StepReport) {
    let mark = if step.passed { "ok" } else { "FAILED" };
    out!(
        "  {}  {:<9} {:<6}  {}",
        step.account,
        step.phase.as_str(),
        mark,
        step.detail
    );
}

fn print_failure(report: &ScenarioReport) {
    if let Some(error) = &report.error {
        out!("FAILED {} ({}): {error}", report.scenario, report.file);
    }
    for step in report.failures() {
        out!(
            "FAILED {} ({}), account {}, {}: {}",
            report.scenario,
            report.file,
            step.account,
            step.phase,
            step.detail
        );
    }
}

// ---------------------------------------------------------------------------------------
// Building the component.

/// Builds the plugin crate in `plugin_dir` for wasm32-wasip2 (release) and returns the
/// component's path. Cargo is asked where its workspace and target directory are
/// (`CARGO_TARGET_DIR` and `.cargo/config.toml` included); its output goes to stderr.
fn build(plugin_dir: &Path) -> Result<PathBuf, Fatal> {
    let manifest = plugin_dir.join("Cargo.toml").canonicalize().map_err(|e| {
        Fatal::input(anyhow!(
            "{}: no Cargo.toml ({e}); is this a plugin crate's directory?",
            plugin_dir.display()
        ))
    })?;
    let crate_dir = manifest.parent().unwrap_or(plugin_dir).to_path_buf();
    let metadata = cargo_metadata(&crate_dir, &manifest)?;
    let field = |name: &str| {
        metadata[name]
            .as_str()
            .map(PathBuf::from)
            .ok_or_else(|| Fatal::input(anyhow!("`cargo metadata` gave no {name}")))
    };
    let workspace = field("workspace_root")?;
    let target = field("target_directory")?;
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["manifest_path"].as_str().map(Path::new) == Some(manifest.as_path()))
        .and_then(|p| p["name"].as_str())
        .ok_or_else(|| {
            Fatal::input(anyhow!(
                "{} is not a member of the workspace at {}; add it to `members`",
                manifest.display(),
                workspace.display()
            ))
        })?
        .to_owned();

    eprintln!("hubfix test: building {package} for {WASM_TARGET}…");
    let mut build = cargo();
    build
        // rustup finds the workspace's toolchain (and its wasm target) from here.
        .current_dir(&workspace)
        .args([
            "build",
            "--release",
            "--target",
            WASM_TARGET,
            "--manifest-path",
        ])
        .arg(workspace.join("Cargo.toml"))
        .args(["-p", &package])
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()));
    let status = build
        .status()
        .map_err(|e| Fatal::input(anyhow!("cannot run cargo: {e}")))?;
    if !status.success() {
        return Err(Fatal::input(anyhow!(
            "building {package} failed ({status}); see cargo's output above"
        )));
    }
    let component = target
        .join(WASM_TARGET)
        .join("release")
        .join(format!("{}.wasm", package.replace('-', "_")));
    if !component.is_file() {
        return Err(Fatal::input(anyhow!(
            "the build left no component at {}; is {package} a `cdylib`?",
            component.display()
        )));
    }
    Ok(component)
}

fn cargo_metadata(dir: &Path, manifest: &Path) -> Result<Value, Fatal> {
    let out = cargo()
        .current_dir(dir)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(manifest)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Fatal::input(anyhow!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(Fatal::input(anyhow!(
            "`cargo metadata` for {} failed ({})",
            manifest.display(),
            out.status
        )));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| Fatal::input(anyhow!("`cargo metadata` printed no JSON: {e}")))
}

/// The cargo that runs this (`$CARGO` under cargo), else the one on `PATH`.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")))
}

// ---------------------------------------------------------------------------------------
// The emulator, when the environment names no endpoint.

/// Starts the project's emulator (`cargo xtask emulator start`, which reuses a running one)
/// and runs this same command again with the environment pointing at it.
fn against_started_emulator(args: &TestArgs) -> Result<u8, Fatal> {
    if std::env::var_os(STARTED_EMULATOR).is_some() {
        return Err(Fatal::input(anyhow!(
            "AWS_ENDPOINT_URL is still unset after starting the emulator"
        )));
    }
    let root = repository_root(&args.plugin_dir).ok_or_else(|| {
        Fatal::input(anyhow!(
            "AWS_ENDPOINT_URL is not set, and {} is not inside the hubfix repository, whose \
             emulator `hubfix test` would start; set AWS_ENDPOINT_URL (and credentials) to the \
             AWS endpoint to test against",
            args.plugin_dir.display()
        ))
    })?;
    eprintln!(
        "hubfix test: AWS_ENDPOINT_URL is not set; starting the project's emulator \
         (`cargo xtask emulator start` in {})…",
        root.display()
    );
    let endpoint = start_emulator(&root).map_err(Fatal::input)?;
    eprintln!(
        "hubfix test: testing against the emulator at {endpoint}; it keeps running for the \
         next test (`cargo xtask emulator stop` stops it)"
    );
    let port = endpoint.rsplit(':').next().unwrap_or_default().to_owned();
    let exe = std::env::current_exe()
        .map_err(|e| Fatal::input(anyhow!("cannot find the hubfix binary to run again: {e}")))?;
    let mut again = Command::new(exe);
    again.args(std::env::args_os().skip(1));
    for name in ["AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"] {
        again.env_remove(name);
    }
    again
        .env("AWS_ENDPOINT_URL", &endpoint)
        // The S3 Control client puts the account id in front of the host name; the host's
        // resolver answers `<account>.localhost` with the loopback address.
        .env(
            "AWS_ENDPOINT_URL_S3_CONTROL",
            format!("http://localhost:{port}"),
        )
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(STARTED_EMULATOR, "1");
    if std::env::var_os("AWS_REGION").is_none() {
        again.env("AWS_REGION", hubfix_scenario::DEFAULT_REGION);
    }
    let status = again
        .status()
        .map_err(|e| Fatal::input(anyhow!("cannot run hubfix again: {e}")))?;
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(2))
}

/// The hubfix repository holding `dir`: the nearest ancestor with `xtask/` and the emulator.
fn repository_root(dir: &Path) -> Option<PathBuf> {
    let dir = dir.canonicalize().ok()?;
    dir.ancestors()
        .find(|d| d.join("xtask/Cargo.toml").is_file() && d.join("emulator/moto_ext.py").is_file())
        .map(Path::to_path_buf)
}

/// `cargo xtask emulator start` in `root`; the endpoint is the last line it prints.
fn start_emulator(root: &Path) -> anyhow::Result<String> {
    let out = cargo()
        .current_dir(root)
        .args(["xtask", "emulator", "start"])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run `cargo xtask emulator start`")?;
    if !out.status.success() {
        anyhow::bail!("`cargo xtask emulator start` failed ({})", out.status);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with("http://"))
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("`cargo xtask emulator start` printed no endpoint: {stdout}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_is_found_from_a_plugin_directory() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = repository_root(&here.join("../plugins/ec2-ebs-default-encryption")).unwrap();
        assert!(root.join("xtask/Cargo.toml").is_file());
        assert_eq!(repository_root(Path::new("/")), None);
    }
}
