//! `hubfix:plugin/rds`: DB instances in the finding's account and region.
//!
//! Instances are named by identifier, checked against RDS's rules before anything is
//! sent. `modify-db-instance` takes only the settings the CIS fixes change (public access,
//! automatic minor version upgrades, Multi-AZ), and applies them immediately. RDS answers a missing instance with `DBInstanceNotFound`: `none` when
//! describing, `not-found` when modifying.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use hubfix_contract::{HostFunction, function};

use crate::aws::{AwsClients, CallError, PluginCtx, map_sdk_error};
use crate::bindings::rds::{DbInstance, DbInstanceChange, Host};
use crate::bindings::types::AwsError;

const DESCRIBE: &HostFunction = function("rds.describe-db-instance");
const MODIFY: &HostFunction = function("rds.modify-db-instance");

/// RDS's limit on a DB instance identifier.
const MAX_IDENTIFIER: usize = 63;

fn rds(aws: &AwsClients) -> aws_sdk_rds::Client {
    aws.client(aws_sdk_rds::Client::new)
}

fn invalid(function: &HostFunction, message: String) -> CallError {
    AwsError::InvalidInput(format!("{}: {message}", function.name)).into()
}

/// A DB instance identifier: 1 to 63 ASCII letters, digits and hyphens, starting with a
/// letter, not ending with a hyphen, without two hyphens in a row.
fn identifier(function: &HostFunction, id: &str) -> Result<(), CallError> {
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
                "`identifier` must be 1 to {MAX_IDENTIFIER} letters, digits and single hyphens, \
                 starting with a letter, not {id:?}"
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
            // One identifier names at most one instance; anything else is not an answer
            // about the instance asked for.
            let [db] = out.db_instances() else {
                return Err(AwsError::Service(format!(
                    "{} instances answered for {identifier_:?}",
                    out.db_instances().len()
                )));
            };
            let id = db.db_instance_identifier().unwrap_or_default();
            if !id.eq_ignore_ascii_case(&identifier_) {
                return Err(AwsError::Service(format!(
                    "asked for {identifier_:?}, answered {id:?}"
                )));
            }
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
}
