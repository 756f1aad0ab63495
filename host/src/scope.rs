//! What a remediation may touch: the finding's account, region and named resources, and
//! what the remediation itself created under the configured name prefix.

use hubfix_contract::{ResourceType, short_id};
use hubfix_finding::Finding;

use crate::functions::{HostFunction, Target};

/// The default prefix of resources a plugin may create (`HostConfig::create_prefix`).
pub const DEFAULT_CREATE_PREFIX: &str = "hubfix-";

/// One resource in scope: `(ASFF type, full id, short id)`.
type Named = (String, String, String);

/// The reach of one remediation, derived from its finding.
#[derive(Debug, Clone)]
pub struct Scope {
    partition: String,
    account_id: String,
    region: String,
    names_account: bool,
    /// Each resource the finding names.
    resources: Vec<Named>,
    /// Names a created resource must start with.
    create_prefix: String,
    /// What this remediation created (or, in plan mode, would have created).
    created: Vec<Named>,
}

impl Scope {
    /// The scope of a finding; plugins may create resources named `create_prefix…`.
    pub fn of(finding: &Finding, create_prefix: &str) -> Self {
        Self {
            partition: finding.partition.clone(),
            account_id: finding.account_id.clone(),
            region: finding.region.clone(),
            names_account: finding.names_account(),
            resources: finding
                .resources
                .iter()
                .map(|r| {
                    (
                        r.resource_type.clone(),
                        r.id.clone(),
                        short_id(&r.id).to_owned(),
                    )
                })
                .collect(),
            create_prefix: create_prefix.to_owned(),
            created: Vec::new(),
        }
    }

    /// A scope that allows no mutating call (used while a plugin describes itself).
    pub fn empty() -> Self {
        Self {
            partition: String::new(),
            account_id: String::new(),
            region: String::new(),
            names_account: false,
            resources: Vec::new(),
            create_prefix: String::new(),
            created: Vec::new(),
        }
    }

    /// The account every call acts in.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// Whether the finding is about its account itself (`AwsAccount`).
    pub fn names_account(&self) -> bool {
        self.names_account
    }

    /// The region every call acts in.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Checks a call of `function` on `resource` (the id or, for creates, the name the
    /// plugin passed, if the function takes one). Reads are always in scope; mutating
    /// calls must name a resource of the finding or one this remediation created, or the
    /// finding must be about the account; creates must use the prefix.
    pub fn check(&self, function: &HostFunction, resource: Option<&str>) -> Result<(), String> {
        match function.target {
            Target::Read => Ok(()),
            Target::Account if self.names_account => Ok(()),
            Target::Account => Err(format!(
                "{} changes an account-wide setting, but the finding does not name account {}",
                function.name, self.account_id
            )),
            Target::Create(ty) => {
                let Some(name) = resource else {
                    return Err(format!(
                        "{} needs the name of what it creates",
                        function.name
                    ));
                };
                if self.create_prefix.is_empty()
                    || name.len() <= self.create_prefix.len()
                    || !name.starts_with(&self.create_prefix)
                {
                    return Err(format!(
                        "{} may create only {} named `{}…` (not `{name}`)",
                        function.name, ty.asff, self.create_prefix
                    ));
                }
                Ok(())
            }
            Target::Configure(_) if self.names_account => match resource {
                Some(_) => Ok(()),
                None => Err(format!("{} needs a resource id", function.name)),
            },
            Target::Resource(ty) | Target::Configure(ty) => {
                let Some(id) = resource else {
                    return Err(format!("{} needs a resource id", function.name));
                };
                let matches =
                    |(t, full, short): &Named| t == ty.asff && (id == full || id == short);
                if self.resources.iter().any(matches) || self.created.iter().any(matches) {
                    Ok(())
                } else {
                    Err(format!(
                        "{} on {id}: the finding names no {} with that id, and this remediation created none",
                        function.name, ty.asff
                    ))
                }
            }
        }
    }

    /// Whether the finding itself names a resource of type `ty` with id `id` (its full id
    /// or short id): what it created does not count.
    pub fn names(&self, ty: &ResourceType, id: &str) -> bool {
        self.resources
            .iter()
            .any(|(t, full, short)| t == ty.asff && (id == full || id == short))
    }

    /// Records that `function` created `name` (after the scope check let it), so the
    /// rest of the remediation may configure it.
    pub fn created(&mut self, function: &HostFunction, name: &str) {
        if let Target::Create(ty) = function.target {
            self.created_as(&ty, name);
        }
    }

