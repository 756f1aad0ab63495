//! `hubfix:plugin/s3`: bucket-level S3 operations in the finding's account.
//!
//! The client uses path-style addressing (bucket names with dots, and emulators, need it).
//! Every call on an existing bucket sends the finding's account as `ExpectedBucketOwner`:
//! bucket names are global, and a finding's bucket name must not reach another account's
//! bucket of that name. Names, policies and settings are checked here before the SDK sees
//! them.

use std::fmt;

use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketLoggingStatus, CreateBucketConfiguration, LoggingEnabled,
    ObjectOwnership, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use hubfix_contract::{HostFunction, function};

use crate::aws::{AwsClients, CallError, PluginCtx, error_text, map_sdk_error};
use crate::bindings::s3::{BucketEncryption, BucketLogging, Host, PublicAccessBlock};
use crate::bindings::types::AwsError;

const GET_PAB: &HostFunction = function("s3.get-bucket-public-access-block");
const PUT_PAB: &HostFunction = function("s3.put-bucket-public-access-block");
const GET_POLICY: &HostFunction = function("s3.get-bucket-policy");
const PUT_POLICY: &HostFunction = function("s3.put-bucket-policy");
const GET_ENCRYPTION: &HostFunction = function("s3.get-bucket-encryption");
const PUT_ENCRYPTION: &HostFunction = function("s3.put-bucket-encryption");
const GET_LOGGING: &HostFunction = function("s3.get-bucket-logging");
const PUT_LOGGING: &HostFunction = function("s3.put-bucket-logging");
const CREATE: &HostFunction = function("s3.create-bucket");

/// Most bytes of a bucket policy (S3's limit).
pub(crate) const MAX_POLICY_BYTES: usize = 20 << 10;
/// Most bytes of a KMS key id, ARN or alias ARN.
const MAX_KMS_KEY_BYTES: usize = 2048;
/// Most bytes of a log object key prefix (an object key has at most 1024).
const MAX_PREFIX_BYTES: usize = 512;

/// The region where `CreateBucket` takes no `LocationConstraint`.
const US_EAST_1: &str = "us-east-1";

fn s3(aws: &AwsClients) -> aws_sdk_s3::Client {
    aws.client(path_style_client)
}

fn path_style_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

fn invalid(function: &HostFunction, field: &str, problem: impl fmt::Display) -> CallError {
    AwsError::InvalidInput(format!("{}: `{field}` {problem}", function.name)).into()
}

/// Checks `name` against S3's rules for general purpose bucket names.
pub(crate) fn check_bucket_name(name: &str) -> Result<(), String> {
    if !(3..=63).contains(&name.len()) {
        return Err(format!(
            "`{}` has {} characters; a bucket name has 3 to 63",
            name.escape_debug(),
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Err(format!(
            "`{}` has `{}`; a bucket name has only lowercase letters, digits, `.` and `-`",
            name.escape_debug(),
            c.escape_debug()
        ));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alnum(name.chars().next()) || !alnum(name.chars().last()) {
        return Err(format!(
            "`{name}` must begin and end with a letter or a digit"
        ));
    }
    if name.contains("..") {
        return Err(format!("`{name}` has two adjacent periods"));
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(format!("`{name}` is formatted as an IP address"));
    }
    const PREFIXES: &[&str] = &["xn--", "sthree-", "amzn-s3-demo-"];
    const SUFFIXES: &[&str] = &["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    if let Some(p) = PREFIXES.iter().find(|p| name.starts_with(*p)) {
        return Err(format!("`{name}` starts with the reserved prefix `{p}`"));
    }
    if let Some(s) = SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        return Err(format!("`{name}` ends with the reserved suffix `{s}`"));
    }
    Ok(())
}

fn bucket_arg(function: &HostFunction, field: &str, name: &str) -> Result<(), CallError> {
    check_bucket_name(name).map_err(|e| invalid(function, field, e))
}

/// A policy S3 could accept: a JSON object of at most 20 KiB.
fn check_policy(policy: &str) -> Result<(), CallError> {
    if policy.len() > MAX_POLICY_BYTES {
        return Err(invalid(
            PUT_POLICY,
            "policy",
            format!(
                "has {} bytes; a bucket policy has at most {MAX_POLICY_BYTES}",
                policy.len()
            ),
        ));
    }
    match serde_json::from_str::<serde_json::Value>(policy) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(invalid(PUT_POLICY, "policy", "is not a JSON object")),
        Err(e) => Err(invalid(PUT_POLICY, "policy", format!("is not JSON: {e}"))),
    }
}

/// The SDK's algorithm for the WIT's `sse-algorithm`.
fn sse_algorithm(encryption: &BucketEncryption) -> Result<ServerSideEncryption, CallError> {
    let algorithm = match encryption.sse_algorithm.as_str() {
        "AES256" => ServerSideEncryption::Aes256,
        "aws:kms" => ServerSideEncryption::AwsKms,
        "aws:kms:dsse" => ServerSideEncryption::AwsKmsDsse,
        other => {
            return Err(invalid(
                PUT_ENCRYPTION,
                "sse-algorithm",
                format!(
                    "`{}` is not one of `AES256`, `aws:kms`, `aws:kms:dsse`",
                    other.escape_debug()
                ),
            ));
        }
    };
    if let Some(key) = &encryption.kms_master_key_id {
        if algorithm == ServerSideEncryption::Aes256 {
            return Err(invalid(
                PUT_ENCRYPTION,
                "kms-master-key-id",
                "is given with `AES256` (SSE-S3 takes no KMS key)",
            ));
        }
        if key.is_empty()
            || key.len() > MAX_KMS_KEY_BYTES
            || key.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                PUT_ENCRYPTION,
                "kms-master-key-id",
                format!(
                    "must be a key id, key ARN or alias of 1 to {MAX_KMS_KEY_BYTES} characters without spaces"
                ),
            ));
        }
    }
    Ok(algorithm)
}

