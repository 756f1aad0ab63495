use anyhow::Result;
use hubfix_host::{CallResult, LoadError, Mode, Status};
use hubfix_tests::{
    EC2_DEFAULT_SG_RESTRICT, EC2_EBS_DEFAULT_ENCRYPTION, EC2_RESTRICT_ADMIN_PORTS,
    IAM_PASSWORD_POLICY, MISBEHAVE_GRANTS, Member, account_finding, base_config, group_finding,
    plugin_bytes,
};

use crate::common::{load, load_with, mutating_ops, require_emulator, run, runtime};

#[tokio::test]
async fn a_plugin_importing_an_ungranted_function_is_refused_at_load() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    let err = load_with(
        &rt,
        EC2_RESTRICT_ADMIN_PORTS.name,
        &["ec2.describe-security-group-rules"],
    )
    .await
    .err()
    .map(|e| e.downcast::<LoadError>());
    match err {
        Some(Ok(LoadError::MissingGrants { missing })) => {
            assert_eq!(
                missing,
                [
                    "ec2.authorize-security-group-ingress",
                    "ec2.revoke-security-group-ingress"
                ]
            );
        }
        other => panic!("expected MissingGrants, got {other:?}"),
    }
    // Nothing granted at all: every AWS import is missing.
    let err = load_with(&rt, "misbehave", &[] as &[&str])
        .await
        .err()
        .map(|e| e.to_string());
    let text = err.unwrap_or_default();
    assert!(text.contains("ec2.get-ebs-encryption-by-default"), "{text}");
    assert!(text.contains("ec2.revoke-security-group-ingress"), "{text}");
    Ok(())
}

#[tokio::test]
async fn imports_list_exactly_the_functions_a_plugin_calls() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    // The shipped policy grants each plugin exactly what its component imports.
    for spec in [
        &*IAM_PASSWORD_POLICY,
        &*EC2_RESTRICT_ADMIN_PORTS,
        &*EC2_DEFAULT_SG_RESTRICT,
        &*EC2_EBS_DEFAULT_ENCRYPTION,
    ] {
        let imports = rt.inspect(&plugin_bytes(spec.name)?)?;
        let mut expected = spec.grant_names();
        expected.sort_unstable();
        assert_eq!(imports.functions, expected, "{}", spec.name);
        assert!(imports.forbidden.is_empty(), "{:?}", imports.forbidden);
        assert!(
            imports.wasi.iter().all(|w| !w.contains("sockets")),
            "{:?}",
            imports.wasi
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_call_on_a_resource_outside_the_finding_is_denied_before_aws() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    let plugin = load_with(&rt, "misbehave", &MISBEHAVE_GRANTS).await?;
    let member = Member::assume(&base_config().await, "250000000001").await?;
    let named = member.seed_open_admin_group("named-by-finding").await?;
    let other = member.seed_open_admin_group("not-named").await?;
    let before = member.rules(&other).await?;
    let finding = group_finding(&member.account, "EC2.53", &named);

    let outcome = run(
        &rt,
        &plugin,
        &finding,
        &[("behavior", "out-of-scope"), ("group-id", other.as_str())],
        Mode::Apply,
    )
    .await?;
    assert_eq!(outcome.status, Status::Denied, "{}", outcome.message);
    assert_eq!(outcome.calls.len(), 1);
    let call = &outcome.calls[0];
    assert_eq!(call.result, CallResult::Denied);
    assert_eq!(call.resource.as_deref(), Some(other.as_str()));
    assert!(
        outcome.message.contains("names no AwsEc2SecurityGroup"),
        "{}",
        outcome.message
    );
    assert_eq!(
        member.rules(&other).await?,
        before,
        "the other group is untouched"
    );
    Ok(())
}

/// A plugin runs only for the controls its describe() names: misbehave names EC2.7 and
/// EC2.53, so an IAM.4 finding is refused before the plugin is instantiated.
#[tokio::test]
async fn a_plugin_is_not_run_for_a_control_it_does_not_handle() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    let plugin = load_with(&rt, "misbehave", &MISBEHAVE_GRANTS).await?;
    assert_eq!(plugin.controls(), ["EC2.7", "EC2.53"]);
    let outcome = run(
        &rt,
        &plugin,
        &account_finding("250000000009", "IAM.4"),
        &[("behavior", "call-storm")],
        Mode::Apply,
    )
    .await?;
    assert_eq!(outcome.status, Status::Denied, "{}", outcome.message);
    assert!(outcome.calls.is_empty());
    assert!(
        outcome
            .message
            .contains("for control IAM.4: its describe() names only [EC2.7, EC2.53]"),
        "{}",
        outcome.message
    );
    Ok(())
}

#[tokio::test]
async fn an_account_level_change_needs_a_finding_about_the_account() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    let plugin = load(&rt, &EC2_EBS_DEFAULT_ENCRYPTION).await?;
    let member = Member::assume(&base_config().await, "250000000002").await?;
    member.disable_ebs_default_encryption().await?;
    let group = member.seed_open_admin_group("sg-finding").await?;

    // A finding about a security group does not license an account-wide setting.
    let outcome = run(
        &rt,
        &plugin,
        &group_finding(&member.account, "EC2.7", &group),
        &[],
        Mode::Apply,
    )
    .await?;
    assert_eq!(outcome.status, Status::Denied, "{}", outcome.message);
    assert_eq!(
        mutating_ops(&outcome),
        ["EnableEbsEncryptionByDefault:Denied"]
    );
    assert!(!member.ebs_default_encryption().await?);

    // A finding about another account's AwsAccount resource never reaches the host: it is
    // refused as a confused deputy when it is read.
    let mut foreign = account_finding(&member.account, "EC2.7");
    foreign["Resources"][0]["Id"] = "AWS::::Account:999999999999".into();
    let err = run(&rt, &plugin, &foreign, &[], Mode::Apply)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("account 999999999999, not the finding's"),
        "{err}"
    );
    assert!(!member.ebs_default_encryption().await?);
    Ok(())
}
