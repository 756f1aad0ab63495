//! `hubfix:plugin/kms`: KMS keys in the finding's account and region.
//!
//! Keys are named by key id or key ARN (`describe-key` also takes an alias name,
//! `alias/…`, as KMS does). KMS answers a missing key with `NotFoundException`, which is
//! `not-found` here.
//!
//! `create-key` is a create of the alias (`alias/<prefix>…`): the gate checks the alias
//! name against the create prefix. After a successful create the host also records the
//! new key id as created, so that the same remediation may configure the key
//! (`enable-key-rotation`, `put-key-policy`). In plan mode no key exists and KMS made no
//! id: the answer then names the key by its alias (`key-id` = `alias/<alias>`, `arn` =
//! the alias ARN, as KMS and CloudTrail accept wherever a key id goes), and the alias name
//! is what the rest of the planned remediation may configure.

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use hubfix_contract::{HostFunction, KMS_ALIAS, KMS_KEY, function};

use crate::aws::iam::json_document;
use crate::aws::{AwsClients, CallError, PluginCtx, map_sdk_error};
use crate::bindings::kms::{Host, KeyMetadata, NewKey};
use crate::bindings::types::{AwsError, Mode};

const DESCRIBE: &HostFunction = function("kms.describe-key");
const ROTATION_STATUS: &HostFunction = function("kms.get-key-rotation-status");
const ENABLE_ROTATION: &HostFunction = function("kms.enable-key-rotation");
const CREATE: &HostFunction = function("kms.create-key");
const PUT_POLICY: &HostFunction = function("kms.put-key-policy");

/// KMS's limit on a key policy (32 KiB).
const MAX_KEY_POLICY: usize = 32 * 1024;
/// KMS's limit on a key id, key ARN or alias.
const MAX_KEY_ID: usize = 2048;
/// KMS's limit on a full alias name (`alias/…`).
const MAX_ALIAS: usize = 256;
/// KMS's limit on a key description.
const MAX_DESCRIPTION: usize = 8192;

fn kms(aws: &AwsClients) -> aws_sdk_kms::Client {
    aws.client(aws_sdk_kms::Client::new)
}

fn invalid(function: &HostFunction, message: String) -> CallError {
    AwsError::InvalidInput(format!("{}: {message}", function.name)).into()
}

/// A key id, key ARN or (for reads) alias: non-empty, at most 2048 characters, printable
/// ASCII without spaces.
fn key_id(function: &HostFunction, id: &str) -> Result<(), CallError> {
    if id.is_empty() || id.len() > MAX_KEY_ID || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            function,
            format!(
                "`key-id` must be a key id or ARN of 1 to {MAX_KEY_ID} printable characters, not {id:?}"
            ),
        ));
    }
    Ok(())
}

/// An alias name without `alias/`: letters, digits, `/`, `_` and `-`; not `aws/…`
/// (reserved for AWS managed keys).
fn alias_name(alias: &str) -> Result<(), CallError> {
    let ok = !alias.is_empty()
        && alias.len() + "alias/".len() <= MAX_ALIAS
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-'))
        && !alias.starts_with("aws/")
        && !alias.starts_with("alias/");
    if !ok {
        return Err(invalid(
            CREATE,
            format!(
                "`alias` must be an alias name without `alias/` (letters, digits, `/`, `_`, `-`; \
                 at most {} characters; not `aws/…`), not {alias:?}",
                MAX_ALIAS - "alias/".len()
            ),
        ));
    }
    Ok(())
}

/// Maps KMS errors: `NotFoundException` is `not-found`; the rest as every service's.
fn kms_error<E, R>(err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    let mapped = map_sdk_error(err);
    match (code.as_deref(), mapped) {
        (Some("NotFoundException"), AwsError::Service(text)) => AwsError::NotFound(text),
        (
            Some("UnsupportedOperationException" | "KMSInvalidStateException"),
            AwsError::Service(text),
        ) => AwsError::InvalidInput(text),
        (_, mapped) => mapped,
    }
}

