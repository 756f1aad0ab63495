//! The AWS host functions: one file per WIT interface, one gate for every call.
//!
//! Every call goes through [`PluginCtx::call`], which, in this order: charges the call
//! budget (a trap when exhausted), checks the grant and the finding's scope (refusals
//! are `access-denied` values, recorded, and never reach AWS), short-cuts mutating calls
//! in plan mode, and finally makes the SDK call and maps its error.

mod ec2;
mod iam;
#[cfg(test)]
mod mock_tests;

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::bindings::types::{self, AwsError, Mode};
use crate::functions::{self, Grants};
use crate::outcome::{AwsCall, CallResult, LogLine};
use crate::scope::Scope;

/// The SDK clients of one remediation, built from credentials assumed into the
/// finding's account and for its region.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// IAM (global service; signed for the partition's default region by the SDK).
    pub iam: aws_sdk_iam::Client,
    /// EC2 in the finding's region.
    pub ec2: aws_sdk_ec2::Client,
}

impl AwsClients {
    /// Clients from one SDK configuration (credentials and region already set).
    pub fn from_sdk_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            iam: aws_sdk_iam::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
        }
    }
}

/// How a remediation gets its AWS clients: ready-made, assumed on the first AWS call (so a
/// plugin that decides without calling AWS costs no STS round trip), or none at all.
pub(crate) enum Session {
    /// Clients already built.
    Ready(AwsClients),
    /// Assume the role on first use.
    Lazy(Box<SessionFactory>),
    /// No AWS access (nothing granted, or `describe()`).
    None,
}

/// Everything needed to assume the remediation role for one finding.
pub(crate) struct SessionFactory {
    pub base: aws_config::SdkConfig,
    pub sts: aws_sdk_sts::Client,
    pub grants: Arc<Grants>,
    pub partition: String,
    pub account_id: String,
    pub region: String,
    pub role_name: String,
    pub control: String,
    pub finding_id: String,
    pub duration_secs: i32,
}

impl SessionFactory {
    async fn open(&self) -> Result<AwsClients, crate::credentials::CredentialsError> {
        let request = crate::credentials::SessionRequest {
            partition: &self.partition,
            account_id: &self.account_id,
            region: &self.region,
            role_name: &self.role_name,
            control: &self.control,
            finding_id: &self.finding_id,
            duration_secs: self.duration_secs,
        };
        crate::credentials::assume(&self.base, &self.sts, &self.grants, &request).await
    }
}

/// A limit the host enforces by ending the remediation (a trap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    /// More host calls than the budget.
    #[error("the plugin exceeded its budget of {0} host calls")]
    Calls(u32),
    /// Memory growth past the limit.
    #[error("the plugin tried to grow its memory to {desired} bytes, over the limit of {limit}")]
    Memory {
        /// Bytes asked for.
        desired: usize,
        /// The limit.
        limit: usize,
    },
}

/// What a host function returns instead of its value: a WIT `aws-error` for the guest,
/// or a limit that ends the remediation. `types::Host::convert_aws_error` is the one
/// place that decides value versus trap.
#[derive(Debug)]
pub enum CallError {
    /// Returned to the guest as `aws-error`.
    Aws(AwsError),
    /// Ends the remediation.
    Limit(LimitExceeded),
}

impl From<AwsError> for CallError {
    fn from(e: AwsError) -> Self {
        CallError::Aws(e)
    }
}

/// Per-remediation state behind the plugin's host functions.
pub struct PluginCtx {
    scope: Scope,
    grants: Arc<Grants>,
    mode: Mode,
    session: Session,
    credentials_error: Option<String>,
    max_calls: u32,
    calls: Vec<AwsCall>,
    logs: Vec<LogLine>,
    denials: Vec<String>,
}

/// What [`PluginCtx`] collected during a run.
pub(crate) struct Trail {
    pub calls: Vec<AwsCall>,
    pub logs: Vec<LogLine>,
    pub denials: Vec<String>,
    pub credentials_error: Option<String>,
}

