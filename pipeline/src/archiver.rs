//! The archiver Lambda's logic: finding updates from the queue, written to Security Hub in
//! as few `BatchUpdateFindings` calls as the updates allow.
//!
//! - Messages asking for the same update (workflow status and note) are grouped, and each
//!   group is written 100 identifiers per call (the API's maximum). The same finding asked
//!   twice for the same update is written once.
//! - Security Hub v2 (OCSF) findings ([`Identifier::is_v2`]) are written the same way with
//!   `BatchUpdateFindingsV2`: the note becomes its `Comment`, the workflow status its
//!   `StatusId`.
//! - Throttling (`TooManyRequestsException`, HTTP 429), 5xx answers, timeouts and
//!   retryable `UnprocessedFindings` are retried with exponential backoff and full jitter.
//!   The SDK's own retries are off for this client, so every attempt is counted here.
//! - What still fails (attempts exhausted, the deadline near, a finding Security Hub does
//!   not know, a message that is not an update) is reported back by message id: SQS returns
//!   exactly those messages to the queue (`ReportBatchItemFailures`), and after the queue's
//!   `maxReceiveCount` moves them to the dead-letter queue. Nothing is dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_securityhub::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_securityhub::operation::batch_update_findings::BatchUpdateFindingsError;
use aws_sdk_securityhub::operation::batch_update_findings_v2::BatchUpdateFindingsV2Error;
use aws_sdk_securityhub::types::{
    AwsSecurityFindingIdentifier, NoteUpdate, OcsfFindingIdentifier, WorkflowStatus, WorkflowUpdate,
};
use serde::Serialize;

use crate::message::{Identifier, Update, Workflow, truncate};

/// Most finding identifiers one `BatchUpdateFindings` call takes.
pub const MAX_IDENTIFIERS: usize = 100;

/// Longest note Security Hub accepts, in characters.
pub const MAX_NOTE: usize = 512;

/// How the archiver retries.
#[derive(Debug, Clone)]
pub struct ArchiverConfig {
    /// `Note.UpdatedBy`.
    pub author: String,
    /// Attempts per call before its messages are handed back to the queue.
    pub max_attempts: u32,
    /// The first backoff; it doubles per attempt (full jitter: a random wait up to it).
    pub base_delay: Duration,
    /// The longest backoff.
    pub max_delay: Duration,
}