    /// Records that this remediation created `id` of type `ty`: for what a create call
    /// returns besides the name it was given (the id of a KMS key created with an alias).
    pub fn created_as(&mut self, ty: &ResourceType, id: &str) {
        let arn = ty.arn_of(&self.partition, &self.region, &self.account_id, id);
        self.created.push((ty.asff.to_owned(), arn, id.to_owned()));
    }

    /// The ARNs of the finding's resources of type `ty` in the finding's partition and
    /// account: ARNs as given (those naming another partition or account are left out),
    /// short ids completed from the type's ARN template.
    pub fn arns_of(&self, ty: &ResourceType) -> Vec<String> {
        let mut arns: Vec<String> = self
            .resources
            .iter()
            .filter(|(t, _, _)| t == ty.asff)
            .filter_map(|(_, full, short)| {
                if !full.starts_with("arn:") {
                    return Some(ty.arn_of(&self.partition, &self.region, &self.account_id, short));
                }
                let mut parts = full.splitn(6, ':');
                let (_, partition, _, _, account) = (
                    parts.next(),
                    parts.next()?,
                    parts.next()?,
                    parts.next()?,
                    parts.next()?,
                );
                let own = partition == self.partition
                    && (account == self.account_id || account.is_empty());
                own.then(|| full.clone())
            })
            .collect();
        arns.sort();
        arns.dedup();
        arns
    }

    /// The finding's partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The ARN of the resource `id` of type `ty` in the finding's account and region (what
    /// a planned create answers, say).
    pub fn arn_of(&self, ty: &ResourceType, id: &str) -> String {
        ty.arn_of(&self.partition, &self.region, &self.account_id, id)
    }

    /// Every resource of type `ty` in the finding's account and region.
    pub fn all_of(&self, ty: &ResourceType) -> String {
        ty.arn_of(&self.partition, &self.region, &self.account_id, "*")
    }

