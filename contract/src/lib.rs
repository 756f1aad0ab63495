//! The hubfix host-function contract, declared once.
//!
//! Every AWS host function a plugin can import is one [`HostFunction`] row of
//! [`FUNCTIONS`]: the WIT function (`service.function`), the AWS operation, every IAM
//! action it needs (and whether AWS lets each be narrowed to resources), and its scope
//! [`Target`]. Everything else is derived from this table:
//!
//! - the host's grant check and its call gate (`hubfix-host` looks each function up here,
//!   at compile time, with [`function`]);
//! - the policy's list of grantable functions and its JSON schema (`hubfix-policy`);
//! - the AssumeRole session policy of each remediation (`hubfix-host`);
//! - the IAM actions of the member-account role, `deploy/member-role.yaml`
//!   ([`member_role_statements`], written by `cargo xtask codegen`);
//! - the WIT world's imports and the host's SDK dependencies ([`SERVICES`]);
//! - `hubfix functions`.
//!
//! A test keeps the table equal to the WIT files; `cargo xtask codegen --check` (run by
//! CI) keeps the generated files equal to the table.
#![deny(missing_docs)]

mod table;

use std::collections::BTreeSet;
use std::fmt::Write as _;

pub use table::{FUNCTIONS, SERVICES};

/// A kind of AWS resource that host functions act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceType {
    /// The ASFF resource type a finding names it by, e.g. `AwsEc2SecurityGroup`.
    pub asff: &'static str,
    /// The AWS Config (CloudFormation) type Security Hub v2's OCSF findings name it by,
    /// e.g. `AWS::EC2::SecurityGroup`.
    pub config: &'static str,
    /// Its ARN, with `{partition}`, `{region}`, `{account}` and `{id}` placeholders, e.g.
    /// `arn:{partition}:ec2:{region}:{account}:security-group/{id}`.
    pub arn: &'static str,
    /// What its id (short id or name) looks like, as AWS documents it.
    pub id: IdSyntax,
}

/// What a resource id looks like: the host refuses a call on an id of another shape
/// before it reaches AWS (or a filter value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdSyntax {
    /// The prefix and 8 or 17 lowercase hexadecimal digits (`sg-0123abcd`).
    Ec2(&'static str),
    /// 1 to `max` ASCII letters, digits and characters of `punctuation`.
    Name {
        /// Longest id, in characters.
        max: usize,
        /// Characters allowed besides ASCII letters and digits.
        punctuation: &'static str,
    },
    /// 1 to `max` printable ASCII characters (spaces inside allowed).
    Printable {
        /// Longest id, in characters.
        max: usize,
    },
}

/// Longest ARN the host accepts (AWS's longest ARNs are 2,048 characters).
pub const MAX_ARN: usize = 2048;

impl IdSyntax {
    /// Whether `id` has this shape.
    pub fn accepts(&self, id: &str) -> bool {
        match *self {
            IdSyntax::Ec2(prefix) => id.strip_prefix(prefix).is_some_and(|hex| {
                (hex.len() == 8 || hex.len() == 17)
                    && hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            }),
            IdSyntax::Name { max, punctuation } => {
                !id.is_empty()
                    && id.len() <= max
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || punctuation.contains(c))
            }
            IdSyntax::Printable { max } => {
                !id.is_empty()
                    && id.len() <= max
                    && id.trim() == id
                    && id.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
            }
        }
    }
}

impl std::fmt::Display for IdSyntax {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdSyntax::Ec2(prefix) => write!(f, "{prefix} and 8 or 17 lowercase hex digits"),
            IdSyntax::Name { max, punctuation } => {
                write!(f, "1 to {max} letters, digits and any of `{punctuation}`")
            }
            IdSyntax::Printable { max } => write!(f, "1 to {max} printable characters"),
        }
    }
}

