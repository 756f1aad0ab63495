//! The hubfix plugin host: loads remediation plugins (WebAssembly components built
//! against `wit/`), checks them, and runs them against scoped AWS host functions.
//!
//! Knows nothing of Lambda or Step Functions. One [`Runtime`] per process holds the
//! engine and linker; each remediation gets a fresh store with a deadline, a memory
//! limit and a host-call budget.
//!
//! ```no_run
//! # async fn demo(bytes: Vec<u8>, finding_json: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use hubfix_host::{Grants, HostConfig, Mode, Request, Runtime, sha256_hex};
//!
//! let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
//! let runtime = Runtime::new(HostConfig::default(), aws)?;
//! let grants = Grants::new(["ec2.get-ebs-encryption-by-default",
//!                           "ec2.enable-ebs-encryption-by-default"])?;
//! // In production the digest comes from the policy, never from the bytes themselves.
//! let plugin = runtime.load(&bytes, &sha256_hex(&bytes), grants).await?;
//! let finding = hubfix_finding::Finding::parse(finding_json)?;
//! let request = Request { control: "EC2.7".into(), finding, params: vec![], mode: Mode::Plan };
//! let outcome = runtime.remediate(&plugin, &request).await;
//! println!("{}", serde_json::to_string_pretty(&outcome)?);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod aws;
mod bindings;
mod bounded;
mod credentials;
mod disk_cache;
mod error;
mod functions;
mod loader;
mod log;
mod outcome;
mod publish;
mod runtime;
mod scope;
mod sdk;

pub use aws::{AwsClients, LimitExceeded};
pub use credentials::{CredentialsError, role_arn, session_name};
pub use disk_cache::default_cache_dir;
pub use error::{LoadError, SetupError};
pub use functions::{
    Grants, HOST_FUNCTIONS, HostFunction, MAX_SESSION_POLICY, Target, UnknownGrant, lookup,
};
pub use loader::{LoadedFrom, Loader, LoaderConfig};
pub use outcome::{AwsCall, CallResult, Failure, LogLine, Outcome, PluginRef, Status};
pub use publish::{PublishError, publish};
pub use runtime::{HostConfig, Imports, Mode, Plugin, Request, Runtime, sha256_hex};
pub use scope::{DEFAULT_CREATE_PREFIX, Scope};
pub use sdk::{LoopbackNames, http_client, load_aws_config};
