//! `s3-account-public-access-block`: turns on the four account-level S3 Block Public
//! Access settings of the finding's account (Security Hub S3.1; CIS AWS Foundations 1.4.0
//! 2.1.5.1, 3.0.0 2.1.4).
//!
//! Reads `s3control.get-public-access-block`; when any of `BlockPublicAcls`,
//! `IgnorePublicAcls`, `BlockPublicPolicy` and `RestrictPublicBuckets` is off (or the
//! account has no configuration at all), one `s3control.put-public-access-block` turns
//! all four on. Settings already on stay on; nothing is ever turned off. The finding must
//! name the account (`AwsAccount`), as Security Hub's S3.1 findings do. No parameters.
//!
//! Account-level Block Public Access overrides every bucket's own settings: a bucket that
//! is public on purpose (a static website) stops being public. Accounts that host such
//! buckets need an exception or an override to `notify` in the policy.

use hubfix_plugin_sdk::s3control::{self, PublicAccessBlock};
use hubfix_plugin_sdk::{Guest, Mode, Outcome, Params, PluginInfo, Request, plugin_info};

const NAME: &str = "s3-account-public-access-block";
const CONTROLS: &[&str] = &["S3.1"];
const GET: &str = "s3control.get-public-access-block";
const PUT: &str = "s3control.put-public-access-block";

/// All four settings on: what S3.1 checks.
const ALL_ON: PublicAccessBlock = PublicAccessBlock {
    block_public_acls: true,
    ignore_public_acls: true,
    block_public_policy: true,
    restrict_public_buckets: true,
};

struct AccountPublicAccessBlock;

impl Guest for AccountPublicAccessBlock {
    fn describe() -> PluginInfo {
        plugin_info(NAME, env!("CARGO_PKG_VERSION"), CONTROLS, &[GET, PUT])
    }

    fn remediate(request: Request) -> Outcome {
        if let Err(e) = Params::new(&request.params, &[]) {
            return e.to_outcome();
        }
        let account = &request.finding.account_id;
        let current = match s3control::get_public_access_block() {
            Ok(current) => current,
            Err(e) => return e.to_outcome(GET),
        };
        if current == Some(ALL_ON) {
            return Outcome::already_compliant(format!(
                "all four S3 Block Public Access settings are already on for account {account}"
            ));
        }
        match s3control::put_public_access_block(ALL_ON) {
            Err(e) => e.to_outcome(PUT),
            Ok(()) => turned_on(request.mode, account, current.as_ref()),
        }
    }
}

hubfix_plugin_sdk::export!(AccountPublicAccessBlock);

/// The settings that were off, by their AWS names.
fn off(current: Option<&PublicAccessBlock>) -> Vec<&'static str> {
    let Some(c) = current else {
        return vec![
            "BlockPublicAcls",
            "IgnorePublicAcls",
            "BlockPublicPolicy",
            "RestrictPublicBuckets",
        ];
    };
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

fn turned_on(mode: Mode, account: &str, current: Option<&PublicAccessBlock>) -> Outcome {
    let was = match current {
        None => "the account had no Block Public Access configuration".to_owned(),
        Some(_) => format!("{} were off", off(current).join(", ")),
    };
    Outcome::remediated(format!(
        "{} all four S3 Block Public Access settings for account {account} ({was})",
        mode.verb("turned on", "would turn on"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubfix_plugin_sdk::Status;

    #[test]
    fn describes_itself() {
        let info = AccountPublicAccessBlock::describe();
        assert_eq!(info.name, NAME);
        assert_eq!(info.controls, ["S3.1"]);
        assert_eq!(info.functions, [GET, PUT]);
    }

    #[test]
    fn the_message_names_what_was_off() {
        let partly = PublicAccessBlock {
            ignore_public_acls: false,
            restrict_public_buckets: false,
            ..ALL_ON
        };
        let done = turned_on(Mode::Apply, "111111111111", Some(&partly));
        assert_eq!(done.status, Status::Remediated);
        assert!(
            done.message
                .contains("IgnorePublicAcls, RestrictPublicBuckets were off"),
            "{}",
            done.message
        );
        let none = turned_on(Mode::Plan, "111111111111", None);
        assert!(
            none.message.starts_with("would turn on"),
            "{}",
            none.message
        );
        assert!(
            none.message
                .contains("no Block Public Access configuration")
        );
        assert!(off(Some(&ALL_ON)).is_empty());
    }
}
