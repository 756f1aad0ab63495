//! The Security-account pipeline of hubfix, as libraries the Lambdas are thin shims over.
//!
//! ```text
//! EventBridge rule ─▶ state machine: Map over findings
//!     router (route)  ─▶ suppress / notify ─▶ queue ─▶ archiver ─▶ BatchUpdateFindings
//!                     ─▶ remediate ─▶ proxy ─▶ host (Service account) ─▶ RESOLVED + note
//! ```
//!
//! - [`error`]: the closed set of error names the state machine's `Retry`/`Catch` match.
//! - [`message`]: the JSON documents passed between the parts.
//! - [`trim`]: findings cut to what the pipeline reads, so they fit Step Functions state.
//! - [`route`](mod@route): the router's decision for one finding (pure).
//! - `router` (feature `router`): the policy read from S3 with ETag caching, and the
//!   router Lambda's handler.
//! - `archiver` (feature `archiver`): batched, throttle-safe finding updates.
//! - `proxy` (feature `proxy`): the cross-account invoke of the host.
//! - `host` (feature `host`): the host Lambda's handler over `hubfix-host`.
//! - `backfill` (feature `backfill`): existing findings, paged from `GetFindings`.
//! - `remediator` (features `host` + `proxy`): a remediation in this process or through
//!   the proxy.
//!
//! Each Lambda binary enables only the feature it runs, so it links only the SDK crates it
//! needs.
#![deny(missing_docs)]

pub mod error;
pub mod message;
pub mod route;
pub mod s3;
pub mod trim;

#[cfg(feature = "archiver")]
pub mod archiver;
#[cfg(feature = "host")]
pub mod audit;
#[cfg(feature = "backfill")]
pub mod backfill;
#[cfg(feature = "host")]
pub mod host;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "proxy")]
pub mod proxy;
#[cfg(all(feature = "host", feature = "proxy"))]
pub mod remediator;
#[cfg(feature = "router")]
pub mod router;

pub use error::{Error, ErrorName};
pub use message::{
    HostRequest, HostResponse, HostTarget, Identifier, Notification, PluginRef, ProxyRequest,
    Requester, Route, Trigger, Update, Workflow,
};
