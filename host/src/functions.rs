//! The host functions a plugin can be granted, in one table.
//!
//! A grant names a WIT function as `service.function` (`ec2.revoke-security-group-ingress`).
//! The table says which IAM action each one needs (the AssumeRole session policy is built
//! from it) and whether it mutates, and on what, so every call can be scoped.

use std::collections::BTreeSet;
use std::fmt;

/// What a mutating host function acts on, for the scope check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A read: allowed anywhere in the finding's account and region.
    Read,
    /// A mutating call on one resource of this ASFF type; the finding must name it.
    Resource(&'static str),
    /// A mutating account-level setting; the finding must name its own account
    /// (`AwsAccount`).
    Account,
}

/// One host function of the plugin contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFunction {
    /// The grant name, `service.function`, as `hubfix check` lists it.
    pub name: &'static str,
    /// The AWS operation it performs, e.g. `RevokeSecurityGroupIngress`.
    pub operation: &'static str,
    /// The IAM action behind it, e.g. `ec2:RevokeSecurityGroupIngress`.
    pub iam_action: &'static str,
    /// What it mutates, if anything.
    pub target: Target,
}

impl HostFunction {
    /// The service part of the name (`ec2`).
    pub fn service(&self) -> &'static str {
        self.name.split_once('.').map_or(self.name, |(s, _)| s)
    }

    /// Whether the function changes anything in AWS.
    pub fn is_mutating(&self) -> bool {
        self.target != Target::Read
    }
}

const fn f(
    name: &'static str,
    operation: &'static str,
    iam_action: &'static str,
    target: Target,
) -> HostFunction {
    HostFunction {
        name,
        operation,
        iam_action,
        target,
    }
}

const SG: Target = Target::Resource("AwsEc2SecurityGroup");

/// Every AWS host function, in WIT order. Keep in step with `wit/*.wit`: a test checks
/// that each WIT function of an AWS interface is here and vice versa.
pub const HOST_FUNCTIONS: &[HostFunction] = &[
    f(
        "iam.get-account-password-policy",
        "GetAccountPasswordPolicy",
        "iam:GetAccountPasswordPolicy",
        Target::Read,
    ),
    f(
        "iam.update-account-password-policy",
        "UpdateAccountPasswordPolicy",
        "iam:UpdateAccountPasswordPolicy",
        Target::Account,
    ),
    f(
        "ec2.describe-security-groups",
        "DescribeSecurityGroups",
        "ec2:DescribeSecurityGroups",
        Target::Read,
    ),
    f(
        "ec2.describe-security-group-rules",
        "DescribeSecurityGroupRules",
        "ec2:DescribeSecurityGroupRules",
        Target::Read,
    ),
    f(
        "ec2.revoke-security-group-ingress",
        "RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupIngress",
        SG,
    ),
    f(
        "ec2.revoke-security-group-egress",
        "RevokeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupEgress",
        SG,
    ),
    f(
        "ec2.get-ebs-encryption-by-default",
        "GetEbsEncryptionByDefault",
        "ec2:GetEbsEncryptionByDefault",
        Target::Read,
    ),
    f(
        "ec2.enable-ebs-encryption-by-default",
        "EnableEbsEncryptionByDefault",
        "ec2:EnableEbsEncryptionByDefault",
        Target::Account,
    ),
];

/// Looks a host function up by its grant name.
pub fn lookup(name: &str) -> Option<&'static HostFunction> {
    HOST_FUNCTIONS.iter().find(|f| f.name == name)
}

/// The functions a plugin was granted. Deny by default: an empty set grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    names: BTreeSet<&'static str>,
}

/// A grant that names no host function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown grant `{0}` (grants are written `service.function`, e.g. `ec2.revoke-security-group-ingress`; `hubfix check` lists a plugin's)"
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
        let actions: BTreeSet<_> = self.functions().map(|f| f.iam_action).collect();
        actions.into_iter().collect()
    }

    /// The AssumeRole session policy: allows exactly the granted functions' actions.
    /// `None` when nothing is granted (the caller then needs no AWS session at all).
    pub fn session_policy(&self) -> Option<String> {
        let actions = self.iam_actions();
        if actions.is_empty() {
            return None;
        }
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "HubfixGrantedFunctions",
                "Effect": "Allow",
                "Action": actions,
                "Resource": "*",
            }],
        });
        Some(policy.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_refuse_unknown_names_and_build_the_session_policy() {
        assert_eq!(
            Grants::new(["ec2.delete-vpc"]).unwrap_err(),
            UnknownGrant("ec2.delete-vpc".into())
        );
        let grants = Grants::new([
            "ec2.revoke-security-group-ingress",
            "ec2.describe-security-group-rules",
        ])
        .unwrap();
        assert!(grants.contains("ec2.revoke-security-group-ingress"));
        assert!(!grants.contains("ec2.revoke-security-group-egress"));
        let policy: serde_json::Value =
            serde_json::from_str(&grants.session_policy().unwrap()).unwrap();
        assert_eq!(
            policy["Statement"][0]["Action"],
            serde_json::json!([
                "ec2:DescribeSecurityGroupRules",
                "ec2:RevokeSecurityGroupIngress"
            ])
        );
        assert_eq!(Grants::default().session_policy(), None);
    }

    #[test]
    fn the_table_matches_the_wit_interfaces() {
        let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let mut in_wit = BTreeSet::new();
        for service in ["iam", "ec2"] {
            let text = std::fs::read_to_string(wit.join(format!("{service}.wit"))).unwrap();
            for line in text.lines() {
                if let Some((name, _)) = line.trim().split_once(": func(") {
                    in_wit.insert(format!("{service}.{name}"));
                }
            }
        }
        let in_table: BTreeSet<String> = HOST_FUNCTIONS.iter().map(|f| f.name.to_owned()).collect();
        assert_eq!(in_wit, in_table);
    }

    #[test]
    fn every_function_is_named_service_dot_function_and_unique() {
        let mut seen = BTreeSet::new();
        for f in HOST_FUNCTIONS {
            assert!(seen.insert(f.name), "duplicate {}", f.name);
            let (service, _) = f.name.split_once('.').unwrap();
            assert_eq!(f.iam_action.split_once(':').unwrap().0, service);
            assert!(f.iam_action.ends_with(f.operation));
        }
    }
}