/// An S3 error as the WIT's `aws-error`: S3's own codes first, then the shared mapping.
fn s3_error<E, R>(err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    let mapped = map_sdk_error(err);
    match code.as_deref() {
        Some("NoSuchBucket") => AwsError::NotFound(error_text(&mapped)),
        Some(
            "MalformedPolicy"
            | "InvalidArgument"
            | "InvalidBucketName"
            | "InvalidRequest"
            | "MalformedXML"
            | "InvalidTargetBucketForLogging"
            | "CrossLocationLoggingProhibited"
            | "InvalidLocationConstraint"
            | "IllegalLocationConstraintException",
        ) => AwsError::InvalidInput(error_text(&mapped)),
        _ => mapped,
    }
}

/// Whether an error answers "this bucket has no such configuration": a state, not an error.
fn is_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>, code: &str) -> bool {
    err.code() == Some(code)
}

impl Host for PluginCtx {
    async fn get_bucket_public_access_block(
        &mut self,
        bucket: String,
    ) -> Result<Option<PublicAccessBlock>, CallError> {
        self.enter(const { function("s3.get-bucket-public-access-block") })?;
        bucket_arg(GET_PAB, "bucket", &bucket)?;
        let owner = self.scope.account_id().to_owned();
        let resource = bucket.clone();
        self.call(GET_PAB, Some(&resource), |aws| async move {
            match s3(&aws)
                .get_public_access_block()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .send()
                .await
            {
                Ok(out) => Ok(out
                    .public_access_block_configuration
                    .map(|c| PublicAccessBlock {
                        block_public_acls: c.block_public_acls.unwrap_or(false),
                        ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
                        block_public_policy: c.block_public_policy.unwrap_or(false),
                        restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
                    })),
                Err(e) if is_code(&e, "NoSuchPublicAccessBlockConfiguration") => Ok(None),
                Err(e) => Err(s3_error(e)),
            }
        })
        .await
    }

    async fn put_bucket_public_access_block(
        &mut self,
        bucket: String,
        configuration: PublicAccessBlock,
    ) -> Result<(), CallError> {
        self.enter(const { function("s3.put-bucket-public-access-block") })?;
        bucket_arg(PUT_PAB, "bucket", &bucket)?;
        let owner = self.scope.account_id().to_owned();
        let resource = bucket.clone();
        self.call(PUT_PAB, Some(&resource), |aws| async move {
            let config = PublicAccessBlockConfiguration::builder()
                .block_public_acls(configuration.block_public_acls)
                .ignore_public_acls(configuration.ignore_public_acls)
                .block_public_policy(configuration.block_public_policy)
                .restrict_public_buckets(configuration.restrict_public_buckets)
                .build();
            s3(&aws)
                .put_public_access_block()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .public_access_block_configuration(config)
                .send()
                .await
                .map(|_| ())
                .map_err(s3_error)
        })
        .await
    }

    async fn get_bucket_policy(&mut self, bucket: String) -> Result<Option<String>, CallError> {
        self.enter(const { function("s3.get-bucket-policy") })?;
        bucket_arg(GET_POLICY, "bucket", &bucket)?;
        let owner = self.scope.account_id().to_owned();
        let resource = bucket.clone();
        self.call(GET_POLICY, Some(&resource), |aws| async move {
            match s3(&aws)
                .get_bucket_policy()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .send()
                .await
            {
                Ok(out) => Ok(out.policy.filter(|p| !p.trim().is_empty())),
                Err(e) if is_code(&e, "NoSuchBucketPolicy") => Ok(None),
                Err(e) => Err(s3_error(e)),
            }
        })
        .await
    }

