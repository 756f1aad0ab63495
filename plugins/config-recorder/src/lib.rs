//! `config-recorder`: turns AWS Config on in the finding's account and region (Security Hub
//! Config.1; CIS AWS Foundations 1.2.0 2.5, 1.4.0 3.5, 3.0.0 3.3).
//!
//! The finding names the account (`AwsAccount`). Config.1 passes when a configuration
//! recorder records all supported resource types (and, in the Region that aggregates
//! findings, the global IAM types), uses Config's service-linked role
//! `AWSServiceRoleForConfig`, and is recording. The plugin reads the region's recorder, its
//! status and the delivery channel, then makes the fewest changes that get there:
//!
//! 1. the recorder (`config.put-configuration-recorder`), unless it already uses the
//!    service-linked role and records all supported types (with the global ones where
//!    wanted): an existing recorder keeps its name and is fixed in place; a missing one is
//!    created as `default`. Before, the role is looked up (`iam.get-role`) and, when the
//!    account does not have it yet, created (`iam.create-service-linked-role` for
//!    `config.amazonaws.com`);
//! 2. the delivery channel (`config.put-delivery-channel`), only when the region has none
//!    (an existing channel is kept as it is): to the bucket of the `bucket` parameter,
//!    which must exist and already let Config write to it; or else to the plugin's own
//!    bucket `hubfix-config-<account>-<region>`, created (or reused) with AWS's documented
//!    bucket policy for Config (`GetBucketAcl` and `ListBucket` on the bucket, `PutObject`
//!    under `[prefix/]AWSLogs/<account>/Config/`, each for this account only), all four
//!    Block Public Access settings and SSE-S3 default encryption;
//! 3. recording (`config.start-configuration-recorder`), when the recorder is stopped.
//!
//! Parameters (all optional): `bucket` (the delivery bucket), `key-prefix` (the
//! channel's S3 key prefix), `global-resource-types-region` (record the global IAM types
//! only in this region, the one Security Hub aggregates in; by default they are recorded
//! in every region, which Config.1 always accepts but which records IAM once per region).
//!
//! AWS Config bills per configuration item recorded.

use hubfix_plugin_sdk::bucket::{self, Prepared};
use hubfix_plugin_sdk::config::{
    self, ConfigurationRecorder, DeliveryChannel, RecorderStatus, RecordingGroup,
};
use hubfix_plugin_sdk::s3::BucketEncryption;
use hubfix_plugin_sdk::{
    AwsError, Finding, Guest, Mode, Outcome, ParamError, Params, PluginInfo, Request, iam,
};
use serde_json::{Value, json};

const NAME: &str = "config-recorder";
const CONTROLS: &[&str] = &["Config.1"];
const DESCRIBE_RECORDERS: &str = "config.describe-configuration-recorders";
const DESCRIBE_STATUS: &str = "config.describe-configuration-recorder-status";
const DESCRIBE_CHANNELS: &str = "config.describe-delivery-channels";
const PUT_RECORDER: &str = "config.put-configuration-recorder";
const PUT_CHANNEL: &str = "config.put-delivery-channel";
const START: &str = "config.start-configuration-recorder";
const GET_ROLE: &str = "iam.get-role";
const CREATE_SLR: &str = "iam.create-service-linked-role";
const ACCOUNT: &str = "AwsAccount";

const BUCKET: &str = "bucket";
const KEY_PREFIX: &str = "key-prefix";
const GLOBAL_REGION: &str = "global-resource-types-region";

/// The service principal of AWS Config, and its service-linked role.
const CONFIG_SERVICE: &str = "config.amazonaws.com";
const ROLE_NAME: &str = "AWSServiceRoleForConfig";
/// The name Config's console gives a new recorder and channel.
const DEFAULT_NAME: &str = "default";

struct ConfigRecorder;

