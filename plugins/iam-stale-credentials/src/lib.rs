//! `iam-stale-credentials`: deactivates old or unused IAM access keys and removes unused
//! console passwords (Security Hub IAM.3, IAM.8, IAM.22; CIS AWS Foundations 1.4.0 1.3 and
//! 1.14, 3.0.0 1.12 and 1.14).
//!
//! The control selects the rule:
//!
//! - **IAM.3** (access keys rotated every 90 days): every `Active` access key created more
//!   than `max-key-age-days` (default 90) days ago is deactivated (`Inactive`, not deleted:
//!   it can be turned back on). Rotation itself needs the new secret delivered to the
//!   workload, which only its owner can do. The console password is not this control's.
//! - **IAM.8** (credentials unused for 90 days) and **IAM.22** (unused for 45 days): every
//!   `Active` access key last used (or, never used, created) more than `max-unused-days`
//!   (default 90 for IAM.8, 45 for IAM.22) days ago is deactivated, and the console
//!   password (login profile) is deleted when it was last used (or, never used, created)
//!   more than that many days ago. A key or password used within the window is kept.
//!
//! The finding names an `AwsIamUser` (by ARN, whose path is skipped:
//! `user/contractors/alice` is `alice`); for IAM.8 it may name the account instead
//! (`AwsAccount`), and then every user of the account is checked. A user that does not
//! exist (any more) is `skipped` as not found; any other resource type is `skipped`.

use hubfix_plugin_sdk::iam::{self, AccessKey, User};
use hubfix_plugin_sdk::iam_entity::{Kind, entity_name};
use hubfix_plugin_sdk::{AwsError, Finding, Guest, Mode, Outcome, Params, PluginInfo, Request};

const NAME: &str = "iam-stale-credentials";
const CONTROLS: &[&str] = &["IAM.3", "IAM.8", "IAM.22"];
const LIST_USERS: &str = "iam.list-users";
const LIST_KEYS: &str = "iam.list-access-keys";
const LAST_USED: &str = "iam.get-access-key-last-used";
const UPDATE_KEY: &str = "iam.update-access-key";
const GET_LOGIN: &str = "iam.get-login-profile";
const DELETE_LOGIN: &str = "iam.delete-login-profile";
const USER: &str = "AwsIamUser";
const ACCOUNT: &str = "AwsAccount";
const MAX_KEY_AGE: &str = "max-key-age-days";
const MAX_UNUSED: &str = "max-unused-days";
const DAY: i64 = 86_400;

struct StaleCredentials;

/// What the control asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    /// IAM.3: active keys older than this many days.
    KeyAge(u32),
    /// IAM.8 / IAM.22: keys and password unused for more than this many days.
    Unused(u32),
}

impl Guest for StaleCredentials {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[
                LIST_USERS,
                LIST_KEYS,
                LAST_USED,
                UPDATE_KEY,
                GET_LOGIN,
                DELETE_LOGIN,
            ],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let rule = match rule(&request) {
            Ok(rule) => rule,
            Err(outcome) => return outcome,
        };
        let target = match target(&request.finding) {
            Ok(target) => target,
            Err(reason) => return Outcome::skipped(reason),
        };
        let now = match hubfix_plugin_sdk::now_secs() {
            Ok(now) => now,
            Err(failed) => return failed,
        };
        let users = match iam::list_users() {
            Ok(users) => users,
            Err(e) => return e.to_outcome(LIST_USERS),
        };
        let users: Vec<User> = match &target {
            Target::Account => users,
            Target::User(name) => match users.into_iter().find(|u| &u.name == name) {
                Some(user) => vec![user],
                None => return not_found(name),
            },
        };
        let mut changes = Vec::new();
        for user in &users {
            match fix_user(user, rule, now, request.mode) {
                Ok(done) => changes.extend(done),
                Err(Fail::NotFound) if matches!(target, Target::User(_)) => {
                    return not_found(&user.name);
                }
                // Deleted while the account's users were being checked: nothing to fix.
                Err(Fail::NotFound) => {}
                Err(Fail::Outcome(outcome)) => return outcome,
            }
        }
        let whom = match &target {
            Target::User(name) => format!("IAM user {name}"),
            Target::Account => format!("the {} IAM users of the account", users.len()),
        };
        if changes.is_empty() {
            return Outcome::already_compliant(format!("{whom}: {}", compliant_text(rule)));
        }
        Outcome::remediated(format!("{whom}: {}", changes.join("; ")))
    }
}

hubfix_plugin_sdk::export!(StaleCredentials);

/// Whom the finding is about.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    User(String),
    Account,
}

enum Fail {
    NotFound,
    Outcome(Outcome),
}

fn not_found(name: &str) -> Outcome {
    Outcome::skipped(format!("IAM user {name} not found; the finding is stale"))
}

fn compliant_text(rule: Rule) -> String {
    match rule {
        Rule::KeyAge(days) => format!("no active access key is older than {days} days"),
        Rule::Unused(days) => {
            format!("no active access key or console password is unused for more than {days} days")
        }
    }
}