/// Whether `arn` has the shape of an ARN: `arn:partition:service:region:account:resource`,
/// at most [`MAX_ARN`] printable ASCII characters without spaces.
pub fn is_arn(arn: &str) -> bool {
    arn.len() <= MAX_ARN
        && arn.bytes().all(|b| b.is_ascii_graphic())
        && arn.starts_with("arn:")
        && arn.splitn(6, ':').nth(5).is_some_and(|r| !r.is_empty())
}

impl ResourceType {
    /// The ARN of the resource `id` (a short id or name) in `account` and `region`. `id`
    /// may be `*` (every resource of the type) or end in `*` (a name prefix).
    pub fn arn_of(&self, partition: &str, region: &str, account: &str, id: &str) -> String {
        self.arn
            .replace("{partition}", partition)
            .replace("{region}", region)
            .replace("{account}", account)
            .replace("{id}", id)
    }

    /// Whether `id` may name a resource of this type: an ARN (see [`is_arn`]) or an id of
    /// the type's [`IdSyntax`].
    pub fn accepts(&self, id: &str) -> bool {
        if id.starts_with("arn:") {
            is_arn(id)
        } else {
            self.id.accepts(id)
        }
    }

    /// Whether the ARN template names an account (S3 bucket ARNs, for one, do not).
    pub fn arn_has_account(&self) -> bool {
        self.arn.contains("{account}")
    }
}

/// An EC2 security group.
pub const SECURITY_GROUP: ResourceType = ResourceType {
    asff: "AwsEc2SecurityGroup",
    config: "AWS::EC2::SecurityGroup",
    arn: "arn:{partition}:ec2:{region}:{account}:security-group/{id}",
    id: IdSyntax::Ec2("sg-"),
};

/// An S3 bucket (bucket ARNs carry neither region nor account).
pub const S3_BUCKET: ResourceType = ResourceType {
    asff: "AwsS3Bucket",
    config: "AWS::S3::Bucket",
    arn: "arn:{partition}:s3:::{id}",
    id: IdSyntax::Name {
        max: 63,
        punctuation: ".-",
    },
};

/// A CloudTrail trail, by name.
pub const CLOUDTRAIL_TRAIL: ResourceType = ResourceType {
    asff: "AwsCloudTrailTrail",
    config: "AWS::CloudTrail::Trail",
    arn: "arn:{partition}:cloudtrail:{region}:{account}:trail/{id}",
    id: IdSyntax::Name {
        max: 128,
        punctuation: "._-",
    },
};

/// A KMS key, by key id (a created key also by its alias name).
pub const KMS_KEY: ResourceType = ResourceType {
    asff: "AwsKmsKey",
    config: "AWS::KMS::Key",
    arn: "arn:{partition}:kms:{region}:{account}:key/{id}",
    id: IdSyntax::Name {
        max: 256,
        punctuation: "/_-",
    },
};

/// A KMS alias, by its name without the `alias/` prefix.
pub const KMS_ALIAS: ResourceType = ResourceType {
    asff: "AwsKmsAlias",
    config: "AWS::KMS::Alias",
    arn: "arn:{partition}:kms:{region}:{account}:alias/{id}",
    id: IdSyntax::Name {
        max: 256,
        punctuation: "/_-",
    },
};

/// A CloudWatch Logs log group, by name.
pub const LOG_GROUP: ResourceType = ResourceType {
    asff: "AwsLogsLogGroup",
    config: "AWS::Logs::LogGroup",
    arn: "arn:{partition}:logs:{region}:{account}:log-group:{id}",
    id: IdSyntax::Name {
        max: 512,
        punctuation: "._-/#",
    },
};

/// A CloudWatch Logs metric filter, by filter name. Metric filters have no ARN: the
/// template only names created filters in the host's scope; every IAM action on them is
/// authorised on their log group.
pub const LOG_METRIC_FILTER: ResourceType = ResourceType {
    asff: "AwsLogsMetricFilter",
    config: "AWS::Logs::MetricFilter",
    arn: "arn:{partition}:logs:{region}:{account}:metric-filter:{id}",
    id: IdSyntax::Printable { max: 512 },
};

