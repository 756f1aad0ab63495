//! `cloudwatch-cis-alarms`: the CIS monitoring controls (Security Hub CloudWatch.1 to
//! CloudWatch.14; CIS AWS Foundations 1.2.0 1.1 and 3.1–3.14, 1.4.0 1.7 and 4.3–4.14): a
//! metric filter with the benchmark's pattern on the log group of the account's
//! multi-Region trail, an alarm on its metric, and an SNS topic with a subscriber.
//!
//! The finding names the account (`AwsAccount`); its control selects the pattern
//! ([`CONTROLS_TABLE`], exactly as CIS publishes it). The plugin:
//!
//! 1. finds the trail (`cloudtrail.describe-trails`, `get-trail-status`,
//!    `get-event-selectors`): multi-Region, logging, all management events read and write,
//!    delivering to a CloudWatch Logs group of this account and region. Without one it
//!    skips, saying what is missing (CloudTrail.1 and CloudTrail.5 come first); a trail
//!    whose group is in another region or account is named with where to fix it.
//! 2. passes (already compliant) when a metric filter on that group has the control's
//!    pattern (compared without whitespace; for CloudWatch.13 the v1.2.0 spelling without
//!    `eventSource` counts too) and an alarm on its metric notifies an SNS topic with a
//!    confirmed subscription, whatever their names. When the alarm's only subscriptions
//!    await confirmation it skips, saying so, and changes nothing.
//! 3. otherwise makes what is missing: the topic `topic-name` (`sns.create-topic`, which
//!    returns an existing topic), a subscription of `subscription-endpoint` by
//!    `subscription-protocol` when the topic has none for it, the filter
//!    `<name-prefix><metric>` (metric `<metric>` in namespace `namespace`, value 1) unless a
//!    filter with the pattern exists (its metric is reused), and the alarm
//!    `<name-prefix><metric>` (Sum over 300 s, 1 period, ≥ 1, missing data not breaching).
//!    Without `subscription-endpoint` and no subscriber on the topic it skips, naming the
//!    parameter, before changing anything.
//!
//! Run again, it finds its own filter, alarm and topic and passes. An e-mail subscription
//! must be confirmed by its recipient before Security Hub counts it.
//!
//! Parameters: `topic-name` (default `hubfix-cis-alarms`), `subscription-protocol`
//! (default `email`), `subscription-endpoint` (optional: the address, URL or ARN),
//! `namespace` (default `CISBenchmark`), `name-prefix` (default `hubfix-cis-`). Created
//! names must start with the host's create prefix.

use hubfix_plugin_sdk::cloudtrail::{self, Trail};
use hubfix_plugin_sdk::cloudwatch::{self, Metric, MetricAlarm, NewAlarm};
use hubfix_plugin_sdk::logs::{self, MetricFilter, MetricTransformation, NewMetricFilter};
use hubfix_plugin_sdk::sns::{self, Subscription};
use hubfix_plugin_sdk::trail::{finding_account, logs_all_management_events};
use hubfix_plugin_sdk::{
    AwsError, Finding, Guest, Mode, Outcome, ParamError, Params, PluginInfo, Request, log,
};

const NAME: &str = "cloudwatch-cis-alarms";
const DESCRIBE_TRAILS: &str = "cloudtrail.describe-trails";
const TRAIL_STATUS: &str = "cloudtrail.get-trail-status";
const GET_SELECTORS: &str = "cloudtrail.get-event-selectors";
const DESCRIBE_FILTERS: &str = "logs.describe-metric-filters";
const PUT_FILTER: &str = "logs.put-metric-filter";
const DESCRIBE_ALARMS: &str = "cloudwatch.describe-alarms";
const PUT_ALARM: &str = "cloudwatch.put-metric-alarm";
const CREATE_TOPIC: &str = "sns.create-topic";
const SUBSCRIBE: &str = "sns.subscribe";
const LIST_SUBSCRIPTIONS: &str = "sns.list-subscriptions-by-topic";

