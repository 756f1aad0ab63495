//! The host Lambda's logic: one [`HostRequest`] through the plugin host, answered with the
//! finding update and the audit record, or with an error from the closed set.

use std::path::PathBuf;
use std::time::Duration;

use hubfix_finding::Finding;
use hubfix_host::{
    CallResult, Failure, Grants, HostConfig, LoadError, Loader, LoaderConfig, Mode, Outcome,
    Request, Runtime, Status,
};
use hubfix_registry::Registry;
use hubfix_registry::signature::TrustedKeys;
use serde_json::Value;

use crate::audit::AuditTrail;
use crate::error::{Error, ErrorName};
use crate::message::{HostRequest, HostResponse, Requester, Update, Workflow, truncate};
use crate::route::identifier;
use crate::s3::S3Url;

/// The host Lambda's settings, from its environment.
#[derive(Debug, Clone)]
pub struct HostSettings {
    /// `HUBFIX_REGISTRY_URL`: the plugin registry, `s3://BUCKET/PREFIX`.
    pub registry: S3Url,
    /// `HUBFIX_ROLE_NAME`: the role assumed in member accounts.
    pub role_name: String,
    /// `HUBFIX_CACHE_DIR`: where compiled plugins are cached (Lambda: under `/tmp`).
    pub cache_dir: PathBuf,
    /// `HUBFIX_DEADLINE_SECS`: wall-clock limit of one remediation.
    pub deadline: Duration,
    /// `HUBFIX_TRUSTED_KEYS`: when set, only plugins signed by one of these keys run
    /// ([`trusted_keys_from_env`]).
    pub trusted_keys: Option<TrustedKeys>,
    /// `HUBFIX_AUDIT_URL`: where every remediation's record is stored
    /// (`s3://BUCKET/PREFIX`, [`crate::audit`]); none when unset.
    pub audit: Option<S3Url>,
}

/// `HUBFIX_TRUSTED_KEYS`: the public keys (`PUBLIC KEY` PEM blocks, P-256) whose
/// signatures a host accepts, given as the PEM text itself or as the path of a file
/// holding it. Unset or empty: plugins are not required to be signed.
pub fn trusted_keys_from_env() -> Result<Option<TrustedKeys>, String> {
    let Some(value) = std::env::var("HUBFIX_TRUSTED_KEYS")
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(None);
    };
    let text = if value.trim_start().starts_with("-----BEGIN") {
        value
    } else {
        std::fs::read_to_string(value.trim())
            .map_err(|e| format!("HUBFIX_TRUSTED_KEYS: cannot read {}: {e}", value.trim()))?
    };
    TrustedKeys::from_pem(&text)
        .map(Some)
        .map_err(|e| format!("HUBFIX_TRUSTED_KEYS: {e}"))
}

impl HostSettings {
    /// Reads the settings from the environment; a missing or malformed variable is
    /// named in the error.
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let registry = var("HUBFIX_REGISTRY_URL")
            .ok_or("HUBFIX_REGISTRY_URL is not set (s3://BUCKET/PREFIX of the plugin registry)")?
            .parse::<S3Url>()
            .map_err(|e| format!("HUBFIX_REGISTRY_URL: {e}"))?;
        let deadline = match var("HUBFIX_DEADLINE_SECS") {
            None => HostConfig::default().deadline,
            Some(text) => Duration::from_secs(
                text.parse()
                    .map_err(|_| format!("HUBFIX_DEADLINE_SECS: not a number: {text}"))?,
            ),
        };
        Ok(Self {
            registry,
            role_name: var("HUBFIX_ROLE_NAME").unwrap_or_else(|| HostConfig::default().role_name),
            cache_dir: var("HUBFIX_CACHE_DIR")
                .map_or_else(hubfix_host::default_cache_dir, PathBuf::from),
            deadline,
            trusted_keys: trusted_keys_from_env()?,
            audit: var("HUBFIX_AUDIT_URL")
                .map(|url| {
                    url.parse::<S3Url>()
                        .map_err(|e| format!("HUBFIX_AUDIT_URL: {e}"))
                })
                .transpose()?,
        })
    }
}

/// The host Lambda's state: engine, linker, plugin caches and SDK configuration, built
/// once per container.
pub struct HostService {
    runtime: Runtime,
    loader: Loader,
    audit: Option<AuditTrail>,
}

impl HostService {
    /// Builds the runtime and the registry loader.
    pub fn new(settings: &HostSettings, aws: aws_config::SdkConfig) -> Result<Self, Error> {
        let registry = Registry::new(
            crate::s3::client(&aws),
            &settings.registry.bucket,
            &settings.registry.prefix,
        );
        let audit = settings
            .audit
            .clone()
            .map(|at| AuditTrail::new(crate::s3::client(&aws), at));
        let runtime = Runtime::new(
            HostConfig {
                role_name: settings.role_name.clone(),
                deadline: settings.deadline,
                ..HostConfig::default()
            },
            aws,
        )
        .map_err(Error::internal)?;
        let loader = Loader::new(
            registry,
            LoaderConfig {
                cache_dir: Some(settings.cache_dir.clone()),
                trusted_keys: settings.trusted_keys.clone(),
                ..LoaderConfig::default()
            },
        );
        Ok(Self {
            runtime,
            loader,
            audit,
        })
    }

