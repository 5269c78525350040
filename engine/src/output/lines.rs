//! Head, tail, full and line ranges by offset. Backward reads go block by block from the end,
//! forward reads from the start, and both stop as soon as they have what was asked for.

use std::io;

use memchr::{memchr_iter, memrchr};

use super::source::OutputSource;
use super::utf8::{complete_prefix_len, lossy, skip_continuation};
use super::{LineChunk, OutputLine, ReadMethod, ReadRequest, ReadResult};
use crate::error::{Error, Result};

/// Read size for line scans: a tail of ten lines costs one or two of these.
const BLOCK: usize = 64 * 1024;

/// The most bytes one `read` returns, so that a reply never holds a whole huge output.
pub(crate) const MAX_CONTENT: u64 = 64 << 20;

const DEFAULT_LINES: u32 = 10;

/// A forward scan that keeps losing its start to rotation gives up after this many restarts
/// instead of chasing a writer that outruns it.
const MAX_RESTARTS: usize = 8;

/// Bytes `[start, end)` holding `lines` lines.
#[derive(Debug)]
struct Span {
    start: u64,
    end: u64,
    bytes: Vec<u8>,
    lines: usize,
    /// The span starts at the floor it was given (nothing before it was considered).
    at_floor: bool,
}

impl Span {
    fn empty(at: u64, at_floor: bool) -> Span {
        Span {
            start: at,
            end: at,
            bytes: Vec::new(),
            lines: 0,
            at_floor,
        }
    }

    /// Moves a start that is not the file's start past continuation bytes, so that a range
    /// beginning mid-character does not begin with a replacement character.
    fn align_start(&mut self) {
        if self.start == 0 {
            return;
        }
        let skip = skip_continuation(&self.bytes);
        if skip == 0 {
            return;
        }
        self.bytes.drain(..skip);
        self.start += skip as u64;
        if self.bytes.is_empty() && self.lines > 0 {
            self.lines -= 1;
        }
    }
}

/// The first offset `read` considers: the first kept byte, or the start of the last
/// `max_bytes` bytes when that is later.
pub(crate) fn window_start(src: &OutputSource, max_bytes: Option<u64>) -> u64 {
    let kept = src.kept_from();
    match max_bytes {
        Some(m) => kept.max(src.len().saturating_sub(m)),
        None => kept,
    }
}

/// Finds the up to `n` lines that end at `end`, not going below `floor` and returning at most
/// `cap` bytes (a single line longer than that is cut to its last `cap` bytes).
fn scan_back(src: &OutputSource, floor: u64, end: u64, n: usize, cap: u64) -> Result<Span> {
    let cap = cap.max(1);
    let mut floor = floor.max(src.kept_from());
    let end = end.min(src.len());
    if end <= floor {
        return Ok(Span::empty(floor.max(end), true));
    }
    if n == 0 {
        return Ok(Span::empty(end, false));
    }
    // A line starting below `end - cap` would not fit, so the byte just before that is the
    // lowest one ever needed (to see whether a line starts exactly there).
    let mut lower = floor.max(end.saturating_sub(cap.saturating_add(1)));
    // Blocks from the end backwards; each starts where the next one ends.
    let mut blocks: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut pos = end;
    let mut lines = 0;
    let mut start = end;
    let mut done = false;
    while pos > lower && !done {
        let block_start = lower.max(pos.saturating_sub(BLOCK as u64));
        let mut buf = vec![0u8; (pos - block_start) as usize];
        let got = src.read_kept(block_start, &mut buf)?;
        let valid_from = block_start + got.start as u64;
        if valid_from > block_start {
            // Rotation reached into what is being read: the new first kept byte is the floor.
            floor = valid_from;
            lower = lower.max(floor);
        }
        let mut hi = got.end;
        if pos == end && hi > got.start && buf[hi - 1] == b'\n' {
            // That newline ends the last line; it does not separate two lines.
            hi -= 1;
        }
        while let Some(i) = memrchr(b'\n', &buf[got.start..hi]) {
            let nl = got.start + i;
            lines += 1;
            start = block_start + nl as u64 + 1;
            if lines == n {
                done = true;
                break;
            }
            hi = nl;
        }
        buf.truncate(got.end);
        buf.drain(..got.start);
        blocks.push((valid_from, buf));
        pos = valid_from;
    }
    let mut at_floor = false;
    let mut cut = false;
    if !done && start > pos {
        // `[pos, start)` is the beginning of a line whose start was not seen.
        if pos <= floor && end - floor <= cap {
            lines += 1;
            start = floor;
            at_floor = true;
        } else if lines == 0 {
            start = end - cap;
            lines = 1;
            cut = true;
        }
    }
    let mut bytes = Vec::with_capacity((end - start) as usize);
    for (off, data) in blocks.iter().rev() {
        let block_end = off + data.len() as u64;
        if block_end > start {
            bytes.extend_from_slice(&data[start.saturating_sub(*off) as usize..]);
        }
    }
    let mut span = Span {
        start,
        end,
        bytes,
        lines,
        at_floor,
    };
    if cut {
        // Keep the cut on a character boundary, as long as something is left.
        let skip = skip_continuation(&span.bytes);
        if skip < span.bytes.len() {
            span.bytes.drain(..skip);
            span.start += skip as u64;
        }
    } else if at_floor {
        span.align_start();
    }
    Ok(span)
}

