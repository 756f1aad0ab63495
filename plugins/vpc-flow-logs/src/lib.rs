//! `vpc-flow-logs`: turns on flow logging for the finding's VPC (Security Hub EC2.6; CIS
//! AWS Foundations 3.9 in v1.4.0, 3.7 in v3.0).
//!
//! The finding names an `AwsEc2Vpc`. The plugin lists the VPC's flow logs with
//! `ec2.describe-flow-logs`; one that captures `REJECT` or `ALL` traffic already passes the
//! control. Otherwise it creates one (`ec2.create-flow-logs`) of the `traffic-type`
//! parameter (default `REJECT`) to:
//!
//! - CloudWatch Logs (default, `destination = "cloud-watch-logs"`): the log group
//!   `hubfix-flow-logs-<vpc-id>` (created unless it exists) and the delivery role of the
//!   same name (created unless it exists), trusted by `vpc-flow-logs.amazonaws.com` for
//!   this account's flow logs only (`aws:SourceAccount`, `aws:SourceArn`), with an inline
//!   policy that allows writing to that log group only;
//! - S3 (`destination = "s3"`): the bucket named by the `bucket` parameter, which must
//!   exist and let the log delivery service write to it (AWS adds that bucket policy when
//!   the bucket is in the same account and its policy can be changed).
//!
//! Parameters: `traffic-type` (`REJECT` or `ALL`, default `REJECT`), `destination`
//! (`cloud-watch-logs` or `s3`, default `cloud-watch-logs`), `bucket` (for `s3`).

use hubfix_plugin_sdk::ec2::{self, FlowLog, NewFlowLog};
use hubfix_plugin_sdk::{
    AwsError, Finding, Guest, Mode, Outcome, ParamError, Params, PluginInfo, Request, iam, logs,
};
use serde_json::json;

const NAME: &str = "vpc-flow-logs";
const CONTROLS: &[&str] = &["EC2.6"];
const DESCRIBE_FLOW_LOGS: &str = "ec2.describe-flow-logs";
const CREATE_FLOW_LOGS: &str = "ec2.create-flow-logs";
const DESCRIBE_LOG_GROUPS: &str = "logs.describe-log-groups";
const CREATE_LOG_GROUP: &str = "logs.create-log-group";
const GET_ROLE: &str = "iam.get-role";
const CREATE_ROLE: &str = "iam.create-role";
const PUT_ROLE_POLICY: &str = "iam.put-role-policy";
const VPC: &str = "AwsEc2Vpc";

const TRAFFIC_TYPE: &str = "traffic-type";
const DESTINATION: &str = "destination";
const BUCKET: &str = "bucket";
/// The name of the log group and of the role, before the VPC id.
const NAME_PREFIX: &str = "hubfix-flow-logs-";
/// The delivery role's inline policy.
const POLICY_NAME: &str = "hubfix-flow-logs-delivery";

struct VpcFlowLogs;

impl Guest for VpcFlowLogs {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[
                DESCRIBE_FLOW_LOGS,
                CREATE_FLOW_LOGS,
                DESCRIBE_LOG_GROUPS,
                CREATE_LOG_GROUP,
                GET_ROLE,
                CREATE_ROLE,
                PUT_ROLE_POLICY,
            ],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let settings = match Settings::from_params(&request.params) {
            Ok(settings) => settings,
            Err(e) => return e.to_outcome(),
        };
        let Some(vpc) = request.finding.resource_short_id(VPC) else {
            return Outcome::skipped(format!(
                "the finding names no {VPC} resource; nothing to log"
            ));
        };
        let existing = match ec2::describe_flow_logs(vpc) {
            Ok(logs) => logs,
            Err(AwsError::NotFound(_)) => {
                return Outcome::skipped(format!("VPC {vpc} not found; the finding is stale"));
            }
            Err(e) => return e.to_outcome(DESCRIBE_FLOW_LOGS),
        };
        if let Some(log) = compliant(&existing) {
            return Outcome::already_compliant(format!(
                "VPC {vpc} already has flow log {} capturing {} traffic",
                log.flow_log_id, log.traffic_type
            ));
        }
        let place = Place::of(&request.finding);
        let (new, prepared) = match &settings.destination {
            Destination::S3 { bucket } => (
                NewFlowLog {
                    vpc_id: vpc.to_owned(),
                    traffic_type: settings.traffic_type.clone(),
                    log_destination_type: "s3".into(),
                    log_destination: format!("arn:{}:s3:::{bucket}", place.partition),
                    deliver_logs_permission_arn: None,
                },
                Vec::new(),
            ),
            Destination::CloudWatchLogs => {
                match prepare_cloud_watch(request.mode, &place, vpc, &settings.traffic_type) {
                    Ok(prepared) => prepared,
                    Err(outcome) => return outcome,
                }
            }
        };
        match ec2::create_flow_logs(&new) {
            Err(AwsError::NotFound(m)) => {
                Outcome::skipped(format!("VPC {vpc} not found ({m}); the finding is stale"))
            }
            Err(e) => {
                let mut outcome = e.to_outcome(CREATE_FLOW_LOGS);
                if !prepared.is_empty() {
                    outcome
                        .message
                        .push_str(&format!("; already done: {}", prepared.join(", ")));
                }
                outcome
            }
            Ok(id) => Outcome::remediated(created_message(request.mode, vpc, &id, &new, &prepared)),
        }
    }
}

