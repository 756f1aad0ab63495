//! `cargo xtask demo`: the whole thing, locally, against an emulator of its own.

use anyhow::Result;

use crate::cmd;
use crate::emulator::Instance;
use crate::paths::Paths;
use crate::plugins;
use crate::test::set_emulator_env;

pub fn run(paths: &Paths, demo_args: &[String]) -> Result<()> {
    let plugin_dir = plugins::build(paths)?;
    // The CLI is built before the emulator starts, so it does not idle through the build.
    eprintln!("xtask: building the hubfix CLI and the host Lambda…");
    cmd::run(cmd::cargo(paths).args(["build", "-p", "hubfix", "-p", "hubfix-host-lambda"]))?;
    let hubfix_bin = paths.target.join("debug").join("hubfix");
    let host_lambda_bin = paths.target.join("debug").join("hubfix-host-lambda");

    let mut emulator = Instance::start(paths)?;
    let mut demo = cmd::cargo(paths);
    demo.args(["run", "-q", "-p", "hubfix-tests", "--bin", "demo"]);
    if !demo_args.is_empty() {
        demo.arg("--").args(demo_args);
    }
    set_emulator_env(&mut demo, &emulator.endpoint(), &plugin_dir);
    demo.env("HUBFIX_BIN", &hubfix_bin);
    demo.env("HUBFIX_HOST_LAMBDA_BIN", &host_lambda_bin);
    let result = cmd::run(&mut demo);
    if result.is_err() {
        emulator.keep_log();
    }
    result
}
