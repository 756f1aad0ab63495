//! `cargo xtask <task>`: the project's automation, in Rust rather than shell scripts.
//!
//! Every task prints its progress to stderr as `xtask: …` lines; results that a script
//! may want (the emulator endpoint, the plugin table, test totals) go to stdout.
//! `cargo xtask ci` green locally means CI green: `.ci/run` calls nothing else.

mod bench;
mod ci;
mod cmd;
mod codegen;
mod demo;
mod deploy;
mod emulator;
mod hack;
mod lambdas;
mod paths;
mod plugins;
mod prune;
mod steps;
mod test;
mod venv;

use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::paths::Paths;

const HELP: &str = "\
cargo xtask <task> [options]

Tasks:
  plugins                     build the plugin components (wasm32-wasip2, release)
                              and copy them to <target>/plugins with their sha256
  emulator start [--port N]   start the local AWS emulator (moto server) in the
                              background, or reuse the running one; prints its endpoint
  emulator stop               stop it
  emulator status             print its endpoint, or \"not running\"
  test [ARGS] [-- TEST ARGS]  plugins, a fresh emulator, `cargo test --workspace ARGS
                              -- TEST ARGS`, then the plugins' native unit tests
                              (e.g. `cargo xtask test -- --nocapture`)
  ci [ARGS] [-- TEST ARGS]    rustfmt and clippy checks, `validate`, then `test`
  validate                    the deploy templates: cfn-lint on deploy/*.yaml,
                              asl-validator on deploy/statemachine/*.asl.json, and
                              the EventBridge pattern and substitution checks
  demo [-- DEMO ARGS]         plugins, a fresh emulator, the hubfix CLI, then the
                              demo binary of hubfix-tests
  codegen [--check]           rewrite the files derived from contract/src/table/
                              and the shipped policy (world imports, host services,
                              member role, policy schema, docs); --check fails on
                              stale ones instead
  prune                       delete from <target>/debug the dependency builds that no
                              build of the workspace uses any more (an old lockfile
                              or feature set left them); builds what is missing first
  bench                       the numbers of docs/performance.md: criterion warm-path
                              bench, whole-process cold starts against the emulator's
                              S3 registry, plugin and binary sizes (release build)

Environment:
  CARGO_TARGET_DIR  target directory of both workspaces
                    (default: ./target and plugins/target)
  HUBFIX_CACHE      emulator virtualenv, state file and logs (default: ~/.cache/hubfix)
";

/// One invocation of `cargo xtask`, parsed.
#[derive(Debug, PartialEq, Eq)]
enum Task {
    Help,
    Plugins,
    Emulator(EmulatorTask),
    /// Arguments appended to `cargo test` (a `--` among them separates the test
    /// binaries' own arguments, as with `cargo test` itself).
    Test(Vec<String>),
    Ci(Vec<String>),
    /// Arguments for the demo binary.
    Demo(Vec<String>),
    Bench,
    Prune,
    Validate,
    Codegen {
        check: bool,
    },
}

#[derive(Debug, PartialEq, Eq)]
enum EmulatorTask {
    Start { port: Option<u16> },
    Stop,
    Status,
}

fn parse_args(args: &[String]) -> Result<Task> {
    let Some((task, rest)) = args.split_first() else {
        return Ok(Task::Help);
    };
    let no_args = |task: Task| -> Result<Task> {
        match rest.first() {
            None => Ok(task),
            Some(arg) => bail!("unexpected argument `{arg}` (see `cargo xtask --help`)"),
        }
    };
    match task.as_str() {
        "-h" | "--help" | "help" => Ok(Task::Help),
        "plugins" => no_args(Task::Plugins),
        "test" => Ok(Task::Test(rest.to_vec())),
        "ci" => Ok(Task::Ci(rest.to_vec())),
        "bench" => no_args(Task::Bench),
        "prune" => no_args(Task::Prune),
        "validate" => no_args(Task::Validate),
        "codegen" => match rest {
            [] => Ok(Task::Codegen { check: false }),
            [flag] if flag == "--check" => Ok(Task::Codegen { check: true }),
            [arg, ..] => bail!("unexpected argument `{arg}` (codegen takes only --check)"),
        },
        "demo" => match rest.split_first() {
            None => Ok(Task::Demo(Vec::new())),
            Some((sep, demo_args)) if sep == "--" => Ok(Task::Demo(demo_args.to_vec())),
            Some((arg, _)) => {
                bail!("unexpected argument `{arg}`: pass demo arguments after `--`")
            }
        },
        "emulator" => parse_emulator_args(rest).map(Task::Emulator),
        other => bail!("unknown task `{other}` (see `cargo xtask --help`)"),
    }
}

fn parse_emulator_args(args: &[String]) -> Result<EmulatorTask> {
    let Some((action, rest)) = args.split_first() else {
        bail!("missing emulator action: start, stop or status");
    };
    match action.as_str() {
        "start" => {
            let mut port = None;
            let mut rest = rest.iter();
            while let Some(arg) = rest.next() {
                let value = match arg.strip_prefix("--port=") {
                    Some(value) => value,
                    None if arg == "--port" => match rest.next() {
                        Some(value) => value.as_str(),
                        None => bail!("`--port` needs a value"),
                    },
                    None => bail!("unexpected argument `{arg}` for `emulator start`"),
                };
                let parsed: u16 = value
                    .parse()
                    .map_err(|_| anyhow::anyhow!("invalid port `{value}`"))?;
                if parsed == 0 {
                    bail!("invalid port `0`: leave `--port` out to pick a free port");
                }
                port = Some(parsed);
            }
            Ok(EmulatorTask::Start { port })
        }
        "stop" | "status" => {
            if let Some(arg) = rest.first() {
                bail!("unexpected argument `{arg}` for `emulator {action}`");
            }
            Ok(if action == "stop" {
                EmulatorTask::Stop
            } else {
                EmulatorTask::Status
            })
        }
        other => bail!("unknown emulator action `{other}`: expected start, stop or status"),
    }
}

fn run(task: Task) -> Result<()> {
    if task == Task::Help {
        print!("{HELP}");
        return Ok(());
    }
    let paths = Paths::from_env()?;
    match task {
        Task::Help => Ok(()),
        Task::Plugins => plugins::build(&paths).map(|_| ()),
        Task::Emulator(EmulatorTask::Start { port }) => emulator::start(&paths, port),
        Task::Emulator(EmulatorTask::Stop) => emulator::stop(&paths),
        Task::Emulator(EmulatorTask::Status) => emulator::status(&paths),
        Task::Test(args) => test::run(&paths, &args),
        Task::Ci(args) => ci::run(&paths, &args),
        Task::Demo(args) => demo::run(&paths, &args),
        Task::Bench => bench::run(&paths),
        Task::Prune => prune::run(&paths),
        Task::Validate => deploy::validate(&paths),
        Task::Codegen { check } => codegen::run(&paths.root, check),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_args(&args).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Task> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_args(&args)
    }

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn no_task_or_help_flag_prints_help() {
        assert_eq!(parse(&[]).unwrap(), Task::Help);
        assert_eq!(parse(&["--help"]).unwrap(), Task::Help);
        assert_eq!(parse(&["-h"]).unwrap(), Task::Help);
        assert_eq!(parse(&["help"]).unwrap(), Task::Help);
    }

    #[test]
    fn unknown_task_is_an_error_naming_it() {
        let err = parse(&["bogus"]).unwrap_err().to_string();
        assert!(err.contains("`bogus`"), "{err}");
    }

    #[test]
    fn plugins_takes_no_arguments() {
        assert_eq!(parse(&["plugins"]).unwrap(), Task::Plugins);
        assert!(parse(&["plugins", "x"]).is_err());
    }

    #[test]
    fn validate_takes_no_arguments() {
        assert_eq!(parse(&["validate"]).unwrap(), Task::Validate);
        assert!(parse(&["validate", "deploy"]).is_err());
    }

    #[test]
    fn test_and_ci_pass_everything_through() {
        assert_eq!(parse(&["test"]).unwrap(), Task::Test(vec![]));
        assert_eq!(
            parse(&["test", "--", "--nocapture"]).unwrap(),
            Task::Test(strings(&["--", "--nocapture"]))
        );
        assert_eq!(
            parse(&["ci", "-p", "hubfix-host"]).unwrap(),
            Task::Ci(strings(&["-p", "hubfix-host"]))
        );
    }

    #[test]
    fn demo_arguments_come_after_a_separator() {
        assert_eq!(parse(&["demo"]).unwrap(), Task::Demo(vec![]));
        assert_eq!(
            parse(&["demo", "--", "--fast"]).unwrap(),
            Task::Demo(strings(&["--fast"]))
        );
        assert!(parse(&["demo", "--fast"]).is_err());
    }

    #[test]
    fn emulator_actions() {
        assert_eq!(
            parse(&["emulator", "start"]).unwrap(),
            Task::Emulator(EmulatorTask::Start { port: None })
        );
        assert_eq!(
            parse(&["emulator", "start", "--port", "5055"]).unwrap(),
            Task::Emulator(EmulatorTask::Start { port: Some(5055) })
        );
        assert_eq!(
            parse(&["emulator", "start", "--port=5056"]).unwrap(),
            Task::Emulator(EmulatorTask::Start { port: Some(5056) })
        );
        assert_eq!(
            parse(&["emulator", "stop"]).unwrap(),
            Task::Emulator(EmulatorTask::Stop)
        );
        assert_eq!(
            parse(&["emulator", "status"]).unwrap(),
            Task::Emulator(EmulatorTask::Status)
        );
    }

    #[test]
    fn emulator_bad_arguments() {
        assert!(parse(&["emulator"]).is_err());
        assert!(parse(&["emulator", "restart"]).is_err());
        assert!(parse(&["emulator", "start", "--port"]).is_err());
        assert!(parse(&["emulator", "start", "--port", "http"]).is_err());
        assert!(parse(&["emulator", "start", "--port", "70000"]).is_err());
        assert!(parse(&["emulator", "start", "--port", "0"]).is_err());
        assert!(parse(&["emulator", "stop", "now"]).is_err());
    }
}
