//! `hubfix:plugin/ec2`: EC2 operations in the finding's account and region.

use aws_sdk_ec2::types::Filter;

use hubfix_contract::{HostFunction, function};

use crate::aws::{AwsClients, CallError, PluginCtx, map_sdk_error};
use crate::bindings::ec2::{Host, SecurityGroup, SecurityGroupRule};
use crate::bindings::types::AwsError;

const DESCRIBE_GROUPS: &HostFunction = function("ec2.describe-security-groups");
const DESCRIBE_RULES: &HostFunction = function("ec2.describe-security-group-rules");
const REVOKE_INGRESS: &HostFunction = function("ec2.revoke-security-group-ingress");
const REVOKE_EGRESS: &HostFunction = function("ec2.revoke-security-group-egress");
const GET_EBS_DEFAULT: &HostFunction = function("ec2.get-ebs-encryption-by-default");
const ENABLE_EBS_DEFAULT: &HostFunction = function("ec2.enable-ebs-encryption-by-default");

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
}
