//! The AWS calls a scenario can make to set an account up and to check it: a small typed set,
//! each one (or a few) aws-sdk-rust calls in a member account, returning a [`Record`] of
//! named fields that later steps can template and checks can compare.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ec2::error::DisplayErrorContext;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, PrefixListId, SecurityGroupRule, UserIdGroupPair,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What a call returned: field name → value.
pub type Record = BTreeMap<String, Value>;

/// Longest one call (with the SDK's own retries) may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Most rules one authorize call may carry (AWS allows 60 per group).
const MAX_RULES: usize = 60;

/// One setup or check call, written `call = "service.operation"` with the operation's fields
/// next to it. Fields are kebab-case; unknown fields are errors.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
pub enum Op {
    /// `iam:UpdateAccountPasswordPolicy`. AWS replaces the whole policy: fields left out
    /// take AWS's defaults (no requirement, no expiry). Returns nothing.
    #[serde(
        rename = "iam.update-account-password-policy",
        rename_all = "kebab-case"
    )]
    UpdateAccountPasswordPolicy {
        /// 6..=128.
        minimum_password_length: Option<i32>,
        /// Require a symbol.
        require_symbols: Option<bool>,
        /// Require a digit.
        require_numbers: Option<bool>,
        /// Require an uppercase letter.
        require_uppercase_characters: Option<bool>,
        /// Require a lowercase letter.
        require_lowercase_characters: Option<bool>,
        /// Let IAM users change their own password.
        allow_users_to_change_password: Option<bool>,
        /// Days a password is valid, 1..=1095.
        max_password_age: Option<i32>,
        /// Previous passwords that may not be reused, 1..=24.
        password_reuse_prevention: Option<i32>,
        /// Expired passwords need an administrator reset.
        hard_expiry: Option<bool>,
    },
    /// `iam:DeleteAccountPasswordPolicy`; an account without one is fine. Returns nothing.
    #[serde(rename = "iam.delete-account-password-policy")]
    DeleteAccountPasswordPolicy {},
    /// `iam:GetAccountPasswordPolicy`. Returns `exists`, and when it does, every field of
    /// `iam.update-account-password-policy` that is set, plus `expire-passwords`.
    #[serde(rename = "iam.get-account-password-policy")]
    GetAccountPasswordPolicy {},

    /// The default VPC (`ec2:DescribeVpcs`, `is-default`). Returns `vpc-id`.
    #[serde(rename = "ec2.default-vpc")]
    DefaultVpc {},
    /// `ec2:CreateSecurityGroup`, in the default VPC unless `vpc-id` is given. Returns
    /// `group-id`, `group-name`, `vpc-id`.
    #[serde(rename = "ec2.create-security-group", rename_all = "kebab-case")]
    CreateSecurityGroup {
        /// The group's name.
        group_name: String,
        /// Its description (default `created by a hubfix scenario`).
        description: Option<String>,
        /// The VPC (default: the default VPC).
        vpc_id: Option<String>,
    },
    /// The default security group of a VPC (default: the default VPC). Returns `group-id`,
    /// `group-name`, `vpc-id`.
    #[serde(rename = "ec2.default-security-group", rename_all = "kebab-case")]
    DefaultSecurityGroup {
        /// The VPC (default: the default VPC).
        vpc_id: Option<String>,
    },
    /// `ec2:AuthorizeSecurityGroupIngress` with `rules`. Returns nothing.
    #[serde(
        rename = "ec2.authorize-security-group-ingress",
        rename_all = "kebab-case"
    )]
    AuthorizeSecurityGroupIngress {
        /// The group.
        group_id: String,
        /// The rules to add (at least one).
        rules: Vec<Rule>,
    },
    /// `ec2:AuthorizeSecurityGroupEgress` with `rules`. Returns nothing.
    #[serde(
        rename = "ec2.authorize-security-group-egress",
        rename_all = "kebab-case"
    )]
    AuthorizeSecurityGroupEgress {
        /// The group.
        group_id: String,
        /// The rules to add (at least one).
        rules: Vec<Rule>,
    },
    /// `ec2:DescribeSecurityGroupRules` of one group. Returns `ingress` and `egress`, each a
    /// list of rules written `PROTOCOL PORTS PEER` (`tcp 22 0.0.0.0/0`, `tcp 0-1023 ::/0`,
    /// `udp 53 sg-0abc`; all traffic is `all PEER`), and `count`, the number of rules.
    #[serde(
        rename = "ec2.describe-security-group-rules",
        rename_all = "kebab-case"
    )]
    DescribeSecurityGroupRules {
        /// The group.
        group_id: String,
    },
    /// `ec2:DisableEbsEncryptionByDefault`. Returns nothing.
    #[serde(rename = "ec2.disable-ebs-encryption-by-default")]
    DisableEbsEncryptionByDefault {},
    /// `ec2:EnableEbsEncryptionByDefault`. Returns nothing.
    #[serde(rename = "ec2.enable-ebs-encryption-by-default")]
    EnableEbsEncryptionByDefault {},
    /// `ec2:GetEbsEncryptionByDefault`. Returns `enabled`.
    #[serde(rename = "ec2.get-ebs-encryption-by-default")]
    GetEbsEncryptionByDefault {},

    /// `s3control:PutPublicAccessBlock` for the member account. All four settings are
    /// written; those left out are `false`. Returns nothing.
    #[serde(
        rename = "s3control.put-public-access-block",
        rename_all = "kebab-case"
    )]
    PutPublicAccessBlock {
        /// Block public ACLs.
        block_public_acls: Option<bool>,
        /// Ignore public ACLs.
        ignore_public_acls: Option<bool>,
        /// Block public bucket policies.
        block_public_policy: Option<bool>,
        /// Restrict public buckets.
        restrict_public_buckets: Option<bool>,
    },
    /// `s3control:DeletePublicAccessBlock` for the member account; an account without a
    /// configuration is fine. Returns nothing.
    #[serde(rename = "s3control.delete-public-access-block")]
    DeletePublicAccessBlock {},
    /// `s3control:GetPublicAccessBlock` for the member account. Returns `exists` and the four
    /// settings (`false` where the account has no configuration, which is what AWS applies).
    #[serde(rename = "s3control.get-public-access-block")]
    GetPublicAccessBlock {},
}

