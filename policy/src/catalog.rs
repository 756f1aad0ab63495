//! The catalog: every Security Hub control of the CIS AWS Foundations Benchmark v1.2.0,
//! v1.4.0, v3.0.0 and v5.0.0 standards, with the CIS ids each version gives it.
//!
//! The table is data, transcribed from the reference table of the Security Hub user guide
//! (`shared/reference/cis-controls.md`, sections 1 and 1a) for v1.2.0 to v3.0.0, and for
//! v5.0.0 from the guide's CIS page (the "CIS AWS Foundations Benchmark version 5.0.0"
//! control list and the "Mapping of controls to CIS requirements in each version" table),
//! each id checked against the control's own page ("Related requirements"). It is what lets
//! one policy entry, keyed by the Security Hub control id (`EC2.53`), cover every finding
//! format: a CIS v1.2.0 finding for rule `4.1`, a CIS v1.4.0 finding for `2.1.5.1`, a CIS
//! v5.0.0 finding for `5.3` and a consolidated finding for `EC2.53` all resolve through
//! [`lookup_cis`] or [`control`].
//!
//! The table is compiled in; a policy adds controls it lacks (newer or custom Security Hub
//! controls) with `[controls."ID".declare]` tables, which
//! [`Policy::control_for_cis`](crate::Policy::control_for_cis) and
//! [`Policy::knows_control`](crate::Policy::knows_control) consult after the table.

use serde::Serialize;

/// A CIS AWS Foundations Benchmark version that Security Hub offers as a standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum CisVersion {
    /// v1.2.0: findings name the rule in a `ruleset/...` generator id and `ProductFields.RuleId`.
    #[serde(rename = "1.2.0")]
    V1_2_0,
    /// v1.4.0: findings name the control in a `standards/...` generator id and `ProductFields.ControlId`.
    #[serde(rename = "1.4.0")]
    V1_4_0,
    /// v3.0.0: as v1.4.0.
    #[serde(rename = "3.0.0")]
    V3_0_0,
    /// v5.0.0: as v1.4.0 (`GeneratorId` `cis-aws-foundations-benchmark/v/5.0.0/5.1.1`,
    /// `ProductFields.ControlId` `5.1.1`, standard `standards/cis-aws-foundations-benchmark/v/5.0.0`).
    #[serde(rename = "5.0.0")]
    V5_0_0,
}

impl CisVersion {
    /// Every version, oldest first.
    pub const ALL: [CisVersion; 4] = [
        CisVersion::V1_2_0,
        CisVersion::V1_4_0,
        CisVersion::V3_0_0,
        CisVersion::V5_0_0,
    ];

    /// The version as findings write it, e.g. `1.4.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            CisVersion::V1_2_0 => "1.2.0",
            CisVersion::V1_4_0 => "1.4.0",
            CisVersion::V3_0_0 => "3.0.0",
            CisVersion::V5_0_0 => "5.0.0",
        }
    }

    /// Parses `1.2.0`, `1.4.0`, `3.0.0` or `5.0.0`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }

    /// The standard's id as `Compliance.AssociatedStandards[].StandardsId` writes it.
    pub fn standards_id(self) -> &'static str {
        match self {
            CisVersion::V1_2_0 => "ruleset/cis-aws-foundations-benchmark/v/1.2.0",
            CisVersion::V1_4_0 => "standards/cis-aws-foundations-benchmark/v/1.4.0",
            CisVersion::V3_0_0 => "standards/cis-aws-foundations-benchmark/v/3.0.0",
            CisVersion::V5_0_0 => "standards/cis-aws-foundations-benchmark/v/5.0.0",
        }
    }
}

impl std::fmt::Display for CisVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One CIS id of a control in one benchmark version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CisId {
    /// The benchmark requirement, e.g. `2.1.5`.
    pub requirement: &'static str,
    /// The id findings carry (`GeneratorId` tail, `ProductFields.RuleId`/`ControlId`). Equal to
    /// the requirement except where Security Hub splits one requirement into several standard
    /// controls (v1.4.0 `2.1.5.1`/`2.1.5.2`, v3.0.0 and v5.0.0 `2.1.4.1`/`2.1.4.2`; for
    /// v5.0.0 the guide gives only `2.1.4`, the split ids follow v3.0.0). v5.0.0
    /// also maps two requirements to two controls each under the plain requirement id
    /// (`2.3.1`: EFS.1 and EFS.8; `2.2.4`: RDS.5 and RDS.15); findings of those name their
    /// control in `Compliance.SecurityControlId`, and the resource type tells RDS.5 (DB
    /// instance) from RDS.15 (DB cluster) where it is missing.
    pub control: &'static str,
}

/// A requirement whose standard-control id is the requirement id itself.
const fn req(id: &'static str) -> CisId {
    CisId {
        requirement: id,
        control: id,
    }
}

/// A requirement that Security Hub reports under a longer standard-control id.
const fn sub(requirement: &'static str, control: &'static str) -> CisId {
    CisId {
        requirement,
        control,
    }
}

/// How safely a control's failures can be fixed by automation (the reference's column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Automatable {
    /// An additive or tightening change that should not break workloads (it may cost money or
    /// need configured input).
    Yes,
    /// Automatable with the listed calls, but can break workloads or lock people out.
    Risky,
    /// Needs a human, a physical device, root sign-in or a data migration.
    No,
}

