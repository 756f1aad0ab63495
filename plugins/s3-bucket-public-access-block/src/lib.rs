//! `s3-bucket-public-access-block`: turns on the four Block Public Access settings of the
//! bucket the finding names (Security Hub S3.8, CIS AWS Foundations 1.4.0 2.1.5.2 and
//! 3.0.0 2.1.4.2; and CloudTrail.6, "the S3 bucket CloudTrail logs to is not publicly
//! accessible", CIS 1.4.0 3.3).
//!
//! The finding names an `AwsS3Bucket` (`arn:aws:s3:::NAME`). The plugin reads
//! `s3.get-bucket-public-access-block`; when any of `BlockPublicAcls`,
//! `IgnorePublicAcls`, `BlockPublicPolicy` and `RestrictPublicBuckets` is off (or the
//! bucket has no configuration), one `s3.put-bucket-public-access-block` turns all four
//! on. Settings already on stay on; nothing is turned off. A bucket that no longer exists
//! is `skipped` (not found). No parameters.
//!
//! A bucket that is public on purpose (a static website) stops being public: such buckets
//! need an exception or an override to `notify` in the policy.

use hubfix_plugin_sdk::public_access::{self, ALL_ON};
use hubfix_plugin_sdk::s3;
use hubfix_plugin_sdk::{Guest, Outcome, Params, PluginInfo, Request, plugin_info};

const NAME: &str = "s3-bucket-public-access-block";
const CONTROLS: &[&str] = &["S3.8", "CloudTrail.6"];
const GET: &str = "s3.get-bucket-public-access-block";
const PUT: &str = "s3.put-bucket-public-access-block";
const BUCKET: &str = "AwsS3Bucket";

struct BucketPublicAccessBlock;

impl Guest for BucketPublicAccessBlock {
    fn describe() -> PluginInfo {
        plugin_info(NAME, env!("CARGO_PKG_VERSION"), CONTROLS, &[GET, PUT])
    }

    fn remediate(request: Request) -> Outcome {
        if let Err(e) = Params::new(&request.params, &[]) {
            return e.to_outcome();
        }
        let Some(bucket) = request.finding.resource_short_id(BUCKET) else {
            return Outcome::skipped(format!(
                "the finding names no {BUCKET} resource; this plugin fixes S3 buckets only"
            ));
        };
        let current = match s3::get_bucket_public_access_block(bucket) {
            Ok(current) => current,
            Err(e) => return e.to_outcome(GET),
        };
        if current == Some(ALL_ON) {
            return public_access::already_on("bucket", bucket);
        }
        match s3::put_bucket_public_access_block(bucket, ALL_ON) {
            Err(e) => e.to_outcome(PUT),
            Ok(()) => public_access::turned_on(request.mode, "bucket", bucket, current.as_ref()),
        }
    }
}

hubfix_plugin_sdk::export!(BucketPublicAccessBlock);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_itself() {
        let info = BucketPublicAccessBlock::describe();
        assert_eq!(info.name, NAME);
        assert_eq!(info.controls, ["S3.8", "CloudTrail.6"]);
        assert_eq!(info.functions, [GET, PUT]);
    }
}
