//! The engine, the linker, plugin loading and one remediation run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hubfix_finding::Finding;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable, types::ComponentItem};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Store,
    Trap,
};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::aws::{LimitExceeded, PluginCtx, Session, SessionFactory};
use crate::bindings::{self, Control, ControlPre};
use crate::bounded::{MAX_TEXT, kept};
use crate::error::{LoadError, SetupError};
use crate::functions::{self, Grants};

use crate::outcome::{Failure, LogLine, Outcome, PluginRef, Status};
use crate::scope::Scope;

/// How often the engine's epoch advances; the deadline's resolution.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// WASI interfaces a plugin may import. All are linked against an empty context: no
/// environment variables, no arguments, no stdin, no preopened directory (so the
/// filesystem interfaces, which `cargo component`'s wasip1 adapter always imports, reach
/// no file), stderr kept for the audit record, stdout discarded. Sockets are never
/// linked, so a component importing them is refused.
const WASI_ALLOWED: &[&str] = &[
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// The plugin contract's package prefix in import names.
const CONTRACT: &str = "hubfix:plugin/";

/// Host settings that hold for the whole process.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// The role assumed in every member account.
    pub role_name: String,
    /// Wall-clock limit of one remediation (plugin run including its AWS calls).
    pub deadline: Duration,
    /// Most linear memory one plugin instance may have, in bytes.
    pub memory_limit: usize,
    /// Most host calls one remediation may make.
    pub max_calls: u32,
    /// Duration of the assumed-role session, in seconds (AWS minimum 900).
    pub session_duration_secs: i32,
    /// Instances that may run at once in this process with the pooling allocator (slots
    /// are reserved up front and reused, with copy-on-write memory images); `0` uses
    /// on-demand allocation instead.
    pub pool_size: u32,
    /// Names of resources plugins may create must start with this (the `create` scope);
    /// lowercase letters, digits and `-`, 1 to 32 characters. Empty: nothing may be
    /// created.
    pub create_prefix: String,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            role_name: "HubfixRemediationRole".into(),
            deadline: Duration::from_secs(30),
            memory_limit: 64 << 20,
            max_calls: 200,
            session_duration_secs: 900,
            pool_size: 16,
            create_prefix: crate::scope::DEFAULT_CREATE_PREFIX.into(),
        }
    }
}

/// `apply` makes mutating calls; `plan` records them without making them: the contract's
/// `mode` (WIT `types.mode`), the one type the host, its callers and plugins share.
pub use crate::bindings::types::Mode;

/// One remediation to run.
#[derive(Debug, Clone)]
pub struct Request {
    /// The finding to fix.
    pub finding: Finding,
    /// The control it is about (from the policy's decision, or the finding itself).
    pub control: String,
    /// The plugin's parameters.
    pub params: Vec<(String, String)>,
    /// Apply or plan.
    pub mode: Mode,
}

/// What a component imports, sorted into the three kinds the host cares about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imports {
    /// Host functions, `service.function` (grant names).
    pub functions: Vec<String>,
    /// WASI interfaces the host links with an empty context.
    pub wasi: Vec<String>,
    /// Imports the host never provides.
    pub forbidden: Vec<String>,
}

impl Imports {
    /// The imported host functions missing from `grants`.
    pub fn missing(&self, grants: &Grants) -> Vec<String> {
        self.functions
            .iter()
            .filter(|f| !grants.contains(f))
            .cloned()
            .collect()
    }
}

/// A plugin that passed every load check, pre-linked and ready to instantiate.
pub struct Plugin {
    pre: ControlPre<StoreData>,
    grants: Arc<Grants>,
    imports: Imports,
    info: PluginRef,
    controls: Vec<String>,
}

impl Plugin {
    /// Name, version (from `describe()`) and sha256 of the component.
    pub fn info(&self) -> &PluginRef {
        &self.info
    }

    /// The controls the plugin says it handles.
    pub fn controls(&self) -> &[String] {
        &self.controls
    }

    /// What the component imports.
    pub fn imports(&self) -> &Imports {
        &self.imports
    }