const TOPIC_NAME: &str = "topic-name";
const PROTOCOL: &str = "subscription-protocol";
const ENDPOINT: &str = "subscription-endpoint";
const NAMESPACE: &str = "namespace";
const NAME_PREFIX: &str = "name-prefix";
const DEFAULT_TOPIC: &str = "hubfix-cis-alarms";
const DEFAULT_PROTOCOL: &str = "email";
const DEFAULT_NAMESPACE: &str = "CISBenchmark";
const DEFAULT_PREFIX: &str = "hubfix-cis-";
const PROTOCOLS: &[&str] = &[
    "email",
    "email-json",
    "http",
    "https",
    "sqs",
    "lambda",
    "sms",
];

/// One CIS monitoring control: its Security Hub id, the metric its filter publishes, and
/// the filter pattern as CIS publishes it (v1.4.0's where v1.2.0 and v1.4.0 differ;
/// `also` are other spellings CIS has published for the same control).
#[derive(Debug, Clone, Copy)]
pub struct CisMetric {
    pub control: &'static str,
    pub metric: &'static str,
    pub pattern: &'static str,
    pub also: &'static [&'static str],
}

/// The 14 CIS monitoring controls.
pub const CONTROLS_TABLE: &[CisMetric] = &[
    CisMetric {
        control: "CloudWatch.1",
        metric: "RootAccountUsage",
        pattern: r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
        also: &[],
    },
    CisMetric {
        control: "CloudWatch.2",
        metric: "UnauthorizedAPICalls",
        pattern: r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#,
        also: &[],
    },
    CisMetric {
        control: "CloudWatch.3",
        metric: "ConsoleSigninWithoutMFA",
        pattern: r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#,
        also: &[],
    },
    CisMetric {
        control: "CloudWatch.4",
        metric: "IAMPolicyChanges",
        pattern: "{ ($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy) }",
        also: &[],
    },
    CisMetric {
        control: "CloudWatch.5",
        metric: "CloudTrailChanges",
        pattern: "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
        also: &[],
    },
    CisMetric {
        control: "CloudWatch.6",
        metric: "ConsoleAuthenticationFailures",
        pattern: r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#,
        also: &[],
    },
    CisMetric {
        control: "CloudWatch.7",
        metric: "DisableOrDeleteCMK",
        pattern: "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }",
        also: &[],
    },
    CisMetric {
        control: "CloudWatch.8",
        metric: "S3BucketPolicyChanges",
        pattern: "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
        also: &[],
    },
    CisMetric {
        control: "CloudWatch.9",
        metric: "AWSConfigChanges",
        pattern: "{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) || ($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel) || ($.eventName = PutConfigurationRecorder)) }",
        also: &[],
    },
    CisMetric {
        control: "CloudWatch.10",
        metric: "SecurityGroupChanges",
        pattern: "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
        also: &[],
    },
    CisMetric {
        control: "CloudWatch.11",
        metric: "NACLChanges",
        pattern: "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
        also: &[],
    },
    CisMetric {
        control: "CloudWatch.12",
        metric: "NetworkGatewayChanges",
        pattern: "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
        also: &[],
    },
    CisMetric {
        control: "CloudWatch.13",
        metric: "RouteTableChanges",
        pattern: "{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
        also: &[
            "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }",
        ],
    },
    CisMetric {
        control: "CloudWatch.14",
        metric: "VPCChanges",
        pattern: "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
        also: &[],
    },
];

/// The Security Hub control ids this plugin fixes, in [`CONTROLS_TABLE`] order.
const CONTROLS: &[&str] = &[
    "CloudWatch.1",
    "CloudWatch.2",
    "CloudWatch.3",
    "CloudWatch.4",
    "CloudWatch.5",
    "CloudWatch.6",
    "CloudWatch.7",
    "CloudWatch.8",
    "CloudWatch.9",
    "CloudWatch.10",
    "CloudWatch.11",
    "CloudWatch.12",
    "CloudWatch.13",
    "CloudWatch.14",
];

struct CisAlarms;