hubfix_plugin_sdk::export!(VpcFlowLogs);

/// Where the flow log goes.
#[derive(Debug, Clone, PartialEq)]
enum Destination {
    CloudWatchLogs,
    S3 { bucket: String },
}

#[derive(Debug, Clone, PartialEq)]
struct Settings {
    traffic_type: String,
    destination: Destination,
}

impl Settings {
    fn from_params(raw: &[(String, String)]) -> Result<Self, ParamError> {
        let params = Params::new(raw, &[TRAFFIC_TYPE, DESTINATION, BUCKET])?;
        let traffic_type = match params.get(TRAFFIC_TYPE).map(str::trim) {
            None => "REJECT".to_owned(),
            Some(t) if t.eq_ignore_ascii_case("REJECT") || t.eq_ignore_ascii_case("ALL") => {
                t.to_ascii_uppercase()
            }
            Some(t) => {
                return Err(ParamError::invalid_value(
                    TRAFFIC_TYPE,
                    t,
                    "expected REJECT or ALL (EC2.6 needs rejected traffic logged)",
                ));
            }
        };
        let bucket = params.get(BUCKET).map(str::trim);
        let destination = match params.get(DESTINATION).map(str::trim) {
            None | Some("cloud-watch-logs") => {
                if let Some(b) = bucket {
                    return Err(ParamError::invalid_value(
                        BUCKET,
                        b,
                        "a bucket is only for `destination = \"s3\"`",
                    ));
                }
                Destination::CloudWatchLogs
            }
            Some("s3") => match bucket {
                Some(b) if valid_bucket(b) => Destination::S3 {
                    bucket: b.to_owned(),
                },
                Some(b) => {
                    return Err(ParamError::invalid_value(
                        BUCKET,
                        b,
                        "expected an S3 bucket name (3 to 63 of a-z, 0-9, `.` and `-`)",
                    ));
                }
                None => {
                    return Err(ParamError::invalid_value(
                        DESTINATION,
                        "s3",
                        "needs the `bucket` parameter",
                    ));
                }
            },
            Some(d) => {
                return Err(ParamError::invalid_value(
                    DESTINATION,
                    d,
                    "expected cloud-watch-logs or s3",
                ));
            }
        };
        Ok(Self {
            traffic_type,
            destination,
        })
    }
}

fn valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !name.starts_with(['.', '-'])
        && !name.ends_with(['.', '-'])
}

/// A flow log that already satisfies the control: it captures rejected traffic.
fn compliant(logs: &[FlowLog]) -> Option<&FlowLog> {
    logs.iter()
        .find(|l| l.traffic_type == "REJECT" || l.traffic_type == "ALL")
}

/// The finding's partition, region and account: where every ARN points.
struct Place {
    partition: String,
    region: String,
    account: String,
}

impl Place {
    fn of(finding: &Finding) -> Self {
        Self {
            partition: finding.partition.clone(),
            region: finding.region.clone(),
            account: finding.account_id.clone(),
        }
    }

    fn log_group_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:{name}",
            self.partition, self.region, self.account
        )
    }

    fn role_arn(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:role/{name}", self.partition, self.account)
    }
}