impl Guest for ConfigRecorder {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[
                DESCRIBE_RECORDERS,
                DESCRIBE_STATUS,
                DESCRIBE_CHANNELS,
                PUT_RECORDER,
                PUT_CHANNEL,
                START,
                GET_ROLE,
                CREATE_SLR,
                bucket::CREATE,
                bucket::GET_POLICY,
                bucket::PUT_POLICY,
                bucket::GET_PAB,
                bucket::PUT_PAB,
                bucket::GET_ENCRYPTION,
                bucket::PUT_ENCRYPTION,
            ],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let finding = &request.finding;
        let settings = match Settings::from_params(&request.params) {
            Ok(settings) => settings,
            Err(e) => return e.to_outcome(),
        };
        if let Err(reason) = names_own_account(finding) {
            return Outcome::skipped(reason);
        }
        let account = Account::of(finding);
        let current = match read_current() {
            Ok(current) => current,
            Err(outcome) => return outcome,
        };
        let include_global = settings.records_global_types_in(&finding.region);
        let plan = plan(&current, &account.role_arn(), include_global);
        if plan.is_empty() {
            return Outcome::already_compliant(format!(
                "AWS Config recorder {} records all supported resource types{} with \
                 {ROLE_NAME} and is recording",
                current
                    .recorder
                    .as_ref()
                    .map_or(DEFAULT_NAME, |r| r.name.as_str()),
                if include_global {
                    " (global ones included)"
                } else {
                    ""
                },
            ));
        }
        apply(request.mode, &settings, &account, &current, &plan)
    }
}

hubfix_plugin_sdk::export!(ConfigRecorder);

/// The parameters.
#[derive(Debug, Default, PartialEq)]
struct Settings {
    bucket: Option<String>,
    key_prefix: Option<String>,
    global_region: Option<String>,
}

impl Settings {
    fn from_params(raw: &[(String, String)]) -> Result<Self, ParamError> {
        let params = Params::new(raw, &[BUCKET, KEY_PREFIX, GLOBAL_REGION])?;
        let bucket = match params.get(BUCKET).map(str::trim) {
            None => None,
            Some(b) if valid_bucket_name(b) => Some(b.to_owned()),
            Some(b) => {
                return Err(ParamError::invalid_value(
                    BUCKET,
                    b,
                    "expected an S3 bucket name (3 to 63 lowercase letters, digits, `.` and `-`)",
                ));
            }
        };
        let key_prefix = match params.get(KEY_PREFIX) {
            None => None,
            Some(p) => {
                let p = p.trim().trim_matches('/');
                if p.is_empty()
                    || p.len() > 1024
                    || p.contains("AWSLogs")
                    || p.chars().any(|c| c.is_control() || c == '*' || c == '"')
                {
                    return Err(ParamError::invalid_value(
                        KEY_PREFIX,
                        p,
                        "expected an S3 key prefix of 1 to 1024 characters, without `AWSLogs`, \
                         `*`, `\"` or control characters",
                    ));
                }
                Some(p.to_owned())
            }
        };
        let global_region = match params.get(GLOBAL_REGION).map(str::trim) {
            None => None,
            Some(r) if valid_region(r) => Some(r.to_owned()),
            Some(r) => {
                return Err(ParamError::invalid_value(
                    GLOBAL_REGION,
                    r,
                    "expected a region name such as `us-east-1`",
                ));
            }
        };
        Ok(Self {
            bucket,
            key_prefix,
            global_region,
        })
    }

    /// Whether the recorder in `region` should record the global IAM resource types.
    fn records_global_types_in(&self, region: &str) -> bool {
        self.global_region.as_deref().is_none_or(|r| r == region)
    }
}

/// An S3 bucket name: 3 to 63 of lowercase letters, digits, `.` and `-`, starting and
/// ending with a letter or digit.
fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || matches!(x, b'.' | b'-'))
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && !name.contains("..")
}

/// A region name: `us-east-1`, `ap-southeast-2`, `us-gov-west-1`, `cn-north-1`.
fn valid_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks that the finding is about its own account.
fn names_own_account(finding: &Finding) -> Result<(), String> {
    match finding.resource_short_id(ACCOUNT) {
        None => Err(format!(
            "the finding names no {ACCOUNT} resource; Config.1 is about the account's AWS \
             Config recorder"
        )),
        Some(id) if id == finding.account_id => Ok(()),
        Some(id) => Err(format!(
            "the finding names account {id}, not its own account {}; only that account can \
             turn its AWS Config on",
            finding.account_id
        )),
    }
}