    /// What it was granted.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }
}

/// Longest name, version or control id kept from a plugin's `describe()`, in bytes.
const MAX_DESCRIBED: usize = 128;
/// Most controls kept from a plugin's `describe()`.
const MAX_CONTROLS: usize = 256;

/// Most bytes of a plugin's stderr kept (where a Rust guest's panic message goes).
const STDERR_CAPACITY: usize = 64 << 10;

/// The per-invocation store data.
pub struct StoreData {
    wasi: WasiCtx,
    stderr: MemoryOutputPipe,
    table: ResourceTable,
    limiter: MemoryLimiter,
    plugin: PluginCtx,
}

impl WasiView for StoreData {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps what one remediation's instances may hold together, whatever the component is
/// made of: the sum of all its linear memories (`memory_limit`), table elements, and how
/// many memories, tables and core instances it may create. Remembers whether the memory
/// cap was hit.
struct MemoryLimiter {
    limit: usize,
    /// Bytes of linear memory the store holds, all memories together.
    memory: usize,
    /// Table elements the store holds, all tables together.
    elements: usize,
    /// `(memory, elements)` before the last growth allowed, restored if it then fails.
    before: (usize, usize),
    hit: Option<LimitExceeded>,
}

/// Most table elements one remediation may hold, all tables together.
const MAX_TABLE_ELEMENTS: usize = 100_000;
/// Most linear memories one remediation may create (a Rust component has one or two).
const MAX_MEMORIES: usize = 4;
/// Most tables one remediation may create.
const MAX_TABLES: usize = 16;
/// Most core instances one remediation may create (a Rust component has a handful).
const MAX_INSTANCES: usize = 32;

impl MemoryLimiter {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            memory: 0,
            elements: 0,
            before: (0, 0),
            hit: None,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Also called with `current == 0` when a memory is created.
        let total = (self.memory - current.min(self.memory)).saturating_add(desired);
        if total > self.limit {
            let limit = LimitExceeded::Memory {
                desired: total,
                limit: self.limit,
            };
            self.hit = Some(limit);
            return Err(wasmtime::Error::new(limit));
        }
        self.before = (self.memory, self.elements);
        self.memory = total;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory = self.before.0;
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = (self.elements - current.min(self.elements)).saturating_add(desired);
        if total > MAX_TABLE_ELEMENTS {
            return Ok(false);
        }
        self.before = (self.memory, self.elements);
        self.elements = total;
        Ok(true)
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.elements = self.before.1;
        Ok(())
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

/// Advances the engine's epoch on a background thread for as long as the runtime lives.
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        thread::Builder::new()
            .name("hubfix-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!("cannot start the epoch thread: {e}"));
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The plugin host: one per process. Holds the engine, the linker and the AWS
/// configuration; loads plugins and runs remediations, each in a fresh store.
pub struct Runtime {
    engine: Engine,
    linker: Linker<StoreData>,
    config: HostConfig,
    aws: aws_config::SdkConfig,
    sts: aws_sdk_sts::Client,
    _ticker: EpochTicker,
}

impl Runtime {
    /// Builds the engine and linker once. `aws` is the host's own AWS configuration
    /// (credentials that may assume the remediation role; the endpoint, e.g. the
    /// emulator's through `AWS_ENDPOINT_URL`).
    pub fn new(config: HostConfig, aws: aws_config::SdkConfig) -> Result<Self, SetupError> {
        let prefix = &config.create_prefix;
        if prefix.len() > 32
            || !prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(SetupError::Config(format!(
                "create prefix `{prefix}`: use at most 32 lowercase letters, digits and `-`"
            )));
        }
        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .epoch_interruption(true)
            .max_wasm_stack(1 << 20);
        if config.pool_size > 0 {
            let n = config.pool_size;
            let mut pool = PoolingAllocationConfig::new();
            // A Rust component is a handful of core instances, usually one memory; the
            // store's limiter caps each remediation below these per-component maxima.
            pool.total_component_instances(n)
                .total_core_instances(n * 8)
                .total_memories(n * 2)
                .total_tables(n * 4)
                .total_stacks(n)
                .max_memory_size(config.memory_limit)
                .max_memories_per_component(MAX_MEMORIES as u32)
                .max_tables_per_component(MAX_TABLES as u32)
                .max_core_instances_per_component(MAX_INSTANCES as u32);
            wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&wasm).map_err(|e| SetupError::Engine(format!("{e:#}")))?;
        let linker = build_linker(&engine).map_err(|e| SetupError::Engine(format!("{e:#}")))?;
        let sts = aws_sdk_sts::Client::new(&aws);
        let ticker = EpochTicker::start(engine.clone());
        Ok(Self {
            engine,
            linker,
            config,
            aws,
            sts,
            _ticker: ticker,
        })
    }

    /// The host's settings.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Compiles a component and sorts its imports, without checking grants or digest.
    /// This is what `hubfix check` shows.
    pub fn inspect(&self, bytes: &[u8]) -> Result<Imports, LoadError> {
        let component = self.compile(bytes)?;
        Ok(self.imports_of(&component))
    }

    /// Loads a plugin: checks the sha256 first (nothing is compiled before it matches),
    /// then that every import is provided and granted, pre-links it and asks it to
    /// `describe()` itself.
    pub async fn load(
        &self,
        bytes: &[u8],
        expected_sha256: &str,
        grants: Grants,
    ) -> Result<Plugin, LoadError> {
        let actual = sha256_hex(bytes);
        if !actual.eq_ignore_ascii_case(expected_sha256.trim()) {
            return Err(LoadError::Integrity {
                expected: expected_sha256.trim().to_ascii_lowercase(),
                actual,
            });
        }
        let component = self.compile(bytes)?;
        self.prepare(&component, actual, grants).await
    }

    /// Compiles a component and asks it to describe itself, granting (for this check only)
    /// whatever it imports: what `hubfix publish` needs before it knows the policy entry.
    pub async fn describe(&self, bytes: &[u8]) -> Result<Plugin, LoadError> {
        let component = self.compile(bytes)?;
        let imports = self.imports_of(&component);
        let grants = Grants::new(&imports.functions).unwrap_or_default();
        self.prepare(&component, sha256_hex(bytes), grants).await
    }

    /// Checks a compiled component's imports against `grants`, pre-links it and asks it
    /// to `describe()` itself. `sha256` must be the verified digest of the bytes it was
    /// compiled from.
    pub(crate) async fn prepare(
        &self,
        component: &Component,
        sha256: String,
        grants: Grants,
    ) -> Result<Plugin, LoadError> {
        let imports = self.imports_of(component);
        if !imports.forbidden.is_empty() {
            return Err(LoadError::ForbiddenImports {
                imports: imports.forbidden,
            });
        }
        let missing = imports.missing(&grants);
        if !missing.is_empty() {
            return Err(LoadError::MissingGrants { missing });
        }
        let pre = self
            .linker
            .instantiate_pre(component)
            .and_then(ControlPre::new)
            .map_err(|e| LoadError::WrongWorld(format!("{e:#}")))?;
        // `describe()` runs with nothing granted and no AWS session: it must not call out.
        let mut store = self.store(PluginCtx::new(
            Scope::empty(),
            Arc::new(Grants::default()),
            Mode::Plan,
            Session::None,
            0,
        ));
        let described = async {
            let control = pre.instantiate_async(&mut store).await?;
            control.call_describe(&mut store).await
        };
        let info = tokio::time::timeout(self.config.deadline, described)
            .await
            .map_err(|_| LoadError::WrongWorld("describe() did not return in time".into()))?
            .map_err(|e| LoadError::WrongWorld(format!("describe() failed: {e:#}")))?;
        // What the guest says of itself is guest text: bounded and escaped like the rest.
        Ok(Plugin {
            pre,
            grants: Arc::new(grants),
            imports,
            info: PluginRef {
                name: kept(&info.name, MAX_DESCRIBED),
                version: kept(&info.version, MAX_DESCRIBED),
                sha256: Some(sha256),
            },
            controls: info
                .controls
                .iter()
                .take(MAX_CONTROLS)
                .map(|c| kept(c, MAX_DESCRIBED))
                .collect(),
        })
    }

    /// Runs one remediation. Never fails as a Rust error: every way it can end (limits,
    /// traps, refused calls, credentials) is an [`Outcome`] with a status.
    pub async fn remediate(&self, plugin: &Plugin, request: &Request) -> Outcome {
        let started = Instant::now();
        let finding = &request.finding;
        let mut outcome = Outcome {
            finding_id: finding.id.clone(),
            control: request.control.clone(),
            account_id: finding.account_id.clone(),
            region: finding.region.clone(),
            mode: match request.mode {
                Mode::Apply => "apply",
                Mode::Plan => "plan",
            },
            status: Status::Failed,
            message: String::new(),
            failure: None,
            plugin: plugin.info.clone(),
            calls: Vec::new(),
            logs: Vec::new(),
            duration_ms: 0.0,
        };

        // A plugin runs only for the controls it says it handles.
        if !plugin.controls.contains(&request.control) {
            outcome.status = Status::Denied;
            outcome.message = format!(
                "the host refused to run plugin `{}` for control {}: its describe() names only [{}]",
                plugin.info.name,
                kept(&request.control, MAX_DESCRIBED),
                plugin.controls.join(", ")
            );
            outcome.duration_ms = started.elapsed().as_secs_f64() * 1e3;
            return outcome;
        }
        let mode = request.mode;
        let scope = Scope::of(finding, &self.config.create_prefix);
        let ctx = PluginCtx::new(
            scope.clone(),
            plugin.grants.clone(),
            mode,
            self.session(plugin, request, &scope),
            self.config.max_calls,
        );
        let mut store = self.store(ctx);
        let wit_request = bindings::types::Request {
            finding: to_wit(finding, &request.control),
            params: request.params.clone(),
            mode,
        };
        let run = async {
            let control: Control = plugin.pre.instantiate_async(&mut store).await?;
            control.call_remediate(&mut store, &wit_request).await
        };
        let result = tokio::time::timeout(self.config.deadline, run).await;

        let data = store.into_data();
        let memory_hit = data.limiter.hit;
        let stderr = String::from_utf8_lossy(&data.stderr.contents())
            .trim()
            .to_owned();
        let stderr_kept = kept(&stderr, STDERR_CAPACITY);
        let trail = data.plugin.into_trail();
        outcome.calls = trail.calls;
        outcome.logs = trail.logs;
        if !stderr.is_empty() {
            outcome.logs.push(LogLine {
                level: "stderr",
                message: stderr_kept,
            });
        }
        match result {
            Err(_elapsed) => {
                outcome.failure = Some(Failure::Deadline);
                outcome.message = format!(
                    "the plugin did not finish within the deadline of {:?}",
                    self.config.deadline
                );
            }
            Ok(Err(trap)) => {
                let (failure, mut message) = classify_trap(&trap, memory_hit, self.config.deadline);
                // A Rust guest writes its panic message to stderr just before trapping.
                let mut lines = stderr.lines().skip_while(|l| !l.contains("panicked at"));
                if let Some(at) = lines.next() {
                    let what = lines.next().unwrap_or_default();
                    let at = at.trim_end_matches(':');
                    message = kept(&format!("{message} ({at} {what})"), MAX_TEXT);
                }
                outcome.failure = Some(failure);
                outcome.message = message;
            }
            Ok(Ok(plugin_outcome)) => {
                use bindings::types::Status as S;
                outcome.status = match plugin_outcome.status {
                    S::Remediated => Status::Remediated,
                    S::AlreadyCompliant => Status::AlreadyCompliant,
                    S::Skipped => Status::Skipped,
                    S::Failed => Status::Failed,
                };
                outcome.message = kept(&plugin_outcome.message, MAX_TEXT);
            }
        }
        if let Some(message) = trail.credentials_error {
            outcome.status = Status::Failed;
            outcome.failure = Some(Failure::Credentials);
            outcome.message = format!("{message}; plugin said: {}", outcome.message);
        } else if trail.denied > 0 && outcome.failure.is_none() {
            outcome.status = Status::Denied;
            let unnamed = trail.denied - trail.denials.len();
            let more = if unnamed > 0 {
                format!("; and {unnamed} more")
            } else {
                String::new()
            };
            outcome.message = format!(
                "host denied {} call(s): {}{more}; plugin said: {}",
                trail.denied,
                trail.denials.join("; "),
                outcome.message
            );
        }
        outcome.duration_ms = started.elapsed().as_secs_f64() * 1e3;
        tracing::info!(
            target: "hubfix::audit",
            finding_id = %outcome.finding_id,
            control = %outcome.control,
            plugin = %outcome.plugin.name,
            version = %outcome.plugin.version,
            sha256 = %outcome.plugin.digest(),
            status = outcome.status.as_str(),
            calls = outcome.calls.len(),
            duration_ms = outcome.duration_ms,
            "remediation finished"
        );
        outcome
    }

    /// How the remediation reaches AWS: the role is assumed on the plugin's first AWS
    /// call; nothing granted means no session at all.
    fn session(&self, plugin: &Plugin, request: &Request, scope: &Scope) -> Session {
        if plugin.grants.is_empty() {
            return Session::None;
        }
        let f = &request.finding;
        Session::Lazy(Box::new(SessionFactory {
            base: self.aws.clone(),
            sts: self.sts.clone(),
            policy: plugin.grants.session_policy(scope),
            partition: f.partition.clone(),
            account_id: f.account_id.clone(),
            region: f.region.clone(),
            role_name: self.config.role_name.clone(),
            control: request.control.clone(),
            finding_id: f.id.clone(),
            duration_secs: self.config.session_duration_secs,
        }))
    }

    /// The engine, for the loader's compiled-code cache.
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) fn compile(&self, bytes: &[u8]) -> Result<Component, LoadError> {
        Component::new(&self.engine, bytes)
            .map_err(|e| LoadError::InvalidComponent(format!("{e:#}")))
    }

