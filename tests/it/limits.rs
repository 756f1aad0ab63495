use std::time::Duration;

use anyhow::Result;
use hubfix_host::{CallResult, Failure, HostConfig, Mode, Status};
use hubfix_tests::{EC2_EBS_DEFAULT_ENCRYPTION, Member, account_finding, base_config};

use crate::common::{load, load_with, require_emulator, run, runtime_with};

/// Every misbehaving guest ends with a typed failure, and the same runtime then serves
/// a normal remediation.
#[tokio::test]
async fn misbehaving_guests_end_typed_and_the_host_keeps_serving() -> Result<()> {
    require_emulator!();
    let rt = runtime_with(HostConfig {
        deadline: Duration::from_secs(2),
        memory_limit: 32 << 20,
        max_calls: 25,
        ..HostConfig::default()
    })
    .await?;
    let grants = [
        "ec2.revoke-security-group-ingress",
        "ec2.get-ebs-encryption-by-default",
    ];
    let misbehave = load_with(&rt, "misbehave", &grants).await?;
    let good = load(&rt, &EC2_EBS_DEFAULT_ENCRYPTION).await?;
    let member = Member::assume(&base_config().await, "260000000001").await?;
    let finding = account_finding(&member.account, "EC2.7");

    let cases = [
        ("loop", Failure::Deadline),
        ("memory-bomb", Failure::MemoryLimit),
        ("panic", Failure::Trap),
        ("call-storm", Failure::CallLimit),
        ("log-storm", Failure::CallLimit),
    ];
    for (behavior, failure) in cases {
        let bad = run(
            &rt,
            &misbehave,
            &finding,
            &[("behavior", behavior)],
            Mode::Apply,
        )
        .await?;
        assert_eq!(bad.status, Status::Failed, "{behavior}: {}", bad.message);
        assert_eq!(bad.failure, Some(failure), "{behavior}: {}", bad.message);
        if behavior == "panic" {
            assert!(bad.message.contains("panicked at"), "{}", bad.message);
            assert!(bad.logs.iter().any(|l| l.level == "stderr"));
        }
        if behavior == "call-storm" {
            assert_eq!(bad.calls.len(), 25);
            assert!(bad.calls.iter().all(|c| c.result == CallResult::Ok));
        }
        if behavior == "log-storm" {
            // 2,000 calls of a 64 KiB line: the 1,001st ends it; 256 lines of at most
            // 4 KiB are kept, their escape characters escaped.
            assert!(bad.message.contains("1000 log calls"), "{}", bad.message);
            assert_eq!(bad.logs.len(), 256);
            assert!(bad.logs.iter().all(|l| l.message.len() <= 4096 + 3
                && l.message.starts_with("\\u{1b}")
                && !l.message.contains('\u{1b}')));
        }

        member.disable_ebs_default_encryption().await?;
        let ok = run(&rt, &good, &finding, &[], Mode::Apply).await?;
        assert_eq!(
            ok.status,
            Status::Remediated,
            "after {behavior}: {}",
            ok.message
        );
        assert!(member.ebs_default_encryption().await?);
    }
    Ok(())
}

#[tokio::test]
async fn plugin_logs_are_kept_with_the_outcome() -> Result<()> {
    require_emulator!();
    let rt = runtime_with(HostConfig::default()).await?;
    let plugin = load_with(
        &rt,
        "misbehave",
        &[
            "ec2.revoke-security-group-ingress",
            "ec2.get-ebs-encryption-by-default",
        ],
    )
    .await?;
    let outcome = run(
        &rt,
        &plugin,
        &account_finding("260000000002", "EC2.7"),
        &[("behavior", "log")],
        Mode::Apply,
    )
    .await?;
    assert_eq!(outcome.status, Status::Skipped);
    let levels: Vec<&str> = outcome.logs.iter().map(|l| l.level).collect();
    assert_eq!(levels, ["debug", "info", "warn", "error"]);
    Ok(())
}
