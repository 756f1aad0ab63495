//! `cargo xtask test`: the project's one test command.
//!
//! Builds the plugins, runs the emulator extension's own Python tests, starts emulators
//! of its own (one per core, [`emulator::count`]), runs the root workspace's tests
//! against them, then the plugins' native unit tests. Every test run happens even when an earlier one fails; the task
//! fails if any does.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

use crate::cmd::{self, TestCounts};
use crate::emulator::{self, Instance};
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

    let emulator_tests = steps.run("tests (emulator extension)", || {
        let (run_counts, result) = run_emulator_tests(paths);
        counts.add(run_counts);
        result
    });

    let workspace = steps.run("tests (workspace, against the emulator)", || {
        let mut emulators = Instance::start_many(paths, emulator::count()?)?;
        let endpoints: Vec<String> = emulators.iter().map(Instance::endpoint).collect();
        let mut cargo_test = cmd::cargo(paths);
        cargo_test.args(root_test_args(cargo_test_args));
        set_emulator_env(&mut cargo_test, &endpoints[0], &plugin_dir);
        cargo_test.env(SCENARIO_ENDPOINTS_VAR, endpoints.join(","));
        let (run_counts, result) = cmd::run_tests(&mut cargo_test);
        counts.add(run_counts);
        if result.is_err() {
            emulators.iter_mut().for_each(Instance::keep_log);
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

    cmd::all_ok(vec![emulator_tests, workspace, plugin_tests])
}

/// Where the emulator extension's tests are, relative to the repository root.
const EMULATOR_TESTS: &str = "emulator/tests";

/// `python -m unittest discover -s emulator/tests -v` with the emulator venv's python:
/// the tests of `emulator/moto_ext.py`, which start a server of their own.
fn run_emulator_tests(paths: &Paths) -> (TestCounts, Result<()>) {
    let python = match emulator::ensure_venv(paths) {
        Ok(python) => python,
        Err(err) => return (TestCounts::default(), Err(err)),
    };
    let mut unittest = Command::new(python);
    unittest
        .current_dir(&paths.root)
        .args(["-m", "unittest", "discover", "-s", EMULATOR_TESTS, "-v"])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    let (counts, result) = run_unittest(&mut unittest, &mut std::io::stderr());
    let result = result.and_then(|()| {
        if counts == TestCounts::default() {
            bail!("no tests ran in {EMULATOR_TESTS}");
        }
        Ok(())
    });
    (counts, result)
}

/// Runs a `python -m unittest` command, copying its report (which unittest writes to
/// stderr) through to `out`, and counts the results from the report's summary. The
/// counts are returned even when the command fails.
fn run_unittest(cmd: &mut Command, out: &mut impl Write) -> (TestCounts, Result<()>) {
    let mut report = String::new();
    let result = run_unittest_inner(cmd, &mut report, out);
    (unittest_counts(&report).unwrap_or_default(), result)
}

fn run_unittest_inner(cmd: &mut Command, report: &mut String, out: &mut impl Write) -> Result<()> {
    cmd::run_copying(cmd, cmd::Pipe::Stderr, out, |line| report.push_str(line))
}

/// The counts in a unittest report: its last `Ran N tests in …` line and the
/// `OK (skipped=S)` or `FAILED (failures=F, errors=E, skipped=S)` line after it.
/// Unexpected successes count as failures, expected failures as passes, as unittest
/// itself judges them. `None` when the report has no such summary.
fn unittest_counts(report: &str) -> Option<TestCounts> {
    let lines: Vec<&str> = report.lines().map(str::trim).collect();
    let ran_at = lines.iter().rposition(|line| {
        line.strip_prefix("Ran ")
            .and_then(|rest| rest.split_whitespace().nth(1))
            .is_some_and(|word| word == "test" || word == "tests")
    })?;
    let ran: u64 = lines[ran_at]
        .split_whitespace()
        .nth(1)
        .and_then(|number| number.parse().ok())?;
    let verdict = lines[ran_at + 1..]
        .iter()
        .rev()
        .find(|line| line.starts_with("OK") || line.starts_with("FAILED"))?;
    let mut failed = 0;
    let mut skipped = 0;
    if let Some(details) = verdict
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
    {
        for item in details.split(',') {
            let Some((name, number)) = item.split_once('=') else {
                continue;
            };
            let Ok(number) = number.trim().parse::<u64>() else {
                continue;
            };
            match name.trim() {
                "failures" | "errors" | "unexpected successes" => failed += number,
                "skipped" => skipped += number,
                _ => {}
            }
        }
    }
    Some(TestCounts {
        passed: ran.saturating_sub(failed + skipped),
        failed,
        ignored: skipped,
    })
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
    // Every test binary runs even when an earlier one fails, so one run shows every failure.
    let mut args = vec!["test".to_owned(), "--no-fail-fast".to_owned()];
    if !picks_packages {
        args.push("--workspace".to_owned());
    }
    args.extend(extra.iter().cloned());
    args
}

/// Every emulator of the run, comma-separated, the first being `AWS_ENDPOINT_URL`'s: the
/// plugin scenarios spread over them (each works in fresh accounts of its own).
const SCENARIO_ENDPOINTS_VAR: &str = "HUBFIX_SCENARIO_ENDPOINTS";

/// The environment that points the tests (and the demo) at the emulator.
pub fn emulator_env(endpoint: &str, plugin_dir: &Path) -> Vec<(&'static str, OsString)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.into()),
        // S3 Control puts the account id in front of the host name: a `localhost` name,
        // which hubfix's HTTP client resolves to loopback (RFC 6761), takes it.
        (
            "AWS_ENDPOINT_URL_S3_CONTROL",
            s3_control_endpoint(endpoint).into(),
        ),
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

/// The emulator's endpoint with its host as `localhost` (`http://127.0.0.1:5000` →
/// `http://localhost:5000`), for the S3 Control client.
pub fn s3_control_endpoint(endpoint: &str) -> String {
    endpoint.replacen("://127.0.0.1", "://localhost", 1)
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
        assert_eq!(
            root_test_args(&[]),
            strings(&["test", "--no-fail-fast", "--workspace"])
        );
        assert_eq!(
            root_test_args(&strings(&["--", "--nocapture"])),
            strings(&["test", "--no-fail-fast", "--workspace", "--", "--nocapture"])
        );
        assert_eq!(
            root_test_args(&strings(&["--test", "it", "emulator::"])),
            strings(&[
                "test",
                "--no-fail-fast",
                "--workspace",
                "--test",
                "it",
                "emulator::"
            ])
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
            let mut expected = strings(&["test", "--no-fail-fast"]);
            expected.extend(picked.clone());
            assert_eq!(root_test_args(&picked), expected);
        }
        // After `--` the arguments belong to the test binaries.
        assert_eq!(
            root_test_args(&strings(&["--", "-p"])),
            strings(&["test", "--no-fail-fast", "--workspace", "--", "-p"])
        );
    }

    #[test]
    fn unittest_summaries() {
        let ok = "test_a (m.T.test_a) ... ok\n\
                  ----------------------------------------------------------------------\n\
                  Ran 54 tests in 7.669s\n\nOK\n";
        assert_eq!(
            unittest_counts(ok),
            Some(TestCounts {
                passed: 54,
                failed: 0,
                ignored: 0
            })
        );
        let skipped = "Ran 1 test in 0.001s\n\nOK (skipped=1, expected failures=2)\n";
        assert_eq!(
            unittest_counts(skipped),
            Some(TestCounts {
                passed: 0,
                failed: 0,
                ignored: 1
            })
        );
        let failed = "FAIL: test_x (m.T.test_x)\nRan 10 tests in 1.0s\n\n\
                      FAILED (failures=2, errors=1, skipped=3, unexpected successes=1)\n";
        assert_eq!(
            unittest_counts(failed),
            Some(TestCounts {
                passed: 3,
                failed: 4,
                ignored: 3
            })
        );
        // setUpModule failing: nothing ran, one error.
        let setup =
            "ERROR: setUpModule (test_moto_ext)\nRan 0 tests in 0.1s\n\nFAILED (errors=1)\n";
        assert_eq!(
            unittest_counts(setup),
            Some(TestCounts {
                passed: 0,
                failed: 1,
                ignored: 0
            })
        );
        // The last summary counts; output without one has no counts.
        let printed = "Ran 99 tests in 0s\nOK\nRan 2 tests in 0s\nOK\n";
        assert_eq!(unittest_counts(printed).map(|c| c.passed), Some(2));
        assert_eq!(unittest_counts("Ran 3 tests in 0s\n"), None);
        assert_eq!(
            unittest_counts("Traceback (most recent call last):\n"),
            None
        );
        assert_eq!(unittest_counts("Ran out of time\nOK\n"), None);
    }

    #[test]
    fn run_unittest_copies_counts_and_fails() {
        let script =
            "echo 'Ran 2 tests in 0.1s' >&2; echo >&2; echo 'FAILED (failures=1)' >&2; exit 1";
        let mut copy = Vec::new();
        let (counts, result) = run_unittest(Command::new("sh").args(["-c", script]), &mut copy);
        assert_eq!(
            counts,
            TestCounts {
                passed: 1,
                failed: 1,
                ignored: 0
            }
        );
        assert_eq!(copy, b"Ran 2 tests in 0.1s\n\nFAILED (failures=1)\n");
        assert_eq!(
            result.unwrap_err().to_string(),
            format!("`sh -c '{script}'` failed with exit code 1")
        );
        let (counts, result) = run_unittest(
            Command::new("sh").args(["-c", "echo 'Ran 1 test in 0s' >&2; echo OK >&2"]),
            &mut Vec::new(),
        );
        assert_eq!(counts.passed, 1);
        assert!(result.is_ok());
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
        assert_eq!(
            get("AWS_ENDPOINT_URL_S3_CONTROL").as_deref(),
            Some("http://localhost:5055")
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