/// Where the remediation acts.
struct Account {
    partition: String,
    id: String,
    region: String,
}

impl Account {
    fn of(finding: &Finding) -> Self {
        Self {
            partition: match finding.partition.as_str() {
                "" => "aws".to_owned(),
                p => p.to_owned(),
            },
            id: finding.account_id.clone(),
            region: finding.region.clone(),
        }
    }

    /// The ARN of AWS Config's service-linked role in this account.
    fn role_arn(&self) -> String {
        format!(
            "arn:{}:iam::{}:role/aws-service-role/{CONFIG_SERVICE}/{ROLE_NAME}",
            self.partition, self.id
        )
    }

    /// The plugin's own delivery bucket.
    fn own_bucket(&self) -> String {
        format!("hubfix-config-{}-{}", self.id, self.region)
    }
}

/// The region's recorder, whether it records, and its delivery channel.
#[derive(Debug, Clone, PartialEq)]
struct Current {
    recorder: Option<ConfigurationRecorder>,
    recording: bool,
    channel: Option<DeliveryChannel>,
}

fn read_current() -> Result<Current, Outcome> {
    let recorders =
        config::describe_configuration_recorders().map_err(|e| e.to_outcome(DESCRIBE_RECORDERS))?;
    let recorder = recorders.into_iter().next();
    let statuses: Vec<RecorderStatus> = match &recorder {
        Some(_) => config::describe_configuration_recorder_status()
            .map_err(|e| e.to_outcome(DESCRIBE_STATUS))?,
        None => Vec::new(),
    };
    let recording = recorder
        .as_ref()
        .is_some_and(|r| statuses.iter().any(|s| s.name == r.name && s.recording));
    let channel = config::describe_delivery_channels()
        .map_err(|e| e.to_outcome(DESCRIBE_CHANNELS))?
        .into_iter()
        .next();
    Ok(Current {
        recorder,
        recording,
        channel,
    })
}

/// What the remediation must do.
#[derive(Debug, Clone, PartialEq, Default)]
struct Plan {
    /// The recorder to put (its name kept), when the current one is missing or wrong.
    recorder: Option<ConfigurationRecorder>,
    /// Whether to give the region a delivery channel.
    channel: bool,
    /// Whether to start recording.
    start: bool,
}

impl Plan {
    fn is_empty(&self) -> bool {
        self.recorder.is_none() && !self.channel && !self.start
    }
}

/// Whether `recorder` records what Config.1 asks: every supported type with the
/// service-linked role (and the global types when `include_global`).
fn records_all(recorder: &ConfigurationRecorder, role_arn: &str, include_global: bool) -> bool {
    recorder.role_arn == role_arn
        && recorder.recording_group.as_ref().is_some_and(|g| {
            g.all_supported
                && g.resource_types.is_empty()
                && (g.include_global_resource_types || !include_global)
        })
}

fn plan(current: &Current, role_arn: &str, include_global: bool) -> Plan {
    let recorder = match &current.recorder {
        Some(r) if records_all(r, role_arn, include_global) => None,
        existing => Some(ConfigurationRecorder {
            name: existing
                .as_ref()
                .map_or_else(|| DEFAULT_NAME.to_owned(), |r| r.name.clone()),
            role_arn: role_arn.to_owned(),
            recording_group: Some(RecordingGroup {
                all_supported: true,
                // Never stop recording the global types a recorder already records.
                include_global_resource_types: include_global
                    || existing
                        .as_ref()
                        .and_then(|r| r.recording_group.as_ref())
                        .is_some_and(|g| g.include_global_resource_types),
                resource_types: Vec::new(),
            }),
        }),
    };
    Plan {
        recorder,
        channel: current.channel.is_none(),
        start: !current.recording,
    }
}

