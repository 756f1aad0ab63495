//! `iam-user-policies-to-group`: IAM users get their permissions from groups, not from
//! policies attached to them (Security Hub IAM.2; CIS AWS Foundations 1.2.0 1.16,
//! 1.4.0 1.15, 3.0.0 1.15).
//!
//! The finding names an `AwsIamUser` (by ARN, whose path is skipped, or by name). The
//! plugin reads the managed policies attached to the user and its inline policies; with
//! none the user is already compliant. Otherwise it creates the group
//! `<group-prefix><user>` (default prefix `hubfix-user-`; the name must start with the
//! host's create prefix), attaches the same managed policies to it, copies each inline
//! policy onto it under the same name, adds the user to it, and only then detaches the
//! managed policies from the user and deletes its inline policies. The user's effective
//! permissions are the same before and after; at no point has it fewer.
//!
//! `skipped`, with the reason, and nothing changed:
//! - the finding names no IAM user, or one of another account, or the user is gone;
//! - a group of that name already exists (an earlier run was interrupted, or someone
//!   chose the name): finish or undo it by hand, or set `group-prefix`.
//!
//! A user's inline policies fit a group (IAM allows 2,048 characters of them per user,
//! 5,120 per group). A user already in ten groups (IAM's quota) cannot join an eleventh:
//! the run fails at `iam:AddUserToGroup`, the new group stays, and the user keeps its
//! policies.

use hubfix_plugin_sdk::iam;
use hubfix_plugin_sdk::iam_entity::{Kind, finding_entity, valid_name};
use hubfix_plugin_sdk::{AwsError, Guest, Outcome, Params, PluginInfo, Request};

const NAME: &str = "iam-user-policies-to-group";
const CONTROLS: &[&str] = &["IAM.2"];
const LIST_ATTACHED: &str = "iam.list-attached-user-policies";
const LIST_INLINE: &str = "iam.list-user-policies";
const GET_INLINE: &str = "iam.get-user-policy";
const GET_GROUP: &str = "iam.get-group";
const CREATE_GROUP: &str = "iam.create-group";
const ATTACH_GROUP: &str = "iam.attach-group-policy";
const PUT_GROUP: &str = "iam.put-group-policy";
const ADD_USER: &str = "iam.add-user-to-group";
const DETACH_USER: &str = "iam.detach-user-policy";
const DELETE_INLINE: &str = "iam.delete-user-policy";
const GROUP_PREFIX: &str = "group-prefix";
const DEFAULT_PREFIX: &str = "hubfix-user-";

struct UserPoliciesToGroup;