/// A CloudWatch metric alarm, by alarm name.
pub const CLOUDWATCH_ALARM: ResourceType = ResourceType {
    asff: "AwsCloudWatchAlarm",
    config: "AWS::CloudWatch::Alarm",
    arn: "arn:{partition}:cloudwatch:{region}:{account}:alarm:{id}",
    id: IdSyntax::Printable { max: 255 },
};

/// An SNS topic, by topic ARN (its short id is the topic name).
pub const SNS_TOPIC: ResourceType = ResourceType {
    asff: "AwsSnsTopic",
    config: "AWS::SNS::Topic",
    arn: "arn:{partition}:sns:{region}:{account}:{id}",
    id: IdSyntax::Name {
        max: 256,
        punctuation: "_-.",
    },
};

/// An IAM role, by name (role ARNs carry no region).
pub const IAM_ROLE: ResourceType = ResourceType {
    asff: "AwsIamRole",
    config: "AWS::IAM::Role",
    arn: "arn:{partition}:iam::{account}:role/{id}",
    id: IdSyntax::Name {
        max: 512,
        punctuation: "+=,.@_-/",
    },
};

/// An IAM user, by name; its ARN carries the user's path (`user/contractors/alice`), so a
/// finding's full ARN is used as given and `*` covers every path.
pub const IAM_USER: ResourceType = ResourceType {
    asff: "AwsIamUser",
    config: "AWS::IAM::User",
    arn: "arn:{partition}:iam::{account}:user/{id}",
    id: IdSyntax::Name {
        max: 512,
        punctuation: "+=,.@_-/",
    },
};

/// An IAM group, by name (group ARNs carry the group's path, like users').
pub const IAM_GROUP: ResourceType = ResourceType {
    asff: "AwsIamGroup",
    config: "AWS::IAM::Group",
    arn: "arn:{partition}:iam::{account}:group/{id}",
    id: IdSyntax::Name {
        max: 512,
        punctuation: "+=,.@_-/",
    },
};

/// An IAM managed policy, by name: the customer-managed policies of the account (the
/// AWS-managed ones live in account `aws`).
pub const IAM_POLICY: ResourceType = ResourceType {
    asff: "AwsIamPolicy",
    config: "AWS::IAM::Policy",
    arn: "arn:{partition}:iam::{account}:policy/{id}",
    id: IdSyntax::Name {
        max: 512,
        punctuation: "+=,.@_-/",
    },
};

/// A server certificate stored in IAM, by name (Config type
/// `AWS::IAM::ServerCertificate`; its ARN carries the certificate's path).
pub const IAM_SERVER_CERTIFICATE: ResourceType = ResourceType {
    asff: "AwsIamServerCertificate",
    config: "AWS::IAM::ServerCertificate",
    arn: "arn:{partition}:iam::{account}:server-certificate/{id}",
    id: IdSyntax::Name {
        max: 512,
        punctuation: "+=,.@_-/",
    },
};

/// An IAM Access Analyzer analyzer, by name.
pub const ACCESS_ANALYZER: ResourceType = ResourceType {
    asff: "AwsAccessAnalyzerAnalyzer",
    config: "AWS::AccessAnalyzer::Analyzer",
    arn: "arn:{partition}:access-analyzer:{region}:{account}:analyzer/{id}",
    id: IdSyntax::Name {
        max: 255,
        punctuation: "_.-",
    },
};

/// An RDS DB instance, by its identifier.
pub const RDS_DB_INSTANCE: ResourceType = ResourceType {
    asff: "AwsRdsDbInstance",
    config: "AWS::RDS::DBInstance",
    arn: "arn:{partition}:rds:{region}:{account}:db:{id}",
    id: IdSyntax::Name {
        max: 63,
        punctuation: "-",
    },
};

