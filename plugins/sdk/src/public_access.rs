//! S3 Block Public Access, as the account (S3.1) and bucket (S3.8) plugins turn it on: all
//! four settings, and what the note says was off.

use crate::s3control::PublicAccessBlock;
use crate::{Mode, Outcome};

/// All four settings on: what S3.1 and S3.8 check.
pub const ALL_ON: PublicAccessBlock = PublicAccessBlock {
    block_public_acls: true,
    ignore_public_acls: true,
    block_public_policy: true,
    restrict_public_buckets: true,
};

/// The settings that are off, by their AWS names; all four when there is no configuration.
pub fn off(current: Option<&PublicAccessBlock>) -> Vec<&'static str> {
    let c = current.copied().unwrap_or(PublicAccessBlock {
        block_public_acls: false,
        ignore_public_acls: false,
        block_public_policy: false,
        restrict_public_buckets: false,
    });
    [
        (c.block_public_acls, "BlockPublicAcls"),
        (c.ignore_public_acls, "IgnorePublicAcls"),
        (c.block_public_policy, "BlockPublicPolicy"),
        (c.restrict_public_buckets, "RestrictPublicBuckets"),
    ]
    .into_iter()
    .filter(|(on, _)| !on)
    .map(|(_, name)| name)
    .collect()
}

/// The outcome once all four are on (or would be, in plan mode) for `kind` `name`
/// (`"bucket"`, `"logs"`), saying what was off before.
pub fn turned_on(
    mode: Mode,
    kind: &str,
    name: &str,
    current: Option<&PublicAccessBlock>,
) -> Outcome {
    let was = match current {
        None => format!("the {kind} had no Block Public Access configuration"),
        Some(_) => format!("{} were off", off(current).join(", ")),
    };
    Outcome::remediated(format!(
        "{} all four S3 Block Public Access settings for {kind} {name} ({was})",
        mode.verb("turned on", "would turn on"),
    ))
}

/// The outcome when all four are already on for `kind` `name`.
pub fn already_on(kind: &str, name: &str) -> Outcome {
    Outcome::already_compliant(format!(
        "all four S3 Block Public Access settings are already on for {kind} {name}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_lists_the_settings_that_are_off() {
        assert_eq!(off(None).len(), 4);
        assert!(off(Some(&ALL_ON)).is_empty());
        let partly = PublicAccessBlock {
            ignore_public_acls: false,
            restrict_public_buckets: false,
            ..ALL_ON
        };
        assert_eq!(
            off(Some(&partly)),
            ["IgnorePublicAcls", "RestrictPublicBuckets"]
        );
        let o = turned_on(Mode::Plan, "bucket", "b", Some(&partly));
        assert_eq!(
            o.message,
            "would turn on all four S3 Block Public Access settings for bucket b \
             (IgnorePublicAcls, RestrictPublicBuckets were off)"
        );
        let o = turned_on(Mode::Apply, "account", "111111111111", None);
        assert!(
            o.message
                .ends_with("(the account had no Block Public Access configuration)")
        );
    }
}