/// What was done, for the message.
#[derive(Debug, Default)]
struct Done {
    steps: Vec<String>,
}

impl Done {
    fn push(&mut self, step: String) {
        self.steps.push(step);
    }

    fn text(&self) -> String {
        self.steps.join("; ")
    }

    /// `outcome` (a failure) with what was already done.
    fn after(&self, mut outcome: Outcome) -> Outcome {
        if !self.steps.is_empty() {
            outcome.message = format!("{} (already done: {})", outcome.message, self.text());
        }
        outcome
    }
}

fn apply(
    mode: Mode,
    settings: &Settings,
    account: &Account,
    current: &Current,
    plan: &Plan,
) -> Outcome {
    let mut done = Done::default();
    let recorder_name = plan
        .recorder
        .as_ref()
        .map(|r| r.name.clone())
        .or_else(|| current.recorder.as_ref().map(|r| r.name.clone()))
        .unwrap_or_else(|| DEFAULT_NAME.to_owned());

    if let Some(recorder) = &plan.recorder {
        match ensure_role(mode) {
            Ok(Some(step)) => done.push(step),
            Ok(None) => {}
            Err(outcome) => return outcome,
        }
        if let Err(e) = config::put_configuration_recorder(recorder) {
            return done.after(e.to_outcome(PUT_RECORDER));
        }
        done.push(describe_recorder_change(
            mode,
            current.recorder.as_ref(),
            recorder,
        ));
    }

    if plan.channel {
        let bucket = match &settings.bucket {
            Some(bucket) => bucket.clone(),
            None => {
                let bucket = account.own_bucket();
                let statements =
                    delivery_statements(account, &bucket, settings.key_prefix.as_deref());
                let encryption = BucketEncryption {
                    sse_algorithm: "AES256".to_owned(),
                    kms_master_key_id: None,
                    bucket_key_enabled: false,
                };
                let prepared: Prepared = match bucket::prepare(
                    &bucket,
                    |policy| bucket::upsert_statements(policy, &statements),
                    Some(&encryption),
                ) {
                    Ok(prepared) => prepared,
                    Err(outcome) => return done.after(outcome),
                };
                done.push(prepared.phrase(mode, &bucket, "AWS Config"));
                bucket
            }
        };
        let channel = DeliveryChannel {
            name: DEFAULT_NAME.to_owned(),
            s3_bucket_name: bucket.clone(),
            s3_key_prefix: settings.key_prefix.clone(),
            sns_topic_arn: None,
        };
        if let Err(e) = config::put_delivery_channel(&channel) {
            return done.after(e.to_outcome(PUT_CHANNEL));
        }
        done.push(format!(
            "{} delivery channel {DEFAULT_NAME} to bucket {bucket}{}",
            mode.verb("created", "would create"),
            settings
                .key_prefix
                .as_deref()
                .map(|p| format!(" under {p}/"))
                .unwrap_or_default()
        ));
    } else if let Some(channel) = &current.channel {
        done.push(format!(
            "{} delivery channel {} (to bucket {})",
            mode.verb("kept", "would keep"),
            channel.name,
            channel.s3_bucket_name
        ));
    }

    if plan.start {
        match config::start_configuration_recorder(&recorder_name) {
            Err(AwsError::NotFound(m)) if plan.recorder.is_none() => {
                return done.after(Outcome::skipped(format!(
                    "recorder {recorder_name} not found any more ({m}); the finding is stale"
                )));
            }
            Err(e) => return done.after(e.to_outcome(START)),
            Ok(()) => done.push(format!(
                "{} recorder {recorder_name}",
                mode.verb("started", "would start")
            )),
        }
    }
    Outcome::remediated(format!("AWS Config: {}", done.text()))
}

