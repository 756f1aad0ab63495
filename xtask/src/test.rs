//! `cargo xtask test`: the project's one test command.
//!
//! Builds the plugins, starts an emulator of its own, runs the root workspace's tests
//! against it, then the plugins' native unit tests. Both test runs happen even when
//! the first fails; the task fails if either does.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::cmd::{self, TestCounts};
use crate::emulator::Instance;
use crate::paths::Paths;
use crate::plugins;
use crate::steps::Steps;

/// `cargo xtask test [ARGS]`: ARGS go to the root `cargo test`.
pub fn run(paths: &Paths, cargo_test_args: &[String]) -> Result<()> {
    let mut steps = Steps::default();
    let mut counts = TestCounts::default();
    let result = run_steps(paths, cargo_test_args, &mut steps, &mut counts);
    finish(&steps, &counts, result)
}

/// The steps of `test`, recorded in `steps` (shared with `ci`).
pub fn run_steps(
    paths: &Paths,
    cargo_test_args: &[String],
    steps: &mut Steps,
    counts: &mut TestCounts,
) -> Result<()> {
    let plugin_manifest = paths.require_plugin_manifest()?;
    let plugin_dir = steps.run("plugins", || plugins::build(paths))?;

    let workspace = steps.run("tests (workspace, against the emulator)", || {
        let mut emulator = Instance::start(paths)?;
        let mut cargo_test = cmd::cargo(paths);
        cargo_test.args(root_test_args(cargo_test_args));
        set_emulator_env(&mut cargo_test, &emulator.endpoint(), &plugin_dir);
        let (run_counts, result) = cmd::run_tests(&mut cargo_test);
        counts.add(run_counts);
        if result.is_err() {
            emulator.keep_log();
        }
        result
    });

    let plugin_tests = steps.run("tests (plugins, native)", || {
        let mut cargo_test = cmd::cargo(paths);
        cargo_test
            .arg("test")
            .arg("--manifest-path")
            .arg(&plugin_manifest);
        let (run_counts, result) = cmd::run_tests(&mut cargo_test);
        counts.add(run_counts);
        result
    });

    cmd::all_ok(vec![workspace, plugin_tests])
}

/// Prints the step timings (stderr) and, when tests ran, the closing totals line
/// (stdout, last), then passes `result` on.
pub fn finish(steps: &Steps, counts: &TestCounts, result: Result<()>) -> Result<()> {
    eprint!("{}", steps.summary());
    if *counts != TestCounts::default() {
        println!("{}", counts.closing_line());
    }
    result
}

/// `cargo test` arguments for the root workspace: the whole workspace unless the
/// caller picked packages before any `--`.
fn root_test_args(extra: &[String]) -> Vec<String> {
    let own_args = extra.split(|arg| arg == "--").next().unwrap_or(&[]);
    let picks_packages = own_args.iter().any(|arg| {
        arg == "-p" || arg.starts_with("--package") || (arg.starts_with("-p") && arg.len() > 2)
    });
    let mut args = vec!["test".to_owned()];
    if !picks_packages {
        args.push("--workspace".to_owned());
    }
    args.extend(extra.iter().cloned());
    args
}

/// The environment that points the tests (and the demo) at the emulator.
pub fn emulator_env(endpoint: &str, plugin_dir: &Path) -> Vec<(&'static str, OsString)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("HUBFIX_PLUGIN_DIR", plugin_dir.into()),
        ("HUBFIX_EMULATOR", "1".into()),
        // The emulator serves S3 path-style only.
        ("HUBFIX_S3_PATH_STYLE", "1".into()),
    ]
}

/// Variables that would make the SDK use real credentials instead of the ones above.
const CLEARED_AWS_ENV: [&str; 3] = ["AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"];

pub fn set_emulator_env(cmd: &mut Command, endpoint: &str, plugin_dir: &Path) {
    for name in CLEARED_AWS_ENV {
        cmd.env_remove(name);
    }
    cmd.envs(emulator_env(endpoint, plugin_dir));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn whole_workspace_by_default() {
        assert_eq!(root_test_args(&[]), strings(&["test", "--workspace"]));
        assert_eq!(
            root_test_args(&strings(&["--", "--nocapture"])),
            strings(&["test", "--workspace", "--", "--nocapture"])
        );
        assert_eq!(
            root_test_args(&strings(&["--test", "it", "emulator::"])),
            strings(&["test", "--workspace", "--test", "it", "emulator::"])
        );
    }

    #[test]
    fn picked_packages_replace_the_workspace() {
        for picked in [
            &["-p", "hubfix-host"][..],
            &["-phubfix-host"],
            &["--package=hubfix-host"],
        ] {
            let picked = strings(picked);
            let mut expected = strings(&["test"]);
            expected.extend(picked.clone());
            assert_eq!(root_test_args(&picked), expected);
        }
        // After `--` the arguments belong to the test binaries.
        assert_eq!(
            root_test_args(&strings(&["--", "-p"])),
            strings(&["test", "--workspace", "--", "-p"])
        );
    }

    #[test]
    fn emulator_environment() {
        let env = emulator_env("http://127.0.0.1:5055", Path::new("/t/plugins"));
        let get = |name: &str| {
            env.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string_lossy().into_owned())
        };
        assert_eq!(
            get("AWS_ENDPOINT_URL").as_deref(),
            Some("http://127.0.0.1:5055")
        );
        assert_eq!(get("AWS_ACCESS_KEY_ID").as_deref(), Some("testing"));
        assert_eq!(get("AWS_SECRET_ACCESS_KEY").as_deref(), Some("testing"));
        assert_eq!(get("AWS_REGION").as_deref(), Some("us-east-1"));
        assert_eq!(get("AWS_EC2_METADATA_DISABLED").as_deref(), Some("true"));
        assert_eq!(get("HUBFIX_PLUGIN_DIR").as_deref(), Some("/t/plugins"));
        assert_eq!(get("HUBFIX_EMULATOR").as_deref(), Some("1"));
    }

    #[test]
    fn emulator_environment_clears_real_credentials() {
        let mut cmd = Command::new("true");
        set_emulator_env(&mut cmd, "http://127.0.0.1:1", Path::new("/p"));
        let envs: Vec<_> = cmd.get_envs().collect();
        for name in CLEARED_AWS_ENV {
            assert!(envs.contains(&(std::ffi::OsStr::new(name), None)), "{name}");
        }
    }
}
