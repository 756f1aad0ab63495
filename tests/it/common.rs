use anyhow::Result;
use hubfix_finding::Finding;
use hubfix_host::{Grants, HostConfig, Mode, Outcome, Plugin, Request, Runtime, sha256_hex};
use hubfix_tests::{PluginSpec, ROLE_NAME, base_config, plugin_bytes};
use serde_json::Value;

/// Returns from the test (passing) with a visible message when the emulator is absent.
macro_rules! require_emulator {
    () => {
        if !hubfix_tests::emulator_available(module_path!()) {
            return Ok(());
        }
    };
}
pub(crate) use require_emulator;

pub async fn runtime() -> Result<Runtime> {
    runtime_with(HostConfig::default()).await
}

pub async fn runtime_with(config: HostConfig) -> Result<Runtime> {
    let config = HostConfig {
        role_name: ROLE_NAME.into(),
        ..config
    };
    Ok(Runtime::new(config, base_config().await)?)
}

/// Loads a shipped plugin with the grants the shipped policy gives it.
pub async fn load(runtime: &Runtime, spec: &PluginSpec) -> Result<Plugin> {
    load_with(runtime, spec.name, &spec.grants).await
}

pub async fn load_with(
    runtime: &Runtime,
    name: &str,
    grants: &[impl AsRef<str>],
) -> Result<Plugin> {
    let bytes = plugin_bytes(name)?;
    Ok(runtime
        .load(&bytes, &sha256_hex(&bytes), Grants::new(grants)?)
        .await?)
}

pub async fn run(
    runtime: &Runtime,
    plugin: &Plugin,
    finding: &Value,
    params: &[(&str, &str)],
    mode: Mode,
) -> Result<Outcome> {
    let finding = Finding::from_value(finding.clone())?;
    let control = finding.control_id.clone().unwrap_or_default();
    let request = Request {
        finding,
        control,
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        mode,
    };
    let outcome = runtime.remediate(plugin, &request).await;
    eprintln!("{}", serde_json::to_string(&outcome)?);
    Ok(outcome)
}

pub fn mutating_ops(outcome: &Outcome) -> Vec<String> {
    outcome
        .mutating_calls()
        .map(|c| format!("{}:{:?}", c.operation, c.result))
        .collect()
}

/// The emulator's request counts by SigV4 access key id.
pub fn requests_by_access_key() -> Result<Value> {
    hubfix_tests::emulator::control("GET", "/moto-ext/requests/by-access-key", None)
}
