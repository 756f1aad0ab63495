//! Grants, and the AssumeRole session policy derived from them, over the contract's one
//! table of host functions (`hubfix-contract`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use hubfix_contract::{
    FUNCTIONS as HOST_FUNCTIONS, HostFunction, IamAction, On, Target, lookup,
};

use crate::scope::Scope;

/// The most characters AWS accepts for an inline session policy (`PackedPolicyTooLarge`
/// is answered after packing; the plaintext limit is 2,048 characters).
pub const MAX_SESSION_POLICY: usize = 2048;

/// The functions a plugin was granted. Deny by default: an empty set grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    names: BTreeSet<&'static str>,
}

/// A grant that names no host function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown grant `{0}` (grants are written `service.function`, e.g. `ec2.revoke-security-group-ingress`; `hubfix functions` lists them)"
)]
pub struct UnknownGrant(pub String);

impl Grants {
    /// Parses grant names, refusing any that is not a host function.
    pub fn new<I, S>(names: I) -> Result<Self, UnknownGrant>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for name in names {
            let name = name.as_ref().trim();
            let function = lookup(name).ok_or_else(|| UnknownGrant(name.to_owned()))?;
            set.insert(function.name);
        }
        Ok(Self { names: set })
    }

    /// Whether `name` is granted.
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// The granted functions, sorted by name.
    pub fn functions(&self) -> impl Iterator<Item = &'static HostFunction> + '_ {
        self.names.iter().filter_map(|n| lookup(n))
    }

    /// The IAM actions behind the granted functions, sorted and deduplicated.
    pub fn iam_actions(&self) -> Vec<&'static str> {
        let actions: BTreeSet<_> = self
            .functions()
            .flat_map(|f| f.iam_actions.iter().map(|a| a.name))
            .collect();
        actions.into_iter().collect()
    }

    /// The AssumeRole session policy of one remediation: exactly the granted functions'
    /// IAM actions, each narrowed as far as AWS allows:
    ///
    /// - actions without resource-level permissions: `Resource: "*"`;
    /// - actions on a function's target: the ARNs of the finding's resources of that type,
    ///   plus `<prefix>*` names when a granted function creates that type;
    /// - actions of a `create` function: the `<prefix>*` names in the finding's account
    ///   and region;
    /// - actions of reads on a resource type: every resource of it in the account.
    ///
    /// An action with no resource left (the finding names none of its type) is left out.
    /// When the exact ARNs would make the policy longer than AWS accepts, each type falls
    /// back to all of its resources in the finding's account and region. `None` when
    /// nothing is granted (the caller then needs no AWS session at all).
    pub fn session_policy(&self, scope: &Scope) -> Option<String> {
        let functions: Vec<&HostFunction> = self.functions().collect();
        session_policy_of(&functions, scope)
    }

    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl fmt::Display for Grants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.names.iter().copied().collect();
        f.write_str(&names.join(", "))
    }
}

/// [`Grants::session_policy`] for an explicit list of functions.
pub(crate) fn session_policy_of(functions: &[&HostFunction], scope: &Scope) -> Option<String> {
    if functions.is_empty() {
        return None;
    }
    let exact = policy_document(functions, scope, false);
    if exact.len() <= MAX_SESSION_POLICY {
        return Some(exact);
    }
    Some(policy_document(functions, scope, true))
}