/// An RDS DB cluster (Aurora, or a Multi-AZ DB cluster), by its identifier.
pub const RDS_DB_CLUSTER: ResourceType = ResourceType {
    asff: "AwsRdsDbCluster",
    config: "AWS::RDS::DBCluster",
    arn: "arn:{partition}:rds:{region}:{account}:cluster:{id}",
    id: IdSyntax::Name {
        max: 63,
        punctuation: "-",
    },
};

/// An EC2 instance.
pub const EC2_INSTANCE: ResourceType = ResourceType {
    asff: "AwsEc2Instance",
    config: "AWS::EC2::Instance",
    arn: "arn:{partition}:ec2:{region}:{account}:instance/{id}",
    id: IdSyntax::Ec2("i-"),
};

/// A VPC.
pub const EC2_VPC: ResourceType = ResourceType {
    asff: "AwsEc2Vpc",
    config: "AWS::EC2::VPC",
    arn: "arn:{partition}:ec2:{region}:{account}:vpc/{id}",
    id: IdSyntax::Ec2("vpc-"),
};

/// A VPC network ACL.
pub const EC2_NETWORK_ACL: ResourceType = ResourceType {
    asff: "AwsEc2NetworkAcl",
    config: "AWS::EC2::NetworkAcl",
    arn: "arn:{partition}:ec2:{region}:{account}:network-acl/{id}",
    id: IdSyntax::Ec2("acl-"),
};

/// A VPC flow log (created on a VPC; `ec2:CreateFlowLogs` is authorised on it too).
pub const EC2_FLOW_LOG: ResourceType = ResourceType {
    asff: "AwsEc2FlowLog",
    config: "AWS::EC2::FlowLog",
    arn: "arn:{partition}:ec2:{region}:{account}:vpc-flow-log/{id}",
    id: IdSyntax::Ec2("fl-"),
};

/// Every resource type a finding may name for a host function to act on.
pub const RESOURCE_TYPES: &[ResourceType] = &[
    SECURITY_GROUP,
    S3_BUCKET,
    CLOUDTRAIL_TRAIL,
    KMS_KEY,
    KMS_ALIAS,
    LOG_GROUP,
    LOG_METRIC_FILTER,
    CLOUDWATCH_ALARM,
    SNS_TOPIC,
    IAM_ROLE,
    IAM_USER,
    IAM_GROUP,
    IAM_POLICY,
    IAM_SERVER_CERTIFICATE,
    ACCESS_ANALYZER,
    RDS_DB_INSTANCE,
    RDS_DB_CLUSTER,
    EC2_INSTANCE,
    EC2_VPC,
    EC2_NETWORK_ACL,
    EC2_FLOW_LOG,
];

/// The resource type of an ASFF type name (`AwsEc2SecurityGroup`), if hubfix knows it.
pub fn resource_type(asff: &str) -> Option<&'static ResourceType> {
    RESOURCE_TYPES.iter().find(|t| t.asff == asff)
}

/// The AWS Config (CloudFormation) type of an ASFF resource type: what Security Hub v2's
/// OCSF findings name it by (`AwsAccount` is `AWS::::Account`).
pub fn config_type(asff: &str) -> Option<&'static str> {
    if asff == ACCOUNT {
        return Some("AWS::::Account");
    }
    resource_type(asff).map(|t| t.config)
}

/// What a host function acts on, for the scope check and the session policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A read: allowed anywhere in the finding's account and region.
    Read,
    /// A mutating call on one resource of this type: the finding must name it, or the
    /// same remediation must have created it.
    Resource(ResourceType),
    /// A mutating account-level setting: the finding must name its own account
    /// (`AwsAccount`).
    Account,
    /// Creates a resource of this type in the finding's account and region. Its name
    /// must start with the host's configured prefix (default `hubfix-`); once created,
    /// the same remediation may configure it as if the finding named it.
    Create(ResourceType),
    /// A mutating call on one resource of this type that is part of the account's own
    /// configuration (the trail that records the account's S3 data events, say): allowed
    /// like [`Target::Resource`], and also on any resource of the type when the finding
    /// names the account itself (`AwsAccount`), because the control is about the account.
    Configure(ResourceType),
}