impl Default for ArchiverConfig {
    fn default() -> Self {
        Self {
            author: "hubfix".into(),
            max_attempts: 8,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

/// One queue message: its id (the SQS `messageId`), body and when it was sent.
#[derive(Debug, Clone)]
pub struct Message {
    /// The id SQS reports failures by.
    pub id: String,
    /// The body: an [`Update`] as JSON.
    pub body: String,
    /// SQS `SentTimestamp` (epoch milliseconds), when known: of two updates of one finding
    /// in a batch, the later one is written.
    pub sent_at: Option<u64>,
}

/// What one run over a batch of messages did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Messages to hand back to the queue (by id), sorted.
    pub failed: Vec<String>,
    /// Findings written (each once per update).
    pub updated: usize,
    /// `BatchUpdateFindings` calls made, including throttled and failed ones.
    pub calls: u32,
    /// Calls that succeeded.
    pub succeeded_calls: u32,
    /// Calls refused with throttling.
    pub throttled_calls: u32,
    /// Findings Security Hub returned as unprocessed and that were retried.
    pub retried_findings: usize,
    /// Messages that were not updates (poison).
    pub poison: usize,
    /// Messages a later update of the same finding replaced (settled by that write).
    pub superseded: usize,
}

impl Report {
    /// Adds `other`'s numbers to these.
    pub fn merge(&mut self, other: Report) {
        self.failed.extend(other.failed);
        self.failed.sort();
        self.updated += other.updated;
        self.calls += other.calls;
        self.succeeded_calls += other.succeeded_calls;
        self.throttled_calls += other.throttled_calls;
        self.retried_findings += other.retried_findings;
        self.poison += other.poison;
        self.superseded += other.superseded;
    }
}

/// One group: the findings that get the same update, and the messages asking for each.
type Groups = BTreeMap<(Workflow, String), BTreeMap<Identifier, Vec<String>>>;

/// A finding's latest update so far: (sent at, position) and the update.
type Latest = ((Option<u64>, usize), Workflow, String);

/// How a batch sorts out.
#[derive(Debug, Default)]
pub struct Grouped {
    /// The updates to write, by update, each with the messages it settles.
    pub groups: Groups,
    /// Messages that are not updates.
    pub poison: Vec<String>,
    /// Messages whose update a later one of the same finding replaces (settled by it).
    pub superseded: usize,
}

/// Groups messages by update. A finding asked for twice gets only its latest update (by
/// `sent_at`, then by position in the batch: SQS standard queues do not keep order), and
/// every message about it is settled by that one write.
pub fn group(messages: &[Message]) -> Grouped {
    let mut grouped = Grouped::default();
    // Per finding: the latest update's sort key and the update, and every message id.
    let mut latest: HashMap<Identifier, Latest> = HashMap::new();
    let mut ids: HashMap<Identifier, Vec<String>> = HashMap::new();
    for (position, message) in messages.iter().enumerate() {
        let update = match serde_json::from_str::<Update>(&message.body) {
            Ok(update) => update,
            Err(e) => {
                tracing::error!(message = %message.id, error = %e, "not a finding update; it will reach the dead-letter queue");
                grouped.poison.push(message.id.clone());
                continue;
            }
        };
        let key = (message.sent_at, position);
        let note = truncate(&update.note, MAX_NOTE);
        ids.entry(update.finding.clone())
            .or_default()
            .push(message.id.clone());
        match latest.get_mut(&update.finding) {
            Some(current) => {
                grouped.superseded += 1;
                if key > current.0 {
                    *current = (key, update.workflow, note);
                }
            }
            None => {
                latest.insert(update.finding, (key, update.workflow, note));
            }
        }
    }
    for (finding, (_, workflow, note)) in latest {
        let settled = ids.remove(&finding).unwrap_or_default();
        grouped
            .groups
            .entry((workflow, note))
            .or_default()
            .insert(finding, settled);
    }
    grouped
}

/// Writes finding updates to Security Hub.
pub struct Archiver {
    hub: aws_sdk_securityhub::Client,
    config: ArchiverConfig,
}

/// How one call ended.
enum Attempt {
    /// Written, except these (retryable first, then given up).
    Done {
        retry: Vec<Identifier>,
        failed: Vec<Identifier>,
    },
    /// Try the whole call again.
    Retry { throttled: bool, error: String },
    /// Give up on the whole call.
    Fail(String),
}

impl Archiver {
    /// An archiver writing through a client made from `aws`, with the SDK's own retries
    /// off (the archiver does its own, counted, with jitter).
    pub fn new(aws: &aws_config::SdkConfig, config: ArchiverConfig) -> Self {
        let hub = aws_sdk_securityhub::Client::from_conf(
            aws_sdk_securityhub::config::Builder::from(aws)
                .retry_config(aws_config::retry::RetryConfig::disabled())
                .build(),
        );
        Self::with_client(hub, config)
    }

    /// An archiver over `hub` as configured.
    pub fn with_client(hub: aws_sdk_securityhub::Client, config: ArchiverConfig) -> Self {
        Self { hub, config }
    }

    /// Writes every update in `messages`, stopping its retries at `deadline` (what is left
    /// then is reported failed, so SQS delivers it again).
    pub async fn process(&self, messages: &[Message], deadline: Option<Instant>) -> Report {
        let Grouped {
            groups,
            poison,
            superseded,
        } = group(messages);
        let mut report = Report {
            poison: poison.len(),
            failed: poison,
            superseded,
            ..Report::default()
        };
        for ((workflow, note), findings) in groups {
            // One call writes findings of one Security Hub API: v1 (ASFF), then v2 (OCSF).
            let (v2, v1): (Vec<&Identifier>, Vec<&Identifier>) =
                findings.keys().partition(|id| id.is_v2());
            for chunk in v1.chunks(MAX_IDENTIFIERS).chain(v2.chunks(MAX_IDENTIFIERS)) {
                let failed = self
                    .write(workflow, &note, chunk, deadline, &mut report)
                    .await;
                let failed: BTreeSet<&Identifier> = failed.iter().collect();
                for id in chunk {
                    if failed.contains(id) {
                        report.failed.extend(findings[*id].iter().cloned());
                    } else {
                        report.updated += 1;
                    }
                }
            }
        }
        report.failed.sort();
        report.failed.dedup();
        report
    }

    /// Writes one chunk (≤ 100 findings), retrying; returns the findings not written.
    async fn write(
        &self,
        workflow: Workflow,
        note: &str,
        chunk: &[&Identifier],
        deadline: Option<Instant>,
        report: &mut Report,
    ) -> Vec<Identifier> {
        let mut pending: Vec<Identifier> = chunk.iter().map(|id| (*id).clone()).collect();
        let mut given_up = Vec::new();
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            report.calls += 1;
            match self.call(workflow, note, &pending).await {
                Attempt::Done { retry, failed } => {
                    report.succeeded_calls += 1;
                    report.retried_findings += retry.len();
                    given_up.extend(failed);
                    pending = retry;
                    if pending.is_empty() {
                        break;
                    }
                }
                Attempt::Retry { throttled, error } => {
                    if throttled {
                        report.throttled_calls += 1;
                    }
                    tracing::warn!(attempt, findings = pending.len(), %error, "BatchUpdateFindings will be retried");
                }
                Attempt::Fail(error) => {
                    tracing::error!(findings = pending.len(), %error, "BatchUpdateFindings refused; the messages go back to the queue");
                    given_up.append(&mut pending);
                    break;
                }
            }
            let delay = self.backoff(attempt);
            if attempt >= self.config.max_attempts
                || deadline.is_some_and(|d| Instant::now() + delay >= d)
            {
                tracing::error!(
                    attempt,
                    findings = pending.len(),
                    "out of attempts or time; the messages go back to the queue"
                );
                given_up.append(&mut pending);
                break;
            }
            tokio::time::sleep(delay).await;
        }
        given_up
    }

    /// Full jitter: a random wait between zero and the exponential bound.
    fn backoff(&self, attempt: u32) -> Duration {
        let bound = self
            .config
            .base_delay
            .saturating_mul(1 << attempt.min(16))
            .min(self.config.max_delay);
        bound.mul_f64(fastrand::f64())
    }

    /// One `BatchUpdateFindings` (or, for v2 findings, `BatchUpdateFindingsV2`) call.
    async fn call(&self, workflow: Workflow, note: &str, findings: &[Identifier]) -> Attempt {
        if findings.first().is_some_and(Identifier::is_v2) {
            return self.call_v2(workflow, note, findings).await;
        }
        let status = match workflow {
            Workflow::Suppressed => WorkflowStatus::Suppressed,
            Workflow::Resolved => WorkflowStatus::Resolved,
            Workflow::Notified => WorkflowStatus::Notified,
        };
        let result = self
            .hub
            .batch_update_findings()
            .set_finding_identifiers(Some(
                findings
                    .iter()
                    .map(|f| {
                        AwsSecurityFindingIdentifier::builder()
                            .id(&f.id)
                            .product_arn(&f.product_arn)
                            .build()
                    })
                    .collect(),
            ))
            .workflow(WorkflowUpdate::builder().status(status).build())
            .note(
                NoteUpdate::builder()
                    .text(note)
                    .updated_by(&self.config.author)
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(output) => sorted_unprocessed(
                findings,
                output.unprocessed_findings().iter().filter_map(|u| {
                    let f = u.finding_identifier()?;
                    Some((
                        Identifier::asff(f.id()?, f.product_arn()?),
                        u.error_code().unwrap_or(""),
                        u.error_message().unwrap_or(""),
                    ))
                }),
                unprocessed_is_retryable,
            ),
            Err(e) => classify(e, |e| match e {
                BatchUpdateFindingsError::LimitExceededException(_) => Some(Retryable::Throttled),
                BatchUpdateFindingsError::InternalException(_) => Some(Retryable::ServerSide),
                _ => None,
            }),
        }
    }

    async fn call_v2(&self, workflow: Workflow, note: &str, findings: &[Identifier]) -> Attempt {
        let status_id = hubfix_finding::ocsf::status_id(workflow.as_str());
        let result = self
            .hub
            .batch_update_findings_v2()
            .set_finding_identifiers(Some(
                findings
                    .iter()
                    .map(|f| {
                        OcsfFindingIdentifier::builder()
                            .finding_info_uid(&f.id)
                            .metadata_product_uid(&f.product_arn)
                            .set_cloud_account_uid(f.cloud_account_uid.clone())
                            .build()
                    })
                    .collect(),
            ))
            .set_status_id(status_id)
            .comment(note)
            .send()
            .await;
        match result {
            Ok(output) => sorted_unprocessed(
                findings,
                output.unprocessed_findings().iter().filter_map(|u| {
                    let f = u.finding_identifier()?;
                    let identifier = Identifier {
                        id: f.finding_info_uid()?.to_owned(),
                        product_arn: f.metadata_product_uid()?.to_owned(),
                        cloud_account_uid: Some(f.cloud_account_uid()?.to_owned()),
                    };
                    Some((
                        identifier,
                        u.error_code().map_or("", |c| c.as_str()),
                        u.error_message().unwrap_or(""),
                    ))
                }),
                unprocessed_v2_is_retryable,
            ),
            Err(e) => classify(e, |e| match e {
                BatchUpdateFindingsV2Error::ThrottlingException(_) => Some(Retryable::Throttled),
                BatchUpdateFindingsV2Error::InternalServerException(_)
                | BatchUpdateFindingsV2Error::ConflictException(_) => Some(Retryable::ServerSide),
                _ => None,
            }),
        }
    }
}

/// How a call's `UnprocessedFindings` sort out: those whose error code is `retryable` are
/// tried again, the others handed back to the queue. An entry naming no finding of the
/// call is ignored.
fn sorted_unprocessed<'a>(
    findings: &[Identifier],
    unprocessed: impl Iterator<Item = (Identifier, &'a str, &'a str)>,
    retryable: fn(&str) -> bool,
) -> Attempt {
    let asked: HashSet<&Identifier> = findings.iter().collect();
    let (mut retry, mut failed) = (Vec::new(), Vec::new());
    for (finding, code, message) in unprocessed {
        if !asked.contains(&finding) {
            continue;
        }
        if retryable(code) {
            retry.push(finding);
        } else {
            tracing::error!(finding = %finding.id, code, message, "Security Hub did not update the finding");
            failed.push(finding);
        }
    }
    Attempt::Done { retry, failed }
}

