use anyhow::Result;
use hubfix_finding::{Finding, FindingError};
use hubfix_host::{Grants, LoadError, Mode, Status, sha256_hex};
use hubfix_tests::{EC2_RESTRICT_ADMIN_PORTS, account_finding, plugin_bytes};

use crate::common::{load, require_emulator, run, runtime};

#[tokio::test]
async fn a_finding_without_the_resource_the_plugin_needs_is_skipped_cleanly() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    let plugin = load(&rt, &EC2_RESTRICT_ADMIN_PORTS).await?;
    // An EC2.53 finding that names only the account, not a security group.
    let outcome = run(
        &rt,
        &plugin,
        &account_finding("270000000001", "EC2.53"),
        &[],
        Mode::Apply,
    )
    .await?;
    assert_eq!(outcome.status, Status::Skipped, "{}", outcome.message);
    assert!(
        outcome.message.contains("AwsEc2SecurityGroup"),
        "{}",
        outcome.message
    );
    assert!(outcome.calls.is_empty());
    Ok(())
}

#[test]
fn malformed_findings_get_typed_errors() {
    let cases = [
        ("{", "not valid JSON"),
        ("42", "expected a JSON object or array"),
        (r#"{"Id": "x"}"#, "lacks required field `ProductArn`"),
        (
            r#"{"Id":"x","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/securityhub","GeneratorId":"g","AwsAccountId":"1234","Region":"us-east-1","Resources":[]}"#,
            "is not 12 ASCII digits",
        ),
        (
            r#"{"Id":"x","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/securityhub","GeneratorId":"g","AwsAccountId":"123456789012","Region":"us-east-1","Resources":[{"Id":"r"}]}"#,
            "every resource needs a `Type` and an `Id`",
        ),
        (
            r#"{"detail": {"findings": "no"}}"#,
            "without detail.findings",
        ),
    ];
    for (text, expected) in cases {
        let err: FindingError = Finding::parse_all(text).expect_err(text);
        assert!(err.to_string().contains(expected), "{text}: {err}");
    }
}

#[tokio::test]
async fn tampered_or_invalid_plugins_are_refused_before_compiling() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    let bytes = plugin_bytes(EC2_RESTRICT_ADMIN_PORTS.name)?;
    let pinned = sha256_hex(&bytes);
    let grants = || Grants::new(&EC2_RESTRICT_ADMIN_PORTS.grants);

    let mut tampered = bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    match rt.load(&tampered, &pinned, grants()?).await {
        Err(LoadError::Integrity { expected, actual }) => {
            assert_eq!(expected, pinned);
            assert_eq!(actual, sha256_hex(&tampered));
        }
        Err(e) => panic!("expected an integrity error, got {e}"),
        Ok(_) => panic!("a tampered plugin loaded"),
    }

    let garbage = b"not a component".to_vec();
    match rt.load(&garbage, &sha256_hex(&garbage), grants()?).await {
        Err(LoadError::InvalidComponent(_)) => {}
        Err(e) => panic!("expected InvalidComponent, got {e}"),
        Ok(_) => panic!("garbage loaded"),
    }
    Ok(())
}

#[test]
fn unknown_grants_are_refused() {
    let err = Grants::new(["ec2.terminate-instances"]).expect_err("unknown grant");
    assert!(err.to_string().contains("ec2.terminate-instances"));
}
