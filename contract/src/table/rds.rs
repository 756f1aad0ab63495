//! `wit/rds.wit`: RDS DB instances, by identifier. Only the settings CIS controls ask
//! for can be changed.

use super::{any, on_target, row};
use crate::{HostFunction, RDS_DB_INSTANCE, Target};

pub(super) const FUNCTIONS: &[HostFunction] = &[
    row(
        "rds.describe-db-instance",
        "DescribeDBInstances",
        &[any("rds:DescribeDBInstances")],
        Target::Read,
    ),
    row(
        "rds.modify-db-instance",
        "ModifyDBInstance",
        &[on_target("rds:ModifyDBInstance")],
        Target::Resource(RDS_DB_INSTANCE),
    ),
];