/// Finds the up to `n` lines that start at `from` (raised to `floor`), returning at most `cap`
/// bytes (a single line longer than that is cut to its first `cap` bytes). A last line without
/// its newline yet is included.
fn scan_fwd(src: &OutputSource, floor: u64, from: u64, n: usize, cap: u64) -> Result<Span> {
    let cap = cap.max(1);
    let len = src.len();
    'attempt: for _ in 0..MAX_RESTARTS {
        let floor = floor.max(src.kept_from());
        let start = from.max(floor);
        if start >= len || n == 0 {
            return Ok(Span::empty(start.min(len), start == floor));
        }
        // Only a line ending within `cap` bytes is returned whole, so nothing past is needed.
        let upper = len.min(start.saturating_add(cap));
        let mut bytes = Vec::new();
        let mut pos = start;
        let mut lines = 0;
        let mut end = start;
        let mut done = false;
        while pos < upper && !done {
            let want = (upper - pos).min(BLOCK as u64) as usize;
            let old = bytes.len();
            bytes.resize(old + want, 0);
            let got = src.read_kept(pos, &mut bytes[old..])?;
            if got.start > 0 {
                // Rotation dropped bytes this scan needs: start again from the new first byte.
                continue 'attempt;
            }
            for i in memchr_iter(b'\n', &bytes[old..]) {
                lines += 1;
                end = pos + i as u64 + 1;
                if lines == n {
                    done = true;
                    break;
                }
            }
            pos += want as u64;
        }
        if !done {
            if upper == len {
                if end < len {
                    lines += 1;
                    end = len;
                }
            } else if lines == 0 {
                let keep = complete_prefix_len(&bytes[..(upper - start) as usize]);
                end = if keep > 0 { start + keep as u64 } else { upper };
                lines = 1;
            }
        }
        bytes.truncate((end - start) as usize);
        let at_floor = start == floor;
        let mut span = Span {
            start,
            end,
            bytes,
            lines,
            at_floor,
        };
        if at_floor {
            span.align_start();
        }
        return Ok(span);
    }
    Err(Error::io(
        "reading",
        src.path(),
        io::Error::other("the output rotated faster than it could be read"),
    ))
}

/// Cuts the bytes starting at logical offset `start` into lines without their `\n`, each with
/// the offset of its first byte, and decodes each for display. A final `\n` ends the last line,
/// it does not start one. The offsets come from the bytes, never from the decoded text.
pub fn decode_lines(bytes: &[u8], start: u64) -> Vec<OutputLine> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut offset = start;
    body.split(|&b| b == b'\n')
        .map(|l| {
            let line = OutputLine {
                offset,
                text: String::from_utf8_lossy(l).into_owned(),
            };
            offset += l.len() as u64 + 1;
            line
        })
        .collect()
}

