//! `cloudtrail-multi-region-trail`: makes sure the account has a logging multi-Region trail
//! that records all management events, read and write (Security Hub CloudTrail.1; CIS AWS
//! Foundations 1.2.0 2.1, 1.4.0 3.1, 3.0.0 3.1).
//!
//! The finding names the account (`AwsAccount`). The plugin lists the region's trails
//! (`cloudtrail.describe-trails`, shadow and organization trails included) and, for each
//! multi-Region one, reads whether it logs (`get-trail-status`) and what
//! (`get-event-selectors`). Then:
//!
//! - a multi-Region trail that logs and records all management events (a basic selector
//!   `ReadWriteType` `All` with management events and no excluded source, or an advanced
//!   selector `eventCategory = Management` alone) passes: already compliant, whether it is
//!   the account's own or an organization trail that covers it;
//! - one that records them but is stopped is started (`cloudtrail.start-logging`), when it
//!   can be from here: an organization trail of another account cannot (its management
//!   account must), and a trail of another home region is skipped with where to start it;
//! - otherwise the plugin creates one: the bucket `<bucket-prefix>-<account>-<region>` (or
//!   the `bucket` parameter's; created, or reused when the account owns it) with the
//!   CloudTrail bucket policy (`s3:GetBucketAcl` and `s3:PutObject` under
//!   `AWSLogs/<account>/` for `cloudtrail.amazonaws.com`, on the condition
//!   `aws:SourceArn` = the new trail), all four Block Public Access settings and default
//!   encryption (SSE-S3, unless the bucket has its own); then the multi-Region trail
//!   `trail-name` with global service events and log file validation (and the `kms-key-id`
//!   parameter's key, when given), and starts it. A new trail has AWS's default selector:
//!   all management events.
//!
//! Parameters: `trail-name` (default `hubfix-multi-region-trail`), `bucket-prefix` (default
//! `hubfix-cloudtrail`), `bucket` (optional, used instead of the prefix), `kms-key-id`
//! (optional: a KMS key whose policy lets CloudTrail encrypt with it). Created names must
//! start with the host's create prefix. A trail and its S3 storage are billed.

use hubfix_plugin_sdk::bucket::{self, Prepared, upsert_statements};
use hubfix_plugin_sdk::cloudtrail::{self, NewTrail, Trail};
use hubfix_plugin_sdk::s3::BucketEncryption;
use hubfix_plugin_sdk::trail::{
    changeable, finding_account, logs_all_management_events, valid_trail_name,
};
use hubfix_plugin_sdk::{
    AwsError, Finding, Guest, Mode, Outcome, ParamError, Params, PluginInfo, Request, log,
};
use serde_json::{Value, json};

const NAME: &str = "cloudtrail-multi-region-trail";
const CONTROLS: &[&str] = &["CloudTrail.1"];
const DESCRIBE: &str = "cloudtrail.describe-trails";
const STATUS: &str = "cloudtrail.get-trail-status";
const GET_SELECTORS: &str = "cloudtrail.get-event-selectors";
const CREATE_TRAIL: &str = "cloudtrail.create-trail";
const START: &str = "cloudtrail.start-logging";

const TRAIL_NAME: &str = "trail-name";
const BUCKET_PREFIX: &str = "bucket-prefix";
const BUCKET: &str = "bucket";
const KMS_KEY_ID: &str = "kms-key-id";
const DEFAULT_TRAIL: &str = "hubfix-multi-region-trail";
const DEFAULT_BUCKET_PREFIX: &str = "hubfix-cloudtrail";

const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";
const ACL_SID: &str = "HubfixCloudTrailAclCheck";
const WRITE_SID: &str = "HubfixCloudTrailWrite";

struct MultiRegionTrail;