impl PluginCtx {
    pub(crate) fn new(
        scope: Scope,
        grants: Arc<Grants>,
        mode: Mode,
        session: Session,
        max_calls: u32,
    ) -> Self {
        Self {
            scope,
            grants,
            mode,
            session,
            credentials_error: None,
            max_calls,
            calls: Vec::new(),
            logs: Vec::new(),
            denials: Vec::new(),
        }
    }

    pub(crate) fn push_log(&mut self, line: LogLine, max_lines: usize) {
        if self.logs.len() < max_lines {
            self.logs.push(line);
        }
    }

    pub(crate) fn into_trail(self) -> Trail {
        Trail {
            calls: self.calls,
            logs: self.logs,
            denials: self.denials,
            credentials_error: self.credentials_error,
        }
    }

    /// Runs one host call through the gate. `op` makes the SDK call; it runs only when
    /// the call is within budget, granted, in scope, and (if mutating) not planned.
    async fn call<T, F, Fut>(
        &mut self,
        name: &'static str,
        resource: Option<&str>,
        op: F,
    ) -> Result<T, CallError>
    where
        T: Default,
        F: FnOnce(AwsClients) -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        // The budget counts every attempt, refused ones too: a plugin looping on denied
        // calls ends as surely as one looping on real ones.
        if self.calls.len() >= self.max_calls as usize {
            return Err(CallError::Limit(LimitExceeded::Calls(self.max_calls)));
        }
        let Some(function) = functions::lookup(name) else {
            // The bindings and the function table disagree (a test keeps them equal): a host
            // bug, not guest input. Refuse without reaching AWS.
            tracing::error!(
                function = name,
                "host function missing from the function table"
            );
            return Err(CallError::Aws(AwsError::AccessDenied(format!(
                "{name} is not a host function"
            ))));
        };
        if !self.grants.contains(name) {
            let reason = format!("{name} is not granted to this plugin");
            return Err(self.deny(function, resource, reason));
        }
        if let Err(reason) = self.scope.check(function, resource) {
            return Err(self.deny(function, resource, reason));
        }
        let started = Instant::now();
        if function.is_mutating() && self.mode == Mode::Plan {
            self.record(function, resource, CallResult::Planned, None, started);
            return Ok(T::default());
        }
        let clients = match self.clients().await {
            Ok(clients) => clients,
            Err(e) => {
                self.record(
                    function,
                    resource,
                    result_of(&e),
                    Some(error_text(&e)),
                    started,
                );
                return Err(CallError::Aws(e));
            }
        };
        let result = op(clients).await;
        match &result {
            Ok(_) => self.record(function, resource, CallResult::Ok, None, started),
            Err(e) => {
                let text = error_text(e);
                self.record(function, resource, result_of(e), Some(text), started)
            }
        }
        result.map_err(CallError::Aws)
    }

    /// The session's clients, assuming the role on first use. A failure is kept (the
    /// outcome reports it as a credentials failure) and every later call fails the same.
    async fn clients(&mut self) -> Result<AwsClients, AwsError> {
        if let Some(message) = &self.credentials_error {
            return Err(AwsError::AccessDenied(message.clone()));
        }
        let factory = match &self.session {
            Session::Ready(clients) => return Ok(clients.clone()),
            Session::None => {
                return Err(AwsError::AccessDenied(
                    "no AWS session for this remediation".into(),
                ));
            }
            Session::Lazy(factory) => factory,
        };
        match factory.open().await {
            Ok(clients) => {
                self.session = Session::Ready(clients.clone());
                Ok(clients)
            }
            Err(e) => {
                let message = e.to_string();
                self.credentials_error = Some(message.clone());
                Err(if e.throttled {
                    AwsError::Throttled(message)
                } else {
                    AwsError::AccessDenied(message)
                })
            }
        }
    }

    fn deny(
        &mut self,
        function: &'static functions::HostFunction,
        resource: Option<&str>,
        reason: String,
    ) -> CallError {
        tracing::warn!(function = function.name, resource, %reason, "host call denied");
        self.record(
            function,
            resource,
            CallResult::Denied,
            Some(reason.clone()),
            Instant::now(),
        );
        self.denials.push(reason.clone());
        CallError::Aws(AwsError::AccessDenied(reason))
    }

    fn record(
        &mut self,
        function: &functions::HostFunction,
        resource: Option<&str>,
        result: CallResult,
        error: Option<String>,
        started: Instant,
    ) {
        self.calls.push(AwsCall {
            service: function.service().to_owned(),
            operation: function.operation.to_owned(),
            resource: resource.map(str::to_owned),
            mutating: function.is_mutating(),
            result,
            error,
            duration_ms: started.elapsed().as_secs_f64() * 1e3,
        });
    }
}

