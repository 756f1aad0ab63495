//! `hubfix`: check remediation plugins and run findings through them.
//!
//! Exit codes: 0 success; 1 a remediation ended `failed` or `denied`; 2 bad input or a
//! refused plugin (integrity, grants, not a component).

/// `println!` that ends the process quietly when stdout is closed (`hubfix … | head`).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::emit(format_args!($($arg)*))
    };
}

mod backfill;
mod check;
mod functions;
mod history;
mod new;
mod policy;
mod registry;
mod run;
mod table;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "hubfix",
    version,
    about = "Automated remediation of Security Hub findings"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run findings through a plugin against the AWS endpoint the environment configures
    /// (AWS_ENDPOINT_URL for the local emulator).
    Run(run::RunArgs),
    /// List a plugin's imported host functions and whether grants cover them.
    Check(check::CheckArgs),
    /// List the host functions a policy can grant: operation, IAM actions, scope.
    Functions(functions::FunctionsArgs),
    /// Validate policies and explain decisions.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Check plugins against the policy's grants and publish them to the S3 registry.
    Publish(registry::PublishArgs),
    /// Create a P-256 signing key for `publish --sign` (the public key for
    /// HUBFIX_TRUSTED_KEYS beside it).
    Keygen(registry::KeygenArgs),
    /// Inspect the S3 registry or roll a plugin back.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Decide, remediate and update the findings that are already failing (GetFindings,
    /// at most 3 requests per second), through the pipeline's decision and update path.
    Backfill(backfill::BackfillArgs),
    /// List the remediations the audit trail holds (HUBFIX_AUDIT_URL), newest first.
    History(history::HistoryArgs),
    /// Run a plugin against its scenarios (PLUGIN_DIR/scenarios/*.toml), each in two fresh
    /// member accounts: setup, plan, fix, run again.
    Test(test::TestArgs),
    /// Write a new plugin crate (a worked example with a scenario) and its policy entries.
    New(new::NewArgs),
}

/// How results are printed.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Output {
    /// Human-readable table.
    #[default]
    Table,
    /// JSON with stable snake_case field names.
    Json,
}

/// A failure of the command itself, with its exit code.
#[derive(Debug)]
pub struct Fatal {
    code: u8,
    error: anyhow::Error,
}

impl Fatal {
    /// Bad input or a refused plugin: exit code 2.
    pub fn input(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: 2,
            error: error.into(),
        }
    }
}

/// AWS configuration for commands that never call AWS (inspecting or describing a
/// component): nothing is read from the environment or the network.
pub fn offline_aws_config() -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build()
}

/// Reads a file, naming it in the error.
pub fn read_file(path: &PathBuf) -> Result<Vec<u8>, Fatal> {
    std::fs::read(path)
        .map_err(|e| Fatal::input(anyhow::anyhow!("cannot read {}: {e}", path.display())))
}

/// Writes one line to stdout; a closed pipe ends the process with success.
pub fn emit(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_fmt(args)
        .and_then(|()| stdout.write_all(b"\n"));
    if let Err(e) = written {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HUBFIX_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run::run(args).await,
            Command::Check(args) => check::check(args).await,
            Command::Functions(args) => functions::functions(args),
            Command::Policy(command) => policy::policy(command).await,
            Command::Publish(args) => registry::publish(args).await,
            Command::Keygen(args) => registry::keygen(args).await,
            Command::Registry(command) => registry::registry(command).await,
            Command::Backfill(args) => backfill::backfill(args).await,
            Command::History(args) => history::history(args).await,
            Command::Test(args) => test::test(args).await,
            Command::New(args) => new::new(args),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(fatal) => {
            eprintln!("error: {:#}", fatal.error);
            ExitCode::from(fatal.code)
        }
    }
}
