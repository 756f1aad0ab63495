//! The archiver Lambda: finding updates from the SQS queue, written to Security Hub in
//! batches (see `hubfix_pipeline::archiver`). Reports partial batch failures, so only the
//! failed messages return to the queue (the event source mapping needs
//! `ReportBatchItemFailures`). Environment: `HUBFIX_NOTE_AUTHOR` (default `hubfix`).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use hubfix_pipeline::archiver::{Archiver, ArchiverConfig, Message};
use hubfix_pipeline::lambda::init_tracing;
use lambda_runtime::{LambdaEvent, service_fn};

/// Time kept back from the invocation's deadline to answer SQS.
const MARGIN: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let mut config = ArchiverConfig::default();
    if let Ok(author) = std::env::var("HUBFIX_NOTE_AUTHOR") {
        config.author = author;
    }
    let archiver = &Archiver::new(&aws, config);
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        let messages: Vec<Message> = event
            .payload
            .records
            .into_iter()
            .map(|r| Message {
                sent_at: r
                    .attributes
                    .get("SentTimestamp")
                    .and_then(|t| t.parse().ok()),
                id: r.message_id.unwrap_or_default(),
                body: r.body.unwrap_or_default(),
            })
            .collect();
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let left = Duration::from_millis(
            u64::try_from(u128::from(event.context.deadline).saturating_sub(now_ms)).unwrap_or(0),
        );
        let deadline = Instant::now() + left.saturating_sub(MARGIN);
        let report = archiver.process(&messages, Some(deadline)).await;
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = report
            .failed
            .into_iter()
            .map(|id| {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                failure
            })
            .collect();
        Ok::<_, lambda_runtime::Error>(response)
    }))
    .await
}
