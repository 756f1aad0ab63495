//! The malformed and hostile findings of `tests/cases/findings/`: each file is a finding
//! (JSON text) after a first line `// error: TEXT` (parsing must fail with an error whose
//! message contains TEXT) or `// ok` (it must parse).

use std::path::Path;

use hubfix_finding::Finding;

#[test]
fn every_case_is_refused_with_its_error_or_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/findings");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    assert!(entries.len() >= 30, "{} cases", entries.len());
    let mut failures = Vec::new();
    for path in &entries {
        let text = std::fs::read_to_string(path).unwrap();
        let (header, json) = text.split_once('\n').unwrap_or((&text, ""));
        let name = path.file_name().unwrap().to_string_lossy();
        let result = Finding::parse(json);
        match (header.strip_prefix("// error: "), result) {
            (Some(expected), Err(e)) if e.to_string().contains(expected) => {
                // An error never echoes more than a bounded prefix of the input.
                if e.to_string().len() > 600 {
                    failures.push(format!("{name}: error of {} bytes", e.to_string().len()));
                }
            }
            (Some(expected), Err(e)) => {
                failures.push(format!("{name}: expected `{expected}`, got `{e}`"));
            }
            (Some(expected), Ok(_)) => {
                failures.push(format!("{name}: parsed; expected `{expected}`"))
            }
            (None, Ok(_)) if header == "// ok" => {}
            (None, Err(e)) if header == "// ok" => failures.push(format!("{name}: {e}")),
            (None, _) => failures.push(format!(
                "{name}: first line must be `// ok` or `// error: TEXT`"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
