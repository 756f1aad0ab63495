//! Decisions over findings of every format, finding states, exceptions and overrides.

use std::collections::HashMap;

use hubfix_policy::catalog::CONTROLS;
use hubfix_policy::{
    Action, CisVersion, Date, Decision, NoOrg, Policy, RuleKind, SHIPPED_POLICY, decide,
};
use serde_json::{Value, json};

use crate::support::{fixture, shipped, today};

/// One expected decision: action, control, plugin, the deciding rule's name, the finding
/// format, the CIS version and the standard-control id the finding carried.
type Expect = (
    Action,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

use Action::{Ignore, Notify, Remediate};

const PORTS: Option<&str> = Some("ec2-restrict-admin-ports");
const PASSWORD: Option<&str> = Some("iam-password-policy");
const S3_BLOCK: Option<&str> = Some("s3-account-public-access-block");

/// Every fixture with the shipped policy and no organization data.
const TABLE: &[(&str, &[Expect])] = &[
    // CIS v1.2.0 per-standard, control only as a CIS rule id: 4.1 is EC2.13.
    (
        "cis-1.2-rule-4.1-no-control-id.json",
        &[(
            Remediate,
            Some("EC2.13"),
            PORTS,
            "controls.\"EC2.13\"",
            "asff-per-standard",
            Some("1.2.0"),
            Some("4.1"),
        )],
    ),
    // CIS v1.2.0 per-standard with Compliance.SecurityControlId.
    (
        "cis-1.2-rule-1.9.json",
        &[(
            Remediate,
            Some("IAM.15"),
            PASSWORD,
            "controls.\"IAM.15\"",
            "asff-per-standard",
            Some("1.2.0"),
            Some("1.9"),
        )],
    ),
    // v1.2.0 rule 1.1 is CloudWatch.1 today, not the retired IAM.20.
    (
        "cis-1.2-rule-1.1-no-control-id.json",
        &[(
            Remediate,
            Some("CloudWatch.1"),
            Some("cloudwatch-cis-alarms"),
            "controls.\"CloudWatch.1\"",
            "asff-per-standard",
            Some("1.2.0"),
            Some("1.1"),
        )],
    ),
    // CIS v1.4.0: ProductFields.ControlId is the CIS id 2.2.1, which is EC2.7.
    (
        "cis-1.4-2.2.1-no-control-id.json",
        &[(
            Remediate,
            Some("EC2.7"),
            Some("ec2-ebs-default-encryption"),
            "controls.\"EC2.7\"",
            "asff-per-standard",
            Some("1.4.0"),
            Some("2.2.1"),
        )],
    ),
    // CIS v1.4.0 split requirement 2.1.5: 2.1.5.2 is S3.8.
    (
        "cis-1.4-2.1.5.2.json",
        &[(
            Remediate,
            Some("S3.8"),
            Some("s3-bucket-public-access-block"),
            "controls.\"S3.8\"",
            "asff-per-standard",
            Some("1.4.0"),
            Some("2.1.5.2"),
        )],
    ),
    // CIS v3.0.0 with SecurityControlId.
    (
        "cis-3.0-5.2.json",
        &[(
            Remediate,
            Some("EC2.53"),
            PORTS,
            "controls.\"EC2.53\"",
            "asff-per-standard",
            Some("3.0.0"),
            Some("5.2"),
        )],
    ),
    // CIS v3.0.0 split requirement 2.1.4: 2.1.4.1 is S3.1, remediated at the account level.
    (
        "cis-3.0-2.1.4.1.json",
        &[(
            Remediate,
            Some("S3.1"),
            S3_BLOCK,
            "controls.\"S3.1\"",
            "asff-per-standard",
            Some("3.0.0"),
            Some("2.1.4.1"),
        )],
    ),
    // CIS v5.0.0, as the guide's sample finding: SecurityControlId EC2.7, ControlId 5.1.1.
    (
        "cis-5.0-5.1.1.json",
        &[(
            Remediate,
            Some("EC2.7"),
            Some("ec2-ebs-default-encryption"),
            "controls.\"EC2.7\"",
            "asff-per-standard",
            Some("5.0.0"),
            Some("5.1.1"),
        )],
    ),
    // CIS v5.0.0 renumbered: 5.3 is EC2.53 there (EC2.54 in v3.0.0).
    (
        "cis-5.0-5.3-no-control-id.json",
        &[(
            Remediate,
            Some("EC2.53"),
            PORTS,
            "controls.\"EC2.53\"",
            "asff-per-standard",
            Some("5.0.0"),
            Some("5.3"),
        )],
    ),
    // CIS v5.0.0 2.2.4 is RDS.5 (DB instances) and RDS.15 (DB clusters): the resource type
    // settles it.
    (
        "cis-5.0-2.2.4-no-control-id.json",
        &[(
            Notify,
            Some("RDS.15"),
            None,
            "controls.\"RDS.15\"",
            "asff-per-standard",
            Some("5.0.0"),
            Some("2.2.4"),
        )],
    ),
    // CIS v5.0.0 2.3.1 is EFS.1 and EFS.8, both file systems: without SecurityControlId
    // nothing settles it, so the finding is ignored as of unknown identity.
    (
        "cis-5.0-2.3.1-no-control-id.json",
        &[(
            Ignore,
            None,
            None,
            "control-identity",
            "asff-per-standard",
            Some("5.0.0"),
            Some("2.3.1"),
        )],
    ),
    // Consolidated control findings.
    (
        "consolidated-ec2-53.json",
        &[(
            Remediate,
            Some("EC2.53"),
            PORTS,
            "controls.\"EC2.53\"",
            "asff-consolidated",
            None,
            None,
        )],
    ),
    (
        "consolidated-iam-4.json",
        &[(
            Notify,
            Some("IAM.4"),
            None,
            "controls.\"IAM.4\"",
            "asff-consolidated",
            None,
            None,
        )],
    ),
    // EFS.8 is new in CIS v5.0.0 (AssociatedStandards v5.0.0, requirement 2.3.1).
    (
        "consolidated-efs-8.json",
        &[(
            Notify,
            Some("EFS.8"),
            None,
            "controls.\"EFS.8\"",
            "asff-consolidated",
            None,
            None,
        )],
    ),
    // Lambda.1 is not in the catalog: notified with the reason (settings.unknown-controls).
    (
        "consolidated-lambda-1.json",
        &[(
            Notify,
            Some("Lambda.1"),
            None,
            "catalog",
            "asff-consolidated",
            None,
            None,
        )],
    ),
    // FSBP per-standard finding for a control a shipped plugin fixes.
    (
        "fsbp-iam-7.json",
        &[(
            Remediate,
            Some("IAM.7"),
            PASSWORD,
            "controls.\"IAM.7\"",
            "asff-per-standard",
            None,
            Some("IAM.7"),
        )],
    ),
    // Security Hub v2 OCSF.
    (
        "ocsf-ec2-2.json",
        &[(
            Remediate,
            Some("EC2.2"),
            Some("ec2-default-sg-restrict"),
            "controls.\"EC2.2\"",
            "ocsf",
            Some("3.0.0"),
            None,
        )],
    ),
    (
        "ocsf-cis-1.4-2.2.1.json",
        &[(
            Remediate,
            Some("EC2.7"),
            Some("ec2-ebs-default-encryption"),
            "controls.\"EC2.7\"",
            "ocsf",
            Some("1.4.0"),
            Some("2.2.1"),
        )],
    ),
    // OCSF with a CIS v5.0.0 id: 5.5 is EC2.2 (5.4 in v3.0.0).
    (
        "ocsf-cis-5.0-5.5.json",
        &[(
            Remediate,
            Some("EC2.2"),
            Some("ec2-default-sg-restrict"),
            "controls.\"EC2.2\"",
            "ocsf",
            Some("5.0.0"),
            Some("5.5"),
        )],
    ),
    // OCSF names the AWS Config type AWS::RDS::DBInstance (ASFF AwsRdsDbInstance): RDS.5.
    (
        "ocsf-cis-5.0-2.2.4.json",
        &[(
            Notify,
            Some("RDS.5"),
            None,
            "controls.\"RDS.5\"",
            "ocsf",
            Some("5.0.0"),
            Some("2.2.4"),
        )],
    ),
    // Controls the catalog lacks: the shipped policy does not declare S3.99, so findings that
    // name it are notified with the reason (policy/tests/it/declared.rs declares it). Findings
    // that carry only its CIS id cannot be mapped to a control at all without the declaration:
    // those are ignored (control-identity), whatever settings.unknown-controls says.
    (
        "declared-consolidated-s3-99.json",
        &[(
            Notify,
            Some("S3.99"),
            None,
            "catalog",
            "asff-consolidated",
            None,
            None,
        )],
    ),
    (
        "declared-cis-3.0-2.1.9-no-control-id.json",
        &[(
            Ignore,
            None,
            None,
            "control-identity",
            "asff-per-standard",
            Some("3.0.0"),
            Some("2.1.9"),
        )],
    ),
    (
        "declared-ocsf-s3-99.json",
        &[(
            Notify,
            Some("S3.99"),
            None,
            "catalog",
            "ocsf",
            Some("3.0.0"),
            None,
        )],
    ),
    (
        "declared-ocsf-cis-3.0-2.1.9.json",
        &[(
            Ignore,
            None,
            None,
            "control-identity",
            "ocsf",
            Some("3.0.0"),
            Some("2.1.9"),
        )],
    ),
    // Whole documents: one decision per finding.
    (
        "event-imported-two-findings.json",
        &[
            (
                Remediate,
                Some("EC2.7"),
                Some("ec2-ebs-default-encryption"),
                "controls.\"EC2.7\"",
                "asff-consolidated",
                None,
                None,
            ),
            (
                Notify,
                Some("IAM.9"),
                None,
                "controls.\"IAM.9\"",
                "asff-consolidated",
                None,
                None,
            ),
        ],
    ),
    (
        "event-imported-v2.json",
        &[(
            Remediate,
            Some("EC2.54"),
            PORTS,
            "controls.\"EC2.54\"",
            "ocsf",
            Some("3.0.0"),
            None,
        )],
    ),
    (
        "get-findings-page.json",
        &[
            (
                Remediate,
                Some("IAM.15"),
                PASSWORD,
                "controls.\"IAM.15\"",
                "asff-per-standard",
                Some("1.2.0"),
                Some("1.9"),
            ),
            (
                Notify,
                Some("IAM.4"),
                None,
                "controls.\"IAM.4\"",
                "asff-consolidated",
                None,
                None,
            ),
            (
                Notify,
                Some("Lambda.1"),
                None,
                "catalog",
                "asff-consolidated",
                None,
                None,
            ),
        ],
    ),
];

#[test]
fn every_format_decides_by_the_table() {
    let policy = shipped();
    let fixtures_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/findings");
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut in_table: Vec<String> = TABLE.iter().map(|(f, _)| (*f).to_owned()).collect();
    in_table.sort();
    assert_eq!(in_table, on_disk, "every fixture is in the table");

    for (file, expected) in TABLE {
        let decisions = decide(&fixture(file), &policy, &NoOrg, today()).unwrap();
        assert_eq!(decisions.len(), expected.len(), "{file}");
        for (d, (action, control, plugin, rule, format, cis, std_id)) in
            decisions.iter().zip(expected.iter())
        {
            let ctx = format!("{file}: {d:#?}");
            assert_eq!(d.action, *action, "{ctx}");
            assert_eq!(d.control.as_deref(), *control, "{ctx}");
            assert_eq!(d.plugin.as_ref().map(|p| p.name.as_str()), *plugin, "{ctx}");
            assert_eq!(d.rule.name, *rule, "{ctx}");
            let source = d.source.as_ref().unwrap();
            assert_eq!(source.format.as_str(), *format, "{ctx}");
            assert_eq!(source.cis_version.map(|v| v.as_str()), *cis, "{ctx}");
            assert_eq!(source.standard_control_id.as_deref(), *std_id, "{ctx}");
            assert!(!d.reason.is_empty(), "{ctx}");
            // Plugin, grants and params go together with remediate.
            assert_eq!(d.action == Remediate, d.plugin.is_some(), "{ctx}");
            assert_eq!(d.action == Remediate, !d.grants.is_empty(), "{ctx}");
            if d.action != Remediate {
                assert!(d.params.is_empty(), "{ctx}");
            }
            assert!(
                d.account_id.is_some() && d.region.is_some() && d.finding_id.is_some(),
                "{ctx}"
            );
        }
    }
}

#[test]
fn remediations_carry_plugin_params_and_grants() {
    let policy = shipped();
    let d = &decide(
        &fixture("cis-1.2-rule-4.1-no-control-id.json"),
        &policy,
        &NoOrg,
        today(),
    )
    .unwrap()[0];
    // EC2.13 is about port 22 only: the control's params over the plugin default.
    assert_eq!(d.params.get("ports").map(String::as_str), Some("22"));
    assert_eq!(
        d.grants,
        [
            "ec2.describe-security-group-rules",
            "ec2.authorize-security-group-ingress",
            "ec2.revoke-security-group-ingress"
        ]
    );
    let plugin = d.plugin.as_ref().unwrap();
    assert_eq!(
        (plugin.version.as_str(), plugin.sha256.as_deref()),
        ("0.1.0", None)
    );
    assert_eq!(d.rule.kind, RuleKind::Control);
    assert_eq!(
        d.rule.location.as_ref().unwrap().file,
        "policies/cis-aws-foundations.toml"
    );

    let d = &decide(&fixture("cis-1.2-rule-1.9.json"), &policy, &NoOrg, today()).unwrap()[0];
    assert_eq!(
        d.params.get("minimum-password-length").map(String::as_str),
        Some("14")
    );
    assert_eq!(
        d.params.get("require-symbols").map(String::as_str),
        Some("true")
    );
    // No max-password-age unless asked for: the plugin applies it only for IAM.7 and IAM.17.
    assert_eq!(d.params.len(), 6);
    assert!(!d.params.contains_key("max-password-age"));

    // S3.1 (CIS v3.0.0 2.1.4.1): account-level Block Public Access, through S3 Control; the
    // plugin takes no parameters.
    let d = &decide(&fixture("cis-3.0-2.1.4.1.json"), &policy, &NoOrg, today()).unwrap()[0];
    assert_eq!(
        (d.action, d.control.as_deref(), d.rule.name.as_str()),
        (Remediate, Some("S3.1"), "controls.\"S3.1\"")
    );
    let plugin = d.plugin.as_ref().unwrap();
    assert_eq!(
        (
            plugin.name.as_str(),
            plugin.version.as_str(),
            plugin.sha256.as_deref()
        ),
        ("s3-account-public-access-block", "0.1.0", None)
    );
    assert_eq!(
        d.grants,
        [
            "s3control.get-public-access-block",
            "s3control.put-public-access-block"
        ]
    );
    assert!(d.params.is_empty(), "{:?}", d.params);
    assert!(
        d.reason
            .starts_with("CIS asks for account-level S3 Block Public Access"),
        "{}",
        d.reason
    );
    assert_eq!(
        d.rule.location.as_ref().unwrap().file,
        "policies/cis-aws-foundations.toml"
    );
}

#[test]
fn decision_json_has_the_documented_shape() {
    let policy = shipped();
    let remediate = policy.decide(&fixture("consolidated-ec2-53.json"), &NoOrg, today());
    let json = serde_json::to_value(&remediate).unwrap();
    assert_eq!(json["action"], "remediate");
    assert_eq!(json["control"], "EC2.53");
    assert_eq!(
        json["plugin"],
        // `sha256` appears only when the policy pins a digest.
        json!({"name": "ec2-restrict-admin-ports", "version": "0.1.0"})
    );
    assert!(
        json["reason"]
            .as_str()
            .unwrap()
            .starts_with("Closes ports 22 and 3389 to the internet")
    );
    assert_eq!(json["rule"]["kind"], "control");
    assert_eq!(json["rule"]["name"], "controls.\"EC2.53\"");
    assert_eq!(json["rule"]["file"], "policies/cis-aws-foundations.toml");
    assert!(json["rule"]["line"].as_u64().unwrap() > 1);
    assert_eq!(json["params"], json!({"ports": "22,3389"}));
    assert_eq!(
        json["source"],
        json!({"format": "asff-consolidated", "field": "Compliance.SecurityControlId"})
    );
    // The documented fields come first, in order.
    let text = serde_json::to_string(&remediate).unwrap();
    assert!(
        text.starts_with(r#"{"action":"remediate","control":"EC2.53","plugin":{"#),
        "{text}"
    );
    assert!(text.contains(r#"},"reason":"Closes"#), "{text}");

    let notify = policy.decide(&fixture("consolidated-iam-4.json"), &NoOrg, today());
    let json = serde_json::to_value(&notify).unwrap();
    assert_eq!(json["action"], "notify");
    assert_eq!(json["plugin"], Value::Null);
    assert_eq!(json["grants"], json!([]));
}

/// Decides a mutated copy of the consolidated EC2.53 fixture with the shipped policy.
fn variant(policy: &Policy, mutate: impl FnOnce(&mut Value)) -> Decision {
    let mut f = fixture("consolidated-ec2-53.json");
    mutate(&mut f);
    policy.decide(&f, &NoOrg, today())
}

#[test]
fn only_failed_active_new_findings_are_acted_on() {
    let policy = shipped();
    type Mutation = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(&str, Mutation, Action, &str, &str)> = vec![
        (
            "passed",
            Box::new(|f| f["Compliance"]["Status"] = json!("PASSED")),
            Ignore,
            "compliance-status",
            "compliance status is PASSED",
        ),
        (
            "warning",
            Box::new(|f| f["Compliance"]["Status"] = json!("WARNING")),
            Ignore,
            "compliance-status",
            "WARNING",
        ),
        (
            "not available",
            Box::new(|f| f["Compliance"]["Status"] = json!("NOT_AVAILABLE")),
            Ignore,
            "compliance-status",
            "NOT_AVAILABLE",
        ),
        (
            "no compliance",
            Box::new(|f| {
                f["Compliance"].as_object_mut().unwrap().remove("Status");
            }),
            Ignore,
            "compliance-status",
            "no compliance status",
        ),
        (
            "archived",
            Box::new(|f| f["RecordState"] = json!("ARCHIVED")),
            Ignore,
            "record-state",
            "ARCHIVED",
        ),
        (
            "notified",
            Box::new(|f| f["Workflow"]["Status"] = json!("NOTIFIED")),
            Ignore,
            "workflow-status",
            "workflow status is NOTIFIED: only NEW findings",
        ),
        (
            "suppressed",
            Box::new(|f| f["Workflow"]["Status"] = json!("SUPPRESSED")),
            Ignore,
            "workflow-status",
            "SUPPRESSED",
        ),
        (
            "resolved",
            Box::new(|f| f["Workflow"]["Status"] = json!("RESOLVED")),
            Ignore,
            "workflow-status",
            "RESOLVED",
        ),
        (
            "bad account",
            Box::new(|f| f["AwsAccountId"] = json!("12345")),
            Ignore,
            "account",
            "not a 12-digit account id",
        ),
        (
            "no account",
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("AwsAccountId");
            }),
            Ignore,
            "account",
            "no account id",
        ),
        (
            "no control",
            Box::new(|f| {
                f["GeneratorId"] = json!("custom-check");
                f["Id"] = json!("custom-1");
                f["Compliance"]
                    .as_object_mut()
                    .unwrap()
                    .remove("SecurityControlId");
            }),
            Ignore,
            "control-identity",
            "cannot tell which control",
        ),
        (
            "unknown cis id",
            Box::new(|f| {
                f["GeneratorId"] = json!("cis-aws-foundations-benchmark/v/1.4.0/9.9");
                f["Compliance"]
                    .as_object_mut()
                    .unwrap()
                    .remove("SecurityControlId");
            }),
            Ignore,
            "control-identity",
            "CIS v1.4.0 has no Security Hub control with id `9.9`",
        ),
        (
            "lowercase states",
            Box::new(|f| {
                f["Compliance"]["Status"] = json!("failed");
                f["Workflow"]["Status"] = json!("new");
                f["RecordState"] = json!("active");
            }),
            Remediate,
            "controls.\"EC2.53\"",
            "Closes",
        ),
        (
            "no workflow",
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("Workflow");
                f.as_object_mut().unwrap().remove("WorkflowState");
            }),
            Remediate,
            "controls.\"EC2.53\"",
            "Closes",
        ),
        (
            "no record state",
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("RecordState");
            }),
            Remediate,
            "controls.\"EC2.53\"",
            "Closes",
        ),
    ];
    for (name, mutate, action, rule, reason) in cases {
        let d = variant(&policy, mutate);
        assert_eq!(d.action, action, "{name}: {d:#?}");
        assert_eq!(d.rule.name, rule, "{name}: {d:#?}");
        assert!(d.reason.contains(reason), "{name}: {}", d.reason);
        if action == Ignore {
            assert_eq!(d.rule.location, None, "{name}");
            assert!(d.rules.is_empty(), "{name}");
        }
    }
    // A finding without a workflow status is taken as NEW, and says so.
    let d = variant(&policy, |f| {
        f.as_object_mut().unwrap().remove("Workflow");
    });
    assert_eq!(
        d.notes,
        ["the finding has no workflow status: taken as NEW"]
    );
}

