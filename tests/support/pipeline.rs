//! The Security-account pipeline on the emulator: what the deploy templates create (buckets
//! with the policy and the plugin registry, the updates queue and its dead-letter queue,
//! the manual SNS topic), the Lambdas' handlers in-process, and a driver that runs the
//! state machine's states in the ASL's order and drains the queue the way Lambda's SQS
//! event source mapping does (batches, partial batch failures, redrive).
//!
//! The handlers are the very library functions the Lambda binaries call; what this module
//! adds is only the orchestration Step Functions and the event source mapping perform in
//! AWS.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use hubfix_host::{Grants, HostConfig, Runtime};
use hubfix_pipeline::archiver::{Archiver, ArchiverConfig, Message, Report};
use hubfix_pipeline::host::{HostService, HostSettings};
use hubfix_pipeline::remediator::Remediator;
use hubfix_pipeline::route::{remediation_failed, skipped_notification};
use hubfix_pipeline::router::{PolicyStore, Quarantine, Router};
use hubfix_pipeline::{Error, Notification, Route, Update};
use hubfix_policy::Action;
use hubfix_registry::Registry;
use serde_json::{Value, json};

use crate::{
    EC2_DEFAULT_SG_RESTRICT, EC2_EBS_DEFAULT_ENCRYPTION, EC2_RESTRICT_ADMIN_PORTS,
    IAM_PASSWORD_POLICY, PluginSpec, fresh_bucket, plugin_bytes, s3_client, unique_suffix,
};

/// The plugins the shipped policy remediates with, as it declares them.
pub fn plugins() -> [&'static PluginSpec; 4] {
    [
        &IAM_PASSWORD_POLICY,
        &EC2_RESTRICT_ADMIN_PORTS,
        &EC2_DEFAULT_SG_RESTRICT,
        &EC2_EBS_DEFAULT_ENCRYPTION,
    ]
}

/// Receives after which SQS moves a message to the dead-letter queue (the template's
/// `maxReceiveCount` is 5; fewer here keeps the poison test short).
pub const MAX_RECEIVE_COUNT: u32 = 3;

/// The Security and Service account resources, on the emulator.
pub struct Stack {
    /// The policy: `s3://BUCKET/policy/`.
    pub policy_url: String,
    /// The plugin registry: `s3://BUCKET/plugins/`.
    pub registry_url: String,
    /// Where the router keeps findings it cannot identify: `s3://BUCKET/unidentified/`.
    pub quarantine_url: String,
    /// The audit trail the host writes: `s3://BUCKET/audit/`.
    pub audit_url: String,
    /// The finding-updates queue.
    pub queue_url: String,
    /// Its dead-letter queue.
    pub dlq_url: String,
    /// The manual-queue topic.
    pub topic_arn: String,
    /// A queue subscribed to the topic, to read what was published.
    pub topic_reader_url: String,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// SNS.
    pub sns: aws_sdk_sns::Client,
    /// Security Hub (the Security account's aggregator).
    pub hub: aws_sdk_securityhub::Client,
    /// STS, as the Security account.
    pub sts: aws_sdk_sts::Client,
}

/// The shipped policy's files, plus `extra` files, as `(name, text)`.
pub fn policy_files(extra: &[(&str, &str)]) -> Result<Vec<(String, String)>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("read {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = path
                .file_name()
                .context("file name")?
                .to_string_lossy()
                .into_owned();
            files.push((name, std::fs::read_to_string(&path)?));
        }
    }
    files.extend(
        extra
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned())),
    );
    files.sort();
    Ok(files)
}

