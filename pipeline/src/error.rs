//! The closed set of errors the pipeline's Lambdas raise, by the names Step Functions sees.
//!
//! A Lambda function error carries an `errorType`; the state machine's `Retry` and `Catch`
//! blocks match it with `ErrorEquals`. Every such name is an [`ErrorName`], defined here
//! once; a test keeps `deploy/statemachine/*.asl.json` in step with [`ErrorName::ALL`]
//! (every `Hubfix.*` name the ASL mentions exists here, and every name here is handled
//! there).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The `errorType` of a pipeline Lambda's function error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorName {
    /// AWS throttled a call the remediation needed. Retryable.
    #[serde(rename = "Hubfix.Throttled")]
    Throttled,
    /// The router could not read the policy from S3. Retryable.
    #[serde(rename = "Hubfix.PolicyUnavailable")]
    PolicyUnavailable,
    /// The plugin registry could not be reached and the plugin is not cached. Retryable.
    #[serde(rename = "Hubfix.PluginUnavailable")]
    PluginUnavailable,
    /// The proxy could not reach the host Lambda (network, throttling, service error).
    /// Retryable.
    #[serde(rename = "Hubfix.HostUnavailable")]
    HostUnavailable,
    /// The finding is not one the pipeline can act on (malformed, missing fields).
    #[serde(rename = "Hubfix.InvalidFinding")]
    InvalidFinding,
    /// A Lambda received input of the wrong shape.
    #[serde(rename = "Hubfix.InvalidRequest")]
    InvalidRequest,
    /// The policy in S3 does not validate and no earlier valid one is loaded.
    #[serde(rename = "Hubfix.PolicyInvalid")]
    PolicyInvalid,
    /// The plugin the policy names is not in the registry.
    #[serde(rename = "Hubfix.PluginUnknown")]
    PluginUnknown,
    /// The plugin's bytes are not the pinned ones, or not a valid component.
    #[serde(rename = "Hubfix.PluginIntegrity")]
    PluginIntegrity,
    /// The plugin needs more than it was granted, or the host refused one of its calls.
    #[serde(rename = "Hubfix.PluginDenied")]
    PluginDenied,
    /// The plugin failed, trapped or exhausted a limit.
    #[serde(rename = "Hubfix.PluginFailed")]
    PluginFailed,
    /// The host could not assume the remediation role in the finding's account.
    #[serde(rename = "Hubfix.AccessDenied")]
    AccessDenied,
    /// A bug or an unexpected answer; the message says what.
    #[serde(rename = "Hubfix.Internal")]
    Internal,
}

impl ErrorName {
    /// Every name, in declaration order.
    pub const ALL: [ErrorName; 13] = [
        ErrorName::Throttled,
        ErrorName::PolicyUnavailable,
        ErrorName::PluginUnavailable,
        ErrorName::HostUnavailable,
        ErrorName::InvalidFinding,
        ErrorName::InvalidRequest,
        ErrorName::PolicyInvalid,
        ErrorName::PluginUnknown,
        ErrorName::PluginIntegrity,
        ErrorName::PluginDenied,
        ErrorName::PluginFailed,
        ErrorName::AccessDenied,
        ErrorName::Internal,
    ];

    /// The `errorType` string, e.g. `Hubfix.Throttled`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorName::Throttled => "Hubfix.Throttled",
            ErrorName::PolicyUnavailable => "Hubfix.PolicyUnavailable",
            ErrorName::PluginUnavailable => "Hubfix.PluginUnavailable",
            ErrorName::HostUnavailable => "Hubfix.HostUnavailable",
            ErrorName::InvalidFinding => "Hubfix.InvalidFinding",
            ErrorName::InvalidRequest => "Hubfix.InvalidRequest",
            ErrorName::PolicyInvalid => "Hubfix.PolicyInvalid",
            ErrorName::PluginUnknown => "Hubfix.PluginUnknown",
            ErrorName::PluginIntegrity => "Hubfix.PluginIntegrity",
            ErrorName::PluginDenied => "Hubfix.PluginDenied",
            ErrorName::PluginFailed => "Hubfix.PluginFailed",
            ErrorName::AccessDenied => "Hubfix.AccessDenied",
            ErrorName::Internal => "Hubfix.Internal",
        }
    }

    /// The name for an `errorType` string, if it is one of ours.
    pub fn parse(text: &str) -> Option<ErrorName> {
        Self::ALL.into_iter().find(|name| name.as_str() == text)
    }

    /// Whether the state machine retries it (with backoff) before giving up.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorName::Throttled
                | ErrorName::PolicyUnavailable
                | ErrorName::PluginUnavailable
                | ErrorName::HostUnavailable
        )
    }
}

impl fmt::Display for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pipeline Lambda's error: one of the closed set of names, and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct Error {
    /// What kind of error, as Step Functions sees it.
    pub name: ErrorName,
    /// What happened.
    pub message: String,
}

impl Error {
    /// An error named `name`.
    pub fn new(name: ErrorName, message: impl Into<String>) -> Self {
        Self {
            name,
            message: message.into(),
        }
    }

    /// `Hubfix.InvalidRequest`, for input of the wrong shape.
    pub fn invalid_request(message: impl fmt::Display) -> Self {
        Self::new(ErrorName::InvalidRequest, message.to_string())
    }

    /// `Hubfix.Internal`.
    pub fn internal(message: impl fmt::Display) -> Self {
        Self::new(ErrorName::Internal, message.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for name in ErrorName::ALL {
            assert_eq!(ErrorName::parse(name.as_str()), Some(name));
            let json = serde_json::to_value(name).unwrap();
            assert_eq!(json, name.as_str());
            assert!(name.as_str().starts_with("Hubfix."));
        }
        assert_eq!(ErrorName::parse("Lambda.ServiceException"), None);
    }

    #[test]
    fn exactly_the_transient_errors_are_retryable() {
        let retryable: Vec<_> = ErrorName::ALL
            .into_iter()
            .filter(|n| n.is_retryable())
            .map(ErrorName::as_str)
            .collect();
        assert_eq!(
            retryable,
            [
                "Hubfix.Throttled",
                "Hubfix.PolicyUnavailable",
                "Hubfix.PluginUnavailable",
                "Hubfix.HostUnavailable"
            ]
        );
    }
}
