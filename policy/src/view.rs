//! The few facts a decision needs, read from a finding in either format (ASFF or OCSF) without
//! requiring any field: a finding that lacks one is decided `ignore` with a reason, never an
//! error.

use hubfix_finding::FindingError;
use hubfix_finding::ocsf::{self, asff_resource_type};
use serde_json::Value;

use crate::identity::{self, CisControls, Identity, text_at};

/// Why a document holds no findings at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The document is JSON but not a finding, a list of findings, a `GetFindings` page or an
    /// EventBridge event.
    #[error("not a Security Hub finding: {0}")]
    NotAFinding(String),
}

/// The findings in a document: one finding (ASFF or OCSF), a JSON array of findings,
/// `{"Findings": [...]}` (the `GetFindings` shape) or an EventBridge event
/// (`{"detail": {"findings": [...]}}`, both "Security Hub Findings - Imported" and "Findings
/// Imported V2").
pub fn findings_in(document: &Value) -> Result<Vec<&Value>, InputError> {
    hubfix_finding::findings_in(document).map_err(|e| match e {
        FindingError::NotAFinding(message) => InputError::NotAFinding(message),
        other => InputError::NotAFinding(other.to_string()),
    })
}

pub(crate) use hubfix_finding::json_kind as kind_of;

/// One resource of a finding, as far as exceptions need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ResourceView {
    /// ASFF resource type (OCSF Config types converted).
    pub(crate) resource_type: Option<String>,
    /// Ids as reported: ASFF `Id`; OCSF `uid` and `uid_alt`.
    pub(crate) ids: Vec<String>,
    /// Resource tags.
    pub(crate) tags: Vec<(String, String)>,
}

/// A finding, normalised across formats.
#[derive(Debug, Clone)]
pub(crate) struct FindingView {
    pub(crate) id: Option<String>,
    pub(crate) account_id: Option<String>,
    pub(crate) region: Option<String>,
    /// `FAILED`, `PASSED`, `WARNING`, `NOT_AVAILABLE` (OCSF values mapped to these).
    pub(crate) compliance_status: Option<String>,
    /// Whether the finding is archived (ASFF `RecordState`; OCSF closed or archived).
    pub(crate) archived: bool,
    /// The raw record state, for the reason text.
    pub(crate) record_state: Option<String>,
    /// `NEW`, `NOTIFIED`, `SUPPRESSED`, `RESOLVED` (OCSF status mapped); `None` when absent.
    pub(crate) workflow_status: Option<String>,
    pub(crate) resources: Vec<ResourceView>,
    pub(crate) identity: Identity,
}

impl FindingView {
    /// Reads a finding; `Err` with a reason when it is not a JSON object. `controls` maps the
    /// CIS ids of per-standard findings to controls.
    pub(crate) fn read(finding: &Value, controls: &dyn CisControls) -> Result<Self, String> {
        let Value::Object(obj) = finding else {
            return Err(format!(
                "expected a finding object, got {}",
                kind_of(finding)
            ));
        };
        if ocsf::is_ocsf(obj) {
            Ok(Self::read_ocsf(finding, controls))
        } else {
            Ok(Self::read_asff(finding, controls))
        }
    }

