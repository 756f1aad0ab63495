//! What every Lambda binary shares: the strict payload type, JSON logs and the
//! function-error mapping.

use lambda_runtime::Diagnostic;

use crate::error::Error;

/// Every Lambda's payload: JSON refused when an object repeats a key (the last would win,
/// so a second `AwsAccountId` could retarget a remediation).
pub use hubfix_finding::StrictValue as Payload;

/// JSON logs on stdout (CloudWatch), level from `RUST_LOG` (default `info`), without
/// ANSI colours or the time (CloudWatch adds it).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .init();
}

/// The function error Step Functions sees: `errorType` is the closed-set name.
pub fn diagnostic(error: Error) -> Diagnostic {
    tracing::error!(error_type = error.name.as_str(), message = %error.message, "invocation failed");
    Diagnostic {
        error_type: error.name.as_str().into(),
        error_message: error.message,
    }
}

/// A setting from the environment, or a startup error naming it.
pub fn env_var(name: &str) -> Result<String, lambda_runtime::Error> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name} is not set").into())
}