impl Guest for CisAlarms {
    fn describe() -> PluginInfo {
        hubfix_plugin_sdk::plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            CONTROLS,
            &[
                DESCRIBE_TRAILS,
                TRAIL_STATUS,
                GET_SELECTORS,
                DESCRIBE_FILTERS,
                PUT_FILTER,
                DESCRIBE_ALARMS,
                PUT_ALARM,
                CREATE_TOPIC,
                SUBSCRIBE,
                LIST_SUBSCRIPTIONS,
            ],
        )
    }

    fn remediate(request: Request) -> Outcome {
        let finding = &request.finding;
        let Some(cis) = cis_metric(&finding.control_id) else {
            return Outcome::skipped(format!(
                "{} is not a CIS monitoring control (this plugin fixes CloudWatch.1 to CloudWatch.14)",
                finding.control_id
            ));
        };
        let settings = match Settings::from_params(&request.params) {
            Ok(s) => s,
            Err(e) => return e.to_outcome(),
        };
        if let Err(skipped) = finding_account(finding) {
            return skipped;
        }
        let group = match trail_log_group(finding) {
            Ok(group) => group,
            Err(outcome) => return outcome,
        };
        let filters = match logs::describe_metric_filters(&group) {
            Ok(filters) => filters,
            Err(e) => return e.to_outcome(DESCRIBE_FILTERS),
        };
        let matching: Vec<&MetricFilter> =
            filters.iter().filter(|f| cis.matches(&f.pattern)).collect();

        // What already watches the pattern.
        let mut pending = None;
        for filter in &matching {
            for t in &filter.transformations {
                let alarms = match cloudwatch::describe_alarms(
                    "",
                    Some(&Metric {
                        name: t.name.clone(),
                        namespace: t.namespace.clone(),
                    }),
                ) {
                    Ok(alarms) => alarms,
                    Err(e) => return e.to_outcome(DESCRIBE_ALARMS),
                };
                for alarm in alarms.iter().filter(|a| alerts(a)) {
                    for topic in alarm.alarm_actions.iter().filter(|a| is_topic(a)) {
                        let subscriptions = match subscriptions_of(topic) {
                            Ok(s) => s,
                            Err(e) => return e.to_outcome(LIST_SUBSCRIPTIONS),
                        };
                        if subscriptions.iter().any(confirmed) {
                            return Outcome::already_compliant(format!(
                                "metric filter {} on log group {group} has the CIS pattern of {}; alarm {} on {}/{} notifies SNS topic {topic}, which has a confirmed subscriber",
                                filter.name, cis.control, alarm.name, t.namespace, t.name
                            ));
                        }
                        if !subscriptions.is_empty() && pending.is_none() {
                            pending = Some((alarm.name.clone(), topic.clone()));
                        }
                    }
                }
            }
        }
        if let Some((alarm, topic)) = pending {
            return Outcome::skipped(format!(
                "alarm {alarm} watches the CIS pattern of {} on log group {group} and notifies SNS topic {topic}, whose subscriptions all await confirmation: confirm one (the recipient follows the link SNS sent)",
                cis.control
            ));
        }

        let mode = request.mode;
        let mut done = Vec::new();

        // The topic and its subscriber.
        let topic_arn = format!(
            "arn:{}:sns:{}:{}:{}",
            finding.partition, finding.region, finding.account_id, settings.topic
        );
        let (topic_exists, existing) = match sns::list_subscriptions_by_topic(&topic_arn) {
            Ok(s) => (true, s),
            Err(AwsError::NotFound(_)) => (false, Vec::new()),
            Err(e) => return e.to_outcome(LIST_SUBSCRIPTIONS),
        };
        let subscribed = match &settings.endpoint {
            Some(endpoint) => existing
                .iter()
                .any(|s| s.protocol == settings.protocol && &s.endpoint == endpoint),
            None if existing.is_empty() => {
                return Outcome::skipped(format!(
                    "{} needs an alarm recipient: set the plugin parameter `{ENDPOINT}` (and `{PROTOCOL}`, default `{DEFAULT_PROTOCOL}`) in the policy, for example in an [[overrides]] entry with params, so that SNS topic {} gets a subscriber; nothing was changed",
                    cis.control, settings.topic
                ));
            }
            None => true,
        };
        let topic = match sns::create_topic(&settings.topic) {
            Ok(arn) => arn,
            Err(e) => return e.to_outcome(CREATE_TOPIC),
        };
        if !topic_exists {
            done.push(format!(
                "{} SNS topic {}",
                mode.verb("created", "would create"),
                settings.topic
            ));
        }
        if !subscribed {
            if let Some(endpoint) = &settings.endpoint {
                let arn = match sns::subscribe(&topic, &settings.protocol, endpoint) {
                    Ok(arn) => arn,
                    Err(e) => return with_done(e.to_outcome(SUBSCRIBE), &done),
                };
                let pending = !arn.starts_with("arn:");
                done.push(format!(
                    "{} {} {endpoint} to it{}",
                    mode.verb("subscribed", "would subscribe"),
                    settings.protocol,
                    if pending && mode == Mode::Apply {
                        " (the recipient must confirm the subscription)"
                    } else {
                        ""
                    }
                ));
            }
        }

        // The filter: an existing one with the pattern lends its metric.
        let metric = match matching
            .iter()
            .flat_map(|f| f.transformations.iter())
            .next()
        {
            Some(t) => Metric {
                name: t.name.clone(),
                namespace: t.namespace.clone(),
            },
            None => {
                let filter = NewMetricFilter {
                    log_group: group.clone(),
                    name: format!("{}{}", settings.prefix, cis.metric),
                    pattern: cis.pattern.to_owned(),
                    transformation: MetricTransformation {
                        name: cis.metric.to_owned(),
                        namespace: settings.namespace.clone(),
                        value: "1".to_owned(),
                    },
                };
                if let Err(e) = logs::put_metric_filter(&filter) {
                    return with_done(e.to_outcome(PUT_FILTER), &done);
                }
                done.push(format!(
                    "{} metric filter {} with the CIS pattern on log group {group}",
                    mode.verb("created", "would create"),
                    filter.name
                ));
                Metric {
                    name: cis.metric.to_owned(),
                    namespace: settings.namespace.clone(),
                }
            }
        };

        let alarm = NewAlarm {
            name: format!("{}{}", settings.prefix, cis.metric),
            metric_name: metric.name.clone(),
            namespace: metric.namespace.clone(),
            statistic: "Sum".to_owned(),
            period: 300,
            evaluation_periods: 1,
            threshold: 1.0,
            comparison_operator: "GreaterThanOrEqualToThreshold".to_owned(),
            alarm_actions: vec![topic.clone()],
            treat_missing_data: "notBreaching".to_owned(),
        };
        if let Err(e) = cloudwatch::put_metric_alarm(&alarm) {
            return with_done(e.to_outcome(PUT_ALARM), &done);
        }
        done.push(format!(
            "{} alarm {} on {}/{} notifying the topic",
            mode.verb("created", "would create"),
            alarm.name,
            metric.namespace,
            metric.name
        ));
        Outcome::remediated(format!("{}: {}", cis.control, done.join("; ")))
    }
}

