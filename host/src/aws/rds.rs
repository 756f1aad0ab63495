//! `hubfix:plugin/rds`: DB instances and clusters in the finding's account and region.
//!
//! Instances and clusters are named by identifier, checked against RDS's rules before
//! anything is sent. `modify-db-instance` takes only the settings the CIS fixes change
//! (public access, automatic minor version upgrades, Multi-AZ), and applies them
//! immediately. `create-db-cluster-instance` adds a reader, named under the create
//! prefix, to a cluster the finding names; engine, class and Availability Zone are
//! checked for shape (the zone also for the finding's region). RDS answers a missing
//! instance with `DBInstanceNotFound` and a missing cluster with `DBClusterNotFoundFault`:
//! `none` when describing, `not-found` otherwise.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use hubfix_contract::{HostFunction, RDS_DB_CLUSTER, function};

use crate::aws::{AwsClients, CallError, PluginCtx, map_sdk_error};
use crate::bindings::rds::{
    ClusterInstance, DbCluster, DbInstance, DbInstanceChange, Host, NewClusterInstance,
};
use crate::bindings::types::AwsError;

const DESCRIBE: &HostFunction = function("rds.describe-db-instance");
const MODIFY: &HostFunction = function("rds.modify-db-instance");
const DESCRIBE_CLUSTER: &HostFunction = function("rds.describe-db-cluster");
const CLUSTER_INSTANCES: &HostFunction = function("rds.describe-db-cluster-instances");
const CREATE_CLUSTER_INSTANCE: &HostFunction = function("rds.create-db-cluster-instance");

/// RDS's limit on a DB instance or cluster identifier.
const MAX_IDENTIFIER: usize = 63;

/// The most instances `describe-db-cluster-instances` returns (Aurora allows 16).
const MAX_CLUSTER_INSTANCES: usize = 64;

/// The most Availability Zones a cluster's description carries.
const MAX_ZONES: usize = 16;

/// The longest engine name, instance class or Availability Zone name accepted.
const MAX_WORD: usize = 64;

fn rds(aws: &AwsClients) -> aws_sdk_rds::Client {
    aws.client(aws_sdk_rds::Client::new)
}

fn invalid(function: &HostFunction, message: String) -> CallError {
    AwsError::InvalidInput(format!("{}: {message}", function.name)).into()
}

/// A DB instance or cluster identifier: 1 to 63 ASCII letters, digits and hyphens,
/// starting with a letter, not ending with a hyphen, without two hyphens in a row.
fn identifier(function: &HostFunction, id: &str) -> Result<(), CallError> {
    named(function, "identifier", id)
}

fn named(function: &HostFunction, field: &str, id: &str) -> Result<(), CallError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_IDENTIFIER
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !id.ends_with('-')
        && !id.contains("--");
    if !ok {
        return Err(invalid(
            function,
            format!(
                "`{field}` must be 1 to {MAX_IDENTIFIER} letters, digits and single hyphens, \
                 starting with a letter, not {id:?}"
            ),
        ));
    }
    Ok(())
}

/// The one item an identifier names, and its identifier: one identifier names at most one
/// instance or cluster, so any other answer is not about the one `asked` for.
fn the_one<'a, T>(
    answered: &'a [T],
    what: &str,
    asked: &str,
    identifier: impl Fn(&'a T) -> Option<&'a str>,
) -> Result<(&'a T, &'a str), AwsError> {
    let [item] = answered else {
        return Err(AwsError::Service(format!(
            "{} {what} answered for {asked:?}",
            answered.len()
        )));
    };
    let id = identifier(item).unwrap_or_default();
    if !id.eq_ignore_ascii_case(asked) {
        return Err(AwsError::Service(format!(
            "asked for {asked:?}, answered {id:?}"
        )));
    }
    Ok((item, id))
}