/// The rule of the request's control, with its threshold from the parameters.
fn rule(request: &Request) -> Result<Rule, Outcome> {
    let params =
        Params::new(&request.params, &[MAX_KEY_AGE, MAX_UNUSED]).map_err(|e| e.to_outcome())?;
    let days = |key: &str, default: u32| -> Result<u32, Outcome> {
        params
            .u32_in(key, 1..=3650)
            .map(|v| v.unwrap_or(default))
            .map_err(|e| e.to_outcome())
    };
    match request.finding.control_id.as_str() {
        "IAM.3" => Ok(Rule::KeyAge(days(MAX_KEY_AGE, 90)?)),
        "IAM.8" => Ok(Rule::Unused(days(MAX_UNUSED, 90)?)),
        "IAM.22" => Ok(Rule::Unused(days(MAX_UNUSED, 45)?)),
        other => Err(Outcome::skipped(format!(
            "control {other:?} is not one this plugin fixes (IAM.3, IAM.8, IAM.22)"
        ))),
    }
}

/// The user the finding names, or the account; or why there is nothing to act on.
fn target(finding: &Finding) -> Result<Target, String> {
    if let Some(resource) = finding.resource(USER) {
        return entity_name(resource.id.trim(), Kind::User, &finding.account_id).map(Target::User);
    }
    if let Some(resource) = finding.resource(ACCOUNT) {
        let id = resource.id.trim();
        let account = id.strip_prefix("AWS::::Account:").unwrap_or(id);
        if account != finding.account_id {
            return Err(format!(
                "the finding names account {account}, not its own account {}",
                finding.account_id
            ));
        }
        return Ok(Target::Account);
    }
    Err(format!(
        "the finding names no {USER} or {ACCOUNT} resource; this plugin fixes IAM user credentials only"
    ))
}

/// Whole days from `then` to `now` (0 for a time in the future).
fn days_since(then: i64, now: i64) -> i64 {
    (now.saturating_sub(then) / DAY).max(0)
}

/// Fixes one user's credentials; returns what was (or would be) changed.
fn fix_user(user: &User, rule: Rule, now: i64, mode: Mode) -> Result<Vec<String>, Fail> {
    let aws = |call: &'static str| {
        move |e: AwsError| match e {
            AwsError::NotFound(_) => Fail::NotFound,
            e => Fail::Outcome(e.to_outcome(call)),
        }
    };
    let keys = iam::list_access_keys(&user.name).map_err(aws(LIST_KEYS))?;
    let mut changes = Vec::new();
    for key in keys.iter().filter(|k| k.status == "Active") {
        let reason = match rule {
            Rule::KeyAge(max) => key_too_old(key, max, now),
            Rule::Unused(max) => {
                let last_used = iam::get_access_key_last_used(&key.id).map_err(aws(LAST_USED))?;
                unused_too_long("access key", key.created, last_used, max, now)
            }
        };
        if let Some(reason) = reason {
            iam::update_access_key(&user.name, &key.id, "Inactive").map_err(aws(UPDATE_KEY))?;
            changes.push(format!(
                "{} access key {} ({reason})",
                mode.verb("deactivated", "would deactivate"),
                key.id
            ));
        }
    }
    if let Rule::Unused(max) = rule {
        let login = iam::get_login_profile(&user.name).map_err(aws(GET_LOGIN))?;
        if let Some(created) = login {
            if let Some(reason) = unused_too_long(
                "console password",
                created,
                user.password_last_used,
                max,
                now,
            ) {
                iam::delete_login_profile(&user.name).map_err(aws(DELETE_LOGIN))?;
                changes.push(format!(
                    "{} the console password ({reason})",
                    mode.verb("deleted", "would delete")
                ));
            }
        }
    }
    Ok(changes)
}

/// Why an active key is too old for IAM.3, or `None` when it is not.
fn key_too_old(key: &AccessKey, max: u32, now: i64) -> Option<String> {
    let age = days_since(key.created, now);
    (age > i64::from(max)).then(|| format!("created {age} days ago, more than {max}"))
}

/// Why a credential is unused for too long, or `None` when it was used (or, never used,
/// created) within `max` days.
fn unused_too_long(
    what: &str,
    created: i64,
    last_used: Option<i64>,
    max: u32,
    now: i64,
) -> Option<String> {
    let (since, text) = match last_used {
        Some(t) => (t, "last used"),
        None => (created, "never used, created"),
    };
    let days = days_since(since, now);
    (days > i64::from(max)).then(|| format!("{what} {text} {days} days ago, more than {max}"))
}