impl Stack {
    /// Creates the resources: the policy files uploaded, `plugins` published.
    pub async fn deploy(
        base: &SdkConfig,
        policy: &[(String, String)],
        plugins: &[&PluginSpec],
    ) -> Result<Self> {
        let s3 = s3_client(base, None);
        let bucket = fresh_bucket(&s3, "hubfix-pipeline").await?;
        for (name, text) in policy {
            s3.put_object()
                .bucket(&bucket)
                .key(format!("policy/{name}"))
                .body(text.clone().into_bytes().into())
                .send()
                .await
                .with_context(|| format!("upload policy/{name}"))?;
        }
        let registry = Registry::new(s3.clone(), &bucket, "plugins");
        let runtime = Runtime::new(HostConfig::default(), base.clone())?;
        for plugin in plugins {
            let grants = Grants::new(&plugin.grants)?;
            hubfix_host::publish(
                &runtime,
                &registry,
                &plugin_bytes(plugin.name)?,
                &grants,
                None,
                false,
            )
            .await
            .with_context(|| format!("publish {}", plugin.name))?;
        }

        let sqs = aws_sdk_sqs::Client::new(base);
        let suffix = unique_suffix();
        let dlq_url = create_queue(
            &sqs,
            &format!("hubfix-updates-dlq-{suffix}"),
            HashMap::new(),
        )
        .await?;
        let dlq_arn = queue_arn(&sqs, &dlq_url).await?;
        let queue_url = create_queue(
            &sqs,
            &format!("hubfix-updates-{suffix}"),
            HashMap::from([
                ("VisibilityTimeout".to_owned(), "120".to_owned()),
                (
                    "RedrivePolicy".to_owned(),
                    json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT})
                        .to_string(),
                ),
            ]),
        )
        .await?;

        let sns = aws_sdk_sns::Client::new(base);
        let topic_arn = sns
            .create_topic()
            .name(format!("hubfix-manual-{suffix}"))
            .send()
            .await?
            .topic_arn
            .context("no topic arn")?;
        let topic_reader_url = create_queue(
            &sqs,
            &format!("hubfix-manual-reader-{suffix}"),
            HashMap::new(),
        )
        .await?;
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn(&sqs, &topic_reader_url).await?)
            .attributes("RawMessageDelivery", "true")
            .send()
            .await?;

        Ok(Self {
            policy_url: format!("s3://{bucket}/policy/"),
            registry_url: format!("s3://{bucket}/plugins/"),
            quarantine_url: format!("s3://{bucket}/unidentified/"),
            audit_url: format!("s3://{bucket}/audit/"),
            queue_url,
            dlq_url,
            topic_arn,
            topic_reader_url,
            sqs,
            sns,
            hub: aws_sdk_securityhub::Client::new(base),
            sts: aws_sdk_sts::Client::new(base),
        })
    }

    /// Imports findings into Security Hub, 100 per call (the API's maximum).
    pub async fn import(&self, findings: &[Value]) -> Result<()> {
        for chunk in findings.chunks(100) {
            let body: Vec<_> = chunk.iter().map(sdk_finding).collect::<Result<_>>()?;
            let out = self
                .hub
                .batch_import_findings()
                .set_findings(Some(body))
                .send()
                .await
                .context("BatchImportFindings")?;
            if out.failed_count() != Some(0) {
                bail!("import failed: {:?}", out.failed_findings());
            }
        }
        Ok(())
    }

    /// Imports Security Hub v2 (OCSF) findings into the Security account's hub through the
    /// emulator's import endpoint (Security Hub v2 has no import API); it emits their
    /// "Findings Imported V2" events.
    pub async fn import_v2(&self, findings: &[Value]) -> Result<()> {
        let account = self
            .sts
            .get_caller_identity()
            .send()
            .await?
            .account
            .context("no account")?;
        for chunk in findings.chunks(100) {
            let out = crate::emulator::control(
                "POST",
                "/moto-ext/securityhub/v2/findings",
                Some(&json!({"account": account, "region": crate::REGION, "findings": chunk})),
            )?;
            if out["failed"].as_array().is_none_or(|f| !f.is_empty()) {
                bail!("v2 import failed: {out}");
            }
        }
        Ok(())
    }

    /// The Security Hub v2 findings about `account`, by `finding_info.uid`
    /// (`GetFindingsV2`).
    pub async fn findings_v2(&self, account: &str) -> Result<HashMap<String, Value>> {
        use aws_sdk_securityhub::types::{
            CompositeFilter, OcsfFindingFilters, OcsfStringField, OcsfStringFilter, StringFilter,
            StringFilterComparison,
        };
        let filters = OcsfFindingFilters::builder()
            .composite_filters(
                CompositeFilter::builder()
                    .string_filters(
                        OcsfStringFilter::builder()
                            .field_name(OcsfStringField::CloudAccountUid)
                            .filter(
                                StringFilter::builder()
                                    .value(account)
                                    .comparison(StringFilterComparison::Equals)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build();
        let mut out = HashMap::new();
        let mut pages = self
            .hub
            .get_findings_v2()
            .filters(filters)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for document in page?.findings() {
                let finding = hubfix_pipeline::backfill::document_to_json(document);
                let uid = finding["finding_info"]["uid"].as_str().unwrap_or_default();
                out.insert(uid.to_owned(), finding);
            }
        }
        Ok(out)
    }

    /// The findings Security Hub holds about `accounts`: id, workflow status and note, by
    /// id (one `GetFindings` page at a time).
    pub async fn findings(&self, accounts: &[&str]) -> Result<HashMap<String, Value>> {
        let mut filters = aws_sdk_securityhub::types::AwsSecurityFindingFilters::builder();
        for account in accounts {
            filters = filters.aws_account_id(
                aws_sdk_securityhub::types::StringFilter::builder()
                    .value(*account)
                    .comparison(aws_sdk_securityhub::types::StringFilterComparison::Equals)
                    .build(),
            );
        }
        let mut out = HashMap::new();
        let mut pages = self
            .hub
            .get_findings()
            .filters(filters.build())
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for f in page?.findings() {
                let json = json!({
                    "Id": f.id(),
                    "Workflow": f.workflow().and_then(|w| w.status()).map(|s| s.as_str()),
                    "Note": f.note().map(|n| json!({"Text": n.text(), "UpdatedBy": n.updated_by()})),
                });
                out.insert(f.id().unwrap_or_default().to_owned(), json);
            }
        }
        Ok(out)
    }

    /// Visible plus in-flight messages of a queue.
    pub async fn depth(&self, queue_url: &str) -> Result<u64> {
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            )
            .send()
            .await?;
        Ok(out
            .attributes()
            .into_iter()
            .flatten()
            .filter_map(|(_, v)| v.parse::<u64>().ok())
            .sum())
    }

    /// Every message of a queue, removed from it.
    pub async fn take_all(&self, queue_url: &str) -> Result<Vec<String>> {
        let mut bodies = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .send()
                .await?;
            let messages = out.messages();
            if messages.is_empty() {
                return Ok(bodies);
            }
            for m in messages {
                bodies.push(m.body().unwrap_or_default().to_owned());
                self.sqs
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await?;
            }
        }
    }

    /// Sends updates to the queue, 10 per `SendMessageBatch` (the API's maximum).
    pub async fn enqueue(&self, bodies: &[String]) -> Result<()> {
        for (n, chunk) in bodies.chunks(10).enumerate() {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(format!("m{n}-{i}"))
                        .message_body(body)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .sqs
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await?;
            if !out.failed().is_empty() {
                bail!("SendMessageBatch failed: {:?}", out.failed());
            }
        }
        Ok(())
    }

    async fn publish(&self, notification: &Notification) -> Result<()> {
        self.sns
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&notification.subject)
            .message(&notification.message)
            .send()
            .await?;
        Ok(())
    }
}