fn metadata(m: &aws_sdk_kms::types::KeyMetadata) -> KeyMetadata {
    KeyMetadata {
        key_id: m.key_id().to_owned(),
        arn: m.arn().unwrap_or_default().to_owned(),
        key_manager: m
            .key_manager()
            .map(|k| k.as_str().to_owned())
            .unwrap_or_default(),
        key_spec: m
            .key_spec()
            .map(|k| k.as_str().to_owned())
            .unwrap_or_default(),
        key_usage: m
            .key_usage()
            .map(|k| k.as_str().to_owned())
            .unwrap_or_default(),
        key_state: m
            .key_state()
            .map(|k| k.as_str().to_owned())
            .unwrap_or_default(),
        origin: m
            .origin()
            .map(|k| k.as_str().to_owned())
            .unwrap_or_default(),
    }
}

impl Host for PluginCtx {
    async fn describe_key(&mut self, key_id_: String) -> Result<KeyMetadata, CallError> {
        self.enter(const { function("kms.describe-key") })?;
        key_id(DESCRIBE, &key_id_)?;
        let resource = key_id_.clone();
        let found: Option<KeyMetadata> = self
            .call(DESCRIBE, Some(&resource), |aws| async move {
                let out = kms(&aws)
                    .describe_key()
                    .key_id(key_id_)
                    .send()
                    .await
                    .map_err(kms_error)?;
                Ok(out.key_metadata().map(metadata))
            })
            .await?;
        found.ok_or_else(|| {
            AwsError::Service(format!("DescribeKey: no KeyMetadata for {resource}")).into()
        })
    }

    async fn get_key_rotation_status(&mut self, key_id_: String) -> Result<bool, CallError> {
        self.enter(const { function("kms.get-key-rotation-status") })?;
        key_id(ROTATION_STATUS, &key_id_)?;
        let resource = key_id_.clone();
        self.call(ROTATION_STATUS, Some(&resource), |aws| async move {
            kms(&aws)
                .get_key_rotation_status()
                .key_id(key_id_)
                .send()
                .await
                .map(|out| out.key_rotation_enabled())
                .map_err(kms_error)
        })
        .await
    }

    async fn enable_key_rotation(&mut self, key_id_: String) -> Result<(), CallError> {
        self.enter(const { function("kms.enable-key-rotation") })?;
        key_id(ENABLE_ROTATION, &key_id_)?;
        let resource = key_id_.clone();
        self.call(ENABLE_ROTATION, Some(&resource), |aws| async move {
            kms(&aws)
                .enable_key_rotation()
                .key_id(key_id_)
                .send()
                .await
                .map(|_| ())
                .map_err(kms_error)
        })
        .await
    }

