//! Publishing a plugin to the registry: check it, then upload it, then point the index at it.

use hubfix_registry::signature::{PluginSigner, SignatureError};
use hubfix_registry::{Publish, PublishReport, Registry, RegistryError};

use crate::error::LoadError;
use crate::functions::Grants;
use crate::runtime::Runtime;

/// Why a publish was refused or failed. Nothing is written unless every check passed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The component failed a load check (not a component, forbidden imports, imports
    /// beyond its grants, no `describe()`).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The registry refused (immutable version) or failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The component could not be signed.
    #[error(transparent)]
    Sign(#[from] SignatureError),
}

/// Checks `bytes` the way the host will at load time — it must be a component of the
/// `control` world whose imports are all covered by `grants` — and publishes it under the
/// name and version its `describe()` reports. The component object is uploaded before the
/// index is written, so a half-finished publish never points at missing bytes.
///
/// With `signer`, the name, version and digest are signed and the signature is stored
/// beside the component (`hubfix_registry::signature`).
pub async fn publish(
    runtime: &Runtime,
    registry: &Registry,
    bytes: &[u8],
    grants: &Grants,
    signer: Option<&dyn PluginSigner>,
    dry_run: bool,
) -> Result<PublishReport, PublishError> {
    let plugin = runtime.describe(bytes).await?;
    let missing = plugin.imports().missing(grants);
    if !missing.is_empty() {
        return Err(LoadError::MissingGrants { missing }.into());
    }
    let info = plugin.info();
    let digest = hubfix_contract::sha256_hex(bytes);
    let signature = match signer {
        Some(s) => Some(s.sign(&info.name, &info.version, &digest).await?),
        None => None,
    };
    let report = registry
        .publish(
            &Publish {
                name: &info.name,
                version: &info.version,
                bytes,
                controls: plugin.controls().to_vec(),
                imports: plugin.imports().functions.clone(),
                signature,
            },
            dry_run,
        )
        .await?;
    Ok(report)
}
