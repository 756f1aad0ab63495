//! The proxy Lambda's logic: invoke the host in the Service account (by function name and
//! version or alias, cross-account, optionally through an assumed role) and hand its answer
//! back, with its errors mapped to the closed set.

use aws_sdk_lambda::error::{DisplayErrorContext, SdkError};
use aws_sdk_lambda::operation::invoke::InvokeError;
use aws_sdk_lambda::primitives::Blob;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, ErrorName};
use crate::message::{HostResponse, ProxyRequest};

/// Invokes the host.
pub struct Proxy {
    lambda: aws_sdk_lambda::Client,
}

/// A Lambda function error's payload.
#[derive(Deserialize)]
struct FunctionError {
    #[serde(rename = "errorType", default)]
    error_type: String,
    #[serde(rename = "errorMessage", default)]
    error_message: String,
}

impl Proxy {
    /// A proxy calling Lambda with `aws`'s credentials, or, with `role_arn`
    /// (`HUBFIX_HOST_ROLE_ARN`), with that role's.
    pub async fn new(aws: &aws_config::SdkConfig, role_arn: Option<&str>) -> Self {
        let mut config = aws_sdk_lambda::config::Builder::from(aws);
        if let Some(role_arn) = role_arn {
            let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                .session_name("hubfix-proxy")
                .configure(aws)
                .build()
                .await;
            config = config.credentials_provider(provider);
        }
        Self::with_client(aws_sdk_lambda::Client::from_conf(config.build()))
    }

    /// A proxy over `lambda` as configured.
    pub fn with_client(lambda: aws_sdk_lambda::Client) -> Self {
        Self { lambda }
    }

    /// Handles one invocation: a [`ProxyRequest`] as JSON.
    pub async fn handle(&self, input: Value) -> Result<HostResponse, Error> {
        let request: ProxyRequest = serde_json::from_value(input)
            .map_err(|e| Error::invalid_request(format!("not a proxy request: {e}")))?;
        let payload = serde_json::to_vec(&request.request).map_err(Error::internal)?;
        let output = self
            .lambda
            .invoke()
            .function_name(&request.host.function)
            .set_qualifier(request.host.qualifier.clone())
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| invoke_error(&request.host.function, e))?;
        let body = output.payload().map(Blob::as_ref).unwrap_or_default();
        if let Some(kind) = output.function_error() {
            return Err(function_error(kind, body));
        }
        serde_json::from_slice(body).map_err(|e| {
            Error::internal(format!(
                "the host answered with something that is not a host response: {e}"
            ))
        })
    }
}

/// The host's function error, mapped: our own names pass through; anything else (the
/// runtime's own errors, a timeout) is named by what it means for a retry.
pub fn function_error(kind: &str, body: &[u8]) -> Error {
    let parsed: Option<FunctionError> = serde_json::from_slice(body).ok();
    let (error_type, message) = match &parsed {
        Some(e) => (e.error_type.as_str(), e.error_message.clone()),
        None => ("", String::from_utf8_lossy(body).into_owned()),
    };
    if let Some(name) = ErrorName::parse(error_type) {
        return Error::new(name, message);
    }
    let name = if error_type.starts_with("Sandbox.Timedout") || message.contains("timed out") {
        ErrorName::HostUnavailable
    } else {
        ErrorName::Internal
    };
    Error::new(
        name,
        format!("the host failed ({kind}, {error_type}): {message}"),
    )
}

