//! IAM users, groups and roles named by a finding.

use crate::Finding;

/// A kind of IAM identity a finding can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `AwsIamUser`, ARN `...:user/PATH/NAME`.
    User,
    /// `AwsIamGroup`, ARN `...:group/PATH/NAME`.
    Group,
    /// `AwsIamRole`, ARN `...:role/PATH/NAME`.
    Role,
}

impl Kind {
    /// The ASFF resource type.
    pub fn asff(self) -> &'static str {
        match self {
            Kind::User => "AwsIamUser",
            Kind::Group => "AwsIamGroup",
            Kind::Role => "AwsIamRole",
        }
    }

    /// The word for messages: `user`, `group`, `role`.
    pub fn word(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Role => "role",
        }
    }

    /// IAM's longest name of the kind (users and roles 64, groups 128).
    pub fn max_len(self) -> usize {
        match self {
            Kind::Group => 128,
            Kind::User | Kind::Role => 64,
        }
    }
}

/// The characters IAM allows in user, group, role and policy names.
pub fn name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)
}

/// Whether `name` is a valid IAM name of `kind`: 1 to [`Kind::max_len`] of [`name_byte`]s.
pub fn valid_name(kind: Kind, name: &str) -> bool {
    !name.is_empty() && name.len() <= kind.max_len() && name.bytes().all(name_byte)
}

/// The ARN of the AWS-managed policy `name` in `partition`
/// (`arn:aws:iam::aws:policy/AWSSupportAccess`).
pub fn aws_managed_policy_arn(partition: &str, name: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{name}")
}

/// The first IAM user, group or role the finding names (in that order of kinds), by
/// name: an ARN's path is skipped (`user/contractors/alice` is `alice`). An ARN of
/// another account or service, or an id that is no valid name, is an error.
pub fn finding_entity(finding: &Finding) -> Result<(Kind, String), String> {
    for kind in [Kind::User, Kind::Group, Kind::Role] {
        if let Some(resource) = finding.resource(kind.asff()) {
            return entity_name(resource.id.trim(), kind, &finding.account_id)
                .map(|name| (kind, name));
        }
    }
    Err("the finding names no IAM user, group or role".to_owned())
}

/// The name of an IAM identity ARN of `kind` in `account_id`
/// (`arn:PARTITION:iam::ACCOUNT:user/PATH/NAME`, the path optional), or of a bare name.
pub fn entity_name(id: &str, kind: Kind, account_id: &str) -> Result<String, String> {
    let word = kind.word();
    let name = match id.strip_prefix("arn:") {
        None => id,
        Some(rest) => {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [_partition, service, region, account, resource] = parts[..] else {
                return Err(format!("{id:?} is not an IAM {word} ARN"));
            };
            let prefix = format!("{word}/");
            let Some(path_and_name) = resource.strip_prefix(prefix.as_str()) else {
                return Err(format!("{id:?} is not an IAM {word} ARN"));
            };
            if service != "iam" || !region.is_empty() {
                return Err(format!("{id:?} is not an IAM {word} ARN"));
            }
            if account != account_id {
                return Err(format!(
                    "IAM {word} {path_and_name} belongs to account {account}, not to the finding's account {account_id}"
                ));
            }
            path_and_name.rsplit('/').next().unwrap_or_default()
        }
    };
    if !valid_name(kind, name) {
        return Err(format!(
            "the finding's {} id {id:?} is neither an IAM {word} ARN nor a {word} name",
            kind.asff()
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_arns_with_paths_of_the_findings_account() {
        let ok = |id: &str, kind| entity_name(id, kind, "111111111111");
        assert_eq!(
            ok(
                "arn:aws:iam::111111111111:user/contractors/alice",
                Kind::User
            ),
            Ok("alice".into())
        );
        assert_eq!(
            ok("arn:aws-cn:iam::111111111111:group/devs", Kind::Group),
            Ok("devs".into())
        );
        assert_eq!(ok("runner", Kind::Role), Ok("runner".into()));
        assert!(ok("arn:aws:iam::222222222222:user/alice", Kind::User).is_err());
        assert!(ok("arn:aws:iam::111111111111:role/alice", Kind::User).is_err());
        assert!(ok("arn:aws:s3:::111111111111:user/alice", Kind::User).is_err());
        assert!(ok("arn:aws:iam::111111111111:user/", Kind::User).is_err());
        assert!(ok("a b", Kind::User).is_err());
        let (long_group, long_user) = ("g".repeat(128), "u".repeat(65));
        assert!(ok(&long_group, Kind::Group).is_ok());
        assert!(ok(&long_user, Kind::User).is_err());
    }
}
