//! Structured log lines from the plugin, kept with the remediation's audit record.
//!
//! The macros format like `format!` and call the host's `log.log` import:
//!
//! ```no_run
//! let group = "sg-1";
//! hubfix_plugin_sdk::log::info!("revoking 2 rules of {group}");
//! ```
//!
//! A plugin that logs imports `log.log`, so list it among the functions it needs.

pub use crate::bindings::hubfix::plugin::log::{Level, log};

/// Logs a line at [`Level::Debug`], formatting its arguments like `format!`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Debug, &::std::format!($($arg)+))
    };
}

/// Logs a line at [`Level::Info`], formatting its arguments like `format!`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Info, &::std::format!($($arg)+))
    };
}

/// Logs a line at [`Level::Warn`], formatting its arguments like `format!`.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Warn, &::std::format!($($arg)+))
    };
}

/// Logs a line at [`Level::Error`], formatting its arguments like `format!`.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Error, &::std::format!($($arg)+))
    };
}

pub use crate::{debug, error, info, warn};
