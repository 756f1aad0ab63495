//! CloudTrail calls (`cloudtrail.*`): trails, their logging and their event selectors.
//!
//! Trails are named by name or ARN. A trail's bucket must exist first (`s3.create-bucket`);
//! scenarios name their buckets with `{{account}}` in them (bucket names are global).
//!
//! Event selectors read back as text, one string per selector, so checks can compare them:
//!
//! - a basic selector: its read/write type, then `management` when it includes management
//!   events, then each data resource as `TYPE=VALUE|VALUE`, then
//!   `exclude=SOURCE|SOURCE`: `"All management"`,
//!   `"WriteOnly AWS::S3::Object=arn:aws:s3"`;
//! - an advanced selector: its conditions in order, each `FIELD OP VALUE|VALUE` with `OP`
//!   one of `=` (equals), `^=` (starts with), `$=` (ends with), `!=`, `!^=`, `!$=`:
//!   `"eventCategory=Data resources.type=AWS::S3::Object readOnly=false"`.

use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector as SdkAdvanced, AdvancedFieldSelector, DataResource as SdkDataResource,
    EventSelector as SdkEventSelector, ReadWriteType, Trail,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Member, Record, call_failed};

/// A data resource of a basic event selector.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DataResource {
    /// `AWS::S3::Object`, `AWS::Lambda::Function`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// ARN prefixes (`arn:aws:s3` = every bucket, `arn:aws:s3:::bucket/` = one bucket).
    pub values: Vec<String>,
}

/// A basic event selector, as `PutEventSelectors` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BasicSelector {
    /// `ReadOnly`, `WriteOnly` or `All` (default `All`).
    pub read_write_type: Option<String>,
    /// Whether management events are logged (default `true`).
    pub include_management_events: Option<bool>,
    /// Data events to log.
    #[serde(default)]
    pub data_resources: Vec<DataResource>,
    /// Management event sources left out (`kms.amazonaws.com`, `rdsdata.amazonaws.com`).
    #[serde(default)]
    pub exclude_management_event_sources: Vec<String>,
}

/// One condition of an advanced event selector.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FieldSelector {
    /// `eventCategory`, `resources.type`, `readOnly`, `eventName`, `resources.ARN`, ...
    pub field: String,
    /// Values the field equals.
    #[serde(default)]
    pub equals: Vec<String>,
    /// Prefixes the field starts with.
    #[serde(default)]
    pub starts_with: Vec<String>,
    /// Suffixes the field ends with.
    #[serde(default)]
    pub ends_with: Vec<String>,
    /// Values the field does not equal.
    #[serde(default)]
    pub not_equals: Vec<String>,
    /// Prefixes the field does not start with.
    #[serde(default)]
    pub not_starts_with: Vec<String>,
    /// Suffixes the field does not end with.
    #[serde(default)]
    pub not_ends_with: Vec<String>,
}

/// An advanced event selector.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AdvancedSelector {
    /// Its name (optional).
    pub name: Option<String>,
    /// Its conditions, all of which an event must meet.
    pub field_selectors: Vec<FieldSelector>,
}