    async fn create_key(&mut self, key: NewKey) -> Result<KeyMetadata, CallError> {
        self.enter(const { function("kms.create-key") })?;
        alias_name(&key.alias)?;
        if key.description.len() > MAX_DESCRIPTION || key.description.chars().any(char::is_control)
        {
            return Err(invalid(
                CREATE,
                format!(
                    "`description` must be at most {MAX_DESCRIPTION} characters without control characters"
                ),
            ));
        }
        json_document(CREATE, "policy", &key.policy, MAX_KEY_POLICY)?;
        let alias = key.alias.clone();
        let created: Option<KeyMetadata> = self
            .call(CREATE, Some(&alias), |aws| async move {
                let client = kms(&aws);
                let out = client
                    .create_key()
                    .key_spec(KeySpec::SymmetricDefault)
                    .key_usage(KeyUsageType::EncryptDecrypt)
                    .description(key.description)
                    .policy(key.policy)
                    .send()
                    .await
                    .map_err(kms_error)?;
                let Some(created) = out.key_metadata().map(metadata) else {
                    return Err(AwsError::Service(
                        "CreateKey returned no KeyMetadata".into(),
                    ));
                };
                client
                    .create_alias()
                    .alias_name(format!("alias/{}", key.alias))
                    .target_key_id(&created.key_id)
                    .send()
                    .await
                    .map_err(|e| match kms_error(e) {
                        // The key exists but has no alias: say which key, so that it can be
                        // found (or scheduled for deletion) by hand.
                        AwsError::Service(t) => AwsError::Service(format!(
                            "CreateAlias for new key {}: {t}",
                            created.key_id
                        )),
                        other => other,
                    })?;
                Ok(Some(created))
            })
            .await?;
        match created {
            Some(created) => {
                self.scope.created_as(&KMS_KEY, &created.key_id);
                Ok(created)
            }
            // Plan mode: nothing was created, so no key id exists; name the key by its alias.
            None if self.mode == Mode::Plan => {
                let alias_id = format!("alias/{alias}");
                self.scope.created_as(&KMS_KEY, &alias_id);
                let arn = self.scope.arn_of(&KMS_ALIAS, &alias);
                Ok(KeyMetadata {
                    key_id: alias_id,
                    arn,
                    key_manager: "CUSTOMER".into(),
                    key_spec: KeySpec::SymmetricDefault.as_str().into(),
                    key_usage: KeyUsageType::EncryptDecrypt.as_str().into(),
                    key_state: "Enabled".into(),
                    origin: "AWS_KMS".into(),
                })
            }
            None => Err(AwsError::Service("CreateKey returned no KeyMetadata".into()).into()),
        }
    }

