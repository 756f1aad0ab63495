//! Plugins from the S3 registry, hot-loaded: the index is re-read (conditionally) after a
//! short TTL, bytes are fetched once per digest and verified while read, compiled
//! components are cached in memory by digest and on local disk by digest and engine.
//!
//! Nothing precompiled ever comes from S3: the disk cache holds only this host's own
//! compiler output for bytes whose digest it verified, sealed so that no other file is
//! ever run in its place (`disk_cache`).

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use hubfix_registry::signature::TrustedKeys;
use hubfix_registry::{Index, IndexRead, Pinned, Registry, RegistryError};
use tokio::sync::Mutex;
use wasmtime::component::Component;

use crate::disk_cache::{DiskCache, default_cache_dir};
use crate::error::LoadError;
use crate::functions::Grants;
use crate::outcome::PluginRef;
use crate::runtime::{Plugin, Runtime};

/// How the loader reaches and caches plugins.
#[derive(Debug, Clone)]
pub struct LoaderConfig {
    /// How long a read of the index is trusted before it is checked again (with the
    /// ETag, so an unchanged index costs one small 304 response).
    pub index_ttl: Duration,
    /// Where compiled components are cached on local disk (default: a per-user
    /// directory under the temporary directory; Lambda: under `/tmp`). It must be this
    /// user's own and private (created `0700`); otherwise the disk cache is off, with a
    /// warning. `None` disables the disk cache.
    pub cache_dir: Option<PathBuf>,
    /// When set, only plugins signed by one of these keys are run: each active version's
    /// signature (`<component key>.sig`) is checked against its name, version and digest
    /// before its bytes are used, whatever cache they come from.
    pub trusted_keys: Option<TrustedKeys>,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        Self {
            index_ttl: Duration::from_secs(5),
            cache_dir: Some(default_cache_dir()),
            trusted_keys: None,
        }
    }
}

/// Where a plugin came from, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadedFrom {
    /// Already prepared in memory.
    Memory,
    /// Deserialized from the local compiled-code cache.
    Disk,
    /// Fetched from S3 and compiled.
    Fetched,
}

struct IndexState {
    index: Option<Index>,
    etag: Option<String>,
    checked: Option<Instant>,
}

/// Loads plugins by name from a [`Registry`], for one [`Runtime`].
pub struct Loader {
    registry: Registry,
    config: LoaderConfig,
    index: Mutex<IndexState>,
    /// Prepared plugins by (digest, grants).
    plugins: Mutex<HashMap<(String, String), Arc<Plugin>>>,
    /// Compiled components by digest.
    components: Mutex<HashMap<String, Component>>,
    /// The disk cache, opened on first use; `None` when off or refused.
    disk: OnceLock<Option<DiskCache>>,
    /// (name, version, digest) whose signature verified.
    verified: Mutex<HashSet<(String, String, String)>>,
}

impl Loader {
    /// A loader over `registry`.
    pub fn new(registry: Registry, config: LoaderConfig) -> Self {
        Self {
            registry,
            config,
            index: Mutex::new(IndexState {
                index: None,
                etag: None,
                checked: None,
            }),
            plugins: Mutex::new(HashMap::new()),
            components: Mutex::new(HashMap::new()),
            disk: OnceLock::new(),
            verified: Mutex::new(HashSet::new()),
        }
    }

    /// The registry it reads.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The active version of plugin `name`, ready to run with `grants`.
    ///
    /// Errors: `UnknownPlugin` (not in the index; not retryable), `Unavailable` (S3
    /// unreachable or throttled and the plugin not cached; retryable), `Integrity` (the
    /// stored bytes are not the pinned ones), and the load checks of [`Runtime::load`].
    pub async fn plugin(
        &self,
        runtime: &Runtime,
        name: &str,
        grants: &Grants,
    ) -> Result<(Arc<Plugin>, LoadedFrom), LoadError> {
        let pinned = self.active(name).await?;
        self.load_active(runtime, name, pinned, grants).await
    }