/// Makes sure AWS Config's service-linked role exists: `None` when it did, else what was
/// done.
fn ensure_role(mode: Mode) -> Result<Option<String>, Outcome> {
    match iam::get_role(ROLE_NAME) {
        Ok(_) => Ok(None),
        Err(AwsError::NotFound(_)) => match iam::create_service_linked_role(CONFIG_SERVICE) {
            Ok(_) => Ok(Some(format!(
                "{} the service-linked role {ROLE_NAME}",
                mode.verb("created", "would create")
            ))),
            Err(e) => Err(e.to_outcome(CREATE_SLR)),
        },
        Err(e) => Err(e.to_outcome(GET_ROLE)),
    }
}

/// What putting `new` changes about `old`, for the message.
fn describe_recorder_change(
    mode: Mode,
    old: Option<&ConfigurationRecorder>,
    new: &ConfigurationRecorder,
) -> String {
    let global = new
        .recording_group
        .as_ref()
        .is_some_and(|g| g.include_global_resource_types);
    let what = format!(
        "to record all supported resource types{} with {ROLE_NAME}",
        if global {
            " (global IAM types included)"
        } else {
            ""
        }
    );
    match old {
        None => format!(
            "{} recorder {} {what}",
            mode.verb("created", "would create"),
            new.name
        ),
        Some(old) => {
            let was = match &old.recording_group {
                Some(g) if !g.all_supported => format!("{} listed types", g.resource_types.len()),
                Some(g) if !g.include_global_resource_types && global => {
                    "all but the global types".to_owned()
                }
                _ => "all supported types".to_owned(),
            };
            format!(
                "{} the existing recorder {} {what} (it recorded {was} with role {})",
                mode.verb("set", "would set"),
                new.name,
                if old.role_arn.is_empty() {
                    "(none)"
                } else {
                    old.role_arn.as_str()
                }
            )
        }
    }
}

/// AWS's documented bucket policy statements that let AWS Config (with its service-linked
/// role) check and write to `bucket` for this account only.
fn delivery_statements(account: &Account, bucket: &str, prefix: Option<&str>) -> Vec<Value> {
    let p = &account.partition;
    let id = &account.id;
    let bucket_arn = format!("arn:{p}:s3:::{bucket}");
    let objects = match prefix {
        Some(prefix) => format!("{bucket_arn}/{prefix}/AWSLogs/{id}/Config/*"),
        None => format!("{bucket_arn}/AWSLogs/{id}/Config/*"),
    };
    let principal = json!({"Service": CONFIG_SERVICE});
    let source = json!({"AWS:SourceAccount": id});
    vec![
        json!({
            "Sid": "AWSConfigBucketPermissionsCheck",
            "Effect": "Allow",
            "Principal": principal,
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
            "Condition": {"StringEquals": source},
        }),
        json!({
            "Sid": "AWSConfigBucketExistenceCheck",
            "Effect": "Allow",
            "Principal": principal,
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringEquals": source},
        }),
        json!({
            "Sid": "AWSConfigBucketDelivery",
            "Effect": "Allow",
            "Principal": principal,
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {"StringEquals": {
                "s3:x-amz-acl": "bucket-owner-full-control",
                "AWS:SourceAccount": id,
            }},
        }),
    ]
}

#[cfg(test)]
mod tests {
    use hubfix_plugin_sdk::Resource;

    use super::*;

    const SLR: &str = "arn:aws:iam::111111111111:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig";

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn account() -> Account {
        Account {
            partition: "aws".into(),
            id: "111111111111".into(),
            region: "eu-west-1".into(),
        }
    }

    fn recorder(role: &str, all: bool, global: bool, types: &[&str]) -> ConfigurationRecorder {
        ConfigurationRecorder {
            name: "main".into(),
            role_arn: role.into(),
            recording_group: Some(RecordingGroup {
                all_supported: all,
                include_global_resource_types: global,
                resource_types: types.iter().map(|t| (*t).to_owned()).collect(),
            }),
        }
    }

    fn channel() -> DeliveryChannel {
        DeliveryChannel {
            name: "default".into(),
            s3_bucket_name: "logs".into(),
            s3_key_prefix: None,
            sns_topic_arn: None,
        }
    }

