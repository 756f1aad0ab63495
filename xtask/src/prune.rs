//! `cargo xtask prune`: frees the disk that dependencies compiled for an old lockfile or
//! an old feature set still hold in the target directory.
//!
//! Cargo never deletes an artifact: after `cargo update`, or once a feature set changed
//! (the workspace hack did that), every dependency compiled before stays in
//! `<target>/debug` next to its new copy. `prune` asks cargo which units the workspace's
//! own builds use now — production (`cargo build`), tests (`cargo test --no-run`),
//! lints (`cargo clippy --all-targets`), xtask itself and the plugins' native tests,
//! each reported with `--message-format=json`, building whatever is missing — and
//! deletes every other third-party unit from `deps/`, `build/` and `.fingerprint/`.
//! Packages of both workspaces are left alone (they are small, and rebuilt by the next
//! build that needs them), and so is everything outside `debug/` (release builds, the
//! plugins' wasm target).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::cmd;
use crate::paths::Paths;

/// The builds whose units are kept: every package selection the tasks use resolves to
/// one of these feature sets (see `hack.rs`).
const BUILDS: &[&[&str]] = &[
    &["build", "--workspace", "--exclude", "hubfix-mocks"],
    &["test", "--workspace", "--no-run"],
    &["clippy", "--workspace", "--all-targets"],
    &["build", "-p", "xtask"],
];

pub fn run(paths: &Paths) -> Result<()> {
    let plugins = paths.require_plugin_manifest()?;
    // The plugins' native tests build on the host target, in the same `debug/` when
    // both workspaces share `CARGO_TARGET_DIR` (as CI does).
    let mut builds: Vec<Vec<std::ffi::OsString>> = BUILDS
        .iter()
        .map(|b| b.iter().map(Into::into).collect())
        .collect();
    builds.push(vec![
        "test".into(),
        "--no-run".into(),
        "--manifest-path".into(),
        plugins.clone().into(),
    ]);
    let mut keep = BTreeSet::new();
    for build in &builds {
        let mut cargo = cmd::cargo(paths);
        cargo.args(build).arg("--message-format=json");
        eprintln!(
            "xtask: prune: listing the units of `{}`…",
            cmd::describe(&cargo)
        );
        let output = cmd::output(&mut cargo)?;
        let before = keep.len();
        keep.extend(used_hashes(&output));
        eprintln!("xtask: prune: {} units", keep.len() - before);
    }
    let mut members = member_names(&paths.root.join("Cargo.toml"))?;
    members.extend(member_names(&plugins)?);
    let debug = paths.target.join("debug");
    let mut freed = 0u64;
    let mut removed = 0usize;
    for dir in ["deps", "build", ".fingerprint"] {
        let dir = debug.join(dir);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !stale(&name, &keep, &members) {
                continue;
            }
            let path = entry.path();
            freed += size(&path);
            if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            }
            .with_context(|| format!("cannot delete {}", path.display()))?;
            removed += 1;
        }
    }
    eprintln!(
        "xtask: prune: deleted {removed} entries of unused dependency builds, {:.1} GB freed",
        freed as f64 / 1e9
    );
    Ok(())
}

/// The unit hashes in cargo's JSON messages: of each artifact's files and of each build
/// script's output directory.
fn used_hashes(messages: &str) -> BTreeSet<String> {
    let mut hashes = BTreeSet::new();
    for line in messages.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let mut paths: Vec<&str> = Vec::new();
        if let Some(files) = message.get("filenames").and_then(|f| f.as_array()) {
            paths.extend(files.iter().filter_map(|f| f.as_str()));
        }
        for key in ["executable", "out_dir"] {
            if let Some(path) = message.get(key).and_then(|p| p.as_str()) {
                paths.push(path);
            }
        }
        for path in paths {
            // `…/deps/libname-HASH.rlib`, `…/build/name-HASH/out`,
            // `…/build/name-HASH/build_script_build-HASH`: every component's hash.
            for component in Path::new(path).components() {
                if let Some(hash) = unit_hash(&component.as_os_str().to_string_lossy()) {
                    hashes.insert(hash.to_owned());
                }
            }
        }
    }
    hashes
}

