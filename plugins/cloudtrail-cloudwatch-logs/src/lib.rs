//! `cloudtrail-cloudwatch-logs`: delivers the finding's trail to CloudWatch Logs
//! (Security Hub CloudTrail.5; CIS AWS Foundations 1.2.0 2.4, 1.4.0 3.4).
//!
//! The finding names the trail (`AwsCloudTrailTrail`, by ARN). A trail that already has a
//! CloudWatch Logs log group passes (wherever it delivers). Otherwise the plugin makes,
//! each only when missing:
//!
//! - the log group `<name-prefix><trail>` (`logs.create-log-group`), with the retention
//!   period of the `retention-days` parameter when one is given (when it creates the group);
//! - the delivery role of the same name (`<name-prefix>` and the trail name, shortened
//!   with a hash to IAM's 64 characters), trusted by `cloudtrail.amazonaws.com` for this
//!   trail only (`aws:SourceArn`, `aws:SourceAccount`), with an inline policy that allows
//!   `logs:CreateLogStream` and `logs:PutLogEvents` on that log group's streams only;
//!
//! then points the trail at them (`cloudtrail.update-trail`, which passes the role to
//! CloudTrail). A role IAM has not propagated yet is retried a few times.
//!
//! Skipped, with the reason: a finding that names no trail, a trail that no longer exists
//! (not found), an organization trail of another account, a trail whose home region is
//! not the finding's. CloudWatch Logs ingestion and storage are billed.
//!
//! Parameters: `name-prefix` (default `hubfix-cloudtrail-`; it must start with the host's
//! create prefix), `retention-days` (optional; one of CloudWatch Logs' periods, e.g. 365).

use std::time::Duration;

use hubfix_plugin_sdk::cloudtrail::{self, Trail, TrailUpdate};
use hubfix_plugin_sdk::trail::{changeable, finding_trail};
use hubfix_plugin_sdk::{
    AwsError, Finding, Guest, Mode, Outcome, ParamError, Params, PluginInfo, Request, iam, log,
    logs,
};
use serde_json::json;

const NAME: &str = "cloudtrail-cloudwatch-logs";
const CONTROLS: &[&str] = &["CloudTrail.5"];
const GET_TRAIL: &str = "cloudtrail.get-trail";
const UPDATE_TRAIL: &str = "cloudtrail.update-trail";
const DESCRIBE_LOG_GROUPS: &str = "logs.describe-log-groups";
const CREATE_LOG_GROUP: &str = "logs.create-log-group";
const PUT_RETENTION: &str = "logs.put-retention-policy";
const GET_ROLE: &str = "iam.get-role";
const CREATE_ROLE: &str = "iam.create-role";
const PUT_ROLE_POLICY: &str = "iam.put-role-policy";

const NAME_PREFIX: &str = "name-prefix";
const RETENTION_DAYS: &str = "retention-days";
const DEFAULT_PREFIX: &str = "hubfix-cloudtrail-";
/// The delivery role's inline policy.
const POLICY_NAME: &str = "hubfix-cloudtrail-delivery";
/// IAM's longest role name.
const MAX_ROLE_NAME: usize = 64;
/// Attempts of UpdateTrail while IAM propagates a role created just now, and the pause
/// between them (within the host's deadline).
const ATTEMPTS: u32 = 4;
const PAUSE: Duration = Duration::from_secs(3);

/// The retention periods CloudWatch Logs accepts, in days.
const PERIODS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

struct CloudWatchLogs;

impl Guest for CloudWatchLogs {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[
                GET_TRAIL,
                UPDATE_TRAIL,
                DESCRIBE_LOG_GROUPS,
                CREATE_LOG_GROUP,
                PUT_RETENTION,
                GET_ROLE,
                CREATE_ROLE,
                PUT_ROLE_POLICY,
            ],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let settings = match Settings::from_params(&request.params) {
            Ok(s) => s,
            Err(e) => return e.to_outcome(),
        };
        let finding = &request.finding;
        let arn = match finding_trail(finding) {
            Ok(arn) => arn,
            Err(skipped) => return skipped,
        };
        let trail = match cloudtrail::get_trail(arn) {
            Ok(trail) => trail,
            Err(AwsError::NotFound(_)) => return not_found(arn),
            Err(e) => return e.to_outcome(GET_TRAIL),
        };
        if let Some(done) = decide(&trail, finding) {
            return done;
        }
        let place = Place::of(finding);
        let names = Names::of(&settings.prefix, &trail.name);
        let mut done = Vec::new();
        let with_done = |outcome: Outcome, done: &[String]| {
            let mut outcome = outcome;
            if !done.is_empty() {
                outcome
                    .message
                    .push_str(&format!("; already done: {}", done.join(", ")));
            }
            outcome
        };
        let mode = request.mode;

