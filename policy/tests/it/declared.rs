//! Controls the built-in catalog lacks, declared by the policy (`[controls."ID".declare]`):
//! identified in every finding format, decided, named by plugins, exceptions and overrides,
//! and without a declaration still decided, with the reason: notified by default, ignored
//! with `settings.unknown-controls = "ignore"`.

use hubfix_policy::{Action, CisVersion, NoOrg, Policy, RuleKind, SHIPPED_POLICY, decide};
use serde_json::{Value, json};

use crate::support::{fixture, shipped, today};

/// A policy file declaring S3.99 (CIS v3.0.0 2.1.9), remediated by a custom plugin, with an
/// exception and an override naming it.
const CUSTOM: &str = r#"
[plugins.s3-custom]
version = "0.1.0"
controls = ["S3.99"]
grants = ["ec2.describe-security-groups"]
params = { mode = "strict" }

[controls."S3.99"]
action = "remediate"
plugin = "s3-custom"
reason = "Our own S3 check, fixed by our own plugin"

[controls."S3.99".declare]
title = "S3 general purpose buckets should do something the catalog does not know yet"
resource-types = ["AwsS3Bucket"]
cis = { "3.0.0" = "2.1.9" }

[[exceptions]]
id = "legacy-buckets"
controls = ["S3.99"]
resources = ["legacy-*"]
reason = "Legacy buckets are migrated by hand (SEC-9)"

[[overrides]]
id = "account-222-notify"
accounts = ["222222222222"]
controls = ["S3.99"]
action = "notify"
reason = "Account 222 fixes its buckets itself"
"#;

/// The shipped policy plus `policies/custom.toml` holding `text`.
fn with_custom(text: &str) -> Result<Policy, hubfix_policy::PolicyErrors> {
    let mut files: Vec<(String, String)> = SHIPPED_POLICY
        .iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect();
    files.push(("policies/custom.toml".to_owned(), text.to_owned()));
    Policy::from_files(&files)
}

fn custom() -> Policy {
    with_custom(CUSTOM).unwrap_or_else(|e| panic!("{e}"))
}

/// A declared-control fixture: file, format, field the control came from, CIS version,
/// standard-control id.
type Fixture = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

const FIXTURES: &[Fixture] = &[
    (
        "declared-consolidated-s3-99.json",
        "asff-consolidated",
        "Compliance.SecurityControlId",
        None,
        None,
    ),
    (
        "declared-cis-3.0-2.1.9-no-control-id.json",
        "asff-per-standard",
        "GeneratorId",
        Some("3.0.0"),
        Some("2.1.9"),
    ),
    (
        "declared-ocsf-s3-99.json",
        "ocsf",
        "compliance.control",
        Some("3.0.0"),
        None,
    ),
    (
        "declared-ocsf-cis-3.0-2.1.9.json",
        "ocsf",
        "compliance.control",
        Some("3.0.0"),
        Some("2.1.9"),
    ),
];

#[test]
fn a_declared_control_is_decided_in_every_format() {
    let policy = custom();
    for (file, format, field, cis, std_id) in FIXTURES {
        let decisions = decide(&fixture(file), &policy, &NoOrg, today()).unwrap();
        let [d] = decisions.as_slice() else {
            panic!("{file}: {decisions:#?}");
        };
        let ctx = format!("{file}: {d:#?}");
        assert_eq!(d.action, Action::Remediate, "{ctx}");
        assert_eq!(d.control.as_deref(), Some("S3.99"), "{ctx}");
        assert_eq!(
            d.plugin.as_ref().map(|p| p.name.as_str()),
            Some("s3-custom"),
            "{ctx}"
        );
        assert_eq!(d.rule.kind, RuleKind::Control, "{ctx}");
        assert_eq!(d.rule.name, "controls.\"S3.99\"", "{ctx}");
        assert_eq!(
            d.rule.location.as_ref().map(|l| l.file.as_str()),
            Some("policies/custom.toml"),
            "{ctx}"
        );
        assert_eq!(d.reason, "Our own S3 check, fixed by our own plugin");
        assert_eq!(d.params.get("mode").map(String::as_str), Some("strict"));
        assert_eq!(d.grants, ["ec2.describe-security-groups"]);
        let source = d.source.as_ref().unwrap();
        assert_eq!(source.format.as_str(), *format, "{ctx}");
        assert_eq!(source.field, *field, "{ctx}");
        assert_eq!(source.cis_version.map(|v| v.as_str()), *cis, "{ctx}");
        assert_eq!(source.standard_control_id.as_deref(), *std_id, "{ctx}");
    }
    // The same findings without the declaration (see the table in decide.rs): those naming
    // S3.99 are notified by the built-in catalog rule; those carrying only the CIS id 2.1.9
    // name no control at all, so they are ignored as unidentifiable.
    for (file, _, _, _, std_id) in FIXTURES {
        let d = &decide(&fixture(file), &shipped(), &NoOrg, today()).unwrap()[0];
        let expected = if std_id.is_some() {
            (Action::Ignore, RuleKind::Input, "control-identity", None)
        } else {
            (Action::Notify, RuleKind::Catalog, "catalog", Some("S3.99"))
        };
        assert_eq!(
            (
                d.action,
                d.rule.kind,
                d.rule.name.as_str(),
                d.control.as_deref()
            ),
            expected,
            "{file}: {d:#?}"
        );
        assert!(d.plugin.is_none() && d.grants.is_empty(), "{file}: {d:#?}");
    }
}