/// The crate name and hash of a unit's file or directory name
/// (`libaws_sdk_ec2-0f3e….rlib` → `aws_sdk_ec2`, `0f3e…`), if it has one.
fn split_unit(name: &str) -> Option<(&str, &str)> {
    let stem = name.split('.').next()?;
    let (crate_name, hash) = stem.rsplit_once('-')?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| (crate_name.strip_prefix("lib").unwrap_or(crate_name), hash))
}

fn unit_hash(name: &str) -> Option<&str> {
    split_unit(name).map(|(_, hash)| hash)
}

/// A third-party unit no kept build uses.
fn stale(name: &str, keep: &BTreeSet<String>, members: &BTreeSet<String>) -> bool {
    match split_unit(name) {
        Some((crate_name, hash)) => {
            !keep.contains(hash) && !members.contains(&crate_name.replace('-', "_"))
        }
        None => false,
    }
}

/// The packages of the workspace of `manifest` and their targets (libraries,
/// binaries, tests, benches, build scripts), `-` read as `_`: what is never pruned.
fn member_names(manifest: &Path) -> Result<BTreeSet<String>> {
    let dir = manifest
        .parent()
        .context("a manifest path has a directory")?;
    let metadata = cmd::output(
        cmd::cargo_at(dir)
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(manifest),
    )?;
    let metadata: serde_json::Value =
        serde_json::from_str(&metadata).context("cargo metadata printed no JSON")?;
    let mut names = BTreeSet::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let targets = package["targets"].as_array().into_iter().flatten();
        for name in std::iter::once(&package["name"]).chain(targets.map(|t| &t["name"])) {
            if let Some(name) = name.as_str() {
                names.insert(name.replace('-', "_"));
            }
        }
    }
    Ok(names)
}

/// Bytes under `path`.
fn size(path: &Path) -> u64 {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::read_dir(path)
            .map(|entries| entries.flatten().map(|e| size(&e.path())).sum())
            .unwrap_or(0),
        Ok(meta) => meta.len(),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names_split_into_crate_and_hash() {
        assert_eq!(
            split_unit("libaws_sdk_ec2-0123456789abcdef.rlib"),
            Some(("aws_sdk_ec2", "0123456789abcdef"))
        );
        assert_eq!(
            split_unit("serde-0123456789abcdef"),
            Some(("serde", "0123456789abcdef"))
        );
        assert_eq!(split_unit("hubfix"), None);
        assert_eq!(split_unit("lib-notahash.rlib"), None);
    }

    #[test]
    fn hashes_come_from_artifacts_and_build_script_outputs() {
        let messages = r#"{"reason":"compiler-artifact","filenames":["/t/debug/deps/libserde-00000000000000aa.rlib","/t/debug/deps/libserde-00000000000000aa.rmeta"],"executable":null}
{"reason":"build-script-executed","out_dir":"/t/debug/build/ring-00000000000000bb/out"}
{"reason":"compiler-artifact","filenames":["/t/debug/build/ring-00000000000000cc/build_script_build-00000000000000cc"]}
not json
{"reason":"build-finished","success":true}"#;
        let hashes: Vec<String> = used_hashes(messages).into_iter().collect();
        assert_eq!(
            hashes,
            ["00000000000000aa", "00000000000000bb", "00000000000000cc"]
        );
    }

    #[test]
    fn only_unused_third_party_units_are_stale() {
        let keep = BTreeSet::from(["00000000000000aa".to_owned()]);
        let members = BTreeSet::from(["hubfix_host".to_owned()]);
        assert!(!stale("libserde-00000000000000aa.rlib", &keep, &members));
        assert!(stale("libserde-00000000000000dd.rlib", &keep, &members));
        assert!(stale("serde-00000000000000dd", &keep, &members));
        assert!(!stale(
            "libhubfix_host-00000000000000dd.rlib",
            &keep,
            &members
        ));
        assert!(!stale("hubfix-host-00000000000000dd", &keep, &members));
        assert!(!stale("README", &keep, &members));
    }
}