/// The delivery role's trust policy: the flow logs service, for this account's flow logs.
fn trust_policy(place: &Place) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "vpc-flow-logs.amazonaws.com" },
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": { "aws:SourceAccount": place.account },
                "ArnLike": {
                    "aws:SourceArn": format!(
                        "arn:{}:ec2:{}:{}:vpc-flow-log/*",
                        place.partition, place.region, place.account
                    )
                }
            }
        }]
    })
    .to_string()
}

/// The delivery role's permissions: write to the one log group.
fn delivery_policy(place: &Place, group: &str) -> String {
    let arn = place.log_group_arn(group);
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams"
            ],
            "Resource": [arn.clone(), format!("{arn}:*")]
        }]
    })
    .to_string()
}

/// The log group and the role a CloudWatch Logs flow log needs (made when missing), and
/// the flow log to create; the `Vec` says what was made.
fn prepare_cloud_watch(
    mode: Mode,
    place: &Place,
    vpc: &str,
    traffic_type: &str,
) -> Result<(NewFlowLog, Vec<String>), Outcome> {
    let name = format!("{NAME_PREFIX}{vpc}");
    let mut done = Vec::new();
    let failed = |outcome: Outcome, done: &[String]| {
        let mut outcome = outcome;
        if !done.is_empty() {
            outcome
                .message
                .push_str(&format!("; already done: {}", done.join(", ")));
        }
        outcome
    };

    let groups = logs::describe_log_groups(&name).map_err(|e| e.to_outcome(DESCRIBE_LOG_GROUPS))?;
    if !groups.iter().any(|g| g.name == name) {
        logs::create_log_group(&name).map_err(|e| e.to_outcome(CREATE_LOG_GROUP))?;
        done.push(format!(
            "{} log group {name}",
            mode.verb("created", "would create")
        ));
    }

    let role_exists = match iam::get_role(&name) {
        Ok(_) => true,
        Err(AwsError::NotFound(_)) => false,
        Err(e) => return Err(failed(e.to_outcome(GET_ROLE), &done)),
    };
    if !role_exists {
        let description = format!("hubfix: delivers the flow logs of {vpc} to log group {name}");
        iam::create_role(&name, &trust_policy(place), &description)
            .map_err(|e| failed(e.to_outcome(CREATE_ROLE), &done))?;
        iam::put_role_policy(&name, POLICY_NAME, &delivery_policy(place, &name))
            .map_err(|e| failed(e.to_outcome(PUT_ROLE_POLICY), &done))?;
        done.push(format!(
            "{} delivery role {name}",
            mode.verb("created", "would create")
        ));
    }
    Ok((
        NewFlowLog {
            vpc_id: vpc.to_owned(),
            traffic_type: traffic_type.to_owned(),
            log_destination_type: "cloud-watch-logs".into(),
            log_destination: place.log_group_arn(&name),
            // Known before the role exists (plan mode creates nothing).
            deliver_logs_permission_arn: Some(place.role_arn(&name)),
        },
        done,
    ))
}

