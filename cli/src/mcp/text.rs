//! Output as an agent reads it: plain text (the engine's `output::plain`), with sizes bounded.

pub use procdeck_engine::output::plain::clean;

/// The last `max` bytes of `text` at most, starting on a character (and on a line when one
/// starts within the cut).
pub fn last_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut from = text.len() - max;
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let rest = &text[from..];
    match rest.find('\n') {
        Some(nl) if nl + 1 < rest.len() => &rest[nl + 1..],
        _ => rest,
    }
}

/// The first `max` bytes of `text` at most, ending on a character; and whether it was cut.
pub fn first_bytes(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut to = max;
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    (&text[..to], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_respect_characters_and_lines() {
        assert_eq!(last_bytes("abc\ndef\n", 100), "abc\ndef\n");
        assert_eq!(last_bytes("abc\ndef\n", 6), "def\n");
        assert_eq!(last_bytes("ééé", 3), "é");
        assert_eq!(first_bytes("ééé", 3), ("é", true));
        assert_eq!(first_bytes("abc", 3), ("abc", false));
    }
}
