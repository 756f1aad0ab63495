//! Where a remediation runs: the host handler in this process, or the host Lambda through
//! the proxy's `Invoke`. The one place a [`HostRequest`] becomes either call.

use crate::error::Error;
use crate::host::HostService;
use crate::message::{HostRequest, HostResponse, HostTarget, ProxyRequest};
use crate::proxy::Proxy;

/// Runs remediations.
pub enum Remediator {
    /// The host handler in this process (plugins from the registry it was built with).
    Local(Box<HostService>),
    /// The host Lambda, invoked through the proxy.
    Lambda(Proxy, HostTarget),
}

impl Remediator {
    /// Runs one remediation; errors are the closed set, as the state machine sees them.
    pub async fn run(&self, request: &HostRequest) -> Result<HostResponse, Error> {
        match self {
            Remediator::Local(host) => {
                let input = serde_json::to_value(request).map_err(Error::internal)?;
                Box::pin(host.handle(input)).await
            }
            Remediator::Lambda(proxy, host) => {
                let input = serde_json::to_value(ProxyRequest {
                    host: host.clone(),
                    request: request.clone(),
                })
                .map_err(Error::internal)?;
                Box::pin(proxy.handle(input)).await
            }
        }
    }
}