fn policy_document(functions: &[&HostFunction], scope: &Scope, coarse: bool) -> String {
    let mut unscoped: BTreeSet<&str> = BTreeSet::new();
    let mut scoped: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for f in functions {
        for action in f.iam_actions {
            match resources_of(functions, f, action, scope, coarse) {
                None => {
                    unscoped.insert(action.name);
                }
                Some(arns) => scoped.entry(action.name).or_default().extend(arns),
            }
        }
    }
    // An action that one function needs on every resource is allowed on every resource.
    scoped.retain(|action, arns| !unscoped.contains(action) && !arns.is_empty());

    // One statement per distinct resource set and kind of endpoint, in a stable order.
    let mut statements = Vec::new();
    let region = scope.region();
    let (global, regional): (Vec<&str>, Vec<&str>) =
        unscoped.into_iter().partition(|a| is_global(a));
    for (actions, global) in [(global, true), (regional, false)] {
        if !actions.is_empty() {
            statements.push(statement(actions, serde_json::json!("*"), global, region));
        }
    }
    let mut by_resources: BTreeMap<(bool, Vec<String>), Vec<&str>> = BTreeMap::new();
    for (action, arns) in scoped {
        by_resources
            .entry((is_global(action), arns.into_iter().collect()))
            .or_default()
            .push(action);
    }
    for ((global, arns), actions) in by_resources {
        statements.push(statement(actions, serde_json::json!(arns), global, region));
    }
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// Whether `action` is served by a global endpoint, whose requests AWS attributes to
/// `us-east-1` (`aws:RequestedRegion`) whatever the finding's region. `iam:PassRole` is
/// authorised within the request of the service the role is passed to, so it is regional.
fn is_global(action: &str) -> bool {
    action.starts_with("iam:") && action != "iam:PassRole"
}

/// One `Allow` statement. Regional actions are also held to the finding's region with an
/// `aws:RequestedRegion` condition, so AWS itself refuses a call to another region.
fn statement(
    actions: Vec<&str>,
    resource: serde_json::Value,
    global: bool,
    region: &str,
) -> serde_json::Value {
    let mut statement = serde_json::json!({
        "Effect": "Allow",
        "Action": actions,
        "Resource": resource,
    });
    if !global && !region.is_empty() {
        statement["Condition"] =
            serde_json::json!({"StringEquals": {"aws:RequestedRegion": region}});
    }
    statement
}

/// The resources `action` of `f` may act on, or `None` for `Resource: "*"`.
fn resources_of(
    functions: &[&HostFunction],
    f: &HostFunction,
    action: &IamAction,
    scope: &Scope,
    coarse: bool,
) -> Option<Vec<String>> {
    let ty = match (action.on, f.target) {
        (On::Any, _) => return None,
        (On::AnyOf(t), _) => return Some(vec![scope.all_of(&t)]),
        (On::Target, Target::Create(t)) => return Some(vec![scope.created_arn_pattern(&t)]),
        (On::Target, Target::Configure(t)) if scope.names_account() => {
            return Some(vec![scope.all_of(&t)]);
        }
        (On::Target, Target::Resource(t) | Target::Configure(t)) | (On::Type(t), _) => t,
        (On::Target, Target::Read | Target::Account) => return None,
    };
    if f.target == Target::Read || coarse {
        return Some(vec![scope.all_of(&ty)]);
    }
    let mut arns = scope.arns_of(&ty);
    let creates = functions
        .iter()
        .any(|g| matches!(g.target, Target::Create(t) if t == ty));
    if creates {
        arns.push(scope.created_arn_pattern(&ty));
    }
    Some(arns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::tests::{CREATE_BUCKET, PUT_BUCKET_POLICY};
    use hubfix_contract::SECURITY_GROUP;
    use serde_json::{Value, json};

    fn scope(resources: Value) -> Scope {
        let finding =
            crate::scope::tests::unchecked_finding("111111111111", "eu-west-1", resources);
        Scope::of(&finding, "hubfix-")
    }

    /// A finding about the account only.
    fn account() -> Value {
        json!([{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}])
    }

    fn policy(grants: &Grants, scope: &Scope) -> Value {
        serde_json::from_str(&grants.session_policy(scope).unwrap()).unwrap()
    }

    #[test]
    fn grants_refuse_unknown_names() {
        assert_eq!(
            Grants::new(["ec2.delete-vpc"]).unwrap_err(),
            UnknownGrant("ec2.delete-vpc".into())
        );
        let grants = Grants::new([" ec2.revoke-security-group-ingress "]).unwrap();
        assert!(grants.contains("ec2.revoke-security-group-ingress"));
        assert!(!grants.contains("ec2.revoke-security-group-egress"));
        assert_eq!(Grants::default().session_policy(&scope(account())), None);
    }

    #[test]
    fn a_resource_level_function_is_narrowed_to_the_findings_resources() {
        let grants = Grants::new([
            "ec2.revoke-security-group-ingress",
            "ec2.describe-security-group-rules",
        ])
        .unwrap();
        let scope = scope(json!([
            {"Type": "AwsEc2SecurityGroup", "Id": "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-1"},
            {"Type": "AwsEc2SecurityGroup", "Id": "sg-2"},
            // Another account's group is never allowed, whatever the finding says.
            {"Type": "AwsEc2SecurityGroup", "Id": "arn:aws:ec2:eu-west-1:999999999999:security-group/sg-3"},
            {"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::other"},
        ]));
        let region = json!({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}});
        assert_eq!(
            policy(&grants, &scope)["Statement"],
            json!([
                {"Effect": "Allow", "Action": ["ec2:DescribeSecurityGroupRules"], "Resource": "*",
                 "Condition": region},
                {"Effect": "Allow", "Action": ["ec2:RevokeSecurityGroupIngress"], "Resource": [
                    "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-1",
                    "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-2",
                ], "Condition": region},
            ])
        );
        // A finding naming no group leaves the mutating action out entirely.
        let none = policy(&grants, &self::scope(account()));
        assert_eq!(none["Statement"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn an_account_level_function_cannot_be_narrowed() {
        let grants = Grants::new([
            "iam.get-account-password-policy",
            "iam.update-account-password-policy",
            "s3control.put-public-access-block",
        ])
        .unwrap();
        let scope = scope(json!([{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}]));
        // IAM's endpoint is global: only the regional action is held to the region.
        assert_eq!(
            policy(&grants, &scope)["Statement"],
            json!([
                {"Effect": "Allow", "Action": [
                    "iam:GetAccountPasswordPolicy",
                    "iam:UpdateAccountPasswordPolicy",
                ], "Resource": "*"},
                {"Effect": "Allow", "Action": ["s3:PutAccountPublicAccessBlock"], "Resource": "*",
                 "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}},
            ])
        );
    }

    #[test]
    fn a_create_function_is_narrowed_to_the_prefix_and_lets_its_type_be_configured() {
        let scope = scope(json!([{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::logs"}]));
        let doc = |functions: &[&HostFunction]| -> Value {
            serde_json::from_str(&session_policy_of(functions, &scope).unwrap()).unwrap()
        };
        let region = json!({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}});
        assert_eq!(
            doc(&[CREATE_BUCKET, PUT_BUCKET_POLICY])["Statement"],
            json!([
                {"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:ListBucket"],
                 "Resource": ["arn:aws:s3:::hubfix-*"], "Condition": region},
                {"Effect": "Allow", "Action": ["s3:PutBucketPolicy"],
                 "Resource": ["arn:aws:s3:::hubfix-*", "arn:aws:s3:::logs"], "Condition": region},
            ])
        );
        // Without the create function, only the finding's bucket may be configured.
        assert_eq!(
            doc(&[PUT_BUCKET_POLICY])["Statement"],
            json!([{"Effect": "Allow", "Action": ["s3:PutBucketPolicy"],
                    "Resource": ["arn:aws:s3:::logs"], "Condition": region}])
        );
    }

    #[test]
    fn a_reader_may_be_created_only_under_the_prefix_in_the_findings_cluster() {
        let grants =
            Grants::new(["rds.describe-db-cluster", "rds.create-db-cluster-instance"]).unwrap();
        let cluster = "arn:aws:rds:eu-west-1:111111111111:cluster:orders";
        let doc = policy(
            &grants,
            &scope(json!([{"Type": "AwsRdsDbCluster", "Id": cluster}])),
        );
        let region = json!({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}});
        assert_eq!(
            doc["Statement"],
            json!([
                {"Effect": "Allow", "Action": ["rds:DescribeDBClusters"],
                 "Resource": "*", "Condition": region},
                {"Effect": "Allow", "Action": ["rds:CreateDBInstance"],
                 "Resource": [cluster, "arn:aws:rds:eu-west-1:111111111111:db:hubfix-*"],
                 "Condition": region},
            ])
        );
    }

    #[test]
    fn configure_and_any_of_actions_are_narrowed_to_their_types() {
        let grants = Grants::new([
            "cloudtrail.put-event-selectors",
            "ec2.create-flow-logs",
            "iam.create-role",
        ])
        .unwrap();
        // About the account: the trail may be any of its trails.
        let doc = policy(&grants, &scope(account()));
        let statements = doc["Statement"].as_array().unwrap();
        let resources_of = |action: &str| -> Vec<Value> {
            statements
                .iter()
                .filter(|s| s["Action"].as_array().unwrap().iter().any(|a| a == action))
                .flat_map(|s| match &s["Resource"] {
                    Value::Array(r) => r.clone(),
                    other => vec![other.clone()],
                })
                .collect()
        };
        assert_eq!(
            resources_of("cloudtrail:PutEventSelectors"),
            [json!("arn:aws:cloudtrail:eu-west-1:111111111111:trail/*")]
        );
        // No VPC named: only the flow logs' own ARNs, and the roles it may create.
        assert_eq!(
            resources_of("ec2:CreateFlowLogs"),
            [json!("arn:aws:ec2:eu-west-1:111111111111:vpc-flow-log/*")]
        );
        assert_eq!(
            resources_of("iam:PassRole"),
            [json!("arn:aws:iam::111111111111:role/hubfix-*")]
        );
        // About one trail and one VPC: exactly those.
        let doc = policy(
            &grants,
            &scope(json!([
                {"Type": "AwsCloudTrailTrail", "Id": "arn:aws:cloudtrail:eu-west-1:111111111111:trail/main"},
                {"Type": "AwsEc2Vpc", "Id": "vpc-0123abcd"},
            ])),
        );
        let text = doc.to_string();
        assert!(text.contains("trail/main"), "{text}");
        assert!(!text.contains("trail/*"), "{text}");
        assert!(text.contains("vpc/vpc-0123abcd"), "{text}");
    }

    #[test]
    fn a_policy_too_long_for_aws_falls_back_to_the_account() {
        let groups: Vec<Value> = (0..40)
            .map(|i| json!({"Type": "AwsEc2SecurityGroup", "Id": format!("sg-{i:017x}")}))
            .collect();
        let scope = scope(Value::Array(groups));
        let grants = Grants::new(["ec2.revoke-security-group-ingress"]).unwrap();
        let text = grants.session_policy(&scope).unwrap();
        assert!(text.len() <= MAX_SESSION_POLICY, "{}", text.len());
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            doc["Statement"][0]["Resource"],
            json!([SECURITY_GROUP.arn_of("aws", "eu-west-1", "111111111111", "*")])
        );
    }
}
