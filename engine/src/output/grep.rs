//! Grep over the output, streamed: the regex runs over whole blocks (not once per line), and
//! only the lines holding a match are located, checked and decoded. [`LineMatcher`] says what a
//! line is and whether it matches, for grep over the file and for lines filtered as they are
//! followed alike.

use std::io::{self, Write};

use memchr::{memchr, memchr_iter, memrchr};
use regex::bytes::{Regex, RegexBuilder};

use super::lines::{window_start, MAX_CONTENT};
use super::source::{OutputSource, COPY_BLOCK};
use super::utf8::{complete_prefix_len, is_continuation, skip_continuation, MappedText};
use super::{GrepLine, GrepResult};
use crate::error::{Error, IoContext, Result};

/// Matching lines `grep` returns when no limit is given.
pub const DEFAULT_LIMIT: usize = 10_000;

/// A line still without its newline at this size is searched as it is and cut there, so memory
/// stays bounded whatever a process prints: a longer line is searched as parts of this size
/// (the last one shorter), and reported once, from the first part that matches. `$` matches at
/// the end of each part.
const LINE_CAP: usize = 16 << 20;

/// No character has more continuation bytes than this.
const MAX_SKIP: usize = 3;

/// Text shown for one matching line.
const LINE_TEXT_CAP: usize = 64 << 10;

/// Compiled size allowed for a pattern: a huge one is an error instead of a long compile.
const REGEX_SIZE_LIMIT: usize = 8 << 20;

/// Whether a line of output matches a pattern. A line is what lies between two `\n`, without
/// them; a `\r` before the `\n` stays part of the line, as in grep (`ready$` does not match
/// `ready\r`), so that a line searched alone behaves exactly as it does inside its block.
#[derive(Debug, Clone)]
pub struct LineMatcher {
    re: Regex,
    /// Match the line as it shows, without its ANSI sequences (see [`LineMatcher::visible`]).
    visible: bool,
}

impl LineMatcher {
    /// Compiles `pattern` (Rust regex syntax; `^` and `$` match at each line).
    pub fn new(pattern: &str) -> Result<LineMatcher> {
        if pattern.is_empty() {
            return Err(Error::MissingPattern);
        }
        let re = RegexBuilder::new(pattern)
            .multi_line(true)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| Error::InvalidPattern {
                pattern: pattern.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(LineMatcher { re, visible: false })
    }

    /// Like [`LineMatcher::new`], but each line is matched as it shows on a terminal, without
    /// its ANSI sequences (see [`super::ansi::strip_ansi`]): `ready in \d+ ms` then matches a
    /// line whose words are coloured one by one.
    pub fn visible(pattern: &str) -> Result<LineMatcher> {
        Ok(LineMatcher {
            visible: true,
            ..LineMatcher::new(pattern)?
        })
    }

    /// `line` is one line (or one part of a line longer than the cap), without its `\n`.
    pub fn is_match(&self, line: &[u8]) -> bool {
        if self.visible && line.iter().any(|&b| b == 0x1b || b == 0x9b) {
            return self.re.is_match(&super::ansi::strip_ansi(line));
        }
        self.re.is_match(line)
    }
}

fn compile(pattern: Option<&str>) -> Result<LineMatcher> {
    LineMatcher::new(pattern.unwrap_or_default())
}

/// One matching line, as found in the stream.
struct Hit<'a> {
    line_number: u64,
    offset: u64,
    /// Without its `\n`.
    line: &'a [u8],
}

struct Searched {
    window_start: u64,
    /// Rotation dropped part of the region while it was searched.
    gap: bool,
}