/// A security group rule to authorize: a protocol, ports, and exactly one peer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Rule {
    /// `tcp`, `udp`, `icmp`, `all` (any protocol, no ports) or a protocol number.
    pub protocol: String,
    /// One port (shorthand for `from-port` = `to-port`).
    pub port: Option<i32>,
    /// The first port of a range.
    pub from_port: Option<i32>,
    /// The last port of a range.
    pub to_port: Option<i32>,
    /// An IPv4 CIDR peer.
    pub cidr: Option<String>,
    /// An IPv6 CIDR peer.
    pub cidr_ipv6: Option<String>,
    /// A security group peer (its id).
    pub group: Option<String>,
    /// A managed prefix list peer (its id).
    pub prefix_list: Option<String>,
}

/// Every call name, for messages.
pub const CALLS: &[&str] = &[
    "iam.update-account-password-policy",
    "iam.delete-account-password-policy",
    "iam.get-account-password-policy",
    "ec2.default-vpc",
    "ec2.create-security-group",
    "ec2.default-security-group",
    "ec2.authorize-security-group-ingress",
    "ec2.authorize-security-group-egress",
    "ec2.describe-security-group-rules",
    "ec2.disable-ebs-encryption-by-default",
    "ec2.enable-ebs-encryption-by-default",
    "ec2.get-ebs-encryption-by-default",
    "s3control.put-public-access-block",
    "s3control.delete-public-access-block",
    "s3control.get-public-access-block",
];