/// A CloudTrail call, written `call = "cloudtrail.operation"` with the operation's fields next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
pub enum Op {
    /// `cloudtrail:CreateTrail` in the scenario's region (logging not started). The bucket
    /// must exist. Returns `name` and `arn`.
    #[serde(rename = "cloudtrail.create-trail", rename_all = "kebab-case")]
    CreateTrail {
        /// The trail's name.
        name: String,
        /// The bucket its log files go to.
        bucket: String,
        /// The key prefix of its log files.
        s3_key_prefix: Option<String>,
        /// A multi-Region trail (default `false`).
        is_multi_region_trail: Option<bool>,
        /// Include global service events (default `true`, as in AWS).
        include_global_service_events: Option<bool>,
        /// Log file validation (default `false`).
        enable_log_file_validation: Option<bool>,
        /// An organization trail (default `false`); the account must be the management
        /// account of an organization.
        is_organization_trail: Option<bool>,
        /// A KMS key for the log files.
        kms_key_id: Option<String>,
        /// CloudWatch Logs delivery: the log group ARN (with the role).
        cloud_watch_logs_log_group_arn: Option<String>,
        /// CloudWatch Logs delivery: the role CloudTrail assumes (with the log group).
        cloud_watch_logs_role_arn: Option<String>,
    },
    /// `cloudtrail:UpdateTrail`: changes the settings given, keeps the others. Returns
    /// `name` and `arn`.
    #[serde(rename = "cloudtrail.update-trail", rename_all = "kebab-case")]
    UpdateTrail {
        /// The trail (name or ARN).
        name: String,
        /// A new bucket.
        bucket: Option<String>,
        /// Multi-Region or not.
        is_multi_region_trail: Option<bool>,
        /// Include global service events or not.
        include_global_service_events: Option<bool>,
        /// Log file validation on or off.
        enable_log_file_validation: Option<bool>,
        /// A KMS key for the log files.
        kms_key_id: Option<String>,
        /// CloudWatch Logs delivery: the log group ARN (with the role; empty strings
        /// turn delivery off).
        cloud_watch_logs_log_group_arn: Option<String>,
        /// CloudWatch Logs delivery: the role (with the log group).
        cloud_watch_logs_role_arn: Option<String>,
    },
    /// `cloudtrail:GetTrail`. Returns `name`, `arn`, `home-region`, `s3-bucket-name`,
    /// `s3-key-prefix`, `is-multi-region-trail`, `is-organization-trail`,
    /// `include-global-service-events`, `log-file-validation-enabled`, `kms-key-id`,
    /// `cloud-watch-logs-log-group-arn`, `cloud-watch-logs-role-arn` (empty strings when
    /// unset) and `has-custom-event-selectors`.
    #[serde(rename = "cloudtrail.get-trail", rename_all = "kebab-case")]
    GetTrail {
        /// The trail (name or ARN).
        name: String,
    },
    /// `cloudtrail:DescribeTrails` of the region, shadow trails included. Returns `names`
    /// (every trail's name), `multi-region` (the names of the multi-Region ones) and
    /// `count`.
    #[serde(rename = "cloudtrail.describe-trails")]
    DescribeTrails {},
    /// `cloudtrail:GetTrailStatus`. Returns `is-logging`.
    #[serde(rename = "cloudtrail.get-trail-status", rename_all = "kebab-case")]
    GetTrailStatus {
        /// The trail (name or ARN).
        name: String,
    },
    /// `cloudtrail:StartLogging`. Returns nothing.
    #[serde(rename = "cloudtrail.start-logging", rename_all = "kebab-case")]
    StartLogging {
        /// The trail (name or ARN).
        name: String,
    },
    /// `cloudtrail:StopLogging`. Returns nothing.
    #[serde(rename = "cloudtrail.stop-logging", rename_all = "kebab-case")]
    StopLogging {
        /// The trail (name or ARN).
        name: String,
    },
    /// `cloudtrail:DeleteTrail`. Returns nothing.
    #[serde(rename = "cloudtrail.delete-trail", rename_all = "kebab-case")]
    DeleteTrail {
        /// The trail (name or ARN).
        name: String,
    },
    /// `cloudtrail:PutEventSelectors`: replaces the trail's selectors with `basic` or
    /// `advanced` ones (one kind). Returns nothing.
    #[serde(rename = "cloudtrail.put-event-selectors", rename_all = "kebab-case")]
    PutEventSelectors {
        /// The trail (name or ARN).
        name: String,
        /// Basic selectors.
        #[serde(default)]
        basic: Vec<BasicSelector>,
        /// Advanced selectors.
        #[serde(default)]
        advanced: Vec<AdvancedSelector>,
    },
    /// `cloudtrail:GetEventSelectors`. Returns `kind` (`basic`, `advanced` or `none`),
    /// `basic` and `advanced` (the selectors as text, see the module's documentation),
    /// `advanced-names` (the advanced selectors' names) and `count`.
    #[serde(rename = "cloudtrail.get-event-selectors", rename_all = "kebab-case")]
    GetEventSelectors {
        /// The trail (name or ARN).
        name: String,
    },
}

/// Every CloudTrail call name.
pub const CALLS: &[&str] = &[
    "cloudtrail.create-trail",
    "cloudtrail.update-trail",
    "cloudtrail.get-trail",
    "cloudtrail.describe-trails",
    "cloudtrail.get-trail-status",
    "cloudtrail.start-logging",
    "cloudtrail.stop-logging",
    "cloudtrail.delete-trail",
    "cloudtrail.put-event-selectors",
    "cloudtrail.get-event-selectors",
];

const TRAIL_FIELDS: &[&str] = &[
    "name",
    "arn",
    "home-region",
    "s3-bucket-name",
    "s3-key-prefix",
    "is-multi-region-trail",
    "is-organization-trail",
    "include-global-service-events",
    "log-file-validation-enabled",
    "kms-key-id",
    "cloud-watch-logs-log-group-arn",
    "cloud-watch-logs-role-arn",
    "has-custom-event-selectors",
];

