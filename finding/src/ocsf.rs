//! Security Hub v2 findings in OCSF (class 2003, Compliance Finding; EventBridge detail-type
//! "Findings Imported V2") read into the same [`Finding`] as ASFF, checked by the same rules.
//!
//! | [`Finding`] | OCSF |
//! |---|---|
//! | `id` | `finding_info.uid` |
//! | `product_arn` | `metadata.product.uid` |
//! | `generator_id` | `finding_info.analytic.uid` (empty when absent) |
//! | `account_id` | `cloud.account.uid` |
//! | `region` | `cloud.region` |
//! | `control_id` | `compliance.control` |
//! | `compliance_status` | `compliance.status` / `compliance.status_id`, as ASFF values |
//! | `workflow_status` | `status_id` / `status`, as ASFF values |
//! | `record_state` | `ARCHIVED` when the finding is closed or archived |
//! | `resources[]` | `resources[]`: `type` (Config form converted to ASFF), `uid` / `uid_alt` (the ARN when either is one), `region`, `cloud_partition`, `owner.account.uid` |

use serde_json::Value;

use crate::{
    Finding, FindingError, Format, MAX_ID, MAX_RESOURCES, Place, Resource, check_resource,
    check_text, is_account_id, is_control_id, is_partition, is_region, is_rfc3339, shown,
};

/// The OCSF class of a compliance finding, the only class hubfix acts on.
pub const COMPLIANCE_FINDING: i64 = 2003;

/// Whether a JSON object is an OCSF finding rather than ASFF.
pub fn is_ocsf(obj: &serde_json::Map<String, Value>) -> bool {
    !obj.contains_key("SchemaVersion")
        && !obj.contains_key("GeneratorId")
        && !obj.contains_key("Id")
        && (obj.contains_key("class_uid")
            || obj.contains_key("finding_info")
            || obj.contains_key("compliance")
            || obj.contains_key("metadata"))
}

/// Converts an AWS Config resource type (OCSF `resources[].type`, `AWS::EC2::SecurityGroup`)
/// to the ASFF name (`AwsEc2SecurityGroup`): every acronym is written as a word
/// (`AWS::RDS::DBCluster` → `AwsRdsDbCluster`, `AWS::EC2::VPC` → `AwsEc2Vpc`). ASFF names
/// are returned unchanged.
pub fn asff_resource_type(config_type: &str) -> String {
    if !config_type.contains("::") {
        return config_type.to_owned();
    }
    config_type.split("::").map(acronyms_as_words).collect()
}

