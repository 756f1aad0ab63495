//! Existing findings for the pipeline: `GetFindings` (ASFF) or `GetFindingsV2` (Security
//! Hub v2, OCSF) paged with filters, within their rate limit (3 requests per second), each
//! finding turned into the JSON the router decides on.

use std::time::Duration;

use aws_sdk_securityhub::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_securityhub::types::{
    AllowedOperators, AwsSecurityFinding, AwsSecurityFindingFilters, CompositeFilter, NumberFilter,
    OcsfFindingFilters, OcsfNumberField, OcsfNumberFilter, OcsfStringField, OcsfStringFilter,
    StringFilter, StringFilterComparison,
};
use aws_smithy_types::{Document, Number};
use serde_json::{Map, Value, json};
// tokio's clock, so the pace holds in tests that pause time too.
use tokio::time::Instant;

use crate::error::{Error, ErrorName};

/// `GetFindings` allows 3 requests per second (burst 6); the backfill stays at 3.
pub const MIN_INTERVAL: Duration = Duration::from_millis(334);

/// Which findings to page through.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these accounts (all when empty).
    pub accounts: Vec<String>,
    /// Only these Security Hub controls, e.g. `EC2.13` (all when empty).
    pub controls: Vec<String>,
    /// Include findings already NOTIFIED (not only NEW).
    pub include_notified: bool,
}

impl Selection {
    /// The `GetFindings` filters: failed, active, workflow NEW (and NOTIFIED when asked),
    /// in the accounts and controls chosen.
    pub fn filters(&self) -> AwsSecurityFindingFilters {
        let equals = |value: &str| {
            StringFilter::builder()
                .value(value)
                .comparison(StringFilterComparison::Equals)
                .build()
        };
        let mut filters = AwsSecurityFindingFilters::builder()
            .compliance_status(equals("FAILED"))
            .record_state(equals("ACTIVE"))
            .workflow_status(equals("NEW"));
        if self.include_notified {
            filters = filters.workflow_status(equals("NOTIFIED"));
        }
        for account in &self.accounts {
            filters = filters.aws_account_id(equals(account));
        }
        for control in &self.controls {
            filters = filters.compliance_security_control_id(equals(control));
        }
        filters.build()
    }

    /// The same selection as `GetFindingsV2` filters: `compliance.status_id` 3 (Fail),
    /// `status_id` 1 (New; 2, In Progress, when asked), in the accounts and controls chosen.
    /// Archived findings have `status_id` 5 or 6 and so are left out.
    pub fn filters_v2(&self) -> OcsfFindingFilters {
        let number = |field: &str, value: f64| {
            OcsfNumberFilter::builder()
                .field_name(OcsfNumberField::from(field))
                .filter(NumberFilter::builder().eq(value).build())
                .build()
        };
        let mut statuses = vec![number("status_id", 1.0)];
        if self.include_notified {
            statuses.push(number("status_id", 2.0));
        }
        let mut composites = vec![
            CompositeFilter::builder()
                .number_filters(number("compliance.status_id", 3.0))
                .build(),
            CompositeFilter::builder()
                .set_number_filters(Some(statuses))
                .operator(AllowedOperators::Or)
                .build(),
        ];
        for (field, values) in [
            ("cloud.account.uid", &self.accounts),
            ("compliance.control", &self.controls),
        ] {
            if !values.is_empty() {
                composites.push(any_of(field, values));
            }
        }
        OcsfFindingFilters::builder()
            .set_composite_filters(Some(composites))
            .composite_operator(AllowedOperators::And)
            .build()
    }
}

/// Most filters of one type in one `GetFindingsV2` composite filter.
const MAX_FILTERS_V2: usize = 20;

/// `field` equal to any of `values`: one composite of OR-ed string filters, nested in
/// groups of [`MAX_FILTERS_V2`] when there are more.
fn any_of(field: &str, values: &[String]) -> CompositeFilter {
    let equals = |value: &String| {
        OcsfStringFilter::builder()
            .field_name(OcsfStringField::from(field))
            .filter(
                StringFilter::builder()
                    .value(value)
                    .comparison(StringFilterComparison::Equals)
                    .build(),
            )
            .build()
    };
    let group = |chunk: &[String]| {
        CompositeFilter::builder()
            .set_string_filters(Some(chunk.iter().map(equals).collect()))
            .operator(AllowedOperators::Or)
            .build()
    };
    if values.len() <= MAX_FILTERS_V2 {
        return group(values);
    }
    CompositeFilter::builder()
        .set_nested_composite_filters(Some(values.chunks(MAX_FILTERS_V2).map(group).collect()))
        .operator(AllowedOperators::Or)
        .build()
}