    /// The resources of type `ty` this remediation may create: `<prefix>*`.
    pub fn created_arn_pattern(&self, ty: &ResourceType) -> String {
        let pattern = format!("{}*", self.create_prefix);
        ty.arn_of(&self.partition, &self.region, &self.account_id, &pattern)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::functions::lookup;
    use hubfix_contract::S3_BUCKET;
    use serde_json::json;

    fn finding(resources: serde_json::Value) -> Finding {
        unchecked_finding("111111111111", "us-east-1", resources)
    }

    /// A finding of `account` in `region` naming `resources` exactly as given, past the
    /// finding crate's validation (which refuses other accounts' resources and ids of the
    /// wrong shape): the host's own checks must hold even for such a finding.
    pub(crate) fn unchecked_finding(
        account: &str,
        region: &str,
        resources: serde_json::Value,
    ) -> Finding {
        let mut finding = Finding::from_value(json!({
            "Id": "f", "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
            "GeneratorId": "g", "AwsAccountId": account, "Region": region,
            "Resources": [{"Type": "AwsAccount", "Id": format!("AWS::::Account:{account}")}],
        }))
        .unwrap();
        let text = |r: &serde_json::Value, field: &str, default: &str| -> String {
            r[field].as_str().unwrap_or(default).to_owned()
        };
        finding.resources = resources
            .as_array()
            .unwrap()
            .iter()
            .map(|r| hubfix_finding::Resource {
                resource_type: text(r, "Type", ""),
                id: text(r, "Id", ""),
                partition: text(r, "Partition", "aws"),
                region: text(r, "Region", region),
                details: None,
            })
            .collect();
        finding
    }

    #[test]
    fn mutating_calls_need_a_named_resource_of_the_right_type() {
        let scope = Scope::of(
            &finding(json!([{
                "Type": "AwsEc2SecurityGroup",
                "Id": "arn:aws:ec2:us-east-1:111111111111:security-group/sg-1"
            }])),
            DEFAULT_CREATE_PREFIX,
        );
        let revoke = lookup("ec2.revoke-security-group-ingress").unwrap();
        assert!(scope.check(revoke, Some("sg-1")).is_ok());
        assert!(
            scope
                .check(
                    revoke,
                    Some("arn:aws:ec2:us-east-1:111111111111:security-group/sg-1")
                )
                .is_ok()
        );
        let err = scope.check(revoke, Some("sg-2")).unwrap_err();
        assert!(err.contains("sg-2"), "{err}");
        let enable = lookup("ec2.enable-ebs-encryption-by-default").unwrap();
        assert!(scope.check(enable, None).is_err());
        let read = lookup("ec2.describe-security-group-rules").unwrap();
        assert!(scope.check(read, Some("sg-9")).is_ok());
    }

    #[test]
    fn account_level_calls_need_the_finding_to_name_its_own_account() {
        let own = Scope::of(
            &finding(json!([{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}])),
            DEFAULT_CREATE_PREFIX,
        );
        let other = Scope::of(
            &finding(json!([{"Type": "AwsAccount", "Id": "AWS::::Account:999999999999"}])),
            DEFAULT_CREATE_PREFIX,
        );
        let update = lookup("iam.update-account-password-policy").unwrap();
        assert!(own.check(update, None).is_ok());
        assert!(other.check(update, None).is_err());
    }

    /// The S3 create and configure functions, for create-scope tests.
    pub(crate) const CREATE_BUCKET: &HostFunction = hubfix_contract::function("s3.create-bucket");
    pub(crate) const PUT_BUCKET_POLICY: &HostFunction =
        hubfix_contract::function("s3.put-bucket-policy");

    #[test]
    fn creates_need_the_prefix_and_what_was_created_may_be_configured() {
        let mut scope = Scope::of(
            &finding(json!([{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}])),
            DEFAULT_CREATE_PREFIX,
        );
        for bad in ["trail-logs", "hubfix-", "Hubfix-logs", "xhubfix-logs"] {
            let err = scope.check(CREATE_BUCKET, Some(bad)).unwrap_err();
            assert!(err.contains("hubfix-"), "{bad}: {err}");
        }
        assert!(scope.check(CREATE_BUCKET, None).is_err());
        assert!(scope.check(CREATE_BUCKET, Some("hubfix-logs")).is_ok());
        // Not created yet: configuring it is out of scope, as is any other bucket.
        assert!(scope.check(PUT_BUCKET_POLICY, Some("hubfix-logs")).is_err());
        scope.created(CREATE_BUCKET, "hubfix-logs");
        assert!(scope.check(PUT_BUCKET_POLICY, Some("hubfix-logs")).is_ok());
        assert!(
            scope
                .check(PUT_BUCKET_POLICY, Some("arn:aws:s3:::hubfix-logs"))
                .is_ok()
        );
        assert!(
            scope
                .check(PUT_BUCKET_POLICY, Some("hubfix-other"))
                .is_err()
        );
        assert!(scope.check(PUT_BUCKET_POLICY, Some("prod-data")).is_err());
    }

    #[test]
    fn configure_calls_reach_any_resource_of_the_type_only_for_account_findings() {
        let put = lookup("cloudtrail.put-event-selectors").unwrap();
        let account = Scope::of(
            &finding(json!([{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}])),
            DEFAULT_CREATE_PREFIX,
        );
        assert!(account.check(put, Some("org-trail")).is_ok());
        assert!(account.check(put, None).is_err());
        let trail = Scope::of(
            &finding(json!([{
                "Type": "AwsCloudTrailTrail",
                "Id": "arn:aws:cloudtrail:us-east-1:111111111111:trail/main"
            }])),
            DEFAULT_CREATE_PREFIX,
        );
        assert!(trail.check(put, Some("main")).is_ok());
        let err = trail.check(put, Some("other")).unwrap_err();
        assert!(err.contains("other"), "{err}");
        // A plain resource target never widens for account findings.
        let update = lookup("cloudtrail.update-trail").unwrap();
        assert!(account.check(update, Some("org-trail")).is_err());
    }

    #[test]
    fn a_created_id_besides_the_name_may_be_configured() {
        let mut scope = Scope::of(
            &finding(json!([{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}])),
            DEFAULT_CREATE_PREFIX,
        );
        let rotate = lookup("kms.enable-key-rotation").unwrap();
        assert!(scope.check(rotate, Some("1234abcd")).is_err());
        scope.created_as(&hubfix_contract::KMS_KEY, "1234abcd");
        assert!(scope.check(rotate, Some("1234abcd")).is_ok());
        assert!(
            scope
                .check(
                    rotate,
                    Some("arn:aws:kms:us-east-1:111111111111:key/1234abcd")
                )
                .is_ok()
        );
    }

    #[test]
    fn arns_keep_only_the_findings_own_account_and_partition() {
        let scope = Scope::of(
            &finding(json!([
                {"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::mine"},
                {"Type": "AwsS3Bucket", "Id": "arn:aws-cn:s3:::other-partition"},
                {"Type": "AwsEc2SecurityGroup", "Id": "arn:aws:ec2:us-east-1:222222222222:security-group/sg-9"},
            ])),
            DEFAULT_CREATE_PREFIX,
        );
        assert_eq!(scope.arns_of(&S3_BUCKET), ["arn:aws:s3:::mine"]);
        assert!(scope.arns_of(&hubfix_contract::SECURITY_GROUP).is_empty());
        assert_eq!(
            scope.created_arn_pattern(&S3_BUCKET),
            "arn:aws:s3:::hubfix-*"
        );
    }
}
