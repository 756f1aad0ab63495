//! Building outcomes: the four statuses, host-call errors, plan-mode phrasing.

use crate::{AwsError, Mode, Outcome, PluginInfo, Request, Status};

/// An outcome with the given status and message.
pub fn outcome(status: Status, message: impl Into<String>) -> Outcome {
    Outcome {
        status,
        message: message.into(),
    }
}

/// What `describe()` returns, from string slices.
///
/// `functions` are written `service.function`, e.g. `ec2.revoke-security-group-ingress`.
pub fn plugin_info(name: &str, version: &str, controls: &[&str], functions: &[&str]) -> PluginInfo {
    PluginInfo {
        name: name.to_owned(),
        version: version.to_owned(),
        controls: controls.iter().map(|c| (*c).to_owned()).collect(),
        functions: functions.iter().map(|f| (*f).to_owned()).collect(),
    }
}

impl Outcome {
    /// The plugin changed the resource so that the control passes (or, in plan mode,
    /// would have).
    pub fn remediated(message: impl Into<String>) -> Self {
        outcome(Status::Remediated, message)
    }

    /// The resource already satisfied the control; no mutating call was made.
    pub fn already_compliant(message: impl Into<String>) -> Self {
        outcome(Status::AlreadyCompliant, message)
    }

    /// The plugin chose not to act; the message says why.
    pub fn skipped(message: impl Into<String>) -> Self {
        outcome(Status::Skipped, message)
    }

    /// The plugin could not fix the resource; the message says why.
    pub fn failed(message: impl Into<String>) -> Self {
        outcome(Status::Failed, message)
    }
}

impl Mode {
    /// Whether mutating calls are only recorded by the host (`plan`), so that messages
    /// should say "would …".
    pub fn is_plan(self) -> bool {
        self == Mode::Plan
    }

    /// `done` in apply mode, `would` in plan mode: `mode.verb("revoked", "would revoke")`.
    pub fn verb<'a>(self, done: &'a str, would: &'a str) -> &'a str {
        if self.is_plan() { would } else { done }
    }
}

impl Request {
    /// Whether this is a plan (dry-run) request; see [`Mode::is_plan`].
    pub fn is_plan(&self) -> bool {
        self.mode.is_plan()
    }
}

impl AwsError {
    /// The WIT case name: `access-denied`, `not-found`, `throttled`, `invalid-input` or
    /// `service`.
    pub fn kind(&self) -> &'static str {
        match self {
            AwsError::AccessDenied(_) => "access-denied",
            AwsError::NotFound(_) => "not-found",
            AwsError::Throttled(_) => "throttled",
            AwsError::InvalidInput(_) => "invalid-input",
            AwsError::Service(_) => "service",
        }
    }

    /// The message the host gave with the error.
    pub fn message(&self) -> &str {
        match self {
            AwsError::AccessDenied(m)
            | AwsError::NotFound(m)
            | AwsError::Throttled(m)
            | AwsError::InvalidInput(m)
            | AwsError::Service(m) => m,
        }
    }

    /// The outcome a plugin reports when the host call `call` (written
    /// `service.function`) failed with this error, following the WIT's advice for each
    /// case: `not-found` is `skipped` (the finding is probably stale), everything else is
    /// `failed`.
    pub fn to_outcome(&self, call: &str) -> Outcome {
        let message = self.message();
        match self {
            AwsError::NotFound(_) => Outcome::skipped(format!(
                "{call}: resource not found ({message}); the finding is probably stale"
            )),
            AwsError::AccessDenied(_) => Outcome::failed(format!("{call} was denied: {message}")),
            AwsError::Throttled(_) => Outcome::failed(format!(
                "{call} was throttled: {message}; the remediation can be retried later"
            )),
            AwsError::InvalidInput(_) => {
                Outcome::failed(format!("{call} rejected its input: {message}"))
            }
            AwsError::Service(_) => Outcome::failed(format!("{call} failed: {message}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_is_skipped_and_the_rest_failed() {
        let skipped = AwsError::NotFound("no such group sg-1".into()).to_outcome("ec2.x");
        assert_eq!(skipped.status, Status::Skipped);
        assert!(
            skipped.message.contains("no such group sg-1"),
            "{}",
            skipped.message
        );
        assert!(skipped.message.starts_with("ec2.x"), "{}", skipped.message);

        for err in [
            AwsError::AccessDenied("m".into()),
            AwsError::Throttled("m".into()),
            AwsError::InvalidInput("m".into()),
            AwsError::Service("m".into()),
        ] {
            let out = err.to_outcome("iam.y");
            assert_eq!(out.status, Status::Failed, "{}", err.kind());
            assert!(out.message.starts_with("iam.y"), "{}", out.message);
        }
    }

    #[test]
    fn verb_follows_the_mode() {
        assert_eq!(Mode::Plan.verb("revoked", "would revoke"), "would revoke");
        assert_eq!(Mode::Apply.verb("revoked", "would revoke"), "revoked");
    }
}