    /// Like [`Loader::plugin`] for the plugin the policy names: the registry's active
    /// version must be the policy's `version` (else `Version`, naming both), and when the
    /// policy pins a digest too, it must have exactly that digest (else `Integrity`).
    pub async fn plugin_pinned(
        &self,
        runtime: &Runtime,
        expected: &PluginRef,
        grants: &Grants,
    ) -> Result<(Arc<Plugin>, LoadedFrom), LoadError> {
        self.plugin_expecting(
            runtime,
            &expected.name,
            Some(&expected.version),
            expected.sha256.as_deref(),
            grants,
        )
        .await
    }

    /// [`Loader::plugin`] with the checks of [`Loader::plugin_pinned`] for whichever of
    /// version and digest are given (`hubfix run --registry` without a policy gives
    /// neither).
    pub async fn plugin_expecting(
        &self,
        runtime: &Runtime,
        name: &str,
        version: Option<&str>,
        sha256: Option<&str>,
        grants: &Grants,
    ) -> Result<(Arc<Plugin>, LoadedFrom), LoadError> {
        let pinned = self.active(name).await?;
        if let Some(expected) = version
            && pinned.version != expected
        {
            return Err(LoadError::Version {
                plugin: name.to_owned(),
                expected: expected.to_owned(),
                active: pinned.version,
            });
        }
        if let Some(expected) = sha256
            && !expected.eq_ignore_ascii_case(&pinned.sha256)
        {
            return Err(LoadError::Integrity {
                expected: expected.to_ascii_lowercase(),
                actual: pinned.sha256,
            });
        }
        self.load_active(runtime, name, pinned, grants).await
    }

    async fn load_active(
        &self,
        runtime: &Runtime,
        name: &str,
        pinned: Pinned,
        grants: &Grants,
    ) -> Result<(Arc<Plugin>, LoadedFrom), LoadError> {
        self.check_signature(name, &pinned).await?;
        let key = (pinned.sha256.clone(), grants.to_string());
        if let Some(plugin) = self.plugins.lock().await.get(&key) {
            same_identity(plugin, name, &pinned.version)?;
            return Ok((plugin.clone(), LoadedFrom::Memory));
        }
        let (component, source) = self.component(runtime, &pinned).await?;
        let plugin = runtime
            .prepare(&component, pinned.sha256.clone(), grants.clone())
            .await?;
        same_identity(&plugin, name, &pinned.version)?;
        let plugin = Arc::new(plugin);
        self.plugins.lock().await.insert(key, plugin.clone());
        Ok((plugin, source))
    }

    /// With trusted keys configured: the active version's signature must verify (once
    /// per name, version and digest; then remembered).
    async fn check_signature(&self, name: &str, pinned: &Pinned) -> Result<(), LoadError> {
        let Some(trusted) = &self.config.trusted_keys else {
            return Ok(());
        };
        let id = (
            name.to_owned(),
            pinned.version.clone(),
            pinned.sha256.clone(),
        );
        if self.verified.lock().await.contains(&id) {
            return Ok(());
        }
        let signature = self
            .registry
            .fetch_signature(pinned)
            .await?
            .ok_or_else(|| {
                LoadError::Signature(format!(
                    "plugin `{name}` {} is not signed, and this host runs only signed plugins",
                    pinned.version
                ))
            })?;
        let key_id = trusted
            .verify(name, &pinned.version, &pinned.sha256, &signature)
            .map_err(|e| LoadError::Signature(e.to_string()))?;
        tracing::info!(plugin = name, version = %pinned.version, key_id, "plugin signature verified");
        self.verified.lock().await.insert(id);
        Ok(())
    }

