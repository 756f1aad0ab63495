//! Credentials for one remediation: STS AssumeRole into the finding's account with a
//! session policy that allows exactly the granted functions' IAM actions, narrowed to the
//! finding's resources ([`crate::Grants::session_policy`]).

use aws_config::Region;
use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_types::error::display::DisplayErrorContext;
use sha2::{Digest, Sha256};

use crate::aws::AwsClients;

/// AssumeRole into a member account failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot assume {role_arn}: {message}")]
pub struct CredentialsError {
    /// The role the host tried to assume.
    pub role_arn: String,
    /// What STS answered.
    pub message: String,
    /// Whether STS throttled the request (worth retrying later).
    pub throttled: bool,
}

/// The role ARN the host assumes in `account_id`.
pub fn role_arn(partition: &str, account_id: &str, role_name: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:role/{role_name}")
}

/// A session name that identifies control and finding (AWS allows `[\w+=,.@-]{2,64}`), so
/// CloudTrail in the member account shows which remediation made each call.
pub fn session_name(control: &str, finding_id: &str) -> String {
    let digest = Sha256::digest(finding_id.as_bytes());
    let short = hex::encode(&digest[..6]);
    let control: String = control
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@-_".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    format!("hubfix-{control}-{short}")
}

/// What [`assume`] needs to know about one remediation.
pub struct SessionRequest<'a> {
    /// The finding's partition.
    pub partition: &'a str,
    /// The finding's account.
    pub account_id: &'a str,
    /// The finding's region: the clients are built for it.
    pub region: &'a str,
    /// The role to assume in every member account.
    pub role_name: &'a str,
    /// The finding's control, for the session name.
    pub control: &'a str,
    /// The finding's id, for the session name.
    pub finding_id: &'a str,
    /// Session duration in seconds (AWS minimum 900).
    pub duration_secs: i32,
    /// The session policy (`None`: the role's own permissions).
    pub policy: Option<&'a str>,
}

/// Assumes the remediation role in the finding's account and returns SDK clients for its
/// region, limited by the request's session policy.
pub async fn assume(
    base: &SdkConfig,
    sts: &aws_sdk_sts::Client,
    req: &SessionRequest<'_>,
) -> Result<AwsClients, CredentialsError> {
    let role_arn = role_arn(req.partition, req.account_id, req.role_name);
    let out = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name(session_name(req.control, req.finding_id))
        .set_policy(req.policy.map(str::to_owned))
        .duration_seconds(req.duration_secs)
        .send()
        .await
        .map_err(|e| {
            use aws_smithy_types::error::metadata::ProvideErrorMetadata;
            let throttled = matches!(e.code(), Some("Throttling" | "ThrottlingException"));
            CredentialsError {
                role_arn: role_arn.clone(),
                message: DisplayErrorContext(&e).to_string(),
                throttled,
            }
        })?;
    let Some(c) = out.credentials else {
        return Err(CredentialsError {
            role_arn,
            message: "the AssumeRole response has no credentials".into(),
            throttled: false,
        });
    };
    let credentials = Credentials::new(
        c.access_key_id,
        c.secret_access_key,
        Some(c.session_token),
        std::time::SystemTime::try_from(c.expiration).ok(),
        "hubfix-assume-role",
    );
    let config = base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .region(Region::new(req.region.to_owned()))
        .build();
    Ok(AwsClients::from_sdk_config(&config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sts::operation::assume_role::AssumeRoleOutput;
    use hubfix_mocks::{mock, mock_client};

    #[tokio::test]
    async fn assume_role_carries_the_session_policy_of_exactly_the_grants() {
        let grants = crate::Grants::new([
            "ec2.describe-security-group-rules",
            "ec2.revoke-security-group-ingress",
        ])
        .unwrap();
        let finding = crate::scope::tests::unchecked_finding(
            "222222222222",
            "eu-west-1",
            serde_json::json!([{"Type": "AwsEc2SecurityGroup", "Id": "sg-1"}]),
        );
        let policy = grants
            .session_policy(&crate::Scope::of(&finding, "hubfix-"))
            .unwrap();
        let rule = mock!(aws_sdk_sts::Client::assume_role)
            .match_requests(|req| {
                let policy: serde_json::Value =
                    serde_json::from_str(req.policy().unwrap_or("null")).unwrap_or_default();
                req.role_arn() == Some("arn:aws:iam::222222222222:role/HubfixRemediationRole")
                    && req
                        .role_session_name()
                        .is_some_and(|n| n.starts_with("hubfix-EC2.53-"))
                    && policy["Statement"]
                        == serde_json::json!([
                            {"Effect": "Allow", "Action": ["ec2:DescribeSecurityGroupRules"],
                             "Resource": "*",
                             "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}},
                            {"Effect": "Allow", "Action": ["ec2:RevokeSecurityGroupIngress"],
                             "Resource": ["arn:aws:ec2:eu-west-1:222222222222:security-group/sg-1"],
                             "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}},
                        ])
            })
            .then_output(|| {
                AssumeRoleOutput::builder()
                    .credentials(
                        aws_sdk_sts::types::Credentials::builder()
                            .access_key_id("AKIA")
                            .secret_access_key("secret")
                            .session_token("token")
                            .expiration(aws_smithy_types::DateTime::from_secs(4_000_000_000))
                            .build()
                            .unwrap(),
                    )
                    .build()
            });
        let sts = mock_client!(aws_sdk_sts, [&rule]);
        let base = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        let request = SessionRequest {
            partition: "aws",
            account_id: "222222222222",
            region: "eu-west-1",
            role_name: "HubfixRemediationRole",
            control: "EC2.53",
            finding_id: "f-1",
            duration_secs: 900,
            policy: Some(&policy),
        };
        let clients = assume(&base, &sts, &request).await.unwrap();
        assert_eq!(rule.num_calls(), 1);
        assert_eq!(
            clients
                .client(aws_sdk_ec2::Client::new)
                .config()
                .region()
                .map(|r| r.as_ref()),
            Some("eu-west-1")
        );
    }

    #[test]
    fn session_names_are_valid_and_distinct() {
        let a = session_name("EC2.53", "arn:aws:securityhub:::finding/1");
        let b = session_name("EC2.53", "arn:aws:securityhub:::finding/2");
        assert_ne!(a, b);
        assert!(a.starts_with("hubfix-EC2.53-"));
        assert!(a.len() <= 64);
        let odd = session_name(
            "weird control/id with spaces and more than forty chars",
            "x",
        );
        assert!(odd.len() <= 64);
        assert!(
            odd.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c))
        );
    }
}
