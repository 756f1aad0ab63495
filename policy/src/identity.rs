//! Control identity: which Security Hub control a finding is about, whatever its format.
//!
//! Four shapes name their control differently (reference section 4):
//!
//! | shape | where the control is |
//! |---|---|
//! | CIS v1.2.0 per-standard ASFF | `GeneratorId` `arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/4.1`, `ProductFields.RuleId` |
//! | CIS v1.4.0 / v3.0.0 / v5.0.0 per-standard ASFF | `GeneratorId` `cis-aws-foundations-benchmark/v/1.4.0/2.1.5.1`, `ProductFields.ControlId` |
//! | consolidated ASFF | `Compliance.SecurityControlId` (also on per-standard findings since 2023), `GeneratorId` `security-control/EC2.53` |
//! | Security Hub v2 OCSF | `compliance.control`, `finding_info.uid` |
//!
//! The recipe of reference section 4.4: a Security Hub control id the finding carries wins;
//! otherwise the CIS id and version are read from the generator id (or the product fields, or
//! the finding id) and looked up in the [catalog](crate::catalog).

use serde::Serialize;
use serde_json::Value;

use crate::catalog::{self, CisVersion};

/// The shape a finding arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingFormat {
    /// ASFF whose generator is a standard's control or rule (per-standard findings, the only
    /// kind before consolidated control findings), or any other ASFF generator.
    AsffPerStandard,
    /// ASFF consolidated control finding (`GeneratorId` = `security-control/<id>`).
    AsffConsolidated,
    /// Security Hub v2 finding in OCSF ("Findings Imported V2").
    Ocsf,
}

impl FindingFormat {
    /// `asff-per-standard`, `asff-consolidated` or `ocsf`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingFormat::AsffPerStandard => "asff-per-standard",
            FindingFormat::AsffConsolidated => "asff-consolidated",
            FindingFormat::Ocsf => "ocsf",
        }
    }
}

/// How the control of a finding was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlSource {
    /// The finding's shape.
    pub format: FindingFormat,
    /// The CIS version the finding was generated for, when it is a per-standard CIS finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cis_version: Option<CisVersion>,
    /// The standard-specific id the finding carries (`4.1`, `2.1.5.1`, or `EC2.7` of an FSBP
    /// per-standard finding), when it carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_control_id: Option<String>,
    /// The field the control id was taken from, e.g. `Compliance.SecurityControlId`.
    pub field: &'static str,
}

/// Which controls a CIS id means: the built-in catalog, plus a policy's declared controls.
pub(crate) trait CisControls {
    /// The Security Hub control id a CIS id of one version names, if any.
    fn control_for_cis(
        &self,
        version: CisVersion,
        id: &str,
        resource_type: Option<&str>,
    ) -> Option<&str>;
}

impl CisControls for crate::model::Policy {
    fn control_for_cis(
        &self,
        version: CisVersion,
        id: &str,
        resource_type: Option<&str>,
    ) -> Option<&str> {
        crate::model::Policy::control_for_cis(self, version, id, resource_type)
    }
}

/// The control a finding names, or why none could be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) control: Option<String>,
    pub(crate) source: ControlSource,
    /// Set when no control could be found.
    pub(crate) problem: Option<String>,
}

/// The string at a path of object keys.
pub(crate) fn text_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = value;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// A CIS standard reference found inside an ARN or id: the version and, when the text goes on
/// to name one, the standard-control id (`.../cis-aws-foundations-benchmark/v/1.2.0/rule/4.1`
/// → `(1.2.0, Some("4.1"))`, `.../subscription/cis-aws-foundations-benchmark/v/1.4.0/3.7/finding/…`
/// → `(1.4.0, Some("3.7"))`).
pub(crate) fn cis_ref(text: &str) -> Option<(CisVersion, Option<String>)> {
    const MARK: &str = "cis-aws-foundations-benchmark/v/";
    let start = text.find(MARK)? + MARK.len();
    let mut parts = text[start..].split('/');
    let version = CisVersion::parse(parts.next()?)?;
    let mut next = parts.next();
    if next == Some("rule") {
        next = parts.next();
    }
    let id = next
        .filter(|id| catalog::looks_like_cis_id(id))
        .map(str::to_owned);
    Some((version, id))
}

/// A `CIS AWS Foundations Benchmark v1.4.0/3.7` requirement string (consolidated findings'
/// `Compliance.RelatedRequirements`), or just `CIS AWS Foundations Benchmark v1.4.0`.
pub(crate) fn cis_requirement(text: &str) -> Option<(CisVersion, Option<String>)> {
    let rest = text
        .trim()
        .strip_prefix("CIS AWS Foundations Benchmark v")?;
    let (version, id) = match rest.split_once('/') {
        Some((v, id)) => (v, Some(id.trim().to_owned())),
        None => (rest, None),
    };
    Some((CisVersion::parse(version.trim())?, id))
}