        // The log group.
        let groups = match logs::describe_log_groups(&names.group) {
            Ok(groups) => groups,
            Err(e) => return e.to_outcome(DESCRIBE_LOG_GROUPS),
        };
        if !groups.iter().any(|g| g.name == names.group) {
            if let Err(e) = logs::create_log_group(&names.group) {
                return e.to_outcome(CREATE_LOG_GROUP);
            }
            done.push(format!(
                "{} log group {}",
                mode.verb("created", "would create"),
                names.group
            ));
            if let Some(days) = settings.retention_days {
                if let Err(e) = logs::put_retention_policy(&names.group, days) {
                    return with_done(e.to_outcome(PUT_RETENTION), &done);
                }
                done.push(format!(
                    "{} its retention to {days} days",
                    mode.verb("set", "would set")
                ));
            }
        }

        // The delivery role.
        let role_created = match iam::get_role(&names.role) {
            Ok(_) => false,
            Err(AwsError::NotFound(_)) => {
                let description = format!(
                    "hubfix: CloudTrail delivers trail {} to log group {}",
                    trail.name, names.group
                );
                if let Err(e) = iam::create_role(
                    &names.role,
                    &trust_policy(&place, &trail.trail_arn),
                    &description,
                ) {
                    return with_done(e.to_outcome(CREATE_ROLE), &done);
                }
                if let Err(e) = iam::put_role_policy(
                    &names.role,
                    POLICY_NAME,
                    &delivery_policy(&place, &names.group),
                ) {
                    return with_done(e.to_outcome(PUT_ROLE_POLICY), &done);
                }
                done.push(format!(
                    "{} delivery role {}",
                    mode.verb("created", "would create"),
                    names.role
                ));
                true
            }
            Err(e) => return with_done(e.to_outcome(GET_ROLE), &done),
        };

        let update = TrailUpdate {
            enable_log_file_validation: None,
            kms_key_id: None,
            cloud_watch_logs_log_group_arn: Some(place.log_group_arn(&names.group)),
            cloud_watch_logs_role_arn: Some(place.role_arn(&names.role)),
            is_multi_region_trail: None,
            include_global_service_events: None,
        };
        let retry = role_created && mode == Mode::Apply;
        match update_with_retries(arn, &update, retry) {
            Ok(()) => Outcome::remediated(format!(
                "{} trail {} to CloudWatch Logs log group {} through role {}{}; CloudWatch Logs ingestion is billed",
                mode.verb("sent", "would send"),
                trail.name,
                names.group,
                names.role,
                if done.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", done.join(", "))
                }
            )),
            Err(AwsError::NotFound(_)) => with_done(not_found(arn), &done),
            Err(e) => with_done(e.to_outcome(UPDATE_TRAIL), &done),
        }
    }
}

hubfix_plugin_sdk::export!(CloudWatchLogs);

fn not_found(arn: &str) -> Outcome {
    Outcome::skipped(format!("trail {arn} not found; the finding is stale"))
}