fn chunk(src: &OutputSource, span: Span) -> LineChunk {
    LineChunk {
        lines: decode_lines(&span.bytes, span.start),
        start_offset: span.start,
        end_offset: span.end,
        at_start: span.at_floor,
        at_end: span.end >= src.len(),
        last_line_complete: span.bytes.last() == Some(&b'\n'),
        size_bytes: src.len(),
        dropped_bytes: src.kept_from(),
    }
}

/// The up to `n` whole lines that end at or before `end_offset`, for scrolling up. Stops
/// early rather than return more than `max_bytes` bytes (64 MiB at most, whatever is asked),
/// but always returns at least one line when there is one (cut to its last `max_bytes` bytes
/// if it is longer). From the file's end, a character still being written is left out.
pub fn lines_before(
    src: &OutputSource,
    end_offset: u64,
    n: usize,
    max_bytes: usize,
) -> Result<LineChunk> {
    let cap = (max_bytes as u64).min(MAX_CONTENT);
    let end = if end_offset >= src.len() {
        settled_end(src)?
    } else {
        end_offset
    };
    let span = scan_back(src, src.kept_from(), end, n, cap)?;
    Ok(chunk(src, span))
}

/// The end of the output as a reader of its end should take it: the file's end, less the start
/// of a character whose other bytes are not written yet. They come with the next read, so a
/// stream that continues from here decodes the character whole.
fn settled_end(src: &OutputSource) -> Result<u64> {
    let len = src.len();
    let from = len.saturating_sub(3).max(src.kept_from()).min(len);
    let mut tail = [0u8; 3];
    let got = src.read_kept(from, &mut tail[..(len - from) as usize])?;
    let tail = &tail[got];
    Ok(len - (tail.len() - complete_prefix_len(tail)) as u64)
}

/// The up to `n` lines from `start_offset` on, for scrolling down or following. A line longer
/// than `max_bytes` (64 MiB at most) is cut to its first `max_bytes` bytes, and `end_offset`
/// then points into it so that the next call continues it.
pub fn lines_after(
    src: &OutputSource,
    start_offset: u64,
    n: usize,
    max_bytes: usize,
) -> Result<LineChunk> {
    let cap = (max_bytes as u64).min(MAX_CONTENT);
    let span = scan_fwd(src, src.kept_from(), start_offset, n, cap)?;
    Ok(chunk(src, span))
}

/// `readOutput`: full, head, tail or grep over the kept output (or its last `max_bytes`).
pub fn read(src: &OutputSource, req: &ReadRequest) -> Result<ReadResult> {
    let len = src.len();
    let window = window_start(src, req.max_bytes);
    let n = req.lines.unwrap_or(DEFAULT_LINES) as usize;
    let (content, start, end, truncated) = match req.method {
        ReadMethod::Full => {
            let from = window.max(len.saturating_sub(MAX_CONTENT));
            let span = scan_fwd(src, from, from, usize::MAX, MAX_CONTENT)?;
            (
                lossy(span.bytes),
                span.start,
                span.end,
                span.start > 0 || span.end < len,
            )
        }
        ReadMethod::Head => {
            let span = scan_fwd(src, window, window, n, MAX_CONTENT)?;
            (
                lossy(span.bytes),
                span.start,
                span.end,
                span.start > 0 || span.end < len,
            )
        }
        ReadMethod::Tail => {
            let span = scan_back(src, window, len, n, MAX_CONTENT)?;
            (lossy(span.bytes), span.start, span.end, span.start > 0)
        }
        ReadMethod::Grep => {
            let limit = req.lines.map_or(usize::MAX, |l| l as usize);
            let (result, start) =
                super::grep::grep_window(src, req.pattern.as_deref(), limit, req.max_bytes)?;
            let texts: Vec<&str> = result.lines.iter().map(|l| l.text.as_str()).collect();
            (texts.join("\n"), start, len, result.truncated)
        }
    };
    Ok(ReadResult {
        id: src.id().to_owned(),
        content,
        truncated,
        size_bytes: len,
        dropped_bytes: src.kept_from(),
        start_offset: start,
        end_offset: end,
    })
}