hubfix_plugin_sdk::export!(CisAlarms);

impl CisMetric {
    /// Whether a filter pattern is this control's, whitespace aside.
    pub fn matches(&self, pattern: &str) -> bool {
        let pattern = squeeze(pattern);
        std::iter::once(self.pattern)
            .chain(self.also.iter().copied())
            .any(|p| squeeze(p) == pattern)
    }
}

/// The control's row of [`CONTROLS_TABLE`].
fn cis_metric(control: &str) -> Option<&'static CisMetric> {
    CONTROLS_TABLE.iter().find(|c| c.control == control)
}

/// `text` without whitespace.
fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn with_done(mut outcome: Outcome, done: &[String]) -> Outcome {
    if !done.is_empty() {
        outcome
            .message
            .push_str(&format!("; already done: {}", done.join(", ")));
    }
    outcome
}

/// Whether an alarm alerts on its ALARM state.
fn alerts(alarm: &MetricAlarm) -> bool {
    alarm.actions_enabled && !alarm.alarm_actions.is_empty()
}

/// Whether an alarm action is an SNS topic.
fn is_topic(arn: &str) -> bool {
    arn.split(':').nth(2) == Some("sns")
}

fn confirmed(s: &Subscription) -> bool {
    s.arn.starts_with("arn:")
}

