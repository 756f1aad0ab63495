//! `cargo xtask ci`: what CI runs (`.ci/run` calls nothing else). Formatting and
//! lints first, so they fail fast, then the deploy templates, then everything `test` does.

use anyhow::Result;

use crate::cmd::{self, TestCounts};
use crate::deploy;
use crate::lambdas;
use crate::paths::Paths;
use crate::steps::Steps;
use crate::test;

pub fn run(paths: &Paths, cargo_test_args: &[String]) -> Result<()> {
    let mut steps = Steps::default();
    let mut counts = TestCounts::default();
    let result = run_steps(paths, cargo_test_args, &mut steps, &mut counts);
    test::finish(&steps, &counts, result)
}

fn run_steps(
    paths: &Paths,
    cargo_test_args: &[String],
    steps: &mut Steps,
    counts: &mut TestCounts,
) -> Result<()> {
    let plugin_manifest = paths.require_plugin_manifest()?;
    steps.run("rustfmt (workspace)", || {
        cmd::run(cmd::cargo(paths).args(["fmt", "--all", "--", "--check"]))
    })?;
    steps.run("rustfmt (plugins)", || {
        cmd::run(
            cmd::cargo(paths)
                .args(["fmt", "--all", "--manifest-path"])
                .arg(&plugin_manifest)
                .args(["--", "--check"]),
        )
    })?;
    steps.run("clippy (workspace)", || {
        cmd::run(cmd::cargo(paths).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    steps.run("generated files (cargo xtask codegen --check)", || {
        crate::codegen::run(&paths.root, true)
    })?;
    steps.run("deploy templates (cfn-lint, asl-validator)", || {
        deploy::validate(paths)
    })?;
    steps.run(
        "lambda dependencies (each links only its SDK crates)",
        || lambdas::check(paths),
    )?;
    test::run_steps(paths, cargo_test_args, steps, counts)
}