/// Which Security Hub API a [`Pager`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `GetFindings`: ASFF findings.
    V1,
    /// `GetFindingsV2`: Security Hub v2's OCSF findings.
    V2,
}

impl Api {
    /// The operation's name, for messages.
    pub fn operation(self) -> &'static str {
        match self {
            Api::V1 => "GetFindings",
            Api::V2 => "GetFindingsV2",
        }
    }
}

/// Pages through findings, one `GetFindings` (or `GetFindingsV2`) call at a time, never
/// faster than [`MIN_INTERVAL`].
pub struct Pager {
    hub: aws_sdk_securityhub::Client,
    api: Api,
    filters: AwsSecurityFindingFilters,
    filters_v2: OcsfFindingFilters,
    next_token: Option<String>,
    last_call: Option<Instant>,
    done: bool,
    /// `GetFindings` calls made so far.
    pub calls: u32,
}

impl Pager {
    /// A pager over the ASFF findings `selection` picks.
    pub fn new(hub: aws_sdk_securityhub::Client, selection: &Selection) -> Self {
        Self::over(hub, Api::V1, selection)
    }

    /// A pager over the findings `selection` picks, through `api`.
    pub fn over(hub: aws_sdk_securityhub::Client, api: Api, selection: &Selection) -> Self {
        Self {
            hub,
            api,
            filters: selection.filters(),
            filters_v2: selection.filters_v2(),
            next_token: None,
            last_call: None,
            done: false,
            calls: 0,
        }
    }

    /// The next page (up to 100 findings, as trimmed JSON), or `None` after the last.
    /// Throttling is retried by the SDK; what remains is `Hubfix.Throttled`.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>, Error> {
        if self.done {
            return Ok(None);
        }
        if let Some(last) = self.last_call {
            let wait = MIN_INTERVAL.saturating_sub(last.elapsed());
            tokio::time::sleep(wait).await;
        }
        self.last_call = Some(Instant::now());
        self.calls += 1;
        let (findings, next_token) = match self.api {
            Api::V1 => {
                let output = self
                    .hub
                    .get_findings()
                    .filters(self.filters.clone())
                    .max_results(100)
                    .set_next_token(self.next_token.clone())
                    .send()
                    .await
                    .map_err(|e| read_error(self.api, e))?;
                let findings = output.findings().iter().map(to_json).collect();
                (findings, output.next_token)
            }
            Api::V2 => {
                let output = self
                    .hub
                    .get_findings_v2()
                    .filters(self.filters_v2.clone())
                    .max_results(100)
                    .set_next_token(self.next_token.clone())
                    .send()
                    .await
                    .map_err(|e| read_error(self.api, e))?;
                let findings = output.findings().iter().map(document_to_json).collect();
                (findings, output.next_token)
            }
        };
        self.next_token = next_token.filter(|t| !t.is_empty());
        self.done = self.next_token.is_none();
        Ok(Some(findings))
    }
}

/// A failed read: `Hubfix.Throttled` when Security Hub throttled it (after the SDK's own
/// retries), `Hubfix.Internal` otherwise.
fn read_error<E, R>(api: Api, e: aws_sdk_securityhub::error::SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let name = match e.code() {
        Some("TooManyRequestsException" | "ThrottlingException") => ErrorName::Throttled,
        _ => ErrorName::Internal,
    };
    Error::new(
        name,
        format!("{}: {}", api.operation(), DisplayErrorContext(&e)),
    )
}

/// A `GetFindingsV2` finding (a smithy document) as JSON.
pub fn document_to_json(document: &Document) -> Value {
    match document {
        Document::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), document_to_json(v)))
                .collect(),
        ),
        Document::Array(items) => Value::Array(items.iter().map(document_to_json).collect()),
        Document::Number(Number::PosInt(n)) => Value::from(*n),
        Document::Number(Number::NegInt(n)) => Value::from(*n),
        Document::Number(Number::Float(f)) => Value::from(*f),
        Document::String(s) => Value::String(s.clone()),
        Document::Bool(b) => Value::Bool(*b),
        Document::Null => Value::Null,
    }
}

