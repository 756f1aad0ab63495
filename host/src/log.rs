//! `hubfix:plugin/log`: the plugin's log lines, kept with the outcome and traced.

use crate::aws::PluginCtx;
use crate::bindings::log::{Host, Level};
use crate::outcome::LogLine;

/// Longest log line kept; a plugin cannot flood the audit record.
const MAX_LINE: usize = 4096;
/// Most lines kept per remediation.
const MAX_LINES: usize = 256;

impl Host for PluginCtx {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let mut message = message;
        if message.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let level = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        tracing::debug!(target: "hubfix::plugin", level, %message);
        self.push_log(LogLine { level, message }, MAX_LINES);
        Ok(())
    }
}