#[test]
fn a_declared_cis_id_counts_only_in_its_version() {
    let policy = custom();
    // 2.1.9 is declared for v3.0.0 only: a v1.4.0 finding for 2.1.9 names no control.
    let mut f = fixture("declared-cis-3.0-2.1.9-no-control-id.json");
    for (key, value) in [
        ("GeneratorId", "cis-aws-foundations-benchmark/v/1.4.0/2.1.9"),
        (
            "Id",
            "arn:aws:securityhub:eu-west-1:111111111111:subscription/cis-aws-foundations-benchmark/v/1.4.0/2.1.9/finding/1",
        ),
    ] {
        f[key] = json!(value);
    }
    f["ProductFields"] = json!({
        "StandardsArn": "arn:aws:securityhub:::standards/cis-aws-foundations-benchmark/v/1.4.0",
        "ControlId": "2.1.9"
    });
    let d = policy.decide(&f, &NoOrg, today());
    assert_eq!(
        (d.action, d.rule.name.as_str(), d.control.as_deref()),
        (Action::Ignore, "control-identity", None),
        "{d:#?}"
    );
    assert_eq!(
        d.reason,
        "cannot tell which control the finding is about: CIS v1.4.0 has no Security Hub control with id `2.1.9`"
    );
    // Catalog CIS ids keep their meaning next to declared ones.
    assert_eq!(
        policy.control_for_cis(CisVersion::V3_0_0, "5.2", None),
        Some("EC2.53")
    );
    assert_eq!(
        policy.control_for_cis(CisVersion::V3_0_0, "2.1.9", None),
        Some("S3.99")
    );
    assert_eq!(
        policy.control_for_cis(CisVersion::V1_4_0, "2.1.9", None),
        None
    );
}

#[test]
fn exceptions_and_overrides_name_declared_controls() {
    let policy = custom();
    let mut legacy = fixture("declared-consolidated-s3-99.json");
    legacy["Resources"][0]["Id"] = json!("arn:aws:s3:::legacy-logs");
    let d = policy.decide(&legacy, &NoOrg, today());
    assert_eq!(
        (d.action, d.rule.name.as_str()),
        (Action::Suppress, "exceptions[0] (legacy-buckets)")
    );
    let mut other_account = fixture("declared-ocsf-s3-99.json");
    other_account["cloud"]["account"]["uid"] = json!("222222222222");
    let d = policy.decide(&other_account, &NoOrg, today());
    assert_eq!(
        (d.action, d.rule.name.as_str(), d.reason.as_str()),
        (
            Action::Notify,
            "overrides[0] (account-222-notify)",
            "Account 222 fixes its buckets itself"
        )
    );
    assert_eq!(d.plugin, None);
}

#[test]
fn the_policy_lists_what_it_declares() {
    let policy = custom();
    let declared: Vec<&str> = policy.declared_controls().map(|d| d.id.as_str()).collect();
    assert_eq!(declared, ["S3.99"]);
    let d = policy.declared_control("S3.99").unwrap();
    assert_eq!(d.resource_types, ["AwsS3Bucket"]);
    assert_eq!(
        d.cis.get(&CisVersion::V3_0_0).map(String::as_str),
        Some("2.1.9")
    );
    assert_eq!(
        d.title.as_deref(),
        Some("S3 general purpose buckets should do something the catalog does not know yet")
    );
    assert_eq!(d.location.file, "policies/custom.toml");
    assert_eq!(d.location.line, 13);
    assert!(policy.knows_control("S3.99"));
    assert!(policy.knows_control("EC2.53"));
    assert!(!policy.knows_control("S3.98"));
    assert!(!shipped().knows_control("S3.99"));
    assert_eq!(shipped().declared_controls().count(), 0);
    assert!(
        policy.summary().contains("1 declared (S3.99)"),
        "{}",
        policy.summary()
    );
    // docs/controls.md lists declared controls when a policy has any.
    let doc = hubfix_policy::controls_markdown(&policy);
    assert!(doc.contains("## Controls the policy declares"), "{doc}");
    assert!(
        doc.contains("| S3.99 | S3 general purpose buckets should do something the catalog does not know yet | AwsS3Bucket | - | - | 2.1.9 | - | remediate | `s3-custom` 0.1.0 | Our own S3 check, fixed by our own plugin |"),
        "{doc}"
    );
    assert!(!hubfix_policy::controls_markdown(&shipped()).contains("Controls the policy declares"));
}

