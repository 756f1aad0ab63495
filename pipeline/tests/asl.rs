//! The state machines under `deploy/statemachine/` and the code agree on the error names:
//! every `Hubfix.*` name an `ErrorEquals` lists is one the Lambdas raise, and every name the
//! Lambdas raise is handled (retried or caught) somewhere.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hubfix_pipeline::ErrorName;
use serde_json::Value;

fn state_machines() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/statemachine");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".asl.json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.asl.json in {}", dir.display());
    files
}

/// Every string in every `ErrorEquals` list, anywhere in the document.
fn error_equals(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "ErrorEquals" {
                    let names = v.as_array().expect("ErrorEquals is a list");
                    out.extend(names.iter().map(|n| n.as_str().unwrap().to_owned()));
                } else {
                    error_equals(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| error_equals(v, out)),
        _ => {}
    }
}

#[test]
fn asl_error_names_and_the_code_error_set_are_the_same() {
    let mut named = BTreeSet::new();
    for file in state_machines() {
        let text = std::fs::read_to_string(&file).unwrap();
        let asl: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut names = Vec::new();
        error_equals(&asl, &mut names);
        for name in names {
            if name.starts_with("Hubfix.") {
                assert!(
                    ErrorName::parse(&name).is_some(),
                    "{} names {name}, which no Lambda raises (the set is in pipeline/src/error.rs)",
                    file.display()
                );
                named.insert(name);
            }
        }
    }
    let code: BTreeSet<String> = ErrorName::ALL
        .iter()
        .map(|n| n.as_str().to_owned())
        .collect();
    let unhandled: Vec<_> = code.difference(&named).collect();
    assert!(
        unhandled.is_empty(),
        "errors the Lambdas raise that no state machine retries or catches: {unhandled:?}"
    );
}

#[test]
fn retryable_errors_are_retried_and_the_others_are_not() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/statemachine/remediation.asl.json");
    let asl: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let mut retried = Vec::new();
    collect_retry(&asl, &mut retried);
    for name in ErrorName::ALL {
        let is_retried = retried.iter().any(|n| n == name.as_str());
        assert_eq!(
            is_retried,
            name.is_retryable(),
            "{name}: retried in the ASL = {is_retried}, retryable in the code = {}",
            name.is_retryable()
        );
    }
}

fn collect_retry(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "Retry" {
                    error_equals(v, out);
                } else {
                    collect_retry(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_retry(v, out)),
        _ => {}
    }
}

/// The skipped branch: the state machine's `WasSkipped` choice compares the status the host
/// writes for a skipped outcome, and `PublishSkipped` uses the subject the code (backfill,
/// the tests' replay) uses.
#[test]
fn the_skipped_branch_matches_the_code() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/statemachine/remediation.asl.json");
    let asl: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let states = &asl["States"]["Findings"]["ItemProcessor"]["States"];
    let choice = &states["WasSkipped"]["Choices"][0];
    assert_eq!(choice["Variable"], "$.result.outcome.status");
    assert_eq!(
        choice["StringEquals"],
        hubfix_pipeline::route::SKIPPED_STATUS
    );
    assert_eq!(
        states["PublishSkipped"]["Parameters"]["Subject"],
        hubfix_pipeline::route::SKIPPED_SUBJECT
    );
    assert_eq!(states["EnqueueResult"]["Next"], "WasSkipped");
}

/// Custom actions: the router reads the event's `detail-type` and `resources`, which the
/// Map passes to every iteration and the Route task to the router; the template creates
/// the action targets the router knows, and its rule (and the pattern file it must equal)
/// matches their events.
#[test]
fn custom_actions_reach_the_router_as_the_code_expects() {
    use hubfix_pipeline::route::{CUSTOM_ACTION_EVENT, PLAN_ACTION_ID, REMEDIATE_ACTION_ID};
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    let asl: Value = serde_json::from_str(
        &std::fs::read_to_string(deploy.join("statemachine/remediation.asl.json")).unwrap(),
    )
    .unwrap();
    let map = &asl["States"]["Findings"];
    let payload = &map["ItemProcessor"]["States"]["Route"]["Parameters"]["Payload"];
    for (key, path) in [
        ("detail-type.$", "$.detail-type"),
        ("resources.$", "$.resources"),
    ] {
        assert_eq!(map["ItemSelector"][key], path, "ItemSelector {key}");
        assert_eq!(payload[key], path, "Route payload {key}");
    }
    let template = std::fs::read_to_string(deploy.join("security-account.yaml")).unwrap();
    let pattern =
        std::fs::read_to_string(deploy.join("eventbridge/findings-pattern.json")).unwrap();
    for id in [REMEDIATE_ACTION_ID, PLAN_ACTION_ID] {
        assert!(
            template.contains(&format!("Id: {id}\n")),
            "the template creates no action target {id}"
        );
        let suffix = format!(":action/custom/{id}");
        assert!(
            template.contains(&suffix),
            "the template's rule misses {id}"
        );
        assert!(pattern.contains(&suffix), "the pattern file misses {id}");
    }
    assert!(pattern.contains(CUSTOM_ACTION_EVENT));
    // The backfill machine's batches are events of their own: they carry both fields too,
    // or the Map's paths would fail.
    let backfill: Value = serde_json::from_str(
        &std::fs::read_to_string(deploy.join("statemachine/backfill.asl.json")).unwrap(),
    )
    .unwrap();
    let input = &backfill["States"]["Batches"]["ItemProcessor"]["States"]["RemediateBatch"]["Parameters"]
        ["Input"];
    assert!(input["detail-type"].is_string(), "{input}");
    assert!(input["resources"].is_array(), "{input}");
}