/// An engine name (`aurora-postgresql`) or instance class (`db.r6g.large`): 1 to 64
/// lowercase ASCII letters, digits and `punctuation`, starting with a letter.
fn word(
    function: &HostFunction,
    field: &str,
    value: &str,
    punctuation: &str,
) -> Result<(), CallError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_WORD
        && value.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && value.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || punctuation.contains(b as char)
        });
    if !ok {
        return Err(invalid(
            function,
            format!(
                "`{field}` must be 1 to {MAX_WORD} lowercase letters, digits and `{punctuation}`, \
                 starting with a letter, not {:?}",
                hubfix_contract::bounded_text(value, 64)
            ),
        ));
    }
    Ok(())
}

/// An Availability Zone of `region`: the region's name followed by lowercase letters,
/// digits and hyphens (`eu-west-1a`, or a Local Zone's `us-west-2-lax-1a`).
fn zone(function: &HostFunction, value: &str, region: &str) -> Result<(), CallError> {
    let ok = value.len() <= MAX_WORD
        && value.strip_prefix(region).is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if !ok {
        return Err(invalid(
            function,
            format!(
                "`availability-zone` must be an Availability Zone of {region}, not {:?}",
                hubfix_contract::bounded_text(value, 64)
            ),
        ));
    }
    Ok(())
}