    fn imports_of(&self, component: &Component) -> Imports {
        let mut imports = Imports::default();
        let ty = component.component_type();
        for (name, item) in ty.imports(&self.engine) {
            let interface = name.split('@').next().unwrap_or(name);
            if let Some(service) = interface.strip_prefix(CONTRACT) {
                let ComponentItem::ComponentInstance(instance) = item.ty else {
                    imports.forbidden.push(name.to_owned());
                    continue;
                };
                for (function, export) in instance.exports(&self.engine) {
                    if !matches!(export.ty, ComponentItem::ComponentFunc(_)) {
                        continue; // Types the interface shares, not callable.
                    }
                    match contract_import(service, function) {
                        ContractImport::Log => {}
                        ContractImport::Function(grant) => imports.functions.push(grant),
                        ContractImport::Forbidden(name) => imports.forbidden.push(name),
                    }
                }
            } else if WASI_ALLOWED.contains(&interface) {
                imports.wasi.push(interface.to_owned());
            } else {
                imports.forbidden.push(name.to_owned());
            }
        }
        imports.functions.sort();
        imports.wasi.sort();
        imports.forbidden.sort();
        imports
    }

    fn store(&self, plugin: PluginCtx) -> Store<StoreData> {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let data = StoreData {
            wasi: WasiCtx::builder().stderr(stderr.clone()).build(),
            stderr,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(self.config.memory_limit),
            plugin,
        };
        let mut store = Store::new(&self.engine, data);
        store.limiter(|d| &mut d.limiter);
        let ticks = self.config.deadline.as_millis() / EPOCH_TICK.as_millis() + 1;
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        store.epoch_deadline_trap();
        store
    }
}

/// What one function a component imports from the contract's interfaces is.
#[derive(Debug, PartialEq, Eq)]
enum ContractImport {
    /// `log.log`: always available, not an AWS operation.
    Log,
    /// A host function, by grant name.
    Function(String),
    /// Anything else (`log.other`, a function the contract does not have).
    Forbidden(String),
}

fn contract_import(service: &str, function: &str) -> ContractImport {
    let name = format!("{service}.{function}");
    if name == "log.log" {
        ContractImport::Log
    } else if service != "log" && functions::lookup(&name).is_some() {
        ContractImport::Function(name)
    } else {
        ContractImport::Forbidden(name)
    }
}

fn build_linker(engine: &Engine) -> wasmtime::Result<Linker<StoreData>> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView as _};
    use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView as _};
    use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random};
    use wasmtime_wasi::random::WasiRandom;
    use wasmtime_wasi_io::bindings::wasi::io;

    struct Io;
    impl wasmtime::component::HasData for Io {
        type Data<'a> = &'a mut ResourceTable;
    }

    let mut linker = Linker::new(engine);
    Control::add_to_linker::<_, HasSelf<PluginCtx>>(&mut linker, |d: &mut StoreData| {
        &mut d.plugin
    })?;
    let l = &mut linker;
    io::error::add_to_linker::<StoreData, Io>(l, |d| &mut d.table)?;
    io::poll::add_to_linker::<StoreData, Io>(l, |d| &mut d.table)?;
    io::streams::add_to_linker::<StoreData, Io>(l, |d| &mut d.table)?;
    clocks::wall_clock::add_to_linker::<StoreData, WasiClocks>(l, StoreData::clocks)?;
    clocks::monotonic_clock::add_to_linker::<StoreData, WasiClocks>(l, StoreData::clocks)?;
    random::random::add_to_linker::<StoreData, WasiRandom>(l, |d| d.wasi.random())?;
    random::insecure::add_to_linker::<StoreData, WasiRandom>(l, |d| d.wasi.random())?;
    random::insecure_seed::add_to_linker::<StoreData, WasiRandom>(l, |d| d.wasi.random())?;
    filesystem::types::add_to_linker::<StoreData, WasiFilesystem>(l, StoreData::filesystem)?;
    filesystem::preopens::add_to_linker::<StoreData, WasiFilesystem>(l, StoreData::filesystem)?;
    cli::exit::add_to_linker::<StoreData, WasiCli>(l, StoreData::cli)?;
    cli::environment::add_to_linker::<StoreData, WasiCli>(l, StoreData::cli)?;
    cli::stdin::add_to_linker::<StoreData, WasiCli>(l, StoreData::cli)?;
    cli::stdout::add_to_linker::<StoreData, WasiCli>(l, StoreData::cli)?;
    cli::stderr::add_to_linker::<StoreData, WasiCli>(l, StoreData::cli)?;
    cli::terminal_input::add_to_linker::<StoreData, WasiCli>(l, StoreData::cli)?;
    cli::terminal_output::add_to_linker::<StoreData, WasiCli>(l, StoreData::cli)?;
    cli::terminal_stdin::add_to_linker::<StoreData, WasiCli>(l, StoreData::cli)?;
    cli::terminal_stdout::add_to_linker::<StoreData, WasiCli>(l, StoreData::cli)?;
    cli::terminal_stderr::add_to_linker::<StoreData, WasiCli>(l, StoreData::cli)?;
    Ok(linker)
}

