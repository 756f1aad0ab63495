//! Trimming findings to what the pipeline needs, so they fit Step Functions state.
//!
//! A Step Functions state (input, output, each Map item) holds at most 256 KiB, and an
//! ASFF finding can be large (resource `Details` of a security group list every rule).
//! The router and the host read only the identity, compliance, workflow and resource
//! fields; [`trim`] keeps exactly those, and resource `Details` only while the trimmed
//! finding stays under [`DETAILS_BUDGET`].

use serde_json::{Map, Value};

use crate::error::{Error, ErrorName};

/// Top-level ASFF fields a trimmed finding keeps.
pub const KEPT_FIELDS: &[&str] = &[
    "SchemaVersion",
    "Id",
    "ProductArn",
    "ProductName",
    "CompanyName",
    "GeneratorId",
    "AwsAccountId",
    "Region",
    "Types",
    "CreatedAt",
    "UpdatedAt",
    "Title",
    "Severity",
    "Compliance",
    "ProductFields",
    "Workflow",
    "WorkflowState",
    "RecordState",
];

/// Resource fields a trimmed finding keeps (plus `Details`, within the budget).
const KEPT_RESOURCE_FIELDS: &[&str] = &["Type", "Id", "Partition", "Region", "Tags"];

/// Resource `Details` are kept while the trimmed finding is at most this many bytes.
pub const DETAILS_BUDGET: usize = 16 * 1024;

/// The most a trimmed finding may weigh: well under the 256 KiB state limit, so a state
/// holding it and a decision still fits.
pub const MAX_TRIMMED: usize = 64 * 1024;

/// The finding with only the fields the pipeline reads. Findings that are not ASFF
/// objects (Security Hub v2 OCSF findings) pass through whole when they fit.
///
/// Errors: `Hubfix.InvalidFinding` when `finding` is not a JSON object, or still larger
/// than [`MAX_TRIMMED`] after trimming.
pub fn trim(finding: &Value) -> Result<Value, Error> {
    let Some(object) = finding.as_object() else {
        return Err(Error::new(
            ErrorName::InvalidFinding,
            format!(
                "a finding is a JSON object, got {}",
                hubfix_finding::json_kind(finding)
            ),
        ));
    };
    if !object.contains_key("SchemaVersion") && !object.contains_key("GeneratorId") {
        // Not ASFF (OCSF): nothing here knows which fields matter, so keep it whole.
        return within_limit(finding.clone());
    }
    let mut trimmed: Map<String, Value> = KEPT_FIELDS
        .iter()
        .filter_map(|k| object.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    let resources = object.get("Resources").and_then(Value::as_array);
    let slim = |with_details: bool| -> Vec<Value> {
        resources
            .into_iter()
            .flatten()
            .map(|r| {
                let fields = KEPT_RESOURCE_FIELDS
                    .iter()
                    .chain(with_details.then_some(&"Details"));
                Value::Object(
                    fields
                        .filter_map(|k| r.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                        .collect(),
                )
            })
            .collect()
    };
    if resources.is_some() {
        trimmed.insert("Resources".into(), Value::Array(slim(true)));
        if size(&Value::Object(trimmed.clone())) > DETAILS_BUDGET {
            trimmed.insert("Resources".into(), Value::Array(slim(false)));
        }
    }
    within_limit(Value::Object(trimmed))
}

fn within_limit(value: Value) -> Result<Value, Error> {
    let bytes = size(&value);
    if bytes > MAX_TRIMMED {
        return Err(Error::new(
            ErrorName::InvalidFinding,
            format!("the finding is {bytes} bytes after trimming; the limit is {MAX_TRIMMED}"),
        ));
    }
    Ok(value)
}

fn size(value: &Value) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |v| v.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding(details_bytes: usize) -> Value {
        json!({
            "SchemaVersion": "2018-10-08",
            "Id": "arn:aws:securityhub:us-east-1:111111111111:finding/1",
            "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
            "GeneratorId": "security-control/EC2.13",
            "AwsAccountId": "111111111111",
            "Region": "us-east-1",
            "Description": "d".repeat(5000),
            "Remediation": {"Recommendation": {"Text": "r".repeat(2000)}},
            "FindingProviderFields": {"Severity": {"Label": "HIGH"}},
            "Compliance": {"Status": "FAILED", "SecurityControlId": "EC2.13"},
            "Workflow": {"Status": "NEW"},
            "RecordState": "ACTIVE",
            "Resources": [{
                "Type": "AwsEc2SecurityGroup",
                "Id": "arn:aws:ec2:us-east-1:111111111111:security-group/sg-11111111",
                "Partition": "aws",
                "Region": "us-east-1",
                "Tags": {"team": "web"},
                "Details": {"AwsEc2SecurityGroup": {"GroupName": "x".repeat(details_bytes)}}
            }]
        })
    }

    #[test]
    fn keeps_what_the_pipeline_reads_and_drops_the_rest() {
        let trimmed = trim(&finding(100)).unwrap();
        assert!(trimmed.get("Description").is_none());
        assert!(trimmed.get("Remediation").is_none());
        assert!(trimmed.get("FindingProviderFields").is_none());
        assert_eq!(trimmed["Compliance"]["SecurityControlId"], "EC2.13");
        assert_eq!(trimmed["Resources"][0]["Tags"]["team"], "web");
        assert!(trimmed["Resources"][0].get("Details").is_some());
        // Still a finding the host and the policy accept.
        let parsed = hubfix_finding::Finding::from_value(trimmed).unwrap();
        assert_eq!(parsed.control_id.as_deref(), Some("EC2.13"));
    }

    #[test]
    fn large_details_are_dropped_to_fit() {
        let trimmed = trim(&finding(200_000)).unwrap();
        assert!(trimmed["Resources"][0].get("Details").is_none());
        assert_eq!(trimmed["Resources"][0]["Type"], "AwsEc2SecurityGroup");
        assert!(size(&trimmed) < DETAILS_BUDGET);
    }

    #[test]
    fn non_objects_and_oversized_findings_are_invalid() {
        assert_eq!(
            trim(&json!([1])).unwrap_err().name,
            ErrorName::InvalidFinding
        );
        let ocsf = json!({"finding_info": {"uid": "x"}, "blob": "b".repeat(MAX_TRIMMED)});
        let err = trim(&ocsf).unwrap_err();
        assert_eq!(err.name, ErrorName::InvalidFinding);
        assert!(err.message.contains("limit"), "{}", err.message);
    }
}