#[test]
fn a_declare_repeating_the_catalog_is_a_warning() {
    let policy = Policy::from_toml(
        "p.toml",
        r#"
[controls."EC2.53"]
action = "notify"
reason = "admin ports open to the internet"

[controls."EC2.53".declare]
title = "EC2 security groups should not allow ingress from 0.0.0.0/0 to remote server administration ports"
resource-types = ["AwsEc2SecurityGroup"]
cis = { "3.0.0" = "5.2" }
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let warnings: Vec<String> = policy
        .warnings(today())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        warnings,
        [
            "p.toml:6: controls.\"EC2.53\".declare: `declare` repeats what the built-in catalog has for EC2.53: remove it"
        ]
    );
    // It is not a declared control: the catalog's entry is used.
    assert_eq!(policy.declared_controls().count(), 0);
    let d = policy.decide(&fixture("cis-3.0-5.2.json"), &NoOrg, today());
    assert_eq!(
        (d.action, d.control.as_deref()),
        (Action::Notify, Some("EC2.53"))
    );
}

/// The shipped policy with its `settings.toml` replaced by `settings`, plus `extra` files.
fn with_settings_and(settings: &str, extra: &[(&str, &str)]) -> Policy {
    let mut files: Vec<(String, String)> = SHIPPED_POLICY
        .iter()
        .filter(|(name, _)| !name.ends_with("settings.toml"))
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect();
    files.push(("policies/settings.toml".to_owned(), settings.to_owned()));
    files.extend(
        extra
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned())),
    );
    Policy::from_files(&files).unwrap_or_else(|e| panic!("{e}"))
}

fn with_settings(settings: &str) -> Policy {
    with_settings_and(settings, &[])
}

#[test]
fn findings_of_controls_the_policy_does_not_know_are_notified_with_the_reason() {
    // Neither in the catalog nor declared: notified (so the finding is not left NEW
    // silently), and the reason says how to route it.
    let policy = custom();
    let d = policy.decide(&fixture("consolidated-lambda-1.json"), &NoOrg, today());
    assert_eq!(
        (d.action, d.rule.kind, d.rule.name.as_str()),
        (Action::Notify, RuleKind::Catalog, "catalog")
    );
    assert_eq!(d.control.as_deref(), Some("Lambda.1"));
    assert!(
        d.reason
            .starts_with("Lambda.1 is neither in the built-in catalog")
    );
    assert!(
        d.reason
            .contains("[controls.\"Lambda.1\"] entry with a `declare` table"),
        "{}",
        d.reason
    );
    assert!(d.plugin.is_none() && d.params.is_empty() && d.grants.is_empty());
    // A built-in rule: no policy entry decided, none applied.
    assert_eq!(d.rule.location, None);
    assert!(d.rules.is_empty(), "{:?}", d.rules);
    // `hubfix policy explain` shows the same.
    let text = d.to_string();
    assert!(
        text.contains("action   notify\nreason   Lambda.1 is neither"),
        "{text}"
    );
    assert!(text.ends_with("\nrule     built-in rule catalog"), "{text}");
    // The shipped settings say so explicitly; the default is the same.
    let explicit = with_settings("[settings]\nunknown-controls = \"notify\"\n");
    let default = with_settings("[settings]\n");
    for p in [&shipped(), &explicit, &default] {
        assert_eq!(
            p.decide(&fixture("consolidated-lambda-1.json"), &NoOrg, today()),
            shipped().decide(&fixture("consolidated-lambda-1.json"), &NoOrg, today())
        );
    }
    assert_eq!(
        shipped()
            .decide(&fixture("consolidated-lambda-1.json"), &NoOrg, today())
            .action,
        Action::Notify
    );
}