    /// Handles one invocation: a [`HostRequest`] as JSON.
    pub async fn handle(&self, input: Value) -> Result<HostResponse, Error> {
        let request: HostRequest = serde_json::from_value(input)
            .map_err(|e| Error::invalid_request(format!("not a host request: {e}")))?;
        let identifier = identifier(&request.finding)?;
        let finding = Finding::from_value(request.finding.clone())
            .map_err(|e| Error::new(ErrorName::InvalidFinding, e.to_string()))?;
        let grants = Grants::new(&request.grants)
            .map_err(|e| Error::invalid_request(format!("grants: {e}")))?;
        // Both futures are large (wasmtime's async calls, the SDK's): boxed, so the
        // handler's own future stays small on the caller's stack.
        let (plugin, source) = Box::pin(self.loader.plugin_pinned(
            &self.runtime,
            &request.plugin,
            &grants,
        ))
        .await
        .map_err(load_error)?;
        let run = Request {
            finding,
            control: request.control.clone(),
            params: request.params.clone().into_iter().collect(),
            mode: if request.plan {
                Mode::Plan
            } else {
                Mode::Apply
            },
        };
        let outcome = Box::pin(self.runtime.remediate(&plugin, &run)).await;
        let record = serde_json::to_value(&outcome).map_err(Error::internal)?;
        tracing::info!(outcome = %record, plugin_source = ?source, "remediation");
        // The durable record, before anything else is answered: a remediation whose
        // record cannot be kept is reported as failing (running it again is safe: the
        // plugin then finds the resource compliant, and that run is recorded).
        if let Some(audit) = &self.audit {
            let entry = AuditTrail::record(
                identifier.clone(),
                &outcome.account_id,
                &outcome.control,
                record.clone(),
            );
            let stored = Box::pin(audit.put(&entry)).await?;
            tracing::info!(stored, "audit record kept");
        }
        let (workflow, note) = verdict(&outcome)?;
        Ok(HostResponse {
            update: Update {
                finding: identifier,
                workflow,
                note: truncate(&note, 512),
                source: Requester::Host,
            },
            outcome: record,
        })
    }
}

/// The load error's name in the closed set.
fn load_error(e: LoadError) -> Error {
    let name = match &e {
        LoadError::Integrity { .. }
        | LoadError::InvalidComponent(_)
        | LoadError::WrongWorld(_)
        | LoadError::Described { .. }
        | LoadError::Signature(_)
        | LoadError::Registry(_) => ErrorName::PluginIntegrity,
        LoadError::MissingGrants { .. } | LoadError::ForbiddenImports { .. } => {
            ErrorName::PluginDenied
        }
        LoadError::UnknownPlugin(_) | LoadError::Version { .. } => ErrorName::PluginUnknown,
        LoadError::Unavailable(_) => ErrorName::PluginUnavailable,
    };
    Error::new(name, e.to_string())
}

/// The finding's new workflow status and note, or the error the state machine handles.
pub fn verdict(outcome: &Outcome) -> Result<(Workflow, String), Error> {
    let plugin = format!(
        "{} {} (sha256 {})",
        outcome.plugin.name,
        outcome.plugin.version,
        outcome.plugin.short_digest()
    );
    let changes: Vec<String> = outcome
        .mutating_calls()
        .map(|c| match &c.resource {
            Some(r) => format!("{} {r}", c.operation),
            None => c.operation.clone(),
        })
        .collect();
    let did = if changes.is_empty() {
        String::new()
    } else {
        format!("; calls: {}", changes.join(", "))
    };
    let what = format!("{} by {plugin}: {}{did}", outcome.control, outcome.message);
    match outcome.status {
        // A plan (the "Plan (hubfix)" custom action) changes nothing: the finding stays for a
        // person, with the calls a remediation would make in its note.
        Status::Remediated if outcome.mode == "plan" => Ok((
            Workflow::Notified,
            format!("hubfix planned {what} (a plan: nothing was changed)"),
        )),
        Status::Remediated => Ok((Workflow::Resolved, format!("hubfix remediated {what}"))),
        Status::AlreadyCompliant => Ok((
            Workflow::Resolved,
            format!("hubfix found {what} (already compliant, nothing changed)"),
        )),
        Status::Skipped => Ok((
            Workflow::Notified,
            format!("hubfix did not act on {what}; a person should look"),
        )),
        Status::Denied => Err(Error::new(ErrorName::PluginDenied, what)),
        Status::Failed => {
            let throttled = outcome
                .calls
                .iter()
                .any(|c| c.result == CallResult::Throttled);
            let name = match outcome.failure {
                Some(Failure::Credentials) if !throttled => ErrorName::AccessDenied,
                _ if throttled => ErrorName::Throttled,
                _ => ErrorName::PluginFailed,
            };
            Err(Error::new(name, what))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The state machine and the backfill recognise a skipped outcome by this status.
    #[test]
    fn a_skipped_outcome_has_the_status_the_state_machine_compares() {
        assert_eq!(
            serde_json::to_value(Status::Skipped).unwrap(),
            crate::route::SKIPPED_STATUS
        );
    }
}
