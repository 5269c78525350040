//! Reading output from a cursor, for a reader that comes back for more (`output since`). The
//! cursor is a logical byte offset; each read returns the bytes from it and the cursor to pass
//! next, so that reads in a row deliver every byte exactly once, whatever sizes they are cut to.
//! A read never ends inside a character (the rest of it comes with the next read), and one cut
//! by its size ends after its last whole line when it holds one.

use super::source::OutputSource;
use super::utf8::complete_prefix_len;
use crate::error::Result;

/// The longest UTF-8 character: a read smaller than this still returns a whole character.
const MAX_CHAR: usize = 4;

/// Bytes `[start, end)` of the output; `end` is the cursor for the next read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinceChunk {
    pub start: u64,
    pub end: u64,
    pub bytes: Vec<u8>,
    /// Bytes between the cursor and `start` that the output cap dropped before they were read.
    pub skipped: u64,
    /// The output's logical size when read: bytes after `end` are waiting when it is larger.
    pub size_bytes: u64,
    pub dropped_bytes: u64,
}

/// Up to `max_bytes` bytes from `cursor` on (from the first kept byte when the cursor is older,
/// from the end when it is past it). `complete` says the output will not grow (the process has
/// ended): a character cut by the end is then returned as it is, since nothing will complete it.
pub fn read_since(
    src: &OutputSource,
    cursor: u64,
    max_bytes: usize,
    complete: bool,
) -> Result<SinceChunk> {
    let len = src.len();
    let from = cursor.min(len);
    let want = ((len - from) as usize).min(max_bytes.max(MAX_CHAR));
    let mut buf = vec![0u8; want];
    let kept = src.read_kept(from, &mut buf)?;
    let start = from + kept.start as u64;
    buf.truncate(kept.end);
    buf.drain(..kept.start);
    let cut = cut_at(&buf, max_bytes, start + (buf.len() as u64) >= len, complete);
    buf.truncate(cut);
    Ok(SinceChunk {
        start,
        end: start + cut as u64,
        bytes: buf,
        skipped: start - from,
        size_bytes: len,
        dropped_bytes: src.kept_from(),
    })
}

/// Where a read of `bytes` ends: within `max_bytes`, after the last whole line when the read
/// stops short of the end, never inside a character unless `complete` and at the end. A first
/// character longer than `max_bytes` is returned whole rather than nothing.
fn cut_at(bytes: &[u8], max_bytes: usize, at_end: bool, complete: bool) -> usize {
    let limit = bytes.len().min(max_bytes);
    if limit == bytes.len() && at_end {
        return if complete {
            limit
        } else {
            complete_prefix_len(bytes)
        };
    }
    let window = &bytes[..limit];
    if let Some(nl) = memchr::memrchr(b'\n', window) {
        return nl + 1;
    }
    match complete_prefix_len(window) {
        0 => complete_prefix_len(bytes).min(first_char_len(bytes)),
        n => n,
    }
}

/// The length of the character `bytes` starts with (1 for an invalid byte).
fn first_char_len(bytes: &[u8]) -> usize {
    let want = match bytes.first() {
        Some(0xC2..=0xDF) => 2,
        Some(0xE0..=0xEF) => 3,
        Some(0xF0..=0xF4) => 4,
        Some(_) => 1,
        None => 0,
    };
    want.min(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::super::source::tests::{folder_with, rotate};
    use super::*;

    fn open(dir: &tempfile::TempDir) -> OutputSource {
        OutputSource::open("proc_x", dir.path()).unwrap()
    }

    /// Reads the whole output in a row of reads of `size` bytes, as a client following cursors.
    fn read_all(src: &OutputSource, size: usize, complete: bool) -> (Vec<u8>, usize) {
        let (mut out, mut cursor, mut reads) = (Vec::new(), 0, 0);
        loop {
            let c = read_since(src, cursor, size, complete).unwrap();
            assert_eq!(c.start, cursor, "no gap without rotation");
            assert!(c.bytes.len() <= size.max(MAX_CHAR));
            reads += 1;
            if c.bytes.is_empty() {
                return (out, reads);
            }
            out.extend_from_slice(&c.bytes);
            cursor = c.end;
        }
    }

    #[test]
    fn reads_in_a_row_deliver_every_byte_once() {
        let text = "héllo wörld\n€uro 😀 line two\nno newline 😀".as_bytes();
        let dir = folder_with(text);
        let src = open(&dir);
        for size in 1..=text.len() + 2 {
            let (out, _) = read_all(&src, size, true);
            assert_eq!(out, text, "size {size}");
        }
    }

    #[test]
    fn a_running_process_keeps_its_unfinished_character() {
        // "é" is C3 A9: only C3 written so far.
        let dir = folder_with(b"ab\xC3");
        let src = open(&dir);
        let c = read_since(&src, 0, 100, false).unwrap();
        assert_eq!((c.bytes.as_slice(), c.end), (&b"ab"[..], 2));
        let c = read_since(&src, 0, 100, true).unwrap();
        assert_eq!((c.bytes.as_slice(), c.end), (&b"ab\xC3"[..], 3));
    }

    #[test]
    fn cut_reads_end_after_whole_lines() {
        let dir = folder_with(b"one\ntwo\nthree\n");
        let src = open(&dir);
        let c = read_since(&src, 0, 10, true).unwrap();
        assert_eq!((c.bytes.as_slice(), c.end), (&b"one\ntwo\n"[..], 8));
        // A line longer than the read is cut, and continued by the next read.
        let c = read_since(&src, 8, 3, true).unwrap();
        assert_eq!((c.bytes.as_slice(), c.end), (&b"thr"[..], 11));
    }

    #[test]
    fn cursors_inside_a_character_or_past_the_end() {
        let dir = folder_with("é\n".as_bytes());
        let src = open(&dir);
        // A cursor inside "é" returns its last byte as it is: nothing lost, nothing repeated.
        let c = read_since(&src, 1, 100, true).unwrap();
        assert_eq!((c.start, c.bytes.as_slice()), (1, &b"\xA9\n"[..]));
        let c = read_since(&src, 99, 100, true).unwrap();
        assert_eq!((c.start, c.end, c.bytes.len()), (3, 3, 0));
    }

    #[test]
    fn dropped_bytes_are_skipped_and_counted() {
        let dir = folder_with(b"0123456789abcdef\n");
        rotate(dir.path(), 10);
        let src = open(&dir);
        let c = read_since(&src, 4, 100, true).unwrap();
        assert_eq!(
            (c.start, c.skipped, c.bytes.as_slice()),
            (10, 6, &b"abcdef\n"[..])
        );
        assert_eq!(c.dropped_bytes, 10);
    }
}
