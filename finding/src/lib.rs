//! Security Hub findings in the AWS Security Finding Format (ASFF) as typed records.
//!
//! Pure: parsing and validation only, no I/O. The host turns a [`Finding`] into the
//! plugin contract's `finding` record; the policy crate decides on it.
//!
//! ```
//! let json = r#"{
//!   "SchemaVersion": "2018-10-08",
//!   "Id": "arn:aws:securityhub:us-east-1:111111111111:finding/abc",
//!   "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
//!   "GeneratorId": "security-control/EC2.7",
//!   "AwsAccountId": "111111111111",
//!   "Region": "us-east-1",
//!   "Title": "EBS default encryption should be enabled",
//!   "Compliance": {"Status": "FAILED", "SecurityControlId": "EC2.7"},
//!   "Resources": [{"Type": "AwsAccount", "Id": "AWS::::Account:111111111111",
//!                  "Partition": "aws", "Region": "us-east-1"}]
//! }"#;
//! let finding = hubfix_finding::Finding::parse(json).unwrap();
//! assert_eq!(finding.control_id.as_deref(), Some("EC2.7"));
//! assert_eq!(finding.account_id, "111111111111");
//! ```
#![deny(missing_docs)]

use serde::Serialize;
use serde_json::Value;

/// Why a document is not a usable finding.
#[derive(Debug, thiserror::Error)]
pub enum FindingError {
    /// The text is not JSON.
    #[error("finding is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The document is JSON but not a finding, a list of findings or an EventBridge event.
    #[error("not a Security Hub finding: {0}")]
    NotAFinding(String),
    /// A field the finding must have is absent or not a string.
    #[error("finding {id} lacks required field `{field}`")]
    Missing {
        /// The finding's `Id`, or `<unknown>` when the id itself is missing.
        id: String,
        /// The ASFF field name.
        field: &'static str,
    },
    /// A field is present but its value is not acceptable.
    #[error("finding {id} has an invalid `{field}`: {reason}")]
    Invalid {
        /// The finding's `Id`.
        id: String,
        /// The ASFF field name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// One resource a finding names (`Resources[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// ASFF resource type, e.g. `AwsEc2SecurityGroup` or `AwsAccount`.
    pub resource_type: String,
    /// The id as Security Hub reports it, usually an ARN.
    pub id: String,
    /// The resource's partition.
    pub partition: String,
    /// The resource's region.
    pub region: String,
    /// `Details`, when present.
    pub details: Option<Value>,
}

impl Resource {
    /// The short id ([`hubfix_contract::short_id`]): `sg-1` for
    /// `arn:...:security-group/sg-1`, the account id of an `AWS::::Account:ID` resource, or
    /// the id itself.
    pub fn short_id(&self) -> &str {
        hubfix_contract::short_id(&self.id)
    }

    /// Whether this resource stands for a whole account (account-level controls).
    pub fn is_account(&self) -> bool {
        self.resource_type == "AwsAccount"
    }
}

/// A Security Hub finding, with the fields hubfix acts on typed and the rest kept raw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// ASFF `Id`.
    pub id: String,
    /// ASFF `ProductArn`.
    pub product_arn: String,
    /// ASFF `GeneratorId`.
    pub generator_id: String,
    /// ASFF `AwsAccountId`: the account the finding is about.
    pub account_id: String,
    /// ASFF `Region`.
    pub region: String,
    /// The partition (`aws`, `aws-cn`, `aws-us-gov`), from the product ARN.
    pub partition: String,
    /// ASFF `Title`.
    pub title: String,
    /// The Security Hub control id when the finding names one directly
    /// (`Compliance.SecurityControlId`, then `ProductFields.ControlId`).
    pub control_id: Option<String>,
    /// `Compliance.Status` (`PASSED`, `FAILED`, `WARNING`, `NOT_AVAILABLE`).
    pub compliance_status: Option<String>,
    /// `RecordState` (`ACTIVE`, `ARCHIVED`).
    pub record_state: Option<String>,
    /// `Workflow.Status` (`NEW`, `NOTIFIED`, `RESOLVED`, `SUPPRESSED`).
    pub workflow_status: Option<String>,
    /// `Resources[]`; never empty.
    pub resources: Vec<Resource>,
    /// The whole finding as received.
    pub raw: Value,
}

impl Finding {
    /// Parses one finding from JSON text. See [`Finding::from_value`].
    pub fn parse(text: &str) -> Result<Self, FindingError> {
        Self::from_value(serde_json::from_str(text)?)
    }

