//! Host functions against SDK clients from aws-smithy-mocks: what reaches the SDK, what
//! never does, and how answers map to the contract.

use std::sync::Arc;

use aws_sdk_ec2::operation::get_ebs_encryption_by_default::GetEbsEncryptionByDefaultOutput;
use aws_sdk_ec2::operation::revoke_security_group_ingress::{
    RevokeSecurityGroupIngressError, RevokeSecurityGroupIngressOutput,
};
use aws_sdk_iam::operation::get_account_password_policy::GetAccountPasswordPolicyError;
use aws_sdk_iam::operation::update_account_password_policy::UpdateAccountPasswordPolicyOutput;
use aws_sdk_iam::types::error::NoSuchEntityException;
use aws_smithy_types::error::ErrorMetadata;
use hubfix_mocks::{Rule, RuleMode, mock, mock_client};

use super::{AwsClients, CallError, LimitExceeded, PluginCtx, Session};
use crate::bindings::ec2::Host as _;
use crate::bindings::iam::{Host as _, PasswordPolicy};
use crate::bindings::types::{AwsError, Mode};
use crate::functions::Grants;
use crate::outcome::CallResult;
use crate::scope::Scope;

const ALL: &[&str] = &[
    "ec2.revoke-security-group-ingress",
    "ec2.get-ebs-encryption-by-default",
    "iam.get-account-password-policy",
    "iam.update-account-password-policy",
];

/// The plugin context the service modules' mock tests run in: a finding of account
/// 111111111111 in `region` about `resources`, the host's clients with `mock` (one
/// service's aws-smithy-mocks client) in place of that service's, and `grants`.
pub(super) fn mock_ctx<C: std::any::Any + Clone + Send + Sync>(
    region: &str,
    resources: serde_json::Value,
    mock: C,
    grants: &[&str],
    mode: Mode,
    max_calls: u32,
) -> PluginCtx {
    let finding = crate::scope::tests::unchecked_finding("111111111111", region, resources);
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    PluginCtx::new(
        Scope::of(&finding, crate::DEFAULT_CREATE_PREFIX),
        Arc::new(Grants::new(grants).unwrap()),
        mode,
        Session::Ready(AwsClients::from_sdk_config(&config).with_client(mock)),
        max_calls,
    )
}

fn sg_scope() -> Scope {
    let finding = crate::scope::tests::unchecked_finding(
        "111111111111",
        "us-east-1",
        serde_json::json!([{"Type": "AwsEc2SecurityGroup",
                       "Id": "arn:aws:ec2:us-east-1:111111111111:security-group/sg-11111111"}]),
    );
    Scope::of(&finding, crate::DEFAULT_CREATE_PREFIX)
}

fn ctx(
    ec2_rules: &[&Rule],
    iam_rules: &[&Rule],
    grants: &[&str],
    mode: Mode,
    max_calls: u32,
) -> PluginCtx {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let clients = AwsClients::from_sdk_config(&config)
        .with_client(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, ec2_rules))
        .with_client(mock_client!(aws_sdk_iam, RuleMode::MatchAny, iam_rules));
    PluginCtx::new(
        sg_scope(),
        Arc::new(Grants::new(grants).unwrap()),
        mode,
        Session::Ready(clients),
        max_calls,
    )
}

fn revoke_ok() -> Rule {
    mock!(aws_sdk_ec2::Client::revoke_security_group_ingress).then_output(|| {
        RevokeSecurityGroupIngressOutput::builder()
            .r#return(true)
            .build()
    })
}