const PASSWORD_POLICY_FIELDS: &[&str] = &[
    "exists",
    "minimum-password-length",
    "require-symbols",
    "require-numbers",
    "require-uppercase-characters",
    "require-lowercase-characters",
    "allow-users-to-change-password",
    "expire-passwords",
    "max-password-age",
    "password-reuse-prevention",
    "hard-expiry",
];
const GROUP_FIELDS: &[&str] = &["group-id", "group-name", "vpc-id"];
const PUBLIC_ACCESS_BLOCK_FIELDS: &[&str] = &[
    "exists",
    "block-public-acls",
    "ignore-public-acls",
    "block-public-policy",
    "restrict-public-buckets",
];

impl Op {
    /// Its `call` name, e.g. `ec2.create-security-group`.
    pub fn call(&self) -> &'static str {
        match self {
            Op::UpdateAccountPasswordPolicy { .. } => "iam.update-account-password-policy",
            Op::DeleteAccountPasswordPolicy {} => "iam.delete-account-password-policy",
            Op::GetAccountPasswordPolicy {} => "iam.get-account-password-policy",
            Op::DefaultVpc {} => "ec2.default-vpc",
            Op::CreateSecurityGroup { .. } => "ec2.create-security-group",
            Op::DefaultSecurityGroup { .. } => "ec2.default-security-group",
            Op::AuthorizeSecurityGroupIngress { .. } => "ec2.authorize-security-group-ingress",
            Op::AuthorizeSecurityGroupEgress { .. } => "ec2.authorize-security-group-egress",
            Op::DescribeSecurityGroupRules { .. } => "ec2.describe-security-group-rules",
            Op::DisableEbsEncryptionByDefault {} => "ec2.disable-ebs-encryption-by-default",
            Op::EnableEbsEncryptionByDefault {} => "ec2.enable-ebs-encryption-by-default",
            Op::GetEbsEncryptionByDefault {} => "ec2.get-ebs-encryption-by-default",
            Op::PutPublicAccessBlock { .. } => "s3control.put-public-access-block",
            Op::DeletePublicAccessBlock {} => "s3control.delete-public-access-block",
            Op::GetPublicAccessBlock {} => "s3control.get-public-access-block",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::GetAccountPasswordPolicy {} => PASSWORD_POLICY_FIELDS,
            Op::DefaultVpc {} => &["vpc-id"],
            Op::CreateSecurityGroup { .. } | Op::DefaultSecurityGroup { .. } => GROUP_FIELDS,
            Op::DescribeSecurityGroupRules { .. } => &["ingress", "egress", "count"],
            Op::GetEbsEncryptionByDefault {} => &["enabled"],
            Op::GetPublicAccessBlock {} => PUBLIC_ACCESS_BLOCK_FIELDS,
            Op::UpdateAccountPasswordPolicy { .. }
            | Op::DeleteAccountPasswordPolicy {}
            | Op::AuthorizeSecurityGroupIngress { .. }
            | Op::AuthorizeSecurityGroupEgress { .. }
            | Op::DisableEbsEncryptionByDefault {}
            | Op::EnableEbsEncryptionByDefault {}
            | Op::PutPublicAccessBlock { .. }
            | Op::DeletePublicAccessBlock {} => &[],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Op::GetAccountPasswordPolicy {}
                | Op::DefaultVpc {}
                | Op::DefaultSecurityGroup { .. }
                | Op::DescribeSecurityGroupRules { .. }
                | Op::GetEbsEncryptionByDefault {}
                | Op::GetPublicAccessBlock {}
        )
    }

    /// Problems the call's fields have that their types do not catch.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match self {
            Op::AuthorizeSecurityGroupIngress { rules, .. }
            | Op::AuthorizeSecurityGroupEgress { rules, .. } => {
                if rules.is_empty() {
                    problems.push("`rules` is empty: give at least one rule".to_owned());
                }
                if rules.len() > MAX_RULES {
                    problems.push(format!("more than {MAX_RULES} `rules`"));
                }
                for (i, rule) in rules.iter().enumerate() {
                    if let Err(e) = rule.permission() {
                        problems.push(format!("rules[{i}]: {e}"));
                    }
                }
            }
            Op::CreateSecurityGroup { group_name, .. } if group_name.trim().is_empty() => {
                problems.push("`group-name` is empty".to_owned());
            }
            _ => {}
        }
        problems
    }

    /// Makes the call in `member`'s account.
    pub async fn run(&self, member: &Member) -> Result<Record, String> {
        match tokio::time::timeout(CALL_TIMEOUT, self.run_untimed(member)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "{} did not answer within {CALL_TIMEOUT:?}",
                self.call()
            )),
        }
    }

    async fn run_untimed(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| format!("{}: {}", self.call(), error_text(e));
        match self {
            Op::UpdateAccountPasswordPolicy {
                minimum_password_length,
                require_symbols,
                require_numbers,
                require_uppercase_characters,
                require_lowercase_characters,
                allow_users_to_change_password,
                max_password_age,
                password_reuse_prevention,
                hard_expiry,
            } => {
                m.iam
                    .update_account_password_policy()
                    .set_minimum_password_length(*minimum_password_length)
                    .set_require_symbols(*require_symbols)
                    .set_require_numbers(*require_numbers)
                    .set_require_uppercase_characters(*require_uppercase_characters)
                    .set_require_lowercase_characters(*require_lowercase_characters)
                    .set_allow_users_to_change_password(*allow_users_to_change_password)
                    .set_max_password_age(*max_password_age)
                    .set_password_reuse_prevention(*password_reuse_prevention)
                    .set_hard_expiry(*hard_expiry)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::DeleteAccountPasswordPolicy {} => {
                match m.iam.delete_account_password_policy().send().await {
                    Ok(_) => Ok(Record::new()),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_no_such_entity_exception()) =>
                    {
                        Ok(Record::new())
                    }
                    Err(e) => Err(failed(&e)),
                }
            }
            Op::GetAccountPasswordPolicy {} => {
                let policy = match m.iam.get_account_password_policy().send().await {
                    Ok(out) => out.password_policy,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_no_such_entity_exception()) =>
                    {
                        None
                    }
                    Err(e) => return Err(failed(&e)),
                };
                let mut record = Record::from([("exists".to_owned(), json!(policy.is_some()))]);
                if let Some(p) = policy {
                    let mut put = |key: &str, value: Value| {
                        record.insert(key.to_owned(), value);
                    };
                    put("require-symbols", json!(p.require_symbols));
                    put("require-numbers", json!(p.require_numbers));
                    put(
                        "require-uppercase-characters",
                        json!(p.require_uppercase_characters),
                    );
                    put(
                        "require-lowercase-characters",
                        json!(p.require_lowercase_characters),
                    );
                    put(
                        "allow-users-to-change-password",
                        json!(p.allow_users_to_change_password),
                    );
                    put("expire-passwords", json!(p.expire_passwords));
                    for (key, value) in [
                        ("minimum-password-length", p.minimum_password_length),
                        ("max-password-age", p.max_password_age),
                        ("password-reuse-prevention", p.password_reuse_prevention),
                    ] {
                        if let Some(v) = value {
                            put(key, json!(v));
                        }
                    }
                    if let Some(v) = p.hard_expiry {
                        put("hard-expiry", json!(v));
                    }
                }
                Ok(record)
            }
            Op::DefaultVpc {} => Ok(Record::from([(
                "vpc-id".to_owned(),
                json!(m.default_vpc().await?),
            )])),
            Op::CreateSecurityGroup {
                group_name,
                description,
                vpc_id,
            } => {
                let vpc = match vpc_id {
                    Some(vpc) => vpc.clone(),
                    None => m.default_vpc().await?,
                };
                let group = m
                    .ec2
                    .create_security_group()
                    .group_name(group_name)
                    .description(
                        description
                            .as_deref()
                            .unwrap_or("created by a hubfix scenario"),
                    )
                    .vpc_id(&vpc)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?
                    .group_id
                    .ok_or_else(|| format!("{}: AWS returned no group id", self.call()))?;
                Ok(group_record(group, group_name.clone(), vpc))
            }
            Op::DefaultSecurityGroup { vpc_id } => {
                let vpc = match vpc_id {
                    Some(vpc) => vpc.clone(),
                    None => m.default_vpc().await?,
                };
                let out = m
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
                    .await
                    .map_err(|e| failed(&e))?;
                let group = out
                    .security_groups
                    .unwrap_or_default()
                    .into_iter()
                    .find_map(|g| g.group_id)
                    .ok_or_else(|| {
                        format!("{}: {vpc} has no default security group", self.call())
                    })?;
                Ok(group_record(group, "default".to_owned(), vpc))
            }
            Op::AuthorizeSecurityGroupIngress { group_id, rules } => {
                let permissions = permissions(rules)?;
                m.ec2
                    .authorize_security_group_ingress()
                    .group_id(group_id)
                    .set_ip_permissions(Some(permissions))
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::AuthorizeSecurityGroupEgress { group_id, rules } => {
                let permissions = permissions(rules)?;
                m.ec2
                    .authorize_security_group_egress()
                    .group_id(group_id)
                    .set_ip_permissions(Some(permissions))
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::DescribeSecurityGroupRules { group_id } => {
                let rules: Vec<SecurityGroupRule> = m
                    .ec2
                    .describe_security_group_rules()
                    .filters(Filter::builder().name("group-id").values(group_id).build())
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<_, _>>()
                    .await
                    .map_err(|e| failed(&e))?;
                let (mut ingress, mut egress) = (Vec::new(), Vec::new());
                for rule in &rules {
                    if rule.is_egress == Some(true) {
                        egress.push(summary(rule));
                    } else {
                        ingress.push(summary(rule));
                    }
                }
                ingress.sort();
                egress.sort();
                Ok(Record::from([
                    ("ingress".to_owned(), json!(ingress)),
                    ("egress".to_owned(), json!(egress)),
                    ("count".to_owned(), json!(rules.len())),
                ]))
            }
            Op::DisableEbsEncryptionByDefault {} => {
                m.ec2
                    .disable_ebs_encryption_by_default()
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::EnableEbsEncryptionByDefault {} => {
                m.ec2
                    .enable_ebs_encryption_by_default()
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::GetEbsEncryptionByDefault {} => {
                let out = m
                    .ec2
                    .get_ebs_encryption_by_default()
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::from([(
                    "enabled".to_owned(),
                    json!(out.ebs_encryption_by_default.unwrap_or(false)),
                )]))
            }
            Op::PutPublicAccessBlock {
                block_public_acls,
                ignore_public_acls,
                block_public_policy,
                restrict_public_buckets,
            } => {
                use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
                let configuration = PublicAccessBlockConfiguration::builder()
                    .block_public_acls(block_public_acls.unwrap_or(false))
                    .ignore_public_acls(ignore_public_acls.unwrap_or(false))
                    .block_public_policy(block_public_policy.unwrap_or(false))
                    .restrict_public_buckets(restrict_public_buckets.unwrap_or(false))
                    .build();
                m.s3control
                    .put_public_access_block()
                    .account_id(&m.account)
                    .public_access_block_configuration(configuration)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::DeletePublicAccessBlock {} => {
                match m
                    .s3control
                    .delete_public_access_block()
                    .account_id(&m.account)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Record::new()),
                    Err(e) if no_public_access_block(e.raw_response()) => Ok(Record::new()),
                    Err(e) => Err(failed(&e)),
                }
            }
            Op::GetPublicAccessBlock {} => {
                let configuration = match m
                    .s3control
                    .get_public_access_block()
                    .account_id(&m.account)
                    .send()
                    .await
                {
                    Ok(out) => out.public_access_block_configuration,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_no_such_public_access_block_configuration())
                            || no_public_access_block(e.raw_response()) =>
                    {
                        None
                    }
                    Err(e) => return Err(failed(&e)),
                };
                let exists = configuration.is_some();
                let c = configuration.unwrap_or_else(|| {
                    aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder().build()
                });
                Ok(Record::from([
                    ("exists".to_owned(), json!(exists)),
                    (
                        "block-public-acls".to_owned(),
                        json!(c.block_public_acls.unwrap_or(false)),
                    ),
                    (
                        "ignore-public-acls".to_owned(),
                        json!(c.ignore_public_acls.unwrap_or(false)),
                    ),
                    (
                        "block-public-policy".to_owned(),
                        json!(c.block_public_policy.unwrap_or(false)),
                    ),
                    (
                        "restrict-public-buckets".to_owned(),
                        json!(c.restrict_public_buckets.unwrap_or(false)),
                    ),
                ]))
            }
        }
    }
}

