//! Finding the resource a finding is about.

use crate::{Finding, Outcome, Resource};

/// The short id of a resource id: `sg-1` for
/// `arn:aws:ec2:us-east-1:111111111111:security-group/sg-1`, `my-bucket` for
/// `arn:aws:s3:::my-bucket`, the account id of `AWS::::Account:ID`, else the id itself.
/// The host, the policy and plugins share this one definition (`hubfix-contract`).
pub use hubfix_contract::short_id;

impl Finding {
    /// The first resource of the finding whose ASFF type is `asff_type`
    /// (e.g. `AwsEc2SecurityGroup`).
    pub fn resource(&self, asff_type: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.type_ == asff_type)
    }

    /// The [`short_id`] of the first resource of type `asff_type`; `None` when the
    /// finding names no such resource or its id is empty.
    pub fn resource_short_id(&self, asff_type: &str) -> Option<&str> {
        self.resource(asff_type)
            .map(|r| short_id(r.id.trim()))
            .filter(|id| !id.is_empty())
    }

    /// The name of the first resource of type `asff_type`, given either as the bare name or
    /// as an ARN `arn:<partition>:<service>:<region>:<account>:<kind>:<name>` of the
    /// finding's own partition, region and account (RDS's `…:db:orders`). Otherwise the
    /// reason to skip; `what` names the kind of resource in it ("DB instance").
    pub fn own_resource_name(
        &self,
        asff_type: &str,
        service: &str,
        kind: &str,
        what: &str,
    ) -> Result<String, String> {
        let Some(resource) = self.resource(asff_type) else {
            return Err(format!(
                "the finding names no {asff_type}; {} is about {what}s",
                self.control_id
            ));
        };
        let id = resource.id.trim();
        if !id.starts_with("arn:") {
            return Ok(id.to_owned());
        }
        match id.split(':').collect::<Vec<_>>().as_slice() {
            [
                "arn",
                partition,
                arn_service,
                region,
                account,
                arn_kind,
                name,
            ] if *partition == self.partition
                && *arn_service == service
                && *region == self.region
                && *account == self.account_id
                && *arn_kind == kind
                && !name.is_empty() =>
            {
                Ok((*name).to_owned())
            }
            _ => Err(format!(
                "`{}` is not a {what} ARN of account {} in {}",
                id.chars().take(200).collect::<String>(),
                self.account_id,
                self.region
            )),
        }
    }

    /// Checks that the finding names its own account (`AwsAccount`, `AWS::::Account:ID`
    /// or the bare id), for account-level controls; `about` says what the control is
    /// about ("the account's trails"). Otherwise the `skipped` outcome that says why.
    pub fn own_account(&self, about: &str) -> Result<(), Outcome> {
        const ACCOUNT: &str = "AwsAccount";
        let Some(resource) = self.resource(ACCOUNT) else {
            return Err(Outcome::skipped(format!(
                "the finding names no {ACCOUNT} resource; {} is about {about}",
                self.control_id
            )));
        };
        let id = short_id(resource.id.trim());
        if id != self.account_id {
            return Err(Outcome::skipped(format!(
                "the finding's {ACCOUNT} resource `{}` is not its account {}",
                id.chars().take(100).collect::<String>(),
                self.account_id
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(resources: &[(&str, &str)]) -> Finding {
        Finding {
            id: "f-1".into(),
            control_id: "EC2.53".into(),
            generator_id: "g".into(),
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
            title: "t".into(),
            resources: resources
                .iter()
                .map(|(t, id)| Resource {
                    type_: (*t).into(),
                    id: (*id).into(),
                    partition: "aws".into(),
                    region: "us-east-1".into(),
                    details: None,
                })
                .collect(),
            raw: "{}".into(),
        }
    }

    #[test]
    fn short_ids() {
        assert_eq!(
            short_id("arn:aws:ec2:us-east-1:111111111111:security-group/sg-1"),
            "sg-1"
        );
        assert_eq!(short_id("arn:aws:s3:::my-bucket"), "my-bucket");
        assert_eq!(short_id("AWS::::Account:111111111111"), "111111111111");
        assert_eq!(short_id("sg-1"), "sg-1");
    }

    #[test]
    fn resource_of_a_type() {
        let f = finding(&[
            ("AwsAccount", "AWS::::Account:111111111111"),
            (
                "AwsEc2SecurityGroup",
                "arn:aws:ec2:us-east-1:111111111111:security-group/sg-0abc",
            ),
        ]);
        assert_eq!(f.resource_short_id("AwsEc2SecurityGroup"), Some("sg-0abc"));
        assert_eq!(f.resource_short_id("AwsEc2Vpc"), None);
        let empty = finding(&[(
            "AwsEc2SecurityGroup",
            "arn:aws:ec2:us-east-1:1:security-group/",
        )]);
        assert_eq!(empty.resource_short_id("AwsEc2SecurityGroup"), None);
    }
}
