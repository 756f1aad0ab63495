//! AWS Config calls (`config.*`): the configuration recorder and delivery channel.
//!
//! A region has at most one (customer managed) recorder and one delivery channel, so the
//! reading calls describe "the" recorder and channel: `exists` says whether there is one.

use aws_sdk_config::types::{ConfigurationRecorder, DeliveryChannel, RecordingGroup, ResourceType};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Member, Record, call_failed};

/// Config's limit on recorder and channel names.
const MAX_NAME: usize = 256;

/// An AWS Config call, written `call = "config.operation"` with the operation's fields next to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "call", deny_unknown_fields)]
pub enum Op {
    /// `config:PutConfigurationRecorder`: creates or replaces the recorder. With
    /// `resource-types` it records those; without, all supported types (and the global
    /// IAM types when `include-global-resource-types`). Returns `name`.
    #[serde(
        rename = "config.put-configuration-recorder",
        rename_all = "kebab-case"
    )]
    PutConfigurationRecorder {
        /// The recorder's name (default `default`).
        name: Option<String>,
        /// The role Config records with.
        role_arn: String,
        /// Record these types only (`AWS::EC2::Instance`, …).
        resource_types: Option<Vec<String>>,
        /// With all supported types: also the global IAM types (default `false`).
        include_global_resource_types: Option<bool>,
    },
    /// `config:PutDeliveryChannel`. Returns `name`.
    #[serde(rename = "config.put-delivery-channel", rename_all = "kebab-case")]
    PutDeliveryChannel {
        /// The channel's name (default `default`).
        name: Option<String>,
        /// The bucket Config delivers to.
        s3_bucket_name: String,
        /// A key prefix in it.
        s3_key_prefix: Option<String>,
    },
    /// `config:StartConfigurationRecorder`. Returns nothing.
    #[serde(
        rename = "config.start-configuration-recorder",
        rename_all = "kebab-case"
    )]
    StartConfigurationRecorder {
        /// The recorder (default `default`).
        name: Option<String>,
    },
    /// `config:StopConfigurationRecorder`. Returns nothing.
    #[serde(
        rename = "config.stop-configuration-recorder",
        rename_all = "kebab-case"
    )]
    StopConfigurationRecorder {
        /// The recorder (default `default`).
        name: Option<String>,
    },
    /// `config:DescribeConfigurationRecorders` and `DescribeConfigurationRecorderStatus`
    /// (the customer managed recorder; service-linked ones are left out). Returns
    /// `exists`, `name`, `role-arn`, `all-supported`, `include-global-resource-types`,
    /// `resource-types` and `recording` (`false`, empty strings and lists when there is
    /// none).
    #[serde(rename = "config.describe-configuration-recorder")]
    DescribeConfigurationRecorder {},
    /// `config:DescribeDeliveryChannels`. Returns `exists`, `name`, `s3-bucket-name` and
    /// `s3-key-prefix` of the region's channel (empty strings when there is none).
    #[serde(rename = "config.describe-delivery-channel")]
    DescribeDeliveryChannel {},
}

/// Every AWS Config call name.
pub const CALLS: &[&str] = &[
    "config.put-configuration-recorder",
    "config.put-delivery-channel",
    "config.start-configuration-recorder",
    "config.stop-configuration-recorder",
    "config.describe-configuration-recorder",
    "config.describe-delivery-channel",
];

const RECORDER_FIELDS: &[&str] = &[
    "exists",
    "name",
    "role-arn",
    "all-supported",
    "include-global-resource-types",
    "resource-types",
    "recording",
];

const CHANNEL_FIELDS: &[&str] = &["exists", "name", "s3-bucket-name", "s3-key-prefix"];

/// The name Config's console gives the region's recorder and channel.
const DEFAULT_NAME: &str = "default";

fn name_or_default(name: &Option<String>) -> &str {
    name.as_deref().unwrap_or(DEFAULT_NAME)
}

