//! Property tests: `decide` never panics, whatever the JSON, and its decisions stay
//! consistent; policy parsing never panics on arbitrary text.

use hubfix_policy::{Action, Date, NoOrg, Policy, decide};
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::support::fixture;

/// Field names and values findings use, so random documents reach deep into the decision.
const KEYS: &[&str] = &[
    "Id",
    "GeneratorId",
    "AwsAccountId",
    "Region",
    "Compliance",
    "Status",
    "SecurityControlId",
    "RelatedRequirements",
    "ProductFields",
    "RuleId",
    "ControlId",
    "StandardsArn",
    "StandardsGuideArn",
    "Resources",
    "Type",
    "Tags",
    "Workflow",
    "RecordState",
    "compliance",
    "control",
    "standards",
    "requirements",
    "status",
    "status_id",
    "activity_id",
    "finding_info",
    "uid",
    "uid_alt",
    "cloud",
    "account",
    "region",
    "resources",
    "type",
    "tags",
    "name",
    "value",
    "detail",
    "findings",
    "Findings",
    "class_uid",
    "SchemaVersion",
];
const STRINGS: &[&str] = &[
    "FAILED",
    "PASSED",
    "NEW",
    "NOTIFIED",
    "SUPPRESSED",
    "ACTIVE",
    "ARCHIVED",
    "Fail",
    "New",
    "EC2.53",
    "EC2.2",
    "IAM.15",
    "Lambda.1",
    "2.1.5",
    "2.1.5.1",
    "4.1",
    "1.1",
    "",
    "111111111111",
    "333333333333",
    "Root/Workloads/Prod/Payments",
    "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/4.1",
    "cis-aws-foundations-benchmark/v/1.4.0/2.1.5.2",
    "cis-aws-foundations-benchmark/v/3.0.0/",
    "arn:aws:securityhub:eu-west-1:111111111111:security-control/EC2.53/finding/x",
    "standards/cis-aws-foundations-benchmark/v/3.0.0",
    "cis-aws-foundations-benchmark/v/5.0.0/2.3.1",
    "standards/cis-aws-foundations-benchmark/v/5.0.0",
    "CIS AWS Foundations Benchmark v5.0.0/2.2.4",
    "AWS::RDS::DBCluster",
    "AwsRdsDbInstance",
    "CIS AWS Foundations Benchmark v1.4.0/2.2.1",
    "security-control/",
    "AWS::EC2::SecurityGroup",
    "AwsS3Bucket",
    "sg-0bastion1",
    "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-0bastion1",
    "hubfix:exempt",
    "true",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{0,12}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        4 => prop::sample::select(STRINGS).prop_map(Value::from),
        1 => "\\PC{0,30}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn check(policy: &Policy, document: &Value, today: Date) {
    if let Ok(decisions) = decide(document, policy, &NoOrg, today) {
        assert!(!decisions.is_empty());
        for d in decisions {
            assert_eq!(d.action == Action::Remediate, d.plugin.is_some());
            assert!(!d.reason.is_empty());
            serde_json::to_string(&d).unwrap();
        }
    }
}

/// Replaces the value at a random path of `doc` (chosen by `picks`) with `value`.
fn graft(doc: &mut Value, picks: &[usize], value: Value) {
    let Some((pick, rest)) = picks.split_first() else {
        *doc = value;
        return;
    };
    match doc {
        Value::Object(map) if !map.is_empty() => {
            let k = map.keys().nth(pick % map.len()).cloned().unwrap();
            graft(map.get_mut(&k).unwrap(), rest, value);
        }
        Value::Array(items) if !items.is_empty() => {
            let n = items.len();
            graft(&mut items[pick % n], rest, value);
        }
        _ => *doc = value,
    }
}

const FIXTURES: &[&str] = &[
    "cis-1.2-rule-4.1-no-control-id.json",
    "cis-1.4-2.1.5.2.json",
    "consolidated-ec2-53.json",
    "ocsf-ec2-2.json",
    "event-imported-two-findings.json",
];

proptest! {
    #[test]
    fn decide_never_panics_on_arbitrary_json(doc in json(), days in 0i64..30_000) {
        let policy = crate::decide::org_policy();
        check(&policy, &doc, Date::from_unix_seconds(days * 86_400));
    }

    #[test]
    fn decide_never_panics_on_damaged_findings(
        which in 0..FIXTURES.len(),
        picks in prop::collection::vec(any::<usize>(), 0..6),
        value in json(),
    ) {
        let policy = crate::decide::org_policy();
        let mut doc = fixture(FIXTURES[which]);
        graft(&mut doc, &picks, value);
        check(&policy, &doc, crate::support::today());
    }

    #[test]
    fn policy_parsing_never_panics(text in "\\PC{0,200}") {
        let _ = Policy::from_toml("fuzz.toml", &text);
    }

    #[test]
    fn policy_parsing_never_panics_on_mangled_shipped_files(cut in 0usize..20_000, junk in "\\PC{0,20}") {
        let (name, text) = hubfix_policy::SHIPPED_POLICY[2];
        let mut cut = cut.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let mangled = format!("{}{junk}{}", &text[..cut], &text[cut..]);
        let _ = Policy::from_files(&[(name, mangled.as_str())]);
    }
}