/// The subscriptions of a topic; none when the topic does not exist.
fn subscriptions_of(topic: &str) -> Result<Vec<Subscription>, AwsError> {
    match sns::list_subscriptions_by_topic(topic) {
        Ok(s) => Ok(s),
        Err(AwsError::NotFound(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// A trail the control can rely on, as far as it was read.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    trail: Trail,
    logging: bool,
    all_management: bool,
}

/// The log group (name) of a multi-Region trail that logs all management events to
/// CloudWatch Logs in the finding's account and region; otherwise the skipped outcome
/// that says what is missing.
fn trail_log_group(finding: &Finding) -> Result<String, Outcome> {
    let trails = cloudtrail::describe_trails().map_err(|e| e.to_outcome(DESCRIBE_TRAILS))?;
    let mut candidates = Vec::new();
    for trail in trails.into_iter().filter(|t| t.is_multi_region_trail) {
        let Some(status) = read_trail(&trail, TRAIL_STATUS, cloudtrail::get_trail_status)? else {
            continue;
        };
        let Some(selectors) = read_trail(&trail, GET_SELECTORS, cloudtrail::get_event_selectors)?
        else {
            continue;
        };
        candidates.push(Candidate {
            trail,
            logging: status.is_logging,
            all_management: logs_all_management_events(&selectors),
        });
    }
    choose(&candidates, finding)
}

/// `read` of `trail` (by ARN): `None` when the trail is gone, or when it is an
/// organization trail this account cannot read (logged); other errors are the outcome.
fn read_trail<T>(
    trail: &Trail,
    call: &str,
    read: impl FnOnce(&str) -> Result<T, AwsError>,
) -> Result<Option<T>, Outcome> {
    match read(&trail.trail_arn) {
        Ok(value) => Ok(Some(value)),
        Err(AwsError::NotFound(_)) => Ok(None),
        Err(e) if trail.is_organization_trail => {
            log::warn!("cannot read organization trail {}: {e:?}", trail.trail_arn);
            Ok(None)
        }
        Err(e) => Err(e.to_outcome(call)),
    }
}

/// The parts of a log group ARN, `arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*]`.
fn parse_group_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        [
            "arn",
            _,
            "logs",
            region,
            account,
            "log-group",
            name,
            rest @ ..,
        ] if !name.is_empty() && rest.iter().all(|r| *r == "*") && rest.len() <= 1 => {
            Some((region, account, name))
        }
        _ => None,
    }
}

/// Picks the trail whose log group the filter goes on.
fn choose(candidates: &[Candidate], finding: &Finding) -> Result<String, Outcome> {
    let prerequisite = |why: String| {
        Outcome::skipped(format!(
            "{why}; {} needs a logging multi-Region trail that records all management events and delivers to CloudWatch Logs: fix CloudTrail.1 and CloudTrail.5 first",
            finding.control_id
        ))
    };
    if candidates.is_empty() {
        return Err(prerequisite(
            "the account has no multi-Region trail".to_owned(),
        ));
    }
    let usable: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.logging && c.all_management)
        .collect();
    if usable.is_empty() {
        return Err(prerequisite(format!(
            "no multi-Region trail both logs and records all management events ({})",
            names(candidates.iter())
        )));
    }
    let delivering: Vec<(&Candidate, Option<(&str, &str, &str)>)> = usable
        .iter()
        .filter_map(|c| {
            c.trail
                .cloud_watch_logs_log_group_arn
                .as_deref()
                .map(|arn| (*c, parse_group_arn(arn)))
        })
        .collect();
    if delivering.is_empty() {
        return Err(prerequisite(format!(
            "no such trail delivers to CloudWatch Logs ({})",
            names(usable.iter().copied())
        )));
    }
    if let Some(name) = delivering.iter().find_map(|(_, parts)| match parts {
        Some((region, account, name))
            if *region == finding.region && *account == finding.account_id =>
        {
            Some(*name)
        }
        _ => None,
    }) {
        return Ok(name.to_owned());
    }
    let elsewhere: Vec<String> = delivering
        .iter()
        .map(|(c, parts)| match parts {
            Some((region, account, name)) => format!(
                "trail {} delivers to log group {name} in account {account}, region {region}",
                c.trail.name
            ),
            None => format!(
                "trail {} delivers to an unreadable log group ARN",
                c.trail.name
            ),
        })
        .collect();
    Err(Outcome::skipped(format!(
        "{}: the metric filter and alarm belong with that log group, so fix {} from a finding of that account and region",
        elsewhere.join("; "),
        finding.control_id
    )))
}

