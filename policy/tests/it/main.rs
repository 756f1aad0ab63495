//! Integration tests of the policy crate, one binary.
//!
//! - `decide`: table-driven decisions over finding fixtures of every format
//!   (`policy/tests/findings/*.json`), finding states, exceptions (with expiry) and overrides.
//! - `declared`: controls the catalog lacks, declared by the policy, in every finding format.
//! - `cases`: bad policies as data, `tests/cases/policy/<name>/{*.toml, error.txt}`.
//! - `generated`: `docs/controls.md` and the policy JSON Schema match what the code generates
//!   (`HUBFIX_BLESS=1` rewrites them), and the shipped policy covers the whole catalog.
//! - `props`: property tests, `decide` never panics on arbitrary JSON.

// `cfg(test)` lets the workspace's clippy settings (unwrap, expect and panic allowed in tests)
// cover the helpers too, not only the `#[test]` functions.
#[cfg(test)]
mod cases;
#[cfg(test)]
mod decide;
#[cfg(test)]
mod declared;
#[cfg(test)]
mod generated;
#[cfg(test)]
mod props;
#[cfg(test)]
mod support;
