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

use hubfix_plugin_sdk::public_access::{self, ALL_ON};
use hubfix_plugin_sdk::s3control;
use hubfix_plugin_sdk::{Guest, Outcome, Params, PluginInfo, Request, plugin_info};

const NAME: &str = "s3-account-public-access-block";
const CONTROLS: &[&str] = &["S3.1"];
const GET: &str = "s3control.get-public-access-block";
const PUT: &str = "s3control.put-public-access-block";

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
            return public_access::already_on("account", account);
        }
        match s3control::put_public_access_block(ALL_ON) {
            Err(e) => e.to_outcome(PUT),
            Ok(()) => public_access::turned_on(request.mode, "account", account, current.as_ref()),
        }
    }
}

hubfix_plugin_sdk::export!(AccountPublicAccessBlock);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_itself() {
        let info = AccountPublicAccessBlock::describe();
        assert_eq!(info.name, NAME);
        assert_eq!(info.controls, ["S3.1"]);
        assert_eq!(info.functions, [GET, PUT]);
    }
}
