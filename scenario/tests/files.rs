//! Scenario files as data, without AWS: every shipped plugin's scenarios load, and every
//! file in `tests/bad/` is refused with the message its `# error:` lines give (each line
//! one part that must appear), naming the file.

use std::path::{Path, PathBuf};

use hubfix_scenario::{ExpectedStatus, Scenario, load_dir, package_name, plugin_dirs};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_shipped_scenario_loads() {
    let dirs = plugin_dirs(&repo().join("plugins")).unwrap();
    let names: Vec<String> = dirs.iter().map(|d| package_name(d).unwrap()).collect();
    for shipped in [
        "iam-password-policy",
        "ec2-restrict-admin-ports",
        "ec2-default-sg-restrict",
        "ec2-ebs-default-encryption",
    ] {
        assert!(names.iter().any(|n| n == shipped), "{shipped}: {names:?}");
    }
    for dir in &dirs {
        let scenarios = load_dir(dir).unwrap_or_else(|e| panic!("{e}"));
        assert!(!scenarios.is_empty(), "{}", dir.display());
        for s in &scenarios {
            assert!(!s.after.is_empty() && !s.before.is_empty(), "{}", s.name);
        }
    }
}

#[test]
fn the_edge_cases_say_what_they_expect() {
    let dir = repo().join("plugins/ec2-default-sg-restrict");
    let skipped = load_dir(&dir)
        .unwrap()
        .into_iter()
        .find(|s| s.name == "not-default-group-skipped")
        .unwrap();
    assert_eq!(skipped.outcome.fix, ExpectedStatus::Skipped);
    assert!(!skipped.outcome.run_again);
    assert!(skipped.outcome.mutating.is_empty());

    let dir = repo().join("plugins/iam-password-policy");
    let bad = load_dir(&dir)
        .unwrap()
        .into_iter()
        .find(|s| s.name == "bad-parameter-fails")
        .unwrap();
    assert_eq!(
        bad.params,
        [("minimum-password-length".to_owned(), "many".to_owned())]
    );
    // Integers become the strings the policy would pass.
    let params = load_dir(&dir)
        .unwrap()
        .into_iter()
        .find(|s| s.name == "parameters-from-the-policy")
        .unwrap()
        .params;
    assert!(params.contains(&("minimum-password-length".to_owned(), "16".to_owned())));
}

#[test]
fn bad_scenarios_are_refused_naming_file_and_field() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "{cases:?}");
    for case in cases {
        let text = std::fs::read_to_string(&case).unwrap();
        let expected: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# error: "))
            .collect();
        assert!(
            !expected.is_empty(),
            "{} has no `# error:` line",
            case.display()
        );
        let err = Scenario::parse(&case, &text)
            .err()
            .unwrap_or_else(|| panic!("{} loaded", case.display()));
        let message = err.to_string();
        assert!(
            message.starts_with(&case.display().to_string()),
            "{}: {message}",
            case.display()
        );
        for part in expected {
            assert!(
                message.contains(part),
                "{}:\n  expected: {part}\n  got: {message}",
                case.display()
            );
        }
    }
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let text = format!(
        "description = \"{}\"",
        "x".repeat(hubfix_scenario::MAX_FILE_LEN)
    );
    let err = Scenario::parse(Path::new("big.toml"), &text).unwrap_err();
    assert!(err.to_string().contains("at most"), "{err}");
}

#[test]
fn a_plugin_without_scenarios_has_none() {
    let none = load_dir(&repo().join("plugins/sdk")).unwrap();
    assert!(none.is_empty());
}