impl Guest for MultiRegionTrail {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[
                DESCRIBE,
                STATUS,
                GET_SELECTORS,
                CREATE_TRAIL,
                START,
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
        let settings = match Settings::from_params(&request.params, finding) {
            Ok(s) => s,
            Err(e) => return e.to_outcome(),
        };
        if let Err(skipped) = finding_account(finding) {
            return skipped;
        }
        let trails = match cloudtrail::describe_trails() {
            Ok(trails) => trails,
            Err(e) => return e.to_outcome(DESCRIBE),
        };
        let mut candidates = Vec::new();
        for trail in trails.into_iter().filter(|t| t.is_multi_region_trail) {
            match read(&trail) {
                Ok(Some(c)) => candidates.push(c),
                Ok(None) => {}
                Err(e) if trail.is_organization_trail => {
                    log::warn!("cannot read organization trail {}: {e:?}", trail.trail_arn);
                }
                Err((call, e)) => return e.to_outcome(call),
            }
        }
        match decide(candidates, finding) {
            Decision::Done(outcome) => outcome,
            Decision::Start(trail) => match cloudtrail::start_logging(&trail.name) {
                Ok(()) => Outcome::remediated(format!(
                    "{} logging of multi-Region trail {}, which records all management events",
                    request.mode.verb("started", "would start"),
                    trail.name
                )),
                Err(AwsError::NotFound(_)) => Outcome::skipped(format!(
                    "trail {} not found (deleted meanwhile)",
                    trail.trail_arn
                )),
                Err(e) => e.to_outcome(START),
            },
            Decision::Create { note } => create(request.mode, finding, &settings, &note),
        }
    }
}

hubfix_plugin_sdk::export!(MultiRegionTrail);

/// A multi-Region trail and what it does.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    trail: Trail,
    logging: bool,
    all_management: bool,
}

/// Reads a trail's status and selectors; `None` when it is gone meanwhile.
fn read(trail: &Trail) -> Result<Option<Candidate>, (&'static str, AwsError)> {
    let status = match cloudtrail::get_trail_status(&trail.trail_arn) {
        Ok(s) => s,
        Err(AwsError::NotFound(_)) => return Ok(None),
        Err(e) => return Err((STATUS, e)),
    };
    let selectors = match cloudtrail::get_event_selectors(&trail.trail_arn) {
        Ok(s) => s,
        Err(AwsError::NotFound(_)) => return Ok(None),
        Err(e) => return Err((GET_SELECTORS, e)),
    };
    Ok(Some(Candidate {
        trail: trail.clone(),
        logging: status.is_logging,
        all_management: logs_all_management_events(&selectors),
    }))
}

/// What to do about the account's multi-Region trails.
#[derive(Debug, PartialEq)]
enum Decision {
    /// Nothing to change (compliant, or only fixable elsewhere).
    Done(Outcome),
    /// Start this trail's logging.
    Start(Trail),
    /// Create a trail; `note` says why the existing ones do not do.
    Create { note: String },
}

fn decide(candidates: Vec<Candidate>, finding: &Finding) -> Decision {
    if let Some(c) = candidates.iter().find(|c| c.logging && c.all_management) {
        let whose = if c.trail.is_organization_trail {
            "organization trail"
        } else {
            "multi-Region trail"
        };
        return Decision::Done(Outcome::already_compliant(format!(
            "{whose} {} logs all management events, read and write",
            c.trail.trail_arn
        )));
    }
    let stopped: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.all_management && !c.logging)
        .collect();
    let own = |c: &&&Candidate| {
        !c.trail.is_organization_trail
            || hubfix_plugin_sdk::trail::parse_trail_arn(&c.trail.trail_arn)
                .is_some_and(|a| a.account == finding.account_id)
    };
    if let Some(c) = stopped
        .iter()
        .filter(own)
        .find(|c| changeable(&c.trail, finding).is_ok())
    {
        return Decision::Start(c.trail.clone());
    }
    if let Some(c) = stopped.iter().find(own) {
        let why = changeable(&c.trail, finding)
            .err()
            .map(|o| o.message)
            .unwrap_or_default();
        return Decision::Done(Outcome::skipped(format!(
            "multi-Region trail {} records all management events but is not logging; start it there: {why}",
            c.trail.trail_arn
        )));
    }
    let mut notes = Vec::new();
    for c in &candidates {
        notes.push(if c.all_management {
            format!(
                "organization trail {} is not logging (its management account must start it)",
                c.trail.trail_arn
            )
        } else {
            format!(
                "trail {} does not record all management events",
                c.trail.trail_arn
            )
        });
    }
    Decision::Create {
        note: if notes.is_empty() {
            "the account has no multi-Region trail".to_owned()
        } else {
            notes.join("; ")
        },
    }
}

