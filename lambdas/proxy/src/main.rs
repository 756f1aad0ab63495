//! The proxy Lambda: invokes the host in the Service account and maps its errors to the
//! closed set (see `hubfix_pipeline::proxy`). Environment: `HUBFIX_HOST_ROLE_ARN`
//! (optional role to assume before invoking).

use hubfix_pipeline::lambda::{Payload, diagnostic, init_tracing};
use hubfix_pipeline::proxy::Proxy;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let role = std::env::var("HUBFIX_HOST_ROLE_ARN")
        .ok()
        .filter(|r| !r.is_empty());
    let proxy = &Proxy::new(&aws, role.as_deref()).await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Payload>| async move {
        proxy.handle(event.payload.0).await.map_err(diagnostic)
    }))
    .await
}