    async fn put_bucket_policy(&mut self, bucket: String, policy: String) -> Result<(), CallError> {
        self.enter(const { function("s3.put-bucket-policy") })?;
        bucket_arg(PUT_POLICY, "bucket", &bucket)?;
        check_policy(&policy)?;
        let owner = self.scope.account_id().to_owned();
        let resource = bucket.clone();
        self.call(PUT_POLICY, Some(&resource), |aws| async move {
            s3(&aws)
                .put_bucket_policy()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .policy(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(s3_error)
        })
        .await
    }

    async fn get_bucket_encryption(
        &mut self,
        bucket: String,
    ) -> Result<Option<BucketEncryption>, CallError> {
        self.enter(const { function("s3.get-bucket-encryption") })?;
        bucket_arg(GET_ENCRYPTION, "bucket", &bucket)?;
        let owner = self.scope.account_id().to_owned();
        let resource = bucket.clone();
        self.call(GET_ENCRYPTION, Some(&resource), |aws| async move {
            match s3(&aws)
                .get_bucket_encryption()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .send()
                .await
            {
                Ok(out) => Ok(out
                    .server_side_encryption_configuration
                    .and_then(|c| c.rules.into_iter().next())
                    .and_then(|rule| {
                        let default = rule.apply_server_side_encryption_by_default?;
                        Some(BucketEncryption {
                            sse_algorithm: default.sse_algorithm.as_str().to_owned(),
                            kms_master_key_id: default.kms_master_key_id,
                            bucket_key_enabled: rule.bucket_key_enabled.unwrap_or(false),
                        })
                    })),
                Err(e) if is_code(&e, "ServerSideEncryptionConfigurationNotFoundError") => Ok(None),
                Err(e) => Err(s3_error(e)),
            }
        })
        .await
    }

    async fn put_bucket_encryption(
        &mut self,
        bucket: String,
        encryption: BucketEncryption,
    ) -> Result<(), CallError> {
        self.enter(const { function("s3.put-bucket-encryption") })?;
        bucket_arg(PUT_ENCRYPTION, "bucket", &bucket)?;
        let algorithm = sse_algorithm(&encryption)?;
        let default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(algorithm)
            .set_kms_master_key_id(encryption.kms_master_key_id)
            .build()
            .map_err(|e| invalid(PUT_ENCRYPTION, "encryption", e))?;
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(default)
            .bucket_key_enabled(encryption.bucket_key_enabled)
            .build();
        let config = ServerSideEncryptionConfiguration::builder()
            .rules(rule)
            .build()
            .map_err(|e| invalid(PUT_ENCRYPTION, "encryption", e))?;
        let owner = self.scope.account_id().to_owned();
        let resource = bucket.clone();
        self.call(PUT_ENCRYPTION, Some(&resource), |aws| async move {
            s3(&aws)
                .put_bucket_encryption()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .server_side_encryption_configuration(config)
                .send()
                .await
                .map(|_| ())
                .map_err(s3_error)
        })
        .await
    }

    async fn get_bucket_logging(
        &mut self,
        bucket: String,
    ) -> Result<Option<BucketLogging>, CallError> {
        self.enter(const { function("s3.get-bucket-logging") })?;
        bucket_arg(GET_LOGGING, "bucket", &bucket)?;
        let owner = self.scope.account_id().to_owned();
        let resource = bucket.clone();
        self.call(GET_LOGGING, Some(&resource), |aws| async move {
            let out = s3(&aws)
                .get_bucket_logging()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .send()
                .await
                .map_err(s3_error)?;
            Ok(out.logging_enabled.map(|l| BucketLogging {
                target_bucket: l.target_bucket,
                target_prefix: l.target_prefix,
            }))
        })
        .await
    }

    async fn put_bucket_logging(
        &mut self,
        bucket: String,
        logging: BucketLogging,
    ) -> Result<(), CallError> {
        self.enter(const { function("s3.put-bucket-logging") })?;
        bucket_arg(PUT_LOGGING, "bucket", &bucket)?;
        bucket_arg(PUT_LOGGING, "logging.target-bucket", &logging.target_bucket)?;
        if logging.target_prefix.len() > MAX_PREFIX_BYTES
            || logging.target_prefix.chars().any(char::is_control)
        {
            return Err(invalid(
                PUT_LOGGING,
                "logging.target-prefix",
                format!("must have at most {MAX_PREFIX_BYTES} bytes and no control characters"),
            ));
        }
        let enabled = LoggingEnabled::builder()
            .target_bucket(logging.target_bucket)
            .target_prefix(logging.target_prefix)
            .build()
            .map_err(|e| invalid(PUT_LOGGING, "logging", e))?;
        let status = BucketLoggingStatus::builder()
            .logging_enabled(enabled)
            .build();
        let owner = self.scope.account_id().to_owned();
        let resource = bucket.clone();
        self.call(PUT_LOGGING, Some(&resource), |aws| async move {
            s3(&aws)
                .put_bucket_logging()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .bucket_logging_status(status)
                .send()
                .await
                .map(|_| ())
                .map_err(s3_error)
        })
        .await
    }

    async fn create_bucket(&mut self, bucket: String) -> Result<bool, CallError> {
        self.enter(const { function("s3.create-bucket") })?;
        bucket_arg(CREATE, "bucket", &bucket)?;
        let owner = self.scope.account_id().to_owned();
        let region = self.scope.region().to_owned();
        let resource = bucket.clone();
        self.call(CREATE, Some(&resource), |aws| async move {
            let client = s3(&aws);
            // Reuse a bucket the account already owns: `CreateBucket` would answer
            // BucketAlreadyOwnedByYou, or in us-east-1 200 OK after resetting its ACLs.
            match client
                .head_bucket()
                .bucket(&bucket)
                .expected_bucket_owner(&owner)
                .send()
                .await
            {
                Ok(_) => return Ok(true),
                Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => {}
                Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
                    return Err(AwsError::AccessDenied(format!(
                        "HeadBucket: bucket `{bucket}` belongs to another account, or access to it is denied"
                    )));
                }
                Err(e) => return Err(s3_error(e)),
            }
            let mut request = client
                .create_bucket()
                .bucket(&bucket)
                .object_ownership(ObjectOwnership::BucketOwnerEnforced);
            if region != US_EAST_1 {
                request = request.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(region.as_str()))
                        .build(),
                );
            }
            match request.send().await {
                Ok(_) => Ok(false),
                // Created meanwhile by this account (another remediation): reuse it.
                Err(e) if e.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you()) => {
                    Ok(true)
                }
                Err(e) if e.as_service_error().is_some_and(|e| e.is_bucket_already_exists()) => {
                    Err(AwsError::AccessDenied(format!(
                        "BucketAlreadyExists: bucket name `{bucket}` is taken by another account"
                    )))
                }
                Err(e) => Err(s3_error(e)),
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::aws::mock_tests::mock_ctx;

    use aws_sdk_s3::operation::create_bucket::{CreateBucketError, CreateBucketOutput};
    use aws_sdk_s3::operation::get_bucket_encryption::{
        GetBucketEncryptionError, GetBucketEncryptionOutput,
    };
    use aws_sdk_s3::operation::get_bucket_logging::{
        GetBucketLoggingError, GetBucketLoggingOutput,
    };
    use aws_sdk_s3::operation::get_bucket_policy::{GetBucketPolicyError, GetBucketPolicyOutput};
    use aws_sdk_s3::operation::get_public_access_block::{
        GetPublicAccessBlockError, GetPublicAccessBlockOutput,
    };
    use aws_sdk_s3::operation::head_bucket::{HeadBucketError, HeadBucketOutput};
    use aws_sdk_s3::operation::put_bucket_encryption::PutBucketEncryptionOutput;
    use aws_sdk_s3::operation::put_bucket_logging::PutBucketLoggingOutput;
    use aws_sdk_s3::operation::put_bucket_policy::PutBucketPolicyOutput;
    use aws_sdk_s3::operation::put_public_access_block::PutPublicAccessBlockOutput;
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_mocks::{Rule, RuleMode, mock, mock_client};

    use serde_json::json;

    use super::*;

    use crate::bindings::types::Mode;

    use crate::outcome::CallResult;

    const ACCOUNT: &str = "111111111111";
    const ALL: &[&str] = &[
        "s3.get-bucket-public-access-block",
        "s3.put-bucket-public-access-block",
        "s3.get-bucket-policy",
        "s3.put-bucket-policy",
        "s3.get-bucket-encryption",
        "s3.put-bucket-encryption",
        "s3.get-bucket-logging",
        "s3.put-bucket-logging",
        "s3.create-bucket",
    ];

    /// A finding about bucket `findings-bucket` in `region`.
    fn s3_ctx(rules: &[&Rule], region: &str, mode: Mode) -> PluginCtx {
        mock_ctx(
            region,
            json!([{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::findings-bucket"}]),
            mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules),
            ALL,
            mode,
            20,
        )
    }

    fn code_error(code: &str) -> ErrorMetadata {
        ErrorMetadata::builder()
            .code(code)
            .message(format!("{code} message"))
            .build()
    }

    const ALL_ON: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    #[test]
    fn bucket_names_follow_s3s_rules() {
        for ok in [
            "abc",
            "my-bucket.logs",
            "hubfix-access-logs-111111111111-eu-west-1",
        ] {
            assert!(check_bucket_name(ok).is_ok(), "{ok}");
        }
        let too_long = "a".repeat(64);
        for bad in [
            "ab",
            too_long.as_str(),
            "My-Bucket",
            "my_bucket",
            "-bucket",
            "bucket.",
            "a..b",
            "192.168.1.1",
            "xn--bucket",
            "bucket-s3alias",
            "arn:aws:s3:::bucket",
            "buck\u{0}et",
        ] {
            assert!(check_bucket_name(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn reads_send_the_bucket_and_owner_and_map_no_configuration_to_none() {
        let pab = mock!(aws_sdk_s3::Client::get_public_access_block)
            .match_requests(|r| {
                r.bucket() == Some("findings-bucket") && r.expected_bucket_owner() == Some(ACCOUNT)
            })
            .then_error(|| {
                GetPublicAccessBlockError::generic(code_error(
                    "NoSuchPublicAccessBlockConfiguration",
                ))
            });
        let policy = mock!(aws_sdk_s3::Client::get_bucket_policy)
            .match_requests(|r| r.expected_bucket_owner() == Some(ACCOUNT))
            .then_error(|| GetBucketPolicyError::generic(code_error("NoSuchBucketPolicy")));
        let encryption = mock!(aws_sdk_s3::Client::get_bucket_encryption).then_error(|| {
            GetBucketEncryptionError::generic(code_error(
                "ServerSideEncryptionConfigurationNotFoundError",
            ))
        });
        let logging = mock!(aws_sdk_s3::Client::get_bucket_logging)
            .then_output(|| GetBucketLoggingOutput::builder().build());
        let mut ctx = s3_ctx(
            &[&pab, &policy, &encryption, &logging],
            "us-east-1",
            Mode::Apply,
        );
        // Reads are allowed on any bucket of the account, not only the finding's.
        let bucket = || "findings-bucket".to_owned();
        assert_eq!(
            ctx.get_bucket_public_access_block(bucket()).await.unwrap(),
            None
        );
        assert_eq!(ctx.get_bucket_policy(bucket()).await.unwrap(), None);
        assert_eq!(ctx.get_bucket_encryption(bucket()).await.unwrap(), None);
        assert_eq!(
            ctx.get_bucket_logging("other-bucket".into()).await.unwrap(),
            None
        );
        assert_eq!(
            (
                pab.num_calls(),
                policy.num_calls(),
                encryption.num_calls(),
                logging.num_calls()
            ),
            (1, 1, 1, 1)
        );
        let trail = ctx.into_trail();
        assert!(
            trail
                .calls
                .iter()
                .all(|c| c.result == CallResult::Ok && !c.mutating)
        );
    }

    #[tokio::test]
    async fn answers_map_to_the_wit_records() {
        use aws_sdk_s3::types as t;
        let pab = mock!(aws_sdk_s3::Client::get_public_access_block).then_output(|| {
            GetPublicAccessBlockOutput::builder()
                .public_access_block_configuration(
                    t::PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .build()
        });
        let policy = mock!(aws_sdk_s3::Client::get_bucket_policy).then_output(|| {
            GetBucketPolicyOutput::builder()
                .policy("{\"Statement\":[]}")
                .build()
        });
        let encryption = mock!(aws_sdk_s3::Client::get_bucket_encryption).then_output(|| {
            let default = t::ServerSideEncryptionByDefault::builder()
                .sse_algorithm(t::ServerSideEncryption::AwsKms)
                .kms_master_key_id("alias/logs")
                .build()
                .unwrap();
            GetBucketEncryptionOutput::builder()
                .server_side_encryption_configuration(
                    t::ServerSideEncryptionConfiguration::builder()
                        .rules(
                            t::ServerSideEncryptionRule::builder()
                                .apply_server_side_encryption_by_default(default)
                                .bucket_key_enabled(true)
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
        });
        let logging = mock!(aws_sdk_s3::Client::get_bucket_logging).then_output(|| {
            GetBucketLoggingOutput::builder()
                .logging_enabled(
                    t::LoggingEnabled::builder()
                        .target_bucket("logs")
                        .target_prefix("findings-bucket/")
                        .build()
                        .unwrap(),
                )
                .build()
        });
        let mut ctx = s3_ctx(
            &[&pab, &policy, &encryption, &logging],
            "us-east-1",
            Mode::Apply,
        );
        let bucket = || "findings-bucket".to_owned();
        assert_eq!(
            ctx.get_bucket_public_access_block(bucket()).await.unwrap(),
            Some(PublicAccessBlock {
                block_public_acls: true,
                ignore_public_acls: false,
                block_public_policy: false,
                restrict_public_buckets: true,
            })
        );
        assert_eq!(
            ctx.get_bucket_policy(bucket()).await.unwrap().as_deref(),
            Some("{\"Statement\":[]}")
        );
        assert_eq!(
            ctx.get_bucket_encryption(bucket()).await.unwrap(),
            Some(BucketEncryption {
                sse_algorithm: "aws:kms".into(),
                kms_master_key_id: Some("alias/logs".into()),
                bucket_key_enabled: true,
            })
        );
        assert_eq!(
            ctx.get_bucket_logging(bucket()).await.unwrap(),
            Some(BucketLogging {
                target_bucket: "logs".into(),
                target_prefix: "findings-bucket/".into(),
            })
        );
    }

    #[tokio::test]
    async fn puts_reach_the_sdk_with_their_fields() {
        let pab = mock!(aws_sdk_s3::Client::put_public_access_block)
            .match_requests(|r| {
                r.bucket() == Some("findings-bucket")
                    && r.expected_bucket_owner() == Some(ACCOUNT)
                    && r.public_access_block_configuration().is_some_and(|c| {
                        c.block_public_acls == Some(true)
                            && c.ignore_public_acls == Some(false)
                            && c.restrict_public_buckets == Some(true)
                    })
            })
            .then_output(|| PutPublicAccessBlockOutput::builder().build());
        let policy = mock!(aws_sdk_s3::Client::put_bucket_policy)
            .match_requests(|r| {
                r.bucket() == Some("findings-bucket") && r.policy() == Some("{\"Statement\":[]}")
            })
            .then_output(|| PutBucketPolicyOutput::builder().build());
        let encryption = mock!(aws_sdk_s3::Client::put_bucket_encryption)
            .match_requests(|r| {
                r.server_side_encryption_configuration()
                    .and_then(|c| c.rules().first())
                    .is_some_and(|rule| {
                        rule.bucket_key_enabled() == Some(true)
                            && rule
                                .apply_server_side_encryption_by_default()
                                .is_some_and(|d| {
                                    d.sse_algorithm() == &ServerSideEncryption::AwsKms
                                        && d.kms_master_key_id() == Some("alias/k")
                                })
                    })
            })
            .then_output(|| PutBucketEncryptionOutput::builder().build());
        let logging = mock!(aws_sdk_s3::Client::put_bucket_logging)
            .match_requests(|r| {
                r.bucket() == Some("findings-bucket")
                    && r.bucket_logging_status()
                        .and_then(|s| s.logging_enabled())
                        .is_some_and(|l| {
                            l.target_bucket() == "log-bucket" && l.target_prefix() == "p/"
                        })
            })
            .then_output(|| PutBucketLoggingOutput::builder().build());
        let mut ctx = s3_ctx(
            &[&pab, &policy, &encryption, &logging],
            "us-east-1",
            Mode::Apply,
        );
        let bucket = || "findings-bucket".to_owned();
        ctx.put_bucket_public_access_block(
            bucket(),
            PublicAccessBlock {
                ignore_public_acls: false,
                block_public_policy: false,
                ..ALL_ON
            },
        )
        .await
        .unwrap();
        ctx.put_bucket_policy(bucket(), "{\"Statement\":[]}".into())
            .await
            .unwrap();
        ctx.put_bucket_encryption(
            bucket(),
            BucketEncryption {
                sse_algorithm: "aws:kms".into(),
                kms_master_key_id: Some("alias/k".into()),
                bucket_key_enabled: true,
            },
        )
        .await
        .unwrap();
        ctx.put_bucket_logging(
            bucket(),
            BucketLogging {
                target_bucket: "log-bucket".into(),
                target_prefix: "p/".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (
                pab.num_calls(),
                policy.num_calls(),
                encryption.num_calls(),
                logging.num_calls()
            ),
            (1, 1, 1, 1)
        );
        let ops: Vec<_> = ctx
            .into_trail()
            .calls
            .iter()
            .map(|c| (c.operation.clone(), c.result, c.mutating))
            .collect();
        assert_eq!(
            ops,
            [
                ("PutPublicAccessBlock".to_owned(), CallResult::Ok, true),
                ("PutBucketPolicy".to_owned(), CallResult::Ok, true),
                ("PutBucketEncryption".to_owned(), CallResult::Ok, true),
                ("PutBucketLogging".to_owned(), CallResult::Ok, true),
            ]
        );
    }

    #[tokio::test]
    async fn out_of_scope_and_invalid_mutations_never_reach_the_sdk() {
        let pab = mock!(aws_sdk_s3::Client::put_public_access_block)
            .then_output(|| PutPublicAccessBlockOutput::builder().build());
        let policy = mock!(aws_sdk_s3::Client::put_bucket_policy)
            .then_output(|| PutBucketPolicyOutput::builder().build());
        let encryption = mock!(aws_sdk_s3::Client::put_bucket_encryption)
            .then_output(|| PutBucketEncryptionOutput::builder().build());
        let logging = mock!(aws_sdk_s3::Client::put_bucket_logging)
            .then_output(|| PutBucketLoggingOutput::builder().build());
        let head = mock!(aws_sdk_s3::Client::head_bucket)
            .then_output(|| HeadBucketOutput::builder().build());
        let create = mock!(aws_sdk_s3::Client::create_bucket)
            .then_output(|| CreateBucketOutput::builder().build());
        let mut ctx = s3_ctx(
            &[&pab, &policy, &encryption, &logging, &head, &create],
            "us-east-1",
            Mode::Apply,
        );
        let denied = |e: CallError| matches!(e, CallError::Aws(AwsError::AccessDenied(_)));
        let invalid = |e: CallError, field: &str| matches!(e, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains(field));
        // Another bucket than the finding's.
        let other = || "someone-elses-bucket".to_owned();
        assert!(denied(
            ctx.put_bucket_public_access_block(other(), ALL_ON)
                .await
                .unwrap_err()
        ));
        assert!(denied(
            ctx.put_bucket_policy(other(), "{}".into())
                .await
                .unwrap_err()
        ));
        let aes = BucketEncryption {
            sse_algorithm: "AES256".into(),
            kms_master_key_id: None,
            bucket_key_enabled: false,
        };
        assert!(denied(
            ctx.put_bucket_encryption(other(), aes.clone())
                .await
                .unwrap_err()
        ));
        let log = BucketLogging {
            target_bucket: "log-bucket".into(),
            target_prefix: String::new(),
        };
        assert!(denied(
            ctx.put_bucket_logging(other(), log.clone())
                .await
                .unwrap_err()
        ));
        // A create without the prefix.
        assert!(denied(
            ctx.create_bucket("access-logs".into()).await.unwrap_err()
        ));

        // Hostile input on the finding's own bucket: refused before the SDK.
        let own = || "findings-bucket".to_owned();
        assert!(invalid(
            ctx.put_bucket_policy("Findings_Bucket".into(), "{}".into())
                .await
                .unwrap_err(),
            "`bucket`"
        ));
        let big = format!("{{\"Statement\":\"{}\"}}", "x".repeat(MAX_POLICY_BYTES));
        assert!(invalid(
            ctx.put_bucket_policy(own(), big).await.unwrap_err(),
            "`policy`"
        ));
        assert!(invalid(
            ctx.put_bucket_policy(own(), "[1]".into())
                .await
                .unwrap_err(),
            "`policy`"
        ));
        assert!(invalid(
            ctx.put_bucket_policy(own(), "{not json".into())
                .await
                .unwrap_err(),
            "`policy`"
        ));
        let bad_algorithm = BucketEncryption {
            sse_algorithm: "ROT13".into(),
            ..aes.clone()
        };
        assert!(invalid(
            ctx.put_bucket_encryption(own(), bad_algorithm)
                .await
                .unwrap_err(),
            "`sse-algorithm`"
        ));
        let key_with_aes = BucketEncryption {
            kms_master_key_id: Some("alias/k".into()),
            ..aes.clone()
        };
        assert!(invalid(
            ctx.put_bucket_encryption(own(), key_with_aes)
                .await
                .unwrap_err(),
            "`kms-master-key-id`"
        ));
        let bad_target = BucketLogging {
            target_bucket: "../etc".into(),
            ..log.clone()
        };
        assert!(invalid(
            ctx.put_bucket_logging(own(), bad_target).await.unwrap_err(),
            "`logging.target-bucket`"
        ));
        let bad_prefix = BucketLogging {
            target_prefix: "a\nb".into(),
            ..log
        };
        assert!(invalid(
            ctx.put_bucket_logging(own(), bad_prefix).await.unwrap_err(),
            "`logging.target-prefix`"
        ));
        assert!(invalid(
            ctx.create_bucket("hubfix-".into()).await.unwrap_err(),
            "`bucket`"
        ));
        assert!(invalid(
            ctx.create_bucket("hubfix-UPPER".into()).await.unwrap_err(),
            "`bucket`"
        ));

        for rule in [&pab, &policy, &encryption, &logging, &head, &create] {
            assert_eq!(rule.num_calls(), 0);
        }
        let trail = ctx.into_trail();
        assert_eq!(trail.denials.len(), 5);
    }

    #[tokio::test]
    async fn create_bucket_names_its_region_outside_us_east_1_and_then_may_configure_it() {
        let head = mock!(aws_sdk_s3::Client::head_bucket)
            .match_requests(|r| r.expected_bucket_owner() == Some(ACCOUNT))
            .then_error(|| {
                HeadBucketError::NotFound(aws_sdk_s3::types::error::NotFound::builder().build())
            });
        let create = mock!(aws_sdk_s3::Client::create_bucket)
            .match_requests(|r| {
                r.bucket() == Some("hubfix-logs")
                    && r.object_ownership() == Some(&ObjectOwnership::BucketOwnerEnforced)
                    && r.create_bucket_configuration()
                        .and_then(|c| c.location_constraint())
                        == Some(&BucketLocationConstraint::EuWest1)
            })
            .then_output(|| CreateBucketOutput::builder().build());
        let policy = mock!(aws_sdk_s3::Client::put_bucket_policy)
            .match_requests(|r| r.bucket() == Some("hubfix-logs"))
            .then_output(|| PutBucketPolicyOutput::builder().build());
        let mut ctx = s3_ctx(&[&head, &create, &policy], "eu-west-1", Mode::Apply);
        // Before it is created, the bucket is out of scope.
        let err = ctx
            .put_bucket_policy("hubfix-logs".into(), "{}".into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
        assert!(!ctx.create_bucket("hubfix-logs".into()).await.unwrap());
        ctx.put_bucket_policy("hubfix-logs".into(), "{}".into())
            .await
            .unwrap();
        assert_eq!(
            (head.num_calls(), create.num_calls(), policy.num_calls()),
            (1, 1, 1)
        );

        // us-east-1 takes no LocationConstraint.
        let head = mock!(aws_sdk_s3::Client::head_bucket).then_error(|| {
            HeadBucketError::NotFound(aws_sdk_s3::types::error::NotFound::builder().build())
        });
        let create = mock!(aws_sdk_s3::Client::create_bucket)
            .match_requests(|r| r.create_bucket_configuration().is_none())
            .then_output(|| CreateBucketOutput::builder().build());
        let mut ctx = s3_ctx(&[&head, &create], "us-east-1", Mode::Apply);
        assert!(!ctx.create_bucket("hubfix-logs".into()).await.unwrap());
        assert_eq!(create.num_calls(), 1);
    }

    #[tokio::test]
    async fn an_existing_bucket_of_the_account_is_reused_and_a_taken_name_is_denied() {
        // HeadBucket finds it: nothing is created.
        let head = mock!(aws_sdk_s3::Client::head_bucket)
            .then_output(|| HeadBucketOutput::builder().build());
        let create = mock!(aws_sdk_s3::Client::create_bucket)
            .then_output(|| CreateBucketOutput::builder().build());
        let pab = mock!(aws_sdk_s3::Client::put_public_access_block)
            .then_output(|| PutPublicAccessBlockOutput::builder().build());
        let mut ctx = s3_ctx(&[&head, &create, &pab], "eu-west-1", Mode::Apply);
        assert!(ctx.create_bucket("hubfix-logs".into()).await.unwrap());
        ctx.put_bucket_public_access_block("hubfix-logs".into(), ALL_ON)
            .await
            .unwrap();
        assert_eq!((create.num_calls(), pab.num_calls()), (0, 1));

        // Created by this account between HeadBucket and CreateBucket.
        let head = mock!(aws_sdk_s3::Client::head_bucket).then_error(|| {
            HeadBucketError::NotFound(aws_sdk_s3::types::error::NotFound::builder().build())
        });
        let owned = mock!(aws_sdk_s3::Client::create_bucket).then_error(|| {
            CreateBucketError::BucketAlreadyOwnedByYou(
                aws_sdk_s3::types::error::BucketAlreadyOwnedByYou::builder().build(),
            )
        });
        let mut ctx = s3_ctx(&[&head, &owned], "eu-west-1", Mode::Apply);
        assert!(ctx.create_bucket("hubfix-logs".into()).await.unwrap());

        // Another account owns the name.
        let taken = mock!(aws_sdk_s3::Client::create_bucket).then_error(|| {
            CreateBucketError::BucketAlreadyExists(
                aws_sdk_s3::types::error::BucketAlreadyExists::builder().build(),
            )
        });
        let mut ctx = s3_ctx(&[&head, &taken], "eu-west-1", Mode::Apply);
        let err = ctx.create_bucket("hubfix-logs".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("another account")),
            "{err:?}"
        );
        let trail = ctx.into_trail();
        assert_eq!(trail.calls[0].result, CallResult::Error);
    }

    #[tokio::test]
    async fn plan_mode_creates_nothing_and_a_missing_bucket_is_not_found() {
        let head = mock!(aws_sdk_s3::Client::head_bucket)
            .then_output(|| HeadBucketOutput::builder().build());
        let create = mock!(aws_sdk_s3::Client::create_bucket)
            .then_output(|| CreateBucketOutput::builder().build());
        let missing = mock!(aws_sdk_s3::Client::get_bucket_logging)
            .then_error(|| GetBucketLoggingError::generic(code_error("NoSuchBucket")));
        let malformed = mock!(aws_sdk_s3::Client::put_bucket_policy).then_error(|| {
            aws_sdk_s3::operation::put_bucket_policy::PutBucketPolicyError::generic(code_error(
                "MalformedPolicy",
            ))
        });
        let mut ctx = s3_ctx(&[&head, &create, &missing], "eu-west-1", Mode::Plan);
        assert!(!ctx.create_bucket("hubfix-logs".into()).await.unwrap());
        // Planned: in scope for the rest of the plan.
        ctx.put_bucket_policy("hubfix-logs".into(), "{}".into())
            .await
            .unwrap();
        let err = ctx
            .get_bucket_logging("findings-bucket".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(ref m)) if m.starts_with("GetBucketLogging: NoSuchBucket")),
            "{err:?}"
        );
        assert_eq!((head.num_calls(), create.num_calls()), (0, 0));
        let results: Vec<_> = ctx.into_trail().calls.iter().map(|c| c.result).collect();
        assert_eq!(
            results,
            [CallResult::Planned, CallResult::Planned, CallResult::Error]
        );

        let mut ctx = s3_ctx(&[&malformed], "eu-west-1", Mode::Apply);
        let err = ctx
            .put_bucket_policy("findings-bucket".into(), "{}".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(_))),
            "{err:?}"
        );
    }
}
