//! `rds-instance-settings`: the per-instance RDS settings CIS asks for.
//!
//! - **RDS.2** (CIS 3.0.0 2.3.3, 5.0.0 2.2.3): public access off. The instance loses its
//!   public address: clients outside its VPC can no longer connect, which is why the
//!   shipped policy leaves RDS.2 opt-in.
//! - **RDS.13** (CIS 3.0.0 2.3.2, 5.0.0 2.2.2): automatic minor version upgrades on. RDS
//!   then applies minor engine versions in the instance's maintenance window.
//! - **RDS.5** (CIS 5.0.0 2.2.4): Multi-AZ on. RDS builds a synchronous standby in another
//!   Availability Zone while the instance stays online; it roughly doubles the instance's
//!   cost, which is why the shipped policy leaves RDS.5 opt-in.
//!
//! The finding names an `AwsRdsDbInstance` by ARN (`arn:aws:rds:…:db:orders`) or by
//! identifier; an ARN of another account or region than the finding's is `skipped`. The
//! plugin reads the instance (`rds:DescribeDBInstances`): when the setting is already as
//! the control wants nothing is done; otherwise that one setting is changed
//! (`rds:ModifyDBInstance`, applied immediately, nothing else sent). An instance that no
//! longer exists is `skipped` as stale. No parameters.

use hubfix_plugin_sdk::rds::{self, DbInstanceChange};
use hubfix_plugin_sdk::{Finding, Guest, Outcome, PluginInfo, Request};

const NAME: &str = "rds-instance-settings";
const CONTROLS: &[&str] = &["RDS.2", "RDS.5", "RDS.13"];
const DESCRIBE: &str = "rds.describe-db-instance";
const MODIFY: &str = "rds.modify-db-instance";
const DB_INSTANCE: &str = "AwsRdsDbInstance";

/// What a control wants of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    /// RDS.2.
    NotPublic,
    /// RDS.13.
    AutoMinorUpgrades,
    /// RDS.5.
    MultiAz,
}

impl Setting {
    fn of(control: &str) -> Option<Self> {
        match control {
            "RDS.2" => Some(Setting::NotPublic),
            "RDS.13" => Some(Setting::AutoMinorUpgrades),
            "RDS.5" => Some(Setting::MultiAz),
            _ => None,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Setting::NotPublic => "public access",
            Setting::AutoMinorUpgrades => "automatic minor version upgrades",
            Setting::MultiAz => "Multi-AZ",
        }
    }

    /// Whether the instance already has the setting the control wants.
    fn holds(self, db: &rds::DbInstance) -> bool {
        match self {
            Setting::NotPublic => !db.publicly_accessible,
            Setting::AutoMinorUpgrades => db.auto_minor_version_upgrade,
            Setting::MultiAz => db.multi_az,
        }
    }

    fn change(self) -> DbInstanceChange {
        match self {
            Setting::NotPublic => DbInstanceChange {
                publicly_accessible: Some(false),
                auto_minor_version_upgrade: None,
                multi_az: None,
            },
            Setting::AutoMinorUpgrades => DbInstanceChange {
                publicly_accessible: None,
                auto_minor_version_upgrade: Some(true),
                multi_az: None,
            },
            Setting::MultiAz => DbInstanceChange {
                publicly_accessible: None,
                auto_minor_version_upgrade: None,
                multi_az: Some(true),
            },
        }
    }
}

struct InstanceSettings;

