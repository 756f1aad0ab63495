//! `wit/account.wit`: the account's alternate contacts (AWS Account Management). The
//! actions can be narrowed to the account resource, but the host only ever acts on the
//! finding's own account, so they are granted on any.

use super::{any, row};
use crate::{HostFunction, Target};

pub(super) const FUNCTIONS: &[HostFunction] = &[
    row(
        "account.get-alternate-contact",
        "GetAlternateContact",
        &[any("account:GetAlternateContact")],
        Target::Read,
    ),
    row(
        "account.put-alternate-contact",
        "PutAlternateContact",
        &[any("account:PutAlternateContact")],
        Target::Account,
    ),
];
