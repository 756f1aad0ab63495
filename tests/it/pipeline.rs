//! The Security-account pipeline end to end on the emulator: findings imported into
//! Security Hub, the EventBridge rule (the pattern under `deploy/eventbridge/`) delivering
//! them, the state machine's states over the real handlers, the archiver draining the
//! queue; then the accounts, the findings and the queues checked through the SDK.

use std::collections::{BTreeMap, HashMap};

use hubfix_pipeline::archiver::ArchiverConfig;
use hubfix_pipeline::audit::{AuditTrail, HistoryFilter};
use hubfix_pipeline::{ErrorName, Workflow};
use hubfix_tests::emulator;
use hubfix_tests::pipeline::{
    Functions, MAX_RECEIVE_COUNT, Stack, Step, drain, execute, plugins, policy_files,
    route_and_enqueue,
};
use hubfix_tests::scenario::{
    EXCEPTIONS, Rule, Seeded, compliant, deploy_dir, fresh, notified_findings, read_json, seed,
    suppressed_findings,
};
use hubfix_tests::stepfunctions::{Answer, StateMachine};
use hubfix_tests::{
    EC2_RESTRICT_ADMIN_PORTS, IAM_PASSWORD_POLICY, Member, PluginSpec, account_finding,
    base_config, emulator_available, group_finding, ocsf_group_finding,
};
use serde_json::{Value, json};

/// The pipeline tests run one at a time: the throttling test injects faults into, and
/// counts, every `BatchUpdateFindings` the emulator serves.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn workflow(findings: &HashMap<String, Value>, id: &str) -> String {
    findings[id]["Workflow"].as_str().unwrap_or("?").to_owned()
}

