//! `hubfix:plugin/cloudtrail`: CloudTrail trails of the finding's account and region.
//!
//! Trails are named by name or ARN. Every name, ARN, list and string a plugin passes is
//! checked here before it reaches the SDK (`invalid-input` naming the field); a mutating
//! call on a trail ARN of another account or partition, and a delivery role or log group
//! of another account, are refused as `access-denied` (and recorded as denials).
//! `TrailNotFoundException` is `not-found`.

use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector as SdkAdvanced, AdvancedFieldSelector, DataResource as SdkDataResource,
    EventSelector as SdkEventSelector, ReadWriteType, Trail as SdkTrail,
};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use hubfix_contract::{CLOUDTRAIL_TRAIL, HostFunction, IAM_ROLE, function};

use crate::aws::{AwsClients, CallError, PluginCtx, error_text, map_sdk_error};
use crate::bindings::cloudtrail::{
    AdvancedEventSelector, DataResource, EventSelector, EventSelectors, FieldSelector, Host,
    NewTrail, Trail, TrailStatus, TrailUpdate,
};
use crate::bindings::types::AwsError;

const DESCRIBE: &HostFunction = function("cloudtrail.describe-trails");
const GET: &HostFunction = function("cloudtrail.get-trail");
const STATUS: &HostFunction = function("cloudtrail.get-trail-status");
const UPDATE: &HostFunction = function("cloudtrail.update-trail");
const CREATE: &HostFunction = function("cloudtrail.create-trail");
const START: &HostFunction = function("cloudtrail.start-logging");
const GET_SELECTORS: &HostFunction = function("cloudtrail.get-event-selectors");
const PUT_SELECTORS: &HostFunction = function("cloudtrail.put-event-selectors");

/// Most basic event selectors a trail may have (AWS: five).
pub(crate) const MAX_BASIC_SELECTORS: usize = 5;
/// Most data-resource values across a trail's basic selectors (AWS: 250).
pub(crate) const MAX_DATA_RESOURCE_VALUES: usize = 250;
/// Most values across all conditions of a trail's advanced selectors (AWS: 500).
pub(crate) const MAX_ADVANCED_VALUES: usize = 500;
/// Longest value, field name or selector name accepted.
const MAX_VALUE_LEN: usize = 2048;
/// Longest S3 key prefix CloudTrail accepts.
const MAX_KEY_PREFIX: usize = 200;
/// Longest ARN or key id accepted.
const MAX_ARN_LEN: usize = 2048;

fn cloudtrail(aws: &AwsClients) -> aws_sdk_cloudtrail::Client {
    aws.client(aws_sdk_cloudtrail::Client::new)
}

fn invalid(function: &HostFunction, message: impl std::fmt::Display) -> CallError {
    AwsError::InvalidInput(format!("{}: {message}", function.name)).into()
}

/// CloudTrail's error codes, onto the contract's cases: unknown trails are `not-found`,
/// malformed or refused requests `invalid-input`, organization refusals `access-denied`.
fn map_error<E, R>(err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    let mapped = map_sdk_error(err);
    let text = error_text(&mapped);
    match code.as_deref() {
        Some("TrailNotFoundException") => AwsError::NotFound(text),
        Some(
            "InvalidTrailNameException"
            | "InvalidHomeRegionException"
            | "InvalidEventSelectorsException"
            | "InvalidParameterCombinationException"
            | "InvalidParameterException"
            | "InvalidS3BucketNameException"
            | "InvalidS3PrefixException"
            | "InvalidKmsKeyIdException"
            | "KmsKeyNotFoundException"
            | "KmsKeyDisabledException"
            | "InsufficientS3BucketPolicyException"
            | "InsufficientEncryptionPolicyException"
            | "S3BucketDoesNotExistException"
            | "InvalidCloudWatchLogsLogGroupArnException"
            | "InvalidCloudWatchLogsRoleArnException"
            | "TrailAlreadyExistsException"
            | "MaximumNumberOfTrailsExceededException"
            | "UnsupportedOperationException",
        ) => AwsError::InvalidInput(text),
        Some(
            "NotOrganizationMasterAccountException"
            | "OrganizationNotInAllFeaturesModeException"
            | "OrganizationsNotInUseException"
            | "OperationNotPermittedException"
            | "CloudTrailAccessNotEnabledException"
            | "InsufficientDependencyServiceAccessPermissionException"
            | "NoManagementAccountSLRExistsException",
        ) => AwsError::AccessDenied(text),
        _ => mapped,
    }
}

// ---------------------------------------------------------------------------------------
// Validation of what the plugin passes.