#[test]
fn ocsf_states_are_mapped() {
    let policy = shipped();
    let base = fixture("ocsf-ec2-2.json");
    let decide_with = |mutate: &dyn Fn(&mut Value)| {
        let mut f = base.clone();
        mutate(&mut f);
        policy.decide(&f, &NoOrg, today())
    };
    assert_eq!(decide_with(&|_| {}).action, Remediate);
    let d = decide_with(&|f| f["compliance"]["status"] = json!("Pass"));
    assert_eq!(
        (d.action, d.rule.name.as_str()),
        (Ignore, "compliance-status")
    );
    let d = decide_with(&|f| {
        f["compliance"].as_object_mut().unwrap().remove("status");
        f["compliance"]["status_id"] = json!(1);
    });
    assert_eq!(
        (d.action, d.rule.name.as_str()),
        (Ignore, "compliance-status")
    );
    let d = decide_with(&|f| f["status_id"] = json!(3));
    assert_eq!(
        (d.action, d.rule.name.as_str()),
        (Ignore, "workflow-status")
    );
    assert!(d.reason.contains("SUPPRESSED"));
    let d = decide_with(&|f| f["status_id"] = json!(2));
    assert!(d.reason.contains("NOTIFIED"), "{}", d.reason);
    let d = decide_with(&|f| f["activity_id"] = json!(3));
    assert_eq!((d.action, d.rule.name.as_str()), (Ignore, "record-state"));
    let d = decide_with(&|f| f["status_id"] = json!(5));
    assert_eq!((d.action, d.rule.name.as_str()), (Ignore, "record-state"));
    let d = decide_with(&|f| {
        f["compliance"]["control"] = json!("5.4");
    });
    // A CIS id with one CIS standard named (v3.0.0): 5.4 is EC2.2 again.
    assert_eq!((d.action, d.control.as_deref()), (Remediate, Some("EC2.2")));
    let d = decide_with(&|f| {
        f["compliance"]["control"] = json!("5.4");
        f["compliance"]["standards"] = json!([
            "standards/cis-aws-foundations-benchmark/v/1.4.0",
            "standards/cis-aws-foundations-benchmark/v/3.0.0"
        ]);
    });
    assert_eq!(
        (d.action, d.rule.name.as_str()),
        (Ignore, "control-identity")
    );
    assert!(d.reason.contains("ambiguous"), "{}", d.reason);
}

