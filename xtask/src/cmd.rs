//! Running child commands: every one is echoed to stderr, and a failure names the
//! command and its exit code.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{Context, Result, bail};

use crate::paths::Paths;

/// A `cargo` command run from the repository root, with the same cargo binary (and
/// so the same toolchain) that runs xtask, and `$CARGO_TARGET_DIR` made absolute.
pub fn cargo(paths: &Paths) -> Command {
    let mut cmd = cargo_at(&paths.root);
    if let Some(target) = &paths.explicit_target {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    cmd
}

/// A `cargo` command (the cargo that runs xtask) run from `root`, for tasks that need no
/// target directory (`cargo tree`, `cargo metadata`).
pub fn cargo_at(root: &std::path::Path) -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.current_dir(root);
    cmd
}

/// The command as a user would type it. Cargo is shown as `cargo`, not as the full
/// path of the toolchain's binary.
pub fn describe(cmd: &Command) -> String {
    let program = std::path::Path::new(cmd.get_program());
    let mut text = if program.file_name().is_some_and(|name| name == "cargo") {
        "cargo".to_owned()
    } else {
        program.to_string_lossy().into_owned()
    };
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        text.push(' ');
        if arg.is_empty() || arg.contains(char::is_whitespace) {
            text.push_str(&format!("'{arg}'"));
        } else {
            text.push_str(&arg);
        }
    }
    text
}

/// Explains a non-successful exit status.
fn failure(description: &str, status: ExitStatus) -> anyhow::Error {
    match (status.code(), status.signal()) {
        (Some(code), _) => anyhow::anyhow!("`{description}` failed with exit code {code}"),
        (None, Some(signal)) => anyhow::anyhow!("`{description}` was killed by signal {signal}"),
        (None, None) => anyhow::anyhow!("`{description}` failed ({status})"),
    }
}

/// Runs `cmd` to completion with inherited stdio.
pub fn run(cmd: &mut Command) -> Result<()> {
    let description = describe(cmd);
    eprintln!("xtask: $ {description}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{description}`"))?;
    if !status.success() {
        return Err(failure(&description, status));
    }
    Ok(())
}

/// Runs `cmd` with its stdout sent to our stderr, so that helper tools (pip, venv)
/// never mix their chatter into what a task prints on stdout.
pub fn run_quietly_to_stderr(cmd: &mut Command) -> Result<()> {
    let stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .context("cannot duplicate stderr")?;
    cmd.stdout(Stdio::from(stderr));
    run(cmd)
}

