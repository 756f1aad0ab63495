//! `wit/kms.wit`. Keys are named by key id or ARN.

use super::{any, any_of, on_target, row};
use crate::{HostFunction, KMS_ALIAS, KMS_KEY, Target};

pub(super) const FUNCTIONS: &[HostFunction] = &[
    row(
        "kms.describe-key",
        "DescribeKey",
        &[on_target("kms:DescribeKey")],
        Target::Read,
    ),
    row(
        "kms.get-key-rotation-status",
        "GetKeyRotationStatus",
        &[on_target("kms:GetKeyRotationStatus")],
        Target::Read,
    ),
    row(
        "kms.enable-key-rotation",
        "EnableKeyRotation",
        &[on_target("kms:EnableKeyRotation")],
        Target::Resource(KMS_KEY),
    ),
    // A key has no name: the created name is its alias (`alias/<prefix>…`). The host
    // also records the new key's id as created, so the same remediation may configure
    // it. `kms:CreateKey` takes no resource; `kms:CreateAlias` is authorised on the alias
    // and on the key, whose id is unknown before the call.
    row(
        "kms.create-key",
        "CreateKey",
        &[
            any("kms:CreateKey"),
            on_target("kms:CreateAlias"),
            any_of("kms:CreateAlias", KMS_KEY),
        ],
        Target::Create(KMS_ALIAS),
    ),
    row(
        "kms.put-key-policy",
        "PutKeyPolicy",
        &[on_target("kms:PutKeyPolicy")],
        Target::Resource(KMS_KEY),
    ),
];
