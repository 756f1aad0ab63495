//! `rds-cluster-multi-az`: an Aurora DB cluster keeps instances in more than one
//! Availability Zone (Security Hub RDS.15; CIS AWS Foundations 5.0.0 2.2.4 for clusters).
//!
//! The finding names an `AwsRdsDbCluster` by ARN (`arn:aws:rds:…:cluster:orders`) or by
//! identifier; an ARN of another account or region than the finding's is `skipped`. The
//! plugin reads the cluster (`rds:DescribeDBClusters`): when RDS reports it Multi-AZ,
//! nothing is done. Otherwise it reads the cluster's instances (`rds:DescribeDBInstances`)
//! and adds one reader (`rds:CreateDBInstance` into the cluster) in the first of the
//! cluster's Availability Zones that holds none of them. The reader shares the cluster's
//! storage, parameters and credentials; Aurora fails over to it when the writer's zone
//! fails. It costs as much as an instance of its class, which is why the shipped policy
//! leaves RDS.15 opt-in.
//!
//! Parameters:
//! - `instance-class`: the reader's class (default: the writer's, so that a failover
//!   keeps the capacity);
//! - `reader-prefix`: the reader is `<reader-prefix><cluster>` (default
//!   `hubfix-reader-`; it must start with the host's create prefix).
//!
//! `skipped`, with the reason, and nothing created: the cluster is gone (a stale
//! finding); it is not Aurora (a Multi-AZ DB cluster is Multi-AZ by design) or is Aurora
//! Serverless v1 (no instances to add); it has no instance yet; the reader from an earlier
//! run exists but the cluster is not Multi-AZ yet (it is still being created); no other
//! Availability Zone is open to it.

use std::collections::BTreeSet;

use hubfix_plugin_sdk::rds::{self, NewClusterInstance};
use hubfix_plugin_sdk::{Finding, Guest, Outcome, ParamError, Params, PluginInfo, Request};

const NAME: &str = "rds-cluster-multi-az";
const CONTROLS: &[&str] = &["RDS.15"];
const DESCRIBE: &str = "rds.describe-db-cluster";
const INSTANCES: &str = "rds.describe-db-cluster-instances";
const CREATE: &str = "rds.create-db-cluster-instance";
const DB_CLUSTER: &str = "AwsRdsDbCluster";
const INSTANCE_CLASS: &str = "instance-class";
const READER_PREFIX: &str = "reader-prefix";
const DEFAULT_PREFIX: &str = "hubfix-reader-";

/// RDS's limit on a DB instance identifier.
const MAX_IDENTIFIER: usize = 63;

struct ClusterMultiAz;

impl Guest for ClusterMultiAz {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[DESCRIBE, INSTANCES, CREATE],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let params = match Params::new(&request.params, &[INSTANCE_CLASS, READER_PREFIX]) {
            Ok(params) => params,
            Err(e) => return e.to_outcome(),
        };
        let finding = &request.finding;
        let id = match cluster_of(finding) {
            Ok(id) => id,
            Err(reason) => return Outcome::skipped(reason),
        };
        let reader = match reader_name(params.get(READER_PREFIX).unwrap_or(DEFAULT_PREFIX), &id) {
            Ok(name) => name,
            Err(e) => return e.to_outcome(),
        };
        let class = params.get(INSTANCE_CLASS);
        if let Some(class) = class
            && !valid_class(class)
        {
            return ParamError::invalid_value(
                INSTANCE_CLASS,
                class,
                "a DB instance class such as `db.r6g.large`",
            )
            .to_outcome();
        }
        let cluster = match rds::describe_db_cluster(&id) {
            Ok(Some(cluster)) => cluster,
            Ok(None) => {
                return Outcome::skipped(format!(
                    "DB cluster {id} does not exist (any more); the finding is stale"
                ));
            }
            Err(e) => return e.to_outcome(DESCRIBE),
        };
        if cluster.multi_az {
            return Outcome::already_compliant(format!(
                "DB cluster {id} already has instances in more than one Availability Zone"
            ));
        }
        if !cluster.engine.starts_with("aurora") {
            return Outcome::skipped(format!(
                "DB cluster {id} runs {}, not Aurora: a Multi-AZ DB cluster spans three \
                 Availability Zones by design, and {NAME} adds readers to Aurora clusters only",
                cluster.engine
            ));
        }
        if cluster.engine_mode != "provisioned" {
            return Outcome::skipped(format!(
                "DB cluster {id} is Aurora in {} mode, which has no instances to spread over \
                 Availability Zones; move it to provisioned instances (or Serverless v2)",
                cluster.engine_mode
            ));
        }
        let members = match rds::describe_db_cluster_instances(&id) {
            Ok(members) => members,
            Err(e) => return e.to_outcome(INSTANCES),
        };
        let Some(writer) = members
            .iter()
            .find(|m| Some(&m.identifier) == cluster.writer.as_ref())
            .or(members.first())
        else {
            return Outcome::skipped(format!(
                "DB cluster {id} has no DB instance yet; a reader needs a writer to follow"
            ));
        };
        if let Some(earlier) = members.iter().find(|m| m.identifier == reader) {
            return Outcome::skipped(format!(
                "reader {reader} of DB cluster {id} exists ({}) but RDS does not report the \
                 cluster Multi-AZ yet; it is probably still being created",
                earlier.status
            ));
        }
        let used: BTreeSet<&str> = members
            .iter()
            .map(|m| m.availability_zone.as_str())
            .filter(|z| !z.is_empty())
            .collect();
        let mut zones: Vec<&str> = cluster
            .availability_zones
            .iter()
            .map(String::as_str)
            .collect();
        zones.sort_unstable();
        let Some(zone) = zones.into_iter().find(|z| !used.contains(z)) else {
            return Outcome::skipped(format!(
                "DB cluster {id} can use only the Availability Zones {} and its instances \
                 are already there; widen its DB subnet group",
                cluster.availability_zones.join(", ")
            ));
        };
        let class = class.unwrap_or(&writer.instance_class).to_owned();
        let verb = request.mode.verb("added", "would add");
        let done = format!(
            "{verb} reader {reader} ({class}) to Aurora DB cluster {id} ({}) in {zone}, apart \
             from its instances in {}: Aurora fails over to it when their zone fails; it costs \
             as much as an instance of its class",
            cluster.engine,
            used.into_iter().collect::<Vec<_>>().join(", ")
        );
        let instance = NewClusterInstance {
            identifier: reader,
            engine: cluster.engine,
            instance_class: class,
            availability_zone: zone.to_owned(),
        };
        match rds::create_db_cluster_instance(&id, &instance) {
            Ok(()) => Outcome::remediated(done),
            Err(e) => e.to_outcome(CREATE),
        }
    }
}