impl types::Host for PluginCtx {
    fn convert_aws_error(&mut self, err: CallError) -> wasmtime::Result<AwsError> {
        match err {
            CallError::Aws(e) => Ok(e),
            CallError::Limit(limit) => Err(wasmtime::Error::new(limit)),
        }
    }
}

/// Maps an SDK error to the WIT error the guest sees. Codes are AWS's, across services.
pub(crate) fn map_sdk_error<E, R>(operation: &str, err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    let text = match (&code, err.message()) {
        (Some(code), Some(message)) => format!("{operation}: {code}: {message}"),
        (Some(code), None) => format!("{operation}: {code}"),
        _ => format!("{operation}: {}", DisplayErrorContext(&err)),
    };
    classify(code.as_deref(), text)
}

/// Chooses the `aws-error` case for an AWS error code.
pub(crate) fn classify(code: Option<&str>, text: String) -> AwsError {
    let Some(code) = code else {
        return AwsError::Service(text);
    };
    match code {
        "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException"
        | "RequestThrottled"
        | "SlowDown" => AwsError::Throttled(text),
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "AuthFailure"
        | "InvalidClientTokenId"
        | "ExpiredToken" => AwsError::AccessDenied(text),
        "NoSuchEntity" | "ResourceNotFoundException" => AwsError::NotFound(text),
        c if c.ends_with(".NotFound") => AwsError::NotFound(text),
        "InvalidParameterValue"
        | "InvalidParameter"
        | "InvalidParameterCombination"
        | "MissingParameter"
        | "ValidationError"
        | "InvalidInput"
        | "MalformedPolicyDocument"
        | "PasswordPolicyViolation" => AwsError::InvalidInput(text),
        c if c.ends_with(".Malformed") => AwsError::InvalidInput(text),
        _ => AwsError::Service(text),
    }
}

/// How a failed call is recorded: throttling apart, so callers can tell a retry may help.
fn result_of(e: &AwsError) -> CallResult {
    match e {
        AwsError::Throttled(_) => CallResult::Throttled,
        _ => CallResult::Error,
    }
}

fn error_text(e: &AwsError) -> String {
    match e {
        AwsError::AccessDenied(t)
        | AwsError::NotFound(t)
        | AwsError::Throttled(t)
        | AwsError::InvalidInput(t)
        | AwsError::Service(t) => t.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_the_documented_cases() {
        let t = String::new;
        assert!(matches!(
            classify(Some("Throttling"), t()),
            AwsError::Throttled(_)
        ));
        assert!(matches!(
            classify(Some("RequestLimitExceeded"), t()),
            AwsError::Throttled(_)
        ));
        assert!(matches!(
            classify(Some("UnauthorizedOperation"), t()),
            AwsError::AccessDenied(_)
        ));
        assert!(matches!(
            classify(Some("InvalidGroup.NotFound"), t()),
            AwsError::NotFound(_)
        ));
        assert!(matches!(
            classify(Some("NoSuchEntity"), t()),
            AwsError::NotFound(_)
        ));
        assert!(matches!(
            classify(Some("InvalidGroupId.Malformed"), t()),
            AwsError::InvalidInput(_)
        ));
        assert!(matches!(
            classify(Some("InternalError"), t()),
            AwsError::Service(_)
        ));
        assert!(matches!(classify(None, t()), AwsError::Service(_)));
    }
}
