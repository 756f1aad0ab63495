//! The `hubfix` binary as a user runs it: arguments, output formats, exit codes.
//! Needs the built plugins (and, for `run`, the emulator); `cargo xtask test` provides
//! both, and without them each test says why it skips.

// Test helpers outside `#[test]` functions panic on setup failures too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

use hubfix_tests::{
    EC2_EBS_DEFAULT_ENCRYPTION, EC2_RESTRICT_ADMIN_PORTS, Member, account_finding, base_config,
    emulator_available, plugin_path,
};
use serde_json::Value;

fn hubfix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubfix"))
        .args(args)
        .output()
        .expect("run hubfix")
}

fn plugin(name: &str) -> Option<String> {
    match plugin_path(name) {
        Ok(path) => Some(path.display().to_string()),
        Err(e) => {
            eprintln!("skipping: {e}");
            None
        }
    }
}

fn write_temp(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hubfix-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn check_lists_imports_and_what_the_grants_miss() {
    let Some(path) = plugin(EC2_RESTRICT_ADMIN_PORTS.name) else {
        return;
    };
    let out = hubfix(&[
        "check",
        &path,
        "--grant",
        "ec2.describe-security-group-rules",
        "--output",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["imports"],
        serde_json::json!([
            "ec2.authorize-security-group-ingress",
            "ec2.describe-security-group-rules",
            "ec2.revoke-security-group-ingress"
        ])
    );
    assert_eq!(
        report["missing"],
        serde_json::json!([
            "ec2.authorize-security-group-ingress",
            "ec2.revoke-security-group-ingress"
        ])
    );

    let grants = EC2_RESTRICT_ADMIN_PORTS.grants.join(",");
    let out = hubfix(&["check", &path, "--grant", &grants]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ok: every imported function is granted")
    );
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let Some(path) = plugin(EC2_EBS_DEFAULT_ENCRYPTION.name) else {
        return;
    };
    let grants = EC2_EBS_DEFAULT_ENCRYPTION.grants.join(",");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "check".into(),
                path.clone(),
                "--grant".into(),
                "ec2.launch-missiles".into(),
            ],
            "unknown grant `ec2.launch-missiles`",
        ),
        (
            vec!["check".into(), "/nonexistent.wasm".into()],
            "cannot read /nonexistent.wasm",
        ),
        (
            vec![
                "run".into(),
                "--finding".into(),
                write_temp("broken.json", "{ not json")
                    .display()
                    .to_string(),
                "--plugin".into(),
                path.clone(),
                "--grant".into(),
                grants.clone(),
            ],
            "not valid JSON",
        ),
        (
            vec![
                "run".into(),
                "--finding".into(),
                write_temp(
                    "ok.json",
                    &account_finding("280000000001", "EC2.7").to_string(),
                )
                .display()
                .to_string(),
                "--plugin".into(),
                path.clone(),
                "--grant".into(),
                "ec2.get-ebs-encryption-by-default".into(),
            ],
            "refused: plugin imports functions it was not granted: ec2.enable-ebs-encryption-by-default",
        ),
        (
            vec![
                "run".into(),
                "--finding".into(),
                write_temp(
                    "ok2.json",
                    &account_finding("280000000001", "EC2.7").to_string(),
                )
                .display()
                .to_string(),
                "--plugin".into(),
                path.clone(),
                "--grant".into(),
                grants.clone(),
                "--sha256".into(),
                "00".repeat(32),
            ],
            "expected sha256 0000",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = hubfix(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn run_fixes_a_finding_and_reports_json() {
    if !emulator_available("run_fixes_a_finding_and_reports_json") {
        return;
    }
    let path = plugin_path(EC2_EBS_DEFAULT_ENCRYPTION.name)
        .unwrap()
        .display()
        .to_string();
    let grants = EC2_EBS_DEFAULT_ENCRYPTION.grants.join(",");
    let member = Member::assume(&base_config().await, "280000000002")
        .await
        .unwrap();
    member.disable_ebs_default_encryption().await.unwrap();
    let finding = write_temp(
        "ebs.json",
        &account_finding(&member.account, "EC2.7").to_string(),
    );
    let finding = finding.display().to_string();

    let plan = hubfix(&[
        "run",
        "--finding",
        &finding,
        "--plugin",
        &path,
        "--grant",
        &grants,
        "--plan",
        "--output",
        "json",
    ]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let outcome: Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(outcome["mode"], "plan");
    assert_eq!(outcome["calls"][1]["result"], "planned");
    assert!(!member.ebs_default_encryption().await.unwrap());

    let run = hubfix(&[
        "run",
        "--finding",
        &finding,
        "--plugin",
        &path,
        "--grant",
        &grants,
        "--output",
        "json",
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let outcome: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(outcome["status"], "remediated");
    for field in [
        "finding_id",
        "control",
        "plugin",
        "calls",
        "duration_ms",
        "message",
    ] {
        assert!(outcome.get(field).is_some(), "missing {field}");
    }
    assert_eq!(outcome["plugin"]["name"], "ec2-ebs-default-encryption");
    assert!(member.ebs_default_encryption().await.unwrap());

    // Table output of the now-compliant account.
    let again = hubfix(&[
        "run",
        "--finding",
        &finding,
        "--plugin",
        &path,
        "--grant",
        &grants,
    ]);
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("already_compliant"));

    // A failed remediation exits 1.
    let misbehave = plugin_path("misbehave").unwrap().display().to_string();
    let failed = hubfix(&[
        "run",
        "--finding",
        &finding,
        "--plugin",
        &misbehave,
        "--grant",
        "ec2.revoke-security-group-ingress,ec2.describe-security-group-rules,ec2.get-ebs-encryption-by-default",
        "--param",
        "behavior=panic",
    ]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stdout).contains("misbehave: panicking as asked"));
}

fn repo(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

#[test]
fn policy_check_and_explain() {
    let out = hubfix(&["policy", "check", &repo("policies")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("65 of 65 CIS controls covered"));

    // A broken policy: the error names file and line.
    let dir = std::env::temp_dir().join(format!("hubfix-bad-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("p.toml"),
        "[controls.\"EC2.7\"]\naction = \"remediate\"\nplugin = \"nope\"\nreason = \"x\"\n",
    )
    .unwrap();
    let out = hubfix(&["policy", "check", &dir.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("p.toml:"), "{stderr}");
    assert!(stderr.contains("nope"), "{stderr}");

    let finding = repo("policy/tests/findings/cis-1.2-rule-4.1-no-control-id.json");
    let out = hubfix(&[
        "policy",
        "explain",
        "--finding",
        &finding,
        "--output",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decision: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decision["action"], "remediate");
    assert_eq!(decision["control"], "EC2.13");
    assert_eq!(decision["plugin"]["name"], "ec2-restrict-admin-ports");

    let broken = write_temp("explain-broken.json", "[1, 2");
    let out = hubfix(&[
        "policy",
        "explain",
        "--finding",
        &broken.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid JSON"));
}

#[tokio::test]
async fn run_with_a_policy_takes_plugin_grants_and_params_from_it() {
    if !emulator_available("run_with_a_policy_takes_plugin_grants_and_params_from_it") {
        return;
    }
    let plugins = std::env::var("HUBFIX_PLUGIN_DIR").unwrap();
    let member = Member::assume(&base_config().await, "280000000003")
        .await
        .unwrap();
    member.disable_ebs_default_encryption().await.unwrap();
    // One finding the policy remediates (EC2.7) and one it only notifies about (IAM.4).
    let findings = serde_json::json!([
        account_finding(&member.account, "EC2.7"),
        account_finding(&member.account, "IAM.4"),
    ]);
    let file = write_temp("policy-run.json", &findings.to_string())
        .display()
        .to_string();
    let out = hubfix(&[
        "run",
        "--finding",
        &file,
        "--policy",
        &repo("policies"),
        "--plugin",
        &plugins,
        "--output",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results[0]["decision"]["action"], "remediate");
    assert_eq!(results[0]["outcome"]["status"], "remediated");
    assert_eq!(
        results[0]["outcome"]["plugin"]["name"],
        "ec2-ebs-default-encryption"
    );
    assert_eq!(results[1]["decision"]["action"], "notify");
    assert!(results[1]["outcome"].is_null());
    assert!(member.ebs_default_encryption().await.unwrap());

    // Grants come from the policy: passing them too is refused.
    let out = hubfix(&[
        "run",
        "--finding",
        &file,
        "--policy",
        &repo("policies"),
        "--plugin",
        &plugins,
        "--grant",
        "ec2.get-ebs-encryption-by-default",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn publish_list_run_from_the_registry_and_rollback() {
    if !emulator_available("publish_list_run_from_the_registry_and_rollback") {
        return;
    }
    let base = base_config().await;
    let s3 = hubfix_tests::s3_client(&base, None);
    let bucket = hubfix_tests::fresh_bucket(&s3, "hubfix-cli-registry")
        .await
        .unwrap();
    let url = format!("s3://{bucket}/cli");
    let ebs = plugin_path(EC2_EBS_DEFAULT_ENCRYPTION.name)
        .unwrap()
        .display()
        .to_string();
    let with_env = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hubfix"))
            .args(args)
            .env("HUBFIX_S3_PATH_STYLE", "1")
            .output()
            .unwrap()
    };

    let dry = with_env(&[
        "publish",
        &ebs,
        "--registry",
        &url,
        "--policy",
        &repo("policies"),
        "--dry-run",
    ]);
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(String::from_utf8_lossy(&dry.stdout).starts_with("would upload and activate"));
    let list = with_env(&["registry", "list", "--registry", &url]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("no plugin published"));

    let published = with_env(&[
        "publish",
        &ebs,
        "--registry",
        &url,
        "--policy",
        &repo("policies"),
    ]);
    assert_eq!(
        published.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );
    let list = with_env(&["registry", "list", "--registry", &url, "--output", "json"]);
    let index: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(
        index["plugins"]["ec2-ebs-default-encryption"]["version"],
        "0.1.0"
    );

    // A plugin the policy does not know is refused before anything is written.
    let misbehave = plugin_path("misbehave").unwrap().display().to_string();
    let refused = with_env(&[
        "publish",
        &misbehave,
        "--registry",
        &url,
        "--policy",
        &repo("policies"),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("plugin `misbehave` is not in the policy")
    );

    // The policy picks the plugin, the registry supplies it.
    let member = Member::assume(&base, "280000000004").await.unwrap();
    member.disable_ebs_default_encryption().await.unwrap();
    let finding = write_temp(
        "registry-run.json",
        &account_finding(&member.account, "EC2.7").to_string(),
    );
    let cache = std::env::temp_dir().join(format!("hubfix-cli-cache-{}", std::process::id()));
    let run = with_env(&[
        "run",
        "--finding",
        &finding.display().to_string(),
        "--policy",
        &repo("policies"),
        "--registry",
        &url,
        "--cache-dir",
        &cache.display().to_string(),
        "--output",
        "json",
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let result: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(result["outcome"]["status"], "remediated");
    assert!(member.ebs_default_encryption().await.unwrap());
    let cached = std::fs::read_dir(&cache)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
        })
        .count();
    assert_eq!(cached, 1, "compiled code cached on disk");

    let rollback = with_env(&[
        "registry",
        "rollback",
        "ec2-ebs-default-encryption",
        "--registry",
        &url,
    ]);
    assert_eq!(rollback.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&rollback.stderr).contains("no earlier version"));
    let _ = std::fs::remove_dir_all(cache);
}

#[tokio::test(flavor = "multi_thread")]
async fn backfill_decides_remediates_and_updates_existing_findings() {
    // The body's future is large in debug builds: on the heap, not the test thread's stack.
    Box::pin(async move {
        if !emulator_available("backfill_decides_remediates_and_updates_existing_findings") {
            return;
        }
        use hubfix_tests::pipeline::{Stack, policy_files};
        use hubfix_tests::scenario::fresh;

        let base = base_config().await;
        let account = "888888888888";
        let member = Member::assume(&base, account).await.unwrap();
        member.seed_weak_password_policy().await.unwrap();
        member.disable_ebs_default_encryption().await.unwrap();
        let stack = Stack::deploy(
            &base,
            &policy_files(&[]).unwrap(),
            &[
                &hubfix_tests::IAM_PASSWORD_POLICY,
                &EC2_EBS_DEFAULT_ENCRYPTION,
            ],
        )
        .await
        .unwrap();
        let mine = [
            fresh(account_finding(account, "IAM.15")),
            fresh(account_finding(account, "EC2.7")),
            fresh(account_finding(account, "IAM.6")),
        ];
        let elsewhere = fresh(account_finding("888888888889", "IAM.6"));
        let mut all = mine.to_vec();
        all.push(elsewhere.clone());
        stack.import(&all).await.unwrap();
        let backfill = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_hubfix"))
                .arg("backfill")
                .args(["--account", account, "--output", "json"])
                .args(args)
                .env("HUBFIX_S3_PATH_STYLE", "1")
                .output()
                .unwrap()
        };

        let dry = backfill(&["--dry-run"]);
        assert_eq!(
            dry.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&dry.stderr)
        );
        let summary: Value = serde_json::from_slice(&dry.stdout).unwrap();
        assert_eq!(summary["findings"], 3);
        assert_eq!(summary["decisions"]["remediate"], 2);
        assert_eq!(summary["decisions"]["notify"], 1);
        assert_eq!(summary["updates_written"], 0);
        assert_eq!(summary["notifications_not_sent"], 1, "{summary}");
        assert!(
            !member.ebs_default_encryption().await.unwrap(),
            "a dry run changes nothing"
        );

        let run = backfill(&[
            "--registry",
            &stack.registry_url,
            "--manual-topic",
            &stack.topic_arn,
            "--audit",
            &stack.audit_url,
        ]);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let summary: Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!(summary["remediations"]["remediated"], 2, "{summary}");
        assert_eq!(summary["updates_written"], 3);
        assert_eq!(
            summary["batch_update_calls"], 3,
            "three different notes, three calls"
        );
        assert!(member.ebs_default_encryption().await.unwrap());
        let findings = stack.findings(&[account, "888888888889"]).await.unwrap();
        let status = |f: &Value| findings[f["Id"].as_str().unwrap()]["Workflow"].clone();
        assert_eq!(status(&mine[0]), "RESOLVED");
        assert_eq!(status(&mine[1]), "RESOLVED");
        assert_eq!(status(&mine[2]), "NOTIFIED");
        assert_eq!(status(&elsewhere), "NEW", "--account limits the backfill");
        // The notify decision reached the manual topic, as the state machine sends it.
        assert_eq!(summary["notifications_published"], 1, "{summary}");
        let published = stack.take_all(&stack.topic_reader_url).await.unwrap();
        assert_eq!(published.len(), 1, "{published:?}");
        assert!(
            published[0].contains(mine[2]["Id"].as_str().unwrap()),
            "{published:?}"
        );

        // Both remediations are in the audit trail; `history` filters by control and date.
        let history = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_hubfix"))
                .args(["history", "--audit", &stack.audit_url, "--account", account])
                .args(args)
                .env("HUBFIX_S3_PATH_STYLE", "1")
                .output()
                .unwrap()
        };
        let listed = history(&["--output", "json"]);
        assert_eq!(listed.status.code(), Some(0), "{listed:?}");
        let records: Value = serde_json::from_slice(&listed.stdout).unwrap();
        let controls: Vec<&str> = records
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["control"].as_str().unwrap())
            .collect();
        assert_eq!(controls.len(), 2, "{records}");
        assert!(controls.contains(&"IAM.15") && controls.contains(&"EC2.7"));
        let ebs = history(&["--control", "EC2.7"]);
        let table = String::from_utf8_lossy(&ebs.stdout);
        assert!(
            table.contains("ec2-ebs-default-encryption") && !table.contains("IAM.15"),
            "{table}"
        );
        let future = history(&["--since", "2999-01-01"]);
        assert!(String::from_utf8_lossy(&future.stdout).contains("no remediation recorded"));
        assert_eq!(history(&["--control", "../x"]).status.code(), Some(2));

        // Nothing NEW is left in the account: a second run finds nothing to do.
        let again = backfill(&["--registry", &stack.registry_url]);
        let summary: Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(summary["findings"], 0);

        let bad = backfill(&["--registry", "bucket-without-scheme"]);
        assert_eq!(bad.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("--registry"));
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_publish_uploads_a_valid_policy_and_the_router_follows_it() {
    // The body's future is large in debug builds: on the heap, not the test thread's stack.
    Box::pin(async move {
        if !emulator_available("policy_publish_uploads_a_valid_policy_and_the_router_follows_it") {
            return;
        }
        use hubfix_pipeline::router::{PolicyStore, Quarantine, Router};
        use hubfix_policy::Action;
        use hubfix_tests::pipeline::policy_files;

        let base = base_config().await;
        let s3 = hubfix_tests::s3_client(&base, None);
        let bucket = hubfix_tests::fresh_bucket(&s3, "hubfix-cli-policy").await.unwrap();
        let to = format!("s3://{bucket}/policy");
        s3.put_object()
            .bucket(&bucket)
            .key("policy/old.toml")
            .body(b"# a file the directory no longer has".to_vec().into())
            .send()
            .await
            .unwrap();
        let dir = std::env::temp_dir().join(format!("hubfix-cli-policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in policy_files(&[]).unwrap() {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let dir_arg = dir.display().to_string();
        let publish = |extra: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_hubfix"))
                .args(["policy", "publish", &dir_arg, "--to", &to])
                .args(extra)
                .env("HUBFIX_S3_PATH_STYLE", "1")
                .output()
                .unwrap()
        };
        let keys = || async {
            let out = s3
                .list_objects_v2()
                .bucket(&bucket)
                .prefix("policy/")
                .send()
                .await
                .unwrap();
            let mut keys: Vec<String> =
                out.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect();
            keys.sort();
            keys
        };

        let dry = publish(&["--dry-run"]);
        assert_eq!(dry.status.code(), Some(0), "{}", String::from_utf8_lossy(&dry.stderr));
        let text = String::from_utf8_lossy(&dry.stdout);
        assert!(text.contains("would upload"), "{text}");
        assert!(text.contains(&format!("would delete s3://{bucket}/policy/old.toml")), "{text}");
        assert_eq!(keys().await, ["policy/old.toml"], "a dry run writes nothing");

        let done = publish(&[]);
        assert_eq!(done.status.code(), Some(0), "{}", String::from_utf8_lossy(&done.stderr));
        assert_eq!(
            keys().await,
            [
                "policy/cis-aws-foundations.toml",
                "policy/plugins.toml",
                "policy/settings.toml"
            ]
        );

        // The router reads what was published, and follows the next publish.
        let router = Router::new(
            PolicyStore::new(
                hubfix_tests::s3_client(&base, None),
                to.parse().unwrap(),
                std::time::Duration::ZERO,
            ),
            Quarantine::new(
                hubfix_tests::s3_client(&base, None),
                format!("s3://{bucket}/unidentified/").parse().unwrap(),
            ),
        );
        let finding = account_finding("565656565656", "IAM.6");
        let route = router.handle(serde_json::json!({"finding": finding})).await.unwrap();
        assert_eq!(route.action, Action::Notify);
        std::fs::write(
            dir.join("exceptions.toml"),
            "[[exceptions]]\nid = \"lab\"\naccounts = [\"565656565656\"]\nreason = \"a lab account (SEC-9)\"\n",
        )
        .unwrap();
        assert_eq!(publish(&[]).status.code(), Some(0));
        let route = router.handle(serde_json::json!({"finding": finding})).await.unwrap();
        assert_eq!(route.action, Action::Suppress, "a new policy without a redeploy");

        // An invalid policy is refused before anything is written.
        std::fs::write(dir.join("broken.toml"), "[controls.\"NOPE.1\"]\naction = \"fix\"\n").unwrap();
        let refused = publish(&[]);
        assert_eq!(refused.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("invalid policy"));
        assert!(!keys().await.contains(&"policy/broken.toml".to_owned()));
        let route = router.handle(serde_json::json!({"finding": finding})).await.unwrap();
        assert_eq!(route.action, Action::Suppress);
    })
    .await
}

#[tokio::test]
async fn keygen_then_a_signed_publish_runs_only_where_its_key_is_trusted() {
    if !emulator_available("keygen_then_a_signed_publish_runs_only_where_its_key_is_trusted") {
        return;
    }
    let base = base_config().await;
    let s3 = hubfix_tests::s3_client(&base, None);
    let bucket = hubfix_tests::fresh_bucket(&s3, "hubfix-cli-signed")
        .await
        .unwrap();
    let url = format!("s3://{bucket}/signed");
    let dir = std::env::temp_dir().join(format!(
        "hubfix-cli-keys-{}-{}",
        std::process::id(),
        hubfix_tests::unique_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (ours, theirs) = (dir.join("ours.pem"), dir.join("theirs.pem"));
    for key in [&ours, &theirs] {
        let made = hubfix(&["keygen", &key.display().to_string()]);
        assert_eq!(made.status.code(), Some(0), "{made:?}");
        assert!(String::from_utf8_lossy(&made.stdout).contains("HUBFIX_TRUSTED_KEYS"));
    }
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&ours).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the private key is the user's alone");
    // An existing key is never overwritten.
    assert_eq!(
        hubfix(&["keygen", &ours.display().to_string()])
            .status
            .code(),
        Some(2)
    );

    let run_with = |trusted: &PathBuf, account: &str| {
        let finding = write_temp(
            &format!("signed-{account}.json"),
            &account_finding(account, "EC2.7").to_string(),
        );
        Command::new(env!("CARGO_BIN_EXE_hubfix"))
            .args(["run", "--finding", &finding.display().to_string()])
            .args(["--policy", &repo("policies"), "--registry", &url])
            .env("HUBFIX_S3_PATH_STYLE", "1")
            .env("HUBFIX_TRUSTED_KEYS", trusted)
            .output()
            .unwrap()
    };
    let ebs = plugin_path(EC2_EBS_DEFAULT_ENCRYPTION.name)
        .unwrap()
        .display()
        .to_string();
    let published = Command::new(env!("CARGO_BIN_EXE_hubfix"))
        .args([
            "publish",
            &ebs,
            "--registry",
            &url,
            "--policy",
            &repo("policies"),
        ])
        .args(["--sign", &ours.display().to_string()])
        .env("HUBFIX_S3_PATH_STYLE", "1")
        .output()
        .unwrap();
    assert_eq!(published.status.code(), Some(0), "{published:?}");
    assert!(String::from_utf8_lossy(&published.stdout).contains("signed by key"));

    let member = Member::assume(&base, "280000000006").await.unwrap();
    member.disable_ebs_default_encryption().await.unwrap();
    let refused = run_with(&dir.join("theirs.pem.pub"), &member.account);
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not trusted"),
        "{refused:?}"
    );
    assert!(!member.ebs_default_encryption().await.unwrap());
    let fixed = run_with(&dir.join("ours.pem.pub"), &member.account);
    assert_eq!(fixed.status.code(), Some(0), "{fixed:?}");
    assert!(member.ebs_default_encryption().await.unwrap());

    // The same with an AWS KMS key: re-signing replaces the signature, and only hosts
    // that trust the KMS key run the plugin now.
    let kms = aws_sdk_kms::Client::new(&base);
    let key = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let kms_pub = dir.join("kms.pub");
    let exported = hubfix(&["keygen", "--kms", &key, &kms_pub.display().to_string()]);
    assert_eq!(exported.status.code(), Some(0), "{exported:?}");
    let resigned = Command::new(env!("CARGO_BIN_EXE_hubfix"))
        .args([
            "publish",
            &ebs,
            "--registry",
            &url,
            "--policy",
            &repo("policies"),
        ])
        .args(["--sign", &format!("kms:{key}")])
        .env("HUBFIX_S3_PATH_STYLE", "1")
        .output()
        .unwrap();
    assert_eq!(resigned.status.code(), Some(0), "{resigned:?}");
    let member = Member::assume(&base, "280000000007").await.unwrap();
    member.disable_ebs_default_encryption().await.unwrap();
    let refused = run_with(&dir.join("ours.pem.pub"), &member.account);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not trusted"),
        "{refused:?}"
    );
    let fixed = run_with(&kms_pub, &member.account);
    assert_eq!(fixed.status.code(), Some(0), "{fixed:?}");
    assert!(member.ebs_default_encryption().await.unwrap());
}
