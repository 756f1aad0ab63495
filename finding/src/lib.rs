//! Security Hub findings as typed records: the AWS Security Finding Format (ASFF) and
//! Security Hub v2's OCSF ([`ocsf`]) read into one [`Finding`], checked by the same rules.
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

pub mod ocsf;

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
        /// The field name (ASFF or OCSF).
        field: &'static str,
    },
    /// A field is present but its value is not acceptable.
    #[error("finding {id} has an invalid `{field}`: {reason}")]
    Invalid {
        /// The finding's `Id` (its first 64 characters, escaped).
        id: String,
        /// The field name, e.g. `AwsAccountId`, `Resources[0].Id` or `resources[0].uid`.
        field: String,
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

/// The format a finding arrived in, which decides how Security Hub takes its updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// ASFF (Security Hub CSPM): updated with `BatchUpdateFindings`.
    Asff,
    /// OCSF (Security Hub v2): updated with `BatchUpdateFindingsV2`.
    Ocsf,
}

/// A Security Hub finding, with the fields hubfix acts on typed and the rest kept raw.
/// The field docs name the ASFF source; [`ocsf`] has the OCSF one of each.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The format it arrived in.
    pub format: Format,
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
        Self::from_value(strict_json(text)?)
    }

    /// Parses every finding in a document: one finding, a JSON array of findings,
    /// `{"Findings": [...]}` (the `GetFindings` shape), or an EventBridge event
    /// (`{"detail": {"findings": [...]}}`).
    pub fn parse_all(text: &str) -> Result<Vec<Self>, FindingError> {
        Self::all_in(&strict_json(text)?)
    }

    /// Every finding in a parsed document (see [`findings_in`] for the shapes accepted).
    pub fn all_in(document: &Value) -> Result<Vec<Self>, FindingError> {
        findings_in(document)?
            .into_iter()
            .map(|finding| Self::from_value(finding.clone()))
            .collect()
    }

    /// Builds a finding from an ASFF or OCSF JSON value, checking the fields hubfix relies
    /// on.
    pub fn from_value(raw: Value) -> Result<Self, FindingError> {
        let Value::Object(obj) = &raw else {
            return Err(FindingError::NotAFinding(format!(
                "expected a JSON object, got {}",
                json_kind(&raw)
            )));
        };
        if ocsf::is_ocsf(obj) {
            return ocsf::parse(raw);
        }
        let id = match obj.get("Id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => {
                return Err(FindingError::Missing {
                    id: "<unknown>".into(),
                    field: "Id",
                });
            }
        };
        let shown_id = shown(&id);
        let invalid = |field: &str, reason: String| FindingError::Invalid {
            id: shown_id.clone(),
            field: field.to_owned(),
            reason,
        };
        check_text(&id, MAX_ID).map_err(|reason| invalid("Id", reason))?;
        let required = |field: &'static str| -> Result<String, FindingError> {
            match obj.get(field).and_then(Value::as_str) {
                Some(v) if !v.is_empty() => Ok(v.to_owned()),
                _ => Err(FindingError::Missing {
                    id: shown_id.clone(),
                    field,
                }),
            }
        };
        let product_arn = required("ProductArn")?;
        let generator_id = required("GeneratorId")?;
        let account_id = required("AwsAccountId")?;
        if !is_account_id(&account_id) {
            return Err(invalid(
                "AwsAccountId",
                format!("`{}` is not 12 ASCII digits", shown(&account_id)),
            ));
        }
        let region = match obj.get("Region").and_then(Value::as_str) {
            Some(r) if !r.is_empty() => r.to_owned(),
            // Older findings carry the region only in the product ARN.
            _ => arn_field(&product_arn, 3)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .ok_or(FindingError::Missing {
                    id: shown_id.clone(),
                    field: "Region",
                })?,
        };
        if !is_region(&region) {
            return Err(invalid(
                "Region",
                format!("`{}` is not a region name", shown(&region)),
            ));
        }
        let partition = arn_field(&product_arn, 1)
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
            .to_owned();
        if !is_partition(&partition) {
            return Err(invalid(
                "ProductArn",
                format!("partition `{}` is not an AWS partition", shown(&partition)),
            ));
        }
        for field in TIMESTAMPS {
            match obj.get(*field) {
                None => {}
                Some(Value::String(t)) if is_rfc3339(t) => {}
                Some(other) => {
                    return Err(invalid(
                        field,
                        format!(
                            "`{}` is not an RFC 3339 timestamp",
                            shown(&other.to_string())
                        ),
                    ));
                }
            }
        }
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
        for path in [
            ["Compliance", "SecurityControlId"],
            ["ProductFields", "ControlId"],
        ] {
            if let Some(control) = text_at(&path)
                && !is_control_id(&control)
            {
                return Err(invalid(
                    &path.join("."),
                    format!("`{}` is not a control id", shown(&control)),
                ));
            }
        }
        let control_id = text_at(&["Compliance", "SecurityControlId"])
            .or_else(|| text_at(&["ProductFields", "ControlId"]));
        let resources = match obj.get("Resources") {
            Some(Value::Array(items)) if items.len() > MAX_RESOURCES => {
                return Err(invalid(
                    "Resources",
                    format!("{} resources, more than {MAX_RESOURCES}", items.len()),
                ));
            }
            Some(Value::Array(items)) if !items.is_empty() => {
                let at = Place {
                    partition: &partition,
                    region: &region,
                    account_id: &account_id,
                };
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        parse_resource(item, &at)
                            .map_err(|(f, r)| invalid(&format!("Resources[{i}].{f}"), r))
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
            Some(Value::Array(_)) => {
                return Err(invalid("Resources", "the list is empty".into()));
            }
            _ => {
                return Err(FindingError::Missing {
                    id: shown_id,
                    field: "Resources",
                });
            }
        };
        Ok(Self {
            format: Format::Asff,
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

/// Where a finding is: what its resources must agree with.
pub(crate) struct Place<'a> {
    partition: &'a str,
    region: &'a str,
    account_id: &'a str,
}

/// One resource, checked: its type a type name, its id bounded and of its type's shape,
/// its ARN's partition, region and account the finding's (a resource of another account
/// would make hubfix act there: a confused deputy). Errors name the field of the resource.
fn parse_resource(item: &Value, at: &Place<'_>) -> Result<Resource, (&'static str, String)> {
    let text = |field: &str| item.get(field).and_then(Value::as_str).map(str::to_owned);
    let (Some(resource_type), Some(id)) = (text("Type"), text("Id")) else {
        return Err(("Type", "every resource needs a `Type` and an `Id`".into()));
    };
    if resource_type.is_empty()
        || resource_type.len() > 64
        || !resource_type.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err((
            "Type",
            format!("`{}` is not a resource type", shown(&resource_type)),
        ));
    }
    let partition = text("Partition").unwrap_or_else(|| at.partition.to_owned());
    let region = text("Region").unwrap_or_else(|| at.region.to_owned());
    check_resource(&resource_type, &id, &partition, &region, at)?;
    Ok(Resource {
        resource_type,
        id,
        partition,
        region,
        details: item.get("Details").cloned(),
    })
}

/// A resource's id, partition and region, checked against its type and the finding: the id
/// bounded and of its type's shape, its ARN's partition, region and account the finding's.
/// Errors name the ASFF field (`Id`, `Partition`, `Region`).
pub(crate) fn check_resource(
    resource_type: &str,
    id: &str,
    partition: &str,
    region: &str,
    at: &Place<'_>,
) -> Result<(), (&'static str, String)> {
    check_text(id, hubfix_contract::MAX_ARN).map_err(|r| ("Id", r))?;
    if partition != at.partition {
        return Err((
            "Partition",
            format!("`{}`, not the finding's {}", shown(partition), at.partition),
        ));
    }
    if !is_region(region) {
        return Err((
            "Region",
            format!("`{}` is not a region name", shown(region)),
        ));
    }
    let not_an_id = || {
        (
            "Id",
            format!("`{}` is not an {resource_type} id", shown(id)),
        )
    };
    if resource_type == "AwsAccount" {
        let account = id
            .strip_prefix("AWS::::Account:")
            .filter(|a| is_account_id(a))
            .ok_or_else(not_an_id)?;
        same("account", account, at.account_id, false)?;
    } else if id.starts_with("arn:") {
        if !hubfix_contract::is_arn(id) {
            return Err(("Id", format!("`{}` is not an ARN", shown(id))));
        }
        let field = |n| arn_field(id, n).unwrap_or_default();
        let (arn_partition, arn_region, arn_account) = (field(1), field(3), field(4));
        same("partition", arn_partition, at.partition, false)?;
        same("region", arn_region, at.region, true)?;
        // `aws` owns AWS-managed resources (managed policies): nothing hubfix may change.
        if arn_account != "aws" {
            same("account", arn_account, at.account_id, true)?;
        }
        // An EC2 ARN ends in exactly the id.
        if let Some(ty) = hubfix_contract::resource_type(resource_type)
            && matches!(ty.id, hubfix_contract::IdSyntax::Ec2(_))
            && !ty.id.accepts(hubfix_contract::short_id(id))
        {
            return Err(not_an_id());
        }
    } else if let Some(ty) = hubfix_contract::resource_type(resource_type)
        && !ty.id.accepts(id)
    {
        return Err(not_an_id());
    }
    Ok(())
}

/// `got` must be `expected` (or empty, when `may_be_empty`: a global resource's ARN has no
/// region, an S3 bucket's no account either).
fn same(
    what: &str,
    got: &str,
    expected: &str,
    may_be_empty: bool,
) -> Result<(), (&'static str, String)> {
    if got == expected || (may_be_empty && got.is_empty()) {
        return Ok(());
    }
    Err((
        "Id",
        format!(
            "the resource is in {what} {}, not the finding's {expected}",
            shown(got)
        ),
    ))
}

/// Longest finding `Id`, in characters.
pub const MAX_ID: usize = 512;

/// Most resources one finding may name.
pub const MAX_RESOURCES: usize = 32;

/// The ASFF timestamps, each RFC 3339 when present.
const TIMESTAMPS: &[&str] = &[
    "CreatedAt",
    "UpdatedAt",
    "FirstObservedAt",
    "LastObservedAt",
    "ProcessedAt",
];

/// At most `max` characters, none of them a control character.
pub(crate) fn check_text(text: &str, max: usize) -> Result<(), String> {
    let n = text.chars().count();
    if n > max {
        return Err(format!("{n} characters, more than {max}"));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("control characters in `{}`", shown(text)));
    }
    Ok(())
}

