//! The host Lambda: one remediation request through the plugin host (see
//! `hubfix_pipeline::host`). Engine, linker, caches and SDK configuration are built once
//! per container. Environment: `HUBFIX_REGISTRY_URL`, `HUBFIX_ROLE_NAME`,
//! `HUBFIX_CACHE_DIR`, `HUBFIX_DEADLINE_SECS`.

use hubfix_pipeline::host::{HostService, HostSettings};
use hubfix_pipeline::lambda::{Payload, diagnostic, init_tracing};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let settings = HostSettings::from_env()?;
    let aws = hubfix_host::load_aws_config().await;
    let host = &HostService::new(&settings, aws).map_err(|e| e.to_string())?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Payload>| async move {
        host.handle(event.payload.0).await.map_err(diagnostic)
    }))
    .await
}
