//! `cloudtrail-log-file-validation`: turns on log file validation for the finding's trail
//! (Security Hub CloudTrail.4; CIS AWS Foundations 1.2.0 2.2, 1.4.0 3.2, 3.0.0 3.2).
//!
//! The finding names the trail (`AwsCloudTrailTrail`, by ARN). The plugin reads it with
//! `cloudtrail.get-trail`; a trail that validates its log files already passes. Otherwise
//! it calls `cloudtrail.update-trail` with `EnableLogFileValidation` and nothing else, so
//! every other setting stays as it is. CloudTrail then writes a signed digest file every
//! hour, which `aws cloudtrail validate-logs` checks.
//!
//! Skipped, with the reason: a finding that names no trail, a trail that no longer exists
//! (not found), an organization trail of another account (only its management account
//! can change it), and a trail whose home region is not the finding's (UpdateTrail is
//! made in the home region). No parameters.

use hubfix_plugin_sdk::cloudtrail::{self, Trail, TrailUpdate};
use hubfix_plugin_sdk::trail::{changeable, finding_trail};
use hubfix_plugin_sdk::{AwsError, Finding, Guest, Outcome, Params, PluginInfo, Request};

const NAME: &str = "cloudtrail-log-file-validation";
const CONTROLS: &[&str] = &["CloudTrail.4"];
const GET: &str = "cloudtrail.get-trail";
const UPDATE: &str = "cloudtrail.update-trail";

struct LogFileValidation;

impl Guest for LogFileValidation {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(NAME, env!("CARGO_PKG_VERSION"), CONTROLS, &[GET, UPDATE])
    }

    fn remediate(request: Request) -> Outcome {
        if let Err(e) = Params::new(&request.params, &[]) {
            return e.to_outcome();
        }
        let finding = &request.finding;
        let arn = match finding_trail(finding) {
            Ok(arn) => arn,
            Err(skipped) => return skipped,
        };
        let trail = match cloudtrail::get_trail(arn) {
            Ok(trail) => trail,
            Err(AwsError::NotFound(_)) => return not_found(arn),
            Err(e) => return e.to_outcome(GET),
        };
        if let Some(done) = decide(&trail, finding) {
            return done;
        }
        let update = TrailUpdate {
            enable_log_file_validation: Some(true),
            kms_key_id: None,
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
            is_multi_region_trail: None,
            include_global_service_events: None,
        };
        match cloudtrail::update_trail(arn, &update) {
            Ok(_) => Outcome::remediated(format!(
                "{} log file validation of trail {} (CloudTrail writes an hourly signed digest of its log files)",
                request.mode.verb("turned on", "would turn on"),
                trail.name
            )),
            Err(AwsError::NotFound(_)) => not_found(arn),
            Err(e) => e.to_outcome(UPDATE),
        }
    }
}

hubfix_plugin_sdk::export!(LogFileValidation);

fn not_found(arn: &str) -> Outcome {
    Outcome::skipped(format!("trail {arn} not found; the finding is stale"))
}

/// The outcome when there is nothing to change (already validating, or not changeable
/// from here); `None` when validation is to be turned on.
fn decide(trail: &Trail, finding: &Finding) -> Option<Outcome> {
    if trail.log_file_validation_enabled {
        return Some(Outcome::already_compliant(format!(
            "log file validation of trail {} is already on",
            trail.name
        )));
    }
    changeable(trail, finding).err()
}

#[cfg(test)]
mod tests {
    use hubfix_plugin_sdk::{Resource, Status};

    use super::*;

    const ARN: &str = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/main";

    fn finding() -> Finding {
        Finding {
            id: "f".into(),
            control_id: "CloudTrail.4".into(),
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

    fn trail(validation: bool) -> Trail {
        Trail {
            name: "main".into(),
            trail_arn: ARN.into(),
            home_region: "eu-west-1".into(),
            s3_bucket_name: Some("logs".into()),
            s3_key_prefix: None,
            is_multi_region_trail: true,
            is_organization_trail: false,
            include_global_service_events: true,
            log_file_validation_enabled: validation,
            kms_key_id: None,
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
            has_custom_event_selectors: false,
        }
    }

    #[test]
    fn describes_itself() {
        let info = LogFileValidation::describe();
        assert_eq!(info.name, NAME);
        assert_eq!(info.controls, ["CloudTrail.4"]);
        assert_eq!(info.functions, [GET, UPDATE]);
    }

    #[test]
    fn validating_trails_pass_others_are_updated_unless_not_changeable_here() {
        let done = decide(&trail(true), &finding()).unwrap();
        assert_eq!(done.status, Status::AlreadyCompliant);
        assert!(decide(&trail(false), &finding()).is_none());

        let mut org = trail(false);
        org.is_organization_trail = true;
        org.trail_arn = "arn:aws:cloudtrail:eu-west-1:999999999999:trail/org".into();
        let skipped = decide(&org, &finding()).unwrap();
        assert_eq!(skipped.status, Status::Skipped);
        assert!(
            skipped.message.contains("organization trail"),
            "{}",
            skipped.message
        );

        let mut away = trail(false);
        away.home_region = "us-east-1".into();
        assert_eq!(decide(&away, &finding()).unwrap().status, Status::Skipped);
        // Already on wins over where it lives: nothing to do either way.
        away.log_file_validation_enabled = true;
        assert_eq!(
            decide(&away, &finding()).unwrap().status,
            Status::AlreadyCompliant
        );
        assert_eq!(not_found(ARN).status, Status::Skipped);
        assert!(not_found(ARN).message.contains("not found"));
    }
}
