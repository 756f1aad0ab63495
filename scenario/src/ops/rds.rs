//! RDS calls (`rds.*`): DB instances and clusters.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Member, Record, call_failed};

/// An RDS call, written `call = "rds.operation"` with the operation's fields next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
#[allow(
    clippy::enum_variant_names,
    reason = "the variants are the AWS operations, which share a noun"
)]
pub enum Op {
    /// `rds:CreateDBInstance`: a `db.t3.micro` instance with 20 GiB of storage. Returns
    /// `identifier` and `arn`.
    #[serde(rename = "rds.create-db-instance", rename_all = "kebab-case")]
    CreateDbInstance {
        /// The instance identifier.
        identifier: String,
        /// The engine (default `postgres`).
        #[serde(default = "postgres")]
        engine: String,
        /// Whether it gets a public address (default `false`).
        #[serde(default)]
        publicly_accessible: bool,
        /// Whether minor engine upgrades are applied automatically (default `true`, as
        /// AWS's).
        #[serde(default = "yes")]
        auto_minor_version_upgrade: bool,
        /// Whether a standby is kept in another Availability Zone (default `false`).
        #[serde(default)]
        multi_az: bool,
    },
    /// `rds:DescribeDBInstances` of one instance. Returns `exists` and, when it does,
    /// `arn`, `status`, `publicly-accessible`, `auto-minor-version-upgrade` and
    /// `multi-az`.
    #[serde(rename = "rds.describe-db-instance", rename_all = "kebab-case")]
    DescribeDbInstance {
        /// The instance identifier.
        identifier: String,
    },
    /// `rds:CreateDBCluster`, then one `rds:CreateDBInstance` (`db.r6g.large`) per entry
    /// of `zones`, named `<identifier>-1`, `-2`, ..., in the Availability Zone of the
    /// region with that suffix; the first is the writer. Returns `identifier` and `arn`.
    #[serde(rename = "rds.create-db-cluster", rename_all = "kebab-case")]
    CreateDbCluster {
        /// The cluster identifier.
        identifier: String,
        /// The engine (default `aurora-postgresql`).
        #[serde(default = "aurora_postgresql")]
        engine: String,
        /// The Availability Zone suffix of each instance (default one instance in `a`; `[]`
        /// for a cluster without instances).
        #[serde(default = "zone_a")]
        zones: Vec<String>,
    },
    /// `rds:DescribeDBClusters` of one cluster and `rds:DescribeDBInstances` of its
    /// instances. Returns `exists` and, when it does, `arn`, `multi-az`, `instances` (how
    /// many) and `zones` (in how many Availability Zones they are).
    #[serde(rename = "rds.describe-db-cluster", rename_all = "kebab-case")]
    DescribeDbCluster {
        /// The cluster identifier.
        identifier: String,
    },
}

fn aurora_postgresql() -> String {
    "aurora-postgresql".to_owned()
}

fn zone_a() -> Vec<String> {
    vec!["a".to_owned()]
}

fn postgres() -> String {
    "postgres".to_owned()
}

fn yes() -> bool {
    true
}

/// Every RDS call name.
pub const CALLS: &[&str] = &[
    "rds.create-db-instance",
    "rds.describe-db-instance",
    "rds.create-db-cluster",
    "rds.describe-db-cluster",
];