fn invoke_error(
    function: &str,
    e: SdkError<InvokeError, aws_smithy_runtime_api::http::Response>,
) -> Error {
    let status = e.raw_response().map(|r| r.status().as_u16());
    let transient = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        _ => {
            status.is_some_and(|s| s == 429 || s >= 500)
                || matches!(
                    e.as_service_error(),
                    Some(
                        InvokeError::TooManyRequestsException(_)
                            | InvokeError::ServiceException(_)
                            | InvokeError::ResourceNotReadyException(_)
                            | InvokeError::Ec2ThrottledException(_)
                            | InvokeError::ResourceConflictException(_)
                    )
                )
        }
    };
    let name = if transient {
        ErrorName::HostUnavailable
    } else {
        ErrorName::Internal
    };
    Error::new(
        name,
        format!(
            "cannot invoke the host {function}: {}",
            DisplayErrorContext(&e)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::operation::invoke::InvokeOutput;
    use aws_sdk_lambda::types::error::TooManyRequestsException;
    use hubfix_mocks::{RuleMode, mock, mock_client};
    use serde_json::json;

    fn request() -> Value {
        json!({
            "host": {"function": "arn:aws:lambda:us-east-1:222222222222:function:hubfix-host", "qualifier": "live"},
            "request": {
                "finding": {"Id": "f", "ProductArn": "p"},
                "control": "EC2.13",
                "plugin": {"name": "ec2-restrict-admin-ports", "version": "0.1.0"},
                "grants": ["ec2.describe-security-group-rules"],
                "params": {}
            }
        })
    }

    #[tokio::test]
    async fn passes_the_request_and_returns_the_host_response() {
        let ok = mock!(aws_sdk_lambda::Client::invoke)
            .match_requests(|r| {
                r.function_name() == Some("arn:aws:lambda:us-east-1:222222222222:function:hubfix-host")
                    && r.qualifier() == Some("live")
                    && r.payload().is_some_and(|p| {
                        serde_json::from_slice::<Value>(p.as_ref()).is_ok_and(|v| v["control"] == "EC2.13")
                    })
            })
            .then_output(|| {
                InvokeOutput::builder()
                    .status_code(200)
                    .payload(Blob::new(
                        serde_json::to_vec(&json!({
                            "update": {"finding": {"Id": "f", "ProductArn": "p"}, "workflow": "RESOLVED",
                                       "note": "fixed", "source": "host"},
                            "outcome": {"status": "remediated"}
                        }))
                        .unwrap(),
                    ))
                    .build()
            });
        let proxy = Proxy::with_client(mock_client!(aws_sdk_lambda, [&ok]));
        let response = proxy.handle(request()).await.unwrap();
        assert_eq!(response.update.note, "fixed");
        assert_eq!(response.outcome["status"], "remediated");
    }

    #[tokio::test]
    async fn host_errors_keep_their_name() {
        let failed = mock!(aws_sdk_lambda::Client::invoke).then_output(|| {
            InvokeOutput::builder()
                .status_code(200)
                .function_error("Unhandled")
                .payload(Blob::new(
                    br#"{"errorType":"Hubfix.PluginDenied","errorMessage":"EC2.13 by x: denied"}"#
                        .to_vec(),
                ))
                .build()
        });
        let proxy = Proxy::with_client(mock_client!(aws_sdk_lambda, [&failed]));
        let err = proxy.handle(request()).await.unwrap_err();
        assert_eq!(err.name, ErrorName::PluginDenied);
        assert_eq!(err.message, "EC2.13 by x: denied");
    }

    #[tokio::test]
    async fn unknown_host_errors_are_internal_and_timeouts_retryable() {
        assert_eq!(
            function_error(
                "Unhandled",
                br#"{"errorType":"alloc::boxed::Box","errorMessage":"x"}"#
            )
            .name,
            ErrorName::Internal
        );
        assert_eq!(
            function_error("Unhandled", br#"{"errorType":"Sandbox.Timedout","errorMessage":"Task timed out after 60.00 seconds"}"#).name,
            ErrorName::HostUnavailable
        );
        assert_eq!(
            function_error("Unhandled", b"not json").name,
            ErrorName::Internal
        );
    }

    #[tokio::test]
    async fn throttled_invokes_are_retryable_and_bad_input_is_refused() {
        let throttled = mock!(aws_sdk_lambda::Client::invoke).then_error(|| {
            InvokeError::TooManyRequestsException(
                TooManyRequestsException::builder()
                    .message("Rate exceeded")
                    .build(),
            )
        });
        let proxy = Proxy::with_client(mock_client!(
            aws_sdk_lambda,
            RuleMode::MatchAny,
            [&throttled]
        ));
        let err = proxy.handle(request()).await.unwrap_err();
        assert_eq!(err.name, ErrorName::HostUnavailable);
        assert!(ErrorName::HostUnavailable.is_retryable());

        let err = proxy.handle(json!({"request": {}})).await.unwrap_err();
        assert_eq!(err.name, ErrorName::InvalidRequest);
    }
}