#[cfg(test)]
mod tests {
    use super::super::source::tests::{folder_with, rotate};
    use super::*;

    fn open(dir: &tempfile::TempDir) -> OutputSource {
        OutputSource::open("proc_x", dir.path()).unwrap()
    }

    fn req(method: ReadMethod, lines: Option<u32>, max_bytes: Option<u64>) -> ReadRequest {
        ReadRequest {
            method,
            lines,
            pattern: None,
            max_bytes,
        }
    }

    fn texts(c: &LineChunk) -> Vec<&str> {
        c.lines.iter().map(|l| l.text.as_str()).collect()
    }

    fn offsets(c: &LineChunk) -> Vec<u64> {
        c.lines.iter().map(|l| l.offset).collect()
    }

    /// Independent model of head/tail: split after each `\n`, keeping it.
    fn model_lines(s: &str) -> Vec<&str> {
        s.split_inclusive('\n').collect()
    }

    fn model_tail(s: &str, n: usize) -> String {
        let l = model_lines(s);
        l[l.len().saturating_sub(n)..].concat()
    }

    fn model_head(s: &str, n: usize) -> String {
        model_lines(s).into_iter().take(n).collect()
    }

    #[test]
    fn empty_and_missing() {
        let missing = tempfile::tempdir().unwrap();
        let empty = folder_with(b"");
        for dir in [&missing, &empty] {
            let src = open(dir);
            for m in [ReadMethod::Full, ReadMethod::Head, ReadMethod::Tail] {
                let r = read(&src, &req(m, None, None)).unwrap();
                assert_eq!(
                    (
                        r.content.as_str(),
                        r.truncated,
                        r.size_bytes,
                        r.start_offset,
                        r.end_offset
                    ),
                    ("", false, 0, 0, 0)
                );
            }
            let c = lines_before(&src, u64::MAX, 10, 1000).unwrap();
            assert!(c.lines.is_empty() && c.at_start && c.at_end);
            let c = lines_after(&src, 0, 10, 1000).unwrap();
            assert!(c.lines.is_empty() && c.at_start && c.at_end);
        }
    }

    #[test]
    fn head_tail_match_model() {
        let cases = [
            "a\nb\nc\n",
            "a\nb\nc",
            "one line no newline",
            "\n\n\n",
            "x\r\ny\r\nlast\r\n",
            "é\n€€\n😀 tail",
            "\n",
            "a",
        ];
        for text in cases {
            let dir = folder_with(text.as_bytes());
            let src = open(&dir);
            for n in [0usize, 1, 2, 3, 4, 50] {
                let t = read(&src, &req(ReadMethod::Tail, Some(n as u32), None)).unwrap();
                let expected = model_tail(text, n);
                assert_eq!(t.content, expected, "tail {n} of {text:?}");
                assert_eq!(
                    t.truncated,
                    expected.len() < text.len(),
                    "tail {n} of {text:?}"
                );
                assert_eq!(t.start_offset as usize, text.len() - expected.len());
                assert_eq!(t.end_offset as usize, text.len());
                let h = read(&src, &req(ReadMethod::Head, Some(n as u32), None)).unwrap();
                let expected = model_head(text, n);
                assert_eq!(h.content, expected, "head {n} of {text:?}");
                assert_eq!(
                    h.truncated,
                    expected.len() < text.len(),
                    "head {n} of {text:?}"
                );
                assert_eq!((h.start_offset, h.end_offset as usize), (0, expected.len()));
            }
            let f = read(&src, &req(ReadMethod::Full, None, None)).unwrap();
            assert_eq!((f.content.as_str(), f.truncated), (text, false));
        }
    }