#[tokio::test]
async fn out_of_scope_and_ungranted_calls_never_reach_the_sdk() {
    let revoke = revoke_ok();
    let update = mock!(aws_sdk_iam::Client::update_account_password_policy)
        .then_output(|| UpdateAccountPasswordPolicyOutput::builder().build());
    let grants = [
        "ec2.revoke-security-group-ingress",
        "iam.update-account-password-policy",
    ];
    let mut ctx = ctx(&[&revoke], &[&update], &grants, Mode::Apply, 10);

    // Another group than the finding's.
    let err = ctx
        .revoke_security_group_ingress("sg-22222222".into(), vec!["sgr-1".into()])
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("sg-22222222"))
    );
    // An account-wide change on a finding about a security group.
    let policy = PasswordPolicy {
        minimum_password_length: Some(14),
        require_symbols: true,
        require_numbers: true,
        require_uppercase_characters: true,
        require_lowercase_characters: true,
        allow_users_to_change_password: true,
        max_password_age: None,
        password_reuse_prevention: Some(24),
        hard_expiry: None,
    };
    let err = ctx
        .update_account_password_policy(policy)
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
    // A function that is not granted, on the right group.
    let err = ctx.get_ebs_encryption_by_default().await.unwrap_err();
    assert!(
        matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("not granted"))
    );

    assert_eq!(revoke.num_calls(), 0);
    assert_eq!(update.num_calls(), 0);
    let trail = ctx.into_trail();
    assert_eq!(trail.denials.len(), 3);
    assert!(trail.calls.iter().all(|c| c.result == CallResult::Denied));
}

#[tokio::test]
async fn an_in_scope_call_reaches_the_sdk_once_and_is_recorded() {
    let revoke = revoke_ok();
    let mut ctx = ctx(&[&revoke], &[], ALL, Mode::Apply, 10);
    ctx.revoke_security_group_ingress("sg-11111111".into(), vec!["sgr-1".into()])
        .await
        .unwrap();
    assert_eq!(revoke.num_calls(), 1);
    let trail = ctx.into_trail();
    assert_eq!(trail.calls.len(), 1);
    assert_eq!(trail.calls[0].operation, "RevokeSecurityGroupIngress");
    assert_eq!(trail.calls[0].result, CallResult::Ok);
    assert!(trail.calls[0].mutating);
}

#[tokio::test]
async fn plan_mode_records_mutations_without_making_them_and_still_reads() {
    let revoke = revoke_ok();
    let read = mock!(aws_sdk_ec2::Client::get_ebs_encryption_by_default).then_output(|| {
        GetEbsEncryptionByDefaultOutput::builder()
            .ebs_encryption_by_default(true)
            .build()
    });
    let mut ctx = ctx(&[&revoke, &read], &[], ALL, Mode::Plan, 10);
    assert!(ctx.get_ebs_encryption_by_default().await.unwrap());
    ctx.revoke_security_group_ingress("sg-11111111".into(), vec!["sgr-1".into()])
        .await
        .unwrap();
    assert_eq!(read.num_calls(), 1);
    assert_eq!(revoke.num_calls(), 0);
    let results: Vec<_> = ctx.into_trail().calls.iter().map(|c| c.result).collect();
    assert_eq!(results, [CallResult::Ok, CallResult::Planned]);
}

#[tokio::test]
async fn throttling_and_missing_resources_map_to_their_cases() {
    let throttled = mock!(aws_sdk_ec2::Client::revoke_security_group_ingress)
        .sequence()
        .error(|| {
            RevokeSecurityGroupIngressError::generic(
                ErrorMetadata::builder()
                    .code("RequestLimitExceeded")
                    .message("slow down")
                    .build(),
            )
        })
        .repeatedly()
        .build();
    let missing = mock!(aws_sdk_iam::Client::get_account_password_policy).then_error(|| {
        GetAccountPasswordPolicyError::NoSuchEntityException(
            NoSuchEntityException::builder()
                .message("no policy")
                .build(),
        )
    });
    let mut ctx = ctx(&[&throttled], &[&missing], ALL, Mode::Apply, 10);
    let err = ctx
        .revoke_security_group_ingress("sg-11111111".into(), vec!["sgr-1".into()])
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::Aws(AwsError::Throttled(ref m)) if m.contains("RequestLimitExceeded")),
        "{err:?}"
    );
    assert!(throttled.num_calls() >= 1);
    // No password policy is a state, not an error.
    assert!(ctx.get_account_password_policy().await.unwrap().is_none());
    let trail = ctx.into_trail();
    assert_eq!(trail.calls[0].result, CallResult::Throttled);
    assert_eq!(trail.calls[1].result, CallResult::Ok);
}