    fn finding(resources: &[(&str, &str)]) -> Finding {
        Finding {
            id: "f".into(),
            control_id: "Config.1".into(),
            generator_id: "g".into(),
            account_id: "111111111111".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
            title: "t".into(),
            resources: resources
                .iter()
                .map(|(t, id)| Resource {
                    type_: (*t).into(),
                    id: (*id).into(),
                    partition: "aws".into(),
                    region: "eu-west-1".into(),
                    details: None,
                })
                .collect(),
            raw: "{}".into(),
        }
    }

    #[test]
    fn describes_itself() {
        let info = ConfigRecorder::describe();
        assert_eq!(info.controls, ["Config.1"]);
        assert!(info.functions.iter().any(|f| f == CREATE_SLR));
        assert!(info.functions.iter().any(|f| f == bucket::PUT_POLICY));
    }

    #[test]
    fn parameters_are_checked() {
        assert_eq!(Settings::from_params(&[]).unwrap(), Settings::default());
        let s = Settings::from_params(&raw(&[
            (BUCKET, " central-config "),
            (KEY_PREFIX, "/config/"),
            (GLOBAL_REGION, "us-east-1"),
        ]))
        .unwrap();
        assert_eq!(s.bucket.as_deref(), Some("central-config"));
        assert_eq!(s.key_prefix.as_deref(), Some("config"));
        assert!(s.records_global_types_in("us-east-1"));
        assert!(!s.records_global_types_in("eu-west-1"));
        assert!(Settings::default().records_global_types_in("eu-west-1"));
        for (key, bad) in [
            (BUCKET, "Bad_Bucket"),
            (BUCKET, "a"),
            (BUCKET, "x..y"),
            (KEY_PREFIX, "AWSLogs/x"),
            (KEY_PREFIX, "/"),
            (KEY_PREFIX, "a*b"),
            (GLOBAL_REGION, "us-east"),
            (GLOBAL_REGION, "US-EAST-1"),
            (GLOBAL_REGION, "us-east-1; rm"),
            ("sns-topic", "x"),
        ] {
            assert!(
                Settings::from_params(&raw(&[(key, bad)])).is_err(),
                "{key} = {bad:?} was taken"
            );
        }
        assert!(valid_region("us-gov-west-1"));
        assert!(valid_region("ap-southeast-2"));
    }

    #[test]
    fn only_the_findings_own_account_is_remediated() {
        assert!(names_own_account(&finding(&[(ACCOUNT, "AWS::::Account:111111111111")])).is_ok());
        let other = names_own_account(&finding(&[(ACCOUNT, "AWS::::Account:999999999999")]));
        assert!(other.unwrap_err().contains("account 999999999999"));
        let bucket = names_own_account(&finding(&[("AwsS3Bucket", "arn:aws:s3:::b")]));
        assert!(bucket.unwrap_err().contains("names no AwsAccount"));
    }

    #[test]
    fn nothing_to_do_when_recording_everything_with_the_service_linked_role() {
        let current = Current {
            recorder: Some(recorder(SLR, true, true, &[])),
            recording: true,
            channel: Some(channel()),
        };
        assert!(plan(&current, SLR, true).is_empty());
        // Global types are not needed outside the aggregation region, nor removed.
        let regional = Current {
            recorder: Some(recorder(SLR, true, false, &[])),
            ..current.clone()
        };
        assert!(plan(&regional, SLR, false).is_empty());
        assert!(!plan(&regional, SLR, true).is_empty());
    }

    #[test]
    fn a_fresh_account_gets_everything() {
        let current = Current {
            recorder: None,
            recording: false,
            channel: None,
        };
        let p = plan(&current, SLR, true);
        assert_eq!(
            p,
            Plan {
                recorder: Some(ConfigurationRecorder {
                    name: "default".into(),
                    role_arn: SLR.into(),
                    recording_group: Some(RecordingGroup {
                        all_supported: true,
                        include_global_resource_types: true,
                        resource_types: vec![],
                    }),
                }),
                channel: true,
                start: true,
            }
        );
    }

