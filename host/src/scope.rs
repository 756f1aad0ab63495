//! What a remediation may touch: the finding's account, region and named resources.

use hubfix_finding::Finding;

use crate::functions::{HostFunction, Target};

/// The reach of one remediation, derived from its finding.
#[derive(Debug, Clone)]
pub struct Scope {
    account_id: String,
    region: String,
    names_account: bool,
    /// `(ASFF type, full id, short id)` of each resource the finding names.
    resources: Vec<(String, String, String)>,
}

impl Scope {
    /// The scope of a finding.
    pub fn of(finding: &Finding) -> Self {
        Self {
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
                        r.short_id().to_owned(),
                    )
                })
                .collect(),
        }
    }

    /// A scope that allows no mutating call (used while a plugin describes itself).
    pub fn empty() -> Self {
        Self {
            account_id: String::new(),
            region: String::new(),
            names_account: false,
            resources: Vec::new(),
        }
    }

    /// The account every call acts in.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The region every call acts in.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Checks a call of `function` on `resource` (the id the plugin passed, if the
    /// function takes one). Reads are always in scope; mutating calls must name a
    /// resource of the finding, or the finding must be about the account.
    pub fn check(&self, function: &HostFunction, resource: Option<&str>) -> Result<(), String> {
        match function.target {
            Target::Read => Ok(()),
            Target::Account if self.names_account => Ok(()),
            Target::Account => Err(format!(
                "{} changes an account-wide setting, but the finding does not name account {}",
                function.name, self.account_id
            )),
            Target::Resource(resource_type) => {
                let Some(id) = resource else {
                    return Err(format!("{} needs a resource id", function.name));
                };
                let named = self
                    .resources
                    .iter()
                    .any(|(ty, full, short)| ty == resource_type && (id == full || id == short));
                if named {
                    Ok(())
                } else {
                    Err(format!(
                        "{} on {id}: the finding names no {resource_type} with that id",
                        function.name
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::lookup;
    use serde_json::json;

    fn finding(resources: serde_json::Value) -> Finding {
        Finding::from_value(json!({
            "Id": "f", "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
            "GeneratorId": "g", "AwsAccountId": "111111111111", "Region": "us-east-1",
            "Resources": resources,
        }))
        .unwrap()
    }

    #[test]
    fn mutating_calls_need_a_named_resource_of_the_right_type() {
        let scope = Scope::of(&finding(json!([{
            "Type": "AwsEc2SecurityGroup",
            "Id": "arn:aws:ec2:us-east-1:111111111111:security-group/sg-1"
        }])));
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
        let own = Scope::of(&finding(
            json!([{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"}]),
        ));
        let other = Scope::of(&finding(
            json!([{"Type": "AwsAccount", "Id": "AWS::::Account:999999999999"}]),
        ));
        let update = lookup("iam.update-account-password-policy").unwrap();
        assert!(own.check(update, None).is_ok());
        assert!(other.check(update, None).is_err());
    }
}
