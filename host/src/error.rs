//! Typed errors of the host: why a plugin was refused or a remediation could not start.

/// Why a plugin could not be loaded. No plugin that fails any of these checks runs.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not the pinned ones.
    #[error("plugin integrity check failed: expected sha256 {expected}, got {actual}")]
    Integrity {
        /// The digest the caller pinned.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// The bytes are not a valid WebAssembly component (or not one wasmtime accepts).
    #[error("not a valid plugin component: {0}")]
    InvalidComponent(String),
    /// The component imports host functions it was not granted.
    #[error("plugin imports functions it was not granted: {}", missing.join(", "))]
    MissingGrants {
        /// The imported `service.function` names absent from the grants, sorted.
        missing: Vec<String>,
    },
    /// The component imports something the host never provides to plugins (WASI
    /// filesystem or sockets, an unknown interface, or an unknown host function).
    #[error("plugin imports what the host does not provide: {}", imports.join(", "))]
    ForbiddenImports {
        /// The offending import names.
        imports: Vec<String>,
    },
    /// The component does not export the `control` world's functions, or `describe()`
    /// failed.
    #[error("plugin does not implement the hubfix:plugin/control world: {0}")]
    WrongWorld(String),
    /// The plugin's `describe()` names another plugin or version than the registry
    /// entry it was loaded from. Not retryable: publish it under its own name.
    #[error(
        "plugin `{plugin}` {version} describes itself as `{described_name}` {described_version}: refused"
    )]
    Described {
        /// The name the registry index gives it.
        plugin: String,
        /// The version the registry index gives it.
        version: String,
        /// The name its `describe()` returned (bounded, escaped).
        described_name: String,
        /// The version its `describe()` returned (bounded, escaped).
        described_version: String,
    },
    /// The registry's active version is not the one the policy names. Not retryable:
    /// publish or activate that version, or change the policy.
    #[error(
        "plugin `{plugin}`: the policy expects version {expected}, but the registry's active version is {active}"
    )]
    Version {
        /// The plugin.
        plugin: String,
        /// The version the policy names.
        expected: String,
        /// The registry's active version.
        active: String,
    },
    /// The registry index names no such plugin. Not retryable: publish it first.
    #[error("plugin `{0}` is not in the registry")]
    UnknownPlugin(String),
    /// The host trusts signing keys and the plugin is unsigned, signed by another key, or
    /// its signature does not match its name, version and digest. Not retryable: publish
    /// it signed (`hubfix publish --sign`).
    #[error("plugin refused: {0}")]
    Signature(String),
    /// The registry could not be reached or throttled, and the plugin is not cached.
    /// Retryable.
    #[error("plugin registry unavailable: {0}")]
    Unavailable(String),
    /// The registry is in a state the host cannot use (a missing object, a corrupt
    /// index). Not retryable.
    #[error("plugin registry error: {0}")]
    Registry(String),
}

impl LoadError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, LoadError::Unavailable(_))
    }
}

/// Why the host itself could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// wasmtime refused the engine configuration or the linker could not be built.
    #[error("cannot set up the WebAssembly engine: {0}")]
    Engine(String),
    /// A host setting is invalid.
    #[error("invalid host configuration: {0}")]
    Config(String),
}