#[test]
fn notified_findings_are_acted_on_when_configured() {
    let mut files: Vec<(String, String)> = SHIPPED_POLICY
        .iter()
        .filter(|(name, _)| !name.ends_with("settings.toml"))
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect();
    files.push((
        "settings.toml".to_owned(),
        "[settings]\nworkflow-statuses = [\"NEW\", \"NOTIFIED\"]\n".to_owned(),
    ));
    let policy = Policy::from_files(&files).unwrap();
    let notified = variant(&policy, |f| f["Workflow"]["Status"] = json!("NOTIFIED"));
    assert_eq!(notified.action, Remediate);
    let suppressed = variant(&policy, |f| f["Workflow"]["Status"] = json!("SUPPRESSED"));
    assert_eq!(suppressed.action, Ignore);
    assert!(
        suppressed.reason.contains("only NEW or NOTIFIED findings"),
        "{}",
        suppressed.reason
    );
}

#[test]
fn a_requested_finding_is_acted_on_whatever_its_workflow_but_still_as_the_policy_says() {
    let policy = shipped();
    let requested = |mutate: &dyn Fn(&mut Value)| {
        let mut f = fixture("consolidated-ec2-53.json");
        mutate(&mut f);
        policy.decide_requested(&f, &NoOrg, today())
    };
    for status in ["NOTIFIED", "SUPPRESSED", "RESOLVED"] {
        let d = requested(&|f| f["Workflow"]["Status"] = json!(status));
        assert_eq!(d.action, Remediate, "{status}: {}", d.reason);
        // Automatically, the same finding is ignored.
        let d = variant(&policy, |f| f["Workflow"]["Status"] = json!(status));
        assert_eq!(d.action, Ignore, "{status}");
    }
    // What is not a failed, active check stays ignored even on request.
    let d = requested(&|f| f["Compliance"]["Status"] = json!("PASSED"));
    assert_eq!(
        (d.action, d.rule.name.as_str()),
        (Ignore, "compliance-status")
    );
    let d = requested(&|f| f["RecordState"] = json!("ARCHIVED"));
    assert_eq!((d.action, d.rule.name.as_str()), (Ignore, "record-state"));
}