    #[test]
    fn an_existing_recorder_is_fixed_in_place_and_its_channel_kept() {
        let other_role = "arn:aws:iam::111111111111:role/legacy-config";
        let current = Current {
            recorder: Some(recorder(other_role, false, false, &["AWS::EC2::Instance"])),
            recording: false,
            channel: Some(channel()),
        };
        let p = plan(&current, SLR, true);
        let fixed = p.recorder.as_ref().unwrap();
        assert_eq!(fixed.name, "main");
        assert_eq!(fixed.role_arn, SLR);
        assert_eq!(
            fixed.recording_group,
            Some(recorder(SLR, true, true, &[]).recording_group.unwrap())
        );
        assert!(!p.channel);
        assert!(p.start);
        // A recorder already recording global types keeps them where they are not wanted.
        let global = Current {
            recorder: Some(recorder(other_role, true, true, &[])),
            recording: true,
            channel: Some(channel()),
        };
        let p = plan(&global, SLR, false);
        let kept = p.recorder.unwrap().recording_group.unwrap();
        assert!(kept.include_global_resource_types);
        assert!(!p.start);
        // The right recorder, stopped: only started.
        let stopped = Current {
            recorder: Some(recorder(SLR, true, true, &[])),
            recording: false,
            channel: Some(channel()),
        };
        assert_eq!(
            plan(&stopped, SLR, true),
            Plan {
                recorder: None,
                channel: false,
                start: true
            }
        );
        // A recorder without a recording group (AWS then records all but global types).
        let bare = Current {
            recorder: Some(ConfigurationRecorder {
                recording_group: None,
                ..recorder(SLR, true, true, &[])
            }),
            recording: true,
            channel: Some(channel()),
        };
        assert!(plan(&bare, SLR, true).recorder.is_some());
    }

    #[test]
    fn the_bucket_policy_is_awss_for_config() {
        let statements =
            delivery_statements(&account(), "hubfix-config-111111111111-eu-west-1", None);
        assert_eq!(statements.len(), 3);
        for s in &statements {
            assert_eq!(s["Principal"]["Service"], "config.amazonaws.com");
            assert_eq!(
                s["Condition"]["StringEquals"]["AWS:SourceAccount"],
                "111111111111"
            );
        }
        assert_eq!(statements[0]["Action"], "s3:GetBucketAcl");
        assert_eq!(statements[1]["Action"], "s3:ListBucket");
        assert_eq!(
            statements[2]["Resource"],
            "arn:aws:s3:::hubfix-config-111111111111-eu-west-1/AWSLogs/111111111111/Config/*"
        );
        assert_eq!(
            statements[2]["Condition"]["StringEquals"]["s3:x-amz-acl"],
            "bucket-owner-full-control"
        );
        let prefixed = delivery_statements(&account(), "b", Some("config"));
        assert_eq!(
            prefixed[2]["Resource"],
            "arn:aws:s3:::b/config/AWSLogs/111111111111/Config/*"
        );
        // Merged into a policy twice: nothing to change the second time.
        let text = bucket::upsert_statements(None, &statements)
            .unwrap()
            .unwrap();
        assert_eq!(
            bucket::upsert_statements(Some(&text), &statements).unwrap(),
            None
        );
        assert_eq!(account().role_arn(), SLR);
        assert_eq!(
            account().own_bucket(),
            "hubfix-config-111111111111-eu-west-1"
        );
    }

    #[test]
    fn messages_say_what_changed() {
        let new = recorder(SLR, true, true, &[]);
        assert!(
            describe_recorder_change(Mode::Plan, None, &new)
                .starts_with("would create recorder main to record all supported resource types (global IAM types included)")
        );
        let old = recorder(
            "arn:aws:iam::111111111111:role/legacy",
            false,
            false,
            &["AWS::EC2::Instance"],
        );
        let m = describe_recorder_change(Mode::Apply, Some(&old), &new);
        assert!(m.starts_with("set the existing recorder main"), "{m}");
        assert!(
            m.contains(
                "it recorded 1 listed types with role arn:aws:iam::111111111111:role/legacy"
            ),
            "{m}"
        );
    }
}
