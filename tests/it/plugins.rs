use anyhow::{Context, Result};
use hubfix_host::{Mode, Status};
use hubfix_tests::{
    EC2_DEFAULT_SG_RESTRICT, EC2_EBS_DEFAULT_ENCRYPTION, EC2_RESTRICT_ADMIN_PORTS,
    IAM_PASSWORD_POLICY, Member, account_finding, base_config, group_finding,
};

use crate::common::{load, mutating_ops, require_emulator, run, runtime};

#[tokio::test]
async fn iam_password_policy_fixes_two_accounts_without_weakening() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    let plugin = load(&rt, &IAM_PASSWORD_POLICY).await?;
    let base = base_config().await;
    let first = Member::assume(&base, "210000000001").await?;
    let second = Member::assume(&base, "210000000002").await?;
    first.seed_weak_password_policy().await?;
    // The second account is stricter than CIS on length and age: both must survive.
    second
        .iam
        .update_account_password_policy()
        .minimum_password_length(20)
        .max_password_age(30)
        .send()
        .await?;

    for (member, control) in [(&first, "IAM.15"), (&second, "IAM.17")] {
        let finding = account_finding(&member.account, control);
        let before = member.password_policy().await?.context("seeded policy")?;

        let planned = run(&rt, &plugin, &finding, &[], Mode::Plan).await?;
        assert_eq!(planned.status, Status::Remediated, "{}", planned.message);
        assert_eq!(
            mutating_ops(&planned),
            ["UpdateAccountPasswordPolicy:Planned"]
        );
        assert_eq!(
            member.password_policy().await?,
            Some(before.clone()),
            "plan changed nothing"
        );

        let fixed = run(&rt, &plugin, &finding, &[], Mode::Apply).await?;
        assert_eq!(fixed.status, Status::Remediated, "{}", fixed.message);
        assert_eq!(mutating_ops(&fixed), ["UpdateAccountPasswordPolicy:Ok"]);
        assert_eq!(fixed.calls[0].operation, "GetAccountPasswordPolicy");
        let after = member.password_policy().await?.context("policy after")?;
        assert!(after.require_symbols && after.require_numbers);
        assert!(after.require_uppercase_characters && after.require_lowercase_characters);
        assert_eq!(after.password_reuse_prevention, Some(24));
        let expected_length = before.minimum_password_length.unwrap_or(0).max(14);
        assert_eq!(after.minimum_password_length, Some(expected_length));
        if control == "IAM.17" {
            assert_eq!(after.max_password_age, Some(30), "stricter age kept");
        }

        let again = run(&rt, &plugin, &finding, &[], Mode::Apply).await?;
        assert_eq!(again.status, Status::AlreadyCompliant, "{}", again.message);
        assert!(mutating_ops(&again).is_empty());
    }
    Ok(())
}

#[tokio::test]
async fn iam_password_policy_takes_parameters_from_the_policy() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    let plugin = load(&rt, &IAM_PASSWORD_POLICY).await?;
    let member = Member::assume(&base_config().await, "210000000003").await?;
    member.seed_weak_password_policy().await?;
    let finding = account_finding(&member.account, "IAM.15");
    let params = [
        ("minimum-password-length", "16"),
        ("max-password-age", "60"),
    ];
    let fixed = run(&rt, &plugin, &finding, &params, Mode::Apply).await?;
    assert_eq!(fixed.status, Status::Remediated, "{}", fixed.message);
    let after = member.password_policy().await?.context("policy")?;
    assert_eq!(after.minimum_password_length, Some(16));
    assert_eq!(after.max_password_age, Some(60));

    let bad = run(
        &rt,
        &plugin,
        &finding,
        &[("minimum-password-length", "many")],
        Mode::Apply,
    )
    .await?;
    assert_eq!(bad.status, Status::Failed);
    assert!(
        bad.message.contains("minimum-password-length"),
        "{}",
        bad.message
    );
    Ok(())
}

#[tokio::test]
async fn ec2_restrict_admin_ports_revokes_only_world_open_admin_rules() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    let plugin = load(&rt, &EC2_RESTRICT_ADMIN_PORTS).await?;
    let base = base_config().await;
    for account in ["220000000001", "220000000002"] {
        let member = Member::assume(&base, account).await?;
        let group = member.seed_open_admin_group("hubfix-open-admin").await?;
        let finding = group_finding(account, "EC2.53", &group);
        let ingress = |rules: &[aws_sdk_ec2::types::SecurityGroupRule]| {
            let mut v: Vec<String> = rules
                .iter()
                .filter(|r| r.is_egress == Some(false))
                .map(|r| {
                    format!(
                        "{}/{}",
                        r.from_port.unwrap_or(-1),
                        r.cidr_ipv4
                            .clone()
                            .or(r.cidr_ipv6.clone())
                            .unwrap_or_default()
                    )
                })
                .collect();
            v.sort();
            v
        };
        let before = ingress(&member.rules(&group).await?);
        assert_eq!(
            before,
            [
                "22/0.0.0.0/0",
                "22/10.0.0.0/8",
                "3389/::/0",
                "443/0.0.0.0/0"
            ]
        );

        let planned = run(&rt, &plugin, &finding, &[], Mode::Plan).await?;
        assert_eq!(planned.status, Status::Remediated, "{}", planned.message);
        assert_eq!(
            mutating_ops(&planned),
            ["RevokeSecurityGroupIngress:Planned"]
        );
        assert_eq!(ingress(&member.rules(&group).await?), before);

        let fixed = run(&rt, &plugin, &finding, &[], Mode::Apply).await?;
        assert_eq!(fixed.status, Status::Remediated, "{}", fixed.message);
        assert_eq!(mutating_ops(&fixed), ["RevokeSecurityGroupIngress:Ok"]);
        assert_eq!(fixed.calls[1].resource.as_deref(), Some(group.as_str()));
        assert_eq!(
            ingress(&member.rules(&group).await?),
            ["22/10.0.0.0/8", "443/0.0.0.0/0"]
        );

        let again = run(&rt, &plugin, &finding, &[], Mode::Apply).await?;
        assert_eq!(again.status, Status::AlreadyCompliant, "{}", again.message);
        assert!(mutating_ops(&again).is_empty());
    }
    Ok(())
}