/// The parameters, with their defaults.
#[derive(Debug, Clone, PartialEq)]
struct Settings {
    trail: String,
    bucket: String,
    kms_key_id: Option<String>,
}

fn valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && !name.contains("..")
}

impl Settings {
    fn from_params(raw: &[(String, String)], finding: &Finding) -> Result<Self, ParamError> {
        let params = Params::new(raw, &[TRAIL_NAME, BUCKET_PREFIX, BUCKET, KMS_KEY_ID])?;
        let trail = params
            .get(TRAIL_NAME)
            .map_or(DEFAULT_TRAIL, str::trim)
            .to_owned();
        if !valid_trail_name(&trail) {
            return Err(ParamError::invalid_value(
                TRAIL_NAME,
                &trail,
                "expected a trail name: 3 to 128 letters, digits, `.`, `_` or `-`",
            ));
        }
        let bucket = match params.get(BUCKET).map(str::trim) {
            Some(b) => b.to_owned(),
            None => {
                let prefix = params
                    .get(BUCKET_PREFIX)
                    .map_or(DEFAULT_BUCKET_PREFIX, str::trim);
                if prefix.is_empty() || prefix.ends_with('-') {
                    return Err(ParamError::invalid_value(
                        BUCKET_PREFIX,
                        prefix,
                        "expected a bucket name prefix without a trailing `-` (the bucket is <prefix>-<account>-<region>)",
                    ));
                }
                format!("{prefix}-{}-{}", finding.account_id, finding.region)
            }
        };
        if !valid_bucket(&bucket) {
            let key = if params.get(BUCKET).is_some() {
                BUCKET
            } else {
                BUCKET_PREFIX
            };
            return Err(ParamError::invalid_value(
                key,
                params.get(key).unwrap_or(&bucket),
                &format!(
                    "the bucket name `{bucket}` is not valid: 3 to 63 of a-z, 0-9, `.` and `-`"
                ),
            ));
        }
        let kms_key_id = match params.get(KMS_KEY_ID).map(str::trim) {
            None => None,
            Some(k)
                if !k.is_empty() && k.len() <= 2048 && k.chars().all(|c| c.is_ascii_graphic()) =>
            {
                Some(k.to_owned())
            }
            Some(k) => {
                return Err(ParamError::invalid_value(
                    KMS_KEY_ID,
                    k,
                    "expected a KMS key id, alias or ARN",
                ));
            }
        };
        Ok(Self {
            trail,
            bucket,
            kms_key_id,
        })
    }
}

/// The CloudTrail bucket policy statements for `trail_arn` writing into `bucket`.
fn bucket_statements(partition: &str, account: &str, bucket: &str, trail_arn: &str) -> [Value; 2] {
    [
        json!({
            "Sid": ACL_SID,
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:GetBucketAcl",
            "Resource": format!("arn:{partition}:s3:::{bucket}"),
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
        }),
        json!({
            "Sid": WRITE_SID,
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:PutObject",
            "Resource": format!("arn:{partition}:s3:::{bucket}/AWSLogs/{account}/*"),
            "Condition": {"StringEquals": {
                "s3:x-amz-acl": "bucket-owner-full-control",
                "aws:SourceArn": trail_arn,
            }},
        }),
    ]
}