impl Op {
    /// Its `call` name.
    pub fn call(&self) -> &'static str {
        match self {
            Op::CreateDbInstance { .. } => "rds.create-db-instance",
            Op::DescribeDbInstance { .. } => "rds.describe-db-instance",
            Op::CreateDbCluster { .. } => "rds.create-db-cluster",
            Op::DescribeDbCluster { .. } => "rds.describe-db-cluster",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::CreateDbInstance { .. } => &["identifier", "arn"],
            Op::DescribeDbInstance { .. } => &[
                "exists",
                "arn",
                "status",
                "publicly-accessible",
                "auto-minor-version-upgrade",
                "multi-az",
            ],
            Op::CreateDbCluster { .. } => &["identifier", "arn"],
            Op::DescribeDbCluster { .. } => &["exists", "arn", "multi-az", "instances", "zones"],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Op::DescribeDbInstance { .. } | Op::DescribeDbCluster { .. }
        )
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        let (Op::CreateDbInstance { identifier, .. }
        | Op::DescribeDbInstance { identifier }
        | Op::CreateDbCluster { identifier, .. }
        | Op::DescribeDbCluster { identifier }) = self;
        let mut problems = Vec::new();
        if identifier.trim().is_empty() {
            problems.push("`identifier` is empty".to_owned());
        }
        if let Op::CreateDbCluster { zones, .. } = self {
            for zone in zones {
                if zone.is_empty() || !zone.bytes().all(|b| b.is_ascii_lowercase()) {
                    problems.push(format!("zone {zone:?} is not a suffix such as `a`"));
                }
            }
        }
        problems
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        match self {
            Op::CreateDbInstance {
                identifier,
                engine,
                publicly_accessible,
                auto_minor_version_upgrade,
                multi_az,
            } => {
                let out = m
                    .rds
                    .create_db_instance()
                    .db_instance_identifier(identifier)
                    .db_instance_class("db.t3.micro")
                    .engine(engine)
                    .allocated_storage(20)
                    .master_username("hubfix")
                    .master_user_password("hubfix-scenario-only")
                    .publicly_accessible(*publicly_accessible)
                    .auto_minor_version_upgrade(*auto_minor_version_upgrade)
                    .multi_az(*multi_az)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let arn = out
                    .db_instance()
                    .and_then(|db| db.db_instance_arn())
                    .unwrap_or_default();
                Ok(Record::from([
                    ("identifier".to_owned(), json!(identifier)),
                    ("arn".to_owned(), json!(arn)),
                ]))
            }
            Op::DescribeDbInstance { identifier } => {
                let got = m
                    .rds
                    .describe_db_instances()
                    .db_instance_identifier(identifier)
                    .send()
                    .await;
                let out = match got {
                    Ok(out) => out,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_db_instance_not_found_fault()) =>
                    {
                        return Ok(Record::from([("exists".to_owned(), json!(false))]));
                    }
                    Err(e) => return Err(failed(&e)),
                };
                let Some(db) = out.db_instances().first() else {
                    return Ok(Record::from([("exists".to_owned(), json!(false))]));
                };
                Ok(Record::from([
                    ("exists".to_owned(), json!(true)),
                    ("arn".to_owned(), json!(db.db_instance_arn())),
                    ("status".to_owned(), json!(db.db_instance_status())),
                    (
                        "publicly-accessible".to_owned(),
                        json!(db.publicly_accessible()),
                    ),
                    (
                        "auto-minor-version-upgrade".to_owned(),
                        json!(db.auto_minor_version_upgrade()),
                    ),
                    ("multi-az".to_owned(), json!(db.multi_az())),
                ]))
            }
            Op::CreateDbCluster {
                identifier,
                engine,
                zones,
            } => {
                let region = m
                    .rds
                    .config()
                    .region()
                    .map(|r| r.to_string())
                    .unwrap_or_default();
                let out = m
                    .rds
                    .create_db_cluster()
                    .db_cluster_identifier(identifier)
                    .engine(engine)
                    .master_username("hubfix")
                    .master_user_password("hubfix-scenario-only")
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                for (n, zone) in zones.iter().enumerate() {
                    m.rds
                        .create_db_instance()
                        .db_instance_identifier(format!("{identifier}-{}", n + 1))
                        .db_cluster_identifier(identifier)
                        .engine(engine)
                        .db_instance_class("db.r6g.large")
                        .availability_zone(format!("{region}{zone}"))
                        .send()
                        .await
                        .map_err(|e| failed(&e))?;
                }
                let arn = out
                    .db_cluster()
                    .and_then(|c| c.db_cluster_arn())
                    .unwrap_or_default();
                Ok(Record::from([
                    ("identifier".to_owned(), json!(identifier)),
                    ("arn".to_owned(), json!(arn)),
                ]))
            }
            Op::DescribeDbCluster { identifier } => {
                let got = m
                    .rds
                    .describe_db_clusters()
                    .db_cluster_identifier(identifier)
                    .send()
                    .await;
                let out = match got {
                    Ok(out) => out,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_db_cluster_not_found_fault()) =>
                    {
                        return Ok(Record::from([("exists".to_owned(), json!(false))]));
                    }
                    Err(e) => return Err(failed(&e)),
                };
                let Some(cluster) = out.db_clusters().first() else {
                    return Ok(Record::from([("exists".to_owned(), json!(false))]));
                };
                let filter = aws_sdk_rds::types::Filter::builder()
                    .name("db-cluster-id")
                    .values(identifier)
                    .build();
                let instances = m
                    .rds
                    .describe_db_instances()
                    .filters(filter)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let zones: std::collections::BTreeSet<_> = instances
                    .db_instances()
                    .iter()
                    .filter_map(|db| db.availability_zone())
                    .collect();
                Ok(Record::from([
                    ("exists".to_owned(), json!(true)),
                    ("arn".to_owned(), json!(cluster.db_cluster_arn())),
                    ("multi-az".to_owned(), json!(cluster.multi_az())),
                    (
                        "instances".to_owned(),
                        json!(instances.db_instances().len()),
                    ),
                    ("zones".to_owned(), json!(zones.len())),
                ]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_needs_an_identifier_and_gets_aws_defaults() {
        let op: Op = serde_json::from_value(
            json!({"call": "rds.create-db-instance", "identifier": "orders"}),
        )
        .unwrap();
        assert_eq!(
            op,
            Op::CreateDbInstance {
                identifier: "orders".into(),
                engine: "postgres".into(),
                publicly_accessible: false,
                auto_minor_version_upgrade: true,
                multi_az: false,
            }
        );
        let op = Op::DescribeDbInstance {
            identifier: " ".into(),
        };
        assert_eq!(op.problems(), ["`identifier` is empty"]);
    }

    #[test]
    fn a_cluster_gets_a_writer_in_zone_a_unless_told() {
        let op: Op = serde_json::from_value(
            json!({"call": "rds.create-db-cluster", "identifier": "orders"}),
        )
        .unwrap();
        assert_eq!(
            op,
            Op::CreateDbCluster {
                identifier: "orders".into(),
                engine: "aurora-postgresql".into(),
                zones: vec!["a".into()],
            }
        );
        let op: Op = serde_json::from_value(
            json!({"call": "rds.create-db-cluster", "identifier": "orders", "zones": ["a", "B1"]}),
        )
        .unwrap();
        assert_eq!(op.problems(), ["zone \"B1\" is not a suffix such as `a`"]);
    }
}