/// Whether an S3 Control error response says the account has no Block Public Access
/// configuration (the error code is in the XML body; the SDK models it for Get only).
fn no_public_access_block(
    response: Option<&aws_sdk_s3control::config::http::HttpResponse>,
) -> bool {
    response.and_then(|r| r.body().bytes()).is_some_and(|body| {
        String::from_utf8_lossy(body).contains("NoSuchPublicAccessBlockConfiguration")
    })
}

fn group_record(group: String, name: String, vpc: String) -> Record {
    Record::from([
        ("group-id".to_owned(), json!(group)),
        ("group-name".to_owned(), json!(name)),
        ("vpc-id".to_owned(), json!(vpc)),
    ])
}

fn permissions(rules: &[Rule]) -> Result<Vec<IpPermission>, String> {
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| rule.permission().map_err(|e| format!("rules[{i}]: {e}")))
        .collect()
}

impl Rule {
    /// The rule as an EC2 `IpPermission`.
    fn permission(&self) -> Result<IpPermission, String> {
        let protocol = match self.protocol.trim() {
            "all" | "-1" => "-1",
            "" => return Err("`protocol` is empty".to_owned()),
            other => other,
        };
        let ports = match (self.port, self.from_port, self.to_port) {
            (Some(p), None, None) => Some((p, p)),
            (None, Some(from), Some(to)) if from <= to => Some((from, to)),
            (None, Some(_), Some(_)) => {
                return Err("`from-port` is greater than `to-port`".to_owned());
            }
            (None, None, None) => None,
            (Some(_), _, _) => {
                return Err("give either `port` or `from-port` and `to-port`".to_owned());
            }
            _ => return Err("give both `from-port` and `to-port`".to_owned()),
        };
        let mut permission = IpPermission::builder().ip_protocol(protocol);
        match (protocol, ports) {
            ("-1", Some(_)) => {
                return Err("protocol `all` takes no ports".to_owned());
            }
            ("tcp" | "udp" | "6" | "17", None) => {
                return Err(format!(
                    "protocol `{protocol}` needs `port` or a port range"
                ));
            }
            (_, Some((from, to))) => {
                permission = permission.from_port(from).to_port(to);
            }
            (_, None) => {}
        }
        let peers = [
            self.cidr.is_some(),
            self.cidr_ipv6.is_some(),
            self.group.is_some(),
            self.prefix_list.is_some(),
        ];
        if peers.iter().filter(|p| **p).count() != 1 {
            return Err(
                "give exactly one peer: `cidr`, `cidr-ipv6`, `group` or `prefix-list`".to_owned(),
            );
        }
        if let Some(cidr) = &self.cidr {
            permission = permission.ip_ranges(IpRange::builder().cidr_ip(cidr).build());
        }
        if let Some(cidr) = &self.cidr_ipv6 {
            permission = permission.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(cidr).build());
        }
        if let Some(group) = &self.group {
            permission =
                permission.user_id_group_pairs(UserIdGroupPair::builder().group_id(group).build());
        }
        if let Some(list) = &self.prefix_list {
            permission =
                permission.prefix_list_ids(PrefixListId::builder().prefix_list_id(list).build());
        }
        Ok(permission.build())
    }
}