impl Guest for InstanceSettings {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[DESCRIBE, MODIFY],
        )
    }

    fn remediate(request: Request) -> Outcome {
        if !request.params.is_empty() {
            return Outcome::failed(format!("{NAME} takes no parameters"));
        }
        let finding = &request.finding;
        let Some(setting) = Setting::of(&finding.control_id) else {
            return Outcome::skipped(format!(
                "{NAME} fixes {}, not {}",
                CONTROLS.join(" and "),
                finding.control_id
            ));
        };
        let id = match instance_of(finding) {
            Ok(id) => id,
            Err(reason) => return Outcome::skipped(reason),
        };
        let db = match rds::describe_db_instance(&id) {
            Ok(Some(db)) => db,
            Ok(None) => {
                return Outcome::skipped(format!(
                    "DB instance {id} does not exist (any more); the finding is stale"
                ));
            }
            Err(e) => return e.to_outcome(DESCRIBE),
        };
        let state = |on: bool| if on { "on" } else { "off" };
        if setting.holds(&db) {
            return Outcome::already_compliant(format!(
                "{} of DB instance {id} is already {}",
                setting.what(),
                state(setting != Setting::NotPublic)
            ));
        }
        let verb = request.mode.verb("turned", "would turn");
        let done = match setting {
            Setting::NotPublic => format!(
                "{verb} off public access of DB instance {id} ({}), applied immediately: \
                 clients outside its VPC can no longer connect",
                db.engine
            ),
            Setting::AutoMinorUpgrades => format!(
                "{verb} on automatic minor version upgrades of DB instance {id} ({}); RDS \
                 applies them in its maintenance window",
                db.engine
            ),
            Setting::MultiAz => format!(
                "{verb} on Multi-AZ for DB instance {id} ({}), applied immediately: RDS \
                 builds a standby in another Availability Zone while the instance stays \
                 online",
                db.engine
            ),
        };
        match rds::modify_db_instance(&id, setting.change()) {
            Ok(()) => Outcome::remediated(done),
            Err(e) => e.to_outcome(MODIFY),
        }
    }
}

/// The identifier of the instance the finding names, from its ARN (which must be of the
/// finding's account and region) or as given.
fn instance_of(finding: &Finding) -> Result<String, String> {
    finding.own_resource_name(DB_INSTANCE, "rds", "db", "DB instance")
}

hubfix_plugin_sdk::export!(InstanceSettings);

#[cfg(test)]
mod tests {
    use super::*;
    use hubfix_plugin_sdk::types::Resource;

    fn finding(id: &str) -> Finding {
        Finding {
            id: "f".into(),
            control_id: "RDS.13".into(),
            generator_id: "g".into(),
            account_id: "111111111111".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
            title: String::new(),
            resources: vec![Resource {
                type_: DB_INSTANCE.into(),
                id: id.into(),
                partition: "aws".into(),
                region: "eu-west-1".into(),
                details: None,
            }],
            raw: String::new(),
        }
    }

    #[test]
    fn the_instance_is_named_by_an_arn_of_the_findings_account_and_region() {
        let arn = "arn:aws:rds:eu-west-1:111111111111:db:orders";
        assert_eq!(instance_of(&finding(arn)).unwrap(), "orders");
        assert_eq!(instance_of(&finding("orders")).unwrap(), "orders");
        for other in [
            "arn:aws:rds:eu-west-1:222222222222:db:orders",
            "arn:aws:rds:us-east-1:111111111111:db:orders",
            "arn:aws:rds:eu-west-1:111111111111:cluster:orders",
            "arn:aws:rds:eu-west-1:111111111111:db:",
        ] {
            assert!(instance_of(&finding(other)).is_err(), "{other}");
        }
    }

    #[test]
    fn each_control_changes_only_its_setting() {
        assert_eq!(Setting::of("RDS.2"), Some(Setting::NotPublic));
        assert_eq!(Setting::of("RDS.3"), None);
        let change = Setting::AutoMinorUpgrades.change();
        assert_eq!(
            (
                change.publicly_accessible,
                change.auto_minor_version_upgrade
            ),
            (None, Some(true))
        );
        let change = Setting::NotPublic.change();
        assert_eq!(
            (
                change.publicly_accessible,
                change.auto_minor_version_upgrade
            ),
            (Some(false), None)
        );
    }
}
