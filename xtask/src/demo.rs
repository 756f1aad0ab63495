//! `cargo xtask demo`: the whole thing, locally, against an emulator of its own.

use anyhow::Result;

use crate::cmd;
use crate::emulator::Instance;
use crate::paths::Paths;
use crate::plugins;
use crate::test::set_emulator_env;

pub fn run(paths: &Paths, demo_args: &[String]) -> Result<()> {
    let plugin_dir = plugins::build(paths)?;
    // Everything is built, with cargo's progress shown, before the emulator starts, so
    // it does not idle through the build: one cargo command, one feature set.
    eprintln!("xtask: building the hubfix CLI, the host Lambda and the demo…");
    cmd::run(cmd::cargo(paths).args([
        "build",
        "-p",
        "hubfix",
        "-p",
        "hubfix-host-lambda",
        "-p",
        "hubfix-tests",
        "--bin",
        "hubfix",
        "--bin",
        "hubfix-host-lambda",
        "--bin",
        "demo",
    ]))?;
    let debug = paths.target.join("debug");
    let hubfix_bin = debug.join("hubfix");
    let host_lambda_bin = debug.join("hubfix-host-lambda");

    let mut emulator = Instance::start(paths)?;
    let mut demo = std::process::Command::new(debug.join("demo"));
    demo.current_dir(&paths.root).args(demo_args);
    set_emulator_env(&mut demo, &emulator.endpoint(), &plugin_dir);
    demo.env("HUBFIX_BIN", &hubfix_bin);
    demo.env("HUBFIX_HOST_LAMBDA_BIN", &host_lambda_bin);
    let result = cmd::run(&mut demo);
    if result.is_err() {
        emulator.keep_log();
    }
    result
}
