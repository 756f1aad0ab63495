//! The host Lambda as Lambda runs it: the `hubfix-host-lambda` binary attached to the
//! emulator's Lambda Runtime API (see `emulator/moto_ext.py`), behind a function of the
//! Service account, so that the proxy reaches it with a real cross-account `Invoke`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;

use crate::pipeline::Stack;
use crate::{assume_config, emulator, unique_suffix};

/// The Service account, where the host function lives.
pub const SERVICE_ACCOUNT: &str = "232323232323";

/// The role the proxy assumes in the Service account to invoke the host.
pub const PROXY_ROLE: &str = "HubfixProxyInvoke";

/// A running host Lambda; the process is stopped on drop.
pub struct HostLambda {
    process: Child,
    /// The function's ARN in the Service account.
    pub function_arn: String,
}

impl Drop for HostLambda {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Creates Lambda function `name` (`provided.al2023`, with a role of its own) in the
/// account `config` acts in, and returns its ARN. The emulator stores the package and never
/// runs it: a local runtime process or queued answers stand in for the code.
pub async fn create_function(config: &SdkConfig, name: &str) -> Result<String> {
    let role = aws_sdk_iam::Client::new(config)
        .create_role()
        .role_name(name)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await?
        .role
        .context("no role")?
        .arn;
    aws_sdk_lambda::Client::new(config)
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .role(role)
        .handler("bootstrap")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(b"not run by the emulator".to_vec().into())
                .build(),
        )
        .send()
        .await
        .with_context(|| format!("create the function {name}"))?
        .function_arn
        .context("no function arn")
}

impl HostLambda {
    /// Creates the host function in the Service account and starts `binary` as its
    /// runtime, serving plugins from `stack`'s registry; returns once it polls.
    pub async fn start(base: &SdkConfig, stack: &Stack, binary: &Path) -> Result<Self> {
        let name = format!("hubfix-host-{}", unique_suffix());
        let service = assume_config(base, SERVICE_ACCOUNT, "HubfixDeployer").await?;
        let function_arn = create_function(&service, &name).await?;

        let endpoint = std::env::var("AWS_ENDPOINT_URL").context("AWS_ENDPOINT_URL is not set")?;
        let cache = std::env::temp_dir().join(format!("{name}-cache"));
        let process = Command::new(binary)
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("{}/moto-ext/runtime/{name}", endpoint.trim_end_matches('/')),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("HUBFIX_REGISTRY_URL", &stack.registry_url)
            .env("HUBFIX_AUDIT_URL", &stack.audit_url)
            .env("HUBFIX_CACHE_DIR", &cache)
            .env("HUBFIX_S3_PATH_STYLE", "1")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let host = Self {
            process,
            function_arn,
        };
        let started = Instant::now();
        loop {
            let attached = emulator::control("GET", "/moto-ext/runtime/", None)?;
            if attached
                .as_array()
                .is_some_and(|a| a.iter().any(|n| n.as_str() == Some(name.as_str())))
            {
                return Ok(host);
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("{} never polled the Runtime API", binary.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The proxy's role in the Service account.
    pub fn proxy_role_arn() -> String {
        format!("arn:aws:iam::{SERVICE_ACCOUNT}:role/{PROXY_ROLE}")
    }
}