    fn read_asff(f: &Value, controls: &dyn CisControls) -> Self {
        let resources: Vec<ResourceView> = f
            .get("Resources")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|r| ResourceView {
                        resource_type: text_at(r, &["Type"]).map(str::to_owned),
                        ids: text_at(r, &["Id"]).map(str::to_owned).into_iter().collect(),
                        tags: r
                            .get("Tags")
                            .and_then(Value::as_object)
                            .map(|tags| {
                                tags.iter()
                                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let first_type = resources.first().and_then(|r| r.resource_type.clone());
        let record_state = text_at(f, &["RecordState"]).map(str::to_ascii_uppercase);
        Self {
            id: text_at(f, &["Id"]).map(str::to_owned),
            account_id: text_at(f, &["AwsAccountId"]).map(str::to_owned),
            region: text_at(f, &["Region"]).map(str::to_owned),
            compliance_status: text_at(f, &["Compliance", "Status"]).map(str::to_ascii_uppercase),
            archived: record_state.as_deref() == Some("ARCHIVED"),
            record_state,
            workflow_status: text_at(f, &["Workflow", "Status"]).map(str::to_ascii_uppercase),
            identity: identity::identify_asff(f, first_type.as_deref(), controls),
            resources,
        }
    }

    fn read_ocsf(f: &Value, controls: &dyn CisControls) -> Self {
        let resources: Vec<ResourceView> = f
            .get("resources")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|r| ResourceView {
                        resource_type: text_at(r, &["type"]).map(asff_resource_type),
                        ids: ["uid", "uid_alt"]
                            .iter()
                            .filter_map(|k| text_at(r, &[k]).map(str::to_owned))
                            .collect(),
                        tags: r
                            .get("tags")
                            .and_then(Value::as_array)
                            .map(|tags| {
                                tags.iter()
                                    .filter_map(|t| {
                                        Some((
                                            text_at(t, &["name"])?.to_owned(),
                                            t.get("value")
                                                .and_then(Value::as_str)
                                                .unwrap_or("")
                                                .to_owned(),
                                        ))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let first_type = resources.first().and_then(|r| r.resource_type.clone());

        let archived = ocsf::archived(f);
        let record_state = Some(if archived { "ARCHIVED" } else { "ACTIVE" }.to_owned());
        Self {
            id: text_at(f, &["finding_info", "uid"]).map(str::to_owned),
            account_id: text_at(f, &["cloud", "account", "uid"]).map(str::to_owned),
            region: text_at(f, &["cloud", "region"]).map(str::to_owned),
            compliance_status: ocsf::compliance_status(f),
            archived,
            record_state,
            workflow_status: ocsf::workflow_status(f).map(str::to_owned),
            identity: identity::identify_ocsf(f, first_type.as_deref(), controls),
            resources,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents() {
        let f = json!({"Id": "x"});
        assert_eq!(findings_in(&f).unwrap().len(), 1);
        let event = json!({"detail-type": "Findings Imported V2", "detail": {"findings": [f.clone(), f.clone()]}});
        assert_eq!(findings_in(&event).unwrap().len(), 2);
        assert_eq!(
            findings_in(&json!({"Findings": [f.clone()]}))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(findings_in(&json!([f])).unwrap().len(), 1);
        assert!(findings_in(&json!([])).is_err());
        assert!(findings_in(&json!(3)).is_err());
        assert!(findings_in(&json!({"detail": {}})).is_err());
    }

    #[test]
    fn ocsf_states() {
        let f = json!({"class_uid": 2003, "status_id": 2, "activity_id": 2,
                       "compliance": {"status": "Fail", "control": "EC2.2"},
                       "cloud": {"account": {"uid": "111111111111"}, "region": "eu-west-1"},
                       "resources": [{"type": "AWS::EC2::SecurityGroup", "uid": "sg-1",
                                      "tags": [{"name": "team", "value": "a"}]}]});
        let policy = crate::Policy::shipped().unwrap();
        let v = FindingView::read(&f, &policy).unwrap();
        assert_eq!(v.workflow_status.as_deref(), Some("NOTIFIED"));
        assert_eq!(v.compliance_status.as_deref(), Some("FAILED"));
        assert!(!v.archived);
        assert_eq!(
            v.resources[0].resource_type.as_deref(),
            Some("AwsEc2SecurityGroup")
        );
        assert_eq!(v.resources[0].tags, [("team".to_owned(), "a".to_owned())]);
        let mut closed = f.clone();
        closed["activity_id"] = json!(3);
        assert!(FindingView::read(&closed, &policy).unwrap().archived);
    }
}