fn classify_trap(
    error: &wasmtime::Error,
    memory_hit: Option<LimitExceeded>,
    deadline: Duration,
) -> (Failure, String) {
    if let Some(limit) = error
        .downcast_ref::<LimitExceeded>()
        .copied()
        .or(memory_hit)
    {
        let failure = match limit {
            LimitExceeded::Calls(_) | LimitExceeded::Logs(_) => Failure::CallLimit,
            LimitExceeded::Memory { .. } => Failure::MemoryLimit,
        };
        return (failure, limit.to_string());
    }
    if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        return (
            Failure::Deadline,
            format!("the plugin did not finish within the deadline of {deadline:?}"),
        );
    }
    match error.downcast_ref::<Trap>() {
        Some(trap) => (Failure::Trap, format!("the plugin trapped: {trap}")),
        None => (
            Failure::Trap,
            format!("the plugin failed: {}", error.root_cause()),
        ),
    }
}

/// The finding as the plugin contract's record.
fn to_wit(finding: &Finding, control: &str) -> bindings::types::Finding {
    bindings::types::Finding {
        id: finding.id.clone(),
        control_id: control.to_owned(),
        generator_id: finding.generator_id.clone(),
        account_id: finding.account_id.clone(),
        region: finding.region.clone(),
        partition: finding.partition.clone(),
        title: finding.title.clone(),
        resources: finding
            .resources
            .iter()
            .map(|r| bindings::types::Resource {
                type_: r.resource_type.clone(),
                id: r.id.clone(),
                partition: r.partition.clone(),
                region: r.region.clone(),
                details: r.details.as_ref().map(|d| d.to_string()),
            })
            .collect(),
        raw: finding.raw.to_string(),
    }
}