/// Runs `cmd` and returns its stdout (stderr is inherited).
pub fn output(cmd: &mut Command) -> Result<String> {
    let description = describe(cmd);
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{description}`"))?;
    if !out.status.success() {
        return Err(failure(&description, out.status));
    }
    String::from_utf8(out.stdout)
        .with_context(|| format!("`{description}` printed non-UTF-8 output"))
}

/// Totals over the `test result:` lines of one or more `cargo test` runs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TestCounts {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl TestCounts {
    /// Adds the numbers of a libtest summary line such as
    /// `test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; …`.
    /// Other lines are ignored.
    pub fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim_start().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split([';', '.']) {
            let mut words = part.split_whitespace();
            let (Some(number), Some(word)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            match word {
                "passed" => self.passed += number,
                "failed" => self.failed += number,
                "ignored" => self.ignored += number,
                _ => {}
            }
        }
    }

    pub fn add(&mut self, other: TestCounts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }

    /// The closing line in the plain form CI reads: `total: N passed, N failed, N skipped`.
    pub fn closing_line(&self) -> String {
        format!(
            "total: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.ignored
        )
    }
}

/// Runs a `cargo test` command, copying its stdout through line by line and
/// counting the results. The counts are returned even when the command fails.
pub fn run_tests(cmd: &mut Command) -> (TestCounts, Result<()>) {
    run_tests_into(cmd, &mut std::io::stdout())
}

/// [`run_tests`], copying the output to `out`.
fn run_tests_into(cmd: &mut Command, out: &mut impl Write) -> (TestCounts, Result<()>) {
    let mut counts = TestCounts::default();
    let result = run_tests_inner(cmd, &mut counts, out);
    (counts, result)
}

fn run_tests_inner(cmd: &mut Command, counts: &mut TestCounts, out: &mut impl Write) -> Result<()> {
    run_copying(cmd, Pipe::Stdout, out, |line| counts.add_line(line))
}

/// Which output of a child [`run_copying`] reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pipe {
    /// Its stdout (libtest's report).
    Stdout,
    /// Its stderr (unittest's report).
    Stderr,
}

/// Runs `cmd`, copying `pipe` through to `out` line by line and handing each line to
/// `each_line`; fails when the command does.
pub fn run_copying(
    cmd: &mut Command,
    pipe: Pipe,
    out: &mut impl Write,
    mut each_line: impl FnMut(&str),
) -> Result<()> {
    let description = describe(cmd);
    eprintln!("xtask: $ {description}");
    match pipe {
        Pipe::Stdout => cmd.stdout(Stdio::piped()),
        Pipe::Stderr => cmd.stderr(Stdio::piped()),
    };
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start `{description}`"))?;
    let stream: Option<Box<dyn std::io::Read>> = match pipe {
        Pipe::Stdout => child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read>),
        Pipe::Stderr => child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read>),
    };
    if let Some(stream) = stream {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {
                    each_line(&String::from_utf8_lossy(&line));
                    // A closed output (e.g. `| head`) must not stop the tests.
                    let _ = out.write_all(&line).and_then(|()| out.flush());
                }
                Err(err) => {
                    eprintln!("xtask: cannot read the output of `{description}`: {err}");
                    break;
                }
            }
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("could not wait for `{description}`"))?;
    if !status.success() {
        return Err(failure(&description, status));
    }
    Ok(())
}

/// Fails unless every result is `Ok`, listing all the failures.
pub fn all_ok(results: Vec<Result<()>>) -> Result<()> {
    let errors: Vec<String> = results
        .into_iter()
        .filter_map(|result| result.err())
        .map(|err| format!("{err:#}"))
        .collect();
    match errors.len() {
        0 => Ok(()),
        1 => bail!("{}", errors.join("")),
        _ => bail!("{} steps failed: {}", errors.len(), errors.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_shortens_cargo_and_quotes_spaces() {
        let mut cmd = Command::new("/opt/rust/bin/cargo");
        cmd.args(["test", "--workspace", "a b", ""]);
        assert_eq!(describe(&cmd), "cargo test --workspace 'a b' ''");
        let cmd = Command::new("/venv/bin/python");
        assert_eq!(describe(&cmd), "/venv/bin/python");
    }

    #[test]
    fn failures_name_the_command_and_exit_code() {
        let err = run(Command::new("sh").args(["-c", "exit 3"])).unwrap_err();
        assert_eq!(err.to_string(), "`sh -c 'exit 3'` failed with exit code 3");
    }

    #[test]
    fn a_missing_program_is_a_clear_error() {
        let err = run(&mut Command::new("hubfix-no-such-program")).unwrap_err();
        assert_eq!(err.to_string(), "could not start `hubfix-no-such-program`");
    }

    #[test]
    fn output_returns_stdout() {
        let out = output(Command::new("sh").args(["-c", "echo hi"])).unwrap();
        assert_eq!(out, "hi\n");
    }

    #[test]
    fn counts_libtest_summary_lines() {
        let mut counts = TestCounts::default();
        counts.add_line(
            "test result: ok. 12 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.31s",
        );
        counts.add_line(
            "test result: FAILED. 1 passed; 3 failed; 0 ignored; 0 measured; 5 filtered out",
        );
        counts.add_line("test foo::bar ... ok");
        counts.add_line("running 3 tests");
        assert_eq!(
            counts,
            TestCounts {
                passed: 13,
                failed: 3,
                ignored: 2
            }
        );
        assert_eq!(
            counts.closing_line(),
            "total: 13 passed, 3 failed, 2 skipped"
        );
    }

    #[test]
    fn run_tests_copies_and_counts() {
        let mut copy = Vec::new();
        let (counts, result) = run_tests_into(
            Command::new("sh").args([
                "-c",
                "echo 'test result: ok. 2 passed; 0 failed; 0 ignored'; exit 101",
            ]),
            &mut copy,
        );
        assert_eq!(counts.passed, 2);
        assert_eq!(copy, b"test result: ok. 2 passed; 0 failed; 0 ignored\n");
        assert!(result.unwrap_err().to_string().contains("exit code 101"));
    }

    #[test]
    fn all_ok_lists_every_failure() {
        assert!(all_ok(vec![Ok(()), Ok(())]).is_ok());
        let err = all_ok(vec![
            Err(anyhow::anyhow!("one")),
            Ok(()),
            Err(anyhow::anyhow!("two")),
        ])
        .unwrap_err();
        assert_eq!(err.to_string(), "2 steps failed: one; two");
    }
}