impl Target {
    /// A short word for tables: `read`, `resource`, `account`, `create`.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Read => "read",
            Target::Resource(_) => "resource",
            Target::Account => "account",
            Target::Create(_) => "create",
            Target::Configure(_) => "configure",
        }
    }

    /// The resource type it acts on, if any.
    pub fn resource_type(&self) -> Option<&ResourceType> {
        match self {
            Target::Resource(t) | Target::Create(t) | Target::Configure(t) => Some(t),
            Target::Read | Target::Account => None,
        }
    }
}

/// Which resources an IAM action can be allowed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// The action supports no resource-level permissions: `Resource: "*"` only.
    Any,
    /// The function's target resources: for a `Resource` target the finding's resources
    /// of that type (and those the remediation may create), for a `Create` target the
    /// prefixed names, for a `Read` of a resource type every resource of the type in the
    /// account.
    Target,
    /// Resources of another type than the function's target (e.g. `iam:PassRole` on the
    /// role a trail delivers with): those of the type the finding names or the
    /// remediation may create.
    Type(ResourceType),
    /// Every resource of this type in the finding's account and region (for resources
    /// that do not exist before the call, e.g. the flow log `ec2:CreateFlowLogs` makes).
    AnyOf(ResourceType),
}

/// One IAM action a host function needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IamAction {
    /// `service:Action`, e.g. `ec2:RevokeSecurityGroupIngress`.
    pub name: &'static str,
    /// Which resources it can be narrowed to.
    pub on: On,
}

impl IamAction {
    /// Whether AWS lets this action be narrowed below `Resource: "*"`.
    pub fn resource_level(&self) -> bool {
        self.on != On::Any
    }
}

/// One host function of the plugin contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFunction {
    /// The grant name: the WIT interface and function, `service.function`.
    pub name: &'static str,
    /// The AWS operation it performs, e.g. `RevokeSecurityGroupIngress`.
    pub operation: &'static str,
    /// Every IAM action it needs.
    pub iam_actions: &'static [IamAction],
    /// What it acts on.
    pub target: Target,
}

impl HostFunction {
    /// The WIT interface it belongs to (`ec2`).
    pub fn service(&self) -> &'static str {
        match self.name.split_once('.') {
            Some((service, _)) => service,
            None => self.name,
        }
    }

    /// Whether the function changes anything in AWS.
    pub fn is_mutating(&self) -> bool {
        !matches!(self.target, Target::Read)
    }

    /// The IAM actions that cannot be narrowed to resources.
    pub fn unscoped_actions(&self) -> impl Iterator<Item = &'static str> {
        self.iam_actions
            .iter()
            .filter(|a| !a.resource_level())
            .map(|a| a.name)
    }
}

/// A WIT interface of AWS host functions and the SDK crate the host implements it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// The WIT interface (`wit/<name>.wit`), e.g. `s3control`.
    pub name: &'static str,
    /// The aws-sdk-rust crate, e.g. `aws-sdk-s3control`.
    pub sdk_crate: &'static str,
    /// The crate's version requirement.
    pub sdk_version: &'static str,
    /// Its host functions, in WIT order.
    pub functions: &'static [HostFunction],
}

/// The ASFF resource types a plugin granted `grants` acts on: what its mutating
/// functions target and the other types their IAM actions reach, plus `AwsAccount` when it
/// changes an account-level setting, configures the account's resources or creates
/// resources (findings about the account). A finding it remediates must name one of
/// them. Empty for a plugin that only reads (it may be about anything).
pub fn acted_on<S: AsRef<str>>(grants: &[S]) -> BTreeSet<&'static str> {
    let mut types = BTreeSet::new();
    for f in grants.iter().filter_map(|g| lookup(g.as_ref())) {
        match f.target {
            Target::Read => continue,
            Target::Resource(t) => {
                types.insert(t.asff);
            }
            Target::Configure(t) => {
                types.insert(t.asff);
                types.insert(ACCOUNT);
            }
            Target::Account | Target::Create(_) => {
                types.insert(ACCOUNT);
            }
        }
        for action in f.iam_actions {
            if let On::Type(t) = action.on {
                types.insert(t.asff);
            }
        }
    }
    types
}

