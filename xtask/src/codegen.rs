//! `cargo xtask codegen [--check]`: rewrites every file derived from the contract table
//! (`contract/src/table/`), from the shipped policy and from the dependency graph (the
//! workspace hack, see `hack.rs`). `--check` (run by CI, and by
//! this module's test) fails naming each stale file instead.
//!
//! A generated file is either whole (the policy schema, `docs/controls.md`) or a region of
//! a hand-written file between a line containing `BEGIN generated` and the next line
//! containing `END generated`.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use hubfix_contract::{SERVICES, member_role_statements};

/// What one generated file, or region, should hold.
struct Generated {
    /// Relative to the repository root.
    path: &'static str,
    /// `true`: a region between markers; `false`: the whole file.
    region: bool,
    content: String,
}

fn generated(root: &Path) -> Result<Vec<Generated>> {
    let policy = hubfix_policy::Policy::shipped()
        .map_err(|e| anyhow::anyhow!("the shipped policy does not validate:\n{e}"))?;
    let sdk_features = r#"default-features = false, features = ["default-https-client", "rt-tokio", "behavior-version-latest"]"#;
    let (hack_manifest, not_depending) = crate::hack::generate(root)?;
    if !not_depending.is_empty() {
        bail!(
            "these workspace members do not depend on {}: {} (add `{}.workspace = true` to their [dependencies])",
            crate::hack::PACKAGE,
            not_depending.join(", "),
            crate::hack::PACKAGE
        );
    }
    Ok(vec![
        Generated {
            path: crate::hack::MANIFEST,
            region: false,
            content: hack_manifest,
        },
        Generated {
            path: "wit/world.wit",
            region: true,
            content: SERVICES
                .iter()
                .map(|s| format!("  import {};\n", s.name))
                .collect(),
        },
        Generated {
            path: "host/src/aws/mod.rs",
            region: true,
            // Sorted, as rustfmt orders `mod` declarations.
            content: {
                let mut names: Vec<&str> = SERVICES.iter().map(|s| s.name).collect();
                names.sort_unstable();
                names.iter().map(|n| format!("mod {n};\n")).collect()
            },
        },
        Generated {
            path: "host/Cargo.toml",
            region: true,
            content: SERVICES
                .iter()
                .map(|s| {
                    format!(
                        "{} = {{ version = \"{}\", {sdk_features} }}\n",
                        s.sdk_crate, s.sdk_version
                    )
                })
                .collect(),
        },
        Generated {
            path: "deploy/member-role.yaml",
            region: true,
            content: member_role_statements(14),
        },
        Generated {
            path: "policy/schema/policy.schema.json",
            region: false,
            content: hubfix_policy::policy_schema(),
        },
        Generated {
            path: "docs/controls.md",
            region: false,
            content: hubfix_policy::controls_markdown(&policy),
        },
        Generated {
            path: "README.md",
            region: true,
            content: hubfix_policy::plugins_markdown(&policy),
        },
    ])
}

/// Rewrites (or, with `check`, compares) every generated file under `root`.
pub fn run(root: &Path, check: bool) -> Result<()> {
    let mut stale = Vec::new();
    for g in generated(root)? {
        let path = root.join(g.path);
        let current =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", g.path))?;
        let wanted = if g.region {
            replace_region(&current, &g.content).with_context(|| g.path.to_owned())?
        } else {
            g.content
        };
        if wanted == current {
            continue;
        }
        if check {
            stale.push(g.path);
        } else {
            fs::write(&path, &wanted).with_context(|| format!("cannot write {}", g.path))?;
            eprintln!("xtask: codegen: wrote {}", g.path);
        }
    }
    if !stale.is_empty() {
        bail!(
            "generated files are stale (run `cargo xtask codegen` and commit): {}",
            stale.join(", ")
        );
    }
    if check {
        eprintln!("xtask: codegen: every generated file is up to date");
    }
    Ok(())
}

/// `text` with the lines between its `BEGIN generated` and `END generated` marker lines
/// replaced by `content`.
fn replace_region(text: &str, content: &str) -> Result<String> {
    let begin = text
        .find("BEGIN generated")
        .context("no `BEGIN generated` marker")?;
    let body = text[begin..]
        .find('\n')
        .map(|i| begin + i + 1)
        .context("the `BEGIN generated` marker ends the file")?;
    let end = text[body..]
        .find("END generated")
        .map(|i| body + i)
        .context("no `END generated` marker after `BEGIN generated`")?;
    let end_line = text[..end].rfind('\n').map_or(0, |i| i + 1);
    if end_line < body {
        bail!("the `END generated` marker is on the `BEGIN generated` line");
    }
    Ok(format!("{}{content}{}", &text[..body], &text[end_line..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_replaced_between_their_markers() {
        let text = "a\n  // BEGIN generated x\n  old\n  // END generated\nb\n";
        assert_eq!(
            replace_region(text, "  new\n  lines\n").unwrap(),
            "a\n  // BEGIN generated x\n  new\n  lines\n  // END generated\nb\n"
        );
        assert!(replace_region("no markers", "x").is_err());
        assert!(replace_region("# BEGIN generated\nno end\n", "x").is_err());
    }

    /// The member role allows exactly the union of the table's IAM actions (read back
    /// from the template, not from the generator).
    #[test]
    fn the_member_role_allows_exactly_the_tables_actions() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let yaml = fs::read_to_string(root.join("deploy/member-role.yaml")).unwrap();
        let policy = &yaml[yaml.find("PolicyDocument:").unwrap()..];
        let listed: std::collections::BTreeSet<&str> = policy
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- "))
            .filter(|a| a.contains(':') && !a.contains(' '))
            .collect();
        assert_eq!(listed, hubfix_contract::all_iam_actions());
    }

    /// The drift test: every generated file in the repository is what codegen writes.
    #[test]
    fn generated_files_are_up_to_date() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        run(&root, true).unwrap();
    }
}