const A: &str = "111111111111";
const B: &str = "222222222222";
const C: &str = "333333333333";

/// The shipped policy plus an organization file with exceptions and overrides.
pub fn org_policy() -> Policy {
    let org = r#"
[accounts]
"111111111111" = "Root/Workloads/Prod/Payments"
"222222222222" = "Root/Sandbox"
"333333333333" = "/Root/Workloads/Prod/Payments/"

[plugins.sg-lockdown]
version = "1.0.0"
sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
controls = ["EC2.53"]
grants = ["ec2.describe-security-group-rules", "ec2.revoke-security-group-ingress"]
params = { mode = "strict", ports = "22,3389" }

[[exceptions]]
id = "bastion-ssh"
controls = ["EC2.13", "EC2.53", "EC2.54"]
accounts = ["111111111111"]
resources = ["sg-0bastion*"]
reason = "Bastion SSH ingress approved in SEC-123"
expires = 2026-06-30

[[exceptions]]
id = "sandbox-ebs-waiver"
controls = ["EC2.7"]
ous = ["Root/Sandbox"]
reason = "Sandbox waiver for unencrypted scratch volumes"
expires = 2026-01-31

[[exceptions]]
id = "tagged-exempt"
tags = [{ key = "hubfix:exempt", value = "true" }]
action = "notify"
reason = "Owners marked it exempt: a person reviews"

[[overrides]]
id = "workloads-fix-own-sgs"
ous = ["Root/Workloads"]
controls = ["EC2.2", "EC2.53"]
action = "notify"
reason = "Workloads teams fix their security groups themselves"

[[overrides]]
id = "payments-close-ssh"
ous = ["Root/Workloads/Prod/Payments"]
controls = ["EC2.53"]
action = "remediate"
params = { ports = "22" }
reason = "Payments opts into automatic SSH closing; RDP goes through the gateway"

[[overrides]]
id = "account-333-lockdown"
accounts = ["333333333333"]
controls = ["EC2.53"]
plugin = "sg-lockdown"
params = { mode = "audit" }
reason = "Account 333 trials the lockdown plugin"
"#;
    let mut files: Vec<(String, String)> = SHIPPED_POLICY
        .iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect();
    files.push(("policies/org.toml".to_owned(), org.to_owned()));
    Policy::from_files(&files).unwrap_or_else(|e| panic!("{e}"))
}

