//! Shared pieces of the integration tests and the demo: reaching the emulator, seeding
//! misconfigurations in member accounts (through AssumeRole, as production does), building
//! findings, and locating the compiled plugins.
//!
//! Everything talks to AWS only through the environment (`AWS_ENDPOINT_URL` and friends),
//! which `cargo xtask test` / `cargo xtask demo` set for a local moto server.

pub mod emulator;
pub mod lambda;
pub mod pipeline;
pub mod scenario;
pub mod stepfunctions;

use std::path::PathBuf;
use std::sync::LazyLock;

use anyhow::{Context, Result, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, Ipv6Range, UserIdGroupPair};
use serde_json::{Value, json};

/// The region the tests work in.
pub const REGION: &str = "us-east-1";

/// The role hubfix assumes in member accounts (moto does not require it to exist).
pub const ROLE_NAME: &str = "HubfixRemediationRole";

/// What the `misbehave` fixture imports, so what a test must grant it to load it.
pub const MISBEHAVE_GRANTS: [&str; 3] = [
    "ec2.revoke-security-group-ingress",
    "ec2.describe-security-group-rules",
    "ec2.get-ebs-encryption-by-default",
];

/// Whether the emulator environment is there. When it is not, prints why the calling
/// test is skipped and returns `false`; run the suite with `cargo xtask test`.
pub fn emulator_available(test: &str) -> bool {
    if std::env::var_os("HUBFIX_EMULATOR").is_some()
        && std::env::var_os("AWS_ENDPOINT_URL").is_some()
    {
        return true;
    }
    eprintln!(
        "skipping {test}: needs the local AWS emulator and built plugins; run `cargo xtask test`"
    );
    false
}

/// The SDK configuration from the environment (the host's own identity).
pub async fn base_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .http_client(hubfix_host::http_client())
        .load()
        .await
}

