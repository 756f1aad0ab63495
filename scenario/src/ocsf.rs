//! A scenario's finding as Security Hub v2 sends it: the ASFF finding the scenario
//! describes, in OCSF (class 2003, Compliance Finding). Every scenario runs with the ASFF
//! finding in its first account and with this one in its second, so each plugin is shown
//! to remediate both.

use serde_json::{Map, Value, json};

/// The OCSF finding of the same check as the ASFF `finding`: identifiers, account,
/// region, control, statuses, times and resources (their type in AWS Config form, an
/// account resource by its bare id, `Details` as `data`, `Tags` as name/value pairs).
pub fn from_asff(finding: &Value) -> Value {
    let text = |path: &[&str]| -> Value {
        let mut cur = finding;
        for key in path {
            match cur.get(key) {
                Some(next) => cur = next,
                None => return Value::Null,
            }
        }
        cur.clone()
    };
    let workflow = text(&["Workflow", "Status"]);
    let status_id = workflow
        .as_str()
        .and_then(hubfix_finding::ocsf::status_id)
        .unwrap_or(1);
    let status = ["Unknown", "New", "In Progress", "Suppressed", "Resolved"]
        .get(usize::try_from(status_id).unwrap_or(0))
        .copied()
        .unwrap_or("Other");
    let (compliance, compliance_id) = match text(&["Compliance", "Status"]).as_str() {
        Some("PASSED") => ("Pass", 1),
        Some("WARNING") => ("Warning", 2),
        Some("FAILED") => ("Fail", 3),
        _ => ("Unknown", 0),
    };
    let resources: Vec<Value> = finding
        .get("Resources")
        .and_then(Value::as_array)
        .map(|items| items.iter().map(resource).collect())
        .unwrap_or_default();
    let mut out = json!({
        "class_uid": hubfix_finding::ocsf::COMPLIANCE_FINDING,
        "class_name": "Compliance Finding",
        "category_uid": 2,
        "activity_id": 1,
        "status_id": status_id,
        "status": status,
        "cloud": {
            "account": {"uid": text(&["AwsAccountId"])},
            "provider": "AWS",
            "region": text(&["Region"]),
        },
        "compliance": {
            "control": text(&["Compliance", "SecurityControlId"]),
            "status": compliance,
            "status_id": compliance_id,
        },
        "finding_info": {
            "uid": text(&["Id"]),
            "title": text(&["Title"]),
            "desc": text(&["Description"]),
            "created_time_dt": text(&["CreatedAt"]),
            "modified_time_dt": text(&["UpdatedAt"]),
            "types": text(&["Types"]),
        },
        "metadata": {
            "product": {"name": "Security Hub", "uid": text(&["ProductArn"])},
            "version": "1.6.0",
        },
        "resources": resources,
    });
    drop_nulls(&mut out);
    out
}

fn resource(item: &Value) -> Value {
    let field = |key: &str| item.get(key).cloned().unwrap_or(Value::Null);
    let asff_type = item.get("Type").and_then(Value::as_str).unwrap_or_default();
    let id = item.get("Id").and_then(Value::as_str).unwrap_or_default();
    let uid = match id.strip_prefix("AWS::::Account:") {
        Some(account) if asff_type == hubfix_contract::ACCOUNT => account,
        _ => id,
    };
    let tags: Vec<Value> = item
        .get("Tags")
        .and_then(Value::as_object)
        .map(|tags| {
            tags.iter()
                .map(|(name, value)| json!({"name": name, "value": value}))
                .collect()
        })
        .unwrap_or_default();
    let mut out = json!({
        "type": hubfix_contract::config_type(asff_type).unwrap_or(asff_type),
        "uid": uid,
        "region": field("Region"),
        "cloud_partition": field("Partition"),
        "data": field("Details"),
        "tags": if tags.is_empty() { Value::Null } else { Value::Array(tags) },
    });
    drop_nulls(&mut out);
    out
}

/// Removes null members, recursively: OCSF leaves absent what ASFF did not say.
fn drop_nulls(value: &mut Value) {
    if let Value::Object(map) = value {
        let kept: Map<String, Value> = std::mem::take(map)
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .collect();
        *map = kept;
        map.values_mut().for_each(drop_nulls);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubfix_finding::{Finding, Format};

    #[test]
    fn the_ocsf_twin_reads_as_the_same_typed_finding() {
        let asff = json!({
            "SchemaVersion": "2018-10-08",
            "Id": "arn:aws:securityhub:eu-west-1:111111111111:security-control/EC2.53/finding/x",
            "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
            "GeneratorId": "security-control/EC2.53",
            "AwsAccountId": "111111111111",
            "Region": "eu-west-1",
            "Title": "t",
            "CreatedAt": "2026-12-01T00:00:00Z",
            "Compliance": {"Status": "FAILED", "SecurityControlId": "EC2.53"},
            "Workflow": {"Status": "NEW"},
            "RecordState": "ACTIVE",
            "Resources": [
                {"Type": "AwsEc2SecurityGroup", "Partition": "aws", "Region": "eu-west-1",
                 "Id": "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-0abc1234",
                 "Tags": {"team": "web"}, "Details": {"AwsEc2SecurityGroup": {"GroupName": "g"}}},
                {"Type": "AwsAccount", "Id": "AWS::::Account:111111111111"},
                {"Type": "AwsRdsDbCluster", "Id": "arn:aws:rds:eu-west-1:111111111111:cluster:c1"}
            ]
        });
        let ocsf = from_asff(&asff);
        assert_eq!(ocsf["resources"][0]["type"], "AWS::EC2::SecurityGroup");
        assert_eq!(ocsf["resources"][1]["uid"], "111111111111");
        assert_eq!(ocsf["resources"][2]["type"], "AWS::RDS::DBCluster");
        assert_eq!(ocsf["resources"][0]["tags"][0]["name"], "team");
        let (a, o) = (
            Finding::from_value(asff).unwrap(),
            Finding::from_value(ocsf).unwrap(),
        );
        assert_eq!(o.format, Format::Ocsf);
        assert_eq!(
            (&o.id, &o.account_id, &o.region, &o.partition, &o.control_id),
            (&a.id, &a.account_id, &a.region, &a.partition, &a.control_id)
        );
        assert_eq!(o.resources, a.resources);
        assert_eq!(
            (o.compliance_status, o.workflow_status),
            (a.compliance_status, a.workflow_status)
        );
    }
}