/// `UnprocessedFindings` error codes of `BatchUpdateFindingsV2` that trying again may fix.
fn unprocessed_v2_is_retryable(code: &str) -> bool {
    matches!(code, "ConflictException" | "InternalServerException")
}

/// `UnprocessedFindings` error codes that trying again will not fix.
fn unprocessed_is_retryable(code: &str) -> bool {
    !matches!(
        code,
        "FindingNotFound" | "FindingSizeExceeded" | "InvalidInput" | "AccessDenied"
    )
}

/// A service error worth another attempt.
enum Retryable {
    Throttled,
    ServerSide,
}

/// Whether a failed `BatchUpdateFindings` or `BatchUpdateFindingsV2` call is worth another
/// attempt: throttling, server-side errors (`modeled` names the API's own) and transport
/// failures are.
fn classify<E>(
    e: SdkError<E, aws_smithy_runtime_api::http::Response>,
    modeled: fn(&E) -> Option<Retryable>,
) -> Attempt
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e.code().unwrap_or("").to_owned();
    let error = DisplayErrorContext(&e).to_string();
    let kind = e.as_service_error().and_then(modeled);
    let throttled = status == Some(429)
        || matches!(
            code.as_str(),
            "TooManyRequestsException" | "ThrottlingException" | "Throttling"
        )
        || matches!(kind, Some(Retryable::Throttled));
    let server_side =
        status.is_some_and(|s| s >= 500) || matches!(kind, Some(Retryable::ServerSide));
    match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Attempt::Retry {
                throttled: false,
                error,
            }
        }
        _ if throttled || server_side => Attempt::Retry { throttled, error },
        _ => Attempt::Fail(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Requester;

    fn message(id: &str, finding: &str, workflow: Workflow, note: &str) -> Message {
        let update = Update {
            finding: Identifier::asff(finding, "arn:p"),
            workflow,
            note: note.into(),
            source: Requester::Router,
        };
        Message {
            id: id.into(),
            body: serde_json::to_string(&update).unwrap(),
            sent_at: None,
        }
    }

    #[test]
    fn identical_updates_group_and_duplicates_collapse() {
        let messages = [
            message("m1", "f1", Workflow::Suppressed, "accepted"),
            message("m2", "f2", Workflow::Suppressed, "accepted"),
            message("m3", "f1", Workflow::Suppressed, "accepted"),
            message("m4", "f3", Workflow::Notified, "look"),
            Message {
                id: "m5".into(),
                body: "{not json".into(),
                sent_at: None,
            },
        ];
        let grouped = group(&messages);
        assert_eq!(grouped.poison, ["m5"]);
        assert_eq!(grouped.groups.len(), 2);
        let suppressed = &grouped.groups[&(Workflow::Suppressed, "accepted".to_owned())];
        assert_eq!(suppressed.len(), 2, "f1 twice is one finding to write");
        assert_eq!(suppressed[&id("f1")], ["m1", "m3"]);
        assert_eq!(grouped.superseded, 1);
    }

    #[test]
    fn the_latest_update_of_a_finding_wins_whatever_the_order() {
        let mut failed = message("m-old", "f1", Workflow::Notified, "could not remediate");
        failed.sent_at = Some(1_000);
        let mut fixed = message("m-new", "f1", Workflow::Resolved, "remediated");
        fixed.sent_at = Some(2_000);
        // The later update arrives first in the batch.
        let grouped = group(&[fixed, failed]);
        assert_eq!(grouped.groups.len(), 1);
        let ((workflow, note), findings) = grouped.groups.into_iter().next().unwrap();
        assert_eq!(workflow, Workflow::Resolved);
        assert_eq!(note, "remediated");
        assert_eq!(
            findings[&id("f1")],
            ["m-new", "m-old"],
            "one write settles both"
        );
    }

    fn id(finding: &str) -> Identifier {
        Identifier::asff(finding, "arn:p")
    }

    #[test]
    fn long_notes_are_cut_to_what_security_hub_takes() {
        let long = "n".repeat(2000);
        let grouped = group(&[message("m", "f", Workflow::Notified, &long)]);
        let ((_, note), _) = grouped.groups.iter().next().unwrap();
        assert_eq!(note.chars().count(), MAX_NOTE);
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let archiver = Archiver::with_client(
            aws_sdk_securityhub::Client::from_conf(
                aws_sdk_securityhub::Config::builder()
                    .behavior_version_latest()
                    .build(),
            ),
            ArchiverConfig::default(),
        );
        let delays: Vec<_> = (1..=20).map(|a| archiver.backoff(a)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(5)));
        assert!(delays.windows(2).any(|w| w[0] != w[1]), "{delays:?}");
    }

    mod mocked {
        use super::*;
        use aws_sdk_securityhub::operation::batch_update_findings::BatchUpdateFindingsOutput;
        use aws_sdk_securityhub::types::BatchUpdateFindingsUnprocessedFinding;
        use aws_sdk_securityhub::types::error::InternalException;
        use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
        use aws_smithy_runtime_api::http::StatusCode;
        use aws_smithy_types::body::SdkBody;
        use hubfix_mocks::{RuleMode, mock, mock_client};

        fn archiver(client: aws_sdk_securityhub::Client) -> Archiver {
            Archiver::with_client(
                client,
                ArchiverConfig {
                    base_delay: Duration::from_millis(1),
                    max_delay: Duration::from_millis(5),
                    max_attempts: 4,
                    ..ArchiverConfig::default()
                },
            )
        }

        fn messages(n: usize, note: &str) -> Vec<Message> {
            (0..n)
                .map(|i| {
                    message(
                        &format!("m{i}"),
                        &format!("f{i}"),
                        Workflow::Suppressed,
                        note,
                    )
                })
                .collect()
        }

        fn ok() -> BatchUpdateFindingsOutput {
            BatchUpdateFindingsOutput::builder().build()
        }

        #[tokio::test]
        async fn a_group_is_written_in_calls_of_at_most_100() {
            let write = mock!(aws_sdk_securityhub::Client::batch_update_findings)
                .match_requests(|r| {
                    let n = r.finding_identifiers().len();
                    (1..=MAX_IDENTIFIERS).contains(&n)
                        && r.note().and_then(|n| n.updated_by()) == Some("hubfix")
                        && r.workflow().and_then(|w| w.status())
                            == Some(&WorkflowStatus::Suppressed)
                })
                .then_output(ok);
            let archiver = archiver(mock_client!(
                aws_sdk_securityhub,
                RuleMode::MatchAny,
                [&write]
            ));
            let report = archiver.process(&messages(250, "accepted"), None).await;
            assert_eq!(write.num_calls(), 3);
            assert_eq!(report.updated, 250);
            assert_eq!(report.succeeded_calls, 3);
            assert!(report.failed.is_empty());
        }

        #[tokio::test]
        async fn v2_findings_are_written_with_batch_update_findings_v2() {
            use aws_sdk_securityhub::operation::batch_update_findings_v2::BatchUpdateFindingsV2Output;
            use aws_sdk_securityhub::types::BatchUpdateFindingsV2UnprocessedFinding;
            let v2 = |m: &str, f: &str| {
                let update = Update {
                    finding: Identifier {
                        id: f.into(),
                        product_arn: "arn:p2".into(),
                        cloud_account_uid: Some("111111111111".into()),
                    },
                    workflow: Workflow::Suppressed,
                    note: "accepted".into(),
                    source: Requester::Router,
                };
                Message {
                    id: m.into(),
                    body: serde_json::to_string(&update).unwrap(),
                    sent_at: None,
                }
            };
            let mut batch = messages(2, "accepted");
            batch.extend([v2("o0", "g0"), v2("o1", "g1"), v2("o2", "g2")]);
            let v1 = mock!(aws_sdk_securityhub::Client::batch_update_findings)
                .match_requests(|r| r.finding_identifiers().len() == 2)
                .then_output(ok);
            let unprocessed = |id: &str, code: &str| {
                BatchUpdateFindingsV2UnprocessedFinding::builder()
                    .finding_identifier(
                        OcsfFindingIdentifier::builder()
                            .finding_info_uid(id)
                            .metadata_product_uid("arn:p2")
                            .cloud_account_uid("111111111111")
                            .build(),
                    )
                    .error_code(code.into())
                    .build()
            };
            let first = mock!(aws_sdk_securityhub::Client::batch_update_findings_v2)
                .match_requests(|r| {
                    r.finding_identifiers().len() == 3
                        && r.status_id() == Some(3)
                        && r.comment() == Some("accepted")
                        && r.finding_identifiers().iter().all(|f| {
                            f.cloud_account_uid() == Some("111111111111")
                                && f.metadata_product_uid() == Some("arn:p2")
                        })
                })
                .then_output(move || {
                    BatchUpdateFindingsV2Output::builder()
                        .unprocessed_findings(unprocessed("g1", "ConflictException"))
                        .unprocessed_findings(unprocessed("g2", "ResourceNotFoundException"))
                        .build()
                });
            let retry = mock!(aws_sdk_securityhub::Client::batch_update_findings_v2)
                .match_requests(|r| {
                    r.finding_identifiers().len() == 1
                        && r.finding_identifiers()[0].finding_info_uid() == Some("g1")
                })
                .then_output(|| BatchUpdateFindingsV2Output::builder().build());
            let archiver = archiver(mock_client!(
                aws_sdk_securityhub,
                RuleMode::MatchAny,
                [&v1, &first, &retry]
            ));
            let report = archiver.process(&batch, None).await;
            assert_eq!(
                (v1.num_calls(), first.num_calls(), retry.num_calls()),
                (1, 1, 1)
            );
            assert_eq!(report.updated, 4);
            assert_eq!(report.retried_findings, 1);
            assert_eq!(
                report.failed,
                ["o2"],
                "the unknown v2 finding goes back to the queue"
            );
        }

        #[tokio::test]
        async fn throttling_is_retried_until_it_passes() {
            let throttled = mock!(aws_sdk_securityhub::Client::batch_update_findings)
                .sequence()
                .http_response(|| {
                    HttpResponse::new(
                        StatusCode::try_from(429).unwrap(),
                        SdkBody::from(
                            r#"{"Code":"TooManyRequestsException","Message":"Rate exceeded"}"#,
                        ),
                    )
                })
                .times(2)
                .output(ok)
                .build();
            let archiver = archiver(mock_client!(
                aws_sdk_securityhub,
                RuleMode::Sequential,
                [&throttled]
            ));
            let report = archiver.process(&messages(5, "accepted"), None).await;
            assert_eq!(report.calls, 3);
            assert_eq!(report.throttled_calls, 2);
            assert_eq!(report.updated, 5);
            assert!(report.failed.is_empty());
        }

        #[tokio::test]
        async fn unprocessed_findings_are_retried_or_handed_back() {
            let unprocessed = |id: &str, code: &str| {
                BatchUpdateFindingsUnprocessedFinding::builder()
                    .finding_identifier(
                        AwsSecurityFindingIdentifier::builder()
                            .id(id)
                            .product_arn("arn:p")
                            .build(),
                    )
                    .error_code(code)
                    .error_message("x")
                    .build()
            };
            let first = mock!(aws_sdk_securityhub::Client::batch_update_findings)
                .match_requests(|r| r.finding_identifiers().len() == 3)
                .then_output(move || {
                    BatchUpdateFindingsOutput::builder()
                        .unprocessed_findings(unprocessed("f1", "LimitExceeded"))
                        .unprocessed_findings(unprocessed("f2", "FindingNotFound"))
                        .build()
                });
            let retry = mock!(aws_sdk_securityhub::Client::batch_update_findings)
                .match_requests(|r| {
                    r.finding_identifiers().len() == 1
                        && r.finding_identifiers()[0].id() == Some("f1")
                })
                .then_output(ok);
            let archiver = archiver(mock_client!(
                aws_sdk_securityhub,
                RuleMode::MatchAny,
                [&first, &retry]
            ));
            let report = archiver.process(&messages(3, "accepted"), None).await;
            assert_eq!(retry.num_calls(), 1, "only the retryable one is sent again");
            assert_eq!(report.retried_findings, 1);
            assert_eq!(report.updated, 2);
            assert_eq!(
                report.failed,
                ["m2"],
                "the unknown finding's message goes back to the queue"
            );
        }

        #[tokio::test]
        async fn persistent_failures_and_refusals_hand_the_messages_back() {
            let broken =
                mock!(aws_sdk_securityhub::Client::batch_update_findings).then_error(|| {
                    BatchUpdateFindingsError::InternalException(
                        InternalException::builder().message("boom").build(),
                    )
                });
            let archiver = archiver(mock_client!(
                aws_sdk_securityhub,
                RuleMode::MatchAny,
                [&broken]
            ));
            let report = archiver.process(&messages(2, "accepted"), None).await;
            assert_eq!(report.calls, 4, "max_attempts");
            assert_eq!(report.failed, ["m0", "m1"]);
            assert_eq!(report.updated, 0);

            let refused = mock!(aws_sdk_securityhub::Client::batch_update_findings)
                .then_http_response(|| {
                    HttpResponse::new(
                        StatusCode::try_from(400).unwrap(),
                        SdkBody::from(r#"{"Code":"InvalidInputException","Message":"bad"}"#),
                    )
                });
            let archiver = archiver_refused(&refused);
            let report = archiver.process(&messages(2, "accepted"), None).await;
            assert_eq!(report.calls, 1, "a refusal is not retried");
            assert_eq!(report.failed, ["m0", "m1"]);
        }

        fn archiver_refused(rule: &hubfix_mocks::Rule) -> Archiver {
            archiver(mock_client!(
                aws_sdk_securityhub,
                RuleMode::MatchAny,
                [rule]
            ))
        }

        #[tokio::test]
        async fn the_deadline_stops_retries() {
            let broken =
                mock!(aws_sdk_securityhub::Client::batch_update_findings).then_error(|| {
                    BatchUpdateFindingsError::InternalException(
                        InternalException::builder().build(),
                    )
                });
            let archiver = archiver(mock_client!(
                aws_sdk_securityhub,
                RuleMode::MatchAny,
                [&broken]
            ));
            let report = archiver
                .process(&messages(1, "n"), Some(Instant::now()))
                .await;
            assert_eq!(report.calls, 1);
            assert_eq!(report.failed, ["m0"]);
        }
    }
}