/// A suffix that makes resource names unique, so a suite can run twice against one
/// emulator.
pub fn unique_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// An S3 client for the registry bucket (path-style addressing, as the emulator needs).
pub fn s3_client(base: &SdkConfig, endpoint: Option<&str>) -> aws_sdk_s3::Client {
    let mut config = aws_sdk_s3::config::Builder::from(base).force_path_style(true);
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

/// Creates a fresh bucket with a unique name and returns the name.
pub async fn fresh_bucket(s3: &aws_sdk_s3::Client, stem: &str) -> Result<String> {
    let bucket = format!("{stem}-{}", unique_suffix());
    s3.create_bucket().bucket(&bucket).send().await?;
    Ok(bucket)
}

/// The SDK configuration of role `role` in `account`, through STS AssumeRole (the emulator
/// puts every request made with it in that account).
pub async fn assume_config(base: &SdkConfig, account: &str, role: &str) -> Result<SdkConfig> {
    let sts = aws_sdk_sts::Client::new(base);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{role}"))
        .role_session_name("hubfix-tests")
        .send()
        .await
        .with_context(|| format!("assume {role} in {account}"))?;
    let c = out.credentials.context("no credentials")?;
    let creds = Credentials::new(
        c.access_key_id,
        c.secret_access_key,
        Some(c.session_token),
        None,
        "hubfix-tests",
    );
    Ok(base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build())
}

/// SDK clients acting inside one member account, reached through STS AssumeRole.
#[derive(Clone)]
pub struct Member {
    /// The account id.
    pub account: String,
    /// EC2 in [`REGION`].
    pub ec2: aws_sdk_ec2::Client,
    /// IAM.
    pub iam: aws_sdk_iam::Client,
}

impl Member {
    /// Assumes a role in `account` (a 12-digit id) and builds clients from it.
    pub async fn assume(base: &SdkConfig, account: &str) -> Result<Self> {
        let config = assume_config(base, account, "HubfixTestSeeder").await?;
        Ok(Self {
            account: account.to_owned(),
            ec2: aws_sdk_ec2::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
        })
    }

    /// The default VPC's id.
    pub async fn default_vpc(&self) -> Result<String> {
        let out = self
            .ec2
            .describe_vpcs()
            .filters(Filter::builder().name("is-default").values("true").build())
            .send()
            .await?;
        out.vpcs
            .unwrap_or_default()
            .into_iter()
            .find_map(|v| v.vpc_id)
            .context("account has no default VPC")
    }

    /// A weak password policy (length 8, no character classes, no reuse prevention).
    pub async fn seed_weak_password_policy(&self) -> Result<()> {
        self.iam
            .update_account_password_policy()
            .minimum_password_length(8)
            .require_symbols(false)
            .require_numbers(false)
            .require_uppercase_characters(false)
            .require_lowercase_characters(false)
            .allow_users_to_change_password(true)
            .send()
            .await?;
        Ok(())
    }

    /// The account password policy, if any.
    pub async fn password_policy(&self) -> Result<Option<aws_sdk_iam::types::PasswordPolicy>> {
        match self.iam.get_account_password_policy().send().await {
            Ok(out) => Ok(out.password_policy),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A security group in the default VPC with admin ports open to the world
    /// (tcp 22 from 0.0.0.0/0, tcp 3389 from ::/0, all traffic from 0.0.0.0/0 is NOT
    /// added so the group stays realistic) next to rules that must survive (tcp 443
    /// from 0.0.0.0/0, tcp 22 from 10.0.0.0/8).
    pub async fn seed_open_admin_group(&self, name: &str) -> Result<String> {
        let vpc = self.default_vpc().await?;
        let group = self
            .ec2
            .create_security_group()
            .group_name(format!("{name}-{}", unique_suffix()))
            .description("hubfix test: admin ports open to the world")
            .vpc_id(vpc)
            .send()
            .await?
            .group_id
            .context("no group id")?;
        let v4 = |cidr: &str| IpRange::builder().cidr_ip(cidr).build();
        let tcp = |port: i32| {
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(port)
                .to_port(port)
        };
        self.ec2
            .authorize_security_group_ingress()
            .group_id(&group)
            .ip_permissions(tcp(22).ip_ranges(v4("0.0.0.0/0")).build())
            .ip_permissions(
                tcp(3389)
                    .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
                    .build(),
            )
            .ip_permissions(tcp(443).ip_ranges(v4("0.0.0.0/0")).build())
            .ip_permissions(tcp(22).ip_ranges(v4("10.0.0.0/8")).build())
            .send()
            .await?;
        Ok(group)
    }

    /// The default security group of the default VPC, with the self-referencing inbound
    /// rule AWS creates (moto omits it) and an extra inbound rule from the world.
    pub async fn seed_default_group_rules(&self) -> Result<String> {
        let vpc = self.default_vpc().await?;
        let out = self
            .ec2
            .describe_security_groups()
            .filters(Filter::builder().name("vpc-id").values(&vpc).build())
            .filters(
                Filter::builder()
                    .name("group-name")
                    .values("default")
                    .build(),
            )
            .send()
            .await?;
        let group = out
            .security_groups
            .unwrap_or_default()
            .into_iter()
            .find_map(|g| g.group_id)
            .context("default VPC has no default security group")?;
        let existing = self.rules(&group).await?;
        let has_self_rule = existing
            .iter()
            .any(|r| !r.is_egress.unwrap_or(false) && r.referenced_group_info.is_some());
        // Seeding twice (a second run against the same emulator) adds nothing twice.
        let has_world_rule = existing.iter().any(|r| {
            !r.is_egress.unwrap_or(false)
                && r.from_port == Some(80)
                && r.cidr_ipv4.as_deref() == Some("0.0.0.0/0")
        });
        let mut request = self.ec2.authorize_security_group_ingress().group_id(&group);
        if !has_world_rule {
            request = request.ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(80)
                    .to_port(80)
                    .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .build(),
            );
        }
        if !has_self_rule {
            request = request.ip_permissions(
                IpPermission::builder()
                    .ip_protocol("-1")
                    .user_id_group_pairs(UserIdGroupPair::builder().group_id(&group).build())
                    .build(),
            );
        }
        if !(has_world_rule && has_self_rule) {
            request.send().await?;
        }
        if !self
            .rules(&group)
            .await?
            .iter()
            .any(|r| r.is_egress == Some(true))
        {
            self.ec2
                .authorize_security_group_egress()
                .group_id(&group)
                .ip_permissions(
                    IpPermission::builder()
                        .ip_protocol("-1")
                        .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                        .build(),
                )
                .send()
                .await?;
        }
        Ok(group)
    }

    /// Every rule of a security group.
    pub async fn rules(&self, group: &str) -> Result<Vec<aws_sdk_ec2::types::SecurityGroupRule>> {
        let out = self
            .ec2
            .describe_security_group_rules()
            .filters(Filter::builder().name("group-id").values(group).build())
            .send()
            .await?;
        Ok(out.security_group_rules.unwrap_or_default())
    }

    /// Turns EBS encryption by default off.
    pub async fn disable_ebs_default_encryption(&self) -> Result<()> {
        self.ec2.disable_ebs_encryption_by_default().send().await?;
        Ok(())
    }

    /// Whether EBS encryption by default is on.
    pub async fn ebs_default_encryption(&self) -> Result<bool> {
        let out = self.ec2.get_ebs_encryption_by_default().send().await?;
        Ok(out.ebs_encryption_by_default.unwrap_or(false))
    }
}

/// A failed, active, new Security Hub finding (consolidated control format) about
/// `resources` (pairs of ASFF type and id).
pub fn finding(account: &str, control: &str, resources: &[(&str, String)]) -> Value {
    let id = format!(
        "arn:aws:securityhub:{REGION}:{account}:security-control/{control}/finding/{}",
        resources
            .first()
            .map(|(_, id)| id.as_str())
            .unwrap_or("none")
            .replace([':', '/'], "-")
    );
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": id,
        "ProductArn": format!("arn:aws:securityhub:{REGION}::product/aws/securityhub"),
        "GeneratorId": format!("security-control/{control}"),
        "AwsAccountId": account,
        "Region": REGION,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "CreatedAt": "2026-11-26T00:00:00Z",
        "UpdatedAt": "2026-11-26T00:00:00Z",
        "Severity": {"Label": "HIGH"},
        "Title": format!("{control} test finding"),
        "Description": "seeded by hubfix tests",
        "Compliance": {"Status": "FAILED", "SecurityControlId": control},
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
        "Resources": resources.iter().map(|(ty, id)| json!({
            "Type": ty, "Id": id, "Partition": "aws", "Region": REGION,
        })).collect::<Vec<_>>(),
    })
}