/// `DBCluster` → `DbCluster`, `EC2` → `Ec2`, `SecurityGroup` unchanged: in a run of capitals
/// (digits included), the letters after the first are lowercased, except a last capital that
/// starts the next word (`DBC|luster`).
fn acronyms_as_words(part: &str) -> String {
    let chars: Vec<char> = part.chars().collect();
    let upper = |i: usize| {
        chars
            .get(i)
            .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    let mut out = String::with_capacity(part.len());
    for (i, &c) in chars.iter().enumerate() {
        let in_run = i > 0 && upper(i - 1) && upper(i);
        let starts_word = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
        if in_run && !starts_word {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `compliance.status` (or `compliance.status_id`) as the ASFF `Compliance.Status`:
/// `PASSED`, `WARNING`, `FAILED`, `NOT_AVAILABLE`.
pub fn compliance_status(finding: &Value) -> Option<String> {
    let compliance = finding.get("compliance")?;
    if let Some(s) = compliance.get("status").and_then(Value::as_str) {
        return Some(match s.to_ascii_lowercase().as_str() {
            "fail" | "failed" | "failure" => "FAILED".to_owned(),
            "pass" | "passed" => "PASSED".to_owned(),
            "warning" => "WARNING".to_owned(),
            _ => s.to_ascii_uppercase(),
        });
    }
    let id = compliance.get("status_id")?.as_i64()?;
    Some(
        match id {
            1 => "PASSED",
            2 => "WARNING",
            3 => "FAILED",
            _ => "NOT_AVAILABLE",
        }
        .to_owned(),
    )
}

/// `status_id` (or `status`) as the ASFF `Workflow.Status`: `NEW`, `NOTIFIED` (In
/// Progress), `SUPPRESSED`, `RESOLVED`; `None` for other statuses or none.
pub fn workflow_status(finding: &Value) -> Option<&'static str> {
    match finding.get("status_id").and_then(Value::as_i64) {
        Some(1) => Some("NEW"),
        Some(2) => Some("NOTIFIED"),
        Some(3) => Some("SUPPRESSED"),
        Some(4) => Some("RESOLVED"),
        _ => match finding
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("new") => Some("NEW"),
            Some("in progress" | "in_progress") => Some("NOTIFIED"),
            Some("suppressed") => Some("SUPPRESSED"),
            Some("resolved") => Some("RESOLVED"),
            _ => None,
        },
    }
}

/// The OCSF `status_id` of an ASFF workflow status (what `BatchUpdateFindingsV2` takes).
pub fn status_id(workflow_status: &str) -> Option<i32> {
    match workflow_status {
        "NEW" => Some(1),
        "NOTIFIED" => Some(2),
        "SUPPRESSED" => Some(3),
        "RESOLVED" => Some(4),
        _ => None,
    }
}

/// Whether the finding is closed (`activity_id` 3) or archived (`status_id` 5 or 6).
pub fn archived(finding: &Value) -> bool {
    let status = finding
        .get("status")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    finding.get("activity_id").and_then(Value::as_i64) == Some(3)
        || finding
            .get("activity_name")
            .and_then(Value::as_str)
            .is_some_and(|a| a.eq_ignore_ascii_case("close"))
        || matches!(
            finding.get("status_id").and_then(Value::as_i64),
            Some(5 | 6)
        )
        || matches!(status.as_deref(), Some("archived" | "deleted"))
}

/// The OCSF date-times, each RFC 3339 when present.
const TIMESTAMPS: &[&[&str]] = &[
    &["time_dt"],
    &["finding_info", "created_time_dt"],
    &["finding_info", "modified_time_dt"],
    &["finding_info", "first_seen_time_dt"],
    &["finding_info", "last_seen_time_dt"],
];

/// The OCSF epoch times (milliseconds), each an integer when present.
const EPOCH_TIMES: &[&[&str]] = &[
    &["time"],
    &["finding_info", "created_time"],
    &["finding_info", "modified_time"],
    &["finding_info", "first_seen_time"],
    &["finding_info", "last_seen_time"],
];

fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |cur, key| cur.get(key))
}

