//! RDS calls (`rds.*`): DB instances.

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
}

fn postgres() -> String {
    "postgres".to_owned()
}

fn yes() -> bool {
    true
}

/// Every RDS call name.
pub const CALLS: &[&str] = &["rds.create-db-instance", "rds.describe-db-instance"];

impl Op {
    /// Its `call` name.
    pub fn call(&self) -> &'static str {
        match self {
            Op::CreateDbInstance { .. } => "rds.create-db-instance",
            Op::DescribeDbInstance { .. } => "rds.describe-db-instance",
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
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(self, Op::DescribeDbInstance { .. })
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        let (Op::CreateDbInstance { identifier, .. } | Op::DescribeDbInstance { identifier }) =
            self;
        if identifier.trim().is_empty() {
            vec!["`identifier` is empty".to_owned()]
        } else {
            Vec::new()
        }
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
}