fn names<'a>(candidates: impl Iterator<Item = &'a Candidate>) -> String {
    candidates
        .map(|c| {
            let mut what = Vec::new();
            if !c.logging {
                what.push("not logging");
            }
            if !c.all_management {
                what.push("not all management events");
            }
            if c.trail.cloud_watch_logs_log_group_arn.is_none() {
                what.push("no CloudWatch Logs");
            }
            if what.is_empty() {
                c.trail.name.clone()
            } else {
                format!("{}: {}", c.trail.name, what.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The parameters, with their defaults.
#[derive(Debug, Clone, PartialEq)]
struct Settings {
    topic: String,
    protocol: String,
    endpoint: Option<String>,
    namespace: String,
    prefix: String,
}

impl Settings {
    fn from_params(raw: &[(String, String)]) -> Result<Self, ParamError> {
        let params = Params::new(
            raw,
            &[TOPIC_NAME, PROTOCOL, ENDPOINT, NAMESPACE, NAME_PREFIX],
        )?;
        let get = |key, default: &str| params.get(key).map_or(default, str::trim).to_owned();
        let topic = get(TOPIC_NAME, DEFAULT_TOPIC);
        if topic.is_empty()
            || topic.len() > 256
            || !topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ParamError::invalid_value(
                TOPIC_NAME,
                &topic,
                "expected an SNS topic name: 1 to 256 letters, digits, `-` or `_`",
            ));
        }
        let protocol = get(PROTOCOL, DEFAULT_PROTOCOL);
        if !PROTOCOLS.contains(&protocol.as_str()) {
            return Err(ParamError::invalid_value(
                PROTOCOL,
                &protocol,
                &format!("expected one of {}", PROTOCOLS.join(", ")),
            ));
        }
        let endpoint = match params.get(ENDPOINT).map(str::trim) {
            None | Some("") => None,
            Some(e) if e.len() <= 2048 && e.chars().all(|c| c.is_ascii_graphic()) => {
                Some(e.to_owned())
            }
            Some(e) => {
                return Err(ParamError::invalid_value(
                    ENDPOINT,
                    e,
                    "expected an e-mail address, URL, ARN or phone number without spaces",
                ));
            }
        };
        let namespace = get(NAMESPACE, DEFAULT_NAMESPACE);
        if namespace.is_empty()
            || namespace.len() > 255
            || namespace.contains([':', '*', '$'])
            || namespace.chars().any(char::is_control)
        {
            return Err(ParamError::invalid_value(
                NAMESPACE,
                &namespace,
                "expected a metric namespace: 1 to 255 characters, none of `:*$`",
            ));
        }
        let prefix = get(NAME_PREFIX, DEFAULT_PREFIX);
        if prefix.is_empty()
            || prefix.len() > 200
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(ParamError::invalid_value(
                NAME_PREFIX,
                &prefix,
                "expected a name prefix of letters, digits, `-`, `_` or `.`",
            ));
        }
        Ok(Self {
            topic,
            protocol,
            endpoint,
            namespace,
            prefix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubfix_plugin_sdk::Status;

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn finding() -> Finding {
        Finding {
            id: "f".into(),
            control_id: "CloudWatch.1".into(),
            generator_id: "g".into(),
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
            title: "t".into(),
            resources: Vec::new(),
            raw: "{}".into(),
        }
    }

    fn candidate(name: &str, logging: bool, all: bool, group: Option<&str>) -> Candidate {
        Candidate {
            trail: Trail {
                name: name.into(),
                trail_arn: format!("arn:aws:cloudtrail:us-east-1:111111111111:trail/{name}"),
                home_region: "us-east-1".into(),
                s3_bucket_name: Some("b".into()),
                s3_key_prefix: None,
                is_multi_region_trail: true,
                is_organization_trail: false,
                include_global_service_events: true,
                log_file_validation_enabled: true,
                kms_key_id: None,
                cloud_watch_logs_log_group_arn: group.map(str::to_owned),
                cloud_watch_logs_role_arn: None,
                has_custom_event_selectors: false,
            },
            logging,
            all_management: all,
        }
    }

    #[test]
    fn describes_itself_with_one_row_per_control() {
        let info = CisAlarms::describe();
        assert_eq!(info.name, NAME);
        assert_eq!(info.controls.len(), 14);
        for (row, control) in CONTROLS_TABLE.iter().zip(CONTROLS) {
            assert_eq!(row.control, *control);
        }
        let metrics: std::collections::BTreeSet<_> =
            CONTROLS_TABLE.iter().map(|c| c.metric).collect();
        assert_eq!(metrics.len(), 14, "every control publishes its own metric");
        for row in CONTROLS_TABLE {
            assert!(row.pattern.starts_with('{') && row.pattern.ends_with('}'));
            assert!(row.pattern.len() <= 1024, "{}", row.control);
        }
    }

    #[test]
    fn patterns_match_whitespace_aside_and_nothing_extra() {
        let root = cis_metric("CloudWatch.1").unwrap();
        assert!(root.matches(
            r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}"#
        ));
        // An extra term is another pattern (Security Hub fails it too).
        assert!(!root.matches(
            r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.sourceIPAddress != "1.2.3.4" }"#
        ));
        let routes = cis_metric("CloudWatch.13").unwrap();
        assert!(routes.matches(routes.also[0]));
        assert!(!cis_metric("CloudWatch.12").unwrap().matches(routes.pattern));
        assert!(cis_metric("CloudWatch.15").is_none());
    }

    #[test]
    fn the_trail_must_log_all_management_events_to_a_group_here() {
        let f = finding();
        let group = "arn:aws:logs:us-east-1:111111111111:log-group:trail-logs:*";
        let err = choose(&[], &f).unwrap_err();
        assert_eq!(err.status, Status::Skipped);
        assert!(
            err.message.contains("no multi-Region trail"),
            "{}",
            err.message
        );

        let err = choose(&[candidate("a", false, true, Some(group))], &f).unwrap_err();
        assert!(err.message.contains("a: not logging"), "{}", err.message);

        let err = choose(&[candidate("a", true, true, None)], &f).unwrap_err();
        assert!(
            err.message
                .contains("no such trail delivers to CloudWatch Logs")
                && err.message.contains("CloudTrail.5"),
            "{}",
            err.message
        );

        let other_region = "arn:aws:logs:eu-west-1:111111111111:log-group:trail-logs:*";
        let err = choose(&[candidate("a", true, true, Some(other_region))], &f).unwrap_err();
        assert!(err.message.contains("region eu-west-1"), "{}", err.message);

        let other_account = "arn:aws:logs:us-east-1:999999999999:log-group:org-logs:*";
        let err = choose(&[candidate("a", true, true, Some(other_account))], &f).unwrap_err();
        assert!(
            err.message.contains("account 999999999999"),
            "{}",
            err.message
        );

        let ok = choose(
            &[
                candidate("a", true, true, Some(other_region)),
                candidate("b", true, true, Some(group)),
            ],
            &f,
        )
        .unwrap();
        assert_eq!(ok, "trail-logs");
    }

    #[test]
    fn log_group_arns_are_parsed_strictly() {
        assert_eq!(
            parse_group_arn("arn:aws:logs:us-east-1:111111111111:log-group:a/b:*"),
            Some(("us-east-1", "111111111111", "a/b"))
        );
        assert_eq!(
            parse_group_arn("arn:aws:logs:us-east-1:111111111111:log-group:a"),
            Some(("us-east-1", "111111111111", "a"))
        );
        assert_eq!(
            parse_group_arn("arn:aws:logs:us-east-1:111111111111:log-group::*"),
            None
        );
        assert_eq!(parse_group_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(
            parse_group_arn("arn:aws:logs:us-east-1:111111111111:log-group:a:b"),
            None
        );
    }

    #[test]
    fn parameters_and_defaults() {
        let s = Settings::from_params(&[]).unwrap();
        assert_eq!(
            s,
            Settings {
                topic: DEFAULT_TOPIC.into(),
                protocol: "email".into(),
                endpoint: None,
                namespace: DEFAULT_NAMESPACE.into(),
                prefix: DEFAULT_PREFIX.into(),
            }
        );
        let s = Settings::from_params(&raw(&[
            (ENDPOINT, " sec@example.com "),
            (PROTOCOL, "email-json"),
        ]))
        .unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("sec@example.com"));
        assert_eq!(s.protocol, "email-json");
        for (key, value) in [
            (TOPIC_NAME, "a b"),
            (TOPIC_NAME, ""),
            (PROTOCOL, "pigeon"),
            (ENDPOINT, "a b@example.com"),
            (NAMESPACE, "a:b"),
            (NAME_PREFIX, "x/"),
        ] {
            let err = Settings::from_params(&raw(&[(key, value)])).unwrap_err();
            assert!(err.to_string().contains(key), "{key}: {err}");
        }
        assert!(Settings::from_params(&raw(&[("topic", "x")])).is_err());
    }
}
