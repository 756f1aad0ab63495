//! `hubfix:plugin/ec2`: EC2 operations in the finding's account and region.

use aws_sdk_ec2::types::{
    Filter, FlowLogsResourceType, HttpTokensState, IcmpTypeCode, IpRange, Ipv6Range,
    LogDestinationType, PortRange, RuleAction, TrafficType,
};

use hubfix_contract::{HostFunction, function};

use crate::aws::{AwsClients, CallError, PluginCtx, classify, map_sdk_error};
use crate::bindings::ec2::{
    FlowLog, Host, Instance, IpPermission, NetworkAcl, NetworkAclEntry, NewFlowLog, SecurityGroup,
    SecurityGroupRule,
};
use crate::bindings::types::AwsError;
use crate::scope::Scope;

const DESCRIBE_GROUPS: &HostFunction = function("ec2.describe-security-groups");
const DESCRIBE_RULES: &HostFunction = function("ec2.describe-security-group-rules");
const REVOKE_INGRESS: &HostFunction = function("ec2.revoke-security-group-ingress");
const REVOKE_EGRESS: &HostFunction = function("ec2.revoke-security-group-egress");
const GET_EBS_DEFAULT: &HostFunction = function("ec2.get-ebs-encryption-by-default");
const ENABLE_EBS_DEFAULT: &HostFunction = function("ec2.enable-ebs-encryption-by-default");
const AUTHORIZE_INGRESS: &HostFunction = function("ec2.authorize-security-group-ingress");
const DESCRIBE_FLOW_LOGS: &HostFunction = function("ec2.describe-flow-logs");
const CREATE_FLOW_LOGS: &HostFunction = function("ec2.create-flow-logs");
const DESCRIBE_INSTANCES: &HostFunction = function("ec2.describe-instances");
const MODIFY_METADATA: &HostFunction = function("ec2.modify-instance-metadata-options");
const DESCRIBE_ACLS: &HostFunction = function("ec2.describe-network-acls");
const CREATE_ACL_ENTRY: &HostFunction = function("ec2.create-network-acl-entry");
const REPLACE_ACL_ENTRY: &HostFunction = function("ec2.replace-network-acl-entry");
const DELETE_ACL_ENTRY: &HostFunction = function("ec2.delete-network-acl-entry");

fn ec2(aws: &AwsClients) -> aws_sdk_ec2::Client {
    aws.client(aws_sdk_ec2::Client::new)
}

fn non_empty(function: &HostFunction, rule_ids: &[String]) -> Result<(), CallError> {
    if rule_ids.is_empty() {
        return Err(AwsError::InvalidInput(format!("{}: no rule ids given", function.name)).into());
    }
    Ok(())
}

impl Host for PluginCtx {
    async fn describe_security_groups(
        &mut self,
        group_ids: Vec<String>,
    ) -> Result<Vec<SecurityGroup>, CallError> {
        self.enter(const { function("ec2.describe-security-groups") })?;
        check_count(DESCRIBE_GROUPS, "group-ids", group_ids.len(), MAX_IDS)?;
        for id in &group_ids {
            check_id(DESCRIBE_GROUPS, "group-ids", id, "sg-")?;
        }
        let resource = group_ids.join(",");
        self.call(DESCRIBE_GROUPS, Some(&resource), |aws| async move {
            let out = ec2(&aws)
                .describe_security_groups()
                .set_group_ids(Some(group_ids))
                .send()
                .await
                .map_err(map_sdk_error)?;
            Ok(out
                .security_groups
                .unwrap_or_default()
                .into_iter()
                .map(|g| SecurityGroup {
                    group_id: g.group_id.unwrap_or_default(),
                    group_name: g.group_name.unwrap_or_default(),
                    vpc_id: g.vpc_id,
                    owner_id: g.owner_id.unwrap_or_default(),
                    description: g.description.unwrap_or_default(),
                })
                .collect())
        })
        .await
    }

