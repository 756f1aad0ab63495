//! Each Lambda binary links only the AWS SDK crates it needs: checked from `cargo tree`.
//! The workspace hack (`hack.rs`) is pruned from the tree: it has no code, so the crates
//! it lists are compiled for every member but linked only into those that use them.

use std::collections::BTreeSet;

use anyhow::{Result, bail};

use crate::cmd;
use crate::paths::Paths;

/// Each Lambda package and the SDK crates it may depend on (`aws-sdk-sts` comes with
/// `aws-config`, for role credentials). The host links, besides S3 for the registry, one
/// SDK crate per service of the contract table.
pub fn lambdas() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut host = vec!["aws-sdk-s3", "aws-sdk-sts"];
    host.extend(hubfix_contract::SERVICES.iter().map(|s| s.sdk_crate));
    vec![
        ("hubfix-router", vec!["aws-sdk-s3", "aws-sdk-sts"]),
        (
            "hubfix-archiver",
            vec!["aws-sdk-securityhub", "aws-sdk-sts"],
        ),
        ("hubfix-proxy", vec!["aws-sdk-lambda", "aws-sdk-sts"]),
        ("hubfix-host-lambda", host),
    ]
}

/// The `aws-sdk-*` crate names in `cargo tree --prefix none -f {p}` output.
pub fn sdk_crates(tree: &str) -> BTreeSet<String> {
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| name.starts_with("aws-sdk-"))
        .map(str::to_owned)
        .collect()
}

/// Fails naming every Lambda that depends on an SDK crate it should not.
pub fn check(paths: &Paths) -> Result<()> {
    let mut problems = Vec::new();
    for (package, allowed) in lambdas() {
        let tree = cmd::output(cmd::cargo(paths).args([
            "tree",
            "-p",
            package,
            "-e",
            "normal",
            "--prune",
            crate::hack::PACKAGE,
            "--prefix",
            "none",
            "-f",
            "{p}",
        ]))?;
        let found = sdk_crates(&tree);
        let extra: Vec<_> = found
            .iter()
            .filter(|c| !allowed.contains(&c.as_str()))
            .collect();
        if extra.is_empty() {
            eprintln!(
                "xtask: {package}: {}",
                found.into_iter().collect::<Vec<_>>().join(", ")
            );
        } else {
            problems.push(format!(
                "{package} links {extra:?}; it may link only {allowed:?}"
            ));
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sdk_crates_in_tree_output() {
        let tree = "hubfix-router v0.1.0 (/r)\naws-sdk-s3 v1.157.0\naws-config v1.13.0\naws-sdk-sts v1.124.0\naws-sdk-s3 v1.157.0 (*)\n";
        let found: Vec<_> = sdk_crates(tree).into_iter().collect();
        assert_eq!(found, ["aws-sdk-s3", "aws-sdk-sts"]);
    }
}