impl Host for PluginCtx {
    async fn describe_db_instance(
        &mut self,
        identifier_: String,
    ) -> Result<Option<DbInstance>, CallError> {
        self.enter(const { function("rds.describe-db-instance") })?;
        identifier(DESCRIBE, &identifier_)?;
        let resource = identifier_.clone();
        self.call(DESCRIBE, Some(&resource), |aws| async move {
            let out = match rds(&aws)
                .describe_db_instances()
                .db_instance_identifier(&identifier_)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) if e.code() == Some("DBInstanceNotFound") => return Ok(None),
                Err(e) => return Err(map_sdk_error(e)),
            };
            let (db, id) = the_one(out.db_instances(), "instances", &identifier_, |db| {
                db.db_instance_identifier()
            })?;
            Ok(Some(DbInstance {
                identifier: id.to_owned(),
                arn: db.db_instance_arn().unwrap_or_default().to_owned(),
                engine: db.engine().unwrap_or_default().to_owned(),
                status: db.db_instance_status().unwrap_or_default().to_owned(),
                publicly_accessible: db.publicly_accessible().unwrap_or(false),
                auto_minor_version_upgrade: db.auto_minor_version_upgrade().unwrap_or(false),
                multi_az: db.multi_az().unwrap_or(false),
            }))
        })
        .await
    }

    async fn modify_db_instance(
        &mut self,
        identifier_: String,
        change: DbInstanceChange,
    ) -> Result<(), CallError> {
        self.enter(const { function("rds.modify-db-instance") })?;
        identifier(MODIFY, &identifier_)?;
        if change.publicly_accessible.is_none()
            && change.auto_minor_version_upgrade.is_none()
            && change.multi_az.is_none()
        {
            return Err(invalid(MODIFY, "`change` sets no field".into()));
        }
        let resource = identifier_.clone();
        self.call(MODIFY, Some(&resource), |aws| async move {
            rds(&aws)
                .modify_db_instance()
                .db_instance_identifier(identifier_)
                .apply_immediately(true)
                .set_publicly_accessible(change.publicly_accessible)
                .set_auto_minor_version_upgrade(change.auto_minor_version_upgrade)
                .set_multi_az(change.multi_az)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }

    async fn describe_db_cluster(
        &mut self,
        identifier_: String,
    ) -> Result<Option<DbCluster>, CallError> {
        self.enter(const { function("rds.describe-db-cluster") })?;
        identifier(DESCRIBE_CLUSTER, &identifier_)?;
        let resource = identifier_.clone();
        self.call(DESCRIBE_CLUSTER, Some(&resource), |aws| async move {
            let out = match rds(&aws)
                .describe_db_clusters()
                .db_cluster_identifier(&identifier_)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) if e.code() == Some("DBClusterNotFoundFault") => return Ok(None),
                Err(e) => return Err(map_sdk_error(e)),
            };
            let (cluster, id) = the_one(out.db_clusters(), "clusters", &identifier_, |c| {
                c.db_cluster_identifier()
            })?;
            let zones = cluster.availability_zones();
            if zones.len() > MAX_ZONES {
                return Err(AwsError::Service(format!(
                    "cluster {id} answered {} Availability Zones, more than {MAX_ZONES}",
                    zones.len()
                )));
            }
            Ok(Some(DbCluster {
                identifier: id.to_owned(),
                arn: cluster.db_cluster_arn().unwrap_or_default().to_owned(),
                engine: cluster.engine().unwrap_or_default().to_owned(),
                engine_mode: cluster.engine_mode().unwrap_or("provisioned").to_owned(),
                status: cluster.status().unwrap_or_default().to_owned(),
                multi_az: cluster.multi_az().unwrap_or(false),
                availability_zones: zones.to_vec(),
                writer: cluster
                    .db_cluster_members()
                    .iter()
                    .find(|m| m.is_cluster_writer() == Some(true))
                    .and_then(|m| m.db_instance_identifier())
                    .map(str::to_owned),
            }))
        })
        .await
    }

    async fn describe_db_cluster_instances(
        &mut self,
        cluster: String,
    ) -> Result<Vec<ClusterInstance>, CallError> {
        self.enter(const { function("rds.describe-db-cluster-instances") })?;
        named(CLUSTER_INSTANCES, "cluster", &cluster)?;
        let resource = cluster.clone();
        self.call(CLUSTER_INSTANCES, Some(&resource), |aws| async move {
            let filter = aws_sdk_rds::types::Filter::builder()
                .name("db-cluster-id")
                .values(&cluster)
                .build();
            let out = rds(&aws)
                .describe_db_instances()
                .filters(filter)
                .max_records(100)
                .send()
                .await
                .map_err(map_sdk_error)?;
            let instances = out.db_instances();
            if instances.len() > MAX_CLUSTER_INSTANCES || out.marker().is_some() {
                return Err(AwsError::Service(format!(
                    "cluster {cluster} has more than {MAX_CLUSTER_INSTANCES} instances"
                )));
            }
            instances
                .iter()
                .map(|db| {
                    let id = db.db_instance_identifier().unwrap_or_default();
                    let of = db.db_cluster_identifier().unwrap_or_default();
                    if !of.eq_ignore_ascii_case(&cluster) {
                        return Err(AwsError::Service(format!(
                            "asked for the instances of cluster {cluster:?}, answered {id:?} of {of:?}"
                        )));
                    }
                    Ok(ClusterInstance {
                        identifier: id.to_owned(),
                        instance_class: db.db_instance_class().unwrap_or_default().to_owned(),
                        availability_zone: db.availability_zone().unwrap_or_default().to_owned(),
                        status: db.db_instance_status().unwrap_or_default().to_owned(),
                    })
                })
                .collect()
        })
        .await
    }

    async fn create_db_cluster_instance(
        &mut self,
        cluster: String,
        instance: NewClusterInstance,
    ) -> Result<(), CallError> {
        self.enter(const { function("rds.create-db-cluster-instance") })?;
        let f = CREATE_CLUSTER_INSTANCE;
        named(f, "cluster", &cluster)?;
        named(f, "identifier", &instance.identifier)?;
        word(f, "engine", &instance.engine, "-")?;
        word(f, "instance-class", &instance.instance_class, ".")?;
        zone(f, &instance.availability_zone, self.scope.region())?;
        // The new instance is the call's target (checked by `call` against the create
        // prefix); the cluster it joins must be the finding's own.
        if !self.scope.names(&RDS_DB_CLUSTER, &cluster) {
            let reason = format!(
                "{} may add an instance only to a DB cluster the finding names, not {cluster}",
                f.name
            );
            return Err(self.deny(f, Some(&instance.identifier), reason));
        }
        let resource = instance.identifier.clone();
        self.call(f, Some(&resource), |aws| async move {
            rds(&aws)
                .create_db_instance()
                .db_instance_identifier(instance.identifier)
                .db_cluster_identifier(cluster)
                .engine(instance.engine)
                .db_instance_class(instance.instance_class)
                .availability_zone(instance.availability_zone)
                .send()
                .await
                .map(|_| ())
                .map_err(map_sdk_error)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::aws::mock_tests::mock_ctx;

    use aws_sdk_rds::operation::describe_db_instances::{
        DescribeDBInstancesError, DescribeDbInstancesOutput,
    };
    use aws_sdk_rds::operation::modify_db_instance::ModifyDbInstanceOutput;
    use aws_sdk_rds::types::error::DbInstanceNotFoundFault;
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_mocks::{Rule, RuleMode, mock, mock_client};
    use serde_json::json;

    use super::*;
    use crate::bindings::types::Mode;
    use crate::outcome::CallResult;

    const DB: &str = "arn:aws:rds:eu-west-1:111111111111:db:orders";

    fn ctx(rules: &[&Rule], mode: Mode) -> PluginCtx {
        mock_ctx(
            "eu-west-1",
            json!([{"Type": "AwsRdsDbInstance", "Id": DB}]),
            mock_client!(aws_sdk_rds, RuleMode::MatchAny, rules),
            &["rds.describe-db-instance", "rds.modify-db-instance"],
            mode,
            50,
        )
    }

    fn instance(id: &str) -> aws_sdk_rds::types::DbInstance {
        aws_sdk_rds::types::DbInstance::builder()
            .db_instance_identifier(id)
            .db_instance_arn(format!("arn:aws:rds:eu-west-1:111111111111:db:{id}"))
            .engine("postgres")
            .db_instance_status("available")
            .publicly_accessible(true)
            .auto_minor_version_upgrade(false)
            .build()
    }

    #[tokio::test]
    async fn an_instance_is_described_and_only_the_named_one_modified() {
        let describe = mock!(aws_sdk_rds::Client::describe_db_instances)
            .match_requests(|r| r.db_instance_identifier() == Some("orders"))
            .then_output(|| {
                DescribeDbInstancesOutput::builder()
                    .db_instances(instance("orders"))
                    .build()
            });
        let modify = mock!(aws_sdk_rds::Client::modify_db_instance)
            .match_requests(|r| {
                r.db_instance_identifier() == Some("orders")
                    && r.apply_immediately() == Some(true)
                    && r.publicly_accessible() == Some(false)
                    && r.auto_minor_version_upgrade().is_none()
                    && r.multi_az().is_none()
            })
            .then_output(|| ModifyDbInstanceOutput::builder().build());
        let mut ctx = ctx(&[&describe, &modify], Mode::Apply);
        let db = ctx
            .describe_db_instance("orders".into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                db.identifier.as_str(),
                db.arn.as_str(),
                db.engine.as_str(),
                db.status.as_str()
            ),
            ("orders", DB, "postgres", "available")
        );
        assert!(db.publicly_accessible && !db.auto_minor_version_upgrade && !db.multi_az);
        let off = DbInstanceChange {
            publicly_accessible: Some(false),
            auto_minor_version_upgrade: None,
            multi_az: None,
        };
        ctx.modify_db_instance("orders".into(), off).await.unwrap();
        let err = ctx
            .modify_db_instance("payments".into(), off)
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::AccessDenied(_))));
        assert_eq!((describe.num_calls(), modify.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_missing_instance_is_none_and_odd_answers_are_errors() {
        let missing = mock!(aws_sdk_rds::Client::describe_db_instances)
            .match_requests(|r| r.db_instance_identifier() == Some("orders"))
            .then_error(|| {
                DescribeDBInstancesError::DbInstanceNotFoundFault(
                    DbInstanceNotFoundFault::builder()
                        .message("DBInstance orders not found.")
                        .meta(
                            ErrorMetadata::builder()
                                .code("DBInstanceNotFound")
                                .message("DBInstance orders not found.")
                                .build(),
                        )
                        .build(),
                )
            });
        let other = mock!(aws_sdk_rds::Client::describe_db_instances)
            .match_requests(|r| r.db_instance_identifier() == Some("payments"))
            .then_output(|| {
                DescribeDbInstancesOutput::builder()
                    .db_instances(instance("orders"))
                    .build()
            });
        let two = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
            DescribeDbInstancesOutput::builder()
                .db_instances(instance("a"))
                .db_instances(instance("b"))
                .build()
        });
        let mut ctx = ctx(&[&missing, &other, &two], Mode::Apply);
        assert_eq!(
            ctx.describe_db_instance("orders".into()).await.unwrap(),
            None
        );
        let err = ctx
            .describe_db_instance("payments".into())
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Aws(AwsError::Service(ref m)) if m.contains("answered")));
        let err = ctx
            .describe_db_instance("billing".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::Service(ref m)) if m.contains("2 instances"))
        );
    }

    #[tokio::test]
    async fn hostile_input_never_reaches_rds() {
        let describe = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
            DescribeDbInstancesOutput::builder()
                .db_instances(instance("orders"))
                .build()
        });
        let modify = mock!(aws_sdk_rds::Client::modify_db_instance)
            .then_output(|| ModifyDbInstanceOutput::builder().build());
        let mut ctx = ctx(&[&describe, &modify], Mode::Apply);
        let long = format!("a{}", "b".repeat(63));
        for bad in [
            "",
            "1orders",
            "orders-",
            "ord--ers",
            "orders;rm",
            "órders",
            &long,
            DB,
        ] {
            let err = ctx.describe_db_instance(bad.into()).await.unwrap_err();
            assert!(
                matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("`identifier`")),
                "{bad}: {err:?}"
            );
        }
        let nothing = DbInstanceChange {
            publicly_accessible: None,
            auto_minor_version_upgrade: None,
            multi_az: None,
        };
        let err = ctx
            .modify_db_instance("orders".into(), nothing)
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::InvalidInput(ref m)) if m.contains("no field"))
        );
        assert_eq!((describe.num_calls(), modify.num_calls()), (0, 0));
    }

    #[tokio::test]
    async fn multi_az_is_sent_alone_and_read_back() {
        let modify = mock!(aws_sdk_rds::Client::modify_db_instance)
            .match_requests(|r| {
                r.multi_az() == Some(true)
                    && r.publicly_accessible().is_none()
                    && r.auto_minor_version_upgrade().is_none()
            })
            .then_output(|| ModifyDbInstanceOutput::builder().build());
        let describe = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
            let mut db = instance("orders");
            db.multi_az = Some(true);
            DescribeDbInstancesOutput::builder()
                .db_instances(db)
                .build()
        });
        let mut ctx = ctx(&[&modify, &describe], Mode::Apply);
        let standby = DbInstanceChange {
            publicly_accessible: None,
            auto_minor_version_upgrade: None,
            multi_az: Some(true),
        };
        ctx.modify_db_instance("orders".into(), standby)
            .await
            .unwrap();
        assert_eq!(modify.num_calls(), 1);
        let db = ctx
            .describe_db_instance("orders".into())
            .await
            .unwrap()
            .unwrap();
        assert!(db.multi_az);
    }

    #[tokio::test]
    async fn a_planned_modify_reaches_no_one() {
        let modify = mock!(aws_sdk_rds::Client::modify_db_instance)
            .then_output(|| ModifyDbInstanceOutput::builder().build());
        let mut ctx = ctx(&[&modify], Mode::Plan);
        let on = DbInstanceChange {
            publicly_accessible: None,
            auto_minor_version_upgrade: Some(true),
            multi_az: Some(true),
        };
        ctx.modify_db_instance("orders".into(), on).await.unwrap();
        assert_eq!(modify.num_calls(), 0);
        let results: Vec<_> = ctx.into_trail().calls.iter().map(|c| c.result).collect();
        assert_eq!(results, [CallResult::Planned]);
    }

    mod clusters {
        use aws_sdk_rds::operation::create_db_instance::CreateDbInstanceOutput;
        use aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput;
        use aws_sdk_rds::types::{DbCluster as SdkCluster, DbClusterMember};

        use super::*;

        const CLUSTER: &str = "arn:aws:rds:eu-west-1:111111111111:cluster:orders";

        fn ctx(rules: &[&Rule], mode: Mode) -> PluginCtx {
            mock_ctx(
                "eu-west-1",
                json!([{"Type": "AwsRdsDbCluster", "Id": CLUSTER}]),
                mock_client!(aws_sdk_rds, RuleMode::MatchAny, rules),
                &[
                    "rds.describe-db-cluster",
                    "rds.describe-db-cluster-instances",
                    "rds.create-db-cluster-instance",
                ],
                mode,
                50,
            )
        }

        fn reader(identifier: &str, zone: &str) -> NewClusterInstance {
            NewClusterInstance {
                identifier: identifier.into(),
                engine: "aurora-postgresql".into(),
                instance_class: "db.r6g.large".into(),
                availability_zone: zone.into(),
            }
        }

        fn member(id: &str, zone: &str) -> aws_sdk_rds::types::DbInstance {
            aws_sdk_rds::types::DbInstance::builder()
                .db_instance_identifier(id)
                .db_cluster_identifier("orders")
                .db_instance_class("db.r6g.large")
                .availability_zone(zone)
                .db_instance_status("available")
                .build()
        }

        #[tokio::test]
        async fn a_cluster_its_instances_and_a_new_reader() {
            let describe = mock!(aws_sdk_rds::Client::describe_db_clusters)
                .match_requests(|r| r.db_cluster_identifier() == Some("orders"))
                .then_output(|| {
                    DescribeDbClustersOutput::builder()
                        .db_clusters(
                            SdkCluster::builder()
                                .db_cluster_identifier("orders")
                                .db_cluster_arn(CLUSTER)
                                .engine("aurora-postgresql")
                                .status("available")
                                .multi_az(false)
                                .availability_zones("eu-west-1a")
                                .availability_zones("eu-west-1b")
                                .db_cluster_members(
                                    DbClusterMember::builder()
                                        .db_instance_identifier("orders-1")
                                        .is_cluster_writer(true)
                                        .build(),
                                )
                                .build(),
                        )
                        .build()
                });
            let instances = mock!(aws_sdk_rds::Client::describe_db_instances)
                .match_requests(|r| {
                    r.filters().iter().any(|f| {
                        f.name() == Some("db-cluster-id") && f.values() == ["orders".to_owned()]
                    })
                })
                .then_output(|| {
                    DescribeDbInstancesOutput::builder()
                        .db_instances(member("orders-1", "eu-west-1a"))
                        .build()
                });
            let create = mock!(aws_sdk_rds::Client::create_db_instance)
                .match_requests(|r| {
                    r.db_instance_identifier() == Some("hubfix-orders-reader")
                        && r.db_cluster_identifier() == Some("orders")
                        && r.engine() == Some("aurora-postgresql")
                        && r.db_instance_class() == Some("db.r6g.large")
                        && r.availability_zone() == Some("eu-west-1b")
                        && r.allocated_storage().is_none()
                        && r.master_username().is_none()
                })
                .then_output(|| CreateDbInstanceOutput::builder().build());
            let mut ctx = ctx(&[&describe, &instances, &create], Mode::Apply);
            let cluster = ctx
                .describe_db_cluster("orders".into())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                (cluster.engine_mode.as_str(), cluster.writer.as_deref()),
                ("provisioned", Some("orders-1"))
            );
            assert!(!cluster.multi_az);
            assert_eq!(cluster.availability_zones, ["eu-west-1a", "eu-west-1b"]);
            let members = ctx
                .describe_db_cluster_instances("orders".into())
                .await
                .unwrap();
            assert_eq!(members.len(), 1);
            assert_eq!(
                (
                    members[0].availability_zone.as_str(),
                    members[0].instance_class.as_str()
                ),
                ("eu-west-1a", "db.r6g.large")
            );
            ctx.create_db_cluster_instance(
                "orders".into(),
                reader("hubfix-orders-reader", "eu-west-1b"),
            )
            .await
            .unwrap();
            assert_eq!(create.num_calls(), 1);
        }

        #[tokio::test]
        async fn a_reader_goes_only_into_the_findings_cluster_under_the_prefix() {
            let create = mock!(aws_sdk_rds::Client::create_db_instance)
                .then_output(|| CreateDbInstanceOutput::builder().build());
            let mut ctx = ctx(&[&create], Mode::Apply);
            let denied = ctx
                .create_db_cluster_instance(
                    "payments".into(),
                    reader("hubfix-payments-reader", "eu-west-1b"),
                )
                .await
                .unwrap_err();
            assert!(
                matches!(denied, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("names")),
                "{denied:?}"
            );
            let denied = ctx
                .create_db_cluster_instance("orders".into(), reader("orders-2", "eu-west-1b"))
                .await
                .unwrap_err();
            assert!(
                matches!(denied, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains("hubfix-")),
                "{denied:?}"
            );
            let bad = [
                reader("hubfix-r", "us-east-1a"),
                reader("hubfix-r", "eu-west-1"),
                reader("hubfix-r", "eu-west-1a; x"),
                NewClusterInstance {
                    engine: "Aurora".into(),
                    ..reader("hubfix-r", "eu-west-1b")
                },
                NewClusterInstance {
                    instance_class: "db r6g".into(),
                    ..reader("hubfix-r", "eu-west-1b")
                },
                reader("hubfix--r", "eu-west-1b"),
            ];
            for instance in bad {
                let shown = format!("{instance:?}");
                let err = ctx
                    .create_db_cluster_instance("orders".into(), instance)
                    .await
                    .unwrap_err();
                assert!(
                    matches!(err, CallError::Aws(AwsError::InvalidInput(_))),
                    "{shown}: {err:?}"
                );
            }
            let err = ctx
                .describe_db_cluster("orders;x".into())
                .await
                .unwrap_err();
            assert!(matches!(err, CallError::Aws(AwsError::InvalidInput(_))));
            assert_eq!(create.num_calls(), 0);
            let results: Vec<_> = ctx.into_trail().calls.iter().map(|c| c.result).collect();
            assert_eq!(results[..2], [CallResult::Denied, CallResult::Denied]);
        }

        #[tokio::test]
        async fn a_missing_cluster_is_none_and_a_planned_reader_is_not_created() {
            let missing = mock!(aws_sdk_rds::Client::describe_db_clusters).then_error(|| {
                aws_sdk_rds::operation::describe_db_clusters::DescribeDBClustersError::generic(
                    ErrorMetadata::builder()
                        .code("DBClusterNotFoundFault")
                        .message("DBCluster orders not found.")
                        .build(),
                )
            });
            let create = mock!(aws_sdk_rds::Client::create_db_instance)
                .then_output(|| CreateDbInstanceOutput::builder().build());
            let mut ctx = ctx(&[&missing, &create], Mode::Plan);
            assert!(
                ctx.describe_db_cluster("orders".into())
                    .await
                    .unwrap()
                    .is_none()
            );
            ctx.create_db_cluster_instance(
                "orders".into(),
                reader("hubfix-orders-reader", "eu-west-1c"),
            )
            .await
            .unwrap();
            assert_eq!(create.num_calls(), 0);
        }
    }
}