/// The consolidated EC2.53 finding about `group` in `account`, without tags.
fn ec2_53(account: &str, group: &str) -> Value {
    let mut f = fixture("consolidated-ec2-53.json");
    f["AwsAccountId"] = json!(account);
    f["Resources"] = json!([{
        "Type": "AwsEc2SecurityGroup",
        "Id": format!("arn:aws:ec2:eu-west-1:{account}:security-group/{group}"),
        "Partition": "aws",
        "Region": "eu-west-1",
    }]);
    f
}

fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

#[test]
fn exceptions_match_by_account_resource_and_tag_and_expire() {
    let policy = org_policy();
    // The fixture's group is a bastion (resource pattern on the short id) in account A.
    let finding = fixture("consolidated-ec2-53.json");
    let d = policy.decide(&finding, &NoOrg, date("2026-03-01"));
    assert_eq!(d.action, Action::Suppress);
    assert_eq!(d.rule.kind, RuleKind::Exception);
    assert_eq!(d.rule.name, "exceptions[0] (bastion-ssh)");
    assert_eq!(d.reason, "Bastion SSH ingress approved in SEC-123");
    assert_eq!(d.plugin, None);
    assert!(d.params.is_empty() && d.grants.is_empty());
    // The control entry and the matching overrides shaped it before the exception won.
    let kinds: Vec<RuleKind> = d.rules.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RuleKind::Control,
            RuleKind::Override,
            RuleKind::Override,
            RuleKind::Exception
        ]
    );

    // The exception applies through its expiry day, and not after.
    assert_eq!(
        policy.decide(&finding, &NoOrg, date("2026-06-30")).action,
        Action::Suppress
    );
    let d = policy.decide(&finding, &NoOrg, date("2026-07-01"));
    assert!(d.notes.iter().any(|n| n == "exceptions[0] (bastion-ssh) expired on 2026-06-30 and no longer applies"), "{:?}", d.notes);
    // The group is also tagged exempt: the next exception notifies.
    assert_eq!(d.action, Action::Notify);
    assert_eq!(d.rule.name, "exceptions[2] (tagged-exempt)");

    // The pattern matches the short id of any bastion group in account A, and nothing in B.
    let mut arn = ec2_53(A, "sg-0bastion42");
    assert_eq!(
        policy.decide(&arn, &NoOrg, today()).action,
        Action::Suppress
    );
    arn["AwsAccountId"] = json!(B);
    assert_ne!(
        policy.decide(&arn, &NoOrg, today()).rule.kind,
        RuleKind::Exception
    );

    // Tags on OCSF resources.
    let mut ocsf = fixture("ocsf-ec2-2.json");
    ocsf["resources"][0]["tags"] = json!([{"name": "hubfix:exempt", "value": "true"}]);
    let d = policy.decide(&ocsf, &NoOrg, today());
    assert_eq!(
        (d.action, d.rule.name.as_str()),
        (Action::Notify, "exceptions[2] (tagged-exempt)")
    );
    ocsf["resources"][0]["tags"] = json!([{"name": "hubfix:exempt", "value": "false"}]);
    assert_eq!(policy.decide(&ocsf, &NoOrg, today()).action, Remediate);
}