    /// Parses every finding in a document: one finding, a JSON array of findings,
    /// `{"Findings": [...]}` (the `GetFindings` shape), or an EventBridge event
    /// (`{"detail": {"findings": [...]}}`).
    pub fn parse_all(text: &str) -> Result<Vec<Self>, FindingError> {
        Self::all_in(&serde_json::from_str(text)?)
    }

    /// Every finding in a parsed document (see [`findings_in`] for the shapes accepted).
    pub fn all_in(document: &Value) -> Result<Vec<Self>, FindingError> {
        findings_in(document)?
            .into_iter()
            .map(|finding| Self::from_value(finding.clone()))
            .collect()
    }

    /// Builds a finding from an ASFF JSON value, checking the fields hubfix relies on.
    pub fn from_value(raw: Value) -> Result<Self, FindingError> {
        let Value::Object(obj) = &raw else {
            return Err(FindingError::NotAFinding(format!(
                "expected a JSON object, got {}",
                json_kind(&raw)
            )));
        };
        let id = match obj.get("Id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => {
                return Err(FindingError::Missing {
                    id: "<unknown>".into(),
                    field: "Id",
                });
            }
        };
        let required = |field: &'static str| -> Result<String, FindingError> {
            match obj.get(field).and_then(Value::as_str) {
                Some(v) if !v.is_empty() => Ok(v.to_owned()),
                _ => Err(FindingError::Missing {
                    id: id.clone(),
                    field,
                }),
            }
        };
        let product_arn = required("ProductArn")?;
        let generator_id = required("GeneratorId")?;
        let account_id = required("AwsAccountId")?;
        if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FindingError::Invalid {
                id,
                field: "AwsAccountId",
                reason: format!("`{account_id}` is not a 12-digit account id"),
            });
        }
        let region = match obj.get("Region").and_then(Value::as_str) {
            Some(r) if !r.is_empty() => r.to_owned(),
            // Older findings carry the region only in the product ARN.
            _ => arn_field(&product_arn, 3)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .ok_or(FindingError::Missing {
                    id: id.clone(),
                    field: "Region",
                })?,
        };
        let partition = arn_field(&product_arn, 1)
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
            .to_owned();
        let title = obj
            .get("Title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let text_at = |path: &[&str]| -> Option<String> {
            let mut cur = &raw;
            for key in path {
                cur = cur.get(key)?;
            }
            cur.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
        };
        let control_id = text_at(&["Compliance", "SecurityControlId"])
            .or_else(|| text_at(&["ProductFields", "ControlId"]));
        let resources = match obj.get("Resources") {
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|item| parse_resource(&id, item, &partition, &region))
                .collect::<Result<Vec<_>, _>>()?,
            Some(Value::Array(_)) => {
                return Err(FindingError::Invalid {
                    id,
                    field: "Resources",
                    reason: "the list is empty".into(),
                });
            }
            _ => {
                return Err(FindingError::Missing {
                    id,
                    field: "Resources",
                });
            }
        };
        Ok(Self {
            compliance_status: text_at(&["Compliance", "Status"]),
            record_state: text_at(&["RecordState"]),
            workflow_status: text_at(&["Workflow", "Status"]),
            id,
            product_arn,
            generator_id,
            account_id,
            region,
            partition,
            title,
            control_id,
            resources,
            raw,
        })
    }

    /// The resources of one ASFF type.
    pub fn resources_of_type<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources
            .iter()
            .filter(move |r| r.resource_type == resource_type)
    }

    /// Whether the finding is about the whole account (it names an `AwsAccount` resource
    /// for its own account).
    pub fn names_account(&self) -> bool {
        self.resources
            .iter()
            .any(|r| r.is_account() && r.short_id() == self.account_id)
    }
}

fn parse_resource(
    finding_id: &str,
    item: &Value,
    partition: &str,
    region: &str,
) -> Result<Resource, FindingError> {
    let text = |field: &str| item.get(field).and_then(Value::as_str).map(str::to_owned);
    let (Some(resource_type), Some(id)) = (text("Type"), text("Id")) else {
        return Err(FindingError::Invalid {
            id: finding_id.to_owned(),
            field: "Resources",
            reason: "every resource needs a `Type` and an `Id`".into(),
        });
    };
    Ok(Resource {
        resource_type,
        id,
        partition: text("Partition").unwrap_or_else(|| partition.to_owned()),
        region: text("Region").unwrap_or_else(|| region.to_owned()),
        details: item.get("Details").cloned(),
    })
}

/// The `n`th colon-separated field of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`).
fn arn_field(arn: &str, n: usize) -> Option<&str> {
    arn.strip_prefix("arn:")?;
    arn.split(':').nth(n)
}

