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

/// The malformed and hostile findings of `tests/cases/findings/` reach no AWS API through
/// the host: each is refused before the registry, STS or any service is called. The
/// emulator counts this test's requests by its own access key, so what other tests do at
/// the same time does not blur the count; one valid finding at the end shows the count
/// does see this host's calls.
#[tokio::test]
async fn the_host_refuses_every_malformed_finding_before_any_aws_call() -> Result<()> {
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use hubfix_pipeline::ErrorName;
    use hubfix_pipeline::host::{HostService, HostSettings};
    use serde_json::json;

    require_emulator!();
    let key = format!("AKIDCORPUS{}", hubfix_tests::unique_suffix());
    let aws = hubfix_tests::base_config()
        .await
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            &key, "secret", None, None, "corpus",
        )))
        .build();
    let host = HostService::new(
        &HostSettings {
            registry: format!(
                "s3://hubfix-corpus-{}/plugins",
                hubfix_tests::unique_suffix()
            )
            .parse()?,
            role_name: hubfix_tests::ROLE_NAME.into(),
            cache_dir: std::env::temp_dir()
                .join(format!("hubfix-corpus-{}", hubfix_tests::unique_suffix())),
            deadline: std::time::Duration::from_secs(30),
            trusted_keys: None,
            audit: None,
        },
        aws,
    )?;
    let request = |finding: serde_json::Value| {
        json!({
            "finding": finding,
            "control": "EC2.53",
            "plugin": {"name": EC2_RESTRICT_ADMIN_PORTS.name, "version": "0.1.0"},
            "grants": EC2_RESTRICT_ADMIN_PORTS.grants,
            "params": {},
        })
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/findings");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    let (mut refused, mut valid) = (0, None);
    for path in &paths {
        let text = std::fs::read_to_string(path)?;
        let (header, body) = text.split_once('\n').unwrap_or((&text, ""));
        let name = path.display();
        // The Lambda's payload type refuses repeated keys and deep nesting itself.
        let Ok(hubfix_finding::StrictValue(finding)) = serde_json::from_str(body) else {
            refused += 1;
            continue;
        };
        if header == "// ok" {
            valid.get_or_insert(finding);
            continue;
        }
        let error = host
            .handle(request(finding))
            .await
            .expect_err(&name.to_string());
        assert_eq!(error.name, ErrorName::InvalidFinding, "{name}: {error:?}");
        refused += 1;
    }
    assert!(refused >= 50, "{refused} cases refused");
    let by_key = crate::common::requests_by_access_key()?;
    assert!(
        by_key.get(&key).is_none(),
        "malformed findings reached AWS: {}",
        by_key[&key]
    );

    // A valid finding does reach AWS (the registry; its bucket does not exist).
    let valid = valid.expect("a valid case");
    assert!(host.handle(request(valid)).await.is_err());
    let by_key = crate::common::requests_by_access_key()?;
    assert!(
        by_key[&key]
            .as_object()
            .is_some_and(|calls| !calls.is_empty()),
        "{by_key}"
    );
    Ok(())
}