/// The ASFF type of a finding about an account itself.
pub const ACCOUNT: &str = "AwsAccount";

/// Looks a host function up by its grant name.
pub fn lookup(name: &str) -> Option<&'static HostFunction> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Looks a host function up at compile time: `const F: &HostFunction = function("…")`
/// fails to compile when the table has no such function.
pub const fn function(name: &str) -> &'static HostFunction {
    let mut i = 0;
    while i < FUNCTIONS.len() {
        if str_eq(FUNCTIONS[i].name, name) {
            return &FUNCTIONS[i];
        }
        i += 1;
    }
    #[allow(clippy::panic)] // evaluated in const context: a compile error, never a run-time panic
    {
        panic!("no such host function in the contract table")
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Every grant name, in table order.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|f| f.name)
}

/// The union of every function's IAM actions, sorted: what the member role must allow.
pub fn all_iam_actions() -> BTreeSet<&'static str> {
    FUNCTIONS
        .iter()
        .flat_map(|f| f.iam_actions.iter().map(|a| a.name))
        .collect()
}

/// The statements of the member-account role's policy (YAML, indented for
/// `deploy/member-role.yaml`): one for the actions that take no resource ARN, one per
/// resource type for the actions AWS can narrow to it. Together they allow exactly
/// [`all_iam_actions`]; each host session narrows them further with its session policy.
pub fn member_role_statements(indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut unscoped = BTreeSet::new();
    let mut by_type: Vec<(ResourceType, BTreeSet<&'static str>)> = Vec::new();
    for f in FUNCTIONS {
        for action in f.iam_actions {
            let ty = match action.on {
                On::Any => None,
                On::Target => f.target.resource_type().copied(),
                On::Type(t) | On::AnyOf(t) => Some(t),
            };
            match ty {
                None => {
                    unscoped.insert(action.name);
                }
                Some(t) => match by_type.iter_mut().find(|(seen, _)| *seen == t) {
                    Some((_, set)) => {
                        set.insert(action.name);
                    }
                    None => by_type.push((t, BTreeSet::from([action.name]))),
                },
            }
        }
    }
    // Actions narrowable for one function but not another stay in the typed statement
    // only when no function needs them unscoped.
    for (_, set) in &mut by_type {
        set.retain(|a| !unscoped.contains(a));
    }
    by_type.retain(|(_, set)| !set.is_empty());
    by_type.sort_by_key(|(t, _)| t.asff);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{pad}# Actions that take no resource ARN (reads and account-level settings)."
    );
    let _ = writeln!(out, "{pad}- Sid: Unscoped");
    let _ = writeln!(out, "{pad}  Effect: Allow");
    let _ = writeln!(out, "{pad}  Action:");
    for action in &unscoped {
        let _ = writeln!(out, "{pad}    - {action}");
    }
    let _ = writeln!(out, "{pad}  Resource: \"*\"");
    for (ty, actions) in &by_type {
        let _ = writeln!(out, "{pad}- Sid: {}", ty.asff);
        let _ = writeln!(out, "{pad}  Effect: Allow");
        let _ = writeln!(out, "{pad}  Action:");
        for action in actions {
            let _ = writeln!(out, "{pad}    - {action}");
        }
        let arn = ty
            .arn
            .replace("{partition}", "${AWS::Partition}")
            .replace("{region}", "*")
            .replace("{account}", "${AWS::AccountId}")
            .replace("{id}", "*");
        let _ = writeln!(out, "{pad}  Resource: !Sub {arn}");
    }
    out
}