/// A test finding (as the builders in this crate make them) as the SDK's type.
pub fn sdk_finding(f: &Value) -> Result<aws_sdk_securityhub::types::AwsSecurityFinding> {
    use aws_sdk_securityhub::types::{
        AwsSecurityFinding, Compliance, ComplianceStatus, Partition, RecordState, Resource,
        Severity, SeverityLabel, Workflow, WorkflowStatus,
    };
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let mut builder = AwsSecurityFinding::builder()
        .set_schema_version(text(&f["SchemaVersion"]))
        .set_id(text(&f["Id"]))
        .set_product_arn(text(&f["ProductArn"]))
        .set_generator_id(text(&f["GeneratorId"]))
        .set_aws_account_id(text(&f["AwsAccountId"]))
        .set_region(text(&f["Region"]))
        .set_created_at(text(&f["CreatedAt"]))
        .set_updated_at(text(&f["UpdatedAt"]))
        .set_title(text(&f["Title"]))
        .set_description(text(&f["Description"]))
        .compliance(
            Compliance::builder()
                .set_status(
                    text(&f["Compliance"]["Status"]).map(|s| ComplianceStatus::from(s.as_str())),
                )
                .set_security_control_id(text(&f["Compliance"]["SecurityControlId"]))
                .build(),
        )
        .workflow(
            Workflow::builder()
                .set_status(
                    text(&f["Workflow"]["Status"]).map(|s| WorkflowStatus::from(s.as_str())),
                )
                .build(),
        )
        .set_record_state(text(&f["RecordState"]).map(|s| RecordState::from(s.as_str())))
        .severity(
            Severity::builder()
                .set_label(text(&f["Severity"]["Label"]).map(|s| SeverityLabel::from(s.as_str())))
                .build(),
        );
    for t in f["Types"].as_array().into_iter().flatten() {
        builder = builder.types(t.as_str().unwrap_or_default());
    }
    for r in f["Resources"].as_array().into_iter().flatten() {
        builder = builder.resources(
            Resource::builder()
                .set_type(text(&r["Type"]))
                .set_id(text(&r["Id"]))
                .set_partition(text(&r["Partition"]).map(|p| Partition::from(p.as_str())))
                .set_region(text(&r["Region"]))
                .build(),
        );
    }
    Ok(builder.build())
}