/// The findings in a document, in any shape hubfix accepts: one finding, a JSON array of
/// findings, `{"Findings": [...]}` (the `GetFindings` shape) or an EventBridge event
/// (`{"detail": {"findings": [...]}}`). The findings themselves are not checked.
pub fn findings_in(document: &Value) -> Result<Vec<&Value>, FindingError> {
    let list: Vec<&Value> = match document {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => {
            if let Some(detail) = map.get("detail") {
                match detail.get("findings") {
                    Some(Value::Array(items)) => items.iter().collect(),
                    _ => {
                        return Err(FindingError::NotAFinding(
                            "EventBridge event without detail.findings[]".into(),
                        ));
                    }
                }
            } else if let Some(Value::Array(items)) = map.get("Findings") {
                items.iter().collect()
            } else {
                vec![document]
            }
        }
        other => {
            return Err(FindingError::NotAFinding(format!(
                "expected a JSON object or array, got {}",
                json_kind(other)
            )));
        }
    };
    if list.is_empty() {
        return Err(FindingError::NotAFinding(
            "the document holds no findings".into(),
        ));
    }
    Ok(list)
}

/// "an object", "a string", …: what kind of JSON value this is, for error messages.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sg_finding() -> Value {
        json!({
            "Id": "f-1",
            "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
            "GeneratorId": "security-control/EC2.53",
            "AwsAccountId": "222222222222",
            "Region": "eu-west-1",
            "Title": "sg open",
            "Compliance": {"Status": "FAILED", "SecurityControlId": "EC2.53"},
            "Workflow": {"Status": "NEW"},
            "RecordState": "ACTIVE",
            "Resources": [{
                "Type": "AwsEc2SecurityGroup",
                "Id": "arn:aws:ec2:eu-west-1:222222222222:security-group/sg-0abc",
            }]
        })
    }

    #[test]
    fn parses_typed_fields_and_fills_resource_defaults() {
        let f = Finding::from_value(sg_finding()).unwrap();
        assert_eq!(f.control_id.as_deref(), Some("EC2.53"));
        assert_eq!(f.partition, "aws");
        assert_eq!(f.workflow_status.as_deref(), Some("NEW"));
        assert_eq!(f.resources[0].region, "eu-west-1");
        assert_eq!(f.resources[0].short_id(), "sg-0abc");
        assert!(!f.names_account());
    }

    #[test]
    fn control_id_falls_back_to_product_fields() {
        let mut v = sg_finding();
        v["Compliance"] = json!({"Status": "FAILED"});
        v["ProductFields"] = json!({"ControlId": "EC2.13"});
        assert_eq!(
            Finding::from_value(v).unwrap().control_id.as_deref(),
            Some("EC2.13")
        );
    }

    #[test]
    fn missing_and_invalid_fields_are_named() {
        let mut v = sg_finding();
        v.as_object_mut().unwrap().remove("AwsAccountId");
        let err = Finding::from_value(v).unwrap_err().to_string();
        assert_eq!(err, "finding f-1 lacks required field `AwsAccountId`");

        let mut v = sg_finding();
        v["AwsAccountId"] = json!("12");
        assert!(
            Finding::from_value(v)
                .unwrap_err()
                .to_string()
                .contains("not a 12-digit account id")
        );

        let mut v = sg_finding();
        v["Resources"] = json!([]);
        assert!(matches!(
            Finding::from_value(v),
            Err(FindingError::Invalid {
                field: "Resources",
                ..
            })
        ));
        assert!(matches!(
            Finding::parse("[1]"),
            Err(FindingError::NotAFinding(_))
        ));
        assert!(matches!(
            Finding::parse("{not json"),
            Err(FindingError::Json(_))
        ));
    }

    #[test]
    fn parse_all_accepts_events_lists_and_get_findings_pages() {
        let one = sg_finding();
        let event = json!({"detail-type": "Security Hub Findings - Imported",
                           "detail": {"findings": [one.clone(), one.clone()]}});
        assert_eq!(Finding::parse_all(&event.to_string()).unwrap().len(), 2);
        let page = json!({"Findings": [one.clone()]});
        assert_eq!(Finding::parse_all(&page.to_string()).unwrap().len(), 1);
        assert_eq!(
            Finding::parse_all(&json!([one]).to_string()).unwrap().len(),
            1
        );
        assert!(Finding::parse_all("[]").is_err());
    }

    #[test]
    fn account_resources_are_recognised() {
        let mut v = sg_finding();
        v["Resources"] = json!([{"Type": "AwsAccount", "Id": "AWS::::Account:222222222222"}]);
        let f = Finding::from_value(v).unwrap();
        assert!(f.names_account());
        assert_eq!(f.resources[0].short_id(), "222222222222");
    }
}
