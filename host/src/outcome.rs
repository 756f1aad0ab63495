//! What a remediation returns: the audit record of one finding through one plugin.

use serde::Serialize;

/// How a remediation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The plugin fixed the resource.
    Remediated,
    /// The resource already passed; no mutating call was made.
    AlreadyCompliant,
    /// The plugin chose not to act.
    Skipped,
    /// The plugin failed, trapped or exhausted a limit.
    Failed,
    /// The host refused one of the plugin's calls (outside its grants or the finding's
    /// scope).
    Denied,
}

impl Status {
    /// The snake_case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Remediated => "remediated",
            Status::AlreadyCompliant => "already_compliant",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::Denied => "denied",
        }
    }

    /// Whether the outcome needs a human (`failed` or `denied`).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Denied)
    }
}

/// Why a remediation ended as `failed` without the plugin saying so itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// The wall-clock deadline passed.
    Deadline,
    /// The plugin tried to grow its memory past the limit.
    MemoryLimit,
    /// The plugin made more host calls than the budget allows.
    CallLimit,
    /// The plugin trapped (a panic, `unreachable`, an out-of-bounds access).
    Trap,
    /// The host could not obtain credentials for the finding's account.
    Credentials,
}

/// The result of one host call, as recorded in the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallResult {
    /// AWS answered with success.
    Ok,
    /// Plan mode: the mutating call was recorded and not made.
    Planned,
    /// The host refused the call before it reached AWS.
    Denied,
    /// The host refused the call's input (an empty list, a malformed id or document)
    /// before it reached AWS; the plugin got an `invalid-input` error.
    Invalid,
    /// AWS (or the network) answered with an error.
    Error,
    /// AWS throttled the call (a later attempt may succeed).
    Throttled,
}

/// One host call a plugin made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AwsCall {
    /// `iam`, `ec2`, …
    pub service: String,
    /// The AWS operation, e.g. `RevokeSecurityGroupIngress`.
    pub operation: String,
    /// The resource the call acted on, when it names one.
    pub resource: Option<String>,
    /// Whether the call changes anything.
    pub mutating: bool,
    /// How it ended.
    pub result: CallResult,
    /// The error (AWS code and message, or the reason for a denial).
    pub error: Option<String>,
    /// Time spent in the call, in milliseconds.
    pub duration_ms: f64,
}

/// The plugin that ran: its name and version, and the sha256 of the bytes that ran.
pub use hubfix_contract::PluginRef;

/// A line the plugin logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// `debug`, `info`, `warn` or `error`.
    pub level: &'static str,
    /// The text.
    pub message: String,
}

/// The result of one remediation. Field names are stable (snake_case) in JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// ASFF `Id` of the finding.
    pub finding_id: String,
    /// The control the finding is about.
    pub control: String,
    /// The finding's account.
    pub account_id: String,
    /// The finding's region.
    pub region: String,
    /// `apply` or `plan`.
    pub mode: &'static str,
    /// How it ended.
    pub status: Status,
    /// What happened, for a person.
    pub message: String,
    /// Set when the host ended the remediation (limit, trap, credentials).
    pub failure: Option<Failure>,
    /// The plugin that ran.
    pub plugin: PluginRef,
    /// Every host call the plugin made, in order.
    pub calls: Vec<AwsCall>,
    /// What the plugin logged.
    pub logs: Vec<LogLine>,
    /// Wall-clock time of the whole remediation, in milliseconds.
    pub duration_ms: f64,
}

impl Outcome {
    /// The mutating calls (made, planned or refused).
    pub fn mutating_calls(&self) -> impl Iterator<Item = &AwsCall> {
        self.calls.iter().filter(|c| c.mutating)
    }
}
