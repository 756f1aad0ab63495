//! Shared helpers: repository paths, fixtures, the shipped policy.

use std::path::PathBuf;

use hubfix_policy::{Date, Policy};
use serde_json::Value;

/// The repository root (the policy crate's parent directory).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A finding fixture from `policy/tests/findings/`.
pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/findings")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The policy in the repository's `policies/` directory, read from disk.
pub fn shipped() -> Policy {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(repo().join("policies")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = format!("policies/{}", path.file_name().unwrap().to_string_lossy());
            files.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    files.sort();
    Policy::from_files(&files).unwrap_or_else(|e| panic!("shipped policy is invalid:\n{e}"))
}

/// A fixed "today" for tests.
pub fn today() -> Date {
    Date::parse("2026-03-01").unwrap()
}