fn text<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Reads an OCSF finding (see the module's table), refusing what ASFF refuses.
pub(crate) fn parse(raw: Value) -> Result<Finding, FindingError> {
    let Some(id) = text(&raw, &["finding_info", "uid"]).map(str::to_owned) else {
        return Err(FindingError::Missing {
            id: "<unknown>".into(),
            field: "finding_info.uid",
        });
    };
    let shown_id = shown(&id);
    let invalid = |field: &str, reason: String| FindingError::Invalid {
        id: shown_id.clone(),
        field: field.to_owned(),
        reason,
    };
    let required = |field: &'static str| -> Result<String, FindingError> {
        let path: Vec<&str> = field.split('.').collect();
        text(&raw, &path)
            .map(str::to_owned)
            .ok_or_else(|| FindingError::Missing {
                id: shown_id.clone(),
                field,
            })
    };
    check_text(&id, MAX_ID).map_err(|reason| invalid("finding_info.uid", reason))?;
    match raw.get("class_uid").and_then(Value::as_i64) {
        Some(COMPLIANCE_FINDING) => {}
        Some(other) => {
            return Err(invalid(
                "class_uid",
                format!("{other} is not {COMPLIANCE_FINDING} (Compliance Finding)"),
            ));
        }
        None => {
            return Err(FindingError::Missing {
                id: shown_id,
                field: "class_uid",
            });
        }
    }
    let product_arn = required("metadata.product.uid")?;
    check_text(&product_arn, hubfix_contract::MAX_ARN)
        .map_err(|reason| invalid("metadata.product.uid", reason))?;
    let account_id = required("cloud.account.uid")?;
    if !is_account_id(&account_id) {
        return Err(invalid(
            "cloud.account.uid",
            format!("`{}` is not 12 ASCII digits", shown(&account_id)),
        ));
    }
    if let Some(provider) = text(&raw, &["cloud", "provider"])
        && provider != "AWS"
    {
        return Err(invalid(
            "cloud.provider",
            format!("`{}` is not AWS", shown(provider)),
        ));
    }
    let region = required("cloud.region")?;
    if !is_region(&region) {
        return Err(invalid(
            "cloud.region",
            format!("`{}` is not a region name", shown(&region)),
        ));
    }
    let partition = product_arn
        .strip_prefix("arn:")
        .and_then(|rest| rest.split(':').next())
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
        .to_owned();
    if !is_partition(&partition) {
        return Err(invalid(
            "metadata.product.uid",
            format!("partition `{}` is not an AWS partition", shown(&partition)),
        ));
    }
    for path in TIMESTAMPS {
        if let Some(t) = at(&raw, path)
            && !t.as_str().is_some_and(is_rfc3339)
        {
            return Err(invalid(
                &path.join("."),
                format!("`{}` is not an RFC 3339 timestamp", shown(&t.to_string())),
            ));
        }
    }
    for path in EPOCH_TIMES {
        if let Some(t) = at(&raw, path)
            && t.as_i64().is_none_or(|ms| ms < 0)
        {
            return Err(invalid(
                &path.join("."),
                format!("`{}` is not epoch milliseconds", shown(&t.to_string())),
            ));
        }
    }
    let control_id = text(&raw, &["compliance", "control"]).map(str::to_owned);
    if let Some(control) = &control_id
        && !is_control_id(control)
    {
        return Err(invalid(
            "compliance.control",
            format!("`{}` is not a control id", shown(control)),
        ));
    }
    let place = Place {
        partition: &partition,
        region: &region,
        account_id: &account_id,
    };
    let resources = match raw.get("resources") {
        Some(Value::Array(items)) if items.len() > MAX_RESOURCES => {
            return Err(invalid(
                "resources",
                format!("{} resources, more than {MAX_RESOURCES}", items.len()),
            ));
        }
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                resource(item, &place).map_err(|(f, r)| invalid(&format!("resources[{i}].{f}"), r))
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(Value::Array(_)) => return Err(invalid("resources", "the list is empty".into())),
        _ => {
            return Err(FindingError::Missing {
                id: shown_id,
                field: "resources",
            });
        }
    };
    Ok(Finding {
        format: Format::Ocsf,
        compliance_status: compliance_status(&raw),
        record_state: Some(if archived(&raw) { "ARCHIVED" } else { "ACTIVE" }.to_owned()),
        workflow_status: workflow_status(&raw).map(str::to_owned),
        title: text(&raw, &["finding_info", "title"])
            .unwrap_or_default()
            .to_owned(),
        generator_id: text(&raw, &["finding_info", "analytic", "uid"])
            .unwrap_or_default()
            .to_owned(),
        id,
        product_arn,
        account_id,
        region,
        partition,
        control_id,
        resources,
        raw,
    })
}