const SELECTOR_FIELDS: &[&str] = &["kind", "basic", "advanced", "advanced-names", "count"];

const READ_WRITE_TYPES: &[&str] = &["ReadOnly", "WriteOnly", "All"];

impl Op {
    /// Its `call` name, e.g. `cloudtrail.get-trail`.
    pub fn call(&self) -> &'static str {
        match self {
            Op::CreateTrail { .. } => "cloudtrail.create-trail",
            Op::UpdateTrail { .. } => "cloudtrail.update-trail",
            Op::GetTrail { .. } => "cloudtrail.get-trail",
            Op::DescribeTrails {} => "cloudtrail.describe-trails",
            Op::GetTrailStatus { .. } => "cloudtrail.get-trail-status",
            Op::StartLogging { .. } => "cloudtrail.start-logging",
            Op::StopLogging { .. } => "cloudtrail.stop-logging",
            Op::DeleteTrail { .. } => "cloudtrail.delete-trail",
            Op::PutEventSelectors { .. } => "cloudtrail.put-event-selectors",
            Op::GetEventSelectors { .. } => "cloudtrail.get-event-selectors",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::CreateTrail { .. } | Op::UpdateTrail { .. } => &["name", "arn"],
            Op::GetTrail { .. } => TRAIL_FIELDS,
            Op::DescribeTrails {} => &["names", "multi-region", "count"],
            Op::GetTrailStatus { .. } => &["is-logging"],
            Op::GetEventSelectors { .. } => SELECTOR_FIELDS,
            Op::StartLogging { .. }
            | Op::StopLogging { .. }
            | Op::DeleteTrail { .. }
            | Op::PutEventSelectors { .. } => &[],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Op::GetTrail { .. }
                | Op::DescribeTrails {}
                | Op::GetTrailStatus { .. }
                | Op::GetEventSelectors { .. }
        )
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let name = match self {
            Op::DescribeTrails {} => None,
            Op::CreateTrail { name, .. }
            | Op::UpdateTrail { name, .. }
            | Op::GetTrail { name }
            | Op::GetTrailStatus { name }
            | Op::StartLogging { name }
            | Op::StopLogging { name }
            | Op::DeleteTrail { name }
            | Op::PutEventSelectors { name, .. }
            | Op::GetEventSelectors { name } => Some(name),
        };
        if name.is_some_and(|n| n.trim().is_empty()) {
            problems.push("`name` is empty".to_owned());
        }
        match self {
            Op::CreateTrail {
                bucket,
                cloud_watch_logs_log_group_arn,
                cloud_watch_logs_role_arn,
                ..
            } => {
                if bucket.trim().is_empty() {
                    problems.push("`bucket` is empty".to_owned());
                }
                if cloud_watch_logs_log_group_arn.is_some() != cloud_watch_logs_role_arn.is_some() {
                    problems.push(
                        "`cloud-watch-logs-log-group-arn` and `cloud-watch-logs-role-arn` go together"
                            .to_owned(),
                    );
                }
            }
            Op::UpdateTrail {
                cloud_watch_logs_log_group_arn,
                cloud_watch_logs_role_arn,
                ..
            } if cloud_watch_logs_log_group_arn.is_some()
                != cloud_watch_logs_role_arn.is_some() =>
            {
                problems.push(
                    "`cloud-watch-logs-log-group-arn` and `cloud-watch-logs-role-arn` go together"
                        .to_owned(),
                );
            }
            Op::PutEventSelectors {
                basic, advanced, ..
            } => {
                if basic.is_empty() == advanced.is_empty() {
                    problems.push(
                        "give `basic` or `advanced` selectors (a trail has one kind)".to_owned(),
                    );
                }
                for (i, b) in basic.iter().enumerate() {
                    if let Some(t) = &b.read_write_type
                        && !READ_WRITE_TYPES.contains(&t.as_str())
                    {
                        problems.push(format!(
                            "`basic[{i}].read-write-type` = `{t}`: use `ReadOnly`, `WriteOnly` or `All`"
                        ));
                    }
                }
                for (i, a) in advanced.iter().enumerate() {
                    if a.field_selectors.is_empty() {
                        problems.push(format!(
                            "`advanced[{i}].field-selectors` is empty: give at least one condition"
                        ));
                    }
                }
            }
            _ => {}
        }
        problems
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        let ct = &m.cloudtrail;
        match self {
            Op::CreateTrail {
                name,
                bucket,
                s3_key_prefix,
                is_multi_region_trail,
                include_global_service_events,
                enable_log_file_validation,
                is_organization_trail,
                kms_key_id,
                cloud_watch_logs_log_group_arn,
                cloud_watch_logs_role_arn,
            } => {
                let out = ct
                    .create_trail()
                    .name(name)
                    .s3_bucket_name(bucket)
                    .set_s3_key_prefix(s3_key_prefix.clone())
                    .set_is_multi_region_trail(*is_multi_region_trail)
                    .set_include_global_service_events(*include_global_service_events)
                    .set_enable_log_file_validation(*enable_log_file_validation)
                    .set_is_organization_trail(*is_organization_trail)
                    .set_kms_key_id(kms_key_id.clone())
                    .set_cloud_watch_logs_log_group_arn(cloud_watch_logs_log_group_arn.clone())
                    .set_cloud_watch_logs_role_arn(cloud_watch_logs_role_arn.clone())
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(name_and_arn(out.name, out.trail_arn))
            }
            Op::UpdateTrail {
                name,
                bucket,
                is_multi_region_trail,
                include_global_service_events,
                enable_log_file_validation,
                kms_key_id,
                cloud_watch_logs_log_group_arn,
                cloud_watch_logs_role_arn,
            } => {
                let out = ct
                    .update_trail()
                    .name(name)
                    .set_s3_bucket_name(bucket.clone())
                    .set_is_multi_region_trail(*is_multi_region_trail)
                    .set_include_global_service_events(*include_global_service_events)
                    .set_enable_log_file_validation(*enable_log_file_validation)
                    .set_kms_key_id(kms_key_id.clone())
                    .set_cloud_watch_logs_log_group_arn(cloud_watch_logs_log_group_arn.clone())
                    .set_cloud_watch_logs_role_arn(cloud_watch_logs_role_arn.clone())
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(name_and_arn(out.name, out.trail_arn))
            }
            Op::GetTrail { name } => {
                let out = ct
                    .get_trail()
                    .name(name)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let trail = out
                    .trail
                    .ok_or_else(|| format!("{}: no trail {name} in the answer", self.call()))?;
                Ok(trail_record(trail))
            }
            Op::DescribeTrails {} => {
                let out = ct
                    .describe_trails()
                    .include_shadow_trails(true)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let trails = out.trail_list.unwrap_or_default();
                let names: Vec<&str> = trails.iter().filter_map(|t| t.name.as_deref()).collect();
                let multi: Vec<&str> = trails
                    .iter()
                    .filter(|t| t.is_multi_region_trail == Some(true))
                    .filter_map(|t| t.name.as_deref())
                    .collect();
                Ok(Record::from([
                    ("count".to_owned(), json!(names.len())),
                    ("names".to_owned(), json!(names)),
                    ("multi-region".to_owned(), json!(multi)),
                ]))
            }
            Op::GetTrailStatus { name } => {
                let out = ct
                    .get_trail_status()
                    .name(name)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::from([(
                    "is-logging".to_owned(),
                    json!(out.is_logging.unwrap_or(false)),
                )]))
            }
            Op::StartLogging { name } => {
                ct.start_logging()
                    .name(name)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::StopLogging { name } => {
                ct.stop_logging()
                    .name(name)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::DeleteTrail { name } => {
                ct.delete_trail()
                    .name(name)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::PutEventSelectors {
                name,
                basic,
                advanced,
            } => {
                let request = ct.put_event_selectors().trail_name(name);
                let request = if basic.is_empty() {
                    let advanced = advanced
                        .iter()
                        .map(sdk_advanced)
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| failed(&e))?;
                    request.set_advanced_event_selectors(Some(advanced))
                } else {
                    request.set_event_selectors(Some(basic.iter().map(sdk_basic).collect()))
                };
                request.send().await.map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::GetEventSelectors { name } => {
                let out = ct
                    .get_event_selectors()
                    .trail_name(name)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(selectors_record(
                    &out.event_selectors.unwrap_or_default(),
                    &out.advanced_event_selectors.unwrap_or_default(),
                ))
            }
        }
    }
}

fn name_and_arn(name: Option<String>, arn: Option<String>) -> Record {
    Record::from([
        ("name".to_owned(), json!(name.unwrap_or_default())),
        ("arn".to_owned(), json!(arn.unwrap_or_default())),
    ])
}

fn trail_record(t: Trail) -> Record {
    let text = |v: Option<String>| json!(v.unwrap_or_default());
    let flag = |v: Option<bool>| json!(v.unwrap_or(false));
    Record::from([
        ("name".to_owned(), text(t.name)),
        ("arn".to_owned(), text(t.trail_arn)),
        ("home-region".to_owned(), text(t.home_region)),
        ("s3-bucket-name".to_owned(), text(t.s3_bucket_name)),
        ("s3-key-prefix".to_owned(), text(t.s3_key_prefix)),
        (
            "is-multi-region-trail".to_owned(),
            flag(t.is_multi_region_trail),
        ),
        (
            "is-organization-trail".to_owned(),
            flag(t.is_organization_trail),
        ),
        (
            "include-global-service-events".to_owned(),
            flag(t.include_global_service_events),
        ),
        (
            "log-file-validation-enabled".to_owned(),
            flag(t.log_file_validation_enabled),
        ),
        ("kms-key-id".to_owned(), text(t.kms_key_id)),
        (
            "cloud-watch-logs-log-group-arn".to_owned(),
            text(t.cloud_watch_logs_log_group_arn),
        ),
        (
            "cloud-watch-logs-role-arn".to_owned(),
            text(t.cloud_watch_logs_role_arn),
        ),
        (
            "has-custom-event-selectors".to_owned(),
            flag(t.has_custom_event_selectors),
        ),
    ])
}

fn sdk_basic(b: &BasicSelector) -> SdkEventSelector {
    SdkEventSelector::builder()
        .read_write_type(ReadWriteType::from(
            b.read_write_type.as_deref().unwrap_or("All"),
        ))
        .include_management_events(b.include_management_events.unwrap_or(true))
        .set_data_resources(Some(
            b.data_resources
                .iter()
                .map(|d| {
                    SdkDataResource::builder()
                        .r#type(&d.kind)
                        .set_values(Some(d.values.clone()))
                        .build()
                })
                .collect(),
        ))
        .set_exclude_management_event_sources(
            (!b.exclude_management_event_sources.is_empty())
                .then(|| b.exclude_management_event_sources.clone()),
        )
        .build()
}

fn sdk_advanced(
    a: &AdvancedSelector,
) -> Result<SdkAdvanced, aws_sdk_cloudtrail::error::BuildError> {
    let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    let fields = a
        .field_selectors
        .iter()
        .map(|f| {
            AdvancedFieldSelector::builder()
                .field(&f.field)
                .set_equals(some(&f.equals))
                .set_starts_with(some(&f.starts_with))
                .set_ends_with(some(&f.ends_with))
                .set_not_equals(some(&f.not_equals))
                .set_not_starts_with(some(&f.not_starts_with))
                .set_not_ends_with(some(&f.not_ends_with))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    SdkAdvanced::builder()
        .set_name(a.name.clone())
        .set_field_selectors(Some(fields))
        .build()
}

/// A basic selector as text: `"WriteOnly management AWS::S3::Object=arn:aws:s3"`.
fn basic_text(s: &SdkEventSelector) -> String {
    let mut parts = vec![
        s.read_write_type
            .as_ref()
            .map_or("All", ReadWriteType::as_str)
            .to_owned(),
    ];
    if s.include_management_events.unwrap_or(true) {
        parts.push("management".to_owned());
    }
    for d in s.data_resources() {
        parts.push(format!(
            "{}={}",
            d.r#type().unwrap_or_default(),
            d.values().join("|")
        ));
    }
    if !s.exclude_management_event_sources().is_empty() {
        parts.push(format!(
            "exclude={}",
            s.exclude_management_event_sources().join("|")
        ));
    }
    parts.join(" ")
}

/// An advanced selector's conditions as text: `"eventCategory=Data readOnly=false"`.
fn advanced_text(a: &SdkAdvanced) -> String {
    let mut parts = Vec::new();
    for f in a.field_selectors() {
        for (op, values) in [
            ("=", f.equals()),
            ("^=", f.starts_with()),
            ("$=", f.ends_with()),
            ("!=", f.not_equals()),
            ("!^=", f.not_starts_with()),
            ("!$=", f.not_ends_with()),
        ] {
            if !values.is_empty() {
                parts.push(format!("{}{op}{}", f.field(), values.join("|")));
            }
        }
    }
    parts.join(" ")
}

fn selectors_record(basic: &[SdkEventSelector], advanced: &[SdkAdvanced]) -> Record {
    let kind = match (basic.is_empty(), advanced.is_empty()) {
        (false, _) => "basic",
        (true, false) => "advanced",
        (true, true) => "none",
    };
    let basic: Vec<String> = basic.iter().map(basic_text).collect();
    let names: Vec<&str> = advanced.iter().filter_map(|a| a.name()).collect();
    let advanced: Vec<String> = advanced.iter().map(advanced_text).collect();
    Record::from([
        ("kind".to_owned(), json!(kind)),
        ("count".to_owned(), json!(basic.len() + advanced.len())),
        ("basic".to_owned(), json!(basic)),
        ("advanced".to_owned(), json!(advanced)),
        ("advanced-names".to_owned(), json!(names)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_read_as_text() {
        let basic = sdk_basic(&BasicSelector {
            read_write_type: Some("WriteOnly".into()),
            include_management_events: Some(false),
            data_resources: vec![DataResource {
                kind: "AWS::S3::Object".into(),
                values: vec!["arn:aws:s3".into()],
            }],
            exclude_management_event_sources: vec![],
        });
        assert_eq!(basic_text(&basic), "WriteOnly AWS::S3::Object=arn:aws:s3");
        let default = sdk_basic(&BasicSelector {
            read_write_type: None,
            include_management_events: None,
            data_resources: vec![],
            exclude_management_event_sources: vec!["kms.amazonaws.com".into()],
        });
        assert_eq!(
            basic_text(&default),
            "All management exclude=kms.amazonaws.com"
        );
        let advanced = sdk_advanced(&AdvancedSelector {
            name: Some("S3 writes".into()),
            field_selectors: vec![
                FieldSelector {
                    field: "eventCategory".into(),
                    equals: vec!["Data".into()],
                    starts_with: vec![],
                    ends_with: vec![],
                    not_equals: vec![],
                    not_starts_with: vec![],
                    not_ends_with: vec![],
                },
                FieldSelector {
                    field: "resources.ARN".into(),
                    equals: vec![],
                    starts_with: vec!["arn:aws:s3:::a/".into(), "arn:aws:s3:::b/".into()],
                    ends_with: vec![],
                    not_equals: vec![],
                    not_starts_with: vec![],
                    not_ends_with: vec!["/x".into()],
                },
            ],
        })
        .unwrap();
        assert_eq!(
            advanced_text(&advanced),
            "eventCategory=Data resources.ARN^=arn:aws:s3:::a/|arn:aws:s3:::b/ resources.ARN!$=/x"
        );
        let record = selectors_record(&[], &[advanced]);
        assert_eq!(record["kind"], json!("advanced"));
        assert_eq!(record["advanced-names"], json!(["S3 writes"]));
        assert_eq!(record["count"], json!(1));
        assert_eq!(selectors_record(&[], &[])["kind"], json!("none"));
        assert_eq!(selectors_record(&[basic], &[])["kind"], json!("basic"));
    }

    #[test]
    fn problems_name_the_field() {
        let put = |basic: Vec<BasicSelector>, advanced: Vec<AdvancedSelector>| {
            Op::PutEventSelectors {
                name: "t".into(),
                basic,
                advanced,
            }
            .problems()
        };
        assert!(put(vec![], vec![])[0].contains("`basic` or `advanced`"));
        let bad = BasicSelector {
            read_write_type: Some("Everything".into()),
            include_management_events: None,
            data_resources: vec![],
            exclude_management_event_sources: vec![],
        };
        assert!(put(vec![bad], vec![])[0].contains("read-write-type"));
        let empty = AdvancedSelector {
            name: None,
            field_selectors: vec![],
        };
        assert!(put(vec![], vec![empty])[0].contains("field-selectors"));
        let op = Op::CreateTrail {
            name: "t".into(),
            bucket: " ".into(),
            s3_key_prefix: None,
            is_multi_region_trail: None,
            include_global_service_events: None,
            enable_log_file_validation: None,
            is_organization_trail: None,
            kms_key_id: None,
            cloud_watch_logs_log_group_arn: Some("arn".into()),
            cloud_watch_logs_role_arn: None,
        };
        let problems = op.problems();
        assert!(problems[0].contains("`bucket`"), "{problems:?}");
        assert!(problems[1].contains("go together"), "{problems:?}");
        assert!(Op::GetTrail { name: "".into() }.problems()[0].contains("`name`"));
    }
}
