//! Reading a process's output file: head, tail, grep, full and line ranges by offset.
//!
//! Output is bytes. The file's offsets are logical offsets that never move: when the output cap
//! is exceeded, the shim punches a hole at the start of the file and records the first kept
//! offset (`kept_from`) in `output.meta.json`. Every read here costs what it returns (tail reads
//! backwards from the end, head forwards, grep streams), never the file's size, and memory stays
//! bounded. Text is decoded for display only (invalid UTF-8 replaced, never a panic): every line
//! carries the logical offset of its first byte, so that one replacement character (3 bytes of
//! text for 1 byte of output) never shifts an offset a viewer asks for next.

pub mod ansi;
mod grep;
mod lines;
mod meta;
pub mod plain;
mod since;
mod source;
pub mod utf8;

use serde::{Deserialize, Serialize};

pub use grep::{grep, grep_to, LineFilter, LineMatcher};
pub(crate) use lines::window_start;
pub use lines::{decode_lines, lines_after, lines_before, read};
pub use meta::{OutputMeta, OUTPUT_FILE, OUTPUT_META_FILE};
pub use since::{read_since, SinceChunk};
pub use source::{copy_to, OutputSource};
pub use utf8::Utf8Carry;

/// What `read` returns: the text, whether it was cut, the sizes, and the offsets a viewer needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct ReadResult {
    pub id: String,
    pub content: String,
    /// True when the content is not the whole kept output (a limit, max bytes, or rotation).
    pub truncated: bool,
    /// The file's logical size: every byte written so far.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size_bytes: u64,
    /// Bytes at the start that rotation dropped.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub dropped_bytes: u64,
    /// Logical offsets of the bytes returned: `[start, end)`.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub start_offset: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub end_offset: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub enum ReadMethod {
    Full,
    Head,
    Tail,
    Grep,
}

/// `readOutput(id, {method, lines = 10, pattern, maxBytes})`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct ReadRequest {
    pub method: ReadMethod,
    /// Lines for head and tail; the most matching lines returned for grep. Default 10 for
    /// head/tail, unlimited (up to the content limit) for grep.
    #[serde(default)]
    pub lines: Option<u32>,
    #[serde(default)]
    pub pattern: Option<String>,
    /// Only the last `max_bytes` bytes of the output are considered.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub max_bytes: Option<u64>,
}

impl ReadRequest {
    pub fn new(method: ReadMethod) -> Self {
        ReadRequest {
            method,
            lines: None,
            pattern: None,
            max_bytes: None,
        }
    }
}

/// One line of output (or the part of it a range holds): where its bytes start in the file, and
/// its text for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct OutputLine {
    /// Logical offset of the line's first byte: exact whatever the text decodes to.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub offset: u64,
    /// The line's bytes without their `\n`, decoded (invalid sequences replaced); `\r` kept.
    pub text: String,
}

/// A run of whole lines read by offset, for a viewer that scrolls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct LineChunk {
    /// The lines in order; the first starts at `start_offset`.
    pub lines: Vec<OutputLine>,
    /// Logical offset of the first byte of the first line.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub start_offset: u64,
    /// Logical offset just past the last line's `\n` (or the file's end for a last line without one).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub end_offset: u64,
    /// True when `start_offset` is the first kept byte: nothing older can be fetched.
    pub at_start: bool,
    /// True when `end_offset` is the file's end at the time of reading.
    pub at_end: bool,
    /// False when the last line has no `\n` yet (or was cut by `max_bytes`): output that follows
    /// `end_offset` continues it.
    pub last_line_complete: bool,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size_bytes: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub dropped_bytes: u64,
}

/// One matching line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct GrepLine {
    /// 1-based, counted from the first kept byte (or from `max_bytes`' window start).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub line_number: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub offset: u64,
    pub text: String,
    /// Byte ranges `[start, end)` of the matches within `text` (UTF-16 would differ; the UI
    /// converts), clipped to the line.
    pub matches: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct GrepResult {
    pub id: String,
    pub lines: Vec<GrepLine>,
    /// Matching lines in the searched region, including any not returned because of the limit.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub matching_lines: u64,
    /// True when not every matching line was returned, or the region is not the whole output.
    pub truncated: bool,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size_bytes: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub dropped_bytes: u64,
}