async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    attributes: HashMap<String, String>,
) -> Result<String> {
    let mut request = sqs.create_queue().queue_name(name);
    for (k, v) in attributes {
        request = request.attributes(aws_sdk_sqs::types::QueueAttributeName::from(k.as_str()), v);
    }
    request
        .send()
        .await
        .with_context(|| format!("create queue {name}"))?
        .queue_url
        .context("no queue url")
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await?;
    out.attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .context("no queue arn")
}

/// The Lambdas' handlers, built the way their `main`s build them.
pub struct Functions {
    /// The router.
    pub router: Router,
    /// Where remediations run: the host handler in this process (the default), or the
    /// host Lambda through the proxy (a real `Invoke`).
    pub remediator: Remediator,
    /// The archiver.
    pub archiver: Archiver,
}

impl Functions {
    /// Builds the handlers over `stack`.
    pub fn new(base: &SdkConfig, stack: &Stack, archiver: ArchiverConfig) -> Result<Self> {
        let router = Router::new(
            PolicyStore::new(
                s3_client(base, None),
                stack.policy_url.parse()?,
                Duration::from_secs(30),
            ),
            Quarantine::new(s3_client(base, None), stack.quarantine_url.parse()?),
        );
        let cache_dir = std::env::temp_dir().join(format!("hubfix-host-{}", unique_suffix()));
        let host = HostService::new(
            &HostSettings {
                registry: stack.registry_url.parse()?,
                role_name: crate::ROLE_NAME.into(),
                cache_dir,
                deadline: Duration::from_secs(30),
                trusted_keys: None,
                audit: Some(stack.audit_url.parse()?),
            },
            base.clone(),
        )?;
        Ok(Self {
            router,
            remediator: Remediator::Local(Box::new(host)),
            archiver: Archiver::new(base, archiver),
        })
    }
}

/// What the state machine did with one finding.
#[derive(Debug, Clone)]
pub struct Step {
    /// The finding's `Id`.
    pub finding_id: String,
    /// Its account.
    pub account: String,
    /// The control, when known.
    pub control: String,
    /// Its first resource's id.
    pub resource: String,
    /// The router's action, or `route-failed`.
    pub decision: String,
    /// How it ended: the remediation status, the error name, `queued`, …
    pub outcome: String,
    /// Mutating AWS calls the remediation made.
    pub mutating_calls: usize,
    /// Time for this finding, in milliseconds.
    pub ms: f64,
}