impl Automatable {
    /// `yes`, `risky` or `no`.
    pub fn as_str(self) -> &'static str {
        match self {
            Automatable::Yes => "yes",
            Automatable::Risky => "risky",
            Automatable::No => "no",
        }
    }
}

/// Whether a catalog entry is a current CIS control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Membership {
    /// In at least one of the four CIS standards today.
    Cis,
    /// Retired by Security Hub; still named by older CIS findings (section 1a of the reference).
    /// A CIS id shared with a current control resolves to the current one.
    Retired,
    /// Not a CIS control: listed because a shipped plugin remediates it (the policy can act on
    /// its findings from other standards, e.g. AWS Foundational Security Best Practices).
    Extra,
}

/// One Security Hub control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Control {
    /// The Security Hub control id, e.g. `EC2.53`: the key of policy entries.
    pub id: &'static str,
    /// The Security Hub title.
    pub title: &'static str,
    /// The ASFF resource type findings name (`(?)` where the reference derived it).
    pub resource_type: &'static str,
    /// Its ids in CIS v1.2.0 (empty when not in that standard).
    pub cis_1_2_0: &'static [CisId],
    /// Its ids in CIS v1.4.0.
    pub cis_1_4_0: &'static [CisId],
    /// Its ids in CIS v3.0.0.
    pub cis_3_0_0: &'static [CisId],
    /// Its ids in CIS v5.0.0.
    pub cis_5_0_0: &'static [CisId],
    /// How safely it can be remediated by automation.
    pub automatable: Automatable,
    /// Current CIS control, retired one, or extra.
    pub membership: Membership,
}

impl Control {
    /// Its ids in one CIS version (empty when it is not part of that standard).
    pub fn cis_ids(&self, version: CisVersion) -> &'static [CisId] {
        match version {
            CisVersion::V1_2_0 => self.cis_1_2_0,
            CisVersion::V1_4_0 => self.cis_1_4_0,
            CisVersion::V3_0_0 => self.cis_3_0_0,
            CisVersion::V5_0_0 => self.cis_5_0_0,
        }
    }

    /// Whether it belongs to the given CIS version's standard.
    pub fn in_version(&self, version: CisVersion) -> bool {
        !self.cis_ids(version).is_empty()
    }

    /// The ASFF resource types of [`resource_type`](Self::resource_type) without the `(?)`
    /// marks (`AwsIamUser / AwsIamRole (?)` → `["AwsIamUser", "AwsIamRole"]`); empty where the
    /// reference gives none (only an AWS Config type).
    pub fn resource_types(&self) -> Vec<&'static str> {
        self.resource_type
            .split(" / ")
            .map(|t| t.trim().trim_end_matches("(?)").trim())
            .filter(|t| looks_like_resource_type(t))
            .collect()
    }
}

macro_rules! control {
    ($id:literal, $title:literal, $type:literal, [$($v12:expr),*], [$($v14:expr),*], [$($v30:expr),*], [$($v50:expr),*], $auto:ident, $member:ident) => {
        Control {
            id: $id,
            title: $title,
            resource_type: $type,
            cis_1_2_0: &[$($v12),*],
            cis_1_4_0: &[$($v14),*],
            cis_3_0_0: &[$($v30),*],
            cis_5_0_0: &[$($v50),*],
            automatable: Automatable::$auto,
            membership: Membership::$member,
        }
    };
}