/// A finding about the whole account.
pub fn account_finding(account: &str, control: &str) -> Value {
    finding(
        account,
        control,
        &[("AwsAccount", format!("AWS::::Account:{account}"))],
    )
}

/// A finding about one security group.
pub fn group_finding(account: &str, control: &str, group: &str) -> Value {
    finding(
        account,
        control,
        &[(
            "AwsEc2SecurityGroup",
            format!("arn:aws:ec2:{REGION}:{account}:security-group/{group}"),
        )],
    )
}

/// A failed, new Security Hub v2 finding (OCSF, class 2003) about one security group: the
/// OCSF twin of [`group_finding`], with a `finding_info.uid` of its own each call.
pub fn ocsf_group_finding(account: &str, control: &str, group: &str) -> Value {
    let arn = format!("arn:aws:ec2:{REGION}:{account}:security-group/{group}");
    json!({
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "activity_id": 1,
        "severity_id": 4,
        "status": "New",
        "status_id": 1,
        "time_dt": "2026-11-26T00:00:00Z",
        "cloud": {"account": {"uid": account}, "provider": "AWS", "region": REGION},
        "compliance": {"control": control, "status": "Fail", "status_id": 3},
        "finding_info": {
            "uid": format!(
                "arn:aws:securityhub:{REGION}:{account}:security-control/{control}/finding/{group}/v2-{}",
                unique_suffix()
            ),
            "title": format!("{control} test finding"),
            "created_time_dt": "2026-11-26T00:00:00Z",
        },
        "metadata": {"product": {"name": "Security Hub",
                                 "uid": format!("arn:aws:securityhub:{REGION}::productv2/aws/securityhub")}},
        "resources": [{"type": "AWS::EC2::SecurityGroup", "uid": group, "uid_alt": arn,
                       "region": REGION, "cloud_partition": "aws",
                       "owner": {"account": {"uid": account}}}],
    })
}

