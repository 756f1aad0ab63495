//! `wit/s3.wit`: bucket-level S3 operations. Buckets are named by name.

use super::{on_target, row};
use crate::{HostFunction, S3_BUCKET, Target};

pub(super) const FUNCTIONS: &[HostFunction] = &[
    row(
        "s3.get-bucket-public-access-block",
        "GetPublicAccessBlock",
        &[on_target("s3:GetBucketPublicAccessBlock")],
        Target::Read,
    ),
    row(
        "s3.put-bucket-public-access-block",
        "PutPublicAccessBlock",
        &[on_target("s3:PutBucketPublicAccessBlock")],
        Target::Resource(S3_BUCKET),
    ),
    row(
        "s3.get-bucket-policy",
        "GetBucketPolicy",
        &[on_target("s3:GetBucketPolicy")],
        Target::Read,
    ),
    row(
        "s3.put-bucket-policy",
        "PutBucketPolicy",
        &[on_target("s3:PutBucketPolicy")],
        Target::Resource(S3_BUCKET),
    ),
    row(
        "s3.get-bucket-encryption",
        "GetBucketEncryption",
        &[on_target("s3:GetEncryptionConfiguration")],
        Target::Read,
    ),
    row(
        "s3.put-bucket-encryption",
        "PutBucketEncryption",
        &[on_target("s3:PutEncryptionConfiguration")],
        Target::Resource(S3_BUCKET),
    ),
    row(
        "s3.get-bucket-logging",
        "GetBucketLogging",
        &[on_target("s3:GetBucketLogging")],
        Target::Read,
    ),
    row(
        "s3.put-bucket-logging",
        "PutBucketLogging",
        &[on_target("s3:PutBucketLogging")],
        Target::Resource(S3_BUCKET),
    ),
    row(
        "s3.create-bucket",
        "CreateBucket",
        // `HeadBucket` first (an existing bucket of the account is reused): s3:ListBucket.
        &[on_target("s3:CreateBucket"), on_target("s3:ListBucket")],
        Target::Create(S3_BUCKET),
    ),
];