/// One OCSF resource, checked as an ASFF one is; errors name the OCSF field.
fn resource(item: &Value, place: &Place<'_>) -> Result<Resource, (&'static str, String)> {
    let Some(config_type) = text(item, &["type"]) else {
        return Err(("type", "every resource needs a `type`".into()));
    };
    let well_formed = if let Some(rest) = config_type.strip_prefix("AWS::") {
        rest.split("::").count() == 2
            && rest
                .split("::")
                .enumerate()
                // `AWS::::Account` has no service part.
                .all(|(i, p)| {
                    (i == 0 || !p.is_empty()) && p.bytes().all(|b| b.is_ascii_alphanumeric())
                })
    } else {
        !config_type.contains(':')
    };
    if !well_formed || config_type.len() > 128 {
        return Err((
            "type",
            format!("`{}` is not a resource type", shown(config_type)),
        ));
    }
    let resource_type = asff_resource_type(config_type);
    let uid = text(item, &["uid"]);
    let uid_alt = text(item, &["uid_alt"]);
    let id = match (uid, uid_alt) {
        (Some(u), _) if u.starts_with("arn:") => u,
        (_, Some(a)) if a.starts_with("arn:") => a,
        (Some(u), _) => u,
        (None, Some(a)) => a,
        (None, None) => return Err(("uid", "every resource needs a `uid`".into())),
    };
    // An account resource's uid is the bare account id; ASFF writes `AWS::::Account:ID`.
    let id = if resource_type == "AwsAccount" && is_account_id(id) {
        format!("AWS::::Account:{id}")
    } else {
        id.to_owned()
    };
    if let Some(owner) = text(item, &["owner", "account", "uid"])
        && owner != place.account_id
    {
        return Err((
            "owner.account.uid",
            format!(
                "the resource is owned by {}, not the finding's {}",
                shown(owner),
                place.account_id
            ),
        ));
    }
    let partition = text(item, &["cloud_partition"])
        .unwrap_or(place.partition)
        .to_owned();
    let region = text(item, &["region"]).unwrap_or(place.region).to_owned();
    check_resource(&resource_type, &id, &partition, &region, place).map_err(
        |(field, reason)| {
            let field = match field {
                "Partition" => "cloud_partition",
                "Region" => "region",
                "Type" => "type",
                _ => "uid",
            };
            (field, reason)
        },
    )?;
    Ok(Resource {
        resource_type,
        id,
        partition,
        region,
        details: item.get("data").cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sg_finding() -> Value {
        json!({
            "class_uid": 2003,
            "status_id": 1,
            "time_dt": "2026-02-27T09:14:07.521Z",
            "cloud": {"account": {"uid": "222222222222"}, "provider": "AWS", "region": "eu-west-1"},
            "compliance": {"control": "EC2.53", "status": "Fail", "status_id": 3},
            "finding_info": {"uid": "arn:aws:securityhub:eu-west-1:222222222222:security-control/EC2.53/finding/1",
                             "title": "sg open"},
            "metadata": {"product": {"uid": "arn:aws:securityhub:eu-west-1::productv2/aws/securityhub"}},
            "resources": [{"type": "AWS::EC2::SecurityGroup", "uid": "sg-0abc1234",
                           "uid_alt": "arn:aws:ec2:eu-west-1:222222222222:security-group/sg-0abc1234",
                           "owner": {"account": {"uid": "222222222222"}}}]
        })
    }

    #[test]
    fn reads_the_same_typed_finding_as_asff() {
        let f = Finding::from_value(sg_finding()).unwrap();
        assert_eq!(f.format, Format::Ocsf);
        assert_eq!(f.control_id.as_deref(), Some("EC2.53"));
        assert_eq!(f.account_id, "222222222222");
        assert_eq!(f.partition, "aws");
        assert_eq!(f.compliance_status.as_deref(), Some("FAILED"));
        assert_eq!(f.workflow_status.as_deref(), Some("NEW"));
        assert_eq!(f.record_state.as_deref(), Some("ACTIVE"));
        assert_eq!(f.resources[0].resource_type, "AwsEc2SecurityGroup");
        assert_eq!(f.resources[0].short_id(), "sg-0abc1234");
        assert!(f.resources[0].id.starts_with("arn:aws:ec2:"));
    }

    #[test]
    fn account_resources_read_as_asff_ones() {
        let mut v = sg_finding();
        v["resources"] = json!([{"type": "AWS::::Account", "uid": "222222222222"}]);
        let f = Finding::from_value(v).unwrap();
        assert!(f.names_account());
        assert_eq!(f.resources[0].id, "AWS::::Account:222222222222");
    }

    #[test]
    fn hostile_fields_are_named() {
        let refused = |edit: &dyn Fn(&mut Value), field: &str| {
            let mut v = sg_finding();
            edit(&mut v);
            match Finding::from_value(v) {
                Err(FindingError::Invalid { field: f, .. }) => assert_eq!(f, field),
                Err(FindingError::Missing { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        };
        refused(&|v| v["class_uid"] = json!(2004), "class_uid");
        refused(
            &|v| v["cloud"]["account"]["uid"] = json!("22222222222"),
            "cloud.account.uid",
        );
        refused(&|v| v["cloud"]["provider"] = json!("GCP"), "cloud.provider");
        refused(
            &|v| v["cloud"]["region"] = json!("eu-west-1;ls"),
            "cloud.region",
        );
        refused(
            &|v| v["resources"][0]["owner"]["account"]["uid"] = json!("333333333333"),
            "resources[0].owner.account.uid",
        );
        refused(
            &|v| {
                v["resources"][0]["uid_alt"] =
                    json!("arn:aws:ec2:eu-west-1:333333333333:security-group/sg-0abc1234")
            },
            "resources[0].uid",
        );
        refused(
            &|v| {
                v["resources"][0]["uid_alt"] =
                    json!("arn:aws:ec2:us-east-1:222222222222:security-group/sg-0abc1234")
            },
            "resources[0].uid",
        );
        refused(
            &|v| v["resources"][0]["type"] = json!("AWS::EC2::Security Group"),
            "resources[0].type",
        );
        refused(
            &|v| v["finding_info"]["modified_time_dt"] = json!("yesterday"),
            "finding_info.modified_time_dt",
        );
        refused(&|v| v["time"] = json!("1772182447521"), "time");
        refused(
            &|v| v["compliance"]["control"] = json!("../EC2.53"),
            "compliance.control",
        );
        refused(
            &|v| {
                v.as_object_mut().unwrap().remove("resources");
            },
            "resources",
        );
        refused(
            &|v| {
                v["finding_info"].as_object_mut().unwrap().remove("uid");
            },
            "finding_info.uid",
        );
    }

    #[test]
    fn statuses_map_both_ways() {
        for (workflow, id) in [
            ("NEW", 1),
            ("NOTIFIED", 2),
            ("SUPPRESSED", 3),
            ("RESOLVED", 4),
        ] {
            assert_eq!(status_id(workflow), Some(id));
            assert_eq!(workflow_status(&json!({"status_id": id})), Some(workflow));
        }
        assert!(archived(&json!({"status_id": 5})));
        assert!(!archived(&json!({"status_id": 1})));
        assert_eq!(
            compliance_status(&json!({"compliance": {"status_id": 1}})).as_deref(),
            Some("PASSED")
        );
    }

    /// The contract's Config names and the conversion agree, both ways.
    #[test]
    fn every_contract_type_converts_from_its_config_name() {
        for ty in hubfix_contract::RESOURCE_TYPES {
            assert_eq!(asff_resource_type(ty.config), ty.asff, "{}", ty.config);
            assert_eq!(hubfix_contract::config_type(ty.asff), Some(ty.config));
        }
        let account = hubfix_contract::config_type(hubfix_contract::ACCOUNT).unwrap();
        assert_eq!(asff_resource_type(account), hubfix_contract::ACCOUNT);
    }

    #[test]
    fn resource_types() {
        for (config, asff) in [
            ("AWS::EC2::SecurityGroup", "AwsEc2SecurityGroup"),
            ("AWS::S3::Bucket", "AwsS3Bucket"),
            ("AWS::::Account", "AwsAccount"),
            ("AwsAccount", "AwsAccount"),
            ("AWS::RDS::DBCluster", "AwsRdsDbCluster"),
            ("AWS::RDS::DBInstance", "AwsRdsDbInstance"),
            ("AWS::EFS::FileSystem", "AwsEfsFileSystem"),
            ("AWS::EC2::VPC", "AwsEc2Vpc"),
            ("AWS::EC2::NetworkAcl", "AwsEc2NetworkAcl"),
            ("AWS::DynamoDB::Table", "AwsDynamoDbTable"),
            ("AWS::IAM::User", "AwsIamUser"),
            ("AWS::KMS::Key", "AwsKmsKey"),
        ] {
            assert_eq!(asff_resource_type(config), asff, "{config}");
        }
    }
}