/// A trail name as CloudTrail accepts it: 3–128 characters of letters, digits, `.`, `_`
/// and `-`, starting and ending with a letter or digit, no two of `._-` adjacent, not an
/// IP address.
fn valid_trail_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    let punct = |b: &u8| matches!(b, b'.' | b'_' | b'-');
    (3..=128).contains(&bytes.len())
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || punct(b))
        && !bytes.windows(2).any(|w| punct(&w[0]) && punct(&w[1]))
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// A trail ARN's `(partition, account)`: `arn:P:cloudtrail:REGION:ACCOUNT:trail/NAME`.
fn trail_arn_parts(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("cloudtrail"), Some(region), Some(account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let name = parts.next()?.strip_prefix("trail/")?;
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let ok = token(partition)
        && token(region)
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && valid_trail_name(name);
    ok.then_some((partition, account))
}

/// A bucket name as S3 accepts it (3–63 of `a-z0-9.-`, starting and ending alphanumeric).
fn valid_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// Printable text without spaces, of 1 to `max` characters.
fn token_text(value: &str, max: usize) -> bool {
    !value.is_empty() && value.len() <= max && value.chars().all(|c| c.is_ascii_graphic())
}

/// Text of at most `max` characters with no control characters.
fn plain_text(value: &str, max: usize) -> bool {
    value.len() <= max && !value.chars().any(char::is_control)
}

impl PluginCtx {
    /// The finding's `(partition, account)`.
    fn own_partition_and_account(&self) -> (String, String) {
        (
            self.scope.partition().to_owned(),
            self.scope.account_id().to_owned(),
        )
    }

    /// Checks a trail name or ARN; for a mutating call, an ARN must name the finding's
    /// partition and account (`access-denied`, recorded, otherwise).
    fn check_trail(
        &mut self,
        function: &'static HostFunction,
        field: &str,
        name: &str,
    ) -> Result<(), CallError> {
        if name.starts_with("arn:") {
            let Some((partition, account)) = trail_arn_parts(name) else {
                return Err(invalid(
                    function,
                    format!(
                        "`{field}`: not a trail ARN (arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME)"
                    ),
                ));
            };
            let (own_partition, own_account) = self.own_partition_and_account();
            if function.is_mutating() && (partition != own_partition || account != own_account) {
                let reason = format!(
                    "{} on {name}: the trail belongs to account {account} ({partition}), not the finding's account {own_account}",
                    function.name
                );
                return Err(self.deny(function, Some(name), reason));
            }
            return Ok(());
        }
        if valid_trail_name(name) {
            Ok(())
        } else {
            Err(invalid(
                function,
                format!(
                    "`{field}` = `{}`: a trail name has 3-128 letters, digits, `.`, `_` or `-`, starts and ends with a letter or digit",
                    name.chars().take(140).collect::<String>()
                ),
            ))
        }
    }

    /// Checks a delivery role ARN: an IAM role of the finding's account and partition.
    fn check_role(&mut self, function: &'static HostFunction, arn: &str) -> Result<(), CallError> {
        let field = "update.cloud-watch-logs-role-arn";
        let valid = arn.len() <= MAX_ARN_LEN
            && {
                let mut parts = arn.splitn(6, ':');
                matches!(
                    (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
                    (Some("arn"), Some(p), Some("iam"), Some(""), Some(a), Some(rest))
                        if !p.is_empty() && a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
                            && rest.strip_prefix("role/").is_some_and(|n| !n.is_empty()
                                && n.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c)))
                )
            };
        if !valid {
            return Err(invalid(
                function,
                format!("`{field}`: not an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)"),
            ));
        }
        let own = IAM_ROLE.arn_of(
            &self.own_partition_and_account().0,
            "",
            self.scope.account_id(),
            "",
        );
        if arn.starts_with(&own) {
            return Ok(());
        }
        let reason = format!(
            "{}: `{field}` {arn} is not a role of the finding's account {} (roles start `{own}`)",
            function.name,
            self.scope.account_id()
        );
        Err(self.deny(function, Some(arn), reason))
    }

    /// Checks a CloudWatch Logs log group ARN of the finding's account and partition.
    fn check_log_group(
        &mut self,
        function: &'static HostFunction,
        arn: &str,
    ) -> Result<(), CallError> {
        let field = "update.cloud-watch-logs-log-group-arn";
        let mut parts = arn.splitn(7, ':');
        let parsed = match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (
                Some("arn"),
                Some(p),
                Some("logs"),
                Some(r),
                Some(a),
                Some("log-group"),
                Some(rest),
            ) if !p.is_empty()
                && !r.is_empty()
                && a.len() == 12
                && a.bytes().all(|b| b.is_ascii_digit())
                && token_text(rest, 512) =>
            {
                Some((p, a))
            }
            _ => None,
        };
        let Some((partition, account)) = parsed.filter(|_| arn.len() <= MAX_ARN_LEN) else {
            return Err(invalid(
                function,
                format!(
                    "`{field}`: not a log group ARN (arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME:*)"
                ),
            ));
        };
        let (own_partition, own_account) = self.own_partition_and_account();
        if partition == own_partition && account == own_account {
            return Ok(());
        }
        let reason = format!(
            "{}: `{field}` {arn} is not a log group of the finding's account {own_account}",
            function.name
        );
        Err(self.deny(function, Some(arn), reason))
    }

    /// The ARN of trail `name` (a name or an ARN) in the finding's account and region.
    fn trail_arn(&self, name: &str) -> String {
        if name.starts_with("arn:") {
            return name.to_owned();
        }
        self.scope.arn_of(&CLOUDTRAIL_TRAIL, name)
    }
}

fn check_kms_key(function: &HostFunction, field: &str, key: &str) -> Result<(), CallError> {
    if token_text(key, MAX_ARN_LEN) {
        Ok(())
    } else {
        Err(invalid(
            function,
            format!(
                "`{field}`: a KMS key id, alias or ARN of 1-2048 printable characters without spaces"
            ),
        ))
    }
}

