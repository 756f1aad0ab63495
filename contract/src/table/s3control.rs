//! `wit/s3control.wit`: the account's S3 Block Public Access. IAM names these actions
//! `s3:*AccountPublicAccessBlock`; they take no resource ARN.

use super::{any, row};
use crate::{HostFunction, Target};

pub(super) const FUNCTIONS: &[HostFunction] = &[
    row(
        "s3control.get-public-access-block",
        "GetPublicAccessBlock",
        &[any("s3:GetAccountPublicAccessBlock")],
        Target::Read,
    ),
    row(
        "s3control.put-public-access-block",
        "PutPublicAccessBlock",
        &[any("s3:PutAccountPublicAccessBlock")],
        Target::Account,
    ),
];
