//! The workspace hack (`hack/Cargo.toml`, package `hubfix-hack`): one feature set per
//! profile for every third-party dependency, whatever package selection cargo builds.
//!
//! Cargo compiles a dependency once per distinct feature set, and the feature set
//! depends on which packages a command selects: `cargo build -p hubfix`, `cargo run -p
//! hubfix-tests` and `cargo test --workspace` each unified a different one, so each
//! compiled every AWS SDK crate again. Every workspace member but xtask and the few it
//! depends on (`NOT_MEMBERS`) depends on `hubfix-hack`, which depends on each
//! third-party package with the union of the features any build of the workspace
//! enables: every selection then resolves the same.
//!
//! The union is read from `cargo tree` with the hack switched off (its dependencies are
//! under `cfg(not(hubfix_hack_off))`, and `RUSTFLAGS=--cfg hubfix_hack_off` turns them
//! off), so a feature no member needs any more leaves the hack on the next codegen:
//! - production (`-e normal,build`, every member but `hubfix-mocks`): which packages,
//!   on the target or on the host (build scripts, proc macros), and their features;
//! - plus what dev-dependencies add (`-e normal,build,dev`), except what `hubfix-mocks`
//!   brings: the test-only features (tokio's paused clock, smithy's `test-util`) stay
//!   out of production builds, so a test build that uses the mocks is the one other
//!   feature set.
//!
//! Packages with no features build the same in every selection and are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The hack's package name, as members depend on it.
pub const PACKAGE: &str = "hubfix-hack";
/// Its manifest, relative to the repository root.
pub const MANIFEST: &str = "hack/Cargo.toml";
/// The one crate that owns the test-only features.
const MOCKS: &str = "hubfix-mocks";
/// Members that do not depend on the hack: `xtask` and what it depends on (it runs
/// before anything is built, so it must not wait for the whole workspace's
/// dependencies); `hubfix-contract` is also a dependency of the plugin SDK, whose wasm
/// workspace's lockfile must not list the host's dependencies (a lockfile lists every
/// platform's). Built alone, they compile their few small dependencies once more; with
/// any other member, the same as the rest.
const NOT_MEMBERS: &[&str] = &[
    "xtask",
    "hubfix-contract",
    "hubfix-finding",
    "hubfix-policy",
    PACKAGE,
];
/// The platform the dependency graph is resolved for (the one the project builds on).
const TARGET: &str = "x86_64-unknown-linux-gnu";
/// The cfg that switches the hack's dependencies off while it is computed.
const OFF: &str = "hubfix_hack_off";

/// A third-party package: name and version.
type Pkg = (String, String);

/// What one `cargo tree` run found.
#[derive(Debug, Default, PartialEq)]
struct Tree {
    /// Features of each package (both compile kinds together).
    features: BTreeMap<Pkg, BTreeSet<String>>,
    /// Packages built for the target.
    target: BTreeSet<Pkg>,
    /// Packages built for the host (build scripts, proc macros and their dependencies).
    host: BTreeSet<Pkg>,
    /// Workspace members in the tree: name and manifest directory.
    members: BTreeMap<String, PathBuf>,
}