#[test]
fn exceptions_match_by_ou_and_warn_when_expired() {
    let policy = org_policy();
    // EC2.7 in account B (Root/Sandbox): the sandbox waiver applies until 2026-01-31.
    let event = fixture("event-imported-two-findings.json");
    let d = &decide(&event, &policy, &NoOrg, date("2026-01-31")).unwrap()[0];
    assert_eq!(
        (d.action, d.rule.name.as_str()),
        (Action::Suppress, "exceptions[1] (sandbox-ebs-waiver)")
    );
    assert_eq!(d.ou.as_deref(), Some("Root/Sandbox"));
    let d = &decide(&event, &policy, &NoOrg, date("2026-03-01")).unwrap()[0];
    assert_eq!(d.action, Remediate);
    assert_eq!(
        d.notes,
        ["exceptions[1] (sandbox-ebs-waiver) expired on 2026-01-31 and no longer applies"]
    );

    let warnings: Vec<String> = policy
        .warnings(date("2026-07-01"))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(warnings.len(), 2);
    assert!(
        warnings[0].starts_with("policies/org.toml:"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("exceptions[0] (bastion-ssh): exception expired on 2026-06-30"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[1].contains("exceptions[1] (sandbox-ebs-waiver): exception expired on 2026-01-31"),
        "{}",
        warnings[1]
    );
    assert_eq!(policy.warnings(date("2026-01-31")).len(), 0);

    // With no OU for the account, OU conditions cannot match, and the decision says so.
    let mut unknown = fixture("event-imported-two-findings.json");
    unknown["detail"]["findings"][0]["AwsAccountId"] = json!("444444444444");
    let d = &decide(&unknown, &policy, &NoOrg, date("2026-01-15")).unwrap()[0];
    assert_eq!(d.action, Remediate);
    assert_eq!(d.ou, None);
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("the OU of account 444444444444 is unknown")),
        "{:?}",
        d.notes
    );
}