/// A plugin as everything outside the component names it: the policy's decision, the
/// host request, the registry's active version, the audit record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PluginRef {
    /// Its name, e.g. `ec2-restrict-admin-ports`.
    pub name: String,
    /// Its semantic version, e.g. `0.1.0`.
    pub version: String,
    /// The sha256 of the component (lowercase hex), when known: pinned by the policy,
    /// or of the bytes that ran.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub sha256: Option<String>,
}

impl PluginRef {
    /// The digest, or `""` when none is known.
    pub fn digest(&self) -> &str {
        self.sha256.as_deref().unwrap_or_default()
    }

    /// The first 12 hex digits of the digest, for tables and notes.
    pub fn short_digest(&self) -> &str {
        let digest = self.digest();
        digest.get(..12).unwrap_or(digest)
    }
}

/// The short form of a resource id: the account id of `AWS::::Account:ID`, the part of an
/// ARN after its last `/` (`…:security-group/sg-1` → `sg-1`) or, without one, after its
/// last `:` (`arn:aws:s3:::bucket` → `bucket`), else the id itself.
pub fn short_id(id: &str) -> &str {
    if let Some(account) = id.strip_prefix("AWS::::Account:") {
        return account;
    }
    if id.starts_with("arn:") {
        if let Some((_, tail)) = id.rsplit_once('/') {
            return tail;
        }
        if let Some((_, tail)) = id.rsplit_once(':') {
            return tail;
        }
    }
    id
}

/// Untrusted text as the host keeps and shows it: cut to at most `max` bytes on a
/// character boundary (plus `…` when cut), with control characters escaped (`\n`,
/// `\u{1b}`), in a new allocation of at most that size.
pub fn bounded_text(text: &str, max: usize) -> String {
    let mut kept = String::with_capacity(text.len().min(max + '…'.len_utf8()));
    for c in text.chars() {
        let before = kept.len();
        if c.is_control() {
            kept.extend(c.escape_default());
        } else {
            kept.push(c);
        }
        if kept.len() > max {
            kept.truncate(before);
            kept.push('…');
            break;
        }
    }
    kept
}