/// Every control hubfix knows, in the order of the reference table (section 1, then the
/// retired controls of section 1a, then the extra controls that shipped plugins handle).
/// The CIS ids are given per version, oldest first: v1.2.0, v1.4.0, v3.0.0, v5.0.0. EFS.8,
/// RDS.5 and RDS.15 are new in v5.0.0 and sit next to their service's controls.
pub static CONTROLS: &[Control] = &[
    control!(
        "Account.1",
        "Security contact information should be provided for an AWS account",
        "AwsAccount (?)",
        [],
        [],
        [req("1.2")],
        [req("1.2")],
        Yes,
        Cis
    ),
    control!(
        "CloudTrail.1",
        "CloudTrail should be enabled and configured with at least one multi-Region trail that includes read and write management events",
        "AwsAccount",
        [req("2.1")],
        [req("3.1")],
        [req("3.1")],
        [req("3.1")],
        Yes,
        Cis
    ),
    control!(
        "CloudTrail.2",
        "CloudTrail should have encryption at-rest enabled",
        "AwsCloudTrailTrail",
        [req("2.7")],
        [req("3.7")],
        [req("3.5")],
        [req("3.5")],
        Risky,
        Cis
    ),
    control!(
        "CloudTrail.4",
        "CloudTrail log file validation should be enabled",
        "AwsCloudTrailTrail",
        [req("2.2")],
        [req("3.2")],
        [req("3.2")],
        [req("3.2")],
        Yes,
        Cis
    ),
    control!(
        "CloudTrail.5",
        "CloudTrail trails should be integrated with Amazon CloudWatch Logs",
        "AwsCloudTrailTrail",
        [req("2.4")],
        [req("3.4")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudTrail.6",
        "Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible",
        "AwsS3Bucket",
        [req("2.3")],
        [req("3.3")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudTrail.7",
        "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket",
        "AwsS3Bucket",
        [req("2.6")],
        [req("3.6")],
        [req("3.4")],
        [req("3.4")],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.1",
        "A log metric filter and alarm should exist for usage of the \"root\" user",
        "AwsAccount",
        [req("1.1"), req("3.3")],
        [req("1.7"), req("4.3")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.2",
        "Ensure a log metric filter and alarm exist for unauthorized API calls",
        "AwsAccount",
        [req("3.1")],
        [],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.3",
        "Ensure a log metric filter and alarm exist for Management Console sign-in without MFA",
        "AwsAccount",
        [req("3.2")],
        [],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.4",
        "Ensure a log metric filter and alarm exist for IAM policy changes",
        "AwsAccount",
        [req("3.4")],
        [req("4.4")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.5",
        "Ensure a log metric filter and alarm exist for CloudTrail configuration changes",
        "AwsAccount",
        [req("3.5")],
        [req("4.5")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.6",
        "Ensure a log metric filter and alarm exist for AWS Management Console authentication failures",
        "AwsAccount",
        [req("3.6")],
        [req("4.6")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.7",
        "Ensure a log metric filter and alarm exist for disabling or scheduled deletion of customer managed keys",
        "AwsAccount",
        [req("3.7")],
        [req("4.7")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.8",
        "Ensure a log metric filter and alarm exist for S3 bucket policy changes",
        "AwsAccount",
        [req("3.8")],
        [req("4.8")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.9",
        "Ensure a log metric filter and alarm exist for AWS Config configuration changes",
        "AwsAccount",
        [req("3.9")],
        [req("4.9")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.10",
        "Ensure a log metric filter and alarm exist for security group changes",
        "AwsAccount",
        [req("3.10")],
        [req("4.10")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.11",
        "Ensure a log metric filter and alarm exist for changes to Network Access Control Lists (NACL)",
        "AwsAccount",
        [req("3.11")],
        [req("4.11")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.12",
        "Ensure a log metric filter and alarm exist for changes to network gateways",
        "AwsAccount",
        [req("3.12")],
        [req("4.12")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.13",
        "Ensure a log metric filter and alarm exist for route table changes",
        "AwsAccount",
        [req("3.13")],
        [req("4.13")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "CloudWatch.14",
        "Ensure a log metric filter and alarm exist for VPC changes",
        "AwsAccount",
        [req("3.14")],
        [req("4.14")],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "Config.1",
        "AWS Config should be enabled and use the service-linked role for resource recording",
        "AwsAccount",
        [req("2.5")],
        [req("3.5")],
        [req("3.3")],
        [req("3.3")],
        Yes,
        Cis
    ),
    control!(
        "EC2.2",
        "VPC default security groups should not allow inbound or outbound traffic",
        "AwsEc2SecurityGroup",
        [req("4.3")],
        [req("5.3")],
        [req("5.4")],
        [req("5.5")],
        Risky,
        Cis
    ),
    control!(
        "EC2.6",
        "VPC flow logging should be enabled in all VPCs",
        "AwsEc2Vpc",
        [req("2.9")],
        [req("3.9")],
        [req("3.7")],
        [req("3.7")],
        Yes,
        Cis
    ),
    control!(
        "EC2.7",
        "EBS default encryption should be enabled",
        "AwsAccount",
        [],
        [req("2.2.1")],
        [req("2.2.1")],
        [req("5.1.1")],
        Yes,
        Cis
    ),
    control!(
        "EC2.8",
        "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)",
        "AwsEc2Instance",
        [],
        [],
        [req("5.6")],
        [req("5.7")],
        Risky,
        Cis
    ),
    control!(
        "EC2.13",
        "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 22",
        "AwsEc2SecurityGroup",
        [req("4.1")],
        [],
        [],
        [],
        Risky,
        Cis
    ),
    control!(
        "EC2.14",
        "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 3389",
        "AwsEc2SecurityGroup",
        [req("4.2")],
        [],
        [],
        [],
        Risky,
        Cis
    ),
    control!(
        "EC2.21",
        "Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389",
        "AwsEc2NetworkAcl (?)",
        [],
        [req("5.1")],
        [req("5.1")],
        [req("5.2")],
        Risky,
        Cis
    ),
    control!(
        "EC2.53",
        "EC2 security groups should not allow ingress from 0.0.0.0/0 to remote server administration ports",
        "AwsEc2SecurityGroup (?)",
        [],
        [],
        [req("5.2")],
        [req("5.3")],
        Risky,
        Cis
    ),
    control!(
        "EC2.54",
        "EC2 security groups should not allow ingress from ::/0 to remote server administration ports",
        "AwsEc2SecurityGroup (?)",
        [],
        [],
        [req("5.3")],
        [req("5.4")],
        Risky,
        Cis
    ),
    control!(
        "EFS.1",
        "Elastic File System should be configured to encrypt file data at-rest using AWS KMS",
        "AwsEfsFileSystem (?)",
        [],
        [],
        [req("2.4.1")],
        [req("2.3.1")],
        No,
        Cis
    ),
    control!(
        "EFS.8",
        "EFS file systems should be encrypted at rest",
        "AwsEfsFileSystem (?)",
        [],
        [],
        [],
        [req("2.3.1")],
        No,
        Cis
    ),
    control!(
        "IAM.1",
        "IAM policies should not allow full \"*\" administrative privileges",
        "AwsIamPolicy (?)",
        [req("1.22")],
        [req("1.16")],
        [],
        [],
        Risky,
        Cis
    ),
    control!(
        "IAM.2",
        "IAM users should not have IAM policies attached",
        "AwsIamUser (?)",
        [req("1.16")],
        [],
        [req("1.15")],
        [req("1.14")],
        Risky,
        Cis
    ),
    control!(
        "IAM.3",
        "IAM users' access keys should be rotated every 90 days or less",
        "AwsIamUser",
        [req("1.4")],
        [req("1.14")],
        [req("1.14")],
        [req("1.13")],
        Risky,
        Cis
    ),
    control!(
        "IAM.4",
        "IAM root user access key should not exist",
        "AwsAccount (?)",
        [req("1.12")],
        [req("1.4")],
        [req("1.4")],
        [req("1.3")],
        No,
        Cis
    ),
    control!(
        "IAM.5",
        "MFA should be enabled for all IAM users that have a console password",
        "AwsIamUser (?)",
        [req("1.2")],
        [req("1.10")],
        [req("1.10")],
        [req("1.9")],
        No,
        Cis
    ),
    control!(
        "IAM.6",
        "Hardware MFA should be enabled for the root user",
        "AwsAccount",
        [req("1.14")],
        [req("1.6")],
        [req("1.6")],
        [req("1.5")],
        No,
        Cis
    ),
    control!(
        "IAM.8",
        "Unused IAM user credentials should be removed",
        "AwsIamUser",
        [req("1.3")],
        [],
        [],
        [],
        Risky,
        Cis
    ),
    control!(
        "IAM.9",
        "MFA should be enabled for the root user",
        "AwsAccount (?)",
        [req("1.13")],
        [req("1.5")],
        [req("1.5")],
        [req("1.4")],
        No,
        Cis
    ),
    control!(
        "IAM.11",
        "Ensure IAM password policy requires at least one uppercase letter",
        "AwsAccount",
        [req("1.5")],
        [],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "IAM.12",
        "Ensure IAM password policy requires at least one lowercase letter",
        "AwsAccount",
        [req("1.6")],
        [],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "IAM.13",
        "Ensure IAM password policy requires at least one symbol",
        "AwsAccount",
        [req("1.7")],
        [],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "IAM.14",
        "Ensure IAM password policy requires at least one number",
        "AwsAccount",
        [req("1.8")],
        [],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "IAM.15",
        "Ensure IAM password policy requires minimum password length of 14 or greater",
        "AwsAccount",
        [req("1.9")],
        [req("1.8")],
        [req("1.8")],
        [req("1.7")],
        Yes,
        Cis
    ),
    control!(
        "IAM.16",
        "Ensure IAM password policy prevents password reuse",
        "AwsAccount",
        [req("1.10")],
        [req("1.9")],
        [req("1.9")],
        [req("1.8")],
        Yes,
        Cis
    ),
    control!(
        "IAM.17",
        "Ensure IAM password policy expires passwords within 90 days or less",
        "AwsAccount",
        [req("1.11")],
        [],
        [],
        [],
        Yes,
        Cis
    ),
    control!(
        "IAM.18",
        "Ensure a support role has been created to manage incidents with AWS Support",
        "AwsAccount (?)",
        [req("1.20")],
        [req("1.17")],
        [req("1.17")],
        [req("1.16")],
        Yes,
        Cis
    ),
    control!(
        "IAM.22",
        "IAM user credentials unused for 45 days should be removed",
        "AwsIamUser (?)",
        [],
        [req("1.12")],
        [req("1.12")],
        [req("1.11")],
        Risky,
        Cis
    ),
    control!(
        "IAM.26",
        "Expired SSL/TLS certificates managed in IAM should be removed",
        "(?) (Config type AWS::IAM::ServerCertificate)",
        [],
        [],
        [req("1.19")],
        [req("1.18")],
        Yes,
        Cis
    ),
    control!(
        "IAM.27",
        "IAM identities should not have the AWSCloudShellFullAccess policy attached",
        "AwsIamUser / AwsIamRole / AwsIamGroup (?)",
        [],
        [],
        [req("1.22")],
        [req("1.21")],
        Risky,
        Cis
    ),
    control!(
        "IAM.28",
        "IAM Access Analyzer external access analyzer should be enabled",
        "(?) (Config type AWS::AccessAnalyzer::Analyzer)",
        [],
        [],
        [req("1.20")],
        [req("1.19")],
        Yes,
        Cis
    ),
    control!(
        "KMS.4",
        "AWS KMS key rotation should be enabled",
        "AwsKmsKey",
        [req("2.8")],
        [req("3.8")],
        [req("3.6")],
        [req("3.6")],
        Yes,
        Cis
    ),
    control!(
        "RDS.2",
        "RDS DB Instances should prohibit public access, as determined by the PubliclyAccessible configuration",
        "AwsRdsDbInstance",
        [],
        [],
        [req("2.3.3")],
        [req("2.2.3")],
        Risky,
        Cis
    ),
    control!(
        "RDS.3",
        "RDS DB instances should have encryption at-rest enabled",
        "AwsRdsDbInstance (?)",
        [],
        [req("2.3.1")],
        [req("2.3.1")],
        [req("2.2.1")],
        No,
        Cis
    ),
    // Multi-AZ (RDS.5: `rds:ModifyDBInstance` with `MultiAZ`; RDS.15: a reader in another
    // Availability Zone) is additive and keeps the database online, but roughly doubles its
    // cost: `yes` by the reference's definition (it may cost money or need configured input).
    control!(
        "RDS.5",
        "RDS DB instances should be configured with multiple Availability Zones",
        "AwsRdsDbInstance (?)",
        [],
        [],
        [],
        [req("2.2.4")],
        Yes,
        Cis
    ),
    control!(
        "RDS.13",
        "RDS automatic minor version upgrades should be enabled",
        "AwsRdsDbInstance",
        [],
        [],
        [req("2.3.2")],
        [req("2.2.2")],
        Yes,
        Cis
    ),
    control!(
        "RDS.15",
        "RDS DB clusters should be configured for multiple Availability Zones",
        "AwsRdsDbCluster (?)",
        [],
        [],
        [],
        [req("2.2.4")],
        Yes,
        Cis
    ),
    control!(
        "S3.1",
        "S3 general purpose buckets should have block public access settings enabled",
        "AwsAccount",
        [],
        [sub("2.1.5", "2.1.5.1")],
        [sub("2.1.4", "2.1.4.1")],
        [sub("2.1.4", "2.1.4.1")],
        Risky,
        Cis
    ),
    control!(
        "S3.5",
        "S3 general purpose buckets should require requests to use SSL",
        "AwsS3Bucket",
        [],
        [req("2.1.2")],
        [req("2.1.1")],
        [req("2.1.1")],
        Yes,
        Cis
    ),
    control!(
        "S3.8",
        "S3 general purpose buckets should block public access",
        "AwsS3Bucket",
        [],
        [sub("2.1.5", "2.1.5.2")],
        [sub("2.1.4", "2.1.4.2")],
        [sub("2.1.4", "2.1.4.2")],
        Risky,
        Cis
    ),
    control!(
        "S3.20",
        "S3 general purpose buckets should have MFA delete enabled",
        "AwsS3Bucket (?)",
        [],
        [req("2.1.3")],
        [req("2.1.2")],
        [req("2.1.2")],
        No,
        Cis
    ),
    control!(
        "S3.22",
        "S3 general purpose buckets should log object-level write events",
        "AwsAccount (?)",
        [],
        [],
        [req("3.8")],
        [req("3.8")],
        Yes,
        Cis
    ),
    control!(
        "S3.23",
        "S3 general purpose buckets should log object-level read events",
        "AwsAccount (?)",
        [],
        [],
        [req("3.9")],
        [req("3.9")],
        Yes,
        Cis
    ),
    // Section 1a: retired, still named by older findings.
    control!(
        "IAM.20",
        "Avoid the use of the root user",
        "AwsIamUser (?)",
        [req("1.1")],
        [],
        [],
        [],
        No,
        Retired
    ),
    control!(
        "S3.4",
        "S3 buckets should have server-side encryption enabled",
        "AwsS3Bucket",
        [],
        [req("2.1.1")],
        [],
        [],
        Yes,
        Retired
    ),
    // Not CIS: the `iam-password-policy` plugin also fixes AWS Foundational Security Best
    // Practices control IAM.7, so its findings can be routed by the same policy.
    control!(
        "IAM.7",
        "Password policies for IAM users should have strong configurations",
        "AwsAccount",
        [],
        [],
        [],
        [],
        Yes,
        Extra
    ),
];

/// The catalog entry for a Security Hub control id (exact, case-sensitive: `EC2.53`).
pub fn control(id: &str) -> Option<&'static Control> {
    CONTROLS.iter().find(|c| c.id == id)
}

/// Resolves a CIS id as a finding of one version carries it (`4.1`, `2.1.5.1`) to the Security
/// Hub control. When a retired control shares the id with a current one, the current one wins
/// (v1.2.0 `1.1` is CloudWatch.1, not the retired IAM.20).
///
/// A bare requirement id that Security Hub split into several controls (v1.4.0 `2.1.5`) is
/// ambiguous on its own; `resource_type` (the finding's first resource type) settles it when
/// given. Returns `None` when the id names no control of that version or stays ambiguous.
pub fn lookup_cis(
    version: CisVersion,
    id: &str,
    resource_type: Option<&str>,
) -> Option<&'static Control> {
    pick(cis_candidates(version, id), resource_type)
}

/// The controls a CIS id of one version can mean before the resource type is looked at: the
/// controls whose standard-control id it is or, when none, whose requirement it is; retired
/// controls only where no current control has it. More than one where Security Hub splits a
/// requirement (v1.4.0 `2.1.5`) or gives one id to two controls (v5.0.0 `2.3.1`: EFS.1 and
/// EFS.8; `2.2.4`: RDS.5 and RDS.15).
pub fn cis_candidates(version: CisVersion, id: &str) -> Vec<&'static Control> {
    let by_control: Vec<&'static Control> = CONTROLS
        .iter()
        .filter(|c| c.cis_ids(version).iter().any(|cis| cis.control == id))
        .collect();
    let candidates: Vec<&'static Control> = if by_control.is_empty() {
        CONTROLS
            .iter()
            .filter(|c| c.cis_ids(version).iter().any(|cis| cis.requirement == id))
            .collect()
    } else {
        by_control
    };
    if candidates
        .iter()
        .any(|c| c.membership != Membership::Retired)
    {
        candidates
            .into_iter()
            .filter(|c| c.membership != Membership::Retired)
            .collect()
    } else {
        candidates
    }
}

fn pick(pool: Vec<&'static Control>, resource_type: Option<&str>) -> Option<&'static Control> {
    match pool.as_slice() {
        [] => None,
        [one] => Some(*one),
        many => {
            let resource_type = resource_type?;
            let matching: Vec<&'static Control> = many
                .iter()
                .copied()
                .filter(|c| {
                    c.resource_type
                        .split(" / ")
                        .any(|t| t.trim_end_matches(" (?)") == resource_type)
                })
                .collect();
            match matching.as_slice() {
                [one] => Some(*one),
                _ => None,
            }
        }
    }
}

/// The CIS id, in one version, of a catalog control (its standard-control id or its
/// requirement): the control a policy's declared CIS id would collide with.
pub fn cis_id_owner(version: CisVersion, id: &str) -> Option<&'static Control> {
    CONTROLS.iter().find(|c| {
        c.cis_ids(version)
            .iter()
            .any(|cis| cis.control == id || cis.requirement == id)
    })
}

/// The pattern a control id declared by a policy (`[controls."S3.99".declare]`) must match:
/// a service name (a letter, then up to 31 letters or digits), a dot, and a number of 1 to 4
/// digits. Every catalog id matches it. [`is_declarable_control_id`] checks it.
pub const DECLARED_CONTROL_ID_PATTERN: &str = r"^[A-Za-z][A-Za-z0-9]{0,31}\.[0-9]{1,4}$";

/// The pattern of a CIS id (`2.1.5.1`): dot-separated numbers. [`looks_like_cis_id`] checks
/// it.
pub const CIS_ID_PATTERN: &str = r"^[0-9]+(\.[0-9]+)*$";

/// The pattern of an ASFF resource type (`AwsS3Bucket`, `AwsAccount`, `Other`): an
/// uppercase letter, then 1 to 63 letters or digits. [`looks_like_resource_type`] checks it.
pub const RESOURCE_TYPE_PATTERN: &str = r"^[A-Z][A-Za-z0-9]{1,63}$";

/// Whether `id` matches [`DECLARED_CONTROL_ID_PATTERN`].
pub fn is_declarable_control_id(id: &str) -> bool {
    let Some((service, number)) = id.split_once('.') else {
        return false;
    };
    service.starts_with(|c: char| c.is_ascii_alphabetic())
        && service.len() <= 32
        && service.chars().all(|c| c.is_ascii_alphanumeric())
        && (1..=4).contains(&number.len())
        && number.chars().all(|c| c.is_ascii_digit())
}

/// Whether `text` matches [`RESOURCE_TYPE_PATTERN`].
pub fn looks_like_resource_type(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_uppercase())
        && (2..=64).contains(&text.len())
        && text.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Whether `text` has the shape of a Security Hub control id (`EC2.53`, `CloudTrail.1`), as
/// opposed to a CIS id (`2.1.5.1`).
pub fn looks_like_control_id(text: &str) -> bool {
    let Some((service, number)) = text.split_once('.') else {
        return false;
    };
    service.starts_with(|c: char| c.is_ascii_alphabetic())
        && service.chars().all(|c| c.is_ascii_alphanumeric())
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

/// Whether `text` has the shape of a CIS id (`4.1`, `2.1.5.1`).
pub fn looks_like_cis_id(text: &str) -> bool {
    !text.is_empty()
        && text
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn count(version: CisVersion) -> usize {
        CONTROLS
            .iter()
            .filter(|c| c.membership == Membership::Cis && c.in_version(version))
            .count()
    }

    #[test]
    fn counts_match_the_reference() {
        // Section 6 of the reference: 42, 39 and 37 security controls, 62 in the union; the
        // guide's v5.0.0 list has 40, three of them (EFS.8, RDS.5, RDS.15) in no older
        // version: 65 in the union of the four.
        assert_eq!(count(CisVersion::V1_2_0), 42);
        assert_eq!(count(CisVersion::V1_4_0), 39);
        assert_eq!(count(CisVersion::V3_0_0), 37);
        assert_eq!(count(CisVersion::V5_0_0), 40);
        let only_v5: Vec<&str> = CONTROLS
            .iter()
            .filter(|c| {
                c.in_version(CisVersion::V5_0_0)
                    && !CisVersion::ALL[..3].iter().any(|v| c.in_version(*v))
            })
            .map(|c| c.id)
            .collect();
        assert_eq!(only_v5, ["EFS.8", "RDS.5", "RDS.15"]);
        // v3.0.0 controls that v5.0.0 does not have: none (the guide lists all 37 again).
        for c in CONTROLS.iter().filter(|c| c.in_version(CisVersion::V3_0_0)) {
            assert!(c.in_version(CisVersion::V5_0_0), "{}", c.id);
        }
        let union = CONTROLS
            .iter()
            .filter(|c| c.membership == Membership::Cis)
            .count();
        assert_eq!(union, 65);
        let retired: Vec<_> = CONTROLS
            .iter()
            .filter(|c| c.membership == Membership::Retired)
            .map(|c| c.id)
            .collect();
        assert_eq!(retired, ["IAM.20", "S3.4"]);
        // Every current control is in at least one version.
        for c in CONTROLS.iter().filter(|c| c.membership == Membership::Cis) {
            assert!(CisVersion::ALL.iter().any(|v| c.in_version(*v)), "{}", c.id);
        }
    }

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = BTreeSet::new();
        for c in CONTROLS {
            assert!(seen.insert(c.id), "duplicate {}", c.id);
            assert!(looks_like_control_id(c.id), "{}", c.id);
            for v in CisVersion::ALL {
                for cis in c.cis_ids(v) {
                    assert!(looks_like_cis_id(cis.control), "{} {}", c.id, cis.control);
                    assert!(cis.control.starts_with(cis.requirement));
                }
            }
        }
    }

    #[test]
    fn every_standard_control_id_resolves_to_exactly_its_control() {
        // Ids shared by several current controls of one version (v5.0.0 `2.3.1`, `2.2.4`).
        let shared = |v: CisVersion, id: &str| {
            CONTROLS
                .iter()
                .filter(|c| c.membership != Membership::Retired)
                .filter(|c| c.cis_ids(v).iter().any(|cis| cis.control == id))
                .count()
                > 1
        };
        for v in CisVersion::ALL {
            for c in CONTROLS
                .iter()
                .filter(|c| c.membership != Membership::Retired)
            {
                for cis in c.cis_ids(v) {
                    if shared(v, cis.control) {
                        assert_eq!(lookup_cis(v, cis.control, None), None, "{v} {}", c.id);
                        continue;
                    }
                    assert_eq!(lookup_cis(v, cis.control, None).map(|c| c.id), Some(c.id));
                }
            }
        }
    }

    #[test]
    fn quirks_of_the_reference() {
        use CisVersion::*;
        // CloudWatch.1 has two ids in v1.2.0 and v1.4.0.
        for (v, id) in [
            (V1_2_0, "1.1"),
            (V1_2_0, "3.3"),
            (V1_4_0, "1.7"),
            (V1_4_0, "4.3"),
        ] {
            assert_eq!(lookup_cis(v, id, None).map(|c| c.id), Some("CloudWatch.1"));
        }
        // Split requirements.
        assert_eq!(
            lookup_cis(V1_4_0, "2.1.5.1", None).map(|c| c.id),
            Some("S3.1")
        );
        assert_eq!(
            lookup_cis(V1_4_0, "2.1.5.2", None).map(|c| c.id),
            Some("S3.8")
        );
        assert_eq!(
            lookup_cis(V3_0_0, "2.1.4.1", None).map(|c| c.id),
            Some("S3.1")
        );
        assert_eq!(
            lookup_cis(V3_0_0, "2.1.4.2", None).map(|c| c.id),
            Some("S3.8")
        );
        assert_eq!(lookup_cis(V1_4_0, "2.1.5", None), None);
        assert_eq!(
            lookup_cis(V1_4_0, "2.1.5", Some("AwsS3Bucket")).map(|c| c.id),
            Some("S3.8")
        );
        assert_eq!(
            lookup_cis(V3_0_0, "2.1.4", Some("AwsAccount")).map(|c| c.id),
            Some("S3.1")
        );
        // v5.0.0 splits 2.1.4 as v3.0.0 does.
        assert_eq!(
            lookup_cis(V5_0_0, "2.1.4.1", None).map(|c| c.id),
            Some("S3.1")
        );
        assert_eq!(
            lookup_cis(V5_0_0, "2.1.4.2", None).map(|c| c.id),
            Some("S3.8")
        );
        assert_eq!(
            lookup_cis(V5_0_0, "2.1.4", Some("AwsS3Bucket")).map(|c| c.id),
            Some("S3.8")
        );
        // v5.0.0 gives one id to two controls: the resource type settles RDS.5 (instance)
        // and RDS.15 (cluster); nothing settles EFS.1 and EFS.8 (both file systems).
        assert_eq!(lookup_cis(V5_0_0, "2.2.4", None), None);
        assert_eq!(
            lookup_cis(V5_0_0, "2.2.4", Some("AwsRdsDbInstance")).map(|c| c.id),
            Some("RDS.5")
        );
        assert_eq!(
            lookup_cis(V5_0_0, "2.2.4", Some("AwsRdsDbCluster")).map(|c| c.id),
            Some("RDS.15")
        );
        assert_eq!(lookup_cis(V5_0_0, "2.3.1", Some("AwsEfsFileSystem")), None);
        let ids = |v: CisVersion, id: &str| -> Vec<&str> {
            cis_candidates(v, id).iter().map(|c| c.id).collect()
        };
        assert_eq!(ids(V5_0_0, "2.3.1"), ["EFS.1", "EFS.8"]);
        assert_eq!(ids(V1_4_0, "2.1.5"), ["S3.1", "S3.8"]);
        assert_eq!(ids(V1_2_0, "1.1"), ["CloudWatch.1"]);
        assert_eq!(ids(V1_4_0, "2.1.1"), ["S3.4"]);
        // Renumbered in v5.0.0: the v3.0.0 id means another control, or none.
        assert_eq!(lookup_cis(V5_0_0, "5.5", None).map(|c| c.id), Some("EC2.2"));
        assert_eq!(lookup_cis(V3_0_0, "5.5", None), None);
        assert_eq!(
            lookup_cis(V5_0_0, "5.2", None).map(|c| c.id),
            Some("EC2.21")
        );
        assert_eq!(
            lookup_cis(V3_0_0, "5.2", None).map(|c| c.id),
            Some("EC2.53")
        );
        assert_eq!(
            lookup_cis(V5_0_0, "5.1.1", None).map(|c| c.id),
            Some("EC2.7")
        );
        assert_eq!(
            lookup_cis(V5_0_0, "2.2.1", None).map(|c| c.id),
            Some("RDS.3")
        );
        // The same id means different controls in different versions.
        assert_eq!(
            lookup_cis(V1_2_0, "3.3", None).map(|c| c.id),
            Some("CloudWatch.1")
        );
        assert_eq!(
            lookup_cis(V1_4_0, "3.3", None).map(|c| c.id),
            Some("CloudTrail.6")
        );
        assert_eq!(
            lookup_cis(V3_0_0, "3.3", None).map(|c| c.id),
            Some("Config.1")
        );
        // Retired controls are still found where nothing current shares the id.
        assert_eq!(
            lookup_cis(V1_4_0, "2.1.1", None).map(|c| c.id),
            Some("S3.4")
        );
        assert_eq!(lookup_cis(V3_0_0, "9.9", None), None);
    }

    #[test]
    fn declarable_ids_and_resource_types() {
        // Every catalog id could be declared (the pattern is not narrower than the catalog).
        for c in CONTROLS {
            assert!(is_declarable_control_id(c.id), "{}", c.id);
            for t in c.resource_types() {
                assert!(looks_like_resource_type(t), "{} {t}", c.id);
            }
        }
        assert!(is_declarable_control_id("S3.99"));
        assert!(is_declarable_control_id("a.1"));
        assert!(is_declarable_control_id(&format!(
            "{}.9999",
            "A".repeat(32)
        )));
        assert!(!is_declarable_control_id(&format!("{}.1", "A".repeat(33))));
        assert!(!is_declarable_control_id("S3.12345"));
        assert!(!is_declarable_control_id("S3."));
        assert!(!is_declarable_control_id("3S.1"));
        assert!(!is_declarable_control_id("S3.1.2"));
        assert!(!is_declarable_control_id("S-3.1"));
        assert!(!is_declarable_control_id("2.1.5"));
        assert!(looks_like_resource_type("AwsS3Bucket"));
        assert!(looks_like_resource_type("Other"));
        assert!(!looks_like_resource_type("AWS::S3::Bucket"));
        assert!(!looks_like_resource_type("awsS3Bucket"));
        assert!(!looks_like_resource_type("A"));
        assert_eq!(
            control("IAM.27").map(Control::resource_types),
            Some(vec!["AwsIamUser", "AwsIamRole", "AwsIamGroup"])
        );
        assert_eq!(control("IAM.26").map(Control::resource_types), Some(vec![]));
        assert_eq!(
            control("EC2.53").map(Control::resource_types),
            Some(vec!["AwsEc2SecurityGroup"])
        );
        assert_eq!(
            cis_id_owner(CisVersion::V3_0_0, "2.1.4").map(|c| c.id),
            Some("S3.1")
        );
        assert_eq!(cis_id_owner(CisVersion::V3_0_0, "2.1.9"), None);
        assert_eq!(
            control("RDS.15").map(Control::resource_types),
            Some(vec!["AwsRdsDbCluster"])
        );
    }

    #[test]
    fn versions() {
        assert_eq!(CisVersion::parse("5.0.0"), Some(CisVersion::V5_0_0));
        assert_eq!(CisVersion::parse("4.0.0"), None);
        assert_eq!(
            CisVersion::V5_0_0.standards_id(),
            "standards/cis-aws-foundations-benchmark/v/5.0.0"
        );
        let names: Vec<&str> = CisVersion::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(names, ["1.2.0", "1.4.0", "3.0.0", "5.0.0"]);
        assert!(CisVersion::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn id_shapes() {
        assert!(looks_like_control_id("EC2.53"));
        assert!(looks_like_control_id("CloudTrail.1"));
        assert!(!looks_like_control_id("2.1.5"));
        assert!(!looks_like_control_id("EC2."));
        assert!(!looks_like_control_id("EC2.5a"));
        assert!(looks_like_cis_id("2.1.5.1"));
        assert!(looks_like_cis_id("4"));
        assert!(!looks_like_cis_id("2..1"));
        assert!(!looks_like_cis_id(""));
    }
}