fn create(mode: Mode, finding: &Finding, settings: &Settings, note: &str) -> Outcome {
    let partition = if finding.partition.is_empty() {
        "aws"
    } else {
        finding.partition.as_str()
    };
    let trail_arn = format!(
        "arn:{partition}:cloudtrail:{}:{}:trail/{}",
        finding.region, finding.account_id, settings.trail
    );
    let statements =
        bucket_statements(partition, &finding.account_id, &settings.bucket, &trail_arn);
    let encryption = BucketEncryption {
        sse_algorithm: "AES256".into(),
        kms_master_key_id: None,
        bucket_key_enabled: false,
    };
    let prepared = match bucket::prepare(
        &settings.bucket,
        |current| upsert_statements(current, &statements),
        Some(&encryption),
    ) {
        Ok(p) => p,
        Err(outcome) => return outcome,
    };
    let done = |p: &Prepared| p.phrase(mode, &settings.bucket, "CloudTrail");
    let with_done = |mut outcome: Outcome| {
        outcome.message.push_str(&format!(
            "; the bucket was already prepared: {}",
            done(&prepared)
        ));
        outcome
    };
    let new = NewTrail {
        name: settings.trail.clone(),
        s3_bucket_name: settings.bucket.clone(),
        s3_key_prefix: None,
        is_multi_region_trail: true,
        include_global_service_events: true,
        enable_log_file_validation: true,
        kms_key_id: settings.kms_key_id.clone(),
    };
    if let Err(e) = cloudtrail::create_trail(&new) {
        return with_done(e.to_outcome(CREATE_TRAIL));
    }
    if let Err(e) = cloudtrail::start_logging(&settings.trail) {
        let mut outcome = with_done(e.to_outcome(START));
        outcome
            .message
            .push_str(&format!("; trail {} was created", settings.trail));
        return outcome;
    }
    Outcome::remediated(format!(
        "{} multi-Region trail {} (all management events, log file validation{}) into bucket {} and {} it ({}); {note}; a trail's S3 storage is billed",
        mode.verb("created", "would create"),
        settings.trail,
        if settings.kms_key_id.is_some() {
            ", KMS-encrypted"
        } else {
            ""
        },
        settings.bucket,
        mode.verb("started", "would start"),
        done(&prepared),
    ))
}

#[cfg(test)]
mod tests {
    use hubfix_plugin_sdk::{Resource, Status};

    use super::*;

    const ACCOUNT_ID: &str = "111111111111";

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn finding() -> Finding {
        Finding {
            id: "f".into(),
            control_id: "CloudTrail.1".into(),
            generator_id: "g".into(),
            account_id: ACCOUNT_ID.into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
            title: "t".into(),
            resources: vec![Resource {
                type_: "AwsAccount".into(),
                id: format!("AWS::::Account:{ACCOUNT_ID}"),
                partition: "aws".into(),
                region: "eu-west-1".into(),
                details: None,
            }],
            raw: "{}".into(),
        }
    }

    fn candidate(account: &str, region: &str, org: bool, logging: bool, all: bool) -> Candidate {
        Candidate {
            trail: Trail {
                name: "t".into(),
                trail_arn: format!("arn:aws:cloudtrail:{region}:{account}:trail/t"),
                home_region: region.into(),
                s3_bucket_name: Some("b".into()),
                s3_key_prefix: None,
                is_multi_region_trail: true,
                is_organization_trail: org,
                include_global_service_events: true,
                log_file_validation_enabled: true,
                kms_key_id: None,
                cloud_watch_logs_log_group_arn: None,
                cloud_watch_logs_role_arn: None,
                has_custom_event_selectors: false,
            },
            logging,
            all_management: all,
        }
    }

    fn status(d: &Decision) -> Option<Status> {
        match d {
            Decision::Done(o) => Some(o.status),
            _ => None,
        }
    }

    #[test]
    fn describes_itself() {
        let info = MultiRegionTrail::describe();
        assert_eq!(info.controls, ["CloudTrail.1"]);
        assert_eq!(info.functions.len(), 12);
    }

    #[test]
    fn a_logging_trail_with_all_management_events_passes_organization_trails_too() {
        let f = finding();
        let own = decide(
            vec![candidate(ACCOUNT_ID, "eu-west-1", false, true, true)],
            &f,
        );
        assert_eq!(status(&own), Some(Status::AlreadyCompliant));
        let org = decide(
            vec![candidate("999999999999", "us-east-1", true, true, true)],
            &f,
        );
        let Decision::Done(o) = org else {
            panic!("{org:?}")
        };
        assert_eq!(o.status, Status::AlreadyCompliant);
        assert!(o.message.contains("organization trail"), "{}", o.message);
    }