    #[test]
    fn default_is_ten_lines() {
        let text: String = (1..=25).map(|i| format!("line {i}\n")).collect();
        let dir = folder_with(text.as_bytes());
        let src = open(&dir);
        let t = read(&src, &req(ReadMethod::Tail, None, None)).unwrap();
        assert_eq!(t.content, model_tail(&text, 10));
        assert!(t.content.starts_with("line 16\n") && t.truncated);
        let h = read(&src, &req(ReadMethod::Head, None, None)).unwrap();
        assert_eq!(h.content, model_head(&text, 10));
        assert_eq!(t.id, "proc_x");
    }

    #[test]
    fn crlf_is_kept() {
        let dir = folder_with(b"a\r\nb\r\n");
        let src = open(&dir);
        let t = read(&src, &req(ReadMethod::Tail, Some(1), None)).unwrap();
        assert_eq!(t.content, "b\r\n");
        let c = lines_after(&src, 0, 10, 100).unwrap();
        assert_eq!(texts(&c), vec!["a\r", "b\r"]);
        assert_eq!(offsets(&c), vec![0, 3]);
    }

    #[test]
    fn max_bytes_window() {
        let text = "first\nsecond\nthird\nfourth\n";
        let dir = folder_with(text.as_bytes());
        let src = open(&dir);
        // The last 10 bytes are "rd\nfourth\n": the window starts mid-line.
        let f = read(&src, &req(ReadMethod::Full, None, Some(10))).unwrap();
        assert_eq!(
            (f.content.as_str(), f.truncated, f.start_offset),
            ("rd\nfourth\n", true, 16)
        );
        let t = read(&src, &req(ReadMethod::Tail, Some(5), Some(10))).unwrap();
        assert_eq!((t.content.as_str(), t.truncated), ("rd\nfourth\n", true));
        let t = read(&src, &req(ReadMethod::Tail, Some(1), Some(10))).unwrap();
        assert_eq!(t.content, "fourth\n");
        let h = read(&src, &req(ReadMethod::Head, Some(1), Some(10))).unwrap();
        assert_eq!((h.content.as_str(), h.truncated), ("rd\n", true));
        let f = read(&src, &req(ReadMethod::Full, None, Some(1000))).unwrap();
        assert_eq!((f.content.as_str(), f.truncated), (text, false));
        let f = read(&src, &req(ReadMethod::Full, None, Some(0))).unwrap();
        assert_eq!((f.content.as_str(), f.truncated), ("", true));
    }

    #[test]
    fn max_bytes_window_mid_character() {
        // "€" is 3 bytes: a window of the last 5 bytes starts inside it.
        let text = "ab€cd\n";
        let dir = folder_with(text.as_bytes());
        let src = open(&dir);
        for m in [ReadMethod::Full, ReadMethod::Tail, ReadMethod::Head] {
            let r = read(&src, &req(m, None, Some(5))).unwrap();
            assert_eq!(r.content, "cd\n", "{m:?}");
            assert_eq!(r.start_offset, 5);
            assert!(r.truncated);
        }
        let r = read(&src, &req(ReadMethod::Full, None, Some(6))).unwrap();
        assert_eq!((r.content.as_str(), r.start_offset), ("€cd\n", 2));
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let bytes = b"ok\n\xff\xfe bad \xe2\x82\nend \xc3";
        let dir = folder_with(bytes);
        let src = open(&dir);
        let f = read(&src, &req(ReadMethod::Full, None, None)).unwrap();
        assert_eq!(f.content, String::from_utf8_lossy(bytes));
        assert!(f.content.contains('\u{FFFD}'));
        let t = read(&src, &req(ReadMethod::Tail, Some(2), None)).unwrap();
        assert_eq!(t.content, "\u{FFFD}\u{FFFD} bad \u{FFFD}\nend \u{FFFD}");
        let c = lines_after(&src, 0, 10, 1000).unwrap();
        assert_eq!(c.lines.len(), 3);
        // Every start offset and size, even ones splitting characters: no panic.
        for start in 0..=bytes.len() as u64 + 2 {
            for max in 1..6 {
                lines_after(&src, start, 3, max).unwrap();
                lines_before(&src, start, 3, max).unwrap();
            }
            read(&src, &req(ReadMethod::Tail, Some(2), Some(start))).unwrap();
            read(&src, &req(ReadMethod::Head, Some(2), Some(start))).unwrap();
        }
    }

