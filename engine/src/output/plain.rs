//! Output as plain text, the way it reads on a terminal: `\r` redraws (progress bars) collapsed
//! to the state they leave on screen and ANSI sequences removed. For what is read as text rather
//! than drawn (an agent's reads, a notification); offsets stay with the bytes.

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

/// Removes ANSI escape sequences, with [`super::ansi`]'s rule (tabs kept).
pub fn strip_ansi(text: &str) -> String {
    super::utf8::lossy(super::ansi::strip_ansi(text.as_bytes()))
}

/// Output text as it reads on a screen: redraws collapsed, then ANSI removed when asked.
pub fn clean(text: &str, ansi: bool) -> String {
    let text = collapse_redraws(text);
    if ansi {
        strip_ansi(&text)
    } else {
        text
    }
}

/// The last `n` lines of `text` that show something, as plain text, each cut to `max_chars`.
pub fn last_lines(text: &str, n: usize, max_chars: usize) -> Vec<String> {
    let plain = clean(text, true);
    let mut lines: Vec<String> = plain
        .lines()
        .rev()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .take(n)
        .map(|l| {
            let mut cut: String = l.chars().take(max_chars).collect();
            if cut.len() < l.len() {
                cut.push('…');
            }
            cut
        })
        .collect();
    lines.reverse();
    lines
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
    fn the_last_lines_that_show_something() {
        let out = "compiling\n\x1b[31merror[E0308]\x1b[0m: mismatched types\n  --> src/main.rs:2:5\n\n10%\r100%\n\n";
        assert_eq!(last_lines(out, 2, 80), ["  --> src/main.rs:2:5", "100%"]);
        assert_eq!(
            last_lines(out, 9, 5).first().map(String::as_str),
            Some("compi…")
        );
        assert!(last_lines("", 3, 80).is_empty());
    }
}