/// Parses `cargo tree -f '{p}|{f}'` output (the default indented format, with its
/// `[build-dependencies]` / `[dev-dependencies]` headers).
fn parse_tree(text: &str) -> Result<Tree> {
    #[derive(Clone, Copy, PartialEq)]
    enum Edge {
        Normal,
        Build,
        Dev,
    }
    let mut tree = Tree::default();
    // The edge kind that applies to nodes at each depth (set by headers), and whether
    // the node at each depth of the current path is built for the host.
    let mut edges: Vec<Edge> = Vec::new();
    let mut hosts: Vec<bool> = Vec::new();
    for line in text.lines() {
        let body = line.trim_start_matches(['│', '├', '└', '─', ' ', '\u{a0}']);
        if body.is_empty() {
            continue;
        }
        let depth = (line.chars().count() - body.chars().count()) / 4;
        if let Some(header) = body.strip_prefix('[') {
            let edge = match header {
                "build-dependencies]" => Edge::Build,
                "dev-dependencies]" => Edge::Dev,
                _ => bail!("unexpected cargo tree header `{body}`"),
            };
            // A header is indented like its parent and applies to the parent's
            // children that follow it.
            edges.truncate(depth + 1);
            edges.resize(depth + 2, Edge::Normal);
            edges[depth + 1] = edge;
            continue;
        }
        edges.truncate(depth + 1);
        edges.resize(depth + 1, Edge::Normal);
        hosts.truncate(depth);
        if hosts.len() != depth {
            bail!("cargo tree line deeper than its parent: {line:?}");
        }
        let (package, features) = body
            .trim_end_matches(" (*)")
            .split_once('|')
            .with_context(|| format!("cargo tree line without `|`: {line:?}"))?;
        let mut words = package.split(' ');
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            bail!("cargo tree line without a version: {line:?}");
        };
        let rest: Vec<&str> = words.collect();
        let is_proc_macro = rest.contains(&"(proc-macro)");
        let host =
            hosts.last().copied().unwrap_or(false) || edges[depth] == Edge::Build || is_proc_macro;
        hosts.push(host);
        if let Some(dir) = rest
            .iter()
            .find_map(|w| w.strip_prefix('(').filter(|p| p.starts_with('/')))
        {
            // A workspace member (a path dependency).
            tree.members
                .insert(name.to_owned(), PathBuf::from(dir.trim_end_matches(')')));
            continue;
        }
        let version = version
            .strip_prefix('v')
            .with_context(|| format!("cargo tree version without `v`: {line:?}"))?;
        let pkg = (name.to_owned(), version.to_owned());
        tree.features.entry(pkg.clone()).or_default().extend(
            features
                .split(',')
                .filter(|f| !f.is_empty())
                .map(str::to_owned),
        );
        if host {
            tree.host.insert(pkg);
        } else {
            tree.target.insert(pkg);
        }
    }
    Ok(tree)
}

/// Runs `cargo tree ARGS` over the workspace at `root` with the hack switched off.
fn cargo_tree(root: &Path, args: &[&str]) -> Result<Tree> {
    let mut cmd = crate::cmd::cargo_at(root);
    cmd.args(["tree", "--locked", "--target", TARGET, "-f", "{p}|{f}"])
        .args(args)
        .env("RUSTFLAGS", format!("--cfg {OFF}"))
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    parse_tree(&crate::cmd::output(&mut cmd)?)
}

/// The hack's whole manifest, and the members that do not depend on it yet.
pub fn generate(root: &Path) -> Result<(String, Vec<String>)> {
    let production = cargo_tree(
        root,
        &["--workspace", "--exclude", MOCKS, "-e", "normal,build"],
    )?;
    let all = cargo_tree(root, &["--workspace", "-e", "normal,build,dev"])?;
    let mocks = cargo_tree(root, &["-p", MOCKS, "-e", "normal,build"])?;
    let xtask = cargo_tree(root, &["-p", "xtask", "-e", "normal"])?;
    if let Some(name) = xtask
        .members
        .keys()
        .find(|m| !NOT_MEMBERS.contains(&m.as_str()))
    {
        bail!(
            "xtask depends on {name}, which depends on {PACKAGE}: add it to NOT_MEMBERS in xtask/src/hack.rs"
        );
    }
    let mut missing = Vec::new();
    for (name, dir) in &all.members {
        if NOT_MEMBERS.contains(&name.as_str()) {
            continue;
        }
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
            .with_context(|| format!("cannot read {}/Cargo.toml", dir.display()))?;
        if !manifest
            .lines()
            .any(|l| l.starts_with(&format!("{PACKAGE}.")))
        {
            missing.push(name.clone());
        }
    }
    Ok((manifest(&production, &all, &mocks), missing))
}