/// Calls `on_hit` for every line of the window (the matcher is a plain one, from `compile`: the
/// regex runs over whole blocks of raw bytes) (see `window_start`) that matches `re`, in order.
fn search(
    src: &OutputSource,
    matcher: &LineMatcher,
    max_bytes: Option<u64>,
    on_hit: &mut dyn FnMut(Hit<'_>) -> Result<()>,
) -> Result<Searched> {
    let re = &matcher.re;
    let end = src.len();
    let mut window = window_start(src, max_bytes);
    let mut pos = window;
    // `buf` holds whole lines being searched plus the start of a line whose end is not read
    // yet; `buf[0]` is at offset `buf_off` and belongs to line number `line_no`.
    let mut buf: Vec<u8> = Vec::new();
    let mut buf_off = window;
    let mut line_no = 1u64;
    // `buf[..no_newline]` is known to hold no newline, so a long line is not rescanned.
    let mut no_newline = 0;
    // The line at `buf[0]` continues a line cut at `LINE_CAP`, and whether it was reported.
    let mut continued = false;
    let mut continued_reported = false;
    let mut align = window > 0;
    let mut gap = false;
    loop {
        if pos < end {
            let want = (end - pos).min(COPY_BLOCK as u64) as usize;
            let old = buf.len();
            buf.resize(old + want, 0);
            let got = src.read_kept(pos, &mut buf[old..])?;
            if got.start > 0 {
                // Rotation overtook the search: what was carried lost its continuation. Line
                // numbers go on counting from here, which is the best that can be known.
                buf.drain(..old + got.start);
                buf_off = pos + got.start as u64;
                no_newline = 0;
                continued = false;
                continued_reported = false;
                align = true;
                gap = true;
                if pos == window {
                    window = buf_off;
                }
            }
            pos += want as u64;
            if align && !buf.is_empty() {
                // The window may start mid-character; its first line starts after it.
                let skip = skip_continuation(&buf);
                let at_window = buf_off == window;
                buf.drain(..skip);
                buf_off += skip as u64;
                if at_window {
                    window = buf_off;
                }
                align = false;
            }
        }
        let eof = pos >= end;
        // `buf[0]` starts a line (or the next part of a cut one), and only that first line can
        // reach the cap: what follows it came in the last block.
        let (complete, cut) = match memchr(b'\n', &buf[no_newline..]).map(|i| no_newline + i) {
            Some(first) if first < LINE_CAP => {
                // At the end, the rest is the last line, whether or not it has its newline.
                let last = if eof {
                    buf.len()
                } else {
                    first + memrchr(b'\n', &buf[first..]).unwrap_or(0) + 1
                };
                (last, false)
            }
            _ if buf.len() >= LINE_CAP => (LINE_CAP, true),
            _ if eof => (buf.len(), false),
            _ => {
                no_newline = buf.len();
                continue;
            }
        };
        let hay = &buf[..complete];
        let mut at = 0;
        let mut counted = 0;
        let mut first_reported = false;
        // Each step first asks for the earliest match end `e` (the engine stops there rather
        // than extend a match), then for the leftmost-first match within the text up to the
        // end of `e`'s line. That second search is bounded by what the first one scanned, and
        // it is exact: no line before the match's line can match by itself, or its match would
        // start further left. A match that goes through a newline says nothing about the lines
        // it covers, and searching on from there could rescan them for every line, so the rest
        // of the block is then checked line by line instead: slower, still linear, exact.
        let mut line_by_line = false;
        while at < complete {
            let (ls, le, whole) = if line_by_line {
                (
                    at,
                    memchr(b'\n', &hay[at..]).map_or(complete, |i| at + i),
                    false,
                )
            } else {
                let Some(e) = re.shortest_match_at(hay, at) else {
                    break;
                };
                if e >= complete && hay[complete - 1] == b'\n' {
                    // It ends past the last newline, so it went through one.
                    line_by_line = true;
                    continue;
                }
                let bound = memchr(b'\n', &hay[e..]).map_or(complete, |i| e + i);
                let Some(m) = re.find_at(&hay[..bound], at) else {
                    // The two searches disagree; only the slow way is sure.
                    line_by_line = true;
                    continue;
                };
                let s = m.start();
                let ls = memrchr(b'\n', &hay[at..s]).map_or(at, |i| at + i + 1);
                let le = memchr(b'\n', &hay[s..bound]).map_or(bound, |i| s + i);
                let whole = m.end() <= le;
                line_by_line = !whole;
                (ls, le, whole)
            };
            at = le + 1;
            if ls == 0 && continued && continued_reported {
                continue;
            }
            let line = &hay[ls..le];
            if whole || re.is_match(line) {
                line_no += memchr_iter(b'\n', &hay[counted..ls]).count() as u64;
                counted = ls;
                on_hit(Hit {
                    line_number: line_no,
                    offset: buf_off + ls as u64,
                    line,
                })?;
                first_reported |= ls == 0;
            }
        }
        line_no += memchr_iter(b'\n', &hay[counted..complete]).count() as u64;
        if cut {
            continued_reported = (continued && continued_reported) || first_reported;
            continued = true;
        } else {
            continued = false;
            continued_reported = false;
        }
        buf.drain(..complete);
        buf_off += complete as u64;
        // What is left after a cut may hold the newline that ends the cut line.
        no_newline = if cut { 0 } else { buf.len() };
        if eof && buf.is_empty() {
            break;
        }
    }
    Ok(Searched {
        window_start: window,
        gap,
    })
}

fn grep_line(matcher: &LineMatcher, hit: &Hit<'_>) -> GrepLine {
    let shown = hit.line.strip_suffix(b"\r").unwrap_or(hit.line);
    let cut = if shown.len() > LINE_TEXT_CAP {
        match complete_prefix_len(&shown[..LINE_TEXT_CAP]) {
            0 => LINE_TEXT_CAP,
            n => n,
        }
    } else {
        shown.len()
    };
    let mapped = MappedText::new(&shown[..cut]);
    let mut text_len = mapped.text.len();
    if text_len > LINE_TEXT_CAP {
        // Replacement characters made the text longer than its bytes.
        text_len = LINE_TEXT_CAP;
        while !mapped.text.is_char_boundary(text_len) {
            text_len -= 1;
        }
    }
    let whole = cut == shown.len() && text_len == mapped.text.len();
    let mut matches = Vec::new();
    for m in matcher.re.find_iter(hit.line) {
        let start = mapped.map(m.start().min(cut), false);
        // An empty match at the very end (`$`) is shown; one where the text was cut is not.
        if m.start() > cut || start > text_len || (start == text_len && !whole) {
            break;
        }
        let end = mapped.map(m.end().min(cut), true).clamp(start, text_len);
        // Both fit: the text is at most LINE_TEXT_CAP bytes.
        matches.push((start as u32, end as u32));
    }
    let mut text = mapped.text;
    text.truncate(text_len);
    GrepLine {
        line_number: hit.line_number,
        offset: hit.offset,
        text,
        matches,
    }
}

/// Grep with the window start, for `read`'s offsets.
pub(crate) fn grep_window(
    src: &OutputSource,
    pattern: Option<&str>,
    limit: usize,
    max_bytes: Option<u64>,
) -> Result<(GrepResult, u64)> {
    let matcher = compile(pattern)?;
    let mut lines = Vec::new();
    let mut matching_lines = 0u64;
    let mut text_bytes = 0u64;
    let mut full = false;
    let searched = search(src, &matcher, max_bytes, &mut |hit| {
        matching_lines += 1;
        if !full && lines.len() < limit {
            let line = grep_line(&matcher, &hit);
            text_bytes += line.text.len() as u64 + 1;
            lines.push(line);
            // Bounded like every other read, whatever the limit.
            full = text_bytes >= MAX_CONTENT;
        }
        Ok(())
    })?;
    let truncated =
        (lines.len() as u64) < matching_lines || searched.window_start > 0 || searched.gap;
    let result = GrepResult {
        id: src.id().to_owned(),
        lines,
        matching_lines,
        truncated,
        size_bytes: src.len(),
        dropped_bytes: src.kept_from(),
    };
    Ok((result, searched.window_start))
}

/// The lines that match `pattern` (a regex; `^` and `$` match at each line), first `limit`
/// (default 10,000) of them, with every matching line counted. Only the last `max_bytes` bytes
/// are searched when given. Line numbers count from the first byte searched.
pub fn grep(
    src: &OutputSource,
    pattern: Option<&str>,
    limit: Option<usize>,
    max_bytes: Option<u64>,
) -> Result<GrepResult> {
    Ok(grep_window(src, pattern, limit.unwrap_or(DEFAULT_LIMIT), max_bytes)?.0)
}

/// Writes every matching line as it is in the file, each followed by `\n`, the way grep prints
/// them, without holding them; returns how many were written. Give it a buffered writer.
pub fn grep_to(
    src: &OutputSource,
    pattern: &str,
    max_bytes: Option<u64>,
    out: &mut dyn Write,
) -> Result<u64> {
    let matcher = compile(Some(pattern))?;
    let mut count = 0u64;
    search(src, &matcher, max_bytes, &mut |hit| {
        out.write_all(hit.line).ctx("copying", src.path())?;
        out.write_all(b"\n").ctx("copying", src.path())?;
        count += 1;
        Ok(())
    })?;
    Ok(count)
}

/// The matching lines of output that arrives in pieces (followed output), found as
/// [`grep_to`] finds them in the file: the same lines, long lines cut at the same places.
#[derive(Debug)]
pub struct LineFilter {
    matcher: LineMatcher,
    /// The start of a line whose `\n` has not come yet.
    pending: Vec<u8>,
    /// The logical offset of the next byte to come.
    offset: u64,
    /// Continuation bytes that may still be skipped: reading started mid-output, or after a gap,
    /// so the first line may begin inside a character, and starts after it, as in `grep_to`.
    skip_left: usize,
    /// `pending` continues a line cut at the cap, and whether that line was reported.
    continued: bool,
    continued_reported: bool,
}

/// Called with each matching line (without its `\n`) and its logical offset.
pub type OnLine<'a> = dyn FnMut(u64, &[u8]) -> io::Result<()> + 'a;

impl LineFilter {
    /// A filter for output given from logical offset `from` on.
    pub fn new(matcher: LineMatcher, from: u64) -> LineFilter {
        LineFilter {
            matcher,
            pending: Vec::new(),
            offset: from,
            skip_left: if from > 0 { MAX_SKIP } else { 0 },
            continued: false,
            continued_reported: false,
        }
    }

    /// Feeds the next piece of output; `skipped` bytes before it were lost (to the output cap),
    /// which ends the line being carried unsearched, as `grep_to` does when rotation overtakes it.
    pub fn push(&mut self, bytes: &[u8], skipped: u64, on_line: &mut OnLine<'_>) -> io::Result<()> {
        if skipped > 0 {
            self.pending.clear();
            self.offset += skipped;
            self.continued = false;
            self.continued_reported = false;
            self.skip_left = MAX_SKIP;
        }
        let mut rest = bytes;
        while self.skip_left > 0 {
            match rest.first() {
                Some(&b) if is_continuation(b) => {
                    rest = &rest[1..];
                    self.offset += 1;
                    self.skip_left -= 1;
                }
                Some(_) => self.skip_left = 0,
                None => break,
            }
        }
        while !rest.is_empty() {
            let room = LINE_CAP - self.pending.len();
            let window = &rest[..rest.len().min(room)];
            let (taken, line_ended) = match memchr(b'\n', window) {
                Some(nl) => (nl, true),
                None if rest.len() >= room => (room, false),
                None => {
                    self.pending.extend_from_slice(rest);
                    self.offset += rest.len() as u64;
                    break;
                }
            };
            self.pending.extend_from_slice(&rest[..taken]);
            self.offset += taken as u64;
            self.emit(!line_ended, on_line)?;
            if line_ended {
                self.offset += 1;
                rest = &rest[taken + 1..];
            } else {
                rest = &rest[taken..];
            }
        }
        Ok(())
    }

    /// The output ended: a last line without its `\n` is matched as it is.
    pub fn finish(&mut self, on_line: &mut OnLine<'_>) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.emit(false, on_line)
    }

    /// Matches `pending`, which ends at `offset`; `cut` when the line goes on past it.
    fn emit(&mut self, cut: bool, on_line: &mut OnLine<'_>) -> io::Result<()> {
        let already = self.continued && self.continued_reported;
        let reported = !already && self.matcher.is_match(&self.pending);
        if reported {
            on_line(self.offset - self.pending.len() as u64, &self.pending)?;
        }
        self.continued = cut;
        self.continued_reported = cut && (already || reported);
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::source::tests::{folder_with, rotate};
    use super::*;

    fn open(dir: &tempfile::TempDir) -> OutputSource {
        OutputSource::open("proc_g", dir.path()).unwrap()
    }

    /// Independent model: the regex applied to each line on its own.
    fn model(text: &[u8], pattern: &str) -> Vec<(u64, u64, Vec<u8>)> {
        let re = RegexBuilder::new(pattern).multi_line(true).build().unwrap();
        let body = text.strip_suffix(b"\n").unwrap_or(text);
        let mut out = Vec::new();
        let mut off = 0u64;
        if text.is_empty() {
            return out;
        }
        for (i, line) in body.split(|&b| b == b'\n').enumerate() {
            if re.is_match(line) {
                out.push((i as u64 + 1, off, line.to_vec()));
            }
            off += line.len() as u64 + 1;
        }
        out
    }

    fn check(text: &[u8], pattern: &str) -> GrepResult {
        let dir = folder_with(text);
        let src = open(&dir);
        let r = grep(&src, Some(pattern), Some(usize::MAX), None).unwrap();
        let got: Vec<(u64, u64, Vec<u8>)> = r
            .lines
            .iter()
            .map(|l| (l.line_number, l.offset, text[l.offset as usize..].to_vec()))
            .map(|(n, o, rest)| {
                let end = memchr(b'\n', &rest).unwrap_or(rest.len());
                (n, o, rest[..end].to_vec())
            })
            .collect();
        assert_eq!(got, model(text, pattern), "pattern {pattern:?}");
        assert_eq!(r.matching_lines, r.lines.len() as u64);
        let mut out = Vec::new();
        let n = grep_to(&src, pattern, None, &mut out).unwrap();
        let expected: Vec<u8> = model(text, pattern)
            .into_iter()
            .flat_map(|(_, _, mut l)| {
                l.push(b'\n');
                l
            })
            .collect();
        assert_eq!((n, out), (r.matching_lines, expected));
        r
    }

    #[test]
    fn missing_and_invalid_patterns() {
        let dir = folder_with(b"abc\n");
        let src = open(&dir);
        assert!(matches!(
            grep(&src, None, None, None),
            Err(Error::MissingPattern)
        ));
        assert!(matches!(
            grep(&src, Some(""), None, None),
            Err(Error::MissingPattern)
        ));
        assert!(matches!(
            grep_to(&src, "", None, &mut Vec::new()),
            Err(Error::MissingPattern)
        ));
        match grep(&src, Some("a(b"), None, None) {
            Err(Error::InvalidPattern { pattern, reason }) => {
                assert_eq!(pattern, "a(b");
                assert!(reason.contains("unclosed group"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        match grep(&src, Some(r"\w{1000}{1000}"), None, None) {
            Err(Error::InvalidPattern { reason, .. }) => {
                assert!(reason.contains("size limit"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let missing = tempfile::tempdir().unwrap();
        let r = grep(&open(&missing), Some("x"), None, None).unwrap();
        assert_eq!(
            (r.lines.len(), r.matching_lines, r.truncated),
            (0, 0, false)
        );
    }

    #[test]
    fn anchors_are_per_line() {
        let text = b"error one\nno error\nerror\r\nerror two\n\nlast error";
        let r = check(text, "^error");
        assert_eq!(
            r.lines.iter().map(|l| l.line_number).collect::<Vec<_>>(),
            vec![1, 3, 4]
        );
        let numbers = |r: &GrepResult| r.lines.iter().map(|l| l.line_number).collect::<Vec<_>>();
        assert_eq!(numbers(&check(text, "error$")), vec![2, 6]);
        assert_eq!(numbers(&check(text, "error\r?$")), vec![2, 3, 6]);
        check(text, "^$");
        check(text, "^");
        check(text, "x*");
        check(text, r"\berror\b");
        check(text, r"one\nno");
        check(text, r"one\s+no");
        check(text, r"[^z]+two");
        check(text, r"[^z]*");
        check(text, r"\n");
        check(text, r"e\s*$");
        check(text, r"one\n|one");
        check(text, r"r\r\nerror|two");
        check(b"xa\nba\n", r"a\nb|a");
        check(b"xa\nba\n", r"a\nba|a|zz");
        check(b"xa\nb\nc\n", r"a\nb\nc|b");
        check(b"", "^");
        check(b"\n", "^$");
        check(b"\n\n", "^$");
    }

    /// A small xorshift generator: deterministic, no extra dependency.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    #[test]
    fn random_texts_match_model() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let alphabet: [&[u8]; 8] = [
            b"a",
            b"b",
            b"\n",
            b"\r",
            b" ",
            "\u{e9}".as_bytes(),
            b"\xff",
            b"ab",
        ];
        let patterns = [
            "a",
            "^a",
            "b$",
            "^$",
            "a b",
            r"a\s+b",
            r"a\nb|a",
            r"[^a]+",
            r"\bab\b",
            "é",
            r"\r$",
            r"b\r?$",
            "a*",
            r"[ab]{3}",
            r"a[^x]*b|b",
        ];
        for _ in 0..120 {
            let len = (next() % 40) as usize;
            let text: Vec<u8> = (0..len)
                .flat_map(|_| alphabet[(next() % 8) as usize].to_vec())
                .collect();
            for p in patterns {
                check(&text, p);
            }
        }
    }

    #[test]
    fn match_on_last_line_without_newline() {
        let r = check(b"a\nb\nthe end", "end$");
        assert_eq!(r.lines.len(), 1);
        assert_eq!(
            (
                r.lines[0].line_number,
                r.lines[0].offset,
                r.lines[0].text.as_str()
            ),
            (3, 4, "the end")
        );
    }

    #[test]
    fn text_and_match_ranges() {
        let dir = folder_with(b"x foo y foo\r\nbad \xff foo\n");
        let src = open(&dir);
        let r = grep(&src, Some("foo"), None, None).unwrap();
        assert_eq!(r.lines[0].text, "x foo y foo");
        assert_eq!(r.lines[0].matches, vec![(2, 5), (8, 11)]);
        assert_eq!(r.lines[1].text, "bad \u{FFFD} foo");
        let (s, e) = r.lines[1].matches[0];
        assert_eq!(&r.lines[1].text[s as usize..e as usize], "foo");
        let r = grep(&src, Some(r"\r"), None, None).unwrap();
        assert_eq!(r.lines[0].matches, vec![(11, 11)]);
    }

    #[test]
    fn long_line_text_is_cut() {
        let mut line = vec![b'a'; 200_000];
        line[100] = b'Q';
        line[150_000] = b'Q';
        line.push(b'\n');
        let dir = folder_with(&line);
        let src = open(&dir);
        let r = grep(&src, Some("Q"), None, None).unwrap();
        assert_eq!(r.lines[0].text.len(), LINE_TEXT_CAP);
        assert_eq!(r.lines[0].matches, vec![(100, 101)]);
        // Invalid bytes become 3-byte replacement characters: the text is still capped.
        let mut line = vec![0xffu8; 30_000];
        line.extend_from_slice(b"Q\nQ\xff\n");
        let dir = folder_with(&line);
        let r = grep(&open(&dir), Some("Q"), None, None).unwrap();
        let capped = LINE_TEXT_CAP / 3 * 3;
        assert_eq!(r.lines[0].text, "\u{FFFD}".repeat(capped / 3));
        assert!(r.lines[0].matches.is_empty());
        assert_eq!(
            (r.lines[1].text.as_str(), &r.lines[1].matches[..]),
            ("Q\u{FFFD}", &[(0, 1)][..])
        );
    }

    #[test]
    fn across_block_boundaries() {
        // Lines of varying length so that 1 MiB boundaries fall inside lines and matches.
        let mut text = Vec::new();
        let mut i = 0u64;
        while text.len() < 3 * COPY_BLOCK + 5000 {
            let pad = "-".repeat((i * 7919 % 300) as usize);
            if i.is_multiple_of(97) {
                text.extend_from_slice(format!("{pad}NEEDLE-{i}\n").as_bytes());
            } else {
                text.extend_from_slice(format!("{pad}line {i}\n").as_bytes());
            }
            i += 1;
        }
        // Put one match exactly across the first block boundary.
        let b = COPY_BLOCK;
        let line_start = memrchr(b'\n', &text[..b - 3]).unwrap() + 1;
        text[b - 3..b + 3].copy_from_slice(b"NEEDLE");
        assert!(!text[line_start..b + 3].contains(&b'\n'));
        let r = check(&text, "NEEDLE");
        assert!(r.lines.iter().any(|l| l.offset == line_start as u64));
        assert!(r.lines.len() > 100);
        check(&text, r"^\d*-*NEEDLE-\d+$");
        check(&text, "line 1[0-9]*$");
        check(&text, r"NEEDLE\s+-");
    }

    #[test]
    fn limit_and_matching_lines() {
        let text: String = (1..=50)
            .map(|i| format!("{} {i}\n", if i % 2 == 0 { "even" } else { "odd" }))
            .collect();
        let dir = folder_with(text.as_bytes());
        let src = open(&dir);
        let r = grep(&src, Some("even"), Some(3), None).unwrap();
        assert_eq!(r.matching_lines, 25);
        assert!(r.truncated);
        assert_eq!(
            r.lines.iter().map(|l| l.line_number).collect::<Vec<_>>(),
            vec![2, 4, 6]
        );
        assert_eq!(r.lines[0].text, "even 2");
        let r = grep(&src, Some("even"), None, None).unwrap();
        assert_eq!((r.lines.len(), r.truncated), (25, false));
        let r = grep(&src, Some("even"), Some(0), None).unwrap();
        assert_eq!(
            (r.lines.len(), r.matching_lines, r.truncated),
            (0, 25, true)
        );
        // Last 20 bytes: "d 49\neven 50\n" plus part of "even 48": numbering from there.
        let r = grep(&src, Some("even"), None, Some(20)).unwrap();
        let tail = &text[text.len() - 20..];
        assert_eq!(
            r.matching_lines,
            tail.lines().filter(|l| l.contains("even")).count() as u64
        );
        assert!(r.truncated);
        assert_eq!(
            r.lines.last().map(|l| l.line_number),
            Some(tail.lines().count() as u64)
        );
        let mut req = super::super::ReadRequest::new(super::super::ReadMethod::Grep);
        req.pattern = Some("even 4".into());
        let res = super::super::read(&src, &req).unwrap();
        assert_eq!(
            res.content,
            "even 4\neven 40\neven 42\neven 44\neven 46\neven 48"
        );
        assert!(!res.truncated);
        req.pattern = None;
        assert!(matches!(
            super::super::read(&src, &req),
            Err(Error::MissingPattern)
        ));
    }

    #[test]
    fn very_long_line_is_cut_and_reported_once() {
        let mut text = b"short hit\n".to_vec();
        let mut long = vec![b'z'; LINE_CAP + 3 * COPY_BLOCK];
        long[10] = b'!';
        // Past the first cut: the same line, not to be reported again.
        long[LINE_CAP + 2 * COPY_BLOCK] = b'!';
        long[LINE_CAP + 2 * COPY_BLOCK + 50] = b'#';
        text.extend_from_slice(&long);
        text.extend_from_slice(b"\nafter hit\n");
        let dir = folder_with(&text);
        let src = open(&dir);
        let r = grep(&src, Some("hit|!"), None, None).unwrap();
        let got: Vec<(u64, u64)> = r.lines.iter().map(|l| (l.line_number, l.offset)).collect();
        assert_eq!(got, vec![(1, 0), (2, 10), (3, text.len() as u64 - 10)]);
        assert_eq!(r.lines[1].text.len(), LINE_TEXT_CAP);
        // A match only past the cut is still found, from the part it is in.
        let r = grep(&src, Some("#"), None, None).unwrap();
        assert_eq!(r.matching_lines, 1);
        let hash_at = 10 + LINE_CAP as u64 + 2 * COPY_BLOCK as u64 + 50;
        assert_eq!(r.lines[0].line_number, 2);
        assert!(r.lines[0].offset > 10 && r.lines[0].offset <= hash_at);
    }

    /// Feeds `text` from `from` on to a [`LineFilter`] in pieces of the given sizes (cycled).
    fn filtered(text: &[u8], pattern: &str, from: usize, sizes: &[usize]) -> Vec<u8> {
        let mut filter = LineFilter::new(LineMatcher::new(pattern).unwrap(), from as u64);
        let mut out = Vec::new();
        let mut write = |offset: u64, line: &[u8]| {
            // Each line is reported at its own offset.
            assert!(text[offset as usize..].starts_with(line));
            out.extend_from_slice(line);
            out.push(b'\n');
            Ok(())
        };
        let mut rest = &text[from..];
        for &size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, tail) = rest.split_at(size.min(rest.len()));
            filter.push(piece, 0, &mut write).unwrap();
            rest = tail;
        }
        filter.finish(&mut write).unwrap();
        out
    }

    fn grep_to_bytes(text: &[u8], pattern: &str, max_bytes: Option<u64>) -> Vec<u8> {
        let dir = folder_with(text);
        let mut out = Vec::new();
        grep_to(&open(&dir), pattern, max_bytes, &mut out).unwrap();
        out
    }

    #[test]
    fn line_filter_in_pieces_matches_grep_to() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let alphabet: [&[u8]; 7] = [
            b"a",
            b"b",
            b"\n",
            b"\r",
            b"\r\n",
            "\u{e9}".as_bytes(),
            b"\xff",
        ];
        let patterns = ["a$", r"a\r$", "^b", "^$", r"\r", "é", "a*", r"^\x80"];
        for round in 0..150 {
            let len = (next() % 40) as usize;
            let text: Vec<u8> = (0..len)
                .flat_map(|_| alphabet[(next() % 7) as usize].to_vec())
                .collect();
            let sizes = [1 + (next() % 5) as usize, 1 + (next() % 3) as usize];
            // From the start, and from a window that may begin inside a line or a character.
            let from = if round % 2 == 0 || text.is_empty() {
                0
            } else {
                (next() % text.len() as u64) as usize
            };
            for p in patterns {
                let max = (from > 0).then(|| (text.len() - from) as u64);
                assert_eq!(
                    filtered(&text, p, from, &sizes),
                    grep_to_bytes(&text, p, max),
                    "{p:?} over {text:?} from {from} in pieces of {sizes:?}"
                );
            }
        }
    }

    #[test]
    fn line_filter_cuts_long_lines_where_grep_does() {
        // CRLF lines, a line of exactly the cap, one over it with `ready` at the cut, and one
        // in two parts whose only match is in the second.
        let mut text = b"ready\r\nready\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', LINE_CAP));
        text.extend_from_slice(b"\n");
        text.extend(std::iter::repeat_n(b'x', LINE_CAP - 5));
        text.extend_from_slice(b"ready and more\r\n");
        text.extend(std::iter::repeat_n(b'y', LINE_CAP + 7));
        text.extend_from_slice(b"#end");
        let mut results = Vec::new();
        for p in ["ready$", "^$", "#"] {
            let expected = grep_to_bytes(&text, p, None);
            let got = filtered(&text, p, 0, &[4093, 1 << 16]);
            assert!(
                got == expected,
                "{p:?}: {} vs {} bytes",
                got.len(),
                expected.len()
            );
            results.push(expected);
        }
        // `ready$` matches the first part of the cut line, which is then not written again.
        assert_eq!(results[0].len(), "ready\n".len() + LINE_CAP + 1);
        assert!(results[0].starts_with(b"ready\nxxx") && results[0].ends_with(b"ready\n"));
        // `^$` matches the empty rest of the line cut exactly at the cap.
        assert_eq!(results[1], b"\n");
        // The match past the cut is written from the part it is in.
        assert_eq!(results[2], b"yyyyyyy#end\n");
    }

    #[test]
    fn a_gap_drops_the_line_being_carried() {
        let mut filter = LineFilter::new(LineMatcher::new("^ab").unwrap(), 0);
        let mut found = Vec::new();
        let mut note = |offset: u64, line: &[u8]| {
            found.push((offset, line.to_vec()));
            Ok(())
        };
        filter.push(b"ab1\nab", 0, &mut note).unwrap();
        // The rest of that line was lost; the next one starts mid-character.
        filter.push(b"\xa9ab2\nx", 3, &mut note).unwrap();
        filter.finish(&mut note).unwrap();
        assert_eq!(found, vec![(0, b"ab1".to_vec()), (10, b"ab2".to_vec())]);
    }

    #[test]
    fn rotation_is_respected() {
        let text: String = (0..200)
            .map(|i| format!("{:>99}\n", format!("line {i:03}")))
            .collect();
        let dir = folder_with(text.as_bytes());
        rotate(dir.path(), 4096);
        let src = open(&dir);
        let kept = &text[4096..];
        let r = grep(&src, Some("line"), None, None).unwrap();
        assert_eq!(
            r.matching_lines,
            kept.lines().filter(|l| l.contains("line")).count() as u64
        );
        // Line 40 is cut by keptFrom to "040\n": it is line 1 of what is kept, and no match.
        assert_eq!((r.lines[0].offset, r.lines[0].line_number), (4100, 2));
        let r = grep(&src, Some("^040$"), None, None).unwrap();
        assert_eq!((r.lines[0].offset, r.lines[0].line_number), (4096, 1));
        assert!(r.truncated && r.dropped_bytes == 4096);
        let r = grep(&src, Some("\0"), None, None).unwrap();
        assert_eq!(r.matching_lines, 0);
        // Rotation after opening: the zeros of the new hole are never searched.
        rotate(dir.path(), 8192);
        let r = grep(&src, Some(r"\x00"), None, None).unwrap();
        assert_eq!(r.matching_lines, 0);
        let mut out = Vec::new();
        let kept = &text[8192..];
        let expected: String = kept
            .lines()
            .filter(|l| l.contains("line"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            grep_to(&src, "line", None, &mut out).unwrap(),
            expected.lines().count() as u64
        );
        assert_eq!(String::from_utf8(out.clone()).unwrap(), expected);
        assert!(!out.contains(&0));
    }

    #[test]
    fn a_visible_matcher_sees_lines_without_their_colours() {
        let line = b"\x1b[32mready\x1b[0m in \x1b[1m300\x1b[22m ms";
        assert!(!LineMatcher::new(r"ready in \d+ ms").unwrap().is_match(line));
        let visible = LineMatcher::visible(r"ready in \d+ ms").unwrap();
        assert!(visible.is_match(line));
        assert!(visible.is_match(b"ready in 5 ms"));
        assert!(!visible.is_match(b"\x1b[1mready\x1b[0m"));
        assert!(matches!(
            LineMatcher::visible("("),
            Err(Error::InvalidPattern { .. })
        ));
    }
}