    /// The pinned active version of `name`, from an index at most `index_ttl` old. When
    /// S3 cannot be reached the last index read keeps serving.
    async fn active(&self, name: &str) -> Result<Pinned, LoadError> {
        let mut state = self.index.lock().await;
        let fresh = state
            .checked
            .is_some_and(|at| at.elapsed() < self.config.index_ttl);
        if !fresh {
            match self.registry.read_index(state.etag.as_deref()).await {
                Ok(IndexRead::NotModified) => state.checked = Some(Instant::now()),
                Ok(IndexRead::Current { index, etag }) => {
                    state.index = Some(index);
                    state.etag = etag;
                    state.checked = Some(Instant::now());
                }
                Err(e) if state.index.is_some() && e.is_retryable() => {
                    tracing::warn!(error = %e, "registry index unavailable; serving the last one read");
                }
                Err(e) => return Err(LoadError::from(e)),
            }
        }
        let index = state
            .index
            .as_ref()
            .ok_or_else(|| LoadError::UnknownPlugin(name.to_owned()))?;
        index
            .active(name)
            .map(|entry| entry.active.clone())
            .map_err(|_| LoadError::UnknownPlugin(name.to_owned()))
    }

    async fn component(
        &self,
        runtime: &Runtime,
        pinned: &Pinned,
    ) -> Result<(Component, LoadedFrom), LoadError> {
        if let Some(component) = self.components.lock().await.get(&pinned.sha256) {
            return Ok((component.clone(), LoadedFrom::Memory));
        }
        let disk = self.disk();
        let name = cache_name(runtime, &pinned.sha256);
        if let Some(disk) = disk
            && let Some(component) = disk.read(runtime.engine(), &name)
        {
            self.components
                .lock()
                .await
                .insert(pinned.sha256.clone(), component.clone());
            return Ok((component, LoadedFrom::Disk));
        }
        let bytes = self.registry.fetch(pinned).await?;
        let component = runtime.compile(&bytes)?;
        if let Some(disk) = disk {
            disk.write(&component, &name);
        }
        self.components
            .lock()
            .await
            .insert(pinned.sha256.clone(), component.clone());
        Ok((component, LoadedFrom::Fetched))
    }

    /// The disk cache, opened (once) on first use. A directory that cannot be trusted
    /// turns the cache off, with a warning naming why.
    fn disk(&self) -> Option<&DiskCache> {
        self.disk
            .get_or_init(|| {
                let dir = self.config.cache_dir.as_ref()?;
                DiskCache::open(dir)
                    .inspect_err(|reason| {
                        tracing::warn!(%reason, "compiled-code cache refused; compiling every plugin from its verified bytes");
                    })
                    .ok()
            })
            .as_ref()
    }

    /// Whether the disk cache is in use (configured, and its directory trusted).
    pub fn disk_cache_enabled(&self) -> bool {
        self.disk().is_some()
    }
}

/// `<sha256>-<engine hash>.cwasm`: the engine's compatibility hash keeps output of
/// another wasmtime version or configuration from ever being loaded.
fn cache_name(runtime: &Runtime, sha256: &str) -> String {
    let mut hasher = DefaultHasher::new();
    runtime
        .engine()
        .precompile_compatibility_hash()
        .hash(&mut hasher);
    format!("{sha256}-{:016x}.cwasm", hasher.finish())
}

impl From<RegistryError> for LoadError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Integrity {
                expected, actual, ..
            } => LoadError::Integrity { expected, actual },
            RegistryError::Index(hubfix_registry::IndexError::UnknownPlugin(name)) => {
                LoadError::UnknownPlugin(name)
            }
            e if e.is_retryable() => LoadError::Unavailable(e.to_string()),
            e => LoadError::Registry(e.to_string()),
        }
    }
}

/// The audit record names the plugin as the registry index does: a guest whose
/// `describe()` gives another name or version is refused (the same bytes published under
/// two names are refused under the one they do not describe).
fn same_identity(plugin: &Plugin, name: &str, version: &str) -> Result<(), LoadError> {
    let described = plugin.info();
    if described.name == name && described.version == version {
        return Ok(());
    }
    Err(LoadError::Described {
        plugin: name.to_owned(),
        version: version.to_owned(),
        described_name: described.name.clone(),
        described_version: described.version.clone(),
    })
}
