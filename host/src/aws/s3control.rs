//! `hubfix:plugin/s3control`: S3 Control operations on the finding's account.
//!
//! S3 Control takes the account id as a parameter (and the SDK puts it in the host name);
//! the host always passes the finding's account, never one the plugin chose.

use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use hubfix_contract::{HostFunction, function};

use crate::aws::{AwsClients, CallError, PluginCtx, map_sdk_error};
use crate::bindings::s3control::{Host, PublicAccessBlock};

const GET: &HostFunction = function("s3control.get-public-access-block");
const PUT: &HostFunction = function("s3control.put-public-access-block");

fn s3control(aws: &AwsClients) -> aws_sdk_s3control::Client {
    aws.client(aws_sdk_s3control::Client::new)
}

impl Host for PluginCtx {
    async fn get_public_access_block(&mut self) -> Result<Option<PublicAccessBlock>, CallError> {
        self.enter(const { function("s3control.get-public-access-block") })?;
        let account = self.scope.account_id().to_owned();
        self.call(GET, None, |aws| async move {
            match s3control(&aws)
                .get_public_access_block()
                .account_id(account)
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
                // An account that never configured Block Public Access: a normal state.
                Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => Ok(None),
                Err(e) => Err(map_sdk_error(e)),
            }
        })
        .await
    }

    async fn put_public_access_block(
        &mut self,
        configuration: PublicAccessBlock,
    ) -> Result<(), CallError> {
        self.enter(const { function("s3control.put-public-access-block") })?;
        let account = self.scope.account_id().to_owned();
        self.call(PUT, None, |aws| async move {
            let config = PublicAccessBlockConfiguration::builder()
                .block_public_acls(configuration.block_public_acls)
                .ignore_public_acls(configuration.ignore_public_acls)
                .block_public_policy(configuration.block_public_policy)
                .restrict_public_buckets(configuration.restrict_public_buckets)
                .build();
            s3control(&aws)
                .put_public_access_block()
                .account_id(account)
                .public_access_block_configuration(config)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }
}
