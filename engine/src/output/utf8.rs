//! UTF-8 at the edges of byte ranges: output is cut at arbitrary offsets (blocks, windows,
//! rotation), so a character may be split across two reads.

/// Streaming decoder: keeps an incomplete trailing sequence for the next chunk, so a character
/// split between two reads is decoded whole instead of as two replacement characters.
#[derive(Debug, Default, Clone)]
pub struct Utf8Carry {
    pending: Vec<u8>,
}

impl Utf8Carry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes as much as can be decoded now, replacing invalid sequences with U+FFFD.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        let joined;
        let input: &[u8] = if self.pending.is_empty() {
            bytes
        } else {
            let mut v = std::mem::take(&mut self.pending);
            v.extend_from_slice(bytes);
            joined = v;
            &joined
        };
        let mut out = String::with_capacity(input.len());
        let mut rest = input;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(s);
                    break;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(decode_valid(&rest[..valid]));
                    match e.error_len() {
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = &rest[valid + bad..];
                        }
                        None => {
                            // Only a prefix of a valid sequence: its remaining bytes may come.
                            self.pending.extend_from_slice(&rest[valid..]);
                            break;
                        }
                    }
                }
            }
        }
        out
    }

    /// Bytes held back waiting for the rest of their character.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Flushes what is held back: the stream ended, so an incomplete character is invalid.
    pub fn finish(&mut self) -> String {
        if self.pending.is_empty() {
            String::new()
        } else {
            self.pending.clear();
            char::REPLACEMENT_CHARACTER.to_string()
        }
    }
}

fn decode_valid(bytes: &[u8]) -> &str {
    // `from_utf8` already vouched for these bytes; re-checking is cheap and avoids `unsafe`.
    std::str::from_utf8(bytes).unwrap_or_default()
}

pub fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// How many leading bytes to skip so that `bytes` starts on a character: a range cut in the
/// middle of a character would otherwise begin with a replacement character. At most 3, since
/// no character has more continuation bytes.
pub fn skip_continuation(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take(3)
        .take_while(|&&b| is_continuation(b))
        .count()
}

/// Length of `bytes` without a trailing incomplete character, so that a range cut at its end
/// does not end with a replacement character. Invalid bytes are kept (they stay invalid
/// whatever follows them).
pub fn complete_prefix_len(bytes: &[u8]) -> usize {
    let len = bytes.len();
    let floor = len.saturating_sub(4);
    let mut i = len;
    while i > floor {
        i -= 1;
        let b = bytes[i];
        if is_continuation(b) {
            continue;
        }
        let need = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 1,
        };
        if i + need > len
            && std::str::from_utf8(&bytes[i..]).is_err_and(|e| e.error_len().is_none())
        {
            return i;
        }
        return len;
    }
    len
}

/// Decodes bytes, replacing invalid sequences, without copying when they are already valid.
pub fn lossy(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Lossy decoding plus a map from byte offsets in `bytes` to byte offsets in the text, which
/// differ once a replacement character (3 bytes) stands for 1 to 3 invalid bytes.
pub struct MappedText {
    pub text: String,
    /// `(raw offset, text offset, valid)` at the start of each run.
    runs: Vec<(usize, usize, bool)>,
}

impl MappedText {
    pub fn new(bytes: &[u8]) -> Self {
        let mut text = String::with_capacity(bytes.len());
        let mut runs = Vec::new();
        let mut raw = 0;
        for chunk in bytes.utf8_chunks() {
            let valid = chunk.valid();
            if !valid.is_empty() {
                runs.push((raw, text.len(), true));
                text.push_str(valid);
                raw += valid.len();
            }
            let invalid = chunk.invalid();
            if !invalid.is_empty() {
                runs.push((raw, text.len(), false));
                text.push(char::REPLACEMENT_CHARACTER);
                raw += invalid.len();
            }
        }
        MappedText { text, runs }
    }

    /// The text offset of raw offset `raw`; inside an invalid run, `round_up` chooses the end
    /// of its replacement character rather than its start (for the end of a range).
    pub fn map(&self, raw: usize, round_up: bool) -> usize {
        let idx = self.runs.partition_point(|r| r.0 <= raw);
        if idx == 0 {
            return 0;
        }
        let (raw_start, text_start, valid) = self.runs[idx - 1];
        let mapped = if valid {
            text_start + (raw - raw_start)
        } else if raw == raw_start || !round_up {
            text_start
        } else {
            text_start + char::REPLACEMENT_CHARACTER.len_utf8()
        };
        mapped.min(self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carry_joins_a_split_character() {
        let bytes = "aé€😀z".as_bytes();
        for split in 0..=bytes.len() {
            let mut c = Utf8Carry::new();
            let mut s = c.push(&bytes[..split]);
            s.push_str(&c.push(&bytes[split..]));
            s.push_str(&c.finish());
            assert_eq!(s, "aé€😀z", "split at {split}");
        }
    }

    #[test]
    fn carry_byte_by_byte_matches_lossy() {
        let bytes: &[u8] = b"ok \xff\xfe mid \xe2\x82 x \xf0\x9f\x98\x80 \xed\xa0\x80 end \xe2";
        let expected = String::from_utf8_lossy(bytes).into_owned();
        let mut c = Utf8Carry::new();
        let mut s = String::new();
        for b in bytes {
            s.push_str(&c.push(std::slice::from_ref(b)));
            assert!(c.pending() <= 3);
        }
        s.push_str(&c.finish());
        assert_eq!(s, expected);
    }

    #[test]
    fn skip_and_complete_prefix() {
        let e = "€".as_bytes(); // e2 82 ac
        assert_eq!(skip_continuation(&e[1..]), 2);
        assert_eq!(skip_continuation(b"\x80\x80\x80\x80a"), 3);
        assert_eq!(skip_continuation(b"abc"), 0);
        assert_eq!(complete_prefix_len(&e[..1]), 0);
        assert_eq!(complete_prefix_len(&e[..2]), 0);
        assert_eq!(complete_prefix_len(e), 3);
        assert_eq!(complete_prefix_len(b"ab\xe2\x82"), 2);
        assert_eq!(complete_prefix_len(b"ab\xff"), 3);
        assert_eq!(complete_prefix_len(b"ab\x80"), 3);
        assert_eq!(complete_prefix_len(b""), 0);
        let smile = "x😀".as_bytes();
        for cut in 1..smile.len() {
            assert_eq!(complete_prefix_len(&smile[..cut]), 1, "cut {cut}");
        }
    }

    #[test]
    fn mapped_text_offsets() {
        let m = MappedText::new(b"a\xffbc\xe2\x82d");
        assert_eq!(m.text, "a\u{FFFD}bc\u{FFFD}d");
        assert_eq!(m.map(0, false), 0);
        assert_eq!(m.map(1, false), 1);
        assert_eq!(m.map(2, false), 4);
        assert_eq!(m.map(4, false), 6);
        assert_eq!(m.map(5, false), 6);
        assert_eq!(m.map(5, true), 9);
        assert_eq!(m.map(6, false), 9);
        assert_eq!(m.map(7, false), 10);
        assert_eq!(lossy(b"a\xffb".to_vec()), "a\u{FFFD}b");
    }
}
