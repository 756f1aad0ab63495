//! `hubfix:plugin/log`: the plugin's log lines, kept with the outcome and traced.
//!
//! Bounded whatever the guest sends: each line is cut to `MAX_LINE` bytes and copied
//! into a fresh allocation (the guest's string is dropped at once, so 100 lines of
//! 50 MB hold 100 × 4 KiB, not 5 GB), control characters are escaped before the line
//! reaches a log or a terminal, at most `MAX_LINES` lines are kept, and `log` calls
//! have their own budget (`MAX_LOG_CALLS`; past it the remediation ends as
//! `call-limit`).

use crate::aws::PluginCtx;
use crate::bindings::log::{Host, Level};
use crate::outcome::LogLine;

/// Longest log line kept, in bytes (escapes included, plus `…` when cut).
const MAX_LINE: usize = 4096;
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
        let message = kept_text(&message);
        tracing::debug!(target: "hubfix::plugin", level, %message);
        self.push_log(LogLine { level, message }, MAX_LINES);
        Ok(())
    }
}

/// `text` cut to at most `MAX_LINE` bytes on a character boundary, with control
/// characters escaped (`\n`, `\u{1b}`), in a new allocation of at most that size.
fn kept_text(text: &str) -> String {
    let mut kept = String::with_capacity(text.len().min(MAX_LINE + '…'.len_utf8()));
    for c in text.chars() {
        let before = kept.len();
        if c.is_control() {
            kept.extend(c.escape_default());
        } else {
            kept.push(c);
        }
        if kept.len() > MAX_LINE {
            kept.truncate(before);
            kept.push('…');
            break;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_into_a_small_allocation() {
        let huge = "é".repeat(3 * 1024 * 1024);
        let kept = kept_text(&huge);
        assert!(kept.len() <= MAX_LINE + '…'.len_utf8(), "{}", kept.len());
        assert!(kept.ends_with('…'));
        assert!(
            kept.capacity() <= MAX_LINE + '…'.len_utf8(),
            "{}",
            kept.capacity()
        );
        assert_eq!(kept_text("short"), "short");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            kept_text("a\nb\u{1b}[31mred\r\u{7}"),
            "a\\nb\\u{1b}[31mred\\r\\u{7}"
        );
        let escapes = "\u{1b}".repeat(MAX_LINE);
        let kept = kept_text(&escapes);
        assert!(kept.len() <= MAX_LINE + '…'.len_utf8());
        assert!(kept.starts_with("\\u{1b}\\u{1b}"));
    }
}