impl Op {
    /// Its `call` name, e.g. `config.describe-configuration-recorder`.
    pub fn call(&self) -> &'static str {
        match self {
            Op::PutConfigurationRecorder { .. } => "config.put-configuration-recorder",
            Op::PutDeliveryChannel { .. } => "config.put-delivery-channel",
            Op::StartConfigurationRecorder { .. } => "config.start-configuration-recorder",
            Op::StopConfigurationRecorder { .. } => "config.stop-configuration-recorder",
            Op::DescribeConfigurationRecorder {} => "config.describe-configuration-recorder",
            Op::DescribeDeliveryChannel {} => "config.describe-delivery-channel",
        }
    }

    /// The fields its [`Record`] can have.
    pub fn outputs(&self) -> &'static [&'static str] {
        match self {
            Op::PutConfigurationRecorder { .. } | Op::PutDeliveryChannel { .. } => &["name"],
            Op::DescribeConfigurationRecorder {} => RECORDER_FIELDS,
            Op::DescribeDeliveryChannel {} => CHANNEL_FIELDS,
            Op::StartConfigurationRecorder { .. } | Op::StopConfigurationRecorder { .. } => &[],
        }
    }

    /// Whether it only reads (what checks may call).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Op::DescribeConfigurationRecorder {} | Op::DescribeDeliveryChannel {}
        )
    }

    /// Problems the call's fields have that their types do not catch.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let name = match self {
            Op::PutConfigurationRecorder { name, .. }
            | Op::PutDeliveryChannel { name, .. }
            | Op::StartConfigurationRecorder { name }
            | Op::StopConfigurationRecorder { name } => name.as_deref(),
            Op::DescribeConfigurationRecorder {} | Op::DescribeDeliveryChannel {} => None,
        };
        if let Some(name) = name
            && (name.trim().is_empty() || name.len() > MAX_NAME)
        {
            problems.push(format!(
                "`name` = `{name}`: a name has 1 to {MAX_NAME} characters"
            ));
        }
        match self {
            Op::PutConfigurationRecorder {
                role_arn,
                resource_types,
                include_global_resource_types,
                ..
            } => {
                // A placeholder (`{{setup.role.arn}}`) is checked once it is filled in, by AWS.
                if !role_arn.contains("{{")
                    && (!role_arn.starts_with("arn:") || !role_arn.contains(":role/"))
                {
                    problems.push(format!("`role-arn` = `{role_arn}`: not a role ARN"));
                }
                if let Some(types) = resource_types {
                    if types.is_empty() {
                        problems.push(
                            "`resource-types` is empty: leave it out to record all supported types"
                                .to_owned(),
                        );
                    }
                    if let Some(bad) = types.iter().find(|t| t.split("::").count() != 3) {
                        problems.push(format!(
                            "`resource-types`: `{bad}` is not written `AWS::Service::Type`"
                        ));
                    }
                    if include_global_resource_types == &Some(true) {
                        problems.push(
                            "`include-global-resource-types` goes only with all supported types \
                             (no `resource-types`)"
                                .to_owned(),
                        );
                    }
                }
            }
            Op::PutDeliveryChannel { s3_bucket_name, .. } if s3_bucket_name.trim().is_empty() => {
                problems.push("`s3-bucket-name` is empty".to_owned());
            }
            _ => {}
        }
        problems
    }

    /// Makes the call in `m`'s account (untimed: [`super::Op::run`] times it).
    pub async fn run(&self, m: &Member) -> Result<Record, String> {
        let failed = |e: &dyn std::error::Error| call_failed(self.call(), e);
        match self {
            Op::PutConfigurationRecorder {
                name,
                role_arn,
                resource_types,
                include_global_resource_types,
            } => {
                let name = name_or_default(name);
                let group = match resource_types {
                    Some(types) => RecordingGroup::builder()
                        .all_supported(false)
                        .include_global_resource_types(false)
                        .set_resource_types(Some(
                            types
                                .iter()
                                .map(|t| ResourceType::from(t.as_str()))
                                .collect(),
                        ))
                        .build(),
                    None => RecordingGroup::builder()
                        .all_supported(true)
                        .include_global_resource_types(
                            include_global_resource_types.unwrap_or(false),
                        )
                        .build(),
                };
                m.config
                    .put_configuration_recorder()
                    .configuration_recorder(
                        ConfigurationRecorder::builder()
                            .name(name)
                            .role_arn(role_arn)
                            .recording_group(group)
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::from([("name".to_owned(), json!(name))]))
            }
            Op::PutDeliveryChannel {
                name,
                s3_bucket_name,
                s3_key_prefix,
            } => {
                let name = name_or_default(name);
                m.config
                    .put_delivery_channel()
                    .delivery_channel(
                        DeliveryChannel::builder()
                            .name(name)
                            .s3_bucket_name(s3_bucket_name)
                            .set_s3_key_prefix(s3_key_prefix.clone())
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::from([("name".to_owned(), json!(name))]))
            }
            Op::StartConfigurationRecorder { name } => {
                m.config
                    .start_configuration_recorder()
                    .configuration_recorder_name(name_or_default(name))
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::StopConfigurationRecorder { name } => {
                m.config
                    .stop_configuration_recorder()
                    .configuration_recorder_name(name_or_default(name))
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(Record::new())
            }
            Op::DescribeConfigurationRecorder {} => {
                let recorders = m
                    .config
                    .describe_configuration_recorders()
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let recorder = recorders
                    .configuration_recorders()
                    .iter()
                    .find(|r| r.service_principal().is_none());
                let name = recorder.and_then(|r| r.name()).unwrap_or_default();
                let recording = if recorder.is_some() {
                    let status = m
                        .config
                        .describe_configuration_recorder_status()
                        .configuration_recorder_names(name)
                        .send()
                        .await
                        .map_err(|e| failed(&e))?;
                    status
                        .configuration_recorders_status()
                        .iter()
                        .any(|s| s.name() == Some(name) && s.recording())
                } else {
                    false
                };
                let group = recorder.and_then(|r| r.recording_group());
                let types: Vec<&str> = group
                    .map(|g| g.resource_types().iter().map(|t| t.as_str()).collect())
                    .unwrap_or_default();
                Ok(Record::from([
                    ("exists".to_owned(), json!(recorder.is_some())),
                    ("name".to_owned(), json!(name)),
                    (
                        "role-arn".to_owned(),
                        json!(recorder.and_then(|r| r.role_arn()).unwrap_or_default()),
                    ),
                    (
                        "all-supported".to_owned(),
                        json!(group.is_some_and(|g| g.all_supported())),
                    ),
                    (
                        "include-global-resource-types".to_owned(),
                        json!(group.is_some_and(|g| g.include_global_resource_types())),
                    ),
                    ("resource-types".to_owned(), json!(types)),
                    ("recording".to_owned(), json!(recording)),
                ]))
            }
            Op::DescribeDeliveryChannel {} => {
                let out = m
                    .config
                    .describe_delivery_channels()
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                let channel = out.delivery_channels().first();
                Ok(Record::from([
                    ("exists".to_owned(), json!(channel.is_some())),
                    (
                        "name".to_owned(),
                        json!(channel.and_then(|c| c.name()).unwrap_or_default()),
                    ),
                    (
                        "s3-bucket-name".to_owned(),
                        json!(channel.and_then(|c| c.s3_bucket_name()).unwrap_or_default()),
                    ),
                    (
                        "s3-key-prefix".to_owned(),
                        json!(channel.and_then(|c| c.s3_key_prefix()).unwrap_or_default()),
                    ),
                ]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_the_field() {
        let op = Op::PutConfigurationRecorder {
            name: Some(String::new()),
            role_arn: "AWSServiceRoleForConfig".into(),
            resource_types: Some(vec!["EC2 instance".into()]),
            include_global_resource_types: Some(true),
        };
        let problems = op.problems();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("`name`"));
        assert!(problems[1].contains("`role-arn`"));
        assert!(problems[2].contains("`resource-types`"));
        assert!(problems[3].contains("`include-global-resource-types`"));
        let ok = Op::PutConfigurationRecorder {
            name: None,
            role_arn: "arn:aws:iam::111111111111:role/config".into(),
            resource_types: Some(vec!["AWS::EC2::Instance".into()]),
            include_global_resource_types: None,
        };
        assert!(ok.problems().is_empty());
        let op = Op::PutDeliveryChannel {
            name: None,
            s3_bucket_name: " ".into(),
            s3_key_prefix: None,
        };
        assert!(op.problems()[0].contains("`s3-bucket-name`"));
    }
}
