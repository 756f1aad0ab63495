//! The router Lambda: one finding in, the policy's decision out (see
//! `hubfix_pipeline::router`). Environment: `HUBFIX_POLICY_URL` (`s3://BUCKET/PREFIX` of
//! the policy files), `HUBFIX_POLICY_TTL_SECS` (default 30), `HUBFIX_QUARANTINE_URL`
//! (`s3://BUCKET/PREFIX` where findings that cannot be identified are kept).

use std::time::Duration;

use hubfix_pipeline::lambda::{Payload, diagnostic, env_var, init_tracing};
use hubfix_pipeline::router::{PolicyStore, Quarantine, Router};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let location = env_var("HUBFIX_POLICY_URL")?.parse()?;
    let quarantine = env_var("HUBFIX_QUARANTINE_URL")?.parse()?;
    let ttl = match std::env::var("HUBFIX_POLICY_TTL_SECS") {
        Ok(secs) => Duration::from_secs(secs.parse()?),
        Err(_) => Duration::from_secs(30),
    };
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = hubfix_pipeline::s3::client(&aws);
    let router = &Router::new(
        PolicyStore::new(s3.clone(), location, ttl),
        Quarantine::new(s3, quarantine),
    );
    lambda_runtime::run(service_fn(|event: LambdaEvent<Payload>| async move {
        router.handle(event.payload.0).await.map_err(diagnostic)
    }))
    .await
}