/// Runs the states of `deploy/statemachine/remediation.asl.json` for one EventBridge event:
/// Map over `detail.findings` → Route → Choice → EnqueueUpdate | Notify | Remediate
/// (with its Retry on retryable errors and its Catch → RemediationFailed).
pub async fn execute(functions: &Functions, stack: &Stack, event: &Value) -> Result<Vec<Step>> {
    let findings = event["detail"]["findings"]
        .as_array()
        .context("the event has no detail.findings")?;
    let mut steps = Vec::new();
    for finding in findings {
        let started = Instant::now();
        // ASFF, or OCSF (Security Hub v2).
        let text = |asff: &str, ocsf: &str| {
            finding
                .pointer(asff)
                .or_else(|| finding.pointer(ocsf))
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned()
        };
        let mut step = Step {
            finding_id: text("/Id", "/finding_info/uid"),
            account: text("/AwsAccountId", "/cloud/account/uid"),
            control: String::new(),
            resource: text("/Resources/0/Id", "/resources/0/uid"),
            decision: String::new(),
            outcome: String::new(),
            mutating_calls: 0,
            ms: 0.0,
        };
        let input = crate::stepfunctions::router_input(event, finding);
        match retried(|| Box::pin(functions.router.handle(input.clone()))).await {
            Err(e) => {
                step.decision = "route-failed".into();
                step.outcome = e.name.as_str().into();
                stack
                    .publish(&Notification {
                        subject: "hubfix: finding could not be routed".into(),
                        message:
                            json!({"finding": step.finding_id, "error": e.name, "cause": e.message})
                                .to_string(),
                    })
                    .await?;
            }
            Ok(route) => {
                step.control = route.control.clone().unwrap_or_default();
                step.decision = serde_json::to_value(route.action)?
                    .as_str()
                    .unwrap_or("?")
                    .to_owned();
                Box::pin(choice(functions, stack, &route, &mut step)).await?;
            }
        }
        step.ms = started.elapsed().as_secs_f64() * 1e3;
        steps.push(step);
    }
    Ok(steps)
}

async fn choice(
    functions: &Functions,
    stack: &Stack,
    route: &Route,
    step: &mut Step,
) -> Result<()> {
    let body = |update: &Update| serde_json::to_string(update);
    match (route.action, &route.update, &route.remediation) {
        (Action::Suppress, Some(update), _) => {
            stack.enqueue(&[body(update)?]).await?;
            step.outcome = "queued SUPPRESSED".into();
        }
        (Action::Notify, Some(update), _) => {
            stack.enqueue(&[body(update)?]).await?;
            if let Some(notification) = &route.notification {
                stack.publish(notification).await?;
            }
            step.outcome = "queued NOTIFIED + SNS".into();
        }
        // A finding the router could not identify (and kept): nothing to update.
        (Action::Notify, None, _) => {
            if let Some(notification) = &route.notification {
                stack.publish(notification).await?;
            }
            step.outcome = "SNS only".into();
        }
        (Action::Remediate, _, Some(request)) => {
            match retried(|| functions.remediator.run(request)).await {
                Ok(response) => {
                    step.outcome = response.outcome["status"]
                        .as_str()
                        .unwrap_or("?")
                        .to_owned();
                    step.mutating_calls = response.outcome["calls"]
                        .as_array()
                        .map_or(0, |c| c.iter().filter(|c| c["mutating"] == true).count());
                    stack.enqueue(&[body(&response.update)?]).await?;
                    if let Some(notification) = skipped_notification(&response) {
                        stack.publish(&notification).await?;
                    }
                }
                Err(e) => {
                    step.outcome = e.name.as_str().into();
                    let (update, notification) = remediation_failed(route, &e);
                    stack.enqueue(&[body(&update)?]).await?;
                    stack.publish(&notification).await?;
                }
            }
        }
        _ => step.outcome = "ignored".into(),
    }
    Ok(())
}

