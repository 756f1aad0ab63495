//! EC2 calls (`ec2.*`): the default VPC, security groups and their rules, EBS encryption by
//! default, flow logs, instances and their metadata options, network ACLs and their entries.

use aws_sdk_ec2::types::{
    Filter, FlowLog, FlowLogsResourceType, HttpTokensState, InstanceMetadataOptionsRequest,
    InstanceType, IpPermission, IpRange, Ipv6Range, LogDestinationType, NetworkAclEntry, PortRange,
    PrefixListId, RuleAction, SecurityGroupRule, TrafficType, UserIdGroupPair,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Member, Record, call_failed};

/// Most rules one authorize call may carry (AWS allows 60 per group).
const MAX_RULES: usize = 60;

/// An EC2 call, written `call = "ec2.operation"` with the operation's fields next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
pub enum Op {
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
    /// `ec2:CreateFlowLogs` on a VPC (default: the default VPC). Returns `flow-log-id`.
    #[serde(rename = "ec2.create-flow-logs", rename_all = "kebab-case")]
    CreateFlowLogs {
        /// The VPC (default: the default VPC).
        vpc_id: Option<String>,
        /// `ACCEPT`, `REJECT` or `ALL`.
        traffic_type: String,
        /// `cloud-watch-logs` or `s3`.
        destination_type: String,
        /// The log group or bucket ARN.
        destination: String,
        /// The delivery role (for `cloud-watch-logs`).
        role_arn: Option<String>,
    },
    /// `ec2:DescribeFlowLogs` of one VPC. Returns `flow-logs`, each written
    /// `TRAFFIC DESTINATION-TYPE DESTINATION` (`REJECT cloud-watch-logs arn:aws:logs:…`;
    /// a role, when there is one, follows as `role ARN`), and `count`.
    #[serde(rename = "ec2.describe-flow-logs", rename_all = "kebab-case")]
    DescribeFlowLogs {
        /// The VPC.
        vpc_id: String,
    },
    /// `ec2:RunInstances` of one instance (`t3.micro`) of an Amazon Linux 2 image the
    /// account can see, with its metadata options. Returns `instance-id`.
    #[serde(rename = "ec2.run-instance", rename_all = "kebab-case")]
    RunInstance {
        /// `optional` or `required` (default: the region's default).
        http_tokens: Option<String>,
        /// The PUT response hop limit, 1..=64 (default: the region's default).
        hop_limit: Option<i32>,
    },
    /// `ec2:TerminateInstances` of one instance. Returns nothing.
    #[serde(rename = "ec2.terminate-instance", rename_all = "kebab-case")]
    TerminateInstance {
        /// The instance.
        instance_id: String,
    },
    /// `ec2:DescribeInstances` of one instance. Returns `state`, `http-tokens`,
    /// `http-endpoint` and `hop-limit`.
    #[serde(rename = "ec2.describe-instance", rename_all = "kebab-case")]
    DescribeInstance {
        /// The instance.
        instance_id: String,
    },
    /// `ec2:CreateNetworkAcl` in a VPC (default: the default VPC). Returns
    /// `network-acl-id`.
    #[serde(rename = "ec2.create-network-acl", rename_all = "kebab-case")]
    CreateNetworkAcl {
        /// The VPC (default: the default VPC).
        vpc_id: Option<String>,
    },
    /// The default network ACL of a VPC (default: the default VPC). Returns
    /// `network-acl-id`.
    #[serde(rename = "ec2.default-network-acl", rename_all = "kebab-case")]
    DefaultNetworkAcl {
        /// The VPC (default: the default VPC).
        vpc_id: Option<String>,
    },
    /// `ec2:CreateNetworkAclEntry`. Returns nothing.
    #[serde(rename = "ec2.create-network-acl-entry", rename_all = "kebab-case")]
    CreateNetworkAclEntry {
        /// The network ACL.
        network_acl_id: String,
        /// 1..=32766.
        rule_number: i32,
        /// `tcp`, `udp`, `all` or a protocol number.
        protocol: String,
        /// `allow` or `deny`.
        action: String,
        /// An outbound entry (default: inbound).
        #[serde(default)]
        egress: bool,
        /// An IPv4 CIDR.
        cidr: Option<String>,
        /// An IPv6 CIDR.
        cidr_ipv6: Option<String>,
        /// One port (tcp and udp).
        port: Option<i32>,
        /// The first port of a range.
        from_port: Option<i32>,
        /// The last port of a range.
        to_port: Option<i32>,
    },
    /// `ec2:DescribeNetworkAcls` of one ACL. Returns `ingress` and `egress`, each a list of
    /// entries written `RULE ACTION PROTOCOL PORTS CIDR` (`100 allow all all 0.0.0.0/0`,
    /// `90 deny tcp 22 ::/0`, `110 allow tcp 0-1024 0.0.0.0/0`), and `count`.
    #[serde(rename = "ec2.describe-network-acl-entries", rename_all = "kebab-case")]
    DescribeNetworkAclEntries {
        /// The network ACL.
        network_acl_id: String,
    },
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

/// Every EC2 call name.
pub const CALLS: &[&str] = &[
    "ec2.default-vpc",
    "ec2.create-security-group",
    "ec2.default-security-group",
    "ec2.authorize-security-group-ingress",
    "ec2.authorize-security-group-egress",
    "ec2.describe-security-group-rules",
    "ec2.disable-ebs-encryption-by-default",
    "ec2.enable-ebs-encryption-by-default",
    "ec2.get-ebs-encryption-by-default",
    "ec2.create-flow-logs",
    "ec2.describe-flow-logs",
    "ec2.run-instance",
    "ec2.terminate-instance",
    "ec2.describe-instance",
    "ec2.create-network-acl",
    "ec2.default-network-acl",
    "ec2.create-network-acl-entry",
    "ec2.describe-network-acl-entries",
];

/// The highest rule number a network ACL entry may have.
const MAX_ACL_RULE: i32 = 32766;

const GROUP_FIELDS: &[&str] = &["group-id", "group-name", "vpc-id"];

impl Op {
    /// Its `call` name, e.g. `ec2.create-security-group`.
    pub fn call(&self) -> &'static str {
        match self {
            Op::DefaultVpc {} => "ec2.default-vpc",
            Op::CreateSecurityGroup { .. } => "ec2.create-security-group",
            Op::DefaultSecurityGroup { .. } => "ec2.default-security-group",
            Op::AuthorizeSecurityGroupIngress { .. } => "ec2.authorize-security-group-ingress",
            Op::AuthorizeSecurityGroupEgress { .. } => "ec2.authorize-security-group-egress",
            Op::DescribeSecurityGroupRules { .. } => "ec2.describe-security-group-rules",
            Op::DisableEbsEncryptionByDefault {} => "ec2.disable-ebs-encryption-by-default",
            Op::EnableEbsEncryptionByDefault {} => "ec2.enable-ebs-encryption-by-default",
            Op::GetEbsEncryptionByDefault {} => "ec2.get-ebs-encryption-by-default",
            Op::CreateFlowLogs { .. } => "ec2.create-flow-logs",
            Op::DescribeFlowLogs { .. } => "ec2.describe-flow-logs",
            Op::RunInstance { .. } => "ec2.run-instance",
            Op::TerminateInstance { .. } => "ec2.terminate-instance",
            Op::DescribeInstance { .. } => "ec2.describe-instance",
            Op::CreateNetworkAcl { .. } => "ec2.create-network-acl",
            Op::DefaultNetworkAcl { .. } => "ec2.default-network-acl",
            Op::CreateNetworkAclEntry { .. } => "ec2.create-network-acl-entry",
            Op::DescribeNetworkAclEntries { .. } => "ec2.describe-network-acl-entries",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::DefaultVpc {} => &["vpc-id"],
            Op::CreateSecurityGroup { .. } | Op::DefaultSecurityGroup { .. } => GROUP_FIELDS,
            Op::DescribeSecurityGroupRules { .. } => &["ingress", "egress", "count"],
            Op::GetEbsEncryptionByDefault {} => &["enabled"],
            Op::CreateFlowLogs { .. } => &["flow-log-id"],
            Op::DescribeFlowLogs { .. } => &["flow-logs", "count"],
            Op::RunInstance { .. } => &["instance-id"],
            Op::DescribeInstance { .. } => &["state", "http-tokens", "http-endpoint", "hop-limit"],
            Op::CreateNetworkAcl { .. } | Op::DefaultNetworkAcl { .. } => &["network-acl-id"],
            Op::DescribeNetworkAclEntries { .. } => &["ingress", "egress", "count"],
            Op::AuthorizeSecurityGroupIngress { .. }
            | Op::AuthorizeSecurityGroupEgress { .. }
            | Op::DisableEbsEncryptionByDefault {}
            | Op::EnableEbsEncryptionByDefault {}
            | Op::TerminateInstance { .. }
            | Op::CreateNetworkAclEntry { .. } => &[],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Op::DefaultVpc {}
                | Op::DefaultSecurityGroup { .. }
                | Op::DescribeSecurityGroupRules { .. }
                | Op::GetEbsEncryptionByDefault {}
                | Op::DescribeFlowLogs { .. }
                | Op::DescribeInstance { .. }
                | Op::DefaultNetworkAcl { .. }
                | Op::DescribeNetworkAclEntries { .. }
        )
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
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
            Op::CreateFlowLogs {
                traffic_type,
                destination_type,
                ..
            } => {
                if traffic_type_of(traffic_type).is_none() {
                    problems.push("`traffic-type` must be ACCEPT, REJECT or ALL".to_owned());
                }
                if destination_type_of(destination_type).is_none() {
                    problems.push("`destination-type` must be cloud-watch-logs or s3".to_owned());
                }
            }
            Op::RunInstance {
                http_tokens,
                hop_limit,
            } => {
                if http_tokens
                    .as_deref()
                    .is_some_and(|t| t != "optional" && t != "required")
                {
                    problems.push("`http-tokens` must be optional or required".to_owned());
                }
                if hop_limit.is_some_and(|l| !(1..=64).contains(&l)) {
                    problems.push("`hop-limit` must be from 1 to 64".to_owned());
                }
            }
            Op::CreateNetworkAclEntry { .. } => {
                if let Err(e) = self.acl_entry() {
                    problems.push(e);
                }
            }
            _ => {}
        }
        problems
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        match self {
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
            Op::CreateFlowLogs {
                vpc_id,
                traffic_type,
                destination_type,
                destination,
                role_arn,
            } => {
                let vpc = match vpc_id {
                    Some(vpc) => vpc.clone(),
                    None => m.default_vpc().await?,
                };
                let out = m
                    .ec2
                    .create_flow_logs()
                    .resource_type(FlowLogsResourceType::Vpc)
                    .resource_ids(vpc)
                    .set_traffic_type(traffic_type_of(traffic_type))
                    .set_log_destination_type(destination_type_of(destination_type))
                    .log_destination(destination)
                    .set_deliver_logs_permission_arn(role_arn.clone())
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                if let Some(item) = out.unsuccessful.unwrap_or_default().first() {
                    return Err(format!(
                        "{}: {}",
                        self.call(),
                        item.error
                            .as_ref()
                            .and_then(|e| e.message.as_deref())
                            .unwrap_or("refused")
                    ));
                }
                let id = out
                    .flow_log_ids
                    .unwrap_or_default()
                    .into_iter()
                    .next()
                    .ok_or_else(|| format!("{}: AWS returned no flow log id", self.call()))?;
                Ok(Record::from([("flow-log-id".to_owned(), json!(id))]))
            }
            Op::DescribeFlowLogs { vpc_id } => {
                let logs: Vec<FlowLog> = m
                    .ec2
                    .describe_flow_logs()
                    .filter(Filter::builder().name("resource-id").values(vpc_id).build())
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<_, _>>()
                    .await
                    .map_err(|e| failed(&e))?;
                let mut summaries: Vec<String> = logs.iter().map(flow_log_summary).collect();
                summaries.sort();
                Ok(Record::from([
                    ("flow-logs".to_owned(), json!(summaries)),
                    ("count".to_owned(), json!(logs.len())),
                ]))
            }
            Op::RunInstance {
                http_tokens,
                hop_limit,
            } => {
                let image = m.amazon_linux_image().await?;
                let options = InstanceMetadataOptionsRequest::builder()
                    .set_http_tokens(http_tokens.as_deref().map(HttpTokensState::from))
                    .set_http_put_response_hop_limit(*hop_limit)
                    .build();
                let out = m
                    .ec2
                    .run_instances()
                    .image_id(image)
                    .instance_type(InstanceType::T3Micro)
                    .min_count(1)
                    .max_count(1)
                    .metadata_options(options)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let id = out
                    .instances
                    .unwrap_or_default()
                    .into_iter()
                    .find_map(|i| i.instance_id)
                    .ok_or_else(|| format!("{}: AWS returned no instance", self.call()))?;
                Ok(Record::from([("instance-id".to_owned(), json!(id))]))
            }
            Op::TerminateInstance { instance_id } => {
                m.ec2
                    .terminate_instances()
                    .instance_ids(instance_id)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::DescribeInstance { instance_id } => {
                let out = m
                    .ec2
                    .describe_instances()
                    .instance_ids(instance_id)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let instance = out
                    .reservations
                    .unwrap_or_default()
                    .into_iter()
                    .flat_map(|r| r.instances.unwrap_or_default())
                    .next()
                    .ok_or_else(|| format!("{}: no instance {instance_id}", self.call()))?;
                let options = instance.metadata_options.unwrap_or_else(|| {
                    aws_sdk_ec2::types::InstanceMetadataOptionsResponse::builder().build()
                });
                Ok(Record::from([
                    (
                        "state".to_owned(),
                        json!(
                            instance
                                .state
                                .and_then(|s| s.name)
                                .map(|n| n.as_str().to_owned())
                        ),
                    ),
                    (
                        "http-tokens".to_owned(),
                        json!(options.http_tokens.map(|t| t.as_str().to_owned())),
                    ),
                    (
                        "http-endpoint".to_owned(),
                        json!(options.http_endpoint.map(|e| e.as_str().to_owned())),
                    ),
                    (
                        "hop-limit".to_owned(),
                        json!(options.http_put_response_hop_limit),
                    ),
                ]))
            }
            Op::CreateNetworkAcl { vpc_id } => {
                let vpc = match vpc_id {
                    Some(vpc) => vpc.clone(),
                    None => m.default_vpc().await?,
                };
                let id = m
                    .ec2
                    .create_network_acl()
                    .vpc_id(vpc)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?
                    .network_acl
                    .and_then(|a| a.network_acl_id)
                    .ok_or_else(|| format!("{}: AWS returned no network ACL", self.call()))?;
                Ok(Record::from([("network-acl-id".to_owned(), json!(id))]))
            }
            Op::DefaultNetworkAcl { vpc_id } => {
                let vpc = match vpc_id {
                    Some(vpc) => vpc.clone(),
                    None => m.default_vpc().await?,
                };
                let id = m
                    .ec2
                    .describe_network_acls()
                    .filters(Filter::builder().name("vpc-id").values(&vpc).build())
                    .filters(Filter::builder().name("default").values("true").build())
                    .send()
                    .await
                    .map_err(|e| failed(&e))?
                    .network_acls
                    .unwrap_or_default()
                    .into_iter()
                    .find_map(|a| a.network_acl_id)
                    .ok_or_else(|| format!("{}: {vpc} has no default network ACL", self.call()))?;
                Ok(Record::from([("network-acl-id".to_owned(), json!(id))]))
            }
            Op::CreateNetworkAclEntry { network_acl_id, .. } => {
                let entry = self.acl_entry()?;
                m.ec2
                    .create_network_acl_entry()
                    .network_acl_id(network_acl_id)
                    .set_rule_number(entry.rule_number)
                    .set_protocol(entry.protocol)
                    .set_rule_action(entry.rule_action)
                    .set_egress(entry.egress)
                    .set_cidr_block(entry.cidr_block)
                    .set_ipv6_cidr_block(entry.ipv6_cidr_block)
                    .set_port_range(entry.port_range)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::DescribeNetworkAclEntries { network_acl_id } => {
                let acl = m
                    .ec2
                    .describe_network_acls()
                    .network_acl_ids(network_acl_id)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?
                    .network_acls
                    .unwrap_or_default()
                    .into_iter()
                    .next()
                    .ok_or_else(|| format!("{}: no network ACL {network_acl_id}", self.call()))?;
                let entries = acl.entries.unwrap_or_default();
                let (mut ingress, mut egress) = (Vec::new(), Vec::new());
                for entry in &entries {
                    if entry.egress == Some(true) {
                        egress.push(acl_entry_summary(entry));
                    } else {
                        ingress.push(acl_entry_summary(entry));
                    }
                }
                ingress.sort();
                egress.sort();
                Ok(Record::from([
                    ("ingress".to_owned(), json!(ingress)),
                    ("egress".to_owned(), json!(egress)),
                    ("count".to_owned(), json!(entries.len())),
                ]))
            }
        }
    }

    /// The entry of an `ec2.create-network-acl-entry`, checked.
    fn acl_entry(&self) -> Result<NetworkAclEntry, String> {
        let Op::CreateNetworkAclEntry {
            rule_number,
            protocol,
            action,
            egress,
            cidr,
            cidr_ipv6,
            port,
            from_port,
            to_port,
            ..
        } = self
        else {
            return Err("not a network ACL entry".to_owned());
        };
        if !(1..=MAX_ACL_RULE).contains(rule_number) {
            return Err(format!("`rule-number` must be from 1 to {MAX_ACL_RULE}"));
        }
        let protocol = match protocol.trim() {
            "all" | "-1" => "-1",
            "tcp" | "6" => "6",
            "udp" | "17" => "17",
            other if other.parse::<u8>().is_ok() => other,
            _ => return Err("`protocol` must be tcp, udp, all or a protocol number".to_owned()),
        };
        let rule_action = match action.as_str() {
            "allow" => RuleAction::Allow,
            "deny" => RuleAction::Deny,
            _ => return Err("`action` must be allow or deny".to_owned()),
        };
        if cidr.is_some() == cidr_ipv6.is_some() {
            return Err("give exactly one of `cidr` and `cidr-ipv6`".to_owned());
        }
        let ports = match (port, from_port, to_port) {
            (Some(p), None, None) => Some((*p, *p)),
            (None, Some(from), Some(to)) if from <= to => Some((*from, *to)),
            (None, None, None) => None,
            _ => return Err("give `port`, or `from-port` <= `to-port`".to_owned()),
        };
        let port_range = match (protocol, ports) {
            ("6" | "17", Some((from, to))) => Some(PortRange::builder().from(from).to(to).build()),
            ("6" | "17", None) => return Err("tcp and udp entries need ports".to_owned()),
            (_, Some(_)) => return Err("only tcp and udp entries take ports".to_owned()),
            (_, None) => None,
        };
        Ok(NetworkAclEntry::builder()
            .rule_number(*rule_number)
            .protocol(protocol)
            .rule_action(rule_action)
            .egress(*egress)
            .set_cidr_block(cidr.clone())
            .set_ipv6_cidr_block(cidr_ipv6.clone())
            .set_port_range(port_range)
            .build())
    }
}

fn traffic_type_of(value: &str) -> Option<TrafficType> {
    match value {
        "ACCEPT" => Some(TrafficType::Accept),
        "REJECT" => Some(TrafficType::Reject),
        "ALL" => Some(TrafficType::All),
        _ => None,
    }
}

fn destination_type_of(value: &str) -> Option<LogDestinationType> {
    match value {
        "cloud-watch-logs" => Some(LogDestinationType::CloudWatchLogs),
        "s3" => Some(LogDestinationType::S3),
        _ => None,
    }
}

/// `REJECT cloud-watch-logs arn:aws:logs:…:log-group:NAME role arn:aws:iam::…:role/NAME`,
/// `ALL s3 arn:aws:s3:::bucket`.
pub fn flow_log_summary(log: &FlowLog) -> String {
    let traffic = log.traffic_type.as_ref().map_or("?", |t| t.as_str());
    let kind = log
        .log_destination_type
        .as_ref()
        .map_or("?", |t| t.as_str());
    let destination = log
        .log_destination
        .as_deref()
        .or(log.log_group_name.as_deref())
        .unwrap_or("?");
    match &log.deliver_logs_permission_arn {
        Some(role) => format!("{traffic} {kind} {destination} role {role}"),
        None => format!("{traffic} {kind} {destination}"),
    }
}

/// `100 allow all all 0.0.0.0/0`, `90 deny tcp 22 ::/0`, `110 allow tcp 0-1024 0.0.0.0/0`.
pub fn acl_entry_summary(entry: &NetworkAclEntry) -> String {
    let protocol = match entry.protocol.as_deref().unwrap_or("?") {
        "-1" => "all",
        "6" => "tcp",
        "17" => "udp",
        "1" => "icmp",
        other => other,
    };
    let ports = match entry.port_range.as_ref().map(|p| (p.from, p.to)) {
        Some((Some(from), Some(to))) if from == to => from.to_string(),
        Some((Some(from), Some(to))) => format!("{from}-{to}"),
        _ => "all".to_owned(),
    };
    let cidr = entry
        .cidr_block
        .as_deref()
        .or(entry.ipv6_cidr_block.as_deref())
        .unwrap_or("?");
    format!(
        "{} {} {protocol} {ports} {cidr}",
        entry.rule_number.unwrap_or_default(),
        entry.rule_action.as_ref().map_or("?", |a| a.as_str())
    )
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

impl Member {
    /// The default VPC's id.
    pub async fn default_vpc(&self) -> Result<String, String> {
        let out = self
            .ec2
            .describe_vpcs()
            .filters(Filter::builder().name("is-default").values("true").build())
            .send()
            .await
            .map_err(|e| call_failed("ec2.default-vpc", &e))?;
        out.vpcs
            .unwrap_or_default()
            .into_iter()
            .find_map(|v| v.vpc_id)
            .ok_or_else(|| format!("account {} has no default VPC", self.account))
    }

    /// The newest x86_64 Amazon Linux 2 image (HVM, gp2) the account can see.
    pub async fn amazon_linux_image(&self) -> Result<String, String> {
        let out = self
            .ec2
            .describe_images()
            .owners("amazon")
            .filters(
                Filter::builder()
                    .name("name")
                    .values("amzn2-ami-hvm-*-x86_64-gp2")
                    .build(),
            )
            .send()
            .await
            .map_err(|e| call_failed("ec2.run-instance", &e))?;
        let mut images: Vec<(String, String)> = out
            .images
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| Some((i.creation_date.unwrap_or_default(), i.image_id?)))
            .collect();
        images.sort();
        images
            .pop()
            .map(|(_, id)| id)
            .ok_or_else(|| "ec2.run-instance: no Amazon Linux 2 image in this region".to_owned())
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