/// The identifier of the cluster the finding names, from its ARN (which must be of the
/// finding's account and region) or as given.
fn cluster_of(finding: &Finding) -> Result<String, String> {
    finding.own_resource_name(DB_CLUSTER, "rds", "cluster", "DB cluster")
}

/// `<prefix><cluster>`, if that is a DB instance identifier.
fn reader_name(prefix: &str, cluster: &str) -> Result<String, ParamError> {
    let name = format!("{prefix}{cluster}");
    let ok = name.len() <= MAX_IDENTIFIER
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.contains("--");
    if ok {
        Ok(name)
    } else {
        Err(ParamError::invalid_value(
            READER_PREFIX,
            prefix,
            &format!(
                "a prefix that makes `{}` a DB instance identifier (at most {MAX_IDENTIFIER} \
                 letters, digits and single hyphens, starting with a letter)",
                name.chars().take(100).collect::<String>()
            ),
        ))
    }
}

/// `db.` followed by lowercase letters, digits and dots (`db.r6g.large`).
fn valid_class(class: &str) -> bool {
    class.len() <= 64
        && class.strip_prefix("db.").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.')
        })
}

hubfix_plugin_sdk::export!(ClusterMultiAz);

#[cfg(test)]
mod tests {
    use super::*;
    use hubfix_plugin_sdk::types::Resource;

    fn finding(id: &str) -> Finding {
        Finding {
            id: "f".into(),
            control_id: "RDS.15".into(),
            generator_id: "g".into(),
            account_id: "111111111111".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
            title: String::new(),
            resources: vec![Resource {
                type_: DB_CLUSTER.into(),
                id: id.into(),
                partition: "aws".into(),
                region: "eu-west-1".into(),
                details: None,
            }],
            raw: String::new(),
        }
    }

    #[test]
    fn the_cluster_is_named_by_an_arn_of_the_findings_account_and_region() {
        let arn = "arn:aws:rds:eu-west-1:111111111111:cluster:orders";
        assert_eq!(cluster_of(&finding(arn)).unwrap(), "orders");
        assert_eq!(cluster_of(&finding("orders")).unwrap(), "orders");
        for other in [
            "arn:aws:rds:eu-west-1:222222222222:cluster:orders",
            "arn:aws:rds:us-east-1:111111111111:cluster:orders",
            "arn:aws:rds:eu-west-1:111111111111:db:orders",
            "arn:aws:rds:eu-west-1:111111111111:cluster:",
        ] {
            assert!(cluster_of(&finding(other)).is_err(), "{other}");
        }
    }

    #[test]
    fn the_reader_name_is_an_identifier_or_the_prefix_is_refused() {
        assert_eq!(
            reader_name(DEFAULT_PREFIX, "orders").unwrap(),
            "hubfix-reader-orders"
        );
        let long = "c".repeat(50);
        let err = reader_name(DEFAULT_PREFIX, &long).unwrap_err();
        assert!(err.to_string().contains(READER_PREFIX), "{err}");
        assert!(reader_name("hubfix_", "orders").is_err());
        assert!(reader_name("hubfix--", "orders").is_err());
    }

    #[test]
    fn instance_classes() {
        assert!(valid_class("db.r6g.large"));
        assert!(valid_class("db.serverless"));
        for bad in ["r6g.large", "db.", "db.R6G", "db.r6g large", ""] {
            assert!(!valid_class(bad), "{bad}");
        }
    }
}
