use std::time::Duration;

use anyhow::Result;
use hubfix_host::{CallResult, Failure, HostConfig, Mode, Status};
use hubfix_tests::{
    EC2_EBS_DEFAULT_ENCRYPTION, MISBEHAVE_GRANTS, Member, account_finding, base_config,
};

use crate::common::{load, load_with, require_emulator, run, runtime_with};
use crate::peak::peak_heap;

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
    let misbehave = load_with(&rt, "misbehave", &MISBEHAVE_GRANTS).await?;
    let good = load(&rt, &EC2_EBS_DEFAULT_ENCRYPTION).await?;
    let member = Member::assume(&base_config().await, "260000000001").await?;
    let finding = account_finding(&member.account, "EC2.7");

    let cases = [
        ("loop", Failure::Deadline),
        ("memory-bomb", Failure::MemoryLimit),
        ("panic", Failure::Trap),
        ("call-storm", Failure::CallLimit),
        ("log-storm", Failure::CallLimit),
        ("empty-revoke-storm", Failure::CallLimit),
    ];
    for (behavior, failure) in cases {
        let (bad, peak) = peak_heap(run(
            &rt,
            &misbehave,
            &finding,
            &[("behavior", behavior)],
            Mode::Apply,
        ))
        .await;
        let bad = bad?;
        // Guest memory is not host heap: whatever the guest does inside its own 32 MiB,
        // the host holds little (the log storm's 1,001 lines of 64 KiB included).
        assert!(peak <= 8 << 20, "{behavior}: peak heap {peak} bytes");
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
        if behavior == "empty-revoke-storm" {
            // A million revokes of no rule: each is refused for its input, charged and
            // recorded, and the 26th ends the remediation.
            assert!(bad.message.contains("25 host calls"), "{}", bad.message);
            assert_eq!(bad.calls.len(), 25);
            assert!(bad.calls.iter().all(|c| {
                c.result == CallResult::Invalid
                    && c.error
                        .as_deref()
                        .is_some_and(|e| e.contains("no rule ids"))
            }));
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
    let plugin = load_with(&rt, "misbehave", &MISBEHAVE_GRANTS).await?;
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

/// Huge guest strings: each call with a 4 MiB id is refused before AWS with a short
/// prefix recorded, the message names 16 denials and counts the rest, a 16 MiB message
/// is cut to 4 KiB; the host's heap never holds more than a few copies of the largest
/// single string the guest sent (the bindings copy each argument out of guest memory).
#[tokio::test]
async fn huge_guest_strings_leave_a_small_outcome_and_bounded_host_memory() -> Result<()> {
    require_emulator!();
    let rt = runtime_with(HostConfig {
        max_calls: 400,
        ..HostConfig::default()
    })
    .await?;
    let misbehave = load_with(&rt, "misbehave", &MISBEHAVE_GRANTS).await?;
    let finding = account_finding("260000000003", "EC2.7");

    // 199 × (a denied revoke and a refused read), each with a 4 MiB id: before the bound,
    // every copy was kept (7.4 GB).
    const MIB: usize = 1 << 20;
    let (ids, peak) = peak_heap(run(
        &rt,
        &misbehave,
        &finding,
        &[("behavior", "huge-ids"), ("count", "199")],
        Mode::Apply,
    ))
    .await;
    let ids = ids?;
    assert!(peak <= 3 * 4 * MIB + 4 * MIB, "peak heap {peak} bytes");
    assert_eq!(ids.status, Status::Denied, "{}", &ids.message[..200]);
    assert_eq!(ids.calls.len(), 398);
    // The revokes are refused by the gate (the record keeps a 64-byte prefix); the reads
    // by their own id check, before the id becomes a filter value.
    let (revokes, reads): (Vec<_>, Vec<_>) = ids.calls.iter().partition(|c| c.mutating);
    assert!(revokes.iter().all(|c| c.result == CallResult::Denied
        && c.resource.as_ref().is_some_and(|r| r.len() <= 64 + 3)));
    assert!(reads.iter().all(
        |c| c.result == CallResult::Invalid && c.error.as_ref().is_some_and(|e| e.len() < 400)
    ));
    assert!(
        ids.message.starts_with("host denied 199 call(s): "),
        "{}",
        &ids.message[..200]
    );
    assert!(
        ids.message
            .contains("; and 183 more; plugin said: 398 calls"),
        "{}",
        ids.message
    );
    assert!(
        ids.message.len() <= 16 * 200 + 4096,
        "{}",
        ids.message.len()
    );
    let json = serde_json::to_string(&ids)?;
    assert!(
        json.len() < 200 << 10,
        "outcome JSON of {} bytes",
        json.len()
    );

    let (message, peak) = peak_heap(run(
        &rt,
        &misbehave,
        &finding,
        &[("behavior", "huge-message")],
        Mode::Apply,
    ))
    .await;
    let message = message?;
    assert!(peak <= 3 * 16 * MIB + 4 * MIB, "peak heap {peak} bytes");
    assert_eq!(message.status, Status::Skipped);
    assert!(
        message.message.len() <= 4096 + 3,
        "{}",
        message.message.len()
    );
    assert!(message.message.starts_with("\\u{1b}") && !message.message.contains('\u{1b}'));

    // The same runtime still serves a normal remediation.
    let noop = run(
        &rt,
        &misbehave,
        &finding,
        &[("behavior", "noop")],
        Mode::Apply,
    )
    .await?;
    assert_eq!(noop.status, Status::Skipped, "{}", noop.message);
    Ok(())
}
