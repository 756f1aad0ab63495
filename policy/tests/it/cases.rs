//! Bad policies as data: every directory of `tests/cases/policy/` holds one or more `*.toml`
//! policy files and `error.txt`, the exact errors `Policy::from_files` must report (one per
//! line, each naming the file, the line and the entry). `HUBFIX_BLESS=1` rewrites `error.txt`.

use std::path::PathBuf;

use hubfix_policy::Policy;

use crate::support::repo;

fn case_dirs() -> Vec<PathBuf> {
    let root = repo().join("tests/cases/policy");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn bad_policies_fail_with_the_expected_errors() {
    let bless = std::env::var("HUBFIX_BLESS").is_ok_and(|v| v == "1");
    let dirs = case_dirs();
    assert!(
        dirs.len() >= 15,
        "expected the bad-policy cases, found {}",
        dirs.len()
    );
    let mut failures = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| {
                let file = p.file_name().unwrap().to_string_lossy().into_owned();
                (file, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{name}: no .toml files");
        let actual = match Policy::from_files(&files) {
            Ok(_) => "(the policy is valid)".to_owned(),
            Err(errors) => errors.to_string(),
        };
        let expected_path = dir.join("error.txt");
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected.trim_end() != actual {
            if bless {
                std::fs::write(&expected_path, format!("{actual}\n")).unwrap();
            } else {
                failures.push(format!(
                    "{name}:\n  expected: {}\n  actual:   {actual}",
                    expected.trim_end()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "bad-policy cases differ:\n{}",
        failures.join("\n")
    );
}
