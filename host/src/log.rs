//! `hubfix:plugin/log`: the plugin's log lines, kept with the outcome and traced.
//!
//! Bounded whatever the guest sends: each line is cut to `bounded::MAX_TEXT` bytes and
//! copied into a fresh allocation (the guest's string is dropped at once, so 100 lines of
//! 50 MB hold 100 × 4 KiB, not 5 GB), control characters are escaped before the line
//! reaches a log or a terminal, at most `MAX_LINES` lines are kept, and `log` calls
//! have their own budget (`MAX_LOG_CALLS`; past it the remediation ends as
//! `call-limit`).

use crate::aws::PluginCtx;
use crate::bindings::log::{Host, Level};
use crate::bounded::{MAX_TEXT, kept};
use crate::outcome::LogLine;

/// Most lines kept per remediation.
const MAX_LINES: usize = 256;
/// Most `log` calls per remediation, kept or not.
const MAX_LOG_CALLS: u32 = 1_000;

impl Host for PluginCtx {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        self.charge_log(MAX_LOG_CALLS)?;
        let message = kept(&message, MAX_TEXT);
        tracing::debug!(target: "hubfix::plugin", level, %message);
        self.push_log(LogLine { level, message }, MAX_LINES);
        Ok(())
    }
}
