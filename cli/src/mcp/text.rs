//! Output as an agent reads it: `\r` redraws (progress bars) collapsed to the state they leave
//! on screen, ANSI sequences removed, and sizes bounded.

/// Each line as a terminal leaves it: the text after its last `\r` (a `\r` just before the end
/// of the line, as in `\r\n`, is not a redraw). A line cut between two reads is collapsed in
/// each part.
pub fn collapse_redraws(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let body = line.trim_end_matches('\r');
        let shown = body
            .rsplit('\r')
            .find(|state| !state.is_empty())
            .unwrap_or_default();
        out.push_str(shown);
    }
    out
}

/// Removes ANSI escape sequences, with the engine's rule (tabs kept).
pub fn strip_ansi(text: &str) -> String {
    procdeck_engine::output::utf8::lossy(procdeck_engine::output::ansi::strip_ansi(text.as_bytes()))
}

/// Output text ready for an agent: redraws collapsed, then ANSI removed when asked.
pub fn clean(text: &str, ansi: bool) -> String {
    let text = collapse_redraws(text);
    if ansi {
        strip_ansi(&text)
    } else {
        text
    }
}

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
    fn redraws_collapse_to_their_last_state() {
        assert_eq!(collapse_redraws("a\n10%\r50%\r100%\nb\n"), "a\n100%\nb\n");
        assert_eq!(collapse_redraws("dos\r\nline\r\n"), "dos\nline\n");
        // A redraw that ends with `\r` shows the state before it.
        assert_eq!(collapse_redraws("1/3\r2/3\r\n"), "2/3\n");
        assert_eq!(collapse_redraws("plain\n"), "plain\n");
        assert_eq!(collapse_redraws("\r\r\n"), "\n");
    }

    #[test]
    fn ansi_goes_tabs_stay() {
        assert_eq!(strip_ansi("\x1b[31mred\x1b[0m\tcol"), "red\tcol");
        assert_eq!(strip_ansi("\x1b[2K\x1b[1Gdone\n"), "done\n");
        assert_eq!(clean("\x1b[32m10%\r\x1b[32m99%\x1b[0m\n", true), "99%\n");
        assert_eq!(clean("\x1b[1mbold\n", false), "\x1b[1mbold\n");
    }

    #[test]
    fn cuts_respect_characters_and_lines() {
        assert_eq!(last_bytes("abc\ndef\n", 100), "abc\ndef\n");
        assert_eq!(last_bytes("abc\ndef\n", 6), "def\n");
        assert_eq!(last_bytes("ééé", 3), "é");
        assert_eq!(first_bytes("ééé", 3), ("é", true));
        assert_eq!(first_bytes("abc", 3), ("abc", false));
    }
}
