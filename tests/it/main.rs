//! Integration tests: real compiled plugins, real aws-sdk-rust clients, the moto emulator
//! reached through `AWS_ENDPOINT_URL`. Run with `cargo xtask test`; without the emulator
//! environment every test here prints why it skips and passes.

/// Shared setup: a runtime per test, loading plugins, running findings.
mod common;

/// Every plugin's scenarios (`plugins/*/scenarios/*.toml`), each in two fresh member
/// accounts: setup, plan, fix, run again; and the scenario calls S3 Control needs.
mod scenarios;

/// Load-time capability checks and per-call scope checks.
mod capability;

/// Misbehaving guests: deadline, memory limit, traps, call budget; the host keeps serving.
mod limits;

/// The most heap a test thread held while a future ran (a counting allocator).
mod peak;

/// The S3 registry: publish, hot reload, rollback, tampering, S3 outages.
mod registry;

/// Bad input: malformed findings, findings without what the plugin needs, tampered bytes.
mod input;

/// The crates agree on the contract: the policy grants what the host provides.
mod contract;

/// The Security-account pipeline: rule, state machine order, router, host, archiver,
/// throttling, dead letters, replay.
mod pipeline;