    #[test]
    fn a_stopped_trail_is_started_where_it_can_be() {
        let f = finding();
        let here = candidate(ACCOUNT_ID, "eu-west-1", false, false, true);
        assert_eq!(
            decide(vec![here.clone()], &f),
            Decision::Start(here.trail.clone())
        );
        let away = candidate(ACCOUNT_ID, "us-east-1", false, false, true);
        let d = decide(vec![away], &f);
        assert_eq!(status(&d), Some(Status::Skipped));
        // Another account's organization trail cannot be started: a trail is created.
        let org = candidate("999999999999", "eu-west-1", true, false, true);
        let Decision::Create { note } = decide(vec![org], &f) else {
            panic!()
        };
        assert!(note.contains("management account must start it"), "{note}");
    }

    #[test]
    fn without_a_suitable_trail_one_is_created() {
        let f = finding();
        let Decision::Create { note } = decide(vec![], &f) else {
            panic!()
        };
        assert!(note.contains("no multi-Region trail"));
        // Logging, but not all management events: not enough.
        let partial = candidate(ACCOUNT_ID, "eu-west-1", false, true, false);
        let Decision::Create { note } = decide(vec![partial], &f) else {
            panic!()
        };
        assert!(
            note.contains("does not record all management events"),
            "{note}"
        );
    }

    #[test]
    fn parameters_and_defaults() {
        let f = finding();
        let s = Settings::from_params(&[], &f).unwrap();
        assert_eq!(s.trail, DEFAULT_TRAIL);
        assert_eq!(s.bucket, "hubfix-cloudtrail-111111111111-eu-west-1");
        assert_eq!(s.kms_key_id, None);
        let s = Settings::from_params(
            &raw(&[
                (BUCKET_PREFIX, "hubfix-trails"),
                (TRAIL_NAME, "hubfix-main"),
                (KMS_KEY_ID, "alias/trails"),
            ]),
            &f,
        )
        .unwrap();
        assert_eq!(s.bucket, "hubfix-trails-111111111111-eu-west-1");
        assert_eq!(s.trail, "hubfix-main");
        assert_eq!(s.kms_key_id.as_deref(), Some("alias/trails"));
        // `bucket` wins over the prefix (which the policy always passes).
        let s = Settings::from_params(
            &raw(&[(BUCKET_PREFIX, "x"), (BUCKET, "hubfix-org-trail")]),
            &f,
        )
        .unwrap();
        assert_eq!(s.bucket, "hubfix-org-trail");
        for (bad, says) in [
            (raw(&[(BUCKET, "Bad_Bucket")]), "`bucket`"),
            (raw(&[(BUCKET_PREFIX, "hubfix-")]), "trailing"),
            (raw(&[(BUCKET_PREFIX, &"a".repeat(45))]), "not valid"),
            (raw(&[(TRAIL_NAME, "a b")]), TRAIL_NAME),
            (raw(&[(KMS_KEY_ID, "key with spaces")]), KMS_KEY_ID),
            (raw(&[("region", "x")]), "unknown parameter"),
        ] {
            let err = Settings::from_params(&bad, &f).unwrap_err().to_string();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    #[test]
    fn the_bucket_policy_lets_only_this_trail_write_under_awslogs() {
        let arn = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/hubfix-multi-region-trail";
        let [acl, write] = bucket_statements("aws", ACCOUNT_ID, "logs", arn);
        assert_eq!(acl["Principal"]["Service"], CLOUDTRAIL);
        assert_eq!(acl["Action"], "s3:GetBucketAcl");
        assert_eq!(acl["Resource"], "arn:aws:s3:::logs");
        assert_eq!(acl["Condition"]["StringEquals"]["aws:SourceArn"], arn);
        assert_eq!(write["Action"], "s3:PutObject");
        assert_eq!(
            write["Resource"],
            "arn:aws:s3:::logs/AWSLogs/111111111111/*"
        );
        assert_eq!(write["Condition"]["StringEquals"]["aws:SourceArn"], arn);
        assert_eq!(
            write["Condition"]["StringEquals"]["s3:x-amz-acl"],
            "bucket-owner-full-control"
        );
        // Merged into a new policy, then nothing more to change.
        let text = upsert_statements(None, &[acl.clone(), write.clone()])
            .unwrap()
            .unwrap();
        assert_eq!(upsert_statements(Some(&text), &[acl, write]).unwrap(), None);
    }
}
