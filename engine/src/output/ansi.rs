//! Output as it shows on a terminal, without its ANSI escape sequences (colours, cursor moves):
//! what an agent reads, and what a pattern written from what it read should match.

/// `bytes` without ANSI escape sequences. Tabs are kept: the stripper drops every control
/// character but `\n`, and a tab is layout, not control. Other control characters (`\r`
/// included) go.
pub fn strip_ansi(bytes: &[u8]) -> Vec<u8> {
    if !bytes.iter().any(|&b| b == 0x1b || b == 0x9b) {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    for (i, part) in bytes.split(|&b| b == b'\t').enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        out.extend_from_slice(&strip_ansi_escapes::strip(part));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_go_text_and_tabs_stay() {
        assert_eq!(strip_ansi(b"\x1b[31mred\x1b[0m\tcol"), b"red\tcol");
        assert_eq!(strip_ansi(b"\x1b[2K\x1b[1Gdone\n"), b"done\n");
        assert_eq!(strip_ansi(b"\x1b]8;;http://x\x07link\x1b]8;;\x07"), b"link");
        assert_eq!(strip_ansi("plain é".as_bytes()), "plain é".as_bytes());
    }
}