/// An SDK finding as the ASFF JSON the router and host read (the fields [`crate::trim`]
/// keeps).
pub fn to_json(f: &AwsSecurityFinding) -> Value {
    let mut out = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            out.insert(key.to_owned(), value);
        }
    };
    let text = |s: Option<&str>| s.map(|s| Value::String(s.to_owned()));
    put("SchemaVersion", text(f.schema_version()));
    put("Id", text(f.id()));
    put("ProductArn", text(f.product_arn()));
    put("ProductName", text(f.product_name()));
    put("CompanyName", text(f.company_name()));
    put("GeneratorId", text(f.generator_id()));
    put("AwsAccountId", text(f.aws_account_id()));
    put("Region", text(f.region()));
    put("Title", text(f.title()));
    put("CreatedAt", text(f.created_at()));
    put("UpdatedAt", text(f.updated_at()));
    if !f.types().is_empty() {
        put("Types", Some(json!(f.types())));
    }
    put(
        "Severity",
        f.severity()
            .and_then(|s| s.label())
            .map(|l| json!({"Label": l.as_str()})),
    );
    put(
        "Compliance",
        f.compliance().map(|c| {
            let mut compliance = Map::new();
            if let Some(status) = c.status() {
                compliance.insert("Status".into(), json!(status.as_str()));
            }
            if let Some(id) = c.security_control_id() {
                compliance.insert("SecurityControlId".into(), json!(id));
            }
            if !c.associated_standards().is_empty() {
                let standards: Vec<Value> = c
                    .associated_standards()
                    .iter()
                    .map(|s| json!({"StandardsId": s.standards_id()}))
                    .collect();
                compliance.insert("AssociatedStandards".into(), Value::Array(standards));
            }
            Value::Object(compliance)
        }),
    );
    put("ProductFields", f.product_fields().map(|p| json!(p)));
    put(
        "Workflow",
        f.workflow()
            .and_then(|w| w.status())
            .map(|s| json!({"Status": s.as_str()})),
    );
    put("RecordState", f.record_state().map(|r| json!(r.as_str())));
    let resources: Vec<Value> = f
        .resources()
        .iter()
        .map(|r| {
            let mut resource = Map::new();
            for (key, value) in [
                ("Type", r.r#type()),
                ("Id", r.id()),
                ("Partition", r.partition().map(|p| p.as_str())),
                ("Region", r.region()),
            ] {
                if let Some(value) = value {
                    resource.insert(key.into(), json!(value));
                }
            }
            if let Some(tags) = r.tags() {
                resource.insert("Tags".into(), json!(tags));
            }
            Value::Object(resource)
        })
        .collect();
    put("Resources", Some(Value::Array(resources)));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_securityhub::types::{
        Compliance, ComplianceStatus, RecordState, Resource, Workflow, WorkflowStatus,
    };

    #[test]
    fn sdk_findings_become_findings_the_router_and_host_read() {
        let finding = AwsSecurityFinding::builder()
            .schema_version("2018-10-08")
            .id("f-1")
            .product_arn("arn:aws:securityhub:us-east-1::product/aws/securityhub")
            .generator_id("security-control/EC2.13")
            .aws_account_id("111111111111")
            .region("us-east-1")
            .title("t")
            .created_at("2026-01-01T00:00:00Z")
            .updated_at("2026-01-01T00:00:00Z")
            .compliance(
                Compliance::builder()
                    .status(ComplianceStatus::Failed)
                    .security_control_id("EC2.13")
                    .build(),
            )
            .workflow(Workflow::builder().status(WorkflowStatus::New).build())
            .record_state(RecordState::Active)
            .resources(
                Resource::builder()
                    .r#type("AwsEc2SecurityGroup")
                    .id("arn:aws:ec2:us-east-1:111111111111:security-group/sg-11111111")
                    .region("us-east-1")
                    .tags("team", "web")
                    .build(),
            )
            .build();
        let json = to_json(&finding);
        assert_eq!(json["Compliance"]["Status"], "FAILED");
        assert_eq!(json["Workflow"]["Status"], "NEW");
        assert_eq!(json["RecordState"], "ACTIVE");
        assert_eq!(json["Resources"][0]["Tags"]["team"], "web");
        let parsed = hubfix_finding::Finding::from_value(json).unwrap();
        assert_eq!(parsed.control_id.as_deref(), Some("EC2.13"));
        assert_eq!(parsed.resources[0].short_id(), "sg-11111111");
    }

    #[test]
    fn the_default_selection_is_failed_active_new() {
        let filters = Selection {
            accounts: vec!["111111111111".into()],
            ..Selection::default()
        }
        .filters();
        assert_eq!(filters.compliance_status()[0].value(), Some("FAILED"));
        assert_eq!(filters.workflow_status().len(), 1);
        assert_eq!(filters.aws_account_id()[0].value(), Some("111111111111"));
    }

    #[test]
    fn the_v2_selection_is_the_same_in_ocsf_terms() {
        let accounts: Vec<String> = (0..45).map(|i| format!("{i:012}")).collect();
        let filters = Selection {
            accounts,
            controls: vec!["EC2.13".into()],
            include_notified: true,
        }
        .filters_v2();
        let composites = filters.composite_filters();
        assert_eq!(composites.len(), 4);
        assert_eq!(filters.composite_operator(), Some(&AllowedOperators::And));
        let failed = &composites[0].number_filters()[0];
        assert_eq!(
            failed.field_name().unwrap().as_str(),
            "compliance.status_id"
        );
        assert_eq!(failed.filter().unwrap().eq(), Some(3.0));
        let statuses: Vec<f64> = composites[1]
            .number_filters()
            .iter()
            .filter_map(|f| f.filter()?.eq())
            .collect();
        assert_eq!(statuses, [1.0, 2.0]);
        // 45 accounts: three OR-ed groups of at most 20, as the API allows.
        let nested = composites[2].nested_composite_filters();
        assert_eq!(
            nested
                .iter()
                .map(|c| c.string_filters().len())
                .collect::<Vec<_>>(),
            [20, 20, 5]
        );
        assert_eq!(composites[2].operator(), Some(&AllowedOperators::Or));
        assert_eq!(
            composites[3].string_filters()[0]
                .field_name()
                .unwrap()
                .as_str(),
            "compliance.control"
        );
    }

    #[tokio::test]
    async fn v2_pages_are_ocsf_json() {
        use aws_sdk_securityhub::operation::get_findings_v2::GetFindingsV2Output;
        use hubfix_mocks::{RuleMode, mock, mock_client};
        use std::collections::HashMap;

        let finding = Document::Object(HashMap::from([
            (
                "class_uid".to_owned(),
                Document::Number(Number::PosInt(2003)),
            ),
            (
                "finding_info".to_owned(),
                Document::Object(HashMap::from([(
                    "uid".to_owned(),
                    Document::String("f-1".into()),
                )])),
            ),
            ("time".to_owned(), Document::Number(Number::NegInt(-1))),
            ("risk".to_owned(), Document::Number(Number::Float(0.5))),
            (
                "tags".to_owned(),
                Document::Array(vec![Document::Null, Document::Bool(true)]),
            ),
        ]));
        let page = mock!(aws_sdk_securityhub::Client::get_findings_v2)
            .match_requests(|r| r.filters().is_some() && r.max_results() == Some(100))
            .then_output(move || {
                GetFindingsV2Output::builder()
                    .findings(finding.clone())
                    .build()
            });
        let hub = mock_client!(aws_sdk_securityhub, RuleMode::MatchAny, [&page]);
        let mut pager = Pager::over(hub, Api::V2, &Selection::default());
        let findings = pager.next_page().await.unwrap().unwrap();
        assert_eq!(
            findings,
            [
                json!({"class_uid": 2003, "finding_info": {"uid": "f-1"}, "time": -1,
                    "risk": 0.5, "tags": [null, true]})
            ]
        );
        assert!(pager.next_page().await.unwrap().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn pages_are_read_at_most_three_per_second() {
        use aws_sdk_securityhub::operation::get_findings::GetFindingsOutput;
        use hubfix_mocks::{RuleMode, mock, mock_client};

        let pages = mock!(aws_sdk_securityhub::Client::get_findings)
            .sequence()
            .output(|| GetFindingsOutput::builder().next_token("t1").build())
            .output(|| GetFindingsOutput::builder().next_token("t2").build())
            .output(|| GetFindingsOutput::builder().build())
            .build();
        let hub = mock_client!(aws_sdk_securityhub, RuleMode::Sequential, [&pages]);
        let mut pager = Pager::new(hub, &Selection::default());
        let started = tokio::time::Instant::now();
        let mut read = 0;
        while pager.next_page().await.unwrap().is_some() {
            read += 1;
        }
        assert_eq!(read, 3);
        assert_eq!(pager.calls, 3);
        assert!(
            started.elapsed() >= MIN_INTERVAL * 2,
            "three calls took {:?} of (paused) time",
            started.elapsed()
        );
        assert!(
            pager.next_page().await.unwrap().is_none(),
            "done stays done"
        );
    }
}