    async fn put_key_policy(&mut self, key_id_: String, policy: String) -> Result<(), CallError> {
        self.enter(const { function("kms.put-key-policy") })?;
        key_id(PUT_POLICY, &key_id_)?;
        json_document(PUT_POLICY, "policy", &policy, MAX_KEY_POLICY)?;
        let resource = key_id_.clone();
        self.call(PUT_POLICY, Some(&resource), |aws| async move {
            kms(&aws)
                .put_key_policy()
                .key_id(key_id_)
                .policy_name("default")
                .policy(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(kms_error)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::aws::mock_tests::mock_ctx;

    use aws_sdk_kms::operation::create_alias::CreateAliasOutput;
    use aws_sdk_kms::operation::create_key::CreateKeyOutput;
    use aws_sdk_kms::operation::describe_key::{DescribeKeyError, DescribeKeyOutput};
    use aws_sdk_kms::operation::enable_key_rotation::EnableKeyRotationOutput;
    use aws_sdk_kms::operation::get_key_rotation_status::GetKeyRotationStatusOutput;
    use aws_sdk_kms::operation::put_key_policy::PutKeyPolicyOutput;
    use aws_sdk_kms::types::error::NotFoundException;
    use aws_sdk_kms::types::{KeyManagerType, KeyState, OriginType};
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_mocks::{Rule, RuleMode, mock, mock_client};

    use serde_json::json;

    use super::*;

    use crate::outcome::CallResult;

    const KEY: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
    const KEY_ARN: &str =
        "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;

    fn ctx(resources: serde_json::Value, rules: &[&Rule], mode: Mode) -> PluginCtx {
        mock_ctx(
            "us-east-1",
            resources,
            mock_client!(aws_sdk_kms, RuleMode::MatchAny, rules),
            &[
                "kms.describe-key",
                "kms.get-key-rotation-status",
                "kms.enable-key-rotation",
                "kms.create-key",
                "kms.put-key-policy",
            ],
            mode,
            20,
        )
    }

    fn key_finding() -> serde_json::Value {
        json!([{"Type": "AwsKmsKey", "Id": KEY_ARN}])
    }

    fn trail_finding() -> serde_json::Value {
        json!([{"Type": "AwsCloudTrailTrail",
                "Id": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t"}])
    }

    fn sdk_metadata(id: &str) -> aws_sdk_kms::types::KeyMetadata {
        aws_sdk_kms::types::KeyMetadata::builder()
            .key_id(id)
            .arn(format!("arn:aws:kms:us-east-1:111111111111:key/{id}"))
            .key_manager(KeyManagerType::Customer)
            .key_spec(KeySpec::Rsa2048)
            .key_usage(KeyUsageType::SignVerify)
            .key_state(KeyState::PendingDeletion)
            .origin(OriginType::AwsKms)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn reads_map_to_the_wit_records_and_a_missing_key_is_not_found() {
        let describe = mock!(aws_sdk_kms::Client::describe_key)
            .match_requests(|r| r.key_id() == Some("alias/prod"))
            .then_output(|| {
                DescribeKeyOutput::builder()
                    .key_metadata(sdk_metadata(KEY))
                    .build()
            });
        let missing = mock!(aws_sdk_kms::Client::describe_key)
            .match_requests(|r| r.key_id() == Some("nope"))
            .then_error(|| {
                DescribeKeyError::NotFoundException(
                    NotFoundException::builder()
                        .message("no key")
                        .meta(
                            ErrorMetadata::builder()
                                .code("NotFoundException")
                                .message("no key")
                                .build(),
                        )
                        .build(),
                )
            });
        let status = mock!(aws_sdk_kms::Client::get_key_rotation_status)
            .match_requests(|r| r.key_id() == Some(KEY))
            .then_output(|| {
                GetKeyRotationStatusOutput::builder()
                    .key_rotation_enabled(true)
                    .build()
            });
        let mut ctx = ctx(
            trail_finding(),
            &[&describe, &missing, &status],
            Mode::Apply,
        );
        let m = ctx.describe_key("alias/prod".into()).await.unwrap();
        assert_eq!(
            m,
            KeyMetadata {
                key_id: KEY.into(),
                arn: KEY_ARN.into(),
                key_manager: "CUSTOMER".into(),
                key_spec: "RSA_2048".into(),
                key_usage: "SIGN_VERIFY".into(),
                key_state: "PendingDeletion".into(),
                origin: "AWS_KMS".into(),
            }
        );
        let err = ctx.describe_key("nope".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(ref m)) if m.starts_with("DescribeKey: NotFoundException")),
            "{err:?}"
        );
        assert!(ctx.get_key_rotation_status(KEY.into()).await.unwrap());
        // Hostile ids never reach KMS.
        for bad in ["", "a b", &"k".repeat(3000)] {
            let err = ctx.get_key_rotation_status(bad.into()).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("key-id"))
            );
        }
        assert_eq!(status.num_calls(), 1);
    }

    #[tokio::test]
    async fn rotation_is_enabled_only_on_the_findings_key() {
        let enable = mock!(aws_sdk_kms::Client::enable_key_rotation)
            .match_requests(|r| r.key_id() == Some(KEY_ARN))
            .then_output(|| EnableKeyRotationOutput::builder().build());
        let mut ctx = ctx(key_finding(), &[&enable], Mode::Apply);
        ctx.enable_key_rotation(KEY_ARN.into()).await.unwrap();
        let other = "arn:aws:kms:us-east-1:111111111111:key/ffffffff-12ab-34cd-56ef-1234567890ab";
        let err = ctx.enable_key_rotation(other.into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(_))),
            "{err:?}"
        );
        let err = ctx
            .put_key_policy(other.into(), POLICY.into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(_))),
            "{err:?}"
        );
        assert_eq!(enable.num_calls(), 1);
    }

