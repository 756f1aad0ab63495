//! S3 Control calls (`s3control.*`): the account-level Block Public Access.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Member, Record, call_failed};

/// An S3 Control call, written `call = "s3control.operation"` with the operation's fields
/// next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
#[allow(
    clippy::enum_variant_names,
    reason = "the variants are the AWS operations, which share a noun until other calls come"
)]
pub enum Op {
    /// `s3control:PutPublicAccessBlock` for the member account. All four settings are
    /// written; those left out are `false`. Returns nothing.
    #[serde(
        rename = "s3control.put-public-access-block",
        rename_all = "kebab-case"
    )]
    PutPublicAccessBlock {
        /// Block public ACLs.
        block_public_acls: Option<bool>,
        /// Ignore public ACLs.
        ignore_public_acls: Option<bool>,
        /// Block public bucket policies.
        block_public_policy: Option<bool>,
        /// Restrict public buckets.
        restrict_public_buckets: Option<bool>,
    },
    /// `s3control:DeletePublicAccessBlock` for the member account; an account without a
    /// configuration is fine. Returns nothing.
    #[serde(rename = "s3control.delete-public-access-block")]
    DeletePublicAccessBlock {},
    /// `s3control:GetPublicAccessBlock` for the member account. Returns `exists` and the four
    /// settings (`false` where the account has no configuration, which is what AWS applies).
    #[serde(rename = "s3control.get-public-access-block")]
    GetPublicAccessBlock {},
}

/// Every S3 Control call name.
pub const CALLS: &[&str] = &[
    "s3control.put-public-access-block",
    "s3control.delete-public-access-block",
    "s3control.get-public-access-block",
];

const PUBLIC_ACCESS_BLOCK_FIELDS: &[&str] = &[
    "exists",
    "block-public-acls",
    "ignore-public-acls",
    "block-public-policy",
    "restrict-public-buckets",
];

impl Op {
    /// Its `call` name, e.g. `s3control.get-public-access-block`.
    pub fn call(&self) -> &'static str {
        match self {
            Op::PutPublicAccessBlock { .. } => "s3control.put-public-access-block",
            Op::DeletePublicAccessBlock {} => "s3control.delete-public-access-block",
            Op::GetPublicAccessBlock {} => "s3control.get-public-access-block",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::GetPublicAccessBlock {} => PUBLIC_ACCESS_BLOCK_FIELDS,
            Op::PutPublicAccessBlock { .. } | Op::DeletePublicAccessBlock {} => &[],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(self, Op::GetPublicAccessBlock {})
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        Vec::new()
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        match self {
            Op::PutPublicAccessBlock {
                block_public_acls,
                ignore_public_acls,
                block_public_policy,
                restrict_public_buckets,
            } => {
                use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
                let configuration = PublicAccessBlockConfiguration::builder()
                    .block_public_acls(block_public_acls.unwrap_or(false))
                    .ignore_public_acls(ignore_public_acls.unwrap_or(false))
                    .block_public_policy(block_public_policy.unwrap_or(false))
                    .restrict_public_buckets(restrict_public_buckets.unwrap_or(false))
                    .build();
                m.s3control
                    .put_public_access_block()
                    .account_id(&m.account)
                    .public_access_block_configuration(configuration)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::DeletePublicAccessBlock {} => {
                match m
                    .s3control
                    .delete_public_access_block()
                    .account_id(&m.account)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Record::new()),
                    Err(e) if no_public_access_block(e.raw_response()) => Ok(Record::new()),
                    Err(e) => Err(failed(&e)),
                }
            }
            Op::GetPublicAccessBlock {} => {
                let configuration = match m
                    .s3control
                    .get_public_access_block()
                    .account_id(&m.account)
                    .send()
                    .await
                {
                    Ok(out) => out.public_access_block_configuration,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_no_such_public_access_block_configuration())
                            || no_public_access_block(e.raw_response()) =>
                    {
                        None
                    }
                    Err(e) => return Err(failed(&e)),
                };
                let exists = configuration.is_some();
                let c = configuration.unwrap_or_else(|| {
                    aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder().build()
                });
                Ok(Record::from([
                    ("exists".to_owned(), json!(exists)),
                    (
                        "block-public-acls".to_owned(),
                        json!(c.block_public_acls.unwrap_or(false)),
                    ),
                    (
                        "ignore-public-acls".to_owned(),
                        json!(c.ignore_public_acls.unwrap_or(false)),
                    ),
                    (
                        "block-public-policy".to_owned(),
                        json!(c.block_public_policy.unwrap_or(false)),
                    ),
                    (
                        "restrict-public-buckets".to_owned(),
                        json!(c.restrict_public_buckets.unwrap_or(false)),
                    ),
                ]))
            }
        }
    }
}

/// Whether an S3 Control error response says the account has no Block Public Access
/// configuration (the error code is in the XML body; the SDK models it for Get only).
fn no_public_access_block(
    response: Option<&aws_sdk_s3control::config::http::HttpResponse>,
) -> bool {
    response.and_then(|r| r.body().bytes()).is_some_and(|body| {
        String::from_utf8_lossy(body).contains("NoSuchPublicAccessBlockConfiguration")
    })
}