#[test]
fn unknown_controls_can_be_ignored_instead() {
    let policy = with_settings("[settings]\nunknown-controls = \"ignore\"\n");
    for file in [
        "consolidated-lambda-1.json",
        "declared-consolidated-s3-99.json",
        "declared-ocsf-s3-99.json",
    ] {
        let d = policy.decide(&fixture(file), &NoOrg, today());
        let notified = shipped().decide(&fixture(file), &NoOrg, today());
        assert_eq!(
            (d.action, d.rule.kind, d.rule.name.as_str()),
            (Action::Ignore, RuleKind::Catalog, "catalog"),
            "{file}: {d:#?}"
        );
        // Only the action differs from the default: the same reason, control and source.
        assert_eq!(d.reason, notified.reason, "{file}");
        assert_eq!(d.control, notified.control, "{file}");
        assert_eq!(d.source, notified.source, "{file}");
        assert!(
            d.reason.contains("is neither in the built-in catalog"),
            "{file}: {}",
            d.reason
        );
        assert!(d.plugin.is_none() && d.params.is_empty() && d.grants.is_empty());
    }
    let text = policy
        .decide(&fixture("consolidated-lambda-1.json"), &NoOrg, today())
        .to_string();
    assert!(
        text.contains("action   ignore\nreason   Lambda.1 is neither"),
        "{text}"
    );
    // Controls the policy covers are decided as before.
    let d = policy.decide(&fixture("consolidated-ec2-53.json"), &NoOrg, today());
    assert_eq!(
        (d.action, d.rule.name.as_str()),
        (Action::Remediate, "controls.\"EC2.53\"")
    );
    // A declared control is covered: the setting does not apply to it.
    let declared = with_settings_and(
        "[settings]\nunknown-controls = \"ignore\"\n",
        &[("policies/custom.toml", CUSTOM)],
    );
    let d = declared.decide(
        &fixture("declared-consolidated-s3-99.json"),
        &NoOrg,
        today(),
    );
    assert_eq!(
        (d.action, d.rule.name.as_str()),
        (Action::Remediate, "controls.\"S3.99\"")
    );
}

#[test]
fn a_catalog_control_without_an_entry_follows_unknown_controls() {
    // A policy that covers only EC2.53: findings of other catalog controls have no entry.
    let entry = "[controls.\"EC2.53\"]\naction = \"notify\"\nreason = \"admin ports\"\n";
    for (settings, action) in [
        ("", Action::Notify),
        (
            "[settings]\nunknown-controls = \"notify\"\n",
            Action::Notify,
        ),
        (
            "[settings]\nunknown-controls = \"ignore\"\n",
            Action::Ignore,
        ),
    ] {
        let policy = Policy::from_toml("p.toml", &format!("{settings}{entry}"))
            .unwrap_or_else(|e| panic!("{e}"));
        let d = policy.decide(&fixture("consolidated-iam-4.json"), &NoOrg, today());
        assert_eq!(
            (
                d.action,
                d.rule.kind,
                d.rule.name.as_str(),
                d.reason.as_str()
            ),
            (
                action,
                RuleKind::Catalog,
                "catalog",
                "the policy has no entry for IAM.4"
            ),
            "{settings:?}: {d:#?}"
        );
        assert_eq!(d.control.as_deref(), Some("IAM.4"));
        assert!(d.plugin.is_none() && d.grants.is_empty());
        // The entry it has still decides.
        let d = policy.decide(&fixture("consolidated-ec2-53.json"), &NoOrg, today());
        assert_eq!(
            (d.action, d.rule.name.as_str()),
            (Action::Notify, "controls.\"EC2.53\"")
        );
    }
}

#[test]
fn explain_shows_a_declared_control() {
    let policy = custom();
    let d = policy.decide(
        &fixture("declared-cis-3.0-2.1.9-no-control-id.json"),
        &NoOrg,
        today(),
    );
    let text = d.to_string();
    assert!(
        text.contains(
            "control  S3.99 (asff-per-standard finding, from GeneratorId; CIS v3.0.0 2.1.9)"
        ),
        "{text}"
    );
    assert!(text.contains("plugin   s3-custom 0.1.0"), "{text}");
    let json: Value = hubfix_policy::explain_json(std::slice::from_ref(&d));
    assert_eq!(json["control"], "S3.99");
    assert_eq!(json["action"], "remediate");
}

#[test]
fn the_readme_example_has_the_shape_the_loader_takes() {
    // README.md shows the `declare` shape: it must be what the loader accepts (its plugin is
    // a placeholder, so that is the only complaint), with the documented id pattern.
    let readme = std::fs::read_to_string(crate::support::repo().join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .filter(|b| b.contains(".declare]"))
        .collect();
    let [example] = blocks.as_slice() else {
        panic!("README.md should hold one ```toml block with a declare table: {blocks:?}");
    };
    let errors = Policy::from_toml("README.md", example).unwrap_err();
    let messages: Vec<&str> = errors.errors().iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        ["unknown plugin `my-plugin` (plugins defined: none)"],
        "{errors}"
    );
    let with_plugin = format!(
        "[plugins.my-plugin]\nversion = \"0.1.0\"\ncontrols = [\"S3.99\"]\ngrants = []\n\n{example}"
    );
    let policy = Policy::from_toml("README.md", &with_plugin).unwrap_or_else(|e| panic!("{e}"));
    assert!(policy.declared_control("S3.99").is_some());
    assert!(
        readme.contains(&format!(
            "`{}`",
            hubfix_policy::catalog::DECLARED_CONTROL_ID_PATTERN
        )),
        "README.md should document the declared id pattern"
    );
}