impl Guest for UserPoliciesToGroup {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[
                LIST_ATTACHED,
                LIST_INLINE,
                GET_INLINE,
                GET_GROUP,
                CREATE_GROUP,
                ATTACH_GROUP,
                PUT_GROUP,
                ADD_USER,
                DETACH_USER,
                DELETE_INLINE,
            ],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let params = match Params::new(&request.params, &[GROUP_PREFIX]) {
            Ok(params) => params,
            Err(e) => return e.to_outcome(),
        };
        let prefix = params.get(GROUP_PREFIX).unwrap_or(DEFAULT_PREFIX);
        let user = match finding_entity(&request.finding) {
            Ok((Kind::User, name)) => name,
            Ok((kind, name)) => {
                return Outcome::skipped(format!(
                    "IAM.2 is about users; the finding names IAM {} {name}",
                    kind.word()
                ));
            }
            Err(reason) => return Outcome::skipped(reason),
        };
        let group = format!("{prefix}{user}");
        if !valid_name(Kind::Group, &group) {
            return Outcome::failed(format!(
                "parameter `{GROUP_PREFIX}` makes the group name {group:?}, which is no IAM group name (1 to 128 letters, digits and `+=,.@_-`)"
            ));
        }
        let stale = |m: String| {
            Outcome::skipped(format!(
                "IAM user {user} is gone ({m}); the finding is stale"
            ))
        };
        let attached = match iam::list_attached_user_policies(&user) {
            Ok(arns) => arns,
            Err(AwsError::NotFound(m)) => return stale(m),
            Err(e) => return e.to_outcome(LIST_ATTACHED),
        };
        let inline_names = match iam::list_user_policies(&user) {
            Ok(names) => names,
            Err(AwsError::NotFound(m)) => return stale(m),
            Err(e) => return e.to_outcome(LIST_INLINE),
        };
        if attached.is_empty() && inline_names.is_empty() {
            return Outcome::already_compliant(format!(
                "IAM user {user} has no policies attached directly"
            ));
        }
        let mut inline = Vec::with_capacity(inline_names.len());
        for name in &inline_names {
            match iam::get_user_policy(&user, name) {
                Ok(document) => inline.push((name.as_str(), document)),
                Err(e) => return e.to_outcome(GET_INLINE),
            }
        }
        match iam::get_group(&group) {
            Ok(_) => {
                return Outcome::skipped(format!(
                    "group {group} already exists (an interrupted earlier run, or someone chose the name); make sure it carries {user}'s policies, add {user} to it and remove them from the user, or delete the group, or set `{GROUP_PREFIX}`"
                ));
            }
            Err(AwsError::NotFound(_)) => {}
            Err(e) => return e.to_outcome(GET_GROUP),
        }
        if let Err(e) = iam::create_group(&group) {
            return e.to_outcome(CREATE_GROUP);
        }
        for arn in &attached {
            if let Err(e) = iam::attach_group_policy(&group, arn) {
                return e.to_outcome(ATTACH_GROUP);
            }
        }
        for (name, document) in &inline {
            if let Err(e) = iam::put_group_policy(&group, name, document) {
                return e.to_outcome(PUT_GROUP);
            }
        }
        if let Err(e) = iam::add_user_to_group(&group, &user) {
            return e.to_outcome(ADD_USER);
        }
        // Only now, with the group's permissions in effect, does the user lose its own.
        for arn in &attached {
            match iam::detach_user_policy(&user, arn) {
                Ok(()) | Err(AwsError::NotFound(_)) => {}
                Err(e) => return e.to_outcome(DETACH_USER),
            }
        }
        for name in &inline_names {
            match iam::delete_user_policy(&user, name) {
                Ok(()) | Err(AwsError::NotFound(_)) => {}
                Err(e) => return e.to_outcome(DELETE_INLINE),
            }
        }
        Outcome::remediated(format!(
            "{} {} to new group {group} and {} IAM user {user} to it",
            request.mode.verb("moved", "would move"),
            describe(&attached, &inline_names),
            request.mode.verb("added", "would add"),
        ))
    }
}

hubfix_plugin_sdk::export!(UserPoliciesToGroup);

/// "managed policies A, B and inline policy C", naming managed policies by their name.
fn describe(attached: &[String], inline: &[String]) -> String {
    let names: Vec<&str> = attached
        .iter()
        .map(|arn| arn.rsplit('/').next().unwrap_or(arn))
        .collect();
    let part = |kind: &str, list: &[&str]| match list.len() {
        0 => None,
        1 => Some(format!("{kind} policy {}", list[0])),
        _ => Some(format!("{kind} policies {}", list.join(", "))),
    };
    let inline: Vec<&str> = inline.iter().map(String::as_str).collect();
    [part("managed", &names), part("inline", &inline)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_moved_is_named() {
        let arns = [
            "arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned(),
            "arn:aws:iam::111111111111:policy/team/deploy".to_owned(),
        ];
        assert_eq!(
            describe(&arns, &["s3-logs".to_owned()]),
            "managed policies ReadOnlyAccess, deploy and inline policy s3-logs"
        );
        assert_eq!(describe(&arns[..1], &[]), "managed policy ReadOnlyAccess");
        assert_eq!(
            describe(&[], &["a".to_owned(), "b".to_owned()]),
            "inline policies a, b"
        );
    }
}