    async fn describe_security_group_rules(
        &mut self,
        group_id: String,
    ) -> Result<Vec<SecurityGroupRule>, CallError> {
        self.enter(const { function("ec2.describe-security-group-rules") })?;
        // The id becomes a filter value: only an id of the documented shape.
        check_id(DESCRIBE_RULES, "group-id", &group_id, "sg-")?;
        let resource = group_id.clone();
        self.call(DESCRIBE_RULES, Some(&resource), |aws| async move {
            let mut rules = Vec::new();
            let mut pages = ec2(&aws)
                .describe_security_group_rules()
                .filters(Filter::builder().name("group-id").values(group_id).build())
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(map_sdk_error)?;
                rules.extend(
                    page.security_group_rules
                        .unwrap_or_default()
                        .into_iter()
                        .map(|r| SecurityGroupRule {
                            rule_id: r.security_group_rule_id.unwrap_or_default(),
                            group_id: r.group_id.unwrap_or_default(),
                            is_egress: r.is_egress.unwrap_or(false),
                            ip_protocol: r.ip_protocol.unwrap_or_else(|| "-1".into()),
                            from_port: r.from_port,
                            to_port: r.to_port,
                            cidr_ipv4: r.cidr_ipv4,
                            cidr_ipv6: r.cidr_ipv6,
                            prefix_list_id: r.prefix_list_id,
                            referenced_group_id: r.referenced_group_info.and_then(|g| g.group_id),
                            description: r.description,
                        }),
                );
            }
            Ok(rules)
        })
        .await
    }

    async fn revoke_security_group_ingress(
        &mut self,
        group_id: String,
        rule_ids: Vec<String>,
    ) -> Result<(), CallError> {
        self.enter(const { function("ec2.revoke-security-group-ingress") })?;
        non_empty(REVOKE_INGRESS, &rule_ids)?;
        let resource = group_id.clone();
        self.call(REVOKE_INGRESS, Some(&resource), |aws| async move {
            ec2(&aws)
                .revoke_security_group_ingress()
                .group_id(group_id)
                .set_security_group_rule_ids(Some(rule_ids))
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn revoke_security_group_egress(
        &mut self,
        group_id: String,
        rule_ids: Vec<String>,
    ) -> Result<(), CallError> {
        self.enter(const { function("ec2.revoke-security-group-egress") })?;
        non_empty(REVOKE_EGRESS, &rule_ids)?;
        let resource = group_id.clone();
        self.call(REVOKE_EGRESS, Some(&resource), |aws| async move {
            ec2(&aws)
                .revoke_security_group_egress()
                .group_id(group_id)
                .set_security_group_rule_ids(Some(rule_ids))
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn get_ebs_encryption_by_default(&mut self) -> Result<bool, CallError> {
        self.enter(const { function("ec2.get-ebs-encryption-by-default") })?;
        self.call(GET_EBS_DEFAULT, None, |aws| async move {
            ec2(&aws)
                .get_ebs_encryption_by_default()
                .send()
                .await
                .map(|out| out.ebs_encryption_by_default.unwrap_or(false))
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn enable_ebs_encryption_by_default(&mut self) -> Result<(), CallError> {
        self.enter(const { function("ec2.enable-ebs-encryption-by-default") })?;
        self.call(ENABLE_EBS_DEFAULT, None, |aws| async move {
            ec2(&aws)
                .enable_ebs_encryption_by_default()
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }
    async fn authorize_security_group_ingress(
        &mut self,
        group_id: String,
        rules: Vec<IpPermission>,
    ) -> Result<Vec<String>, CallError> {
        self.enter(const { function("ec2.authorize-security-group-ingress") })?;
        let f = AUTHORIZE_INGRESS;
        check_id(f, "group-id", &group_id, "sg-")?;
        check_count(f, "rules", rules.len(), MAX_RULES)?;
        let permissions = rules
            .iter()
            .enumerate()
            .map(|(i, rule)| ip_permission(f, i, rule))
            .collect::<Result<Vec<_>, _>>()?;
        let resource = group_id.clone();
        self.call(f, Some(&resource), |aws| async move {
            let out = ec2(&aws)
                .authorize_security_group_ingress()
                .group_id(group_id)
                .set_ip_permissions(Some(permissions))
                .send()
                .await
                .map_err(map_sdk_error)?;
            Ok(out
                .security_group_rules
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.security_group_rule_id)
                .collect())
        })
        .await
    }

    async fn describe_flow_logs(&mut self, vpc_id: String) -> Result<Vec<FlowLog>, CallError> {
        self.enter(const { function("ec2.describe-flow-logs") })?;
        check_id(DESCRIBE_FLOW_LOGS, "vpc-id", &vpc_id, "vpc-")?;
        let resource = vpc_id.clone();
        self.call(DESCRIBE_FLOW_LOGS, Some(&resource), |aws| async move {
            let mut logs = Vec::new();
            let mut pages = ec2(&aws)
                .describe_flow_logs()
                .filter(Filter::builder().name("resource-id").values(vpc_id).build())
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(map_sdk_error)?;
                logs.extend(page.flow_logs.unwrap_or_default().into_iter().map(|l| {
                    FlowLog {
                        flow_log_id: l.flow_log_id.unwrap_or_default(),
                        resource_id: l.resource_id.unwrap_or_default(),
                        traffic_type: l
                            .traffic_type
                            .map(|t| t.as_str().to_owned())
                            .unwrap_or_default(),
                        log_destination_type: l
                            .log_destination_type
                            .map(|t| t.as_str().to_owned())
                            .unwrap_or_default(),
                        log_destination: l.log_destination,
                        log_group_name: l.log_group_name,
                        deliver_logs_permission_arn: l.deliver_logs_permission_arn,
                        flow_log_status: l.flow_log_status.unwrap_or_default(),
                    }
                }));
            }
            Ok(logs)
        })
        .await
    }

    async fn create_flow_logs(&mut self, flow_log: NewFlowLog) -> Result<String, CallError> {
        self.enter(const { function("ec2.create-flow-logs") })?;
        let f = CREATE_FLOW_LOGS;
        check_id(f, "vpc-id", &flow_log.vpc_id, "vpc-")?;
        let traffic = match flow_log.traffic_type.as_str() {
            "ACCEPT" => TrafficType::Accept,
            "REJECT" => TrafficType::Reject,
            "ALL" => TrafficType::All,
            _ => return Err(invalid(f, "traffic-type", "must be ACCEPT, REJECT or ALL")),
        };
        let destination_type = match flow_log.log_destination_type.as_str() {
            "cloud-watch-logs" => {
                check_log_group_arn(f, &flow_log.log_destination, &self.scope)?;
                let Some(role) = &flow_log.deliver_logs_permission_arn else {
                    return Err(invalid(
                        f,
                        "deliver-logs-permission-arn",
                        "is required for a cloud-watch-logs destination",
                    ));
                };
                check_role_arn(f, role, self.scope.account_id())?;
                LogDestinationType::CloudWatchLogs
            }
            "s3" => {
                check_bucket_arn(f, &flow_log.log_destination)?;
                if flow_log.deliver_logs_permission_arn.is_some() {
                    return Err(invalid(
                        f,
                        "deliver-logs-permission-arn",
                        "is only for a cloud-watch-logs destination",
                    ));
                }
                LogDestinationType::S3
            }
            _ => {
                return Err(invalid(
                    f,
                    "log-destination-type",
                    "must be cloud-watch-logs or s3",
                ));
            }
        };
        let resource = flow_log.vpc_id.clone();
        self.call(f, Some(&resource), |aws| async move {
            let out = ec2(&aws)
                .create_flow_logs()
                .resource_type(FlowLogsResourceType::Vpc)
                .resource_ids(flow_log.vpc_id)
                .traffic_type(traffic)
                .log_destination_type(destination_type)
                .log_destination(flow_log.log_destination)
                .set_deliver_logs_permission_arn(flow_log.deliver_logs_permission_arn)
                .send()
                .await
                .map_err(map_sdk_error)?;
            // AWS reports a refused resource in `Unsuccessful`, not as an error.
            if let Some(item) = out.unsuccessful.unwrap_or_default().into_iter().next() {
                let error = item.error;
                let code = error.as_ref().and_then(|e| e.code.clone());
                let message = error.and_then(|e| e.message).unwrap_or_default();
                let text = match &code {
                    Some(code) => format!("{code}: {message}"),
                    None => message,
                };
                return Err(classify(code.as_deref(), text));
            }
            out.flow_log_ids
                .unwrap_or_default()
                .into_iter()
                .next()
                .ok_or_else(|| AwsError::Service("AWS returned no flow log id".into()))
        })
        .await
    }

    async fn describe_instances(
        &mut self,
        instance_ids: Vec<String>,
    ) -> Result<Vec<Instance>, CallError> {
        self.enter(const { function("ec2.describe-instances") })?;
        let f = DESCRIBE_INSTANCES;
        check_count(f, "instance-ids", instance_ids.len(), MAX_IDS)?;
        for id in &instance_ids {
            check_id(f, "instance-ids", id, "i-")?;
        }
        let resource = instance_ids.join(",");
        self.call(f, Some(&resource), |aws| async move {
            let mut instances = Vec::new();
            let mut pages = ec2(&aws)
                .describe_instances()
                .set_instance_ids(Some(instance_ids))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(map_sdk_error)?;
                for reservation in page.reservations.unwrap_or_default() {
                    instances.extend(reservation.instances.unwrap_or_default().into_iter().map(
                        |i| {
                            let options = i.metadata_options.unwrap_or_else(|| {
                                aws_sdk_ec2::types::InstanceMetadataOptionsResponse::builder()
                                    .build()
                            });
                            Instance {
                                instance_id: i.instance_id.unwrap_or_default(),
                                state: i
                                    .state
                                    .and_then(|s| s.name)
                                    .map(|n| n.as_str().to_owned())
                                    .unwrap_or_default(),
                                http_tokens: options
                                    .http_tokens
                                    .map(|t| t.as_str().to_owned())
                                    .unwrap_or_default(),
                                http_endpoint: options
                                    .http_endpoint
                                    .map(|e| e.as_str().to_owned())
                                    .unwrap_or_default(),
                                http_put_response_hop_limit: options.http_put_response_hop_limit,
                            }
                        },
                    ));
                }
            }
            Ok(instances)
        })
        .await
    }

    async fn modify_instance_metadata_options(
        &mut self,
        instance_id: String,
        http_tokens: String,
        hop_limit: Option<i32>,
    ) -> Result<(), CallError> {
        self.enter(const { function("ec2.modify-instance-metadata-options") })?;
        let f = MODIFY_METADATA;
        check_id(f, "instance-id", &instance_id, "i-")?;
        let tokens = match http_tokens.as_str() {
            "required" => HttpTokensState::Required,
            "optional" => HttpTokensState::Optional,
            _ => {
                return Err(invalid(
                    f,
                    "http-tokens",
                    "must be `required` or `optional`",
                ));
            }
        };
        if let Some(limit) = hop_limit
            && !(1..=64).contains(&limit)
        {
            return Err(invalid(f, "hop-limit", "must be from 1 to 64"));
        }
        let resource = instance_id.clone();
        self.call(f, Some(&resource), |aws| async move {
            ec2(&aws)
                .modify_instance_metadata_options()
                .instance_id(instance_id)
                .http_tokens(tokens)
                .set_http_put_response_hop_limit(hop_limit)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn describe_network_acls(
        &mut self,
        network_acl_ids: Vec<String>,
    ) -> Result<Vec<NetworkAcl>, CallError> {
        self.enter(const { function("ec2.describe-network-acls") })?;
        let f = DESCRIBE_ACLS;
        check_count(f, "network-acl-ids", network_acl_ids.len(), MAX_IDS)?;
        for id in &network_acl_ids {
            check_id(f, "network-acl-ids", id, "acl-")?;
        }
        let resource = network_acl_ids.join(",");
        self.call(f, Some(&resource), |aws| async move {
            let mut acls = Vec::new();
            let mut pages = ec2(&aws)
                .describe_network_acls()
                .set_network_acl_ids(Some(network_acl_ids))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(map_sdk_error)?;
                acls.extend(page.network_acls.unwrap_or_default().into_iter().map(|a| {
                    NetworkAcl {
                        network_acl_id: a.network_acl_id.unwrap_or_default(),
                        vpc_id: a.vpc_id.unwrap_or_default(),
                        is_default: a.is_default.unwrap_or(false),
                        entries: a
                            .entries
                            .unwrap_or_default()
                            .into_iter()
                            .map(acl_entry)
                            .collect(),
                    }
                }));
            }
            Ok(acls)
        })
        .await
    }

    async fn create_network_acl_entry(
        &mut self,
        network_acl_id: String,
        entry: NetworkAclEntry,
    ) -> Result<(), CallError> {
        self.enter(const { function("ec2.create-network-acl-entry") })?;
        let f = CREATE_ACL_ENTRY;
        check_id(f, "network-acl-id", &network_acl_id, "acl-")?;
        let entry = checked_acl_entry(f, entry)?;
        let resource = network_acl_id.clone();
        self.call(f, Some(&resource), |aws| async move {
            ec2(&aws)
                .create_network_acl_entry()
                .network_acl_id(network_acl_id)
                .rule_number(entry.rule_number)
                .protocol(entry.protocol)
                .rule_action(entry.action)
                .egress(entry.egress)
                .set_cidr_block(entry.cidr_block)
                .set_ipv6_cidr_block(entry.ipv6_cidr_block)
                .set_port_range(entry.ports)
                .set_icmp_type_code(entry.icmp)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn replace_network_acl_entry(
        &mut self,
        network_acl_id: String,
        entry: NetworkAclEntry,
    ) -> Result<(), CallError> {
        self.enter(const { function("ec2.replace-network-acl-entry") })?;
        let f = REPLACE_ACL_ENTRY;
        check_id(f, "network-acl-id", &network_acl_id, "acl-")?;
        let entry = checked_acl_entry(f, entry)?;
        let resource = network_acl_id.clone();
        self.call(f, Some(&resource), |aws| async move {
            ec2(&aws)
                .replace_network_acl_entry()
                .network_acl_id(network_acl_id)
                .rule_number(entry.rule_number)
                .protocol(entry.protocol)
                .rule_action(entry.action)
                .egress(entry.egress)
                .set_cidr_block(entry.cidr_block)
                .set_ipv6_cidr_block(entry.ipv6_cidr_block)
                .set_port_range(entry.ports)
                .set_icmp_type_code(entry.icmp)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn delete_network_acl_entry(
        &mut self,
        network_acl_id: String,
        rule_number: i32,
        egress: bool,
    ) -> Result<(), CallError> {
        self.enter(const { function("ec2.delete-network-acl-entry") })?;
        let f = DELETE_ACL_ENTRY;
        check_id(f, "network-acl-id", &network_acl_id, "acl-")?;
        check_rule_number(f, rule_number)?;
        let resource = network_acl_id.clone();
        self.call(f, Some(&resource), |aws| async move {
            ec2(&aws)
                .delete_network_acl_entry()
                .network_acl_id(network_acl_id)
                .rule_number(rule_number)
                .egress(egress)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }
}

/// Most rules one `authorize-security-group-ingress` may add (AWS's default quota of
/// inbound rules per group).
const MAX_RULES: usize = 60;
/// Most ids one describe call may name.
const MAX_IDS: usize = 200;
/// Longest rule description AWS accepts.
const MAX_DESCRIPTION: usize = 255;

fn invalid(function: &HostFunction, field: &str, problem: &str) -> CallError {
    AwsError::InvalidInput(format!("{}: `{field}` {problem}", function.name)).into()
}

/// `prefix` followed by 8 or 17 lowercase hex digits, as EC2 ids are.
fn is_ec2_id(id: &str, prefix: &'static str) -> bool {
    hubfix_contract::IdSyntax::Ec2(prefix).accepts(id)
}

fn check_id(
    function: &HostFunction,
    field: &str,
    id: &str,
    prefix: &'static str,
) -> Result<(), CallError> {
    if is_ec2_id(id, prefix) {
        return Ok(());
    }
    let shown: String = id.chars().take(40).collect();
    Err(invalid(
        function,
        field,
        &format!("`{shown}` is not an id of the form {prefix}<8 or 17 lowercase hex digits>"),
    ))
}

fn check_count(
    function: &HostFunction,
    field: &str,
    count: usize,
    max: usize,
) -> Result<(), CallError> {
    match count {
        0 => Err(invalid(function, field, "is empty")),
        n if n > max => Err(invalid(
            function,
            field,
            &format!("has more than {max} items"),
        )),
        _ => Ok(()),
    }
}

fn check_rule_number(function: &HostFunction, rule_number: i32) -> Result<(), CallError> {
    if (1..=32766).contains(&rule_number) {
        Ok(())
    } else {
        Err(invalid(function, "rule-number", "must be from 1 to 32766"))
    }
}

/// An IPv4 CIDR (`10.0.0.0/8`).
fn is_ipv4_cidr(cidr: &str) -> bool {
    cidr.split_once('/').is_some_and(|(addr, bits)| {
        addr.parse::<std::net::Ipv4Addr>().is_ok()
            && (1..=2).contains(&bits.len())
            && bits.bytes().all(|b| b.is_ascii_digit())
            && bits.parse::<u8>().is_ok_and(|b| b <= 32)
    })
}

/// An IPv6 CIDR (`::/0`, `2001:db8::/32`).
fn is_ipv6_cidr(cidr: &str) -> bool {
    cidr.split_once('/').is_some_and(|(addr, bits)| {
        addr.parse::<std::net::Ipv6Addr>().is_ok()
            && (1..=3).contains(&bits.len())
            && bits.bytes().all(|b| b.is_ascii_digit())
            && bits.parse::<u8>().is_ok_and(|b| b <= 128)
    })
}

/// Exactly one of an IPv4 and an IPv6 CIDR, each well-formed.
fn check_cidrs(
    function: &HostFunction,
    (v4_field, v4): (&str, Option<&str>),
    (v6_field, v6): (&str, Option<&str>),
) -> Result<(), CallError> {
    match (v4, v6) {
        (Some(_), Some(_)) | (None, None) => Err(invalid(
            function,
            v4_field,
            &format!("or `{v6_field}`: give exactly one"),
        )),
        (Some(cidr), None) if !is_ipv4_cidr(cidr) => Err(invalid(
            function,
            v4_field,
            "is not an IPv4 CIDR such as 10.0.0.0/8",
        )),
        (None, Some(cidr)) if !is_ipv6_cidr(cidr) => Err(invalid(
            function,
            v6_field,
            "is not an IPv6 CIDR such as ::/0",
        )),
        _ => Ok(()),
    }
}

/// A security group rule as the SDK takes it, checked field by field.
fn ip_permission(
    f: &HostFunction,
    i: usize,
    rule: &IpPermission,
) -> Result<aws_sdk_ec2::types::IpPermission, CallError> {
    let field = |name: &str| format!("rules[{i}].{name}");
    let protocol = rule.ip_protocol.trim().to_ascii_lowercase();
    let number = match protocol.as_str() {
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "icmpv6" => Some(58),
        "-1" => None,
        n => match n.parse::<u8>() {
            Ok(n) if !n.to_string().eq(&protocol) => {
                return Err(invalid(f, &field("ip-protocol"), "is not a protocol"));
            }
            Ok(n) => Some(n),
            Err(_) => {
                return Err(invalid(
                    f,
                    &field("ip-protocol"),
                    "must be tcp, udp, icmp, icmpv6, a protocol number or -1",
                ));
            }
        },
    };
    match number {
        Some(6 | 17) => match (rule.from_port, rule.to_port) {
            (Some(from), Some(to))
                if (0..=65535).contains(&from) && (from..=65535).contains(&to) => {}
            _ => {
                return Err(invalid(
                    f,
                    &field("from-port"),
                    "and `to-port` must be ports from 0 to 65535, from <= to",
                ));
            }
        },
        Some(1 | 58) => match (rule.from_port, rule.to_port) {
            (Some(t), Some(c)) if (-1..=255).contains(&t) && (-1..=255).contains(&c) => {}
            _ => {
                return Err(invalid(
                    f,
                    &field("from-port"),
                    "and `to-port` must be an ICMP type and code from -1 to 255",
                ));
            }
        },
        _ => {
            if rule.from_port.is_some_and(|p| p != -1) || rule.to_port.is_some_and(|p| p != -1) {
                return Err(invalid(
                    f,
                    &field("from-port"),
                    "and `to-port` apply only to tcp, udp, icmp and icmpv6",
                ));
            }
        }
    }
    check_cidrs(
        f,
        (&field("cidr-ipv4"), rule.cidr_ipv4.as_deref()),
        (&field("cidr-ipv6"), rule.cidr_ipv6.as_deref()),
    )?;
    if let Some(description) = &rule.description {
        let allowed = |c: char| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c);
        if description.len() > MAX_DESCRIPTION || !description.chars().all(allowed) {
            return Err(invalid(
                f,
                &field("description"),
                "must be at most 255 characters of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*",
            ));
        }
    }
    let ports = number.is_some_and(|n| matches!(n, 1 | 6 | 17 | 58));
    let mut permission = aws_sdk_ec2::types::IpPermission::builder().ip_protocol(protocol);
    if ports {
        permission = permission
            .set_from_port(rule.from_port)
            .set_to_port(rule.to_port);
    }
    if let Some(cidr) = &rule.cidr_ipv4 {
        permission = permission.ip_ranges(
            IpRange::builder()
                .cidr_ip(cidr)
                .set_description(rule.description.clone())
                .build(),
        );
    }
    if let Some(cidr) = &rule.cidr_ipv6 {
        permission = permission.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(cidr)
                .set_description(rule.description.clone())
                .build(),
        );
    }
    Ok(permission.build())
}

/// `arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME` (optionally `:*`), in the finding's
/// account and region.
fn check_log_group_arn(f: &HostFunction, arn: &str, scope: &Scope) -> Result<(), CallError> {
    let field = "log-destination";
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    let [arn_, partition, "logs", region, account, "log-group", name] = parts[..] else {
        return Err(invalid(
            f,
            field,
            "must be a log group ARN (arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME)",
        ));
    };
    let name = name.strip_suffix(":*").unwrap_or(name);
    let name_ok = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c));
    if arn_ != "arn" || !PARTITIONS.contains(&partition) || !name_ok {
        return Err(invalid(f, field, "is not a valid log group ARN"));
    }
    if account != scope.account_id() || region != scope.region() {
        return Err(invalid(
            f,
            field,
            "must be a log group in the finding's account and region",
        ));
    }
    Ok(())
}

/// `arn:PARTITION:s3:::BUCKET` with an optional `/prefix/`.
fn check_bucket_arn(f: &HostFunction, arn: &str) -> Result<(), CallError> {
    let field = "log-destination";
    let rest = PARTITIONS.iter().find_map(|p| {
        arn.strip_prefix("arn:")?
            .strip_prefix(p)?
            .strip_prefix(":s3:::")
    });
    let Some(rest) = rest else {
        return Err(invalid(
            f,
            field,
            "must be an S3 bucket ARN (arn:PARTITION:s3:::BUCKET[/prefix/])",
        ));
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let prefix_ok = prefix.len() <= 512
        && !prefix.starts_with('/')
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!-_.*'()/".contains(c));
    if !bucket_ok || !prefix_ok {
        return Err(invalid(f, field, "is not a valid S3 bucket ARN"));
    }
    Ok(())
}

/// An IAM role ARN in the finding's account.
fn check_role_arn(f: &HostFunction, arn: &str, account: &str) -> Result<(), CallError> {
    let field = "deliver-logs-permission-arn";
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "iam", "", role_account, resource] = parts[..] else {
        return Err(invalid(f, field, "must be an IAM role ARN"));
    };
    let name = resource
        .strip_prefix("role/")
        .and_then(|r| r.rsplit('/').next());
    let name_ok = name.is_some_and(|n| {
        !n.is_empty()
            && n.len() <= 64
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    });
    if !PARTITIONS.contains(&partition) || !name_ok || resource.len() > 512 {
        return Err(invalid(f, field, "must be an IAM role ARN"));
    }
    if role_account != account {
        return Err(invalid(f, field, "must be a role in the finding's account"));
    }
    Ok(())
}

const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

/// A network ACL entry as the SDK reports it, in the contract's words.
fn acl_entry(e: aws_sdk_ec2::types::NetworkAclEntry) -> NetworkAclEntry {
    NetworkAclEntry {
        rule_number: e.rule_number.unwrap_or_default(),
        protocol: e.protocol.unwrap_or_else(|| "-1".into()),
        rule_action: e
            .rule_action
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
        egress: e.egress.unwrap_or(false),
        cidr_block: e.cidr_block,
        ipv6_cidr_block: e.ipv6_cidr_block,
        from_port: e.port_range.as_ref().and_then(|p| p.from),
        to_port: e.port_range.as_ref().and_then(|p| p.to),
        icmp_type: e.icmp_type_code.as_ref().and_then(|i| i.r#type),
        icmp_code: e.icmp_type_code.as_ref().and_then(|i| i.code),
    }
}

/// A network ACL entry, checked, in the SDK's types.
struct AclEntry {
    rule_number: i32,
    protocol: String,
    action: RuleAction,
    egress: bool,
    cidr_block: Option<String>,
    ipv6_cidr_block: Option<String>,
    ports: Option<PortRange>,
    icmp: Option<IcmpTypeCode>,
}

fn checked_acl_entry(f: &HostFunction, entry: NetworkAclEntry) -> Result<AclEntry, CallError> {
    check_rule_number(f, entry.rule_number)?;
    let protocol = entry.protocol.trim();
    let number = match protocol {
        "-1" => None,
        n => match n.parse::<u8>() {
            Ok(number) if number.to_string() == n => Some(number),
            _ => {
                return Err(invalid(
                    f,
                    "entry.protocol",
                    "must be a protocol number (6 tcp, 17 udp, 1 icmp) or -1",
                ));
            }
        },
    };
    let action = match entry.rule_action.as_str() {
        "allow" => RuleAction::Allow,
        "deny" => RuleAction::Deny,
        _ => return Err(invalid(f, "entry.rule-action", "must be `allow` or `deny`")),
    };
    check_cidrs(
        f,
        ("entry.cidr-block", entry.cidr_block.as_deref()),
        ("entry.ipv6-cidr-block", entry.ipv6_cidr_block.as_deref()),
    )?;
    let has_ports = entry.from_port.is_some() || entry.to_port.is_some();
    let has_icmp = entry.icmp_type.is_some() || entry.icmp_code.is_some();
    let (ports, icmp) = match number {
        Some(6 | 17) => {
            if has_icmp {
                return Err(invalid(f, "entry.icmp-type", "applies only to icmp"));
            }
            match (entry.from_port, entry.to_port) {
                (Some(from), Some(to))
                    if (0..=65535).contains(&from) && (from..=65535).contains(&to) =>
                {
                    (Some(PortRange::builder().from(from).to(to).build()), None)
                }
                _ => {
                    return Err(invalid(
                        f,
                        "entry.from-port",
                        "and `entry.to-port` must be ports from 0 to 65535, from <= to",
                    ));
                }
            }
        }
        Some(1 | 58) => {
            if has_ports {
                return Err(invalid(f, "entry.from-port", "applies only to tcp and udp"));
            }
            match (entry.icmp_type, entry.icmp_code) {
                (Some(t), Some(c)) if (-1..=255).contains(&t) && (-1..=255).contains(&c) => (
                    None,
                    Some(IcmpTypeCode::builder().r#type(t).code(c).build()),
                ),
                _ => {
                    return Err(invalid(
                        f,
                        "entry.icmp-type",
                        "and `entry.icmp-code` must be from -1 to 255",
                    ));
                }
            }
        }
        _ => {
            if has_ports || has_icmp {
                return Err(invalid(
                    f,
                    "entry.from-port",
                    "and the ICMP fields apply only to tcp, udp and icmp",
                ));
            }
            (None, None)
        }
    };
    Ok(AclEntry {
        rule_number: entry.rule_number,
        protocol: protocol.to_owned(),
        action,
        egress: entry.egress,
        cidr_block: entry.cidr_block,
        ipv6_cidr_block: entry.ipv6_cidr_block,
        ports,
        icmp,
    })
}

#[cfg(test)]
mod tests {
    use crate::aws::mock_tests::mock_ctx;

    use aws_sdk_ec2::operation::authorize_security_group_ingress::AuthorizeSecurityGroupIngressOutput;
    use aws_sdk_ec2::operation::create_flow_logs::CreateFlowLogsOutput;
    use aws_sdk_ec2::operation::create_network_acl_entry::CreateNetworkAclEntryOutput;
    use aws_sdk_ec2::operation::delete_network_acl_entry::DeleteNetworkAclEntryOutput;
    use aws_sdk_ec2::operation::describe_flow_logs::DescribeFlowLogsOutput;
    use aws_sdk_ec2::operation::describe_instances::{
        DescribeInstancesError, DescribeInstancesOutput,
    };
    use aws_sdk_ec2::operation::describe_network_acls::DescribeNetworkAclsOutput;
    use aws_sdk_ec2::operation::modify_instance_metadata_options::ModifyInstanceMetadataOptionsOutput;
    use aws_sdk_ec2::operation::replace_network_acl_entry::ReplaceNetworkAclEntryError;
    use aws_sdk_ec2::types as sdk;
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_mocks::{Rule, RuleMode, mock, mock_client};

    use serde_json::json;

    use super::*;

    use crate::bindings::types::Mode;

    use crate::outcome::CallResult;

    const SG: &str = "sg-0123456789abcdef0";
    const VPC: &str = "vpc-0123456789abcdef0";
    const INSTANCE: &str = "i-0123456789abcdef0";
    const ACL: &str = "acl-0123456789abcdef0";
    const OTHER_SG: &str = "sg-0fffffffffffffff0";
    const OTHER_VPC: &str = "vpc-0fffffffffffffff0";
    const OTHER_INSTANCE: &str = "i-0fffffffffffffff0";
    const OTHER_ACL: &str = "acl-0fffffffffffffff0";
    const LOG_GROUP: &str = "arn:aws:logs:us-east-1:111111111111:log-group:hubfix-flow-logs";
    const ROLE: &str = "arn:aws:iam::111111111111:role/hubfix-flow-logs";

    const GRANTS: &[&str] = &[
        "ec2.authorize-security-group-ingress",
        "ec2.describe-flow-logs",
        "ec2.create-flow-logs",
        "ec2.describe-instances",
        "ec2.modify-instance-metadata-options",
        "ec2.describe-network-acls",
        "ec2.create-network-acl-entry",
        "ec2.replace-network-acl-entry",
        "ec2.delete-network-acl-entry",
    ];

    fn ctx_in(rules: &[&Rule], mode: Mode) -> PluginCtx {
        let arn = |kind: &str, id: &str| format!("arn:aws:ec2:us-east-1:111111111111:{kind}/{id}");
        mock_ctx(
            "us-east-1",
            json!([
                {"Type": "AwsEc2SecurityGroup", "Id": arn("security-group", SG)},
                {"Type": "AwsEc2Vpc", "Id": arn("vpc", VPC)},
                {"Type": "AwsEc2Instance", "Id": arn("instance", INSTANCE)},
                {"Type": "AwsEc2NetworkAcl", "Id": arn("network-acl", ACL)},
            ]),
            mock_client!(aws_sdk_ec2, RuleMode::MatchAny, rules),
            GRANTS,
            mode,
            50,
        )
    }

    fn ctx(rules: &[&Rule]) -> PluginCtx {
        ctx_in(rules, Mode::Apply)
    }

    fn is_invalid(err: &CallError, field: &str) -> bool {
        matches!(err, CallError::Aws(AwsError::InvalidInput(m)) if m.contains(&format!("`{field}`")))
    }

    fn is_denied(err: &CallError) -> bool {
        matches!(err, CallError::Aws(AwsError::AccessDenied(_)))
    }

    fn permission(protocol: &str, from: Option<i32>, to: Option<i32>, cidr: &str) -> IpPermission {
        let v6 = cidr.contains(':');
        IpPermission {
            ip_protocol: protocol.into(),
            from_port: from,
            to_port: to,
            cidr_ipv4: (!v6).then(|| cidr.into()),
            cidr_ipv6: v6.then(|| cidr.into()),
            description: Some("web (kept by hubfix)".into()),
        }
    }

    #[tokio::test]
    async fn authorize_sends_each_rule_with_its_peer_and_returns_the_rule_ids() {
        let authorize = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress)
            .match_requests(|r| {
                let p = r.ip_permissions();
                r.group_id() == Some(SG)
                    && p.len() == 2
                    && p[0].ip_protocol() == Some("tcp")
                    && (p[0].from_port, p[0].to_port) == (Some(0), Some(21))
                    && p[0].ip_ranges()[0].cidr_ip() == Some("0.0.0.0/0")
                    && p[0].ip_ranges()[0].description() == Some("web (kept by hubfix)")
                    && p[0].ipv6_ranges().is_empty()
                    && p[1].ip_protocol() == Some("-1")
                    && p[1].from_port.is_none()
                    && p[1].ipv6_ranges()[0].cidr_ipv6() == Some("::/0")
            })
            .then_output(|| {
                AuthorizeSecurityGroupIngressOutput::builder()
                    .r#return(true)
                    .security_group_rules(
                        sdk::SecurityGroupRule::builder()
                            .security_group_rule_id("sgr-1")
                            .build(),
                    )
                    .security_group_rules(
                        sdk::SecurityGroupRule::builder()
                            .security_group_rule_id("sgr-2")
                            .build(),
                    )
                    .build()
            });
        let mut ctx = ctx(&[&authorize]);
        let ids = ctx
            .authorize_security_group_ingress(
                SG.into(),
                vec![
                    permission("tcp", Some(0), Some(21), "0.0.0.0/0"),
                    permission("-1", None, None, "::/0"),
                ],
            )
            .await
            .unwrap();
        assert_eq!(ids, ["sgr-1", "sgr-2"]);
        assert_eq!(authorize.num_calls(), 1);
    }

    #[tokio::test]
    async fn authorize_refuses_other_groups_and_bad_rules_without_a_call() {
        let authorize = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress)
            .then_output(|| AuthorizeSecurityGroupIngressOutput::builder().build());
        let mut ctx = ctx(&[&authorize]);
        let ok = || permission("tcp", Some(80), Some(80), "0.0.0.0/0");
        let err = ctx
            .authorize_security_group_ingress(OTHER_SG.into(), vec![ok()])
            .await
            .unwrap_err();
        assert!(is_denied(&err), "{err:?}");
        let cases: Vec<(&str, Vec<IpPermission>, &str)> = vec![
            ("sg-1", vec![ok()], "group-id"),
            (SG, vec![], "rules"),
            (SG, vec![ok(); 61], "rules"),
            (
                SG,
                vec![permission("tcp", Some(0), Some(70000), "0.0.0.0/0")],
                "rules[0].from-port",
            ),
            (
                SG,
                vec![permission("tcp", Some(30), Some(20), "0.0.0.0/0")],
                "rules[0].from-port",
            ),
            (
                SG,
                vec![permission("udp", None, None, "0.0.0.0/0")],
                "rules[0].from-port",
            ),
            (
                SG,
                vec![ok(), permission("-1", Some(22), Some(22), "0.0.0.0/0")],
                "rules[1].from-port",
            ),
            (
                SG,
                vec![permission("tcp", Some(22), Some(22), "0.0.0.0/33")],
                "rules[0].cidr-ipv4",
            ),
            (
                SG,
                vec![permission("tcp", Some(22), Some(22), "::/129")],
                "rules[0].cidr-ipv6",
            ),
            (
                SG,
                vec![permission("gre", None, None, "0.0.0.0/0")],
                "rules[0].ip-protocol",
            ),
        ];
        for (group, rules, field) in cases {
            let err = ctx
                .authorize_security_group_ingress(group.into(), rules)
                .await
                .unwrap_err();
            assert!(is_invalid(&err, field), "{field}: {err:?}");
        }
        let mut two_peers = ok();
        two_peers.cidr_ipv6 = Some("::/0".into());
        let mut bad_text = ok();
        bad_text.description = Some("tab\there".into());
        for (rule, field) in [
            (two_peers, "rules[0].cidr-ipv4"),
            (bad_text, "rules[0].description"),
        ] {
            let err = ctx
                .authorize_security_group_ingress(SG.into(), vec![rule])
                .await
                .unwrap_err();
            assert!(is_invalid(&err, field), "{field}: {err:?}");
        }
        assert_eq!(authorize.num_calls(), 0);
    }

    #[tokio::test]
    async fn flow_logs_are_described_by_vpc_and_mapped() {
        let describe = mock!(aws_sdk_ec2::Client::describe_flow_logs)
            .match_requests(|r| {
                r.filter().len() == 1
                    && r.filter()[0].name() == Some("resource-id")
                    && r.filter()[0].values() == [VPC]
            })
            .then_output(|| {
                DescribeFlowLogsOutput::builder()
                    .flow_logs(
                        sdk::FlowLog::builder()
                            .flow_log_id("fl-1")
                            .resource_id(VPC)
                            .traffic_type(sdk::TrafficType::Reject)
                            .log_destination_type(sdk::LogDestinationType::CloudWatchLogs)
                            .log_destination(LOG_GROUP)
                            .log_group_name("hubfix-flow-logs")
                            .deliver_logs_permission_arn(ROLE)
                            .flow_log_status("ACTIVE")
                            .build(),
                    )
                    .build()
            });
        let mut ctx = ctx(&[&describe]);
        let logs = ctx.describe_flow_logs(VPC.into()).await.unwrap();
        assert_eq!(
            logs,
            [FlowLog {
                flow_log_id: "fl-1".into(),
                resource_id: VPC.into(),
                traffic_type: "REJECT".into(),
                log_destination_type: "cloud-watch-logs".into(),
                log_destination: Some(LOG_GROUP.into()),
                log_group_name: Some("hubfix-flow-logs".into()),
                deliver_logs_permission_arn: Some(ROLE.into()),
                flow_log_status: "ACTIVE".into(),
            }]
        );
        let err = ctx.describe_flow_logs("vpc-XYZ".into()).await.unwrap_err();
        assert!(is_invalid(&err, "vpc-id"), "{err:?}");
        assert_eq!(describe.num_calls(), 1);
    }

    fn new_flow_log(kind: &str, destination: &str, role: Option<&str>) -> NewFlowLog {
        NewFlowLog {
            vpc_id: VPC.into(),
            traffic_type: "REJECT".into(),
            log_destination_type: kind.into(),
            log_destination: destination.into(),
            deliver_logs_permission_arn: role.map(str::to_owned),
        }
    }

    #[tokio::test]
    async fn create_flow_logs_sends_the_vpc_destination_and_role() {
        let create = mock!(aws_sdk_ec2::Client::create_flow_logs)
            .match_requests(|r| {
                r.resource_type() == Some(&sdk::FlowLogsResourceType::Vpc)
                    && r.resource_ids() == [VPC]
                    && r.traffic_type() == Some(&sdk::TrafficType::Reject)
                    && r.log_destination_type() == Some(&sdk::LogDestinationType::CloudWatchLogs)
                    && r.log_destination() == Some(LOG_GROUP)
                    && r.deliver_logs_permission_arn() == Some(ROLE)
            })
            .then_output(|| CreateFlowLogsOutput::builder().flow_log_ids("fl-9").build());
        let mut ctx = ctx(&[&create]);
        let id = ctx
            .create_flow_logs(new_flow_log("cloud-watch-logs", LOG_GROUP, Some(ROLE)))
            .await
            .unwrap();
        assert_eq!(id, "fl-9");
        assert_eq!(create.num_calls(), 1);
        let trail = ctx.into_trail();
        assert_eq!(trail.calls[0].resource.as_deref(), Some(VPC));
        assert!(trail.calls[0].mutating);
    }

    #[tokio::test]
    async fn create_flow_logs_reports_an_unsuccessful_item_as_an_error() {
        let create = mock!(aws_sdk_ec2::Client::create_flow_logs)
            .match_requests(|r| {
                r.log_destination_type() == Some(&sdk::LogDestinationType::S3)
                    && r.log_destination() == Some("arn:aws:s3:::logs-bucket/vpc/")
                    && r.deliver_logs_permission_arn().is_none()
            })
            .then_output(|| {
                CreateFlowLogsOutput::builder()
                    .unsuccessful(
                        sdk::UnsuccessfulItem::builder()
                            .resource_id(VPC)
                            .error(
                                sdk::UnsuccessfulItemError::builder()
                                    .code("InvalidParameter")
                                    .message("LogDestination: bucket does not exist")
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let mut ctx = ctx(&[&create]);
        let err = ctx
            .create_flow_logs(new_flow_log("s3", "arn:aws:s3:::logs-bucket/vpc/", None))
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("does not exist")),
            "{err:?}"
        );
        assert_eq!(create.num_calls(), 1);
    }

    #[tokio::test]
    async fn create_flow_logs_refuses_other_vpcs_and_foreign_destinations() {
        let create = mock!(aws_sdk_ec2::Client::create_flow_logs)
            .then_output(|| CreateFlowLogsOutput::builder().flow_log_ids("fl-9").build());
        let mut ctx = ctx(&[&create]);
        let mut other = new_flow_log("cloud-watch-logs", LOG_GROUP, Some(ROLE));
        other.vpc_id = OTHER_VPC.into();
        assert!(is_denied(&ctx.create_flow_logs(other).await.unwrap_err()));
        let cases = [
            (
                new_flow_log("cloud-watch-logs", LOG_GROUP, None),
                "deliver-logs-permission-arn",
            ),
            (
                new_flow_log(
                    "cloud-watch-logs",
                    LOG_GROUP,
                    Some("arn:aws:iam::999999999999:role/hubfix-flow-logs"),
                ),
                "deliver-logs-permission-arn",
            ),
            (
                new_flow_log(
                    "cloud-watch-logs",
                    "arn:aws:logs:eu-west-1:111111111111:log-group:x",
                    Some(ROLE),
                ),
                "log-destination",
            ),
            (
                new_flow_log("cloud-watch-logs", "hubfix-flow-logs", Some(ROLE)),
                "log-destination",
            ),
            (
                new_flow_log("s3", "arn:aws:s3:::Bad_Bucket", None),
                "log-destination",
            ),
            (
                new_flow_log("s3", "arn:aws:s3:::logs-bucket", Some(ROLE)),
                "deliver-logs-permission-arn",
            ),
            (
                new_flow_log("kinesis-data-firehose", "arn:aws:firehose:x", None),
                "log-destination-type",
            ),
        ];
        for (flow_log, field) in cases {
            let err = ctx.create_flow_logs(flow_log).await.unwrap_err();
            assert!(is_invalid(&err, field), "{field}: {err:?}");
        }
        let mut bad_traffic = new_flow_log("s3", "arn:aws:s3:::logs-bucket", None);
        bad_traffic.traffic_type = "reject".into();
        let err = ctx.create_flow_logs(bad_traffic).await.unwrap_err();
        assert!(is_invalid(&err, "traffic-type"), "{err:?}");
        assert_eq!(create.num_calls(), 0);
    }

    #[tokio::test]
    async fn create_flow_logs_in_plan_mode_reaches_no_sdk() {
        let create = mock!(aws_sdk_ec2::Client::create_flow_logs)
            .then_output(|| CreateFlowLogsOutput::builder().flow_log_ids("fl-9").build());
        let mut ctx = ctx_in(&[&create], Mode::Plan);
        let id = ctx
            .create_flow_logs(new_flow_log("s3", "arn:aws:s3:::logs-bucket", None))
            .await
            .unwrap();
        assert_eq!(id, "");
        assert_eq!(create.num_calls(), 0);
        assert_eq!(ctx.into_trail().calls[0].result, CallResult::Planned);
    }

    #[tokio::test]
    async fn instances_map_state_and_metadata_options_and_missing_ones_are_not_found() {
        let describe = mock!(aws_sdk_ec2::Client::describe_instances)
            .match_requests(|r| r.instance_ids() == [INSTANCE])
            .then_output(|| {
                DescribeInstancesOutput::builder()
                    .reservations(
                        sdk::Reservation::builder()
                            .instances(
                                sdk::Instance::builder()
                                    .instance_id(INSTANCE)
                                    .state(
                                        sdk::InstanceState::builder()
                                            .name(sdk::InstanceStateName::Running)
                                            .build(),
                                    )
                                    .metadata_options(
                                        sdk::InstanceMetadataOptionsResponse::builder()
                                            .http_tokens(sdk::HttpTokensState::Optional)
                                            .http_endpoint(
                                                sdk::InstanceMetadataEndpointState::Enabled,
                                            )
                                            .http_put_response_hop_limit(2)
                                            .build(),
                                    )
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let missing = mock!(aws_sdk_ec2::Client::describe_instances)
            .match_requests(|r| r.instance_ids() == [OTHER_INSTANCE])
            .then_error(|| {
                DescribeInstancesError::generic(
                    ErrorMetadata::builder()
                        .code("InvalidInstanceID.NotFound")
                        .message("The instance ID does not exist")
                        .build(),
                )
            });
        let mut ctx = ctx(&[&describe, &missing]);
        let instances = ctx.describe_instances(vec![INSTANCE.into()]).await.unwrap();
        assert_eq!(
            instances,
            [Instance {
                instance_id: INSTANCE.into(),
                state: "running".into(),
                http_tokens: "optional".into(),
                http_endpoint: "enabled".into(),
                http_put_response_hop_limit: Some(2),
            }]
        );
        // Reads may name any instance of the account; a missing one is `not-found`.
        let err = ctx
            .describe_instances(vec![OTHER_INSTANCE.into()])
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(ref m)) if m.starts_with("DescribeInstances: InvalidInstanceID.NotFound")),
            "{err:?}"
        );
        for ids in [
            vec![],
            vec!["i-123".to_owned()],
            vec![INSTANCE.to_owned(); 201],
        ] {
            let err = ctx.describe_instances(ids).await.unwrap_err();
            assert!(is_invalid(&err, "instance-ids"), "{err:?}");
        }
        assert_eq!((describe.num_calls(), missing.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn metadata_options_send_tokens_and_the_hop_limit_only_when_given() {
        let modify = mock!(aws_sdk_ec2::Client::modify_instance_metadata_options)
            .match_requests(|r| {
                r.instance_id() == Some(INSTANCE)
                    && r.http_tokens() == Some(&sdk::HttpTokensState::Required)
                    && r.http_put_response_hop_limit().is_none()
                    && r.http_endpoint().is_none()
            })
            .then_output(|| ModifyInstanceMetadataOptionsOutput::builder().build());
        let with_limit = mock!(aws_sdk_ec2::Client::modify_instance_metadata_options)
            .match_requests(|r| r.http_put_response_hop_limit() == Some(3))
            .then_output(|| ModifyInstanceMetadataOptionsOutput::builder().build());
        let mut ctx = ctx(&[&with_limit, &modify]);
        ctx.modify_instance_metadata_options(INSTANCE.into(), "required".into(), None)
            .await
            .unwrap();
        ctx.modify_instance_metadata_options(INSTANCE.into(), "required".into(), Some(3))
            .await
            .unwrap();
        assert_eq!((modify.num_calls(), with_limit.num_calls()), (1, 1));

        let err = ctx
            .modify_instance_metadata_options(OTHER_INSTANCE.into(), "required".into(), None)
            .await
            .unwrap_err();
        assert!(is_denied(&err), "{err:?}");
        for (tokens, limit, field) in [
            ("REQUIRED", None, "http-tokens"),
            ("required", Some(0), "hop-limit"),
            ("required", Some(65), "hop-limit"),
        ] {
            let err = ctx
                .modify_instance_metadata_options(INSTANCE.into(), tokens.into(), limit)
                .await
                .unwrap_err();
            assert!(is_invalid(&err, field), "{field}: {err:?}");
        }
        assert_eq!((modify.num_calls(), with_limit.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn network_acls_map_every_entry() {
        let describe = mock!(aws_sdk_ec2::Client::describe_network_acls)
            .match_requests(|r| r.network_acl_ids() == [ACL])
            .then_output(|| {
                DescribeNetworkAclsOutput::builder()
                    .network_acls(
                        sdk::NetworkAcl::builder()
                            .network_acl_id(ACL)
                            .vpc_id(VPC)
                            .is_default(true)
                            .entries(
                                sdk::NetworkAclEntry::builder()
                                    .rule_number(100)
                                    .protocol("6")
                                    .rule_action(sdk::RuleAction::Allow)
                                    .egress(false)
                                    .cidr_block("0.0.0.0/0")
                                    .port_range(sdk::PortRange::builder().from(0).to(1024).build())
                                    .build(),
                            )
                            .entries(
                                sdk::NetworkAclEntry::builder()
                                    .rule_number(32767)
                                    .protocol("-1")
                                    .rule_action(sdk::RuleAction::Deny)
                                    .egress(true)
                                    .ipv6_cidr_block("::/0")
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let mut ctx = ctx(&[&describe]);
        let acls = ctx.describe_network_acls(vec![ACL.into()]).await.unwrap();
        let entry = |rule_number, protocol: &str, action: &str, egress| NetworkAclEntry {
            rule_number,
            protocol: protocol.into(),
            rule_action: action.into(),
            egress,
            cidr_block: None,
            ipv6_cidr_block: None,
            from_port: None,
            to_port: None,
            icmp_type: None,
            icmp_code: None,
        };
        let mut allow = entry(100, "6", "allow", false);
        allow.cidr_block = Some("0.0.0.0/0".into());
        (allow.from_port, allow.to_port) = (Some(0), Some(1024));
        let mut deny = entry(32767, "-1", "deny", true);
        deny.ipv6_cidr_block = Some("::/0".into());
        assert_eq!(
            acls,
            [NetworkAcl {
                network_acl_id: ACL.into(),
                vpc_id: VPC.into(),
                is_default: true,
                entries: vec![allow, deny],
            }]
        );
    }

    fn deny_ssh(rule_number: i32) -> NetworkAclEntry {
        NetworkAclEntry {
            rule_number,
            protocol: "6".into(),
            rule_action: "deny".into(),
            egress: false,
            cidr_block: Some("0.0.0.0/0".into()),
            ipv6_cidr_block: None,
            from_port: Some(22),
            to_port: Some(22),
            icmp_type: None,
            icmp_code: None,
        }
    }

    #[tokio::test]
    async fn acl_entries_reach_the_sdk_as_given() {
        let create = mock!(aws_sdk_ec2::Client::create_network_acl_entry)
            .match_requests(|r| {
                r.network_acl_id() == Some(ACL)
                    && r.rule_number() == Some(99)
                    && r.protocol() == Some("6")
                    && r.rule_action() == Some(&sdk::RuleAction::Deny)
                    && r.egress() == Some(false)
                    && r.cidr_block() == Some("0.0.0.0/0")
                    && r.ipv6_cidr_block().is_none()
                    && r.port_range()
                        .is_some_and(|p| (p.from, p.to) == (Some(22), Some(22)))
                    && r.icmp_type_code().is_none()
            })
            .then_output(|| CreateNetworkAclEntryOutput::builder().build());
        let replace_missing = mock!(aws_sdk_ec2::Client::replace_network_acl_entry)
            .match_requests(|r| r.rule_number() == Some(98) && r.protocol() == Some("-1"))
            .then_error(|| {
                ReplaceNetworkAclEntryError::generic(
                    ErrorMetadata::builder()
                        .code("InvalidNetworkAclEntry.NotFound")
                        .message("The network acl entry identified by 98 does not exist.")
                        .build(),
                )
            });
        let delete = mock!(aws_sdk_ec2::Client::delete_network_acl_entry)
            .match_requests(|r| {
                r.network_acl_id() == Some(ACL)
                    && r.rule_number() == Some(97)
                    && r.egress() == Some(true)
            })
            .then_output(|| DeleteNetworkAclEntryOutput::builder().build());
        let mut ctx = ctx(&[&create, &replace_missing, &delete]);
        ctx.create_network_acl_entry(ACL.into(), deny_ssh(99))
            .await
            .unwrap();
        let mut all = deny_ssh(98);
        all.protocol = "-1".into();
        (all.from_port, all.to_port) = (None, None);
        let err = ctx
            .replace_network_acl_entry(ACL.into(), all)
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(_))),
            "{err:?}"
        );
        ctx.delete_network_acl_entry(ACL.into(), 97, true)
            .await
            .unwrap();
        assert_eq!(
            (
                create.num_calls(),
                replace_missing.num_calls(),
                delete.num_calls()
            ),
            (1, 1, 1)
        );
    }

    #[tokio::test]
    async fn acl_entries_out_of_scope_or_malformed_never_reach_the_sdk() {
        let create = mock!(aws_sdk_ec2::Client::create_network_acl_entry)
            .then_output(|| CreateNetworkAclEntryOutput::builder().build());
        let replace = mock!(aws_sdk_ec2::Client::replace_network_acl_entry)
            .then_output(|| aws_sdk_ec2::operation::replace_network_acl_entry::ReplaceNetworkAclEntryOutput::builder().build());
        let delete = mock!(aws_sdk_ec2::Client::delete_network_acl_entry)
            .then_output(|| DeleteNetworkAclEntryOutput::builder().build());
        let mut ctx = ctx(&[&create, &replace, &delete]);
        assert!(is_denied(
            &ctx.create_network_acl_entry(OTHER_ACL.into(), deny_ssh(99))
                .await
                .unwrap_err()
        ));
        assert!(is_denied(
            &ctx.replace_network_acl_entry(OTHER_ACL.into(), deny_ssh(99))
                .await
                .unwrap_err()
        ));
        assert!(is_denied(
            &ctx.delete_network_acl_entry(OTHER_ACL.into(), 99, false)
                .await
                .unwrap_err()
        ));
        let mut cases: Vec<(NetworkAclEntry, &str)> = Vec::new();
        for n in [0, 32767, -5] {
            cases.push((deny_ssh(n), "rule-number"));
        }
        let mut e = deny_ssh(1);
        e.protocol = "tcp".into();
        cases.push((e, "entry.protocol"));
        let mut e = deny_ssh(1);
        e.rule_action = "block".into();
        cases.push((e, "entry.rule-action"));
        let mut e = deny_ssh(1);
        e.ipv6_cidr_block = Some("::/0".into());
        cases.push((e, "entry.cidr-block"));
        let mut e = deny_ssh(1);
        e.cidr_block = Some("300.0.0.0/0".into());
        cases.push((e, "entry.cidr-block"));
        let mut e = deny_ssh(1);
        e.to_port = Some(65536);
        cases.push((e, "entry.from-port"));
        let mut e = deny_ssh(1);
        e.to_port = None;
        cases.push((e, "entry.from-port"));
        let mut e = deny_ssh(1);
        e.protocol = "-1".into();
        cases.push((e, "entry.from-port"));
        let mut e = deny_ssh(1);
        e.protocol = "1".into();
        (e.from_port, e.to_port) = (None, None);
        cases.push((e, "entry.icmp-type"));
        for (entry, field) in cases {
            let err = ctx
                .create_network_acl_entry(ACL.into(), entry.clone())
                .await
                .unwrap_err();
            assert!(is_invalid(&err, field), "{field}: {err:?}");
            let err = ctx
                .replace_network_acl_entry(ACL.into(), entry)
                .await
                .unwrap_err();
            assert!(is_invalid(&err, field), "{field}: {err:?}");
        }
        let err = ctx
            .delete_network_acl_entry("acl-1".into(), 99, false)
            .await
            .unwrap_err();
        assert!(is_invalid(&err, "network-acl-id"), "{err:?}");
        let err = ctx
            .delete_network_acl_entry(ACL.into(), 32767, false)
            .await
            .unwrap_err();
        assert!(is_invalid(&err, "rule-number"), "{err:?}");
        assert_eq!(
            (create.num_calls(), replace.num_calls(), delete.num_calls()),
            (0, 0, 0)
        );
    }

    #[test]
    fn ids_and_cidrs() {
        assert!(is_ec2_id("sg-0123abcd", "sg-"));
        assert!(is_ec2_id("vpc-0123456789abcdef0", "vpc-"));
        for bad in [
            "sg-0123ABCD",
            "sg-0123abc",
            "sg-",
            "vpc-0123abcd",
            "sg-0123abcdx",
            "sg-0123456789abcdef",
        ] {
            assert!(!is_ec2_id(bad, "sg-"), "{bad}");
        }
        assert!(is_ipv4_cidr("0.0.0.0/0") && is_ipv4_cidr("10.1.2.0/24"));
        assert!(!is_ipv4_cidr("10.0.0.0") && !is_ipv4_cidr("10.0.0.0/+8") && !is_ipv4_cidr("::/0"));
        assert!(is_ipv6_cidr("::/0") && is_ipv6_cidr("2001:db8::/32"));
        assert!(!is_ipv6_cidr("0.0.0.0/0") && !is_ipv6_cidr("::/0129"));
    }
}
