//! `hubfix:plugin/iam`: IAM operations in the finding's account.

use aws_sdk_iam::operation::get_account_password_policy::GetAccountPasswordPolicyError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use hubfix_contract::{HostFunction, function};

use crate::aws::{CallError, PluginCtx, map_sdk_error};
use crate::bindings::iam::{Host, PasswordPolicy};

const GET_PASSWORD_POLICY: &HostFunction = function("iam.get-account-password-policy");
const UPDATE_PASSWORD_POLICY: &HostFunction = function("iam.update-account-password-policy");

fn iam(aws: &crate::aws::AwsClients) -> aws_sdk_iam::Client {
    aws.client(aws_sdk_iam::Client::new)
}

fn to_i32(v: Option<u32>) -> Option<i32> {
    v.and_then(|n| i32::try_from(n).ok())
}

fn to_u32(v: Option<i32>) -> Option<u32> {
    v.and_then(|n| u32::try_from(n).ok())
}

/// AWS documents 0 as "not set" for the age and reuse settings (passwords never expire,
/// any password may be reused), and some endpoints return 0 rather than omitting them.
fn unset_if_zero(v: Option<i32>) -> Option<u32> {
    to_u32(v).filter(|n| *n > 0)
}

impl Host for PluginCtx {
    async fn get_account_password_policy(&mut self) -> Result<Option<PasswordPolicy>, CallError> {
        self.call(GET_PASSWORD_POLICY, None, |aws| async move {
            match iam(&aws).get_account_password_policy().send().await {
                Ok(out) => Ok(out.password_policy.map(|p| PasswordPolicy {
                    minimum_password_length: to_u32(p.minimum_password_length),
                    require_symbols: p.require_symbols,
                    require_numbers: p.require_numbers,
                    require_uppercase_characters: p.require_uppercase_characters,
                    require_lowercase_characters: p.require_lowercase_characters,
                    allow_users_to_change_password: p.allow_users_to_change_password,
                    max_password_age: unset_if_zero(p.max_password_age),
                    password_reuse_prevention: unset_if_zero(p.password_reuse_prevention),
                    hard_expiry: p.hard_expiry,
                })),
                // An account without a password policy is a normal state, not an error.
                Err(e)
                    if e.as_service_error().is_some_and(
                        GetAccountPasswordPolicyError::is_no_such_entity_exception,
                    ) || e.code() == Some("NoSuchEntity") =>
                {
                    Ok(None)
                }
                Err(e) => Err(map_sdk_error(e)),
            }
        })
        .await
    }

    async fn update_account_password_policy(
        &mut self,
        policy: PasswordPolicy,
    ) -> Result<(), CallError> {
        self.call(UPDATE_PASSWORD_POLICY, None, |aws| async move {
            iam(&aws)
                .update_account_password_policy()
                .set_minimum_password_length(to_i32(policy.minimum_password_length))
                .require_symbols(policy.require_symbols)
                .require_numbers(policy.require_numbers)
                .require_uppercase_characters(policy.require_uppercase_characters)
                .require_lowercase_characters(policy.require_lowercase_characters)
                .allow_users_to_change_password(policy.allow_users_to_change_password)
                .set_max_password_age(to_i32(policy.max_password_age))
                .set_password_reuse_prevention(to_i32(policy.password_reuse_prevention))
                .set_hard_expiry(policy.hard_expiry)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }
}