/// Checks selectors against AWS's limits: one kind only, at most 5 basic selectors (250
/// data-resource values), advanced selectors with field conditions and at most 500
/// values in all.
fn check_selectors(function: &HostFunction, s: &EventSelectors) -> Result<(), CallError> {
    match (s.basic.is_empty(), s.advanced.is_empty()) {
        (false, false) => {
            return Err(invalid(
                function,
                "`selectors`: give basic or advanced selectors, not both (a trail uses one kind)",
            ));
        }
        (true, true) => {
            return Err(invalid(
                function,
                "`selectors`: no selectors given (basic or advanced)",
            ));
        }
        _ => {}
    }
    if s.basic.len() > MAX_BASIC_SELECTORS {
        return Err(invalid(
            function,
            format!(
                "`selectors.basic`: {} selectors; a trail has at most {MAX_BASIC_SELECTORS}",
                s.basic.len()
            ),
        ));
    }
    let mut data_values = 0usize;
    for (i, b) in s.basic.iter().enumerate() {
        if !matches!(b.read_write_type.as_str(), "ReadOnly" | "WriteOnly" | "All") {
            return Err(invalid(
                function,
                format!("`selectors.basic[{i}].read-write-type`: `ReadOnly`, `WriteOnly` or `All`"),
            ));
        }
        for (j, d) in b.data_resources.iter().enumerate() {
            if !token_text(&d.type_, 128) {
                return Err(invalid(
                    function,
                    format!(
                        "`selectors.basic[{i}].data-resources[{j}].type`: a resource type such as `AWS::S3::Object`"
                    ),
                ));
            }
            data_values += d.values.len();
            if d.values.iter().any(|v| !token_text(v, MAX_VALUE_LEN)) {
                return Err(invalid(
                    function,
                    format!(
                        "`selectors.basic[{i}].data-resources[{j}].values`: values of 1-{MAX_VALUE_LEN} printable characters"
                    ),
                ));
            }
        }
        if b.exclude_management_event_sources.len() > 10
            || b.exclude_management_event_sources
                .iter()
                .any(|v| !token_text(v, 256))
        {
            return Err(invalid(
                function,
                format!(
                    "`selectors.basic[{i}].exclude-management-event-sources`: at most 10 event sources such as `kms.amazonaws.com`"
                ),
            ));
        }
    }
    if data_values > MAX_DATA_RESOURCE_VALUES {
        return Err(invalid(
            function,
            format!(
                "`selectors.basic`: {data_values} data-resource values; a trail has at most {MAX_DATA_RESOURCE_VALUES}"
            ),
        ));
    }
    let mut values = 0usize;
    for (i, a) in s.advanced.iter().enumerate() {
        if a.name.as_deref().is_some_and(|n| !plain_text(n, 1000)) {
            return Err(invalid(
                function,
                format!(
                    "`selectors.advanced[{i}].name`: at most 1000 characters, no control characters"
                ),
            ));
        }
        if a.field_selectors.is_empty() {
            return Err(invalid(
                function,
                format!("`selectors.advanced[{i}].field-selectors`: at least one field condition"),
            ));
        }
        for (j, f) in a.field_selectors.iter().enumerate() {
            let at = format!("`selectors.advanced[{i}].field-selectors[{j}]`");
            if !token_text(&f.field, 1000) {
                return Err(invalid(
                    function,
                    format!("{at}.field: a field such as `eventCategory`"),
                ));
            }
            let lists = [
                &f.equals,
                &f.starts_with,
                &f.ends_with,
                &f.not_equals,
                &f.not_starts_with,
                &f.not_ends_with,
            ];
            let n: usize = lists.iter().map(|l| l.len()).sum();
            if n == 0 {
                return Err(invalid(
                    function,
                    format!("{at}: no condition values (equals, starts-with, …)"),
                ));
            }
            if lists
                .iter()
                .flat_map(|l| l.iter())
                .any(|v| v.is_empty() || !plain_text(v, MAX_VALUE_LEN))
            {
                return Err(invalid(
                    function,
                    format!("{at}: values of 1-{MAX_VALUE_LEN} characters, no control characters"),
                ));
            }
            values += n;
        }
    }
    if values > MAX_ADVANCED_VALUES {
        return Err(invalid(
            function,
            format!(
                "`selectors.advanced`: {values} condition values; a trail has at most {MAX_ADVANCED_VALUES}"
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Conversions.

fn some_if_any(values: Vec<String>) -> Option<Vec<String>> {
    (!values.is_empty()).then_some(values)
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

fn trail_of(t: SdkTrail) -> Trail {
    Trail {
        name: t.name.unwrap_or_default(),
        trail_arn: t.trail_arn.unwrap_or_default(),
        home_region: t.home_region.unwrap_or_default(),
        s3_bucket_name: non_empty(t.s3_bucket_name),
        s3_key_prefix: non_empty(t.s3_key_prefix),
        is_multi_region_trail: t.is_multi_region_trail.unwrap_or(false),
        is_organization_trail: t.is_organization_trail.unwrap_or(false),
        include_global_service_events: t.include_global_service_events.unwrap_or(false),
        log_file_validation_enabled: t.log_file_validation_enabled.unwrap_or(false),
        kms_key_id: non_empty(t.kms_key_id),
        cloud_watch_logs_log_group_arn: non_empty(t.cloud_watch_logs_log_group_arn),
        cloud_watch_logs_role_arn: non_empty(t.cloud_watch_logs_role_arn),
        has_custom_event_selectors: t.has_custom_event_selectors.unwrap_or(false),
    }
}

fn selectors_of(basic: Vec<SdkEventSelector>, advanced: Vec<SdkAdvanced>) -> EventSelectors {
    EventSelectors {
        basic: basic
            .into_iter()
            .map(|s| EventSelector {
                read_write_type: s
                    .read_write_type
                    .map_or_else(|| "All".to_owned(), |t| t.as_str().to_owned()),
                include_management_events: s.include_management_events.unwrap_or(true),
                data_resources: s
                    .data_resources
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| DataResource {
                        type_: d.r#type.unwrap_or_default(),
                        values: d.values.unwrap_or_default(),
                    })
                    .collect(),
                exclude_management_event_sources: s
                    .exclude_management_event_sources
                    .unwrap_or_default(),
            })
            .collect(),
        advanced: advanced
            .into_iter()
            .map(|a| AdvancedEventSelector {
                name: non_empty(a.name),
                field_selectors: a
                    .field_selectors
                    .into_iter()
                    .map(|f| FieldSelector {
                        field: f.field,
                        equals: f.equals.unwrap_or_default(),
                        starts_with: f.starts_with.unwrap_or_default(),
                        ends_with: f.ends_with.unwrap_or_default(),
                        not_equals: f.not_equals.unwrap_or_default(),
                        not_starts_with: f.not_starts_with.unwrap_or_default(),
                        not_ends_with: f.not_ends_with.unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn sdk_basic(s: &EventSelector) -> SdkEventSelector {
    SdkEventSelector::builder()
        .read_write_type(ReadWriteType::from(s.read_write_type.as_str()))
        .include_management_events(s.include_management_events)
        .set_data_resources(Some(
            s.data_resources
                .iter()
                .map(|d| {
                    SdkDataResource::builder()
                        .r#type(&d.type_)
                        .set_values(Some(d.values.clone()))
                        .build()
                })
                .collect(),
        ))
        .set_exclude_management_event_sources(some_if_any(
            s.exclude_management_event_sources.clone(),
        ))
        .build()
}

fn sdk_advanced(a: &AdvancedEventSelector) -> Result<SdkAdvanced, AwsError> {
    let fields = a
        .field_selectors
        .iter()
        .map(|f| {
            AdvancedFieldSelector::builder()
                .field(&f.field)
                .set_equals(some_if_any(f.equals.clone()))
                .set_starts_with(some_if_any(f.starts_with.clone()))
                .set_ends_with(some_if_any(f.ends_with.clone()))
                .set_not_equals(some_if_any(f.not_equals.clone()))
                .set_not_starts_with(some_if_any(f.not_starts_with.clone()))
                .set_not_ends_with(some_if_any(f.not_ends_with.clone()))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AwsError::InvalidInput(e.to_string()))?;
    SdkAdvanced::builder()
        .set_name(a.name.clone())
        .set_field_selectors(Some(fields))
        .build()
        .map_err(|e| AwsError::InvalidInput(e.to_string()))
}

/// The trail an update leaves, as far as the request says (plan mode answers with it).
fn planned_update(arn: String, name: &str, region: &str, u: &TrailUpdate) -> Trail {
    Trail {
        name: hubfix_contract::short_id(name).to_owned(),
        trail_arn: arn,
        home_region: region.to_owned(),
        s3_bucket_name: None,
        s3_key_prefix: None,
        is_multi_region_trail: u.is_multi_region_trail.unwrap_or(false),
        is_organization_trail: false,
        include_global_service_events: u.include_global_service_events.unwrap_or(false),
        log_file_validation_enabled: u.enable_log_file_validation.unwrap_or(false),
        kms_key_id: u.kms_key_id.clone(),
        cloud_watch_logs_log_group_arn: u.cloud_watch_logs_log_group_arn.clone(),
        cloud_watch_logs_role_arn: u.cloud_watch_logs_role_arn.clone(),
        has_custom_event_selectors: false,
    }
}

impl Host for PluginCtx {
    async fn describe_trails(&mut self) -> Result<Vec<Trail>, CallError> {
        self.enter(const { function("cloudtrail.describe-trails") })?;
        self.call(DESCRIBE, None, |aws| async move {
            let out = cloudtrail(&aws)
                .describe_trails()
                .include_shadow_trails(true)
                .send()
                .await
                .map_err(map_error)?;
            Ok(out
                .trail_list
                .unwrap_or_default()
                .into_iter()
                .map(trail_of)
                .collect())
        })
        .await
    }

    async fn get_trail(&mut self, name: String) -> Result<Trail, CallError> {
        self.enter(const { function("cloudtrail.get-trail") })?;
        self.check_trail(GET, "name", &name)?;
        let resource = name.clone();
        let found: Option<Trail> = self
            .call(GET, Some(&resource), |aws| async move {
                let out = cloudtrail(&aws)
                    .get_trail()
                    .name(&name)
                    .send()
                    .await
                    .map_err(map_error)?;
                match out.trail {
                    Some(trail) => Ok(Some(trail_of(trail))),
                    None => Err(AwsError::NotFound(format!("no trail {name}"))),
                }
            })
            .await?;
        found.ok_or_else(|| AwsError::NotFound(format!("no trail {resource}")).into())
    }

    async fn get_trail_status(&mut self, name: String) -> Result<TrailStatus, CallError> {
        self.enter(const { function("cloudtrail.get-trail-status") })?;
        self.check_trail(STATUS, "name", &name)?;
        let resource = name.clone();
        let status: Option<TrailStatus> = self
            .call(STATUS, Some(&resource), |aws| async move {
                let out = cloudtrail(&aws)
                    .get_trail_status()
                    .name(name)
                    .send()
                    .await
                    .map_err(map_error)?;
                Ok(Some(TrailStatus {
                    is_logging: out.is_logging.unwrap_or(false),
                    latest_delivery_error: non_empty(out.latest_delivery_error),
                    latest_cloud_watch_logs_delivery_error: non_empty(
                        out.latest_cloud_watch_logs_delivery_error,
                    ),
                }))
            })
            .await?;
        status.ok_or_else(|| AwsError::NotFound(format!("no trail {resource}")).into())
    }

    async fn update_trail(
        &mut self,
        name: String,
        update: TrailUpdate,
    ) -> Result<Trail, CallError> {
        self.enter(const { function("cloudtrail.update-trail") })?;
        self.check_trail(UPDATE, "name", &name)?;
        let TrailUpdate {
            enable_log_file_validation,
            kms_key_id,
            cloud_watch_logs_log_group_arn,
            cloud_watch_logs_role_arn,
            is_multi_region_trail,
            include_global_service_events,
        } = &update;
        if enable_log_file_validation.is_none()
            && kms_key_id.is_none()
            && cloud_watch_logs_log_group_arn.is_none()
            && cloud_watch_logs_role_arn.is_none()
            && is_multi_region_trail.is_none()
            && include_global_service_events.is_none()
        {
            return Err(invalid(UPDATE, "`update`: nothing to change"));
        }
        if let Some(key) = kms_key_id {
            check_kms_key(UPDATE, "update.kms-key-id", key)?;
        }
        match (cloud_watch_logs_log_group_arn, cloud_watch_logs_role_arn) {
            (Some(group), Some(role)) => {
                self.check_log_group(UPDATE, group)?;
                self.check_role(UPDATE, role)?;
            }
            (None, None) => {}
            _ => {
                return Err(invalid(
                    UPDATE,
                    "`update.cloud-watch-logs-log-group-arn` and `update.cloud-watch-logs-role-arn` are set together",
                ));
            }
        }
        if *is_multi_region_trail == Some(true) && *include_global_service_events == Some(false) {
            return Err(invalid(
                UPDATE,
                "`update`: a multi-Region trail must include global service events",
            ));
        }
        let planned = planned_update(self.trail_arn(&name), &name, self.scope.region(), &update);
        let region = self.scope.region().to_owned();
        let resource = name.clone();
        let updated: Option<Trail> = self
            .call(UPDATE, Some(&resource), |aws| async move {
                let out = cloudtrail(&aws)
                    .update_trail()
                    .name(name)
                    .set_enable_log_file_validation(update.enable_log_file_validation)
                    .set_kms_key_id(update.kms_key_id)
                    .set_cloud_watch_logs_log_group_arn(update.cloud_watch_logs_log_group_arn)
                    .set_cloud_watch_logs_role_arn(update.cloud_watch_logs_role_arn)
                    .set_is_multi_region_trail(update.is_multi_region_trail)
                    .set_include_global_service_events(update.include_global_service_events)
                    .send()
                    .await
                    .map_err(map_error)?;
                // UpdateTrail is made in the trail's home region and does not report
                // whether the trail has custom event selectors.
                Ok(Some(Trail {
                    name: out.name.unwrap_or_default(),
                    trail_arn: out.trail_arn.unwrap_or_default(),
                    home_region: region,
                    s3_bucket_name: non_empty(out.s3_bucket_name),
                    s3_key_prefix: non_empty(out.s3_key_prefix),
                    is_multi_region_trail: out.is_multi_region_trail.unwrap_or(false),
                    is_organization_trail: out.is_organization_trail.unwrap_or(false),
                    include_global_service_events: out
                        .include_global_service_events
                        .unwrap_or(false),
                    log_file_validation_enabled: out.log_file_validation_enabled.unwrap_or(false),
                    kms_key_id: non_empty(out.kms_key_id),
                    cloud_watch_logs_log_group_arn: non_empty(out.cloud_watch_logs_log_group_arn),
                    cloud_watch_logs_role_arn: non_empty(out.cloud_watch_logs_role_arn),
                    has_custom_event_selectors: false,
                }))
            })
            .await?;
        Ok(updated.unwrap_or(planned))
    }

    async fn create_trail(&mut self, trail: NewTrail) -> Result<Trail, CallError> {
        self.enter(const { function("cloudtrail.create-trail") })?;
        if !valid_trail_name(&trail.name) {
            return Err(invalid(
                CREATE,
                "`trail.name`: 3-128 letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit",
            ));
        }
        if !valid_bucket_name(&trail.s3_bucket_name) {
            return Err(invalid(
                CREATE,
                "`trail.s3-bucket-name`: a bucket name (3-63 of a-z, 0-9, `.`, `-`)",
            ));
        }
        if trail
            .s3_key_prefix
            .as_deref()
            .is_some_and(|p| p.is_empty() || !plain_text(p, MAX_KEY_PREFIX))
        {
            return Err(invalid(
                CREATE,
                format!(
                    "`trail.s3-key-prefix`: 1-{MAX_KEY_PREFIX} characters, no control characters"
                ),
            ));
        }
        if let Some(key) = &trail.kms_key_id {
            check_kms_key(CREATE, "trail.kms-key-id", key)?;
        }
        if trail.is_multi_region_trail && !trail.include_global_service_events {
            return Err(invalid(
                CREATE,
                "`trail`: a multi-Region trail must include global service events",
            ));
        }
        let planned = Trail {
            name: trail.name.clone(),
            trail_arn: self.trail_arn(&trail.name),
            home_region: self.scope.region().to_owned(),
            s3_bucket_name: Some(trail.s3_bucket_name.clone()),
            s3_key_prefix: trail.s3_key_prefix.clone(),
            is_multi_region_trail: trail.is_multi_region_trail,
            is_organization_trail: false,
            include_global_service_events: trail.include_global_service_events,
            log_file_validation_enabled: trail.enable_log_file_validation,
            kms_key_id: trail.kms_key_id.clone(),
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
            has_custom_event_selectors: false,
        };
        let region = self.scope.region().to_owned();
        let resource = trail.name.clone();
        let created: Option<Trail> = self
            .call(CREATE, Some(&resource), |aws| async move {
                let out = cloudtrail(&aws)
                    .create_trail()
                    .name(trail.name)
                    .s3_bucket_name(trail.s3_bucket_name)
                    .set_s3_key_prefix(trail.s3_key_prefix)
                    .is_multi_region_trail(trail.is_multi_region_trail)
                    .include_global_service_events(trail.include_global_service_events)
                    .enable_log_file_validation(trail.enable_log_file_validation)
                    .set_kms_key_id(trail.kms_key_id)
                    .send()
                    .await
                    .map_err(map_error)?;
                // A new trail lives in the region it was created in, with the default
                // selectors (all management events).
                Ok(Some(Trail {
                    name: out.name.unwrap_or_default(),
                    trail_arn: out.trail_arn.unwrap_or_default(),
                    home_region: region,
                    s3_bucket_name: non_empty(out.s3_bucket_name),
                    s3_key_prefix: non_empty(out.s3_key_prefix),
                    is_multi_region_trail: out.is_multi_region_trail.unwrap_or(false),
                    is_organization_trail: out.is_organization_trail.unwrap_or(false),
                    include_global_service_events: out
                        .include_global_service_events
                        .unwrap_or(false),
                    log_file_validation_enabled: out.log_file_validation_enabled.unwrap_or(false),
                    kms_key_id: non_empty(out.kms_key_id),
                    cloud_watch_logs_log_group_arn: non_empty(out.cloud_watch_logs_log_group_arn),
                    cloud_watch_logs_role_arn: non_empty(out.cloud_watch_logs_role_arn),
                    has_custom_event_selectors: false,
                }))
            })
            .await?;
        Ok(created.unwrap_or(planned))
    }

    async fn start_logging(&mut self, name: String) -> Result<(), CallError> {
        self.enter(const { function("cloudtrail.start-logging") })?;
        self.check_trail(START, "name", &name)?;
        let resource = name.clone();
        self.call(START, Some(&resource), |aws| async move {
            cloudtrail(&aws)
                .start_logging()
                .name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(map_error)
        })
        .await
    }

    async fn get_event_selectors(&mut self, name: String) -> Result<EventSelectors, CallError> {
        self.enter(const { function("cloudtrail.get-event-selectors") })?;
        self.check_trail(GET_SELECTORS, "name", &name)?;
        let resource = name.clone();
        let selectors: Option<EventSelectors> = self
            .call(GET_SELECTORS, Some(&resource), |aws| async move {
                let out = cloudtrail(&aws)
                    .get_event_selectors()
                    .trail_name(name)
                    .send()
                    .await
                    .map_err(map_error)?;
                Ok(Some(selectors_of(
                    out.event_selectors.unwrap_or_default(),
                    out.advanced_event_selectors.unwrap_or_default(),
                )))
            })
            .await?;
        selectors.ok_or_else(|| AwsError::NotFound(format!("no trail {resource}")).into())
    }

    async fn put_event_selectors(
        &mut self,
        name: String,
        selectors: EventSelectors,
    ) -> Result<EventSelectors, CallError> {
        self.enter(const { function("cloudtrail.put-event-selectors") })?;
        self.check_trail(PUT_SELECTORS, "name", &name)?;
        check_selectors(PUT_SELECTORS, &selectors)?;
        let basic: Vec<SdkEventSelector> = selectors.basic.iter().map(sdk_basic).collect();
        let advanced = selectors
            .advanced
            .iter()
            .map(sdk_advanced)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(PUT_SELECTORS, error_text(&e)))?;
        let resource = name.clone();
        let stored: Option<EventSelectors> = self
            .call(PUT_SELECTORS, Some(&resource), |aws| async move {
                let request = cloudtrail(&aws).put_event_selectors().trail_name(name);
                let request = if basic.is_empty() {
                    request.set_advanced_event_selectors(Some(advanced))
                } else {
                    request.set_event_selectors(Some(basic))
                };
                let out = request.send().await.map_err(map_error)?;
                Ok(Some(selectors_of(
                    out.event_selectors.unwrap_or_default(),
                    out.advanced_event_selectors.unwrap_or_default(),
                )))
            })
            .await?;
        Ok(stored.unwrap_or(selectors))
    }
}

#[cfg(test)]
mod tests {
    use crate::aws::mock_tests::mock_ctx;

    use aws_sdk_cloudtrail::operation::create_trail::CreateTrailOutput;
    use aws_sdk_cloudtrail::operation::describe_trails::DescribeTrailsOutput;
    use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
    use aws_sdk_cloudtrail::operation::get_trail::GetTrailError;
    use aws_sdk_cloudtrail::operation::get_trail_status::{
        GetTrailStatusError, GetTrailStatusOutput,
    };
    use aws_sdk_cloudtrail::operation::put_event_selectors::PutEventSelectorsOutput;
    use aws_sdk_cloudtrail::operation::start_logging::StartLoggingOutput;
    use aws_sdk_cloudtrail::operation::update_trail::{UpdateTrailError, UpdateTrailOutput};
    use aws_sdk_cloudtrail::types::error::TrailNotFoundException;
    use aws_smithy_types::error::ErrorMetadata;
    use hubfix_mocks::{Rule, RuleMode, mock, mock_client};

    use serde_json::{Value, json};

    use super::*;

    use crate::bindings::types::Mode;

    use crate::outcome::CallResult;

    const ACCOUNT: &str = "111111111111";
    const TRAIL_ARN: &str = "arn:aws:cloudtrail:us-east-1:111111111111:trail/main";

    const ALL: &[&str] = &[
        "cloudtrail.describe-trails",
        "cloudtrail.get-trail",
        "cloudtrail.get-trail-status",
        "cloudtrail.update-trail",
        "cloudtrail.create-trail",
        "cloudtrail.start-logging",
        "cloudtrail.get-event-selectors",
        "cloudtrail.put-event-selectors",
    ];

    fn ctx(resources: Value, rules: &[&Rule], mode: Mode) -> PluginCtx {
        mock_ctx(
            "us-east-1",
            resources,
            mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, rules),
            ALL,
            mode,
            50,
        )
    }

    fn trail_finding() -> Value {
        json!([{"Type": "AwsCloudTrailTrail", "Id": TRAIL_ARN}])
    }

    fn account_finding() -> Value {
        json!([{"Type": "AwsAccount", "Id": format!("AWS::::Account:{ACCOUNT}")}])
    }

    fn denied(err: CallError, needle: &str) -> bool {
        matches!(err, CallError::Aws(AwsError::AccessDenied(ref m)) if m.contains(needle))
    }

    fn invalid_input(err: &CallError, needle: &str) -> bool {
        matches!(err, CallError::Aws(AwsError::InvalidInput(m)) if m.contains(needle))
    }

    #[tokio::test]
    async fn describe_trails_asks_for_shadow_trails_and_maps_every_field() {
        let describe = mock!(aws_sdk_cloudtrail::Client::describe_trails)
            .match_requests(|r| r.include_shadow_trails() == Some(true))
            .then_output(|| {
                DescribeTrailsOutput::builder()
                    .trail_list(
                        SdkTrail::builder()
                            .name("org")
                            .trail_arn("arn:aws:cloudtrail:eu-west-1:999999999999:trail/org")
                            .home_region("eu-west-1")
                            .s3_bucket_name("org-logs")
                            .s3_key_prefix("")
                            .is_multi_region_trail(true)
                            .is_organization_trail(true)
                            .include_global_service_events(true)
                            .log_file_validation_enabled(true)
                            .kms_key_id("arn:aws:kms:eu-west-1:999999999999:key/k")
                            .has_custom_event_selectors(true)
                            .build(),
                    )
                    .trail_list(SdkTrail::builder().name("bare").build())
                    .build()
            });
        let mut ctx = ctx(account_finding(), &[&describe], Mode::Apply);
        let trails = ctx.describe_trails().await.unwrap();
        assert_eq!(describe.num_calls(), 1);
        assert_eq!(trails.len(), 2);
        let org = &trails[0];
        assert_eq!(org.name, "org");
        assert_eq!(org.home_region, "eu-west-1");
        assert_eq!(org.s3_bucket_name.as_deref(), Some("org-logs"));
        assert_eq!(org.s3_key_prefix, None, "an empty prefix is no prefix");
        assert!(org.is_multi_region_trail && org.is_organization_trail);
        assert!(org.include_global_service_events && org.log_file_validation_enabled);
        assert!(org.has_custom_event_selectors);
        assert_eq!(org.cloud_watch_logs_role_arn, None);
        let bare = &trails[1];
        assert!(!bare.is_multi_region_trail && !bare.log_file_validation_enabled);
    }

    #[tokio::test]
    async fn unknown_trails_are_not_found() {
        let get = mock!(aws_sdk_cloudtrail::Client::get_trail).then_error(|| {
            GetTrailError::TrailNotFoundException(
                TrailNotFoundException::builder()
                    .message("Unknown trail: gone")
                    // What the SDK's deserializer sets on a modeled error.
                    .meta(
                        ErrorMetadata::builder()
                            .code("TrailNotFoundException")
                            .message("Unknown trail: gone")
                            .build(),
                    )
                    .build(),
            )
        });
        let status = mock!(aws_sdk_cloudtrail::Client::get_trail_status).then_error(|| {
            GetTrailStatusError::generic(
                ErrorMetadata::builder()
                    .code("TrailNotFoundException")
                    .message("Unknown trail")
                    .build(),
            )
        });
        let update = mock!(aws_sdk_cloudtrail::Client::update_trail).then_error(|| {
            UpdateTrailError::generic(
                ErrorMetadata::builder()
                    .code("InvalidHomeRegionException")
                    .message("not the home region")
                    .build(),
            )
        });
        let mut ctx = ctx(trail_finding(), &[&get, &status, &update], Mode::Apply);
        let err = ctx.get_trail("gone".into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(ref m)) if m.starts_with("GetTrail: TrailNotFoundException")),
            "{err:?}"
        );
        let err = ctx.get_trail_status(TRAIL_ARN.into()).await.unwrap_err();
        assert!(
            matches!(err, CallError::Aws(AwsError::NotFound(_))),
            "{err:?}"
        );
        let update_req = TrailUpdate {
            enable_log_file_validation: Some(true),
            kms_key_id: None,
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
            is_multi_region_trail: None,
            include_global_service_events: None,
        };
        let err = ctx
            .update_trail("main".into(), update_req)
            .await
            .unwrap_err();
        assert!(invalid_input(&err, "InvalidHomeRegionException"), "{err:?}");
        let trail = ctx.into_trail();
        assert_eq!(trail.calls.len(), 3);
        assert!(trail.calls.iter().all(|c| c.result == CallResult::Error));
    }

    fn validation_on() -> TrailUpdate {
        TrailUpdate {
            enable_log_file_validation: Some(true),
            kms_key_id: None,
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
            is_multi_region_trail: None,
            include_global_service_events: None,
        }
    }

    #[tokio::test]
    async fn update_trail_sends_only_what_changes_on_the_findings_trail() {
        let update = mock!(aws_sdk_cloudtrail::Client::update_trail)
            .match_requests(|r| {
                r.name() == Some(TRAIL_ARN)
                    && r.enable_log_file_validation() == Some(true)
                    && r.kms_key_id().is_none()
                    && r.is_multi_region_trail().is_none()
                    && r.cloud_watch_logs_role_arn().is_none()
            })
            .then_output(|| {
                UpdateTrailOutput::builder()
                    .name("main")
                    .trail_arn(TRAIL_ARN)
                    .s3_bucket_name("logs")
                    .log_file_validation_enabled(true)
                    .is_multi_region_trail(true)
                    .build()
            });
        let mut ctx = ctx(trail_finding(), &[&update], Mode::Apply);
        let trail = ctx
            .update_trail(TRAIL_ARN.into(), validation_on())
            .await
            .unwrap();
        assert_eq!(update.num_calls(), 1);
        assert_eq!(trail.name, "main");
        assert_eq!(trail.home_region, "us-east-1");
        assert!(trail.log_file_validation_enabled && trail.is_multi_region_trail);
        assert_eq!(trail.s3_bucket_name.as_deref(), Some("logs"));
        let calls = ctx.into_trail().calls;
        assert_eq!(calls[0].operation, "UpdateTrail");
        assert_eq!(calls[0].resource.as_deref(), Some(TRAIL_ARN));
        assert!(calls[0].mutating);
    }

    #[tokio::test]
    async fn updates_outside_the_finding_or_the_account_never_reach_the_sdk() {
        let update = mock!(aws_sdk_cloudtrail::Client::update_trail)
            .then_output(|| UpdateTrailOutput::builder().build());
        let mut ctx = ctx(trail_finding(), &[&update], Mode::Apply);
        // Another trail than the finding's.
        let err = ctx
            .update_trail("other".into(), validation_on())
            .await
            .unwrap_err();
        assert!(denied(err, "other"));
        // The finding's trail name, in another account's ARN.
        let foreign = "arn:aws:cloudtrail:us-east-1:222222222222:trail/main";
        let err = ctx
            .update_trail(foreign.into(), validation_on())
            .await
            .unwrap_err();
        assert!(denied(err, "222222222222"));
        // A delivery role of another account, and one of another partition.
        let mut with_role = validation_on();
        with_role.cloud_watch_logs_log_group_arn =
            Some("arn:aws:logs:us-east-1:111111111111:log-group:trail:*".into());
        for role in [
            "arn:aws:iam::222222222222:role/Delivery",
            "arn:aws-cn:iam::111111111111:role/Delivery",
        ] {
            with_role.cloud_watch_logs_role_arn = Some(role.into());
            let err = ctx
                .update_trail("main".into(), with_role.clone())
                .await
                .unwrap_err();
            assert!(
                denied(err, "is not a role of the finding's account"),
                "{role}"
            );
        }
        // Malformed input: named, and not sent.
        with_role.cloud_watch_logs_role_arn = Some("Delivery".into());
        let err = ctx
            .update_trail("main".into(), with_role.clone())
            .await
            .unwrap_err();
        assert!(invalid_input(&err, "cloud-watch-logs-role-arn"), "{err:?}");
        with_role.cloud_watch_logs_role_arn = None;
        let err = ctx
            .update_trail("main".into(), with_role)
            .await
            .unwrap_err();
        assert!(invalid_input(&err, "set together"), "{err:?}");
        let nothing = TrailUpdate {
            enable_log_file_validation: None,
            ..validation_on()
        };
        let err = ctx.update_trail("main".into(), nothing).await.unwrap_err();
        assert!(invalid_input(&err, "nothing to change"), "{err:?}");
        for bad in [
            "a",
            "-main",
            "ma..in",
            "192.168.0.1",
            "arn:aws:cloudtrail:x",
        ] {
            let err = ctx
                .update_trail(bad.into(), validation_on())
                .await
                .unwrap_err();
            assert!(invalid_input(&err, "`name`"), "{bad}: {err:?}");
        }
        assert_eq!(update.num_calls(), 0);
        let trail = ctx.into_trail();
        assert_eq!(trail.denials.len(), 4, "{:?}", trail.denials);
        // An account finding does not let update-trail touch an unnamed trail either.
        let mut account = self::ctx(account_finding(), &[&update], Mode::Apply);
        let err = account
            .update_trail("main".into(), validation_on())
            .await
            .unwrap_err();
        assert!(denied(err, "AwsCloudTrailTrail"));
        assert_eq!(update.num_calls(), 0);
    }

    #[tokio::test]
    async fn configure_calls_reach_any_trail_only_when_the_finding_names_the_account() {
        let start = mock!(aws_sdk_cloudtrail::Client::start_logging)
            .match_requests(|r| r.name() == Some("org-wide"))
            .then_output(|| StartLoggingOutput::builder().build());
        let mut account = ctx(account_finding(), &[&start], Mode::Apply);
        account.start_logging("org-wide".into()).await.unwrap();
        assert_eq!(start.num_calls(), 1);
        // Even then, not a trail ARN of another account.
        let err = account
            .start_logging("arn:aws:cloudtrail:us-east-1:999999999999:trail/org-wide".into())
            .await
            .unwrap_err();
        assert!(denied(err, "999999999999"));

        let mut trail = ctx(trail_finding(), &[&start], Mode::Apply);
        let err = trail.start_logging("org-wide".into()).await.unwrap_err();
        assert!(denied(err, "org-wide"));
        assert_eq!(start.num_calls(), 1);
    }

    fn s3_write_events() -> AdvancedEventSelector {
        let field = |name: &str, equals: &[&str]| FieldSelector {
            field: name.into(),
            equals: equals.iter().map(|v| (*v).to_owned()).collect(),
            starts_with: vec![],
            ends_with: vec![],
            not_equals: vec![],
            not_starts_with: vec![],
            not_ends_with: vec![],
        };
        AdvancedEventSelector {
            name: Some("S3 writes".into()),
            field_selectors: vec![
                field("eventCategory", &["Data"]),
                field("resources.type", &["AWS::S3::Object"]),
                field("readOnly", &["false"]),
            ],
        }
    }

    fn management() -> EventSelector {
        EventSelector {
            read_write_type: "All".into(),
            include_management_events: true,
            data_resources: vec![],
            exclude_management_event_sources: vec![],
        }
    }

    #[tokio::test]
    async fn put_event_selectors_checks_aws_limits_before_the_sdk() {
        let put = mock!(aws_sdk_cloudtrail::Client::put_event_selectors)
            .then_output(|| PutEventSelectorsOutput::builder().build());
        let mut ctx = ctx(account_finding(), &[&put], Mode::Apply);
        let both = EventSelectors {
            basic: vec![management()],
            advanced: vec![s3_write_events()],
        };
        let err = ctx
            .put_event_selectors("main".into(), both)
            .await
            .unwrap_err();
        assert!(invalid_input(&err, "not both"), "{err:?}");
        let none = EventSelectors {
            basic: vec![],
            advanced: vec![],
        };
        let err = ctx
            .put_event_selectors("main".into(), none)
            .await
            .unwrap_err();
        assert!(invalid_input(&err, "no selectors"), "{err:?}");
        let six = EventSelectors {
            basic: vec![management(); 6],
            advanced: vec![],
        };
        let err = ctx
            .put_event_selectors("main".into(), six)
            .await
            .unwrap_err();
        assert!(invalid_input(&err, "at most 5"), "{err:?}");
        let mut many = s3_write_events();
        many.field_selectors[1].equals = (0..500).map(|i| format!("v{i}")).collect();
        let err = ctx
            .put_event_selectors(
                "main".into(),
                EventSelectors {
                    basic: vec![],
                    advanced: vec![many],
                },
            )
            .await
            .unwrap_err();
        assert!(invalid_input(&err, "502 condition values"), "{err:?}");
        let mut data = management();
        data.data_resources = vec![DataResource {
            type_: "AWS::S3::Object".into(),
            values: (0..251).map(|i| format!("arn:aws:s3:::b{i}/")).collect(),
        }];
        let err = ctx
            .put_event_selectors(
                "main".into(),
                EventSelectors {
                    basic: vec![data],
                    advanced: vec![],
                },
            )
            .await
            .unwrap_err();
        assert!(invalid_input(&err, "251 data-resource values"), "{err:?}");
        let mut rw = management();
        rw.read_write_type = "Everything".into();
        let err = ctx
            .put_event_selectors(
                "main".into(),
                EventSelectors {
                    basic: vec![rw],
                    advanced: vec![],
                },
            )
            .await
            .unwrap_err();
        assert!(invalid_input(&err, "read-write-type"), "{err:?}");
        let mut empty = s3_write_events();
        empty.field_selectors[0].equals.clear();
        let err = ctx
            .put_event_selectors(
                "main".into(),
                EventSelectors {
                    basic: vec![],
                    advanced: vec![empty],
                },
            )
            .await
            .unwrap_err();
        assert!(invalid_input(&err, "field-selectors[0]"), "{err:?}");
        assert_eq!(put.num_calls(), 0);
    }

    #[tokio::test]
    async fn put_event_selectors_sends_one_kind_and_maps_what_aws_stored() {
        let put = mock!(aws_sdk_cloudtrail::Client::put_event_selectors)
            .match_requests(|r| {
                r.trail_name() == Some("main")
                    && r.event_selectors.is_none()
                    && r.advanced_event_selectors.as_deref().is_some_and(|a| {
                        a.len() == 1
                            && a[0].name() == Some("S3 writes")
                            && a[0].field_selectors().len() == 3
                            && a[0].field_selectors()[2].field() == "readOnly"
                            && a[0].field_selectors()[2].equals() == ["false"]
                            && a[0].field_selectors()[2].starts_with.is_none()
                    })
            })
            .then_output(|| {
                PutEventSelectorsOutput::builder()
                    .advanced_event_selectors(
                        SdkAdvanced::builder()
                            .name("S3 writes")
                            .field_selectors(
                                AdvancedFieldSelector::builder()
                                    .field("eventCategory")
                                    .equals("Data")
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build()
            });
        let basic = mock!(aws_sdk_cloudtrail::Client::put_event_selectors)
            .match_requests(|r| {
                r.advanced_event_selectors.is_none()
                    && r.event_selectors.as_deref().is_some_and(|s| {
                        s.len() == 1
                            && s[0].read_write_type() == Some(&ReadWriteType::WriteOnly)
                            && s[0].include_management_events() == Some(false)
                            && s[0].data_resources()[0].values() == ["arn:aws:s3"]
                    })
            })
            .then_output(|| PutEventSelectorsOutput::builder().build());
        let mut ctx = ctx(account_finding(), &[&put, &basic], Mode::Apply);
        let stored = ctx
            .put_event_selectors(
                "main".into(),
                EventSelectors {
                    basic: vec![],
                    advanced: vec![s3_write_events()],
                },
            )
            .await
            .unwrap();
        assert_eq!(put.num_calls(), 1);
        assert_eq!(stored.advanced.len(), 1);
        assert_eq!(stored.advanced[0].field_selectors[0].equals, ["Data"]);
        assert!(stored.basic.is_empty());
        let writes = EventSelector {
            read_write_type: "WriteOnly".into(),
            include_management_events: false,
            data_resources: vec![DataResource {
                type_: "AWS::S3::Object".into(),
                values: vec!["arn:aws:s3".into()],
            }],
            exclude_management_event_sources: vec![],
        };
        ctx.put_event_selectors(
            "main".into(),
            EventSelectors {
                basic: vec![writes],
                advanced: vec![],
            },
        )
        .await
        .unwrap();
        assert_eq!(basic.num_calls(), 1);
    }

    #[tokio::test]
    async fn get_event_selectors_maps_basic_selectors() {
        let get = mock!(aws_sdk_cloudtrail::Client::get_event_selectors)
            .match_requests(|r| r.trail_name() == Some(TRAIL_ARN))
            .then_output(|| {
                GetEventSelectorsOutput::builder()
                    .event_selectors(
                        SdkEventSelector::builder()
                            .read_write_type(ReadWriteType::ReadOnly)
                            .include_management_events(true)
                            .data_resources(
                                SdkDataResource::builder()
                                    .r#type("AWS::S3::Object")
                                    .values("arn:aws:s3")
                                    .build(),
                            )
                            .exclude_management_event_sources("kms.amazonaws.com")
                            .build(),
                    )
                    .build()
            });
        let status = mock!(aws_sdk_cloudtrail::Client::get_trail_status).then_output(|| {
            GetTrailStatusOutput::builder()
                .is_logging(true)
                .latest_delivery_error("")
                .latest_cloud_watch_logs_delivery_error("AccessDenied")
                .build()
        });
        let mut ctx = ctx(trail_finding(), &[&get, &status], Mode::Apply);
        let s = ctx.get_event_selectors(TRAIL_ARN.into()).await.unwrap();
        assert_eq!(s.basic.len(), 1);
        assert_eq!(s.basic[0].read_write_type, "ReadOnly");
        assert!(s.basic[0].include_management_events);
        assert_eq!(s.basic[0].data_resources[0].type_, "AWS::S3::Object");
        assert_eq!(s.basic[0].data_resources[0].values, ["arn:aws:s3"]);
        assert_eq!(
            s.basic[0].exclude_management_event_sources,
            ["kms.amazonaws.com"]
        );
        let st = ctx.get_trail_status("main".into()).await.unwrap();
        assert!(st.is_logging);
        assert_eq!(st.latest_delivery_error, None);
        assert_eq!(
            st.latest_cloud_watch_logs_delivery_error.as_deref(),
            Some("AccessDenied")
        );
    }

    #[tokio::test]
    async fn create_trail_needs_the_prefix_and_plan_mode_answers_with_the_planned_trail() {
        let create = mock!(aws_sdk_cloudtrail::Client::create_trail)
            .match_requests(|r| {
                r.name() == Some("hubfix-trail")
                    && r.s3_bucket_name() == Some("hubfix-cloudtrail-111111111111")
                    && r.is_multi_region_trail() == Some(true)
                    && r.include_global_service_events() == Some(true)
                    && r.enable_log_file_validation() == Some(true)
                    && r.kms_key_id().is_none()
            })
            .then_output(|| {
                CreateTrailOutput::builder()
                    .name("hubfix-trail")
                    .trail_arn("arn:aws:cloudtrail:us-east-1:111111111111:trail/hubfix-trail")
                    .s3_bucket_name("hubfix-cloudtrail-111111111111")
                    .is_multi_region_trail(true)
                    .include_global_service_events(true)
                    .log_file_validation_enabled(true)
                    .build()
            });
        let start = mock!(aws_sdk_cloudtrail::Client::start_logging)
            .then_output(|| StartLoggingOutput::builder().build());
        let new = |name: &str| NewTrail {
            name: name.into(),
            s3_bucket_name: "hubfix-cloudtrail-111111111111".into(),
            s3_key_prefix: None,
            is_multi_region_trail: true,
            include_global_service_events: true,
            enable_log_file_validation: true,
            kms_key_id: None,
        };

        // A trail finding: only prefixed names may be created, and once created (here:
        // planned) the trail may be started.
        let mut plan = ctx(trail_finding(), &[&create, &start], Mode::Plan);
        let err = plan.create_trail(new("prod-trail")).await.unwrap_err();
        assert!(denied(err, "hubfix-"));
        let planned = plan.create_trail(new("hubfix-trail")).await.unwrap();
        assert_eq!(
            planned.trail_arn,
            "arn:aws:cloudtrail:us-east-1:111111111111:trail/hubfix-trail"
        );
        assert!(planned.is_multi_region_trail && planned.log_file_validation_enabled);
        assert_eq!(planned.home_region, "us-east-1");
        plan.start_logging("hubfix-trail".into()).await.unwrap();
        assert_eq!((create.num_calls(), start.num_calls()), (0, 0));
        let results: Vec<_> = plan.into_trail().calls.iter().map(|c| c.result).collect();
        assert_eq!(
            results,
            [CallResult::Denied, CallResult::Planned, CallResult::Planned]
        );

        let mut apply = ctx(account_finding(), &[&create], Mode::Apply);
        let mut bad = new("hubfix-trail");
        bad.include_global_service_events = false;
        let err = apply.create_trail(bad).await.unwrap_err();
        assert!(invalid_input(&err, "global service events"), "{err:?}");
        let mut bad = new("hubfix-trail");
        bad.s3_bucket_name = "Not_A_Bucket".into();
        let err = apply.create_trail(bad).await.unwrap_err();
        assert!(invalid_input(&err, "s3-bucket-name"), "{err:?}");
        let created = apply.create_trail(new("hubfix-trail")).await.unwrap();
        assert_eq!(create.num_calls(), 1);
        assert_eq!(created.name, "hubfix-trail");
        assert_eq!(created.home_region, "us-east-1");
        assert!(created.include_global_service_events);
    }

    #[test]
    fn trail_names_and_arns() {
        for ok in ["abc", "my-trail_1.x", "A1"] {
            assert_eq!(valid_trail_name(ok), ok.len() >= 3, "{ok}");
        }
        for bad in [
            "ab",
            "_ab",
            "ab-",
            "a--b",
            "a._b",
            "a b",
            "10.0.0.1",
            &"a".repeat(129),
        ] {
            assert!(!valid_trail_name(bad), "{bad}");
        }
        assert_eq!(trail_arn_parts(TRAIL_ARN), Some(("aws", "111111111111")));
        assert_eq!(
            trail_arn_parts("arn:aws:cloudtrail:us-east-1:1111:trail/main"),
            None
        );
        assert_eq!(
            trail_arn_parts("arn:aws:s3:us-east-1:111111111111:trail/main"),
            None
        );
        assert_eq!(
            trail_arn_parts("arn:aws:cloudtrail:us-east-1:111111111111:main"),
            None
        );
    }
}
