//! `hubfix run`: findings through plugins, against the configured AWS endpoint.
//!
//! Without `--policy` every finding goes through the one `--plugin` with the `--grant`s
//! and `--param`s given. With `--policy DIR` the policy decides per finding: the plugin
//! (looked up by name in the `--plugin` directory), its grants and parameters, or no
//! remediation at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use clap::Args;
use hubfix_finding::Finding;
use hubfix_host::{
    Grants, HostConfig, Loader, LoaderConfig, Mode, Outcome, Plugin, Request, Runtime, sha256_hex,
};
use hubfix_policy::{Action, Decision, NoOrg};
use serde_json::{Value, json};

use crate::registry::Location;
use crate::{Fatal, Output, policy, read_file, table};

#[derive(Args)]
pub struct RunArgs {
    /// The finding: one ASFF finding, a JSON array of them, a GetFindings page, or an
    /// EventBridge event.
    #[arg(long, value_name = "FILE")]
    finding: PathBuf,
    /// The plugin component (.wasm); with `--policy`, a directory of components named
    /// after their plugins (`ec2_restrict_admin_ports.wasm`); with `--registry`, the
    /// plugin's name (not needed with `--policy`).
    #[arg(long, value_name = "PATH|NAME")]
    plugin: Option<String>,
    /// Load plugins from this registry (`s3://BUCKET[/PREFIX]`) instead of files, with a
    /// compiled-code cache on local disk.
    #[arg(long, value_name = "S3_URL", conflicts_with = "sha256")]
    registry: Option<String>,
    /// Where the registry's compiled components are cached.
    #[arg(long, value_name = "DIR", requires = "registry")]
    cache_dir: Option<PathBuf>,
    /// Take plugin, grants and parameters from this policy directory.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["grants", "params", "control", "sha256"])]
    policy: Option<PathBuf>,
    /// Pinned sha256 of the plugin; the plugin is refused when the file differs.
    /// Without it the file's own digest is trusted (local use).
    #[arg(long, value_name = "HEX")]
    sha256: Option<String>,
    /// Host functions granted, `service.function` (repeat or comma-separate).
    #[arg(long = "grant", value_name = "FUNC", num_args = 1.., value_delimiter = ',')]
    grants: Vec<String>,
    /// Plugin parameter (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Record mutating calls instead of making them.
    #[arg(long)]
    plan: bool,
    /// The control, when the finding does not name one (`Compliance.SecurityControlId`).
    #[arg(long, value_name = "ID")]
    control: Option<String>,
    /// The role assumed in the finding's account.
    #[arg(
        long,
        env = "HUBFIX_ROLE_NAME",
        default_value = "HubfixRemediationRole"
    )]
    role_name: String,
    /// Wall-clock limit per remediation, in seconds.
    #[arg(long, default_value_t = 30)]
    deadline_secs: u64,
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{text}`")),
    }
}

/// One finding's way through the command.
struct Job {
    finding: Finding,
    decision: Option<Decision>,
    /// What to run; `None` when the policy decided not to remediate.
    run: Option<Run>,
}

/// Where a plugin's bytes come from.
#[derive(Clone, PartialEq, Eq, Hash)]
enum PluginLocation {
    File(PathBuf),
    Registry(String),
}

impl std::fmt::Display for PluginLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginLocation::File(path) => write!(f, "{}", path.display()),
            PluginLocation::Registry(name) => write!(f, "{name} (registry)"),
        }
    }
}

struct Run {
    control: String,
    plugin: PluginLocation,
    /// The version the policy names; a registry's active version must be it.
    version: Option<String>,
    sha256: Option<String>,
    grants: Vec<String>,
    params: Vec<(String, String)>,
}

pub async fn run(args: RunArgs) -> Result<u8, Fatal> {
    let document = policy::read_json(&args.finding)?;
    let findings = Finding::all_in(&document)
        .map_err(|e| Fatal::input(anyhow!("{}: {e}", args.finding.display())))?;
    let jobs = match &args.policy {
        None => direct_jobs(&args, findings)?,
        Some(dir) => policy_jobs(&args, dir, &document, findings)?,
    };

    let aws = hubfix_host::load_aws_config().await;
    let config = HostConfig {
        role_name: args.role_name.clone(),
        deadline: Duration::from_secs(args.deadline_secs),
        ..HostConfig::default()
    };
    let runtime = Runtime::new(config, aws).map_err(Fatal::input)?;
    let loader = match &args.registry {
        Some(url) => {
            let registry = Location { url: url.clone() }.open().await?;
            let mut config = LoaderConfig {
                trusted_keys: hubfix_pipeline::host::trusted_keys_from_env()
                    .map_err(|e| Fatal::input(anyhow!("{e}")))?,
                ..LoaderConfig::default()
            };
            if let Some(dir) = &args.cache_dir {
                config.cache_dir = Some(dir.clone());
            }
            Some(Loader::new(registry, config))
        }
        None => None,
    };
    let mode = if args.plan { Mode::Plan } else { Mode::Apply };
    let mut plugins: HashMap<(PluginLocation, Vec<String>), Arc<Plugin>> = HashMap::new();
    let mut results: Vec<(Option<Decision>, Option<Outcome>)> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let Some(run) = job.run else {
            results.push((job.decision, None));
            continue;
        };
        let key = (run.plugin.clone(), run.grants.clone());
        let plugin = match plugins.get(&key) {
            Some(plugin) => plugin.clone(),
            None => {
                let plugin = load(&runtime, loader.as_ref(), &run).await?;
                plugins.insert(key, plugin.clone());
                plugin
            }
        };
        let request = Request {
            finding: job.finding,
            control: run.control,
            params: run.params,
            mode,
        };
        let outcome = runtime.remediate(&plugin, &request).await;
        results.push((job.decision, Some(outcome)));
    }
    print(&args, &results)?;
    let failed = results
        .iter()
        .filter_map(|(_, o)| o.as_ref())
        .any(|o| o.status.is_failure());
    Ok(if failed { 1 } else { 0 })
}

/// The plugin a finding goes to: the policy's choice (`named`) or `--plugin`.
fn source(args: &RunArgs, named: Option<&str>) -> Result<PluginLocation, Fatal> {
    match (&args.registry, named, &args.plugin) {
        (Some(_), Some(name), _) => Ok(PluginLocation::Registry(name.to_owned())),
        (Some(_), None, Some(name)) => Ok(PluginLocation::Registry(name.clone())),
        (None, Some(name), Some(dir)) if Path::new(dir).is_dir() => Ok(PluginLocation::File(
            Path::new(dir).join(format!("{}.wasm", name.replace('-', "_"))),
        )),
        (None, _, Some(path)) if Path::new(path).is_dir() => Err(Fatal::input(anyhow!(
            "{path} is a directory; without --policy, --plugin names one component"
        ))),
        (None, _, Some(path)) => Ok(PluginLocation::File(PathBuf::from(path))),
        (_, _, None) => Err(Fatal::input(anyhow!(
            "which plugin? pass --plugin (a .wasm file, a directory with --policy, or a name with --registry)"
        ))),
    }
}

fn direct_jobs(args: &RunArgs, findings: Vec<Finding>) -> Result<Vec<Job>, Fatal> {
    let plugin = source(args, None)?;
    // Validate the grants once, before anything runs.
    Grants::new(&args.grants).map_err(Fatal::input)?;
    findings
        .into_iter()
        .map(|finding| {
            let control = args
                .control
                .clone()
                .or_else(|| finding.control_id.clone())
                .ok_or_else(|| {
                    Fatal::input(anyhow!(
                        "finding {} names no control (no Compliance.SecurityControlId); pass --control",
                        finding.id
                    ))
                })?;
            Ok(Job {
                finding,
                decision: None,
                run: Some(Run {
                    control,
                    plugin: plugin.clone(),
                    version: None,
                    sha256: args.sha256.clone(),
                    grants: args.grants.clone(),
                    params: args.params.clone(),
                }),
            })
        })
        .collect()
}

fn policy_jobs(
    args: &RunArgs,
    dir: &Path,
    document: &Value,
    findings: Vec<Finding>,
) -> Result<Vec<Job>, Fatal> {
    let policy = policy::load(Some(dir))?;
    let decisions = hubfix_policy::decide(document, &policy, &NoOrg, policy::today())
        .map_err(|e| Fatal::input(anyhow!("{}: {e}", args.finding.display())))?;
    let mut by_id: HashMap<String, Decision> = decisions
        .into_iter()
        .filter_map(|d| d.finding_id.clone().map(|id| (id, d)))
        .collect();
    findings
        .into_iter()
        .map(|finding| {
            let decision = by_id.remove(&finding.id).ok_or_else(|| {
                Fatal::input(anyhow!(
                    "the policy made no decision for finding {}",
                    finding.id
                ))
            })?;
            let run = match (&decision.action, &decision.plugin, &decision.control) {
                (Action::Remediate, Some(plugin), Some(control)) => Some(Run {
                    control: control.clone(),
                    plugin: source(args, Some(&plugin.name))?,
                    version: Some(plugin.version.clone()),
                    sha256: plugin.sha256.clone(),
                    grants: decision.grants.clone(),
                    params: decision
                        .params
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                }),
                _ => None,
            };
            Ok(Job {
                finding,
                decision: Some(decision),
                run,
            })
        })
        .collect()
}

async fn load(runtime: &Runtime, loader: Option<&Loader>, run: &Run) -> Result<Arc<Plugin>, Fatal> {
    let grants = Grants::new(&run.grants).map_err(Fatal::input)?;
    let refused =
        |e: hubfix_host::LoadError| Fatal::input(anyhow!("plugin {} refused: {e}", run.plugin));
    match (&run.plugin, loader) {
        (PluginLocation::Registry(name), Some(loader)) => {
            let (plugin, source) = loader
                .plugin_expecting(
                    runtime,
                    name,
                    run.version.as_deref(),
                    run.sha256.as_deref(),
                    &grants,
                )
                .await
                .map_err(refused)?;
            tracing::info!(plugin = %name, ?source, "plugin loaded from the registry");
            Ok(plugin)
        }
        (PluginLocation::Registry(name), None) => {
            Err(Fatal::input(anyhow!("plugin {name}: no --registry given")))
        }
        (PluginLocation::File(path), _) => {
            let bytes = read_file(path)?;
            let expected = run.sha256.clone().unwrap_or_else(|| sha256_hex(&bytes));
            runtime
                .load(&bytes, &expected, grants)
                .await
                .map(Arc::new)
                .map_err(refused)
        }
    }
}

fn print(args: &RunArgs, results: &[(Option<Decision>, Option<Outcome>)]) -> Result<(), Fatal> {
    match args.output {
        Output::Json => {
            let values: Vec<Value> = if args.policy.is_some() {
                results
                    .iter()
                    .map(|(d, o)| json!({"decision": d, "outcome": o}))
                    .collect()
            } else {
                results
                    .iter()
                    .filter_map(|(_, o)| o.as_ref())
                    .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
                    .collect()
            };
            let value = match <[Value; 1]>::try_from(values) {
                Ok([one]) => one,
                Err(many) => Value::Array(many),
            };
            let text = serde_json::to_string_pretty(&value).map_err(Fatal::input)?;
            out!("{text}");
        }
        Output::Table => {
            for (decision, outcome) in results {
                match (decision, outcome) {
                    (_, Some(outcome)) => table::print_outcomes(std::slice::from_ref(outcome)),
                    (Some(d), None) => out!(
                        "{:<17} {:<8} {}  not remediated: {}",
                        d.action.to_string(),
                        d.control.as_deref().unwrap_or("?"),
                        d.account_id.as_deref().unwrap_or("?"),
                        d.reason
                    ),
                    (None, None) => {}
                }
            }
        }
    }
    Ok(())
}