#[tokio::test]
async fn the_call_budget_ends_the_remediation() {
    let read = mock!(aws_sdk_ec2::Client::get_ebs_encryption_by_default)
        .sequence()
        .output(|| GetEbsEncryptionByDefaultOutput::builder().build())
        .repeatedly()
        .build();
    let mut ctx = ctx(&[&read], &[], ALL, Mode::Apply, 2);
    ctx.get_ebs_encryption_by_default().await.unwrap();
    ctx.get_ebs_encryption_by_default().await.unwrap();
    let err = ctx.get_ebs_encryption_by_default().await.unwrap_err();
    assert!(matches!(err, CallError::Limit(LimitExceeded::Calls(2))));
    assert_eq!(read.num_calls(), 2);
}

#[tokio::test]
async fn an_empty_rule_list_is_invalid_input_without_a_call() {
    let revoke = revoke_ok();
    let mut ctx = ctx(&[&revoke], &[], ALL, Mode::Apply, 10);
    let err = ctx
        .revoke_security_group_ingress("sg-11111111".into(), vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Aws(AwsError::InvalidInput(_))));
    assert_eq!(revoke.num_calls(), 0);
}

#[tokio::test]
async fn the_role_is_assumed_on_the_first_aws_call_and_a_refusal_is_kept() {
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;

    let refused = mock!(aws_sdk_sts::Client::assume_role).then_error(|| {
        AssumeRoleError::generic(
            ErrorMetadata::builder()
                .code("AccessDenied")
                .message("not trusted")
                .build(),
        )
    });
    let sts = mock_client!(aws_sdk_sts, [&refused]);
    let factory = super::SessionFactory {
        base: aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build(),
        sts,
        policy: Grants::new(ALL).unwrap().session_policy(&sg_scope()),
        partition: "aws".into(),
        account_id: "111111111111".into(),
        region: "us-east-1".into(),
        role_name: "HubfixRemediationRole".into(),
        control: "EC2.7".into(),
        finding_id: "f".into(),
        duration_secs: 900,
    };
    let mut ctx = PluginCtx::new(
        sg_scope(),
        Arc::new(Grants::new(ALL).unwrap()),
        Mode::Apply,
        Session::Lazy(Box::new(factory)),
        10,
    );
    assert_eq!(
        refused.num_calls(),
        0,
        "nothing assumed before the first call"
    );
    let first = ctx.get_ebs_encryption_by_default().await.unwrap_err();
    assert!(
        matches!(first, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("HubfixRemediationRole"))
    );
    let second = ctx.get_ebs_encryption_by_default().await.unwrap_err();
    assert!(matches!(second, CallError::Aws(AwsError::AccessDenied(_))));
    assert_eq!(
        refused.num_calls(),
        1,
        "a refusal is not retried within one remediation"
    );
    let trail = ctx.into_trail();
    assert!(trail.credentials_error.is_some());
    assert_eq!(trail.calls[0].result, CallResult::Error);
}

fn account_ctx(rules: &[&Rule], account: &str) -> PluginCtx {
    let finding = crate::scope::tests::unchecked_finding(
        "111111111111",
        "us-east-1",
        serde_json::json!([{"Type": "AwsAccount", "Id": format!("AWS::::Account:{account}")}]),
    );
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let clients = AwsClients::from_sdk_config(&config).with_client(mock_client!(
        aws_sdk_s3control,
        RuleMode::MatchAny,
        rules
    ));
    PluginCtx::new(
        Scope::of(&finding, crate::DEFAULT_CREATE_PREFIX),
        Arc::new(
            Grants::new([
                "s3control.get-public-access-block",
                "s3control.put-public-access-block",
            ])
            .unwrap(),
        ),
        Mode::Apply,
        Session::Ready(clients),
        10,
    )
}

