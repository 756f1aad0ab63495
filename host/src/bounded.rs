//! Guest text, bounded where the host receives it.
//!
//! Everything a plugin sends the host is copied out of its memory by the bindings; what
//! the host keeps of it (in call records, denials, log lines, the outcome's message) is
//! cut to a documented limit and copied into a fresh allocation, so the guest's string
//! is dropped at once and the outcome stays small whatever the guest sent:
//!
//! | text | limit |
//! |---|---|
//! | a resource id a host function is called with | [`MAX_ID`] bytes, else the call is refused |
//! | a call record's resource and error | [`MAX_ID`] and [`MAX_TEXT`] bytes |
//! | a log line, the outcome's message | [`MAX_TEXT`] bytes |
//! | denials named in the outcome's message | [`MAX_DENIALS`], the rest counted |
//!
//! Control characters are escaped (`\n`, `\u{1b}`) before any of it reaches a log line
//! or a terminal.

/// Longest resource id a host function accepts, in bytes: AWS's longest ARNs are 2,048
/// characters.
pub(crate) const MAX_ID: usize = 2048;

/// Longest free text kept, in bytes (escapes included, plus `…` when cut): a log line,
/// the outcome's message, an error text.
pub(crate) const MAX_TEXT: usize = 4096;

/// Most denials the outcome's message names; the rest are counted.
pub(crate) const MAX_DENIALS: usize = 16;

/// `text` cut to at most `max` bytes, control characters escaped, in a new allocation
/// ([`hubfix_contract::bounded_text`]).
pub(crate) use hubfix_contract::bounded_text as kept;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_into_a_small_allocation() {
        let huge = "é".repeat(3 * 1024 * 1024);
        let kept = kept(&huge, MAX_TEXT);
        assert!(kept.len() <= MAX_TEXT + '…'.len_utf8(), "{}", kept.len());
        assert!(kept.ends_with('…'));
        assert!(
            kept.capacity() <= MAX_TEXT + '…'.len_utf8(),
            "{}",
            kept.capacity()
        );
        assert_eq!(super::kept("short", MAX_TEXT), "short");
        assert_eq!(super::kept("abcdef", 3), "abc…");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            kept("a\nb\u{1b}[31mred\r\u{7}", MAX_TEXT),
            "a\\nb\\u{1b}[31mred\\r\\u{7}"
        );
        let escapes = "\u{1b}".repeat(MAX_TEXT);
        let kept = kept(&escapes, MAX_TEXT);
        assert!(kept.len() <= MAX_TEXT + '…'.len_utf8());
        assert!(kept.starts_with("\\u{1b}\\u{1b}"));
    }
}