fn created_message(
    mode: Mode,
    vpc: &str,
    id: &str,
    new: &NewFlowLog,
    prepared: &[String],
) -> String {
    let id = if id.is_empty() {
        String::new()
    } else {
        format!(" {id}")
    };
    let mut message = format!(
        "{} flow log{id} on VPC {vpc} capturing {} traffic to {} {}",
        mode.verb("created", "would create"),
        new.traffic_type,
        new.log_destination_type,
        new.log_destination
    );
    if !prepared.is_empty() {
        message.push_str(&format!(" ({})", prepared.join(", ")));
    }
    message.push_str("; flow logs add CloudWatch Logs or S3 cost");
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn flow_log(traffic: &str) -> FlowLog {
        FlowLog {
            flow_log_id: "fl-1".into(),
            resource_id: "vpc-1".into(),
            traffic_type: traffic.into(),
            log_destination_type: "s3".into(),
            log_destination: Some("arn:aws:s3:::b".into()),
            log_group_name: None,
            deliver_logs_permission_arn: None,
            flow_log_status: "ACTIVE".into(),
        }
    }

    fn place() -> Place {
        Place {
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account: "111111111111".into(),
        }
    }

    #[test]
    fn describes_itself() {
        let info = VpcFlowLogs::describe();
        assert_eq!(info.name, "vpc-flow-logs");
        assert_eq!(info.controls, ["EC2.6"]);
        assert!(info.functions.contains(&"ec2.create-flow-logs".to_owned()));
        assert_eq!(info.functions.len(), 7);
    }

    #[test]
    fn reject_or_all_traffic_is_compliant_accept_is_not() {
        assert!(compliant(&[]).is_none());
        assert!(compliant(&[flow_log("ACCEPT")]).is_none());
        assert_eq!(
            compliant(&[flow_log("ACCEPT"), flow_log("ALL")]).map(|l| l.traffic_type.as_str()),
            Some("ALL")
        );
        assert!(compliant(&[flow_log("REJECT")]).is_some());
    }

    #[test]
    fn parameters_default_to_rejected_traffic_in_cloud_watch_logs() {
        assert_eq!(
            Settings::from_params(&[]).unwrap(),
            Settings {
                traffic_type: "REJECT".into(),
                destination: Destination::CloudWatchLogs
            }
        );
        assert_eq!(
            Settings::from_params(&raw(&[
                ("traffic-type", "all"),
                ("destination", "s3"),
                ("bucket", "org-flow-logs")
            ]))
            .unwrap(),
            Settings {
                traffic_type: "ALL".into(),
                destination: Destination::S3 {
                    bucket: "org-flow-logs".into()
                }
            }
        );
        for (bad, says) in [
            (raw(&[("traffic-type", "ACCEPT")]), "REJECT or ALL"),
            (raw(&[("destination", "s3")]), "needs the `bucket`"),
            (
                raw(&[("destination", "s3"), ("bucket", "Bad_Bucket")]),
                "bucket name",
            ),
            (raw(&[("bucket", "org-flow-logs")]), "only for"),
            (
                raw(&[("destination", "firehose")]),
                "cloud-watch-logs or s3",
            ),
            (raw(&[("retention", "7")]), "unknown parameter"),
        ] {
            let err = Settings::from_params(&bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    #[test]
    fn the_role_trusts_only_this_accounts_flow_logs_and_writes_one_group() {
        let trust: serde_json::Value = serde_json::from_str(&trust_policy(&place())).unwrap();
        let statement = &trust["Statement"][0];
        assert_eq!(
            statement["Principal"]["Service"],
            "vpc-flow-logs.amazonaws.com"
        );
        assert_eq!(
            statement["Condition"]["StringEquals"]["aws:SourceAccount"],
            "111111111111"
        );
        assert_eq!(
            statement["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:ec2:eu-west-1:111111111111:vpc-flow-log/*"
        );
        let policy: serde_json::Value =
            serde_json::from_str(&delivery_policy(&place(), "hubfix-flow-logs-vpc-1")).unwrap();
        assert_eq!(
            policy["Statement"][0]["Resource"],
            json!([
                "arn:aws:logs:eu-west-1:111111111111:log-group:hubfix-flow-logs-vpc-1",
                "arn:aws:logs:eu-west-1:111111111111:log-group:hubfix-flow-logs-vpc-1:*"
            ])
        );
        assert_eq!(
            policy["Statement"][0]["Action"].as_array().unwrap().len(),
            4
        );
    }

    #[test]
    fn messages_say_what_was_made() {
        let new = NewFlowLog {
            vpc_id: "vpc-1".into(),
            traffic_type: "REJECT".into(),
            log_destination_type: "s3".into(),
            log_destination: "arn:aws:s3:::b".into(),
            deliver_logs_permission_arn: None,
        };
        assert_eq!(
            created_message(Mode::Plan, "vpc-1", "", &new, &[]),
            "would create flow log on VPC vpc-1 capturing REJECT traffic to s3 arn:aws:s3:::b; \
             flow logs add CloudWatch Logs or S3 cost"
        );
        assert!(
            created_message(Mode::Apply, "vpc-1", "fl-9", &new, &["created log group g".into()])
                .starts_with("created flow log fl-9 on VPC vpc-1 capturing REJECT traffic to s3 arn:aws:s3:::b (created log group g)")
        );
        assert_eq!(place().role_arn("r"), "arn:aws:iam::111111111111:role/r");
    }
}