/// A task's `Retry`: the retryable errors, up to 4 attempts with (shortened) backoff.
async fn retried<T, F, Fut>(mut task: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let mut attempt = 1;
    loop {
        match task().await {
            Err(e) if e.name.is_retryable() && attempt < 4 => {
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Routes each finding and queues the update the router asks for (the `EnqueueUpdate`
/// state, for findings the policy suppresses or only notifies about); returns the updates.
pub async fn route_and_enqueue(
    functions: &Functions,
    stack: &Stack,
    findings: &[Value],
) -> Result<Vec<Update>> {
    let mut updates = Vec::with_capacity(findings.len());
    for finding in findings {
        let route = functions
            .router
            .handle(json!({"finding": finding}))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        updates.push(route.update.with_context(|| {
            format!(
                "{} is not suppressed or notified: {:?}",
                route.identifier.id, route.action
            )
        })?);
    }
    let bodies = updates
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<_>, _>>()?;
    stack.enqueue(&bodies).await?;
    Ok(updates)
}

/// What draining the queue took.
#[derive(Debug, Default)]
pub struct Drain {
    /// The archiver's reports, merged.
    pub report: Report,
    /// Archiver invocations.
    pub invocations: u32,
    /// Wall time.
    pub elapsed: Duration,
    /// Of which inside the archiver (its `BatchUpdateFindings` calls and backoff); the rest
    /// is SQS receiving and deleting.
    pub archiver: Duration,
}

/// Drains the updates queue through the archiver like Lambda's event source mapping with
/// `BatchSize` = `batch_size` and `ReportBatchItemFailures`: collect up to a batch of
/// messages, invoke, delete what succeeded; failed messages reappear (after one second
/// here, after the queue's visibility timeout in AWS) and, after [`MAX_RECEIVE_COUNT`]
/// receives, SQS moves them to the dead-letter queue. Ends when the queue is empty.
pub async fn drain(stack: &Stack, archiver: &Archiver, batch_size: usize) -> Result<Drain> {
    let started = Instant::now();
    let mut drain = Drain::default();
    loop {
        let mut batch: Vec<(Message, String)> = Vec::new();
        while batch.len() < batch_size {
            let out = stack
                .sqs
                .receive_message()
                .queue_url(&stack.queue_url)
                .max_number_of_messages(10)
                .message_system_attribute_names(
                    aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp,
                )
                .send()
                .await?;
            let messages = out.messages();
            if messages.is_empty() {
                break;
            }
            for m in messages {
                batch.push((
                    Message {
                        id: m.message_id().unwrap_or_default().to_owned(),
                        body: m.body().unwrap_or_default().to_owned(),
                        sent_at: m
                            .attributes()
                            .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                            .and_then(|t| t.parse().ok()),
                    },
                    m.receipt_handle().unwrap_or_default().to_owned(),
                ));
            }
        }
        if batch.is_empty() {
            if stack.depth(&stack.queue_url).await? == 0 {
                break;
            }
            // Messages in flight (failed ones waiting out the visibility timeout).
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        let messages: Vec<Message> = batch.iter().map(|(m, _)| m.clone()).collect();
        let invoked = Instant::now();
        let report = archiver.process(&messages, None).await;
        drain.archiver += invoked.elapsed();
        drain.invocations += 1;
        let failed_ids: HashSet<&str> = report.failed.iter().map(String::as_str).collect();
        let (failed, done): (Vec<_>, Vec<_>) = batch
            .iter()
            .partition(|(m, _)| failed_ids.contains(m.id.as_str()));
        let done: Vec<&String> = done.into_iter().map(|(_, receipt)| receipt).collect();
        let failed: Vec<&String> = failed.into_iter().map(|(_, receipt)| receipt).collect();
        for (n, chunk) in done.chunks(10).enumerate() {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, receipt)| {
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(format!("d{n}-{i}"))
                        .receipt_handle(*receipt)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            stack
                .sqs
                .delete_message_batch()
                .queue_url(&stack.queue_url)
                .set_entries(Some(entries))
                .send()
                .await?;
        }
        // Lambda leaves failed messages to reappear after the queue's visibility timeout
        // (minutes); here they reappear after a second, so tests need not wait.
        for (n, chunk) in failed.chunks(10).enumerate() {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, receipt)| {
                    aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(format!("v{n}-{i}"))
                        .receipt_handle(*receipt)
                        .visibility_timeout(1)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            stack
                .sqs
                .change_message_visibility_batch()
                .queue_url(&stack.queue_url)
                .set_entries(Some(entries))
                .send()
                .await?;
        }
        drain.report.merge(report);
    }
    drain.elapsed = started.elapsed();
    Ok(drain)
}