/// How untrusted text appears in an error: its first 64 bytes, control characters
/// escaped.
pub(crate) fn shown(text: &str) -> String {
    hubfix_contract::bounded_text(text, 64)
}

/// Whether `id` is an AWS account id: twelve ASCII digits (full-width digits and
/// invisible characters are refused, never normalised).
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// `us-east-1`, `us-gov-west-1`, `ap-southeast-5`: two lowercase letters, lowercase
/// words, a number.
pub(crate) fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.len() <= 5
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 16 && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].len() <= 2
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// `aws`, `aws-cn`, `aws-us-gov`, `aws-iso-b`, ...
pub(crate) fn is_partition(partition: &str) -> bool {
    partition.len() <= 16
        && partition.strip_prefix("aws").is_some_and(|rest| {
            rest.split('-')
                .skip(1)
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
                && (rest.is_empty() || rest.starts_with('-'))
        })
}

/// `EC2.7`, `CloudWatch.14`, a CIS number such as `2.1.5.2`: letters and digits, then one
/// to four `.number` parts.
pub fn is_control_id(control: &str) -> bool {
    let mut parts = control.split('.');
    let head = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    !head.is_empty()
        && head.len() <= 32
        && head.bytes().all(|b| b.is_ascii_alphanumeric())
        && (1..=4).contains(&rest.len())
        && rest
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// RFC 3339 date-time: `2026-12-01T08:00:00Z`, with optional fractional seconds and a
/// `Z` or `±hh:mm` offset; month, day, hour, minute and second in range.
pub(crate) fn is_rfc3339(t: &str) -> bool {
    let b = t.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let s = t.get(from..from + len)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (Some(_year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        num(0, 4),
        num(5, 2),
        num(8, 2),
        num(11, 2),
        num(14, 2),
        num(17, 2),
    ) else {
        return false;
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return false;
    }
    let mut rest = &t[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return false;
        }
        rest = &fraction[digits..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
                && (*h1 - b'0') * 10 + (*h2 - b'0') <= 23
                && (*m1 - b'0') * 10 + (*m2 - b'0') <= 59
        }
        _ => false,
    }
}

/// JSON text to a [`Value`], refusing what `serde_json::from_str` would silently accept:
/// a key twice in one object at any depth (the last would win, so a second `AwsAccountId`
/// could retarget a remediation). Nesting stays bounded by serde_json's recursion limit.
pub fn strict_json(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str::<StrictValue>(text).map(|v| v.0)
}

/// A JSON value deserialized without duplicate keys (see [`strict_json`]): for callers
/// whose framework deserializes the document, e.g. a Lambda's `LambdaEvent<StrictValue>`.
#[derive(Debug, Clone, PartialEq)]
pub struct StrictValue(pub Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate key `{}`",
                    key.chars().take(64).collect::<String>()
                )));
            }
            let StrictValue(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
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
                "Id": "arn:aws:ec2:eu-west-1:222222222222:security-group/sg-0abc1234",
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
        assert_eq!(f.resources[0].short_id(), "sg-0abc1234");
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
                .contains("is not 12 ASCII digits")
        );

        let mut v = sg_finding();
        v["Resources"] = json!([]);
        assert!(matches!(
            Finding::from_value(v),
            Err(FindingError::Invalid { field, .. }) if field == "Resources"
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
