//! `wit/rds.wit`: RDS DB instances and clusters, by identifier. Only the settings CIS
//! controls ask for can be changed, and the only instance that can be created is a reader
//! in a cluster the finding names.

use super::{any, on_target, on_type, row};
use crate::{HostFunction, RDS_DB_CLUSTER, RDS_DB_INSTANCE, Target};

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
    row(
        "rds.describe-db-cluster",
        "DescribeDBClusters",
        &[any("rds:DescribeDBClusters")],
        Target::Read,
    ),
    row(
        "rds.describe-db-cluster-instances",
        "DescribeDBInstances",
        &[any("rds:DescribeDBInstances")],
        Target::Read,
    ),
    // The new instance is named under the create prefix; RDS authorises the call on it
    // and on the cluster it joins, which must be one the finding names.
    row(
        "rds.create-db-cluster-instance",
        "CreateDBInstance",
        &[
            on_target("rds:CreateDBInstance"),
            on_type("rds:CreateDBInstance", RDS_DB_CLUSTER),
        ],
        Target::Create(RDS_DB_INSTANCE),
    ),
];