/// Lowercase hex sha256 of `bytes`: how plugin digests are written everywhere.
#[cfg(feature = "digest")]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_is_named_service_dot_function_unique_and_declared() {
        let mut seen = BTreeSet::new();
        let services: BTreeSet<_> = SERVICES.iter().map(|s| s.name).collect();
        for f in FUNCTIONS {
            assert!(seen.insert(f.name), "duplicate {}", f.name);
            let (service, function) = f.name.split_once('.').unwrap();
            assert!(services.contains(service), "{} has no SERVICES row", f.name);
            assert!(
                function
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
                "{}",
                f.name
            );
            assert!(!f.iam_actions.is_empty(), "{} needs an IAM action", f.name);
            for a in f.iam_actions {
                let (prefix, action) = a.name.split_once(':').unwrap();
                assert!(!prefix.is_empty() && action.starts_with(char::is_uppercase));
            }
            if let On::Target = f.iam_actions[0].on {
                assert!(
                    f.target.resource_type().is_some() || f.target == Target::Read,
                    "{}: `On::Target` needs a typed target",
                    f.name
                );
            }
        }
    }

    #[test]
    fn every_target_type_is_listed_once() {
        for f in FUNCTIONS {
            if let Some(ty) = f.target.resource_type() {
                assert_eq!(resource_type(ty.asff), Some(ty), "{}", f.name);
            }
        }
        let names: BTreeSet<&str> = RESOURCE_TYPES.iter().map(|t| t.asff).collect();
        assert_eq!(names.len(), RESOURCE_TYPES.len());
    }

    #[test]
    fn ids_are_accepted_only_in_their_documented_shape() {
        for ok in ["sg-0123abcd", "sg-0123456789abcdef0"] {
            assert!(SECURITY_GROUP.accepts(ok), "{ok}");
        }
        for bad in [
            "sg-0D4E5F6A7B8C9D0G1",
            "sg-0123abc",
            "sg-0123abcd; rm -rf /",
            "sg-",
            "0123abcd",
            "",
        ] {
            assert!(!SECURITY_GROUP.accepts(bad), "{bad}");
        }
        assert!(S3_BUCKET.accepts("logs.example-1"));
        assert!(!S3_BUCKET.accepts("logs/../etc"));
        assert!(!S3_BUCKET.accepts(&"a".repeat(64)));
        assert!(IAM_USER.accepts("contractors/alice+ops@example.com"));
        assert!(!IAM_USER.accepts("alice bob"));
        assert!(CLOUDWATCH_ALARM.accepts("CIS 4.1 unauthorized API calls"));
        assert!(!CLOUDWATCH_ALARM.accepts("alarm\n"));
        assert!(!CLOUDWATCH_ALARM.accepts(" padded"));
        // ARNs: any well-formed one (the scope check compares it to the finding's).
        assert!(SECURITY_GROUP.accepts("arn:aws:ec2:eu-west-1:111111111111:security-group/sg-1"));
        assert!(!SECURITY_GROUP.accepts("arn:aws:ec2:eu-west-1:111111111111"));
        assert!(!SECURITY_GROUP.accepts("arn:aws:ec2:eu-west-1:1:security-group/sg 1"));
        assert!(!S3_BUCKET.accepts(&format!("arn:aws:s3:::{}", "a".repeat(MAX_ARN))));
    }

    #[test]
    fn the_table_matches_the_wit_interfaces() {
        let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let mut in_wit = BTreeSet::new();
        for service in SERVICES {
            let path = wit.join(format!("{}.wit", service.name));
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                if let Some((name, _)) = line.trim().split_once(": func(") {
                    in_wit.insert(format!("{}.{name}", service.name));
                }
            }
        }
        let in_table: BTreeSet<String> = function_names().map(str::to_owned).collect();
        assert_eq!(in_wit, in_table);
    }

    #[test]
    fn each_service_row_holds_its_own_functions() {
        let mut n = 0;
        for service in SERVICES {
            for f in service.functions {
                assert_eq!(f.service(), service.name, "{}", f.name);
                n += 1;
            }
        }
        assert_eq!(n, FUNCTIONS.len());
        assert_eq!(FUNCTIONS[0], SERVICES[0].functions[0]);
        assert_eq!(
            FUNCTIONS.last(),
            SERVICES.last().and_then(|s| s.functions.last())
        );
    }

    #[test]
    fn const_lookup_finds_table_rows() {
        const F: &HostFunction = function("ec2.revoke-security-group-ingress");
        assert_eq!(F.operation, "RevokeSecurityGroupIngress");
        assert_eq!(lookup("ec2.delete-vpc"), None);
    }

    #[test]
    fn member_role_statements_allow_exactly_the_union() {
        let yaml = member_role_statements(0);
        let listed: BTreeSet<&str> = yaml
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- ").filter(|a| a.contains(':')))
            .filter(|a| !a.starts_with("Sid"))
            .collect();
        assert_eq!(listed, all_iam_actions());
        assert!(yaml.contains("security-group/*"), "{yaml}");
    }

    #[test]
    fn short_ids() {
        assert_eq!(
            short_id("arn:aws:ec2:eu-west-1:111111111111:security-group/sg-1"),
            "sg-1"
        );
        assert_eq!(short_id("arn:aws:s3:::bucket"), "bucket");
        assert_eq!(short_id("AWS::::Account:111111111111"), "111111111111");
        assert_eq!(short_id("sg-1"), "sg-1");
        assert_eq!(short_id("a/b"), "a/b");
    }

    #[test]
    fn arns_fill_their_templates() {
        assert_eq!(
            SECURITY_GROUP.arn_of("aws", "eu-west-1", "111111111111", "sg-1"),
            "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-1"
        );
        assert_eq!(
            S3_BUCKET.arn_of("aws", "eu-west-1", "111111111111", "hubfix-*"),
            "arn:aws:s3:::hubfix-*"
        );
        assert!(!S3_BUCKET.arn_has_account());
    }
}