/// UpdateTrail; with `retry`, a role CloudTrail cannot assume yet (IAM propagates a new
/// role within seconds) is tried again a few times.
fn update_with_retries(arn: &str, update: &TrailUpdate, retry: bool) -> Result<(), AwsError> {
    let mut attempt = 1;
    loop {
        match cloudtrail::update_trail(arn, update) {
            Ok(_) => return Ok(()),
            Err(e) if retry && attempt < ATTEMPTS && propagating(&e) => {
                log::info!(
                    "attempt {attempt}: the new role is not usable yet ({e:?}); trying again"
                );
                std::thread::sleep(PAUSE);
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether UpdateTrail's error is what CloudTrail answers before IAM has propagated a new
/// role: InvalidCloudWatchLogsRoleArnException or InvalidCloudWatchLogsLogGroupArnException
/// ("Access denied. Verify in IAM that the role has adequate permissions.").
fn propagating(e: &AwsError) -> bool {
    matches!(e, AwsError::InvalidInput(m) if m.contains("InvalidCloudWatchLogs"))
}

/// The outcome when there is nothing to do (already delivering, or not changeable from
/// here); `None` when delivery is to be set up.
fn decide(trail: &Trail, finding: &Finding) -> Option<Outcome> {
    if let Some(group) = &trail.cloud_watch_logs_log_group_arn {
        return Some(Outcome::already_compliant(format!(
            "trail {} already delivers to CloudWatch Logs log group {group}",
            trail.name
        )));
    }
    changeable(trail, finding).err()
}

#[derive(Debug, Clone, PartialEq)]
struct Settings {
    prefix: String,
    retention_days: Option<u32>,
}

impl Settings {
    fn from_params(raw: &[(String, String)]) -> Result<Self, ParamError> {
        let params = Params::new(raw, &[NAME_PREFIX, RETENTION_DAYS])?;
        let prefix = match params.get(NAME_PREFIX).map(str::trim) {
            None => DEFAULT_PREFIX.to_owned(),
            Some(p)
                if (1..=32).contains(&p.len())
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) =>
            {
                p.to_owned()
            }
            Some(p) => {
                return Err(ParamError::invalid_value(
                    NAME_PREFIX,
                    p,
                    "expected 1 to 32 letters, digits, `.`, `_` or `-` (a log group and role name prefix)",
                ));
            }
        };
        let retention_days = params.u32(RETENTION_DAYS)?;
        if let Some(days) = retention_days.filter(|d| !PERIODS.contains(d)) {
            return Err(ParamError::invalid_value(
                RETENTION_DAYS,
                &days.to_string(),
                &format!("expected one of CloudWatch Logs' periods: {PERIODS:?}"),
            ));
        }
        Ok(Self {
            prefix,
            retention_days,
        })
    }
}

/// The log group's and the role's names.
#[derive(Debug, PartialEq)]
struct Names {
    group: String,
    role: String,
}

impl Names {
    fn of(prefix: &str, trail: &str) -> Self {
        let group = format!("{prefix}{trail}");
        let role = if group.len() <= MAX_ROLE_NAME {
            group.clone()
        } else {
            // Distinct trails keep distinct roles: a hash of the whole name at the end.
            let hash = format!("-{:08x}", fnv1a(&group));
            let keep = MAX_ROLE_NAME - hash.len();
            let head: String = group.chars().take(keep).collect();
            format!("{}{hash}", head.trim_end_matches(['-', '.', '_']))
        };
        Self { group, role }
    }
}

/// 32-bit FNV-1a: a short, stable hash for names.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
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
            partition: if finding.partition.is_empty() {
                "aws".to_owned()
            } else {
                finding.partition.clone()
            },
            region: finding.region.clone(),
            account: finding.account_id.clone(),
        }
    }

    fn log_group_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:{name}:*",
            self.partition, self.region, self.account
        )
    }

    fn role_arn(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:role/{name}", self.partition, self.account)
    }
}

/// The delivery role's trust policy: CloudTrail, for this trail only.
fn trust_policy(place: &Place, trail_arn: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "cloudtrail.amazonaws.com" },
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": place.account,
                    "aws:SourceArn": trail_arn
                }
            }
        }]
    })
    .to_string()
}