#[tokio::test]
async fn s3control_acts_on_the_findings_account_and_reads_no_configuration_as_none() {
    use crate::bindings::s3control::{Host as _, PublicAccessBlock};
    use aws_sdk_s3control::operation::get_public_access_block::{
        GetPublicAccessBlockError, GetPublicAccessBlockOutput,
    };
    use aws_sdk_s3control::operation::put_public_access_block::PutPublicAccessBlockOutput;

    let missing = mock!(aws_sdk_s3control::Client::get_public_access_block)
        .match_requests(|r| r.account_id() == Some("111111111111"))
        .then_error(|| {
            GetPublicAccessBlockError::generic(
                ErrorMetadata::builder()
                    .code("NoSuchPublicAccessBlockConfiguration")
                    .message("The public access block configuration was not found")
                    .build(),
            )
        });
    let put = mock!(aws_sdk_s3control::Client::put_public_access_block)
        .match_requests(|r| {
            r.account_id() == Some("111111111111")
                && r.public_access_block_configuration().is_some_and(|c| {
                    c.block_public_acls == Some(true) && c.restrict_public_buckets == Some(false)
                })
        })
        .then_output(|| PutPublicAccessBlockOutput::builder().build());
    let mut ctx = account_ctx(&[&missing, &put], "111111111111");
    assert_eq!(ctx.get_public_access_block().await.unwrap(), None);
    let config = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: false,
    };
    ctx.put_public_access_block(config).await.unwrap();
    assert_eq!((missing.num_calls(), put.num_calls()), (1, 1));
    let trail = ctx.into_trail();
    let ops: Vec<_> = trail.calls.iter().map(|c| c.operation.as_str()).collect();
    assert_eq!(ops, ["GetPublicAccessBlock", "PutPublicAccessBlock"]);

    // A finding about another account: the account-level put never reaches S3 Control,
    // and other errors keep the operation's name.
    let put = mock!(aws_sdk_s3control::Client::put_public_access_block)
        .then_output(|| PutPublicAccessBlockOutput::builder().build());
    let denied = mock!(aws_sdk_s3control::Client::get_public_access_block).then_error(|| {
        GetPublicAccessBlockError::generic(
            ErrorMetadata::builder()
                .code("AccessDenied")
                .message("no")
                .build(),
        )
    });
    let mut other = account_ctx(&[&denied, &put], "999999999999");
    let err = other.put_public_access_block(config).await.unwrap_err();
    assert!(
        matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("account-wide"))
    );
    assert_eq!(put.num_calls(), 0);
    let err = other.get_public_access_block().await.unwrap_err();
    assert!(
        matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.starts_with("GetPublicAccessBlock: AccessDenied")),
        "{err:?}"
    );

    // A configuration with unset fields reads them as off.
    let partial = mock!(aws_sdk_s3control::Client::get_public_access_block).then_output(|| {
        GetPublicAccessBlockOutput::builder()
            .public_access_block_configuration(
                aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                    .block_public_policy(true)
                    .build(),
            )
            .build()
    });
    let mut ctx = account_ctx(&[&partial], "111111111111");
    assert_eq!(
        ctx.get_public_access_block().await.unwrap(),
        Some(PublicAccessBlock {
            block_public_acls: false,
            ignore_public_acls: false,
            block_public_policy: true,
            restrict_public_buckets: false,
        })
    );
}

#[tokio::test]
async fn log_calls_have_their_own_budget_and_keep_few_small_lines() {
    use crate::bindings::log::{Host as _, Level};

    let mut ctx = ctx(&[], &[], ALL, Mode::Apply, 10);
    let huge = "x".repeat(1024 * 1024);
    for _ in 0..1_000 {
        ctx.log(Level::Info, huge.clone()).unwrap();
    }
    let err = ctx.log(Level::Info, "one more".into()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<LimitExceeded>(),
        Some(&LimitExceeded::Logs(1_000))
    );
    let trail = ctx.into_trail();
    assert_eq!(trail.logs.len(), 256, "lines kept");
    assert!(
        trail
            .logs
            .iter()
            .all(|l| l.message.len() <= 4096 + 3 && l.message.capacity() <= 4096 + 3),
        "each kept line is a small copy, not the guest's 1 MiB string"
    );
    assert!(trail.calls.is_empty(), "logs are not AWS calls");
}