#[test]
fn overrides_apply_from_least_to_most_specific() {
    let policy = org_policy();
    // Account A is in Root/Workloads/Prod/Payments: the Workloads override says notify, the
    // deeper Payments override turns remediation back on with its own ports.
    let d = policy.decide(&ec2_53(A, "sg-0web"), &NoOrg, today());
    assert_eq!(d.action, Remediate);
    assert_eq!(d.rule.name, "overrides[1] (payments-close-ssh)");
    assert_eq!(
        d.reason,
        "Payments opts into automatic SSH closing; RDP goes through the gateway"
    );
    assert_eq!(d.params.get("ports").map(String::as_str), Some("22"));
    assert_eq!(d.plugin.as_ref().unwrap().name, "ec2-restrict-admin-ports");
    let names: Vec<&str> = d.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "controls.\"EC2.53\"",
            "overrides[0] (workloads-fix-own-sgs)",
            "overrides[1] (payments-close-ssh)"
        ]
    );

    // Account C (same OU, written with slashes) also has an account override switching the
    // plugin: its params start from the new plugin's defaults.
    let d = policy.decide(&ec2_53(C, "sg-0web"), &NoOrg, today());
    assert_eq!(d.action, Remediate);
    assert_eq!(d.rule.name, "overrides[2] (account-333-lockdown)");
    let plugin = d.plugin.as_ref().unwrap();
    assert_eq!(
        (plugin.name.as_str(), plugin.version.as_str()),
        ("sg-lockdown", "1.0.0")
    );
    assert_eq!(plugin.sha256.as_deref().map(str::len), Some(64));
    assert_eq!(d.params.get("mode").map(String::as_str), Some("audit"));
    assert_eq!(d.params.get("ports").map(String::as_str), Some("22,3389"));

    // EC2.2 in Workloads: notify only. The same control in the Sandbox: remediate.
    let mut ocsf = fixture("ocsf-ec2-2.json");
    ocsf["cloud"]["account"]["uid"] = json!(A);
    let d = policy.decide(&ocsf, &NoOrg, today());
    assert_eq!(
        (d.action, d.rule.name.as_str()),
        (Action::Notify, "overrides[0] (workloads-fix-own-sgs)")
    );
    assert_eq!(d.plugin, None);
    let d = policy.decide(&fixture("ocsf-ec2-2.json"), &NoOrg, today());
    assert_eq!(
        (d.action, d.ou.as_deref()),
        (Remediate, Some("Root/Sandbox"))
    );

    // Live organization data wins over the policy's [accounts] map.
    let mut org = HashMap::new();
    org.insert(B.to_owned(), "Root/Workloads/Dev".to_owned());
    let d = policy.decide(&fixture("ocsf-ec2-2.json"), &org, today());
    assert_eq!(
        (d.action, d.ou.as_deref()),
        (Action::Notify, Some("Root/Workloads/Dev"))
    );
}

#[test]
fn unreadable_documents_and_items() {
    let policy = shipped();
    assert!(decide(&json!("text"), &policy, &NoOrg, today()).is_err());
    assert!(decide(&json!([]), &policy, &NoOrg, today()).is_err());
    assert!(
        decide(
            &json!({"detail": {"findings": 3}}),
            &policy,
            &NoOrg,
            today()
        )
        .is_err()
    );
    let err = decide(&json!(null), &policy, &NoOrg, today()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a Security Hub finding: expected a JSON object or array, got null"
    );
    let decisions = decide(&json!([1, {}]), &policy, &NoOrg, today()).unwrap();
    assert_eq!(decisions.len(), 2);
    assert_eq!(
        (decisions[0].action, decisions[0].rule.name.as_str()),
        (Ignore, "finding-shape")
    );
    assert_eq!(
        decisions[0].reason,
        "expected a finding object, got a number"
    );
    assert_eq!(
        (decisions[1].action, decisions[1].rule.name.as_str()),
        (Ignore, "control-identity")
    );
}