/// The features the hack gives `pkg`: what production builds enable, plus what
/// dev-dependencies add, less what only the mocks add and any `test-util`.
fn features(pkg: &Pkg, production: &Tree, all: &Tree, mocks: &Tree) -> BTreeSet<String> {
    let empty = BTreeSet::new();
    let mut features = production.features.get(pkg).cloned().unwrap_or_default();
    let mocks = mocks.features.get(pkg).unwrap_or(&empty);
    for feature in all.features.get(pkg).unwrap_or(&empty) {
        if feature != "test-util" && !mocks.contains(feature) {
            features.insert(feature.clone());
        }
    }
    features
}

fn manifest(production: &Tree, all: &Tree, mocks: &Tree) -> String {
    // Dependency keys: the package name, or name-major (name-0-minor) where the graph
    // holds several versions of it.
    let mut versions: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, _) in production.target.union(&production.host) {
        *versions.entry(name).or_default() += 1;
    }
    let section = |packages: &BTreeSet<Pkg>| -> String {
        let mut text = String::new();
        for pkg in packages {
            let features = features(pkg, production, all, mocks);
            if features.is_empty() {
                continue;
            }
            let (name, version) = pkg;
            // Build metadata (`1.2.2+spec-1.1.0`) means nothing in a requirement.
            let version = version.split('+').next().unwrap_or(version);
            let key = if versions.get(name.as_str()).copied().unwrap_or(0) > 1 {
                format!("{name}-{}", compat(version))
            } else {
                name.clone()
            };
            let list: Vec<String> = features.iter().map(|f| format!("{f:?}")).collect();
            text.push_str(&format!(
                "{key} = {{ package = {name:?}, version = {version:?}, default-features = false, features = [{}] }}\n",
                list.join(", ")
            ));
        }
        text
    };
    format!(
        "# Generated by `cargo xtask codegen` (xtask/src/hack.rs). Do not edit.\n\
         #\n\
         # Every workspace member but xtask and what it depends on depends on this\n\
         # package, so every package selection compiles each third-party dependency with\n\
         # the same features. Its dependencies are the union of what the workspace's builds\n\
         # enable, test-only features excepted: those come with hubfix-mocks, in tests.\n\
         [package]\n\
         name = \"{PACKAGE}\"\n\
         description = \"Workspace hack: one feature set per profile for every dependency (generated)\"\n\
         version.workspace = true\n\
         edition.workspace = true\n\
         rust-version.workspace = true\n\
         license.workspace = true\n\
         publish.workspace = true\n\
         # Build dependencies count only for a package with a build script.\n\
         build = \"build.rs\"\n\
         \n\
         [target.'cfg(all(target_arch = \"x86_64\", target_os = \"linux\", target_env = \"gnu\", not({OFF})))'.dependencies]\n\
         {}\n\
         [target.'cfg(all(target_arch = \"x86_64\", target_os = \"linux\", target_env = \"gnu\", not({OFF})))'.build-dependencies]\n\
         {}",
        section(&production.target),
        section(&production.host),
    )
}

