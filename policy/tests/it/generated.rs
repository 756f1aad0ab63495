//! Generated files must match the code; `HUBFIX_BLESS=1` rewrites them.

use std::path::Path;

use hubfix_policy::catalog::{CONTROLS, Membership};
use hubfix_policy::{Action, Policy, SHIPPED_POLICY, controls_markdown, policy_schema};

use crate::support::{repo, shipped};

/// Compares a generated file with its committed copy, or rewrites it under `HUBFIX_BLESS=1`.
fn check_generated(path: &Path, generated: &str) {
    let bless = std::env::var("HUBFIX_BLESS").is_ok_and(|v| v == "1");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed == generated {
        return;
    }
    if bless {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, generated).unwrap();
        eprintln!("blessed {}", path.display());
        return;
    }
    panic!(
        "{} is out of date: regenerate it with `HUBFIX_BLESS=1 cargo test -p hubfix-policy` and commit it",
        path.display()
    );
}

#[test]
fn controls_doc_is_up_to_date() {
    check_generated(
        &repo().join("docs/controls.md"),
        &controls_markdown(&shipped()),
    );
}

#[test]
fn policy_schema_is_up_to_date() {
    check_generated(
        &repo().join("policy/schema/policy.schema.json"),
        &policy_schema(),
    );
}

#[test]
fn embedded_shipped_policy_is_the_directory() {
    // SHIPPED_POLICY embeds the files with include_str!: it must list every file of policies/.
    let mut on_disk: Vec<String> = std::fs::read_dir(repo().join("policies"))
        .unwrap()
        .map(|e| format!("policies/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = SHIPPED_POLICY
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    embedded.sort();
    assert_eq!(embedded, on_disk);
    assert_eq!(Policy::shipped().unwrap(), shipped());
}

#[test]
fn shipped_policy_covers_every_catalog_control() {
    let policy = shipped();
    for c in CONTROLS {
        let entry = policy
            .control(c.id)
            .unwrap_or_else(|| panic!("{} has no entry in policies/", c.id));
        assert!(!entry.reason.is_empty(), "{}", c.id);
        // Remediate exactly where a shipped plugin handles the control.
        let has_plugin = policy
            .plugins()
            .any(|p| p.controls.iter().any(|x| x == c.id));
        assert_eq!(entry.action == Action::Remediate, has_plugin, "{}", c.id);
        if entry.action != Action::Remediate {
            assert_eq!(entry.action, Action::Notify, "{}", c.id);
        }
    }
    assert_eq!(policy.controls().count(), CONTROLS.len());
    assert!(policy.warnings(crate::support::today()).is_empty());
    let cis_remediate = CONTROLS
        .iter()
        .filter(|c| c.membership == Membership::Cis)
        .filter(|c| policy.control(c.id).unwrap().action == Action::Remediate)
        .count();
    assert_eq!(cis_remediate, 13);
}