    #[test]
    fn the_end_leaves_out_a_character_still_being_written() {
        let cases: [(&[u8], u64, &[&str]); 4] = [
            (b"ok\ncaf\xc3", 6, &["ok", "caf"]),
            (b"ok\n\xf0\x9f\x98", 3, &["ok"]),
            (b"ok\ncaf\xff", 7, &["ok", "caf\u{FFFD}"]),
            (b"ok\ncaf\xc3\xa9", 8, &["ok", "caf\u{e9}"]),
        ];
        for (bytes, end, lines) in cases {
            let dir = folder_with(bytes);
            let src = open(&dir);
            let c = lines_before(&src, u64::MAX, 10, 1000).unwrap();
            assert_eq!(
                (c.end_offset, texts(&c)),
                (end, lines.to_vec()),
                "{bytes:?}"
            );
            assert_eq!(c.at_end, end == bytes.len() as u64);
            // Scrolling up from a line start is not affected.
            assert_eq!(lines_before(&src, 3, 10, 1000).unwrap().end_offset, 3);
        }
    }

    #[test]
    fn huge_line_without_newline() {
        let mut data = b"before\n".to_vec();
        let long: Vec<u8> = (0..10_000_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        data.extend_from_slice(&long);
        let dir = folder_with(&data);
        let src = open(&dir);
        let t = read(&src, &req(ReadMethod::Tail, Some(10), None)).unwrap();
        assert_eq!(t.content.as_bytes(), &data[..]);
        assert!(!t.truncated);
        let t = read(&src, &req(ReadMethod::Tail, Some(1), None)).unwrap();
        assert_eq!(t.content.as_bytes(), &long[..]);
        let c = lines_before(&src, u64::MAX, 10, 4096).unwrap();
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.lines[0].text.as_bytes(), &long[long.len() - 4096..]);
        assert_eq!(
            (c.start_offset, c.end_offset),
            (data.len() as u64 - 4096, data.len() as u64)
        );
        assert!(!c.at_start && c.at_end);
        let c = lines_after(&src, 7, 10, 4096).unwrap();
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.lines[0].text.as_bytes(), &long[..4096]);
        assert_eq!((c.start_offset, c.end_offset), (7, 7 + 4096));
        assert!(!c.at_end);
        let c = lines_after(&src, 0, 10, 4096).unwrap();
        assert_eq!(texts(&c), vec!["before"]);
        assert_eq!(c.end_offset, 7);
    }

    #[test]
    fn long_line_cut_on_character_boundary() {
        let text = "€".repeat(10);
        let dir = folder_with(text.as_bytes());
        let src = open(&dir);
        let c = lines_after(&src, 0, 1, 7).unwrap();
        assert_eq!((c.lines[0].text.as_str(), c.end_offset), ("€€", 6));
        let c = lines_before(&src, 30, 1, 7).unwrap();
        assert_eq!(
            (c.lines[0].text.as_str(), c.lines[0].offset, c.start_offset),
            ("€€", 24, 24)
        );
    }

    /// The lines of `data[start..end]` as a reader of the file sees them: a line starts at
    /// `start` and after every `\n` that is not the range's last byte.
    fn model_chunk(data: &[u8], start: usize, end: usize) -> Vec<OutputLine> {
        let mut starts = vec![start];
        starts.extend(
            (start..end.saturating_sub(1))
                .filter(|&i| data[i] == b'\n')
                .map(|i| i + 1),
        );
        if start == end {
            return Vec::new();
        }
        starts
            .iter()
            .enumerate()
            .map(|(k, &from)| {
                let to = starts.get(k + 1).map_or(end, |next| next - 1);
                let to = if to == end && data[end - 1] == b'\n' {
                    to - 1
                } else {
                    to
                };
                OutputLine {
                    offset: from as u64,
                    text: String::from_utf8_lossy(&data[from..to]).into_owned(),
                }
            })
            .collect()
    }

    /// Walks the whole file with the chunk functions, both ways: every chunk's lines must be the
    /// model's (same offsets, same text), and the chunks must tile the file.
    fn walk(data: &[u8], n: usize, max: usize) {
        let dir = folder_with(data);
        let src = open(&dir);
        let mut pos = 0;
        loop {
            let c = lines_after(&src, pos, n, max).unwrap();
            assert_eq!(c.start_offset, pos);
            let model = model_chunk(data, c.start_offset as usize, c.end_offset as usize);
            assert_eq!(c.lines, model, "forward n={n} max={max} at {pos}");
            assert!(c.lines.len() <= n);
            if c.at_end {
                assert_eq!(c.end_offset as usize, data.len());
                break;
            }
            assert!(c.end_offset > pos, "progress");
            pos = c.end_offset;
        }
        // From the end, a character still missing bytes is left for later.
        let mut end = complete_prefix_len(data) as u64;
        let mut from = data.len() as u64;
        loop {
            let c = lines_before(&src, from, n, max).unwrap();
            assert_eq!(c.end_offset, end);
            let model = model_chunk(data, c.start_offset as usize, c.end_offset as usize);
            assert_eq!(c.lines, model, "backward n={n} max={max} at {end}");
            assert!(c.lines.len() <= n);
            if c.at_start {
                assert_eq!(c.start_offset, 0);
                break;
            }
            assert!(c.start_offset < end, "progress");
            end = c.start_offset;
            from = end;
        }
    }

    #[test]
    fn walking_rebuilds_the_file() {
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(&"x€y".repeat(i % 37));
            if i % 11 == 0 {
                text.push('\r');
            }
            text.push('\n');
        }
        text.push_str("partial last line");
        for (n, max) in [
            (1, 1 << 20),
            (7, 1 << 20),
            (100, 1 << 20),
            (5, 50),
            (3, 7),
            (1000, 300),
        ] {
            walk(text.as_bytes(), n, max);
        }
        walk(b"\n\n\nx\n", 2, 1);
        walk(b"no newline at all", 3, 4);
    }

    #[test]
    fn offsets_stay_exact_with_invalid_bytes_crlf_and_split_characters() {
        // Invalid bytes (1 byte on disk, 3 as text), CRLF, and characters of 2 to 4 bytes, so
        // that small limits cut lines inside characters and invalid sequences.
        let mut data = Vec::new();
        for i in 0..600u32 {
            data.extend_from_slice(format!("{i} ").as_bytes());
            match i % 7 {
                0 => data.extend_from_slice(b"bad \xff\xfe end"),
                1 => data.extend_from_slice("caf\u{e9} \u{20ac} \u{1f600}".as_bytes()),
                2 => data.extend_from_slice(b"cut \xe2\x82"),
                3 => data.extend_from_slice(b"\x80\x80\x80\x80 lone continuations"),
                4 => data.extend_from_slice(b"\xf0\x9f\x98"),
                5 => data.push(b'\r'),
                _ => {}
            }
            data.extend_from_slice(if i % 3 == 0 { b"\r\n" } else { b"\n" });
        }
        data.extend_from_slice(b"open \xc3");
        for (n, max) in [
            (1, 1 << 20),
            (9, 1 << 20),
            (500, 1 << 20),
            (4, 11),
            (2, 3),
            (1, 1),
        ] {
            walk(&data, n, max);
        }
        walk(b"\xff\n\xff\xff\n", 1, 1);
        walk(b"\xe2\x82\xac\r\n\xe2\x82", 2, 2);
    }

    #[test]
    fn tail_reads_only_the_end() {
        // A sparse 1 GiB file whose ends are the only data: the reads must touch only them.
        let dir = tempfile::tempdir().unwrap();
        let mut f = std::fs::File::create(dir.path().join(super::super::OUTPUT_FILE)).unwrap();
        f.set_len(1 << 30).unwrap();
        use std::io::{Seek, SeekFrom, Write};
        f.seek(SeekFrom::Start((1 << 30) - 14)).unwrap();
        f.write_all(b"\nfirst\nsecond\n").unwrap();
        f.rewind().unwrap();
        f.write_all(b"head1\nhead2\n").unwrap();
        let src = open(&dir);
        let t = read(&src, &req(ReadMethod::Tail, Some(2), None)).unwrap();
        assert_eq!(t.content, "first\nsecond\n");
        let h = read(&src, &req(ReadMethod::Head, Some(2), None)).unwrap();
        assert_eq!(h.content, "head1\nhead2\n");
        // The third line is the gigabyte of zeros: it does not fit, so two lines come back.
        let c = lines_before(&src, u64::MAX, 3, 4096).unwrap();
        assert_eq!(texts(&c), vec!["first", "second"]);
        assert!(
            src.bytes_read() <= 4 * BLOCK as u64,
            "read {} bytes",
            src.bytes_read()
        );
    }

    #[test]
    fn rotation_never_returns_dropped_bytes() {
        // Lines of 100 bytes; keptFrom at 4096 falls inside line 40.
        let text: String = (0..200)
            .map(|i| format!("{:>99}\n", format!("line {i:03}")))
            .collect();
        let dir = folder_with(text.as_bytes());
        rotate(dir.path(), 4096);
        let src = open(&dir);
        assert_eq!(src.kept_from(), 4096);
        let kept = &text[4096..];
        let f = read(&src, &req(ReadMethod::Full, None, None)).unwrap();
        assert_eq!(
            (
                f.content.as_str(),
                f.truncated,
                f.dropped_bytes,
                f.start_offset
            ),
            (kept, true, 4096, 4096)
        );
        let t = read(&src, &req(ReadMethod::Tail, Some(1000), None)).unwrap();
        assert_eq!((t.content.as_str(), t.truncated), (kept, true));
        let h = read(&src, &req(ReadMethod::Head, Some(2), None)).unwrap();
        assert_eq!(h.content, model_head(kept, 2));
        assert!(!h.content.contains('\0'));
        let c = lines_after(&src, 0, 3, 1 << 20).unwrap();
        assert_eq!((c.start_offset, c.at_start), (4096, true));
        assert_eq!(c.lines[0].text, &kept[..kept.find('\n').unwrap()]);
        let c = lines_before(&src, 5000, 1000, 1 << 20).unwrap();
        assert_eq!(
            (c.start_offset, c.at_start, c.dropped_bytes),
            (4096, true, 4096)
        );
        assert_eq!(texts(&c).concat().len() + c.lines.len(), 5000 - 4096);
        let c = lines_before(&src, 100, 10, 1 << 20).unwrap();
        assert!(c.lines.is_empty() && c.at_start);
        // Rotation after opening: a new read sees it and still returns no zeros.
        rotate(dir.path(), 8192);
        let t = read(&src, &req(ReadMethod::Tail, Some(1000), None)).unwrap();
        assert_eq!(t.content, &text[8192..]);
        let c = lines_after(&src, 4096, 1000, 1 << 20).unwrap();
        assert_eq!(c.start_offset, 8192);
        assert!(c.lines.iter().all(|l| !l.text.contains('\0')));
    }

    #[test]
    fn rotation_inside_a_character() {
        let mut data = vec![b'x'; 4095];
        data.extend_from_slice("€ after\n".as_bytes()); // the '€' spans 4095..4098
        let dir = folder_with(&data);
        rotate(dir.path(), 4096);
        let src = open(&dir);
        let f = read(&src, &req(ReadMethod::Full, None, None)).unwrap();
        assert_eq!((f.content.as_str(), f.start_offset), (" after\n", 4098));
        let c = lines_before(&src, u64::MAX, 5, 100).unwrap();
        assert_eq!(
            (c.lines[0].text.as_str(), c.start_offset, c.at_start),
            (" after", 4098, true)
        );
        let c = lines_after(&src, 0, 5, 100).unwrap();
        assert_eq!(
            (c.lines[0].text.as_str(), c.start_offset, c.at_start),
            (" after", 4098, true)
        );
    }
}