/// The semver-compatible part of a version: `2` for 2.0.119, `0-4` for 0.4.9.
fn compat(version: &str) -> String {
    let mut parts = version.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("0"), Some("0"), Some(patch)) => format!("0-0-{patch}"),
        (Some("0"), Some(minor), _) => format!("0-{minor}"),
        (Some(major), ..) => major.to_owned(),
        _ => version.replace('.', "-"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = "\
hubfix v0.1.0 (/r/cli)|
├── serde v1.0.1|default,std
│   └── serde_derive v1.0.1 (proc-macro)|default
│       └── syn v2.0.1|full
├── ring v0.17.1|
│   ├── libc v0.2.1|default
│   [build-dependencies]
│   └── cc v1.2.0|parallel
│       └── jobserver v0.1.3|
└── tokio v1.5.0|rt (*)
[dev-dependencies]
└── proptest v1.12.0|std
hubfix-host v0.1.0 (/r/host)|
";

    fn pkg(name: &str, version: &str) -> Pkg {
        (name.to_owned(), version.to_owned())
    }

    #[test]
    fn tree_output_gives_contexts_features_and_members() {
        let tree = parse_tree(TREE).unwrap();
        assert_eq!(
            tree.target,
            [
                pkg("libc", "0.2.1"),
                pkg("proptest", "1.12.0"),
                pkg("ring", "0.17.1"),
                pkg("serde", "1.0.1"),
                pkg("tokio", "1.5.0"),
            ]
            .into()
        );
        assert_eq!(
            tree.host,
            [
                pkg("cc", "1.2.0"),
                pkg("jobserver", "0.1.3"),
                pkg("serde_derive", "1.0.1"),
                pkg("syn", "2.0.1"),
            ]
            .into()
        );
        assert_eq!(
            tree.features[&pkg("serde", "1.0.1")],
            ["default".to_owned(), "std".to_owned()].into()
        );
        assert!(tree.features[&pkg("ring", "0.17.1")].is_empty());
        assert_eq!(
            tree.members.keys().collect::<Vec<_>>(),
            ["hubfix", "hubfix-host"]
        );
        assert_eq!(tree.members["hubfix-host"], PathBuf::from("/r/host"));
    }

    #[test]
    fn malformed_tree_output_is_an_error() {
        assert!(parse_tree("hubfix v0.1.0 (/r/cli)|\n        └── deep v1.0.0|\n").is_err());
        assert!(parse_tree("no-bar v1.0.0\n").is_err());
        assert!(parse_tree("[weird-dependencies]\n").is_err());
    }

    #[test]
    fn hack_features_leave_out_test_only_ones() {
        let production = parse_tree("a v0.1.0 (/r/a)|\n└── tokio v1.5.0|rt\n").unwrap();
        let all = parse_tree(
            "a v0.1.0 (/r/a)|\n├── tokio v1.5.0|rt,test-util,time,macros\n└── serde_json v1.0.0|preserve_order,std\n",
        )
        .unwrap();
        let mocks =
            parse_tree("hubfix-mocks v0.1.0 (/r/mocks)|\n├── tokio v1.5.0|rt,macros\n└── serde_json v1.0.0|preserve_order\n")
                .unwrap();
        let tokio = features(&pkg("tokio", "1.5.0"), &production, &all, &mocks);
        assert_eq!(tokio, ["rt".to_owned(), "time".to_owned()].into());
        let text = manifest(&production, &all, &mocks);
        assert!(
            text.contains(r#"tokio = { package = "tokio", version = "1.5.0", default-features = false, features = ["rt", "time"] }"#),
            "{text}"
        );
        // Only in dev builds: not a dependency of the hack.
        assert!(!text.contains("serde_json"), "{text}");
    }

    #[test]
    fn build_metadata_is_left_out_of_requirements() {
        let production = parse_tree("a v0.1.0 (/r/a)|\n└── toml v1.2.2+spec-1.1.0|std\n").unwrap();
        let text = manifest(&production, &Tree::default(), &Tree::default());
        assert!(text.contains(r#"version = "1.2.2", "#), "{text}");
    }

    #[test]
    fn several_versions_get_distinct_keys() {
        let production =
            parse_tree("a v0.1.0 (/r/a)|\n├── syn v2.0.1|full\n└── syn v3.0.0|full\n").unwrap();
        let text = manifest(&production, &Tree::default(), &Tree::default());
        assert!(text.contains("syn-2 = { package = \"syn\""), "{text}");
        assert!(text.contains("syn-3 = { package = \"syn\""), "{text}");
        assert_eq!(compat("0.4.9"), "0-4");
        assert_eq!(compat("0.0.3"), "0-0-3");
    }
}