fn note(findings: &HashMap<String, Value>, id: &str) -> String {
    findings[id]["Note"]["Text"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_flow_from_security_hub_to_fixed_accounts_and_updated_findings() {
    // The body's future is large in debug builds: on the heap, not the test thread's stack.
    Box::pin(async move {
        if !emulator_available(
            "findings_flow_from_security_hub_to_fixed_accounts_and_updated_findings",
        ) {
            return;
        }
        let _serial = SERIAL.lock().await;
        let base = base_config().await;
        let accounts = ["111111111111", "222222222222", "333333333333"];
        let mut seeded = Vec::new();
        for account in accounts {
            seeded.extend(seed(&base, account).await.unwrap());
        }
        for s in &seeded {
            assert!(
                !compliant(s).await.unwrap(),
                "{} {} seeded compliant",
                s.member.account,
                s.control
            );
        }
        // Suppressed by the exception, and notify-only: no resource needed.
        let suppressed = suppressed_findings(&accounts);
        let notified = notified_findings(&accounts);

        let stack = Stack::deploy(
            &base,
            &policy_files(&[("exceptions.toml", EXCEPTIONS)]).unwrap(),
            &plugins(),
        )
        .await
        .unwrap();
        let rule = Rule::create(&base, &stack).await.unwrap();
        let mut all: Vec<Value> = seeded.iter().map(|s| s.finding.clone()).collect();
        all.extend(suppressed.iter().cloned());
        all.extend(notified.iter().cloned());
        stack.import(&all).await.unwrap();

        // The rule delivers every imported finding: FAILED, ACTIVE, NEW. (Other tests import
        // into the same Security Hub concurrently: keep the events about this test's findings.)
        let ours: Vec<&str> = all.iter().map(|f| f["Id"].as_str().unwrap()).collect();
        let about_ours = |events: Vec<Value>| -> Vec<Value> {
            events
                .into_iter()
                .filter(|e| {
                    e["detail"]["findings"].as_array().is_some_and(|f| {
                        f.iter()
                            .any(|f| ours.contains(&f["Id"].as_str().unwrap_or("")))
                    })
                })
                .collect()
        };
        let events = about_ours(rule.delivered(&stack).await.unwrap());
        let delivered: Vec<&str> = events
            .iter()
            .flat_map(|e| e["detail"]["findings"].as_array().unwrap())
            .map(|f| f["Id"].as_str().unwrap())
            .collect();
        for f in &all {
            assert!(
                delivered.contains(&f["Id"].as_str().unwrap()),
                "not delivered: {}",
                f["Id"]
            );
        }

        let functions = Functions::new(&base, &stack, fast_archiver()).unwrap();
        let mut steps: Vec<Step> = Vec::new();
        for event in &events {
            steps.extend(Box::pin(execute(&functions, &stack, event)).await.unwrap());
        }
        let drained = drain(&stack, &functions.archiver, 10_000).await.unwrap();
        assert!(drained.report.failed.is_empty(), "{:?}", drained.report);
        assert_eq!(drained.report.updated, all.len());
        // Grouped: the three suppressions share one note (one call), the notify-only ones
        // another; remediations each carry their own note.
        assert!(
            drained.report.succeeded_calls < all.len() as u32,
            "{} calls for {} findings",
            drained.report.succeeded_calls,
            all.len()
        );

        // The accounts are fixed.
        for s in &seeded {
            assert!(
                compliant(s).await.unwrap(),
                "{} {} not fixed",
                s.member.account,
                s.control
            );
        }
        // The findings say what happened.
        let findings = stack.findings(&accounts).await.unwrap();
        for s in &seeded {
            let id = s.finding["Id"].as_str().unwrap();
            assert_eq!(workflow(&findings, id), "RESOLVED", "{id}");
            let text = note(&findings, id);
            assert!(text.starts_with("hubfix remediated"), "{text}");
            assert!(text.contains(s.control), "{text}");
            assert!(
                text.contains("0.1.0"),
                "the note names the plugin version: {text}"
            );
            assert_eq!(findings[id]["Note"]["UpdatedBy"], "hubfix");
        }
        for f in &suppressed {
            let id = f["Id"].as_str().unwrap();
            assert_eq!(workflow(&findings, id), "SUPPRESSED");
            assert!(
                note(&findings, id).contains("SEC-123"),
                "{}",
                note(&findings, id)
            );
        }
        for f in &notified {
            let id = f["Id"].as_str().unwrap();
            assert_eq!(workflow(&findings, id), "NOTIFIED");
            assert!(note(&findings, id).contains("Hardware MFA"));
        }
        let news: Vec<_> = all
            .iter()
            .filter(|f| workflow(&findings, f["Id"].as_str().unwrap()) == "NEW")
            .collect();
        assert!(news.is_empty(), "left NEW: {news:?}");
        // Each remediation left its record in the audit trail, by account and control.
        // (On a task of its own: this test's future is deep enough already in debug builds.)
        let expected: Vec<(String, String, String)> = seeded
            .iter()
            .map(|s| {
                (
                    s.member.account.clone(),
                    s.control.to_owned(),
                    s.finding["Id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        tokio::spawn(audit_trail_holds_each_remediation(
            base.clone(),
            stack.audit_url.clone(),
            expected,
        ))
        .await
        .unwrap()
        .unwrap();
        // The manual queue heard of each notify-only finding.
        let published = stack.take_all(&stack.topic_reader_url).await.unwrap();
        assert_eq!(published.len(), notified.len(), "{published:?}");
        assert!(published.iter().all(|m| m.contains("Hardware MFA")));

        // Our own updates emitted Imported events, and the rule matched none of them: no loop.
        let emitted = emulator::control("GET", "/moto-ext/events", None).unwrap();
        let updated_events = emitted
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["detail"]["findings"][0]["Note"]["UpdatedBy"] == "hubfix")
            .filter(|e| ours.contains(&e["detail"]["findings"][0]["Id"].as_str().unwrap_or("")))
            .count();
        assert!(
            updated_events >= all.len(),
            "{updated_events} update events emitted"
        );
        assert!(
            about_ours(rule.delivered(&stack).await.unwrap()).is_empty(),
            "the rule matched the pipeline's own updates"
        );

        // Replaying the same events changes nothing: no mutating call, the same statuses.
        let mut replay = Vec::new();
        for event in &events {
            replay.extend(Box::pin(execute(&functions, &stack, event)).await.unwrap());
        }
        drain(&stack, &functions.archiver, 10_000).await.unwrap();
        for step in &replay {
            assert_eq!(step.mutating_calls, 0, "replay changed something: {step:?}");
            if step.decision == "remediate" {
                assert_eq!(step.outcome, "already_compliant", "{step:?}");
            }
        }
        let after = stack.findings(&accounts).await.unwrap();
        for f in &all {
            let id = f["Id"].as_str().unwrap();
            assert_eq!(workflow(&after, id), workflow(&findings, id), "{id}");
        }
        for s in &seeded {
            assert!(compliant(s).await.unwrap());
        }
        assert_eq!(stack.depth(&stack.dlq_url).await.unwrap(), 0);
        rule.delete().await.unwrap();
    })
    .await
}

fn fast_archiver() -> ArchiverConfig {
    ArchiverConfig {
        base_delay: std::time::Duration::from_millis(20),
        ..ArchiverConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remediation_that_cannot_run_notifies_with_the_error() {
    // The body's future is large in debug builds: on the heap, not the test thread's stack.
    Box::pin(async move {
        if !emulator_available("a_remediation_that_cannot_run_notifies_with_the_error") {
            return;
        }
        let _serial = SERIAL.lock().await;
        let base = base_config().await;
        let member = Member::assume(&base, "444444444444").await.unwrap();
        member.seed_weak_password_policy().await.unwrap();
        // The registry lacks iam-password-policy.
        let published: Vec<&PluginSpec> = vec![&*EC2_RESTRICT_ADMIN_PORTS];
        let stack = Stack::deploy(&base, &policy_files(&[]).unwrap(), &published)
            .await
            .unwrap();
        let finding = fresh(account_finding("444444444444", "IAM.15"));
        stack.import(std::slice::from_ref(&finding)).await.unwrap();
        let functions = Functions::new(&base, &stack, fast_archiver()).unwrap();
        let event = json!({"detail": {"findings": [finding]}});
        let steps = Box::pin(execute(&functions, &stack, &event)).await.unwrap();
        assert_eq!(steps[0].decision, "remediate");
        assert_eq!(steps[0].outcome, ErrorName::PluginUnknown.as_str());
        drain(&stack, &functions.archiver, 100).await.unwrap();

        let findings = stack.findings(&["444444444444"]).await.unwrap();
        let id = finding["Id"].as_str().unwrap();
        assert_eq!(workflow(&findings, id), "NOTIFIED");
        let text = note(&findings, id);
        assert!(
            text.contains("Hubfix.PluginUnknown") && text.contains(IAM_PASSWORD_POLICY.name),
            "{text}"
        );
        let published = stack.take_all(&stack.topic_reader_url).await.unwrap();
        assert_eq!(published.len(), 1);
        assert!(
            published[0].contains("Hubfix.PluginUnknown"),
            "{}",
            published[0]
        );
        // Nothing was changed in the account.
        let policy = member.password_policy().await.unwrap().unwrap();
        assert_eq!(policy.minimum_password_length, Some(8));
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poison_message_ends_in_the_dead_letter_queue_without_blocking_the_rest() {
    // The body's future is large in debug builds: on the heap, not the test thread's stack.
    Box::pin(async move {
        if !emulator_available(
            "a_poison_message_ends_in_the_dead_letter_queue_without_blocking_the_rest",
        ) {
            return;
        }
        let _serial = SERIAL.lock().await;
        let base = base_config().await;
        let stack = Stack::deploy(&base, &policy_files(&[]).unwrap(), &[])
            .await
            .unwrap();
        let findings: Vec<Value> = (0..5)
            .map(|i| {
                fresh(group_finding(
                    "555555555555",
                    "EC2.53",
                    &format!("sg-0bad000{i}"),
                ))
            })
            .collect();
        stack.import(&findings).await.unwrap();
        let mut bodies: Vec<String> = findings
            .iter()
            .map(|f| {
                json!({"finding": {"Id": f["Id"], "ProductArn": f["ProductArn"]},
                   "workflow": "NOTIFIED", "note": "look at this", "source": "router"})
                .to_string()
            })
            .collect();
        bodies.insert(2, "{\"finding\": \"not an update\"}".to_owned());
        // A finding Security Hub does not have: it can never be written either.
        bodies.push(
            json!({
                "finding": {"Id": "no-such-finding", "ProductArn": findings[0]["ProductArn"]},
                "workflow": "NOTIFIED", "note": "look at this", "source": "router"
            })
            .to_string(),
        );
        stack.enqueue(&bodies).await.unwrap();
        let functions = Functions::new(&base, &stack, fast_archiver()).unwrap();
        let drained = drain(&stack, &functions.archiver, 100).await.unwrap();

        // The good ones were written at the first attempt, in one call.
        let after = stack.findings(&["555555555555"]).await.unwrap();
        for f in &findings {
            assert_eq!(workflow(&after, f["Id"].as_str().unwrap()), "NOTIFIED");
        }
        assert_eq!(drained.report.updated, findings.len());
        // The two bad ones were retried until SQS moved them aside.
        let dead = stack.take_all(&stack.dlq_url).await.unwrap();
        assert_eq!(dead.len(), 2, "{dead:?}");
        assert!(dead.iter().any(|b| b.contains("not an update")));
        assert!(dead.iter().any(|b| b.contains("no-such-finding")));
        assert_eq!(drained.report.poison, MAX_RECEIVE_COUNT as usize);
        assert_eq!(stack.depth(&stack.queue_url).await.unwrap(), 0);
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_suppressions_drain_through_throttling_exactly_once() {
    // The body's future is large in debug builds: on the heap, not the test thread's stack.
    Box::pin(async move {
        if !emulator_available("ten_thousand_suppressions_drain_through_throttling_exactly_once") {
            return;
        }
        let _serial = SERIAL.lock().await;
        const N: usize = 10_000;
        let base = base_config().await;
        let stack = Stack::deploy(
            &base,
            &policy_files(&[("exceptions.toml", EXCEPTIONS)]).unwrap(),
            &[],
        )
        .await
        .unwrap();
        let account = "666666666666";
        let findings: Vec<Value> = (0..N)
            .map(|i| fresh(group_finding(account, "EC2.53", &format!("sg-0ba5{i:013}"))))
            .collect();
        stack.import(&findings).await.unwrap();
        let functions = Functions::new(&base, &stack, ArchiverConfig::default()).unwrap();
        let updates = route_and_enqueue(&functions, &stack, &findings)
            .await
            .unwrap();
        assert!(updates.iter().all(|u| u.workflow == Workflow::Suppressed));

        emulator::clear_requests().unwrap();
        emulator::throttle_batch_update_findings(7).unwrap();
        let drained = drain(&stack, &functions.archiver, 10_000).await;
        emulator::clear_faults().unwrap();
        let drained = drained.unwrap();
        let ok_calls = emulator::batch_update_calls(200).unwrap();
        let throttled = emulator::batch_update_calls(429).unwrap();
        eprintln!(
            "drained {N} suppressions in {:.2} s ({:.2} s in the archiver): {} BatchUpdateFindings \
         calls, {ok_calls} succeeded, {throttled} throttled (429), {} archiver invocation(s)",
            drained.elapsed.as_secs_f64(),
            drained.archiver.as_secs_f64(),
            drained.report.calls,
            drained.invocations
        );

        assert_eq!(drained.report.updated, N, "{:?}", drained.report);
        assert!(drained.report.failed.is_empty());
        assert!(ok_calls <= 110, "{ok_calls} successful calls");
        assert!(
            throttled * 10 >= ok_calls + throttled,
            "only {throttled} of {} calls throttled",
            ok_calls + throttled
        );
        assert_eq!(u64::from(drained.report.succeeded_calls), ok_calls);
        assert_eq!(u64::from(drained.report.throttled_calls), throttled);
        // Exactly once: every finding SUPPRESSED, with the note, none lost, nothing dead.
        let after = stack.findings(&[account]).await.unwrap();
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        for f in &findings {
            let id = f["Id"].as_str().unwrap();
            *statuses.entry(workflow(&after, id)).or_default() += 1;
            assert!(note(&after, id).contains("SEC-123"));
        }
        assert_eq!(statuses, BTreeMap::from([("SUPPRESSED".to_owned(), N)]));
        assert_eq!(stack.depth(&stack.queue_url).await.unwrap(), 0);
        assert_eq!(stack.depth(&stack.dlq_url).await.unwrap(), 0);
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rule_pattern_matches_the_sample_events_as_aws_does() {
    // The body's future is large in debug builds: on the heap, not the test thread's stack.
    Box::pin(async move {
        if !emulator_available("the_rule_pattern_matches_the_sample_events_as_aws_does") {
            return;
        }
        let _serial = SERIAL.lock().await;
        let base = base_config().await;
        let events = aws_sdk_eventbridge::Client::new(&base);
        let pattern = read_json(&deploy_dir().join("eventbridge/findings-pattern.json"))
            .unwrap()
            .to_string();
        let samples = deploy_dir().join("eventbridge/samples");
        let mut checked = 0;
        for entry in std::fs::read_dir(&samples).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let expected = if name.starts_with("match-") {
                true
            } else if name.starts_with("nomatch-") {
                false
            } else {
                continue;
            };
            let event = read_json(&path).unwrap();
            let result = events
                .test_event_pattern()
                .event_pattern(&pattern)
                .event(event.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(result.result(), expected, "{name}");
            checked += 1;
        }
        assert!(checked >= 6, "only {checked} samples");
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_state_machine_itself_runs_each_path_with_the_handlers_answers() {
    // The body's future is large in debug builds: on the heap, not the test thread's stack.
    Box::pin(async move {
        if !emulator_available("the_state_machine_itself_runs_each_path_with_the_handlers_answers")
        {
            return;
        }
        let _serial = SERIAL.lock().await;
        let base = base_config().await;
        let account = "777777777777";
        let member = Member::assume(&base, account).await.unwrap();
        member.seed_weak_password_policy().await.unwrap();
        let open = member
            .seed_open_admin_group(&format!("sfn-open-{}", hubfix_tests::unique_suffix()))
            .await
            .unwrap();
        // ec2-default-sg-restrict is not published: EC2.2 fails with Hubfix.PluginUnknown.
        let rds = PluginSpec::shipped("rds-instance-settings").unwrap();
        let published: Vec<&PluginSpec> =
            vec![&*IAM_PASSWORD_POLICY, &*EC2_RESTRICT_ADMIN_PORTS, &rds];
        let stack = Stack::deploy(
            &base,
            &policy_files(&[("exceptions.toml", EXCEPTIONS)]).unwrap(),
            &published,
        )
        .await
        .unwrap();
        let machine = StateMachine::create(&base, &stack).await.unwrap();
        let functions = Functions::new(&base, &stack, fast_archiver()).unwrap();

        let password = fresh(account_finding(account, "IAM.15"));
        let ssh = fresh(group_finding(account, "EC2.53", &open));
        let bastion = fresh(group_finding(account, "EC2.53", "sg-0ba57777"));
        let mfa = fresh(account_finding(account, "IAM.6"));
        let default_group = fresh(group_finding(account, "EC2.2", "sg-0def7777"));
        let all = [&password, &ssh, &bastion, &mfa, &default_group];
        stack
            .import(&all.iter().map(|f| (*f).clone()).collect::<Vec<_>>())
            .await
            .unwrap();

        let run = |finding: &Value, first: Vec<Answer>| {
            let event = json!({
                "detail-type": "Security Hub Findings - Imported",
                "resources": [finding["Id"]],
                "detail": {"findings": [finding]},
            });
            let machine = &machine;
            let functions = &functions;
            async move {
                Box::pin(machine.run(functions, &event, &first))
                    .await
                    .unwrap()
            }
        };
        let path = |e: &hubfix_tests::stepfunctions::Execution| e.states.join(" > ");

        let fixed = run(&password, vec![]).await;
        assert_eq!(fixed.status, "SUCCEEDED");
        assert_eq!(
            path(&fixed),
            "Findings > Route > Decide > Remediate > EnqueueResult > WasSkipped > Remediated"
        );

        // A throttled host is retried by the state machine, then succeeds.
        let retried = run(
            &ssh,
            vec![Answer::Error(
                "Hubfix.Throttled".into(),
                "Rate exceeded".into(),
            )],
        )
        .await;
        assert_eq!(retried.status, "SUCCEEDED", "{retried:?}");
        assert_eq!(retried.task_errors, ["Hubfix.Throttled"]);
        assert!(
            path(&retried).ends_with("Remediate > EnqueueResult > WasSkipped > Remediated"),
            "{}",
            path(&retried)
        );

        let suppressed = run(&bastion, vec![]).await;
        assert_eq!(
            path(&suppressed),
            "Findings > Route > Decide > EnqueueUpdate"
        );
        let notified = run(&mfa, vec![]).await;
        assert_eq!(
            path(&notified),
            "Findings > Route > Decide > Notify > PublishNotification"
        );
        let failed = run(&default_group, vec![]).await;
        assert_eq!(
            failed.status, "SUCCEEDED",
            "a failed remediation is handled, not a failed run"
        );
        assert_eq!(failed.task_errors, ["Hubfix.PluginUnknown"]);
        assert_eq!(
            path(&failed),
            "Findings > Route > Decide > Remediate > RemediationFailed > EnqueueFailure > \
         PublishFailure"
        );

        // An RDS.13 finding about an instance that no longer exists: the plugin skips it
        // as stale, the finding becomes NOTIFIED and the manual topic hears of it.
        let mut gone = fresh(account_finding(account, "RDS.13"));
        gone["Resources"] = json!([{
            "Type": "AwsRdsDbInstance",
            "Id": format!("arn:aws:rds:{}:{account}:db:gone", gone["Region"].as_str().unwrap()),
        }]);
        stack.import(std::slice::from_ref(&gone)).await.unwrap();
        let skipped = run(&gone, vec![]).await;
        assert_eq!(skipped.status, "SUCCEEDED", "{skipped:?}");
        assert_eq!(
            path(&skipped),
            "Findings > Route > Decide > Remediate > EnqueueResult > WasSkipped > PublishSkipped"
        );

        // A finding without an `Id` cannot be updated: the router keeps it in S3 by its
        // sha256 and the manual topic hears where.
        let nameless = json!({"AwsAccountId": account, "Title": "a finding without an Id"});
        let kept = run(&nameless, vec![]).await;
        assert_eq!(kept.status, "SUCCEEDED", "{kept:?}");
        assert_eq!(
            path(&kept),
            "Findings > Route > Decide > PublishNotification"
        );

        // What the state machine queued, the archiver writes.
        let drained = drain(&stack, &functions.archiver, 100).await.unwrap();
        assert!(drained.report.failed.is_empty(), "{:?}", drained.report);
        let findings = stack.findings(&[account]).await.unwrap();
        let status = |f: &Value| workflow(&findings, f["Id"].as_str().unwrap());
        assert_eq!(status(&password), "RESOLVED");
        assert_eq!(status(&ssh), "RESOLVED");
        assert_eq!(status(&bastion), "SUPPRESSED");
        assert_eq!(status(&mfa), "NOTIFIED");
        assert_eq!(status(&default_group), "NOTIFIED");
        let failure_note = note(&findings, default_group["Id"].as_str().unwrap());
        assert!(
            failure_note.contains("could not remediate EC2.2")
                && failure_note.contains("Hubfix.PluginUnknown"),
            "{failure_note}"
        );
        let published = stack.take_all(&stack.topic_reader_url).await.unwrap();
        assert_eq!(
            published.len(),
            4,
            "the notify-only finding, the failure, the skipped remediation and the nameless \
             finding: {published:?}"
        );
        assert_eq!(status(&gone), "NOTIFIED");
        assert!(
            published
                .iter()
                .any(|m| m.contains(gone["Id"].as_str().unwrap()) && m.contains("did not act")),
            "{published:?}"
        );
        let report: Value = published
            .iter()
            .filter_map(|m| serde_json::from_str::<Value>(m).ok())
            .find(|m| m.get("sha256").is_some())
            .expect("a message about the nameless finding");
        let stored: hubfix_pipeline::s3::S3Url =
            report["stored"].as_str().unwrap().parse().unwrap();
        let object = hubfix_tests::s3_client(&base, None)
            .get_object()
            .bucket(&stored.bucket)
            .key(stored.prefix.trim_end_matches('/'))
            .send()
            .await
            .unwrap();
        let bytes = object.body.collect().await.unwrap().into_bytes();
        assert_eq!(report["size"], bytes.len());
        assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), nameless);
        assert!(
            member
                .password_policy()
                .await
                .unwrap()
                .unwrap()
                .minimum_password_length
                >= Some(14)
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn ocsf_findings_are_fixed_by_the_state_machine_and_written_back_with_v2() {
    // The body's future is large in debug builds: on the heap, not the test thread's stack.
    Box::pin(async move {
        if !emulator_available(
            "ocsf_findings_are_fixed_by_the_state_machine_and_written_back_with_v2",
        ) {
            return;
        }
        let _serial = SERIAL.lock().await;
        let base = base_config().await;
        let account = "878787878787";
        let (member, open, stack, machine, functions) =
            Box::pin(open_group_and_stack(&base, account, "ocsf-open"))
                .await
                .unwrap();
        let rule = Rule::create(&base, &stack).await.unwrap();

        // One check reported twice (ASFF and OCSF), and an approved bastion in OCSF.
        let asff = fresh(group_finding(account, "EC2.53", &open));
        let ocsf = ocsf_group_finding(account, "EC2.53", &open);
        let bastion = ocsf_group_finding(account, "EC2.53", "sg-0ba58888");
        let uid = |f: &Value| f["finding_info"]["uid"].as_str().unwrap().to_owned();
        emulator::clear_requests().unwrap();
        stack
            .import_v2(&[ocsf.clone(), bastion.clone()])
            .await
            .unwrap();
        stack.import(std::slice::from_ref(&asff)).await.unwrap();

        // The template's rule matches "Findings Imported V2" events.
        let ours = [uid(&ocsf), uid(&bastion)];
        let v2_events: Vec<Value> = rule
            .delivered(&stack)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e["detail-type"] == "Findings Imported V2")
            .filter(|e| {
                ours.iter()
                    .any(|u| e["detail"]["findings"][0]["finding_info"]["uid"] == u.as_str())
            })
            .collect();
        assert_eq!(v2_events.len(), 2, "{v2_events:?}");

        let path = |e: &hubfix_tests::stepfunctions::Execution| e.states.join(" > ");
        for event in &v2_events {
            let run = Box::pin(machine.run(&functions, event, &[])).await.unwrap();
            assert_eq!(run.status, "SUCCEEDED", "{run:?}");
            let about = &event["detail"]["findings"][0];
            if about["finding_info"]["uid"] == uid(&ocsf).as_str() {
                assert!(
                    path(&run).ends_with("Remediate > EnqueueResult > WasSkipped > Remediated"),
                    "{}",
                    path(&run)
                );
            } else {
                assert_eq!(path(&run), "Findings > Route > Decide > EnqueueUpdate");
            }
        }
        let seeded = Seeded {
            member,
            control: "EC2.53",
            finding: asff.clone(),
            resource: open.clone(),
        };
        assert!(
            compliant(&seeded).await.unwrap(),
            "the OCSF finding's group was not fixed"
        );
        // Its ASFF twin then finds the check already fixed.
        let twin = json!({"detail-type": "Security Hub Findings - Imported",
                          "resources": [asff["Id"]], "detail": {"findings": [asff]}});
        let run = Box::pin(machine.run(&functions, &twin, &[])).await.unwrap();
        assert_eq!(run.status, "SUCCEEDED", "{run:?}");

        let drained = drain(&stack, &functions.archiver, 100).await.unwrap();
        assert!(drained.report.failed.is_empty(), "{:?}", drained.report);
        assert_eq!(drained.report.updated, 3);

        let v2 = stack.findings_v2(account).await.unwrap();
        let fixed = &v2[&uid(&ocsf)];
        assert_eq!(
            (fixed["status_id"].as_i64(), fixed["status"].as_str()),
            (Some(4), Some("Resolved"))
        );
        let comment = fixed["comment"].as_str().unwrap_or_default();
        assert!(comment.starts_with("hubfix remediated"), "{comment}");
        let suppressed = &v2[&uid(&bastion)];
        assert_eq!(suppressed["status_id"].as_i64(), Some(3));
        assert!(
            suppressed["comment"]
                .as_str()
                .unwrap_or_default()
                .contains("SEC-123"),
            "{suppressed}"
        );
        let asff_now = stack.findings(&[account]).await.unwrap();
        assert_eq!(
            workflow(&asff_now, asff["Id"].as_str().unwrap()),
            "RESOLVED"
        );
        // V2 updates went through BatchUpdateFindingsV2, never the v1 API.
        let requests = emulator::control("GET", "/moto-ext/requests", None).unwrap();
        assert!(
            requests["PATCH /findingsv2/batchupdatev2"]["200"].as_u64() >= Some(1),
            "{requests}"
        );

        rule.delete().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_actions_plan_then_remediate_a_finding_whatever_its_workflow() {
    // The body's future is large in debug builds: on the heap, not the test thread's stack.
    Box::pin(async move {
        if !emulator_available("custom_actions_plan_then_remediate_a_finding_whatever_its_workflow")
        {
            return;
        }
        let _serial = SERIAL.lock().await;
        let base = base_config().await;
        let account = "676767676767";
        let (member, open, stack, machine, functions) =
            Box::pin(open_group_and_stack(&base, account, "asked"))
                .await
                .unwrap();
        // A person already looked at it: automatic remediation leaves NOTIFIED findings alone.
        let mut finding = fresh(group_finding(account, "EC2.53", &open));
        finding["Workflow"]["Status"] = json!("NOTIFIED");
        stack.import(std::slice::from_ref(&finding)).await.unwrap();
        let id = finding["Id"].as_str().unwrap();
        let seeded = Seeded {
            member,
            control: "EC2.53",
            finding: finding.clone(),
            resource: open.clone(),
        };
        let asked = |action: &str| {
            json!({
                "detail-type": hubfix_pipeline::route::CUSTOM_ACTION_EVENT,
                "resources": [format!("arn:aws:securityhub:us-east-1:123456789012:action/custom/{action}")],
                "detail": {"actionName": action, "actionDescription": "chosen by an analyst",
                           "findings": [finding]},
            })
        };
        let path = |e: &hubfix_tests::stepfunctions::Execution| e.states.join(" > ");

        // Plan: nothing changes; the note lists the calls a remediation would make.
        let event = asked(hubfix_pipeline::route::PLAN_ACTION_ID);
        let planned = Box::pin(machine.run(&functions, &event, &[])).await.unwrap();
        assert_eq!(planned.status, "SUCCEEDED", "{planned:?}");
        assert!(path(&planned).contains("Remediate > EnqueueResult"), "{}", path(&planned));
        drain(&stack, &functions.archiver, 10).await.unwrap();
        assert!(!compliant(&seeded).await.unwrap(), "a plan changed the group");
        let findings = stack.findings(&[account]).await.unwrap();
        assert_eq!(workflow(&findings, id), "NOTIFIED");
        let text = note(&findings, id);
        assert!(text.starts_with("hubfix planned"), "{text}");
        assert!(text.contains("calls:") && text.contains(&open), "{text}");

        // Remediate: fixed, although the finding is NOTIFIED.
        let event = asked(hubfix_pipeline::route::REMEDIATE_ACTION_ID);
        let fixed = Box::pin(machine.run(&functions, &event, &[])).await.unwrap();
        assert_eq!(fixed.status, "SUCCEEDED", "{fixed:?}");
        drain(&stack, &functions.archiver, 10).await.unwrap();
        assert!(compliant(&seeded).await.unwrap(), "the custom action did not fix the group");
        let findings = stack.findings(&[account]).await.unwrap();
        assert_eq!(workflow(&findings, id), "RESOLVED");
        assert!(note(&findings, id).starts_with("hubfix remediated"), "{}", note(&findings, id));

        // The same finding imported again (NOTIFIED) is left alone without a person asking.
        let imported = json!({"detail-type": "Security Hub Findings - Imported",
                              "resources": [id], "detail": {"findings": [finding]}});
        let left = Box::pin(machine.run(&functions, &imported, &[])).await.unwrap();
        assert!(!path(&left).contains("Remediate"), "{}", path(&left));
    })
    .await
}

/// A member account with an admin port open to the world on a new group (named from
/// `name`), and a stack with the bastion exception that publishes only
/// ec2-restrict-admin-ports: the member, the group, the stack, the real state machine and
/// the handlers.
async fn open_group_and_stack(
    base: &aws_config::SdkConfig,
    account: &str,
    name: &str,
) -> anyhow::Result<(Member, String, Stack, StateMachine, Functions)> {
    let member = Member::assume(base, account).await?;
    let open = member
        .seed_open_admin_group(&format!("{name}-{}", hubfix_tests::unique_suffix()))
        .await?;
    let stack = Stack::deploy(
        base,
        &policy_files(&[("exceptions.toml", EXCEPTIONS)])?,
        &[&*EC2_RESTRICT_ADMIN_PORTS],
    )
    .await?;
    let machine = StateMachine::create(base, &stack).await?;
    let functions = Functions::new(base, &stack, fast_archiver())?;
    Ok((member, open, stack, machine, functions))
}

/// Each expected (account, control, finding id) remediation is in the audit trail, found
/// by account and control, with the plugin's digest and its mutating calls; nothing is found from a
/// future date.
async fn audit_trail_holds_each_remediation(
    base: aws_config::SdkConfig,
    audit_url: String,
    expected: Vec<(String, String, String)>,
) -> anyhow::Result<()> {
    let trail = AuditTrail::new(hubfix_tests::s3_client(&base, None), audit_url.parse()?);
    for (account, control, id) in expected {
        let filter = HistoryFilter {
            account: Some(account),
            control: Some(control),
            since: None,
            limit: 10,
        };
        let records = trail.list(&filter).await?;
        let record = records
            .iter()
            .find(|r| r.finding.id == id)
            .ok_or_else(|| anyhow::anyhow!("no audit record of {id}: {records:?}"))?;
        anyhow::ensure!(record.outcome["status"] == "remediated", "{record:?}");
        anyhow::ensure!(
            record.outcome["plugin"]["sha256"].as_str().map(str::len) == Some(64),
            "{record:?}"
        );
        anyhow::ensure!(
            record.outcome["calls"]
                .as_array()
                .is_some_and(|calls| calls.iter().any(|c| c["mutating"] == true)),
            "{record:?}"
        );
        let later = HistoryFilter {
            since: Some("2999-01-01".into()),
            ..filter
        };
        anyhow::ensure!(trail.list(&later).await?.is_empty());
    }
    Ok(())
}