pub use hubfix_contract::sha256_hex;

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{ComponentBuilder, MemorySection, MemoryType, Module, ModuleArg};

    const MIB: u64 = 1 << 20;

    /// A component of `instances` core instances of one module that has one linear
    /// memory of `bytes` (a guest cannot ask for more memory by splitting it up).
    fn component(instances: usize, bytes: u64) -> Vec<u8> {
        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: bytes / (64 << 10),
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        let mut module = Module::new();
        module.section(&memories);
        let mut builder = ComponentBuilder::default();
        let index = builder.core_module(None, &module);
        for _ in 0..instances {
            builder.core_instantiate(None, index, std::iter::empty::<(&str, ModuleArg)>());
        }
        builder.finish()
    }

    /// Instantiates `bytes` in a fresh remediation store; on failure, the error and
    /// whether the memory limit was what stopped it.
    async fn instantiate(rt: &Runtime, bytes: &[u8]) -> Result<(), (String, bool)> {
        let component = rt.compile(bytes).map_err(|e| (e.to_string(), false))?;
        let ctx = PluginCtx::new(
            Scope::empty(),
            Arc::new(Grants::default()),
            Mode::Plan,
            Session::None,
            0,
        );
        let mut store = rt.store(ctx);
        let result = rt.linker.instantiate_async(&mut store, &component).await;
        result
            .map(|_| ())
            .map_err(|e| (format!("{e:#}"), store.data().limiter.hit.is_some()))
    }

    #[test]
    fn check_and_run_sort_contract_imports_alike() {
        use ContractImport::*;
        assert_eq!(contract_import("log", "log"), Log);
        assert_eq!(
            contract_import("log", "flush"),
            Forbidden("log.flush".into())
        );
        assert_eq!(
            contract_import("ec2", "revoke-security-group-ingress"),
            Function("ec2.revoke-security-group-ingress".into())
        );
        assert_eq!(
            contract_import("ec2", "delete-vpc"),
            Forbidden("ec2.delete-vpc".into())
        );
    }

    #[tokio::test]
    async fn the_memory_limit_holds_for_all_of_a_components_memories_together() {
        let aws = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        for pool_size in [0, 2] {
            let config = HostConfig {
                memory_limit: 64 << 20,
                pool_size,
                ..HostConfig::default()
            };
            let rt = Runtime::new(config, aws.clone()).unwrap();
            assert_eq!(instantiate(&rt, &component(1, 30 * MIB)).await, Ok(()));
            // Three memories of 30 MiB each fit one by one, not together.
            let (error, memory_hit) = instantiate(&rt, &component(3, 30 * MIB)).await.unwrap_err();
            assert!(memory_hit, "pool {pool_size}: {error}");
            // Many small memories: refused by count, before their sum matters.
            let (error, _) = instantiate(&rt, &component(MAX_MEMORIES + 1, MIB))
                .await
                .unwrap_err();
            assert!(
                error.contains("memor") || error.contains("instance"),
                "pool {pool_size}: {error}"
            );
            // The runtime still instantiates a component within the limits.
            assert_eq!(instantiate(&rt, &component(2, 30 * MIB)).await, Ok(()));
        }
    }
}