/// Why a CIS id of one version names no control: none has it, or several do and the
/// finding's resource type does not settle which.
fn no_control_for_cis(version: CisVersion, id: &str, resource_type: Option<&str>) -> String {
    let candidates: Vec<&str> = catalog::cis_candidates(version, id)
        .iter()
        .map(|c| c.id)
        .collect();
    match candidates.as_slice() {
        [] | [_] => format!("CIS v{version} has no Security Hub control with id `{id}`"),
        [rest @ .., last] => format!(
            "CIS v{version} `{id}` means {} or {last}, and {}",
            rest.join(", "),
            match resource_type {
                Some(t) => format!(
                    "neither the finding's resource type ({t}) nor a Security Hub control id \
                     says which"
                ),
                None => "the finding names neither a resource type nor a Security Hub control \
                         id to say which"
                    .to_owned(),
            }
        ),
    }
}

/// `security-control/<id>` anywhere in a generator id or finding id.
fn security_control_ref(text: &str) -> Option<&str> {
    const MARK: &str = "security-control/";
    let start = text.find(MARK)? + MARK.len();
    let id = text[start..].split('/').next()?;
    catalog::looks_like_control_id(id).then_some(id)
}

/// Finds the control of an ASFF finding.
pub(crate) fn identify_asff(
    finding: &Value,
    resource_type: Option<&str>,
    controls: &dyn CisControls,
) -> Identity {
    let generator = text_at(finding, &["GeneratorId"]).unwrap_or_default();
    let consolidated = security_control_ref(generator).is_some();
    let format = if consolidated {
        FindingFormat::AsffConsolidated
    } else {
        FindingFormat::AsffPerStandard
    };

    // The CIS standard and id, from the first field that carries them.
    let mut cis: Option<(CisVersion, Option<String>)> = None;
    for path in [
        &["GeneratorId"][..],
        &["ProductFields", "StandardsControlArn"],
        &["Id"],
        &["ProductFields", "StandardsGuideArn"],
        &["ProductFields", "StandardsArn"],
        &["ProductFields", "StandardsSubscriptionArn"],
        &["ProductFields", "StandardsGuideSubscriptionArn"],
    ] {
        if let Some(found) = text_at(finding, path).and_then(cis_ref) {
            match (&cis, found) {
                (None, found) => cis = Some(found),
                (Some((v, None)), (fv, Some(id))) if *v == fv => cis = Some((fv, Some(id))),
                _ => {}
            }
        }
    }
    if let Some((version, id @ None)) = &mut cis {
        let field = match version {
            CisVersion::V1_2_0 => "RuleId",
            _ => "ControlId",
        };
        *id = text_at(finding, &["ProductFields", field])
            .filter(|s| catalog::looks_like_cis_id(s))
            .map(str::to_owned);
    }
    let cis_version = cis.as_ref().map(|(v, _)| *v);
    let cis_id = cis.as_ref().and_then(|(_, id)| id.clone());

    let product_control_id = text_at(finding, &["ProductFields", "ControlId"]);
    let generator_tail = generator.rsplit('/').next().unwrap_or_default();
    let standard_control_id = cis_id.clone().or_else(|| {
        (!consolidated && catalog::looks_like_control_id(generator_tail))
            .then(|| generator_tail.to_owned())
    });
    let source = |field: &'static str| ControlSource {
        format,
        cis_version,
        standard_control_id: standard_control_id.clone(),
        field,
    };
    let found = |control: &str, field: &'static str| Identity {
        control: Some(control.to_owned()),
        source: source(field),
        problem: None,
    };

    if let Some(id) = text_at(finding, &["Compliance", "SecurityControlId"]) {
        return found(id, "Compliance.SecurityControlId");
    }
    if let Some(id) = product_control_id.filter(|id| catalog::looks_like_control_id(id)) {
        return found(id, "ProductFields.ControlId");
    }
    if let (Some(version), Some(id)) = (cis_version, cis_id.as_deref()) {
        return match controls.control_for_cis(version, id, resource_type) {
            Some(control) => found(control, "GeneratorId"),
            None => Identity {
                control: None,
                source: source("GeneratorId"),
                problem: Some(no_control_for_cis(version, id, resource_type)),
            },
        };
    }
    if let Some(id) = security_control_ref(generator) {
        return found(id, "GeneratorId");
    }
    if let Some(id) = text_at(finding, &["Id"]).and_then(security_control_ref) {
        return found(id, "Id");
    }
    if catalog::looks_like_control_id(generator_tail) {
        return found(generator_tail, "GeneratorId");
    }
    Identity {
        control: None,
        source: source("GeneratorId"),
        problem: Some(match cis_version {
            Some(version) => format!("the CIS v{version} finding names no control id"),
            None => "the finding names no Security Hub control (no Compliance.SecurityControlId, \
                     no CIS or security-control generator id)"
                .to_owned(),
        }),
    }
}

