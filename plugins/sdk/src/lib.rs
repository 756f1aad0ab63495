//! Guest SDK for hubfix remediation plugins.
//!
//! This crate holds the one `wit_bindgen::generate!` of the `control` world
//! (`hubfix:plugin@0.1.0`, read from the repository's top-level `wit/`), so plugins
//! depend on this crate alone and never generate bindings themselves. On top of the
//! bindings it gives every plugin the same small helpers:
//!
//! - [`Params`]: typed, validated access to the policy's `params` (unknown keys are an
//!   error that lists the allowed ones);
//! - [`outcome`] and the [`Outcome`] constructors ([`Outcome::remediated`], …), and
//!   [`AwsError::to_outcome`] to turn a failed host call into the right outcome;
//! - [`log::info!`](crate::log::info) and friends, formatting like `format!`;
//! - [`short_id`] and [`Finding::resource_short_id`] to find the resource a finding is
//!   about (`arn:aws:ec2:…:security-group/sg-1` → `sg-1`);
//! - behind features: `document` (policy documents kept as written), `bucket` (a
//!   plugin's own bucket: created or reused, policy merged by `Sid`, Block Public Access
//!   and default encryption on), `trail` (the trail or account a CloudTrail finding names,
//!   where a trail can be changed, what its event selectors log).
//!
//! The generated interfaces are re-exported under short paths, one module per WIT
//! interface ([`types`], `iam`, `ec2`, `s3control`, …), and (with the helper macros
//! added) [`log`]. A new WIT interface needs no change here.
//!
//! # A minimal plugin
//!
//! A plugin is a `cdylib` crate that implements [`Guest`] and calls [`export!`] once:
//!
//! ```no_run
//! use hubfix_plugin_sdk::{ec2, Guest, Outcome, Params, PluginInfo, Request};
//!
//! struct EbsDefaultEncryption;
//!
//! impl Guest for EbsDefaultEncryption {
//!     fn describe() -> PluginInfo {
//!         hubfix_plugin_sdk::plugin_info(
//!             "ec2-ebs-default-encryption",
//!             env!("CARGO_PKG_VERSION"),
//!             &["EC2.7"],
//!             &["ec2.get-ebs-encryption-by-default", "ec2.enable-ebs-encryption-by-default"],
//!         )
//!     }
//!
//!     fn remediate(request: Request) -> Outcome {
//!         if let Err(e) = Params::new(&request.params, &[]) {
//!             return Outcome::failed(e.to_string());
//!         }
//!         match ec2::get_ebs_encryption_by_default() {
//!             Err(e) => e.to_outcome("ec2.get-ebs-encryption-by-default"),
//!             Ok(true) => Outcome::already_compliant("EBS encryption by default is on"),
//!             Ok(false) => match ec2::enable_ebs_encryption_by_default() {
//!                 Err(e) => e.to_outcome("ec2.enable-ebs-encryption-by-default"),
//!                 Ok(()) => Outcome::remediated("turned on EBS encryption by default"),
//!             },
//!         }
//!     }
//! }
//!
//! hubfix_plugin_sdk::export!(EbsDefaultEncryption);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2`: rustc links the core
//! module and wraps it into a component whose imports name only the host functions the
//! plugin actually calls.

#![deny(missing_docs)]

mod outcome;
mod params;
mod resource;

/// IAM users, groups and roles a finding names.
pub mod iam_entity;
pub mod log;
pub mod public_access;

#[cfg(feature = "document")]
pub mod document;

#[cfg(feature = "bucket")]
pub mod bucket;

#[cfg(feature = "trail")]
pub mod trail;

pub use outcome::{outcome, plugin_info};
pub use params::{ParamError, Params};
pub use resource::short_id;

/// Now, in whole seconds since the Unix epoch (the WASI wall clock); the `failed` outcome
/// to return when the host's clock reads before 1970.
pub fn now_secs() -> Result<i64, Outcome> {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => Ok(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        Err(_) => Err(Outcome::failed("the host clock is before 1970")),
    }
}

/// The generated bindings of the `control` world. Use the re-exports instead; this
/// module is public only because [`export!`] expands to paths inside it.
#[doc(hidden)]
pub mod bindings {
    #![allow(missing_docs, unsafe_code, clippy::all)]

    wit_bindgen::generate!({
        world: "control",
        // Relative to this crate's `Cargo.toml`: the repository's top-level `wit/`.
        path: "../../wit",
        // Plugins call `hubfix_plugin_sdk::export!(MyPlugin)`; the macro finds the
        // generated glue through `default_bindings_module`.
        pub_export_macro: true,
        default_bindings_module: "hubfix_plugin_sdk::bindings",
        // Plugins compare records in their tests (`PasswordPolicy`, `Outcome`, …). Not `Eq`:
        // `cloudwatch` records carry an `f64` threshold.
        additional_derives: [PartialEq],
    });
}

/// Exports a type implementing [`Guest`] as the plugin's `describe` and `remediate`.
///
/// Call it once per plugin crate, at the crate root: `hubfix_plugin_sdk::export!(MyPlugin);`
pub use bindings::export;

/// The plugin's exports: implement it on a unit struct and pass that to [`export!`].
pub use bindings::Guest;

/// Every interface of the contract, one module each: [`types`] (finding, request,
/// outcome, errors) and one per AWS service (`iam`, `ec2`, `s3control`, …), whose
/// functions are the host functions a policy grants (`iam.get-account-password-policy`).
/// The SDK's own [`log`] (the generated interface plus macros) takes the place of the
/// generated `log`.
pub use bindings::hubfix::plugin::*;

pub use types::{AwsError, Finding, Mode, Outcome, PluginInfo, Request, Resource, Status};