#[tokio::test]
async fn ec2_default_sg_restrict_removes_every_rule_of_the_default_group() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    let plugin = load(&rt, &EC2_DEFAULT_SG_RESTRICT).await?;
    let base = base_config().await;
    for account in ["230000000001", "230000000002"] {
        let member = Member::assume(&base, account).await?;
        let group = member.seed_default_group_rules().await?;
        let finding = group_finding(account, "EC2.2", &group);
        let count = member.rules(&group).await?.len();
        assert!(count >= 3, "seeded ingress and egress rules, got {count}");

        let planned = run(&rt, &plugin, &finding, &[], Mode::Plan).await?;
        assert_eq!(planned.status, Status::Remediated, "{}", planned.message);
        assert_eq!(
            mutating_ops(&planned),
            [
                "RevokeSecurityGroupIngress:Planned",
                "RevokeSecurityGroupEgress:Planned"
            ]
        );
        assert_eq!(member.rules(&group).await?.len(), count);

        let fixed = run(&rt, &plugin, &finding, &[], Mode::Apply).await?;
        assert_eq!(fixed.status, Status::Remediated, "{}", fixed.message);
        assert_eq!(
            mutating_ops(&fixed),
            [
                "RevokeSecurityGroupIngress:Ok",
                "RevokeSecurityGroupEgress:Ok"
            ]
        );
        assert!(member.rules(&group).await?.is_empty());

        let again = run(&rt, &plugin, &finding, &[], Mode::Apply).await?;
        assert_eq!(again.status, Status::AlreadyCompliant, "{}", again.message);
        assert!(mutating_ops(&again).is_empty());
    }
    Ok(())
}

#[tokio::test]
async fn ec2_default_sg_restrict_skips_a_group_that_is_not_default() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    let plugin = load(&rt, &EC2_DEFAULT_SG_RESTRICT).await?;
    let member = Member::assume(&base_config().await, "230000000003").await?;
    let group = member.seed_open_admin_group("not-default").await?;
    let count = member.rules(&group).await?.len();
    let outcome = run(
        &rt,
        &plugin,
        &group_finding(&member.account, "EC2.2", &group),
        &[],
        Mode::Apply,
    )
    .await?;
    assert_eq!(outcome.status, Status::Skipped, "{}", outcome.message);
    assert!(mutating_ops(&outcome).is_empty());
    assert_eq!(member.rules(&group).await?.len(), count);
    Ok(())
}

#[tokio::test]
async fn ec2_ebs_default_encryption_enables_it_in_two_accounts() -> Result<()> {
    require_emulator!();
    let rt = runtime().await?;
    let plugin = load(&rt, &EC2_EBS_DEFAULT_ENCRYPTION).await?;
    let base = base_config().await;
    let first = Member::assume(&base, "240000000001").await?;
    let second = Member::assume(&base, "240000000002").await?;
    first.disable_ebs_default_encryption().await?;
    second.disable_ebs_default_encryption().await?;
    for member in [&first, &second] {
        let finding = account_finding(&member.account, "EC2.7");
        let planned = run(&rt, &plugin, &finding, &[], Mode::Plan).await?;
        assert_eq!(
            mutating_ops(&planned),
            ["EnableEbsEncryptionByDefault:Planned"]
        );
        assert!(!member.ebs_default_encryption().await?);

        let fixed = run(&rt, &plugin, &finding, &[], Mode::Apply).await?;
        assert_eq!(fixed.status, Status::Remediated, "{}", fixed.message);
        assert_eq!(mutating_ops(&fixed), ["EnableEbsEncryptionByDefault:Ok"]);
        assert!(member.ebs_default_encryption().await?);

        let again = run(&rt, &plugin, &finding, &[], Mode::Apply).await?;
        assert_eq!(again.status, Status::AlreadyCompliant, "{}", again.message);
        assert!(mutating_ops(&again).is_empty());
    }
    // The second account's plan-mode check above ran after the first account was fixed
    // and still saw encryption off: each run acted in its own finding's account only.
    Ok(())
}