/// Finds the control of an OCSF (Security Hub v2) finding.
pub(crate) fn identify_ocsf(
    finding: &Value,
    resource_type: Option<&str>,
    controls: &dyn CisControls,
) -> Identity {
    let format = FindingFormat::Ocsf;
    let uid = text_at(finding, &["finding_info", "uid"]).unwrap_or_default();

    // Every CIS version the finding mentions: standards, requirements, its own id.
    let mut versions: Vec<CisVersion> = Vec::new();
    let mut uid_cis_id = None;
    if let Some((v, id)) = cis_ref(uid) {
        versions.push(v);
        uid_cis_id = id;
    }
    let strings = |key: &str| -> Vec<&str> {
        finding
            .get("compliance")
            .and_then(|c| c.get(key))
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    };
    for text in strings("standards")
        .into_iter()
        .chain(strings("requirements"))
    {
        if let Some((v, _)) = cis_ref(text).or_else(|| cis_requirement(text))
            && !versions.contains(&v)
        {
            versions.push(v);
        }
    }
    let single_version = match versions.as_slice() {
        [one] => Some(*one),
        _ => None,
    };

    let control = text_at(finding, &["compliance", "control"]);
    let source = |field: &'static str, standard_control_id: Option<String>| ControlSource {
        format,
        cis_version: single_version,
        standard_control_id,
        field,
    };
    let found = |control: &str, field: &'static str, std_id: Option<String>| Identity {
        control: Some(control.to_owned()),
        source: source(field, std_id),
        problem: None,
    };

    if let Some(id) = control.filter(|id| catalog::looks_like_control_id(id)) {
        return found(id, "compliance.control", uid_cis_id);
    }
    let cis_id = control
        .filter(|id| catalog::looks_like_cis_id(id))
        .map(str::to_owned)
        .or(uid_cis_id);
    if let Some(id) = cis_id {
        let Some(version) = single_version else {
            return Identity {
                control: None,
                source: source("compliance.control", Some(id.clone())),
                problem: Some(if versions.is_empty() {
                    format!("CIS id `{id}` without a CIS version (no CIS standard named)")
                } else {
                    format!("CIS id `{id}` is ambiguous: the finding names several CIS versions")
                }),
            };
        };
        return match controls.control_for_cis(version, &id, resource_type) {
            Some(c) => found(c, "compliance.control", Some(id)),
            None => Identity {
                control: None,
                source: source("compliance.control", Some(id.clone())),
                problem: Some(no_control_for_cis(version, &id, resource_type)),
            },
        };
    }
    if let Some(id) = security_control_ref(uid) {
        return found(id, "finding_info.uid", None);
    }
    Identity {
        control: None,
        source: source("compliance.control", None),
        problem: Some(
            "the OCSF finding names no Security Hub control (no compliance.control)".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The built-in catalog alone.
    struct BuiltIn;

    impl CisControls for BuiltIn {
        fn control_for_cis(
            &self,
            version: CisVersion,
            id: &str,
            resource_type: Option<&str>,
        ) -> Option<&str> {
            catalog::lookup_cis(version, id, resource_type).map(|c| c.id)
        }
    }

    #[test]
    fn cis_refs() {
        assert_eq!(
            cis_ref("arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/4.1"),
            Some((CisVersion::V1_2_0, Some("4.1".into())))
        );
        assert_eq!(
            cis_ref("cis-aws-foundations-benchmark/v/1.4.0/2.1.5.1"),
            Some((CisVersion::V1_4_0, Some("2.1.5.1".into())))
        );
        assert_eq!(
            cis_ref(
                "arn:aws:securityhub:eu-west-1:111111111111:subscription/cis-aws-foundations-benchmark/v/3.0.0/5.2/finding/0a"
            ),
            Some((CisVersion::V3_0_0, Some("5.2".into())))
        );
        assert_eq!(
            cis_ref("arn:aws:securityhub:::standards/cis-aws-foundations-benchmark/v/1.4.0"),
            Some((CisVersion::V1_4_0, None))
        );
        assert_eq!(
            cis_ref("cis-aws-foundations-benchmark/v/5.0.0/5.1.1"),
            Some((CisVersion::V5_0_0, Some("5.1.1".into())))
        );
        assert_eq!(
            cis_ref("arn:aws:securityhub:::standards/cis-aws-foundations-benchmark/v/5.0.0"),
            Some((CisVersion::V5_0_0, None))
        );
        assert_eq!(cis_ref("cis-aws-foundations-benchmark/v/4.0.0/1.1"), None);
        assert_eq!(
            cis_requirement("CIS AWS Foundations Benchmark v5.0.0/2.3.1"),
            Some((CisVersion::V5_0_0, Some("2.3.1".into())))
        );
        assert_eq!(
            cis_requirement("CIS AWS Foundations Benchmark v1.2.0/2.7"),
            Some((CisVersion::V1_2_0, Some("2.7".into())))
        );
        assert_eq!(cis_requirement("NIST.800-53.r5 AU-9"), None);
    }

    #[test]
    fn asff_precedence() {
        // A SecurityControlId wins over the CIS id.
        let f = json!({"GeneratorId": "cis-aws-foundations-benchmark/v/1.4.0/3.6",
                       "Compliance": {"SecurityControlId": "S3.9"}});
        let id = identify_asff(&f, None, &BuiltIn);
        assert_eq!(id.control.as_deref(), Some("S3.9"));
        assert_eq!(id.source.standard_control_id.as_deref(), Some("3.6"));
        // A CIS ControlId in ProductFields is not taken for a Security Hub id.
        let f = json!({"GeneratorId": "cis-aws-foundations-benchmark/v/1.4.0/2.2.1",
                       "ProductFields": {"ControlId": "2.2.1"}});
        assert_eq!(
            identify_asff(&f, None, &BuiltIn).control.as_deref(),
            Some("EC2.7")
        );
        // FSBP per-standard finding without SecurityControlId.
        let f = json!({"GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/IAM.7"});
        assert_eq!(
            identify_asff(&f, None, &BuiltIn).control.as_deref(),
            Some("IAM.7")
        );
        // Version from the guide ARN, id from RuleId.
        let f = json!({"GeneratorId": "something-else",
                       "ProductFields": {"StandardsGuideArn": "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",
                                         "RuleId": "2.7"}});
        assert_eq!(
            identify_asff(&f, None, &BuiltIn).control.as_deref(),
            Some("CloudTrail.2")
        );
        let f = json!({"GeneratorId": "custom"});
        assert!(identify_asff(&f, None, &BuiltIn).problem.is_some());
        // CIS v5.0.0: the id and version from the generator id; a shared id needs the
        // resource type, or a SecurityControlId.
        let f = json!({"GeneratorId": "cis-aws-foundations-benchmark/v/5.0.0/2.2.4"});
        assert_eq!(
            identify_asff(&f, Some("AwsRdsDbCluster"), &BuiltIn)
                .control
                .as_deref(),
            Some("RDS.15")
        );
        let id = identify_asff(&f, None, &BuiltIn);
        assert_eq!(id.control, None);
        assert_eq!(
            id.problem.as_deref(),
            Some(
                "CIS v5.0.0 `2.2.4` means RDS.5 or RDS.15, and the finding names neither a \
                 resource type nor a Security Hub control id to say which"
            )
        );
        let f = json!({"GeneratorId": "cis-aws-foundations-benchmark/v/5.0.0/2.3.1"});
        assert_eq!(
            identify_asff(&f, Some("AwsEfsFileSystem"), &BuiltIn)
                .problem
                .as_deref(),
            Some(
                "CIS v5.0.0 `2.3.1` means EFS.1 or EFS.8, and neither the finding's resource \
                 type (AwsEfsFileSystem) nor a Security Hub control id says which"
            )
        );
        let f = json!({"GeneratorId": "cis-aws-foundations-benchmark/v/5.0.0/9.9"});
        assert_eq!(
            identify_asff(&f, None, &BuiltIn).problem.as_deref(),
            Some("CIS v5.0.0 has no Security Hub control with id `9.9`")
        );
        let f = json!({"GeneratorId": "cis-aws-foundations-benchmark/v/5.0.0/5.1.1",
                       "Compliance": {"SecurityControlId": "EC2.7"}});
        let id = identify_asff(&f, None, &BuiltIn);
        assert_eq!(id.control.as_deref(), Some("EC2.7"));
        assert_eq!(id.source.cis_version, Some(CisVersion::V5_0_0));
        assert_eq!(id.source.standard_control_id.as_deref(), Some("5.1.1"));
    }
}