    #[tokio::test]
    async fn create_key_makes_a_symmetric_key_with_the_policy_and_alias_then_may_configure_it() {
        let create = mock!(aws_sdk_kms::Client::create_key)
            .match_requests(|r| {
                r.key_spec() == Some(&KeySpec::SymmetricDefault)
                    && r.key_usage() == Some(&KeyUsageType::EncryptDecrypt)
                    && r.policy() == Some(POLICY)
                    && r.description() == Some("trail key")
            })
            .then_output(|| {
                let mut m = sdk_metadata("new-key");
                m.key_spec = Some(KeySpec::SymmetricDefault);
                CreateKeyOutput::builder().key_metadata(m).build()
            });
        let alias = mock!(aws_sdk_kms::Client::create_alias)
            .match_requests(|r| {
                r.alias_name() == Some("alias/hubfix-cloudtrail")
                    && r.target_key_id() == Some("new-key")
            })
            .then_output(|| CreateAliasOutput::builder().build());
        let put = mock!(aws_sdk_kms::Client::put_key_policy)
            .match_requests(|r| r.key_id() == Some("new-key") && r.policy_name() == Some("default"))
            .then_output(|| PutKeyPolicyOutput::builder().build());
        let mut ctx = ctx(trail_finding(), &[&create, &alias, &put], Mode::Apply);
        // Before the create, the key is out of scope.
        let err = ctx
            .put_key_policy("new-key".into(), POLICY.into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
        let new = |alias: &str, policy: &str| NewKey {
            alias: alias.into(),
            description: "trail key".into(),
            policy: policy.into(),
        };
        let made = ctx
            .create_key(new("hubfix-cloudtrail", POLICY))
            .await
            .unwrap();
        assert_eq!(made.key_id, "new-key");
        assert_eq!(made.key_spec, "SYMMETRIC_DEFAULT");
        ctx.put_key_policy("new-key".into(), POLICY.into())
            .await
            .unwrap();
        assert_eq!(
            (create.num_calls(), alias.num_calls(), put.num_calls()),
            (1, 1, 1)
        );

        // Outside the prefix, reserved or malformed aliases, and bad policies never reach KMS.
        let err = ctx.create_key(new("prod-key", POLICY)).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("hubfix-"))
        );
        for bad in ["aws/s3", "alias/hubfix-x", "hubfix x", ""] {
            let err = ctx.create_key(new(bad, POLICY)).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`alias`")),
                "{bad}: {err:?}"
            );
        }
        let huge = format!(r#"{{"Sid":"{}"}}"#, "x".repeat(MAX_KEY_POLICY));
        for bad in ["not json", "[1]", huge.as_str()] {
            let err = ctx.create_key(new("hubfix-k", bad)).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`policy`")),
                "{err:?}"
            );
        }
        assert_eq!(create.num_calls(), 1);
        let trail = ctx.into_trail();
        let ops: Vec<_> = trail.calls.iter().map(|c| c.operation.as_str()).collect();
        assert_eq!(
            ops,
            ["PutKeyPolicy", "CreateKey", "PutKeyPolicy", "CreateKey"]
        );
    }

    #[tokio::test]
    async fn a_planned_create_names_the_key_by_its_alias() {
        let create = mock!(aws_sdk_kms::Client::create_key)
            .then_output(|| CreateKeyOutput::builder().build());
        let put = mock!(aws_sdk_kms::Client::put_key_policy)
            .then_output(|| PutKeyPolicyOutput::builder().build());
        let mut ctx = ctx(trail_finding(), &[&create, &put], Mode::Plan);
        let made = ctx
            .create_key(NewKey {
                alias: "hubfix-cloudtrail".into(),
                description: String::new(),
                policy: POLICY.into(),
            })
            .await
            .unwrap();
        assert_eq!(made.key_id, "alias/hubfix-cloudtrail");
        assert_eq!(
            made.arn,
            "arn:aws:kms:us-east-1:111111111111:alias/hubfix-cloudtrail"
        );
        ctx.put_key_policy(made.key_id.clone(), POLICY.into())
            .await
            .unwrap();
        assert_eq!((create.num_calls(), put.num_calls()), (0, 0));
        let results: Vec<_> = ctx.into_trail().calls.iter().map(|c| c.result).collect();
        assert_eq!(results, [CallResult::Planned, CallResult::Planned]);
    }
}