/// A shipped plugin as the shipped policy (`hubfix_policy::Policy::shipped()`) declares
/// it: the tests grant and parameterize plugins exactly as the policy does, and keep no
/// list of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSpec {
    /// The plugin's name (= crate name).
    pub name: &'static str,
    /// The host functions the policy grants it.
    pub grants: Vec<String>,
    /// The parameters the policy passes it by default.
    pub params: Vec<(String, String)>,
}

impl PluginSpec {
    /// The shipped policy's entry for plugin `name`.
    pub fn shipped(name: &'static str) -> Result<Self> {
        let policy = hubfix_policy::Policy::shipped()
            .map_err(|e| anyhow::anyhow!("the shipped policy is invalid:\n{e}"))?;
        let plugin = policy
            .plugin(name)
            .with_context(|| format!("the shipped policy has no plugin `{name}`"))?;
        Ok(Self {
            name,
            grants: plugin.grants.clone(),
            params: plugin
                .params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    /// [`PluginSpec::shipped`], or, when the policy lacks the plugin, a spec that grants
    /// nothing (loading the plugin then fails naming every function it imports) and says
    /// why on stderr.
    fn shipped_or_nothing(name: &'static str) -> Self {
        Self::shipped(name).unwrap_or_else(|e| {
            eprintln!("{e:#}: plugin `{name}` is granted nothing");
            Self {
                name,
                grants: Vec::new(),
                params: Vec::new(),
            }
        })
    }

    /// The grants as `&str`s.
    pub fn grant_names(&self) -> Vec<&str> {
        self.grants.iter().map(String::as_str).collect()
    }
}

/// The four shipped plugins, as the shipped policy declares them.
pub static IAM_PASSWORD_POLICY: LazyLock<PluginSpec> =
    LazyLock::new(|| PluginSpec::shipped_or_nothing("iam-password-policy"));
/// See [`IAM_PASSWORD_POLICY`].
pub static EC2_RESTRICT_ADMIN_PORTS: LazyLock<PluginSpec> =
    LazyLock::new(|| PluginSpec::shipped_or_nothing("ec2-restrict-admin-ports"));
/// See [`IAM_PASSWORD_POLICY`].
pub static EC2_DEFAULT_SG_RESTRICT: LazyLock<PluginSpec> =
    LazyLock::new(|| PluginSpec::shipped_or_nothing("ec2-default-sg-restrict"));
/// See [`IAM_PASSWORD_POLICY`].
pub static EC2_EBS_DEFAULT_ENCRYPTION: LazyLock<PluginSpec> =
    LazyLock::new(|| PluginSpec::shipped_or_nothing("ec2-ebs-default-encryption"));

/// The path of a compiled plugin (`HUBFIX_PLUGIN_DIR/<name with underscores>.wasm`).
pub fn plugin_path(name: &str) -> Result<PathBuf> {
    let dir = std::env::var_os("HUBFIX_PLUGIN_DIR")
        .context("HUBFIX_PLUGIN_DIR is not set; run `cargo xtask test`")?;
    let path = PathBuf::from(dir).join(format!("{}.wasm", name.replace('-', "_")));
    if !path.is_file() {
        bail!("{} is missing; run `cargo xtask plugins`", path.display());
    }
    Ok(path)
}

/// The bytes of a compiled plugin.
pub fn plugin_bytes(name: &str) -> Result<Vec<u8>> {
    let path = plugin_path(name)?;
    std::fs::read(&path).with_context(|| format!("read {}", path.display()))
}