/// The delivery role's permissions: create streams in and write to the one log group.
fn delivery_policy(place: &Place, group: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CloudTrailToCloudWatchLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!(
                "arn:{}:logs:{}:{}:log-group:{group}:log-stream:*",
                place.partition, place.region, place.account
            )
        }]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use hubfix_plugin_sdk::{Resource, Status};
    use serde_json::Value;

    use super::*;

    const ARN: &str = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/main";

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn finding() -> Finding {
        Finding {
            id: "f".into(),
            control_id: "CloudTrail.5".into(),
            generator_id: "g".into(),
            account_id: "111111111111".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
            title: "t".into(),
            resources: vec![Resource {
                type_: "AwsCloudTrailTrail".into(),
                id: ARN.into(),
                partition: "aws".into(),
                region: "eu-west-1".into(),
                details: None,
            }],
            raw: "{}".into(),
        }
    }

    fn trail(group: Option<&str>) -> Trail {
        Trail {
            name: "main".into(),
            trail_arn: ARN.into(),
            home_region: "eu-west-1".into(),
            s3_bucket_name: Some("logs".into()),
            s3_key_prefix: None,
            is_multi_region_trail: true,
            is_organization_trail: false,
            include_global_service_events: true,
            log_file_validation_enabled: true,
            kms_key_id: None,
            cloud_watch_logs_log_group_arn: group.map(str::to_owned),
            cloud_watch_logs_role_arn: group.map(|_| "arn:aws:iam::111111111111:role/r".to_owned()),
            has_custom_event_selectors: false,
        }
    }

    fn place() -> Place {
        Place::of(&finding())
    }

    #[test]
    fn describes_itself() {
        let info = CloudWatchLogs::describe();
        assert_eq!(info.name, NAME);
        assert_eq!(info.controls, ["CloudTrail.5"]);
        assert_eq!(info.functions.len(), 8);
    }

    #[test]
    fn a_delivering_trail_passes_others_are_set_up_unless_not_changeable() {
        let group = "arn:aws:logs:eu-west-1:111111111111:log-group:central:*";
        let done = decide(&trail(Some(group)), &finding()).unwrap();
        assert_eq!(done.status, Status::AlreadyCompliant);
        assert!(done.message.contains("central"));
        assert!(decide(&trail(None), &finding()).is_none());
        let mut org = trail(None);
        org.is_organization_trail = true;
        org.trail_arn = "arn:aws:cloudtrail:eu-west-1:999999999999:trail/org".into();
        assert_eq!(decide(&org, &finding()).unwrap().status, Status::Skipped);
    }

    #[test]
    fn only_role_propagation_errors_are_retried() {
        assert!(propagating(&AwsError::InvalidInput(
            "cloudtrail.update-trail: InvalidCloudWatchLogsLogGroupArnException: Access denied. Verify in IAM that the role has adequate permissions.".into()
        )));
        assert!(propagating(&AwsError::InvalidInput(
            "InvalidCloudWatchLogsRoleArnException: role".into()
        )));
        assert!(!propagating(&AwsError::InvalidInput(
            "InvalidTrailNameException".into()
        )));
        assert!(!propagating(&AwsError::AccessDenied(
            "InvalidCloudWatchLogsRoleArnException".into()
        )));
    }

    #[test]
    fn parameters() {
        assert_eq!(
            Settings::from_params(&[]).unwrap(),
            Settings {
                prefix: DEFAULT_PREFIX.into(),
                retention_days: None
            }
        );
        let s = Settings::from_params(&raw(&[
            (NAME_PREFIX, "hubfix-ct-"),
            (RETENTION_DAYS, "365"),
        ]))
        .unwrap();
        assert_eq!(
            (s.prefix.as_str(), s.retention_days),
            ("hubfix-ct-", Some(365))
        );
        for (bad, says) in [
            (raw(&[(RETENTION_DAYS, "42")]), "periods"),
            (raw(&[(RETENTION_DAYS, "a year")]), RETENTION_DAYS),
            (raw(&[(NAME_PREFIX, "hubfix ct")]), NAME_PREFIX),
            (raw(&[(NAME_PREFIX, "")]), NAME_PREFIX),
            (raw(&[("bucket", "x")]), "unknown parameter"),
        ] {
            let err = Settings::from_params(&bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    #[test]
    fn names_fit_iam_and_stay_distinct() {
        let short = Names::of(DEFAULT_PREFIX, "main");
        assert_eq!(short.group, "hubfix-cloudtrail-main");
        assert_eq!(short.role, "hubfix-cloudtrail-main");
        let long_a = Names::of(DEFAULT_PREFIX, &format!("{}-a", "x".repeat(60)));
        let long_b = Names::of(DEFAULT_PREFIX, &format!("{}-b", "x".repeat(60)));
        assert_eq!(long_a.role.len(), MAX_ROLE_NAME);
        assert!(long_a.role.starts_with("hubfix-cloudtrail-xxx"));
        assert_ne!(long_a.role, long_b.role);
        assert_eq!(long_a.group.len(), DEFAULT_PREFIX.len() + 62);
        assert_eq!(fnv1a(""), 0x811c_9dc5);
    }

    #[test]
    fn the_role_trusts_cloudtrail_for_this_trail_and_writes_one_group() {
        let trust: Value = serde_json::from_str(&trust_policy(&place(), ARN)).unwrap();
        let s = &trust["Statement"][0];
        assert_eq!(s["Principal"]["Service"], "cloudtrail.amazonaws.com");
        assert_eq!(s["Condition"]["StringEquals"]["aws:SourceArn"], ARN);
        assert_eq!(
            s["Condition"]["StringEquals"]["aws:SourceAccount"],
            "111111111111"
        );
        let policy: Value =
            serde_json::from_str(&delivery_policy(&place(), "hubfix-cloudtrail-main")).unwrap();
        let s = &policy["Statement"][0];
        assert_eq!(
            s["Action"],
            json!(["logs:CreateLogStream", "logs:PutLogEvents"])
        );
        assert_eq!(
            s["Resource"],
            "arn:aws:logs:eu-west-1:111111111111:log-group:hubfix-cloudtrail-main:log-stream:*"
        );
        assert_eq!(
            place().log_group_arn("g"),
            "arn:aws:logs:eu-west-1:111111111111:log-group:g:*"
        );
        assert_eq!(place().role_arn("r"), "arn:aws:iam::111111111111:role/r");
    }
}