#[test]
fn explain_renders_for_people_and_tools() {
    let policy = org_policy();
    let d = policy.decide(&ec2_53(A, "sg-0web"), &NoOrg, today());
    let text = d.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("finding  arn:aws:securityhub:eu-west-1:"),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "account  111111111111 (OU Root/Workloads/Prod/Payments), region eu-west-1"
    );
    assert_eq!(
        lines[2],
        "control  EC2.53 (asff-consolidated finding, from Compliance.SecurityControlId)"
    );
    assert_eq!(lines[3], "action   remediate");
    assert_eq!(
        lines[4],
        "plugin   ec2-restrict-admin-ports 0.1.0 (sha256 not pinned)"
    );
    assert_eq!(lines[5], "params   ports=22");
    assert!(
        lines[8].starts_with("rule     overrides[1] (payments-close-ssh) (policies/org.toml:"),
        "{text}"
    );
    assert_eq!(
        lines[9],
        "applied  controls.\"EC2.53\" -> overrides[0] (workloads-fix-own-sgs) -> overrides[1] (payments-close-ssh)"
    );

    let d = policy.decide(&fixture("cis-1.4-2.1.5.2.json"), &NoOrg, today());
    assert!(
        d.to_string().contains(
            "control  S3.8 (asff-per-standard finding, from GeneratorId; CIS v1.4.0 2.1.5.2)"
        ),
        "{d}"
    );
    assert!(
        d.to_string().contains(
            "action   remediate\n\
             plugin   s3-bucket-public-access-block 0.1.0 (sha256 not pinned)\n\
             grants   s3.get-bucket-public-access-block, s3.put-bucket-public-access-block\n\
             reason   "
        ),
        "{d}"
    );

    // S3.1 is remediated by the account-level plugin, which takes no parameters.
    let d = policy.decide(&fixture("cis-3.0-2.1.4.1.json"), &NoOrg, today());
    let text = d.to_string();
    assert!(
        text.contains(
            "control  S3.1 (asff-per-standard finding, from GeneratorId; CIS v3.0.0 2.1.4.1)\n\
             action   remediate\n\
             plugin   s3-account-public-access-block 0.1.0 (sha256 not pinned)\n\
             grants   s3control.get-public-access-block, s3control.put-public-access-block\n\
             reason   CIS asks for account-level S3 Block Public Access"
        ),
        "{text}"
    );
    assert!(!text.contains("params   "), "{text}");
    assert!(
        text.contains("\nrule     controls.\"S3.1\" (policies/cis-aws-foundations.toml:"),
        "{text}"
    );

    // One finding: an object; several: an array.
    let one = decide(
        &fixture("consolidated-iam-4.json"),
        &policy,
        &NoOrg,
        today(),
    )
    .unwrap();
    assert_eq!(hubfix_policy::explain_json(&one)["control"], "IAM.4");
    let two = decide(
        &fixture("event-imported-two-findings.json"),
        &policy,
        &NoOrg,
        today(),
    )
    .unwrap();
    assert_eq!(
        hubfix_policy::explain_json(&two).as_array().map(Vec::len),
        Some(2)
    );

    let policy = shipped();
    let summary = policy.summary();
    let (head, per_version) = summary
        .split_once("; remediated per CIS version: ")
        .unwrap_or_else(|| panic!("{summary}"));
    assert_eq!(
        head,
        "68 controls (50 remediate, 18 notify), 30 plugins, 0 exceptions, 0 overrides; 65 of 65 CIS controls covered"
    );
    // Per version: remediated of the controls (current and retired) with a CIS id of it;
    // a control whose plugin is granted only reads (IAM.1's report) is not remediated.
    let reads_only = |plugin: &str| {
        policy.plugin(plugin).is_some_and(|p| {
            p.grants
                .iter()
                .all(|g| g.starts_with("iam.list-") || g.starts_with("iam.get-"))
        })
    };
    let expected: Vec<String> = CisVersion::ALL
        .iter()
        .map(|v| {
            let controls: Vec<_> = CONTROLS.iter().filter(|c| c.in_version(*v)).collect();
            let remediated = controls
                .iter()
                .filter(|c| {
                    policy.control(c.id).is_some_and(|e| {
                        e.action == Remediate && !e.plugin.as_deref().is_some_and(reads_only)
                    })
                })
                .count();
            format!("v{v} {remediated} of {}", controls.len())
        })
        .collect();
    assert_eq!(per_version, expected.join(", "));
    let totals: Vec<&str> = per_version
        .split(", ")
        .map(|part| part.rsplit_once(" of ").map_or("", |(_, n)| n))
        .collect();
    assert_eq!(totals, ["43", "40", "37", "40"], "{per_version}");
}

#[test]
fn an_opt_in_control_is_remediated_only_for_the_account_opted_in() {
    let policy = shipped();
    let ec2_8 = |account: &str| {
        let mut f = fixture("consolidated-ec2-53.json");
        f["AwsAccountId"] = json!(account);
        f["GeneratorId"] = json!("security-control/EC2.8");
        f["Compliance"]["SecurityControlId"] = json!("EC2.8");
        f["Resources"] = json!([{
            "Type": "AwsEc2Instance",
            "Id": format!("arn:aws:ec2:eu-west-1:{account}:instance/i-0123456789abcdef0"),
            "Partition": "aws",
            "Region": "eu-west-1",
        }]);
        f
    };
    let d = policy.decide(&ec2_8(A), &NoOrg, today());
    assert_eq!((d.action, d.plugin), (Action::Notify, None));

    let opted = policy.opted_in("EC2.8", A).unwrap();
    let d = opted.decide(&ec2_8(A), &NoOrg, today());
    assert_eq!(d.action, Remediate);
    assert_eq!(d.plugin.as_ref().unwrap().name, "ec2-imdsv2");
    assert!(
        d.grants
            .iter()
            .any(|g| g == "ec2.modify-instance-metadata-options")
    );
    assert_eq!(d.rule.name, format!("overrides (opt-in EC2.8 for {A})"));
    // Other accounts keep the default.
    assert_eq!(
        opted.decide(&ec2_8(B), &NoOrg, today()).action,
        Action::Notify
    );

    // Only opt-in entries (notify with a plugin) can be opted into.
    assert!(policy.opted_in("EC2.53", A).is_none());
    assert!(policy.opted_in("IAM.6", A).is_none());
    assert!(policy.opted_in("NOPE.1", A).is_none());
}