/// `tcp 22 0.0.0.0/0`, `tcp 0-1023 ::/0`, `all sg-0abc`.
pub fn summary(rule: &SecurityGroupRule) -> String {
    let protocol = match rule.ip_protocol.as_deref().unwrap_or("?") {
        "-1" => "all",
        "6" => "tcp",
        "17" => "udp",
        "1" => "icmp",
        other => other,
    };
    let peer = rule
        .cidr_ipv4
        .as_deref()
        .or(rule.cidr_ipv6.as_deref())
        .or(rule
            .referenced_group_info
            .as_ref()
            .and_then(|g| g.group_id.as_deref()))
        .or(rule.prefix_list_id.as_deref())
        .unwrap_or("?");
    if protocol == "all" {
        return format!("all {peer}");
    }
    let ports = match (rule.from_port, rule.to_port) {
        (Some(from), Some(to)) if from == to => from.to_string(),
        (Some(from), Some(to)) => format!("{from}-{to}"),
        (Some(from), None) => from.to_string(),
        (None, _) => "all".to_owned(),
    };
    format!("{protocol} {ports} {peer}")
}

/// An SDK error with every cause, as one line.
fn error_text(error: &dyn std::error::Error) -> String {
    DisplayErrorContext(error).to_string()
}

/// SDK clients acting inside one member account, through STS AssumeRole of the role hubfix
/// assumes there.
#[derive(Clone, Debug)]
pub struct Member {
    /// The account id.
    pub account: String,
    /// EC2.
    pub ec2: aws_sdk_ec2::Client,
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// S3 Control (the account-level Block Public Access).
    pub s3control: aws_sdk_s3control::Client,
}