#[cfg(test)]
mod tests {
    use hubfix_plugin_sdk::Resource;

    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn finding(control: &str, resources: &[(&str, &str)]) -> Finding {
        Finding {
            id: "f".into(),
            control_id: control.into(),
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

    fn request(control: &str, params: &[(&str, &str)]) -> Request {
        Request {
            finding: finding(control, &[]),
            params: params
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            mode: Mode::Apply,
        }
    }

    #[test]
    fn describes_itself() {
        let info = StaleCredentials::describe();
        assert_eq!(info.name, NAME);
        assert_eq!(info.controls, ["IAM.3", "IAM.8", "IAM.22"]);
        assert_eq!(info.functions.len(), 6);
    }

    #[test]
    fn the_control_selects_the_rule_and_parameters_its_threshold() {
        assert_eq!(rule(&request("IAM.3", &[])).ok(), Some(Rule::KeyAge(90)));
        assert_eq!(rule(&request("IAM.8", &[])).ok(), Some(Rule::Unused(90)));
        assert_eq!(rule(&request("IAM.22", &[])).ok(), Some(Rule::Unused(45)));
        assert_eq!(
            rule(&request("IAM.3", &[(MAX_KEY_AGE, "30")])).ok(),
            Some(Rule::KeyAge(30))
        );
        assert_eq!(
            rule(&request("IAM.22", &[(MAX_UNUSED, "60")])).ok(),
            Some(Rule::Unused(60))
        );
        for bad in [
            request("IAM.3", &[(MAX_KEY_AGE, "0")]),
            request("IAM.3", &[(MAX_KEY_AGE, "x")]),
            request("IAM.8", &[("days", "3")]),
        ] {
            let outcome = rule(&bad).unwrap_err();
            assert_eq!(outcome.status, hubfix_plugin_sdk::Status::Failed);
        }
        let other = rule(&request("IAM.4", &[])).unwrap_err();
        assert_eq!(other.status, hubfix_plugin_sdk::Status::Skipped);
    }

    #[test]
    fn user_names_come_from_arns_with_or_without_a_path() {
        let target_of = |control, resources: &[(&str, &str)]| target(&finding(control, resources));
        assert_eq!(
            target_of(
                "IAM.3",
                &[(USER, "arn:aws:iam::111111111111:user/contractors/alice")]
            ),
            Ok(Target::User("alice".into()))
        );
        assert_eq!(
            target_of("IAM.3", &[(USER, "arn:aws:iam::111111111111:user/a/b/bob")]),
            Ok(Target::User("bob".into()))
        );
        assert_eq!(
            target_of("IAM.8", &[(USER, "arn:aws:iam::111111111111:user/carol")]),
            Ok(Target::User("carol".into()))
        );
        assert_eq!(
            target_of("IAM.8", &[(ACCOUNT, "AWS::::Account:111111111111")]),
            Ok(Target::Account)
        );
        assert!(
            target_of("IAM.8", &[(ACCOUNT, "AWS::::Account:999999999999")])
                .unwrap_err()
                .contains("999999999999")
        );
        assert!(
            target_of("IAM.3", &[("AwsS3Bucket", "arn:aws:s3:::b")])
                .unwrap_err()
                .contains("no AwsIamUser")
        );
        for hostile in [
            "arn:aws:iam::999999999999:user/alice",
            "arn:aws:iam::111111111111:role/alice",
            "arn:aws:s3:::user/alice",
            "arn:aws:iam:eu-west-1:111111111111:user/alice",
            "arn:aws:iam::111111111111:user/",
            "arn:aws:iam::111111111111:user/a b",
            "",
        ] {
            assert!(
                target_of("IAM.3", &[(USER, hostile)]).is_err(),
                "{hostile:?} was taken"
            );
        }
    }

    #[test]
    fn old_keys_fail_iam_3_and_recent_ones_pass() {
        let key = |days: i64| AccessKey {
            id: "AKIAIOSFODNN7EXAMPLE".into(),
            status: "Active".into(),
            created: NOW - days * DAY - 60,
        };
        assert!(key_too_old(&key(91), 90, NOW).unwrap().contains("91 days"));
        assert_eq!(key_too_old(&key(90), 90, NOW), None);
        assert_eq!(key_too_old(&key(1), 90, NOW), None);
    }

    #[test]
    fn a_credential_used_yesterday_is_kept_and_one_unused_is_not() {
        let ago = |days: i64| NOW - days * DAY;
        // Created long ago, used yesterday: kept.
        assert_eq!(
            unused_too_long("access key", ago(400), Some(ago(1)), 90, NOW),
            None
        );
        // Used long ago: removed.
        assert!(
            unused_too_long("access key", ago(400), Some(ago(100)), 90, NOW)
                .unwrap()
                .contains("last used 100 days ago")
        );
        // Never used: judged by its creation.
        assert!(
            unused_too_long("console password", ago(50), None, 45, NOW)
                .unwrap()
                .contains("never used, created 50 days ago")
        );
        assert_eq!(unused_too_long("access key", ago(10), None, 45, NOW), None);
        // A time in the future counts as now.
        assert_eq!(days_since(NOW + DAY, NOW), 0);
    }
}