impl Member {
    /// Assumes `role` in `account` with the credentials of `base` and builds the clients,
    /// in `region`.
    pub async fn assume(
        base: &SdkConfig,
        region: &str,
        account: &str,
        role: &str,
    ) -> Result<Self, String> {
        let arn = format!(
            "arn:{}:iam::{account}:role/{role}",
            crate::template::partition_of(region)
        );
        let sts = aws_sdk_sts::Client::new(base);
        let assumed = tokio::time::timeout(
            CALL_TIMEOUT,
            sts.assume_role()
                .role_arn(&arn)
                .role_session_name("hubfix-scenario")
                .send(),
        )
        .await
        .map_err(|_| format!("assume {arn}: no answer within {CALL_TIMEOUT:?}"))?
        .map_err(|e| format!("assume {arn}: {}", error_text(&e)))?;
        let c = assumed
            .credentials
            .ok_or_else(|| format!("assume {arn}: STS returned no credentials"))?;
        let credentials = Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            None,
            "hubfix-scenario",
        );
        let config = base
            .to_builder()
            .region(aws_config::Region::new(region.to_owned()))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build();
        Ok(Self {
            account: account.to_owned(),
            ec2: aws_sdk_ec2::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            s3control: aws_sdk_s3control::Client::new(&config),
        })
    }

    /// The default VPC's id.
    pub async fn default_vpc(&self) -> Result<String, String> {
        let out = self
            .ec2
            .describe_vpcs()
            .filters(Filter::builder().name("is-default").values("true").build())
            .send()
            .await
            .map_err(|e| format!("ec2.default-vpc: {}", error_text(&e)))?;
        out.vpcs
            .unwrap_or_default()
            .into_iter()
            .find_map(|v| v.vpc_id)
            .ok_or_else(|| format!("account {} has no default VPC", self.account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: &str) -> Rule {
        Rule {
            protocol: protocol.into(),
            port: None,
            from_port: None,
            to_port: None,
            cidr: Some("0.0.0.0/0".into()),
            cidr_ipv6: None,
            group: None,
            prefix_list: None,
        }
    }

    #[test]
    fn every_call_is_listed_once_with_its_name() {
        let ops: Vec<Op> = CALLS
            .iter()
            .map(|call| {
                let mut value = json!({ "call": call });
                // The fields the call requires.
                match *call {
                    "ec2.create-security-group" => value["group-name"] = json!("g"),
                    "ec2.authorize-security-group-ingress"
                    | "ec2.authorize-security-group-egress" => {
                        value["group-id"] = json!("sg-1");
                        value["rules"] = json!([]);
                    }
                    "ec2.describe-security-group-rules" => value["group-id"] = json!("sg-1"),
                    _ => {}
                }
                serde_json::from_value(value).unwrap()
            })
            .collect();
        for (op, call) in ops.iter().zip(CALLS) {
            assert_eq!(op.call(), *call);
            let back = serde_json::to_value(op).unwrap();
            assert_eq!(back["call"], *call);
            assert_eq!(&serde_json::from_value::<Op>(back).unwrap(), op);
        }
        let mut sorted = CALLS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), CALLS.len());
    }

    #[test]
    fn only_reads_return_fields_checks_need() {
        let get: Op =
            serde_json::from_value(json!({"call": "ec2.get-ebs-encryption-by-default"})).unwrap();
        assert!(get.is_read());
        assert_eq!(get.outputs(), ["enabled"]);
        let create: Op =
            serde_json::from_value(json!({"call": "ec2.create-security-group", "group-name": "x"}))
                .unwrap();
        assert!(!create.is_read());
        assert!(create.outputs().contains(&"group-id"));
    }

    #[test]
    fn rules_need_ports_and_one_peer() {
        let mut ssh = rule("tcp");
        ssh.port = Some(22);
        let p = ssh.permission().unwrap();
        assert_eq!((p.from_port, p.to_port), (Some(22), Some(22)));
        assert_eq!(p.ip_protocol.as_deref(), Some("tcp"));

        let all = rule("all").permission().unwrap();
        assert_eq!(all.ip_protocol.as_deref(), Some("-1"));
        assert_eq!(all.from_port, None);

        let err = rule("tcp").permission().unwrap_err();
        assert!(err.contains("needs `port`"), "{err}");
        let mut two_peers = rule("all");
        two_peers.group = Some("sg-1".into());
        assert!(
            two_peers
                .permission()
                .unwrap_err()
                .contains("exactly one peer")
        );
        let mut backwards = rule("tcp");
        backwards.from_port = Some(30);
        backwards.to_port = Some(20);
        assert!(backwards.permission().unwrap_err().contains("greater"));
        let mut ports_on_all = rule("all");
        ports_on_all.port = Some(1);
        assert!(ports_on_all.permission().unwrap_err().contains("no ports"));
        let mut half = rule("tcp");
        half.from_port = Some(1);
        assert!(half.permission().unwrap_err().contains("both"));
    }

    #[test]
    fn rule_summaries() {
        let r = |protocol: &str, from: Option<i32>, to: Option<i32>| {
            SecurityGroupRule::builder()
                .ip_protocol(protocol)
                .set_from_port(from)
                .set_to_port(to)
        };
        assert_eq!(
            summary(&r("tcp", Some(22), Some(22)).cidr_ipv4("0.0.0.0/0").build()),
            "tcp 22 0.0.0.0/0"
        );
        assert_eq!(
            summary(&r("6", Some(0), Some(1023)).cidr_ipv6("::/0").build()),
            "tcp 0-1023 ::/0"
        );
        assert_eq!(
            summary(
                &r("-1", Some(-1), Some(-1))
                    .referenced_group_info(
                        aws_sdk_ec2::types::ReferencedSecurityGroup::builder()
                            .group_id("sg-1")
                            .build()
                    )
                    .build()
            ),
            "all sg-1"
        );
    }
}
