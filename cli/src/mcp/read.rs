//! `process_output`: the last or first lines, the matching lines, or what is new since a cursor.
//! Reading never consumes anything: output stays in `output.log` for every reader.

use std::sync::Arc;

use procdeck_engine::output::{LineFilter, LineMatcher};
use procdeck_engine::{ReadMethod, ReadRequest, Workspace};

use super::convert;
use super::schema::{OutputInput, OutputMode, OutputOutput};
use super::session::{blocking, Session, ToolError, ToolResult};
use super::text;

const DEFAULT_LINES: u64 = 100;
/// Lines one call may ask for; more is cut to this.
const MAX_LINES: u64 = 100_000;
const DEFAULT_BYTES: u64 = 16 * 1024;
/// The most output one result holds, whatever is asked.
pub const MAX_BYTES: u64 = 256 * 1024;

/// What a read found, before the record's status is added.
struct Read {
    text: String,
    truncated: bool,
    next_cursor: u64,
    total_bytes: u64,
    dropped_bytes: u64,
    skipped_bytes: u64,
}

pub async fn output(
    session: &Session,
    ws: Arc<Workspace>,
    input: OutputInput,
) -> ToolResult<(String, OutputOutput)> {
    if input.mode == OutputMode::Grep && input.pattern.as_deref().unwrap_or_default().is_empty() {
        return Err(ToolError(
            "mode grep needs a pattern (a regex matched against each line)".into(),
        ));
    }
    let work_ws = ws.clone();
    let (id, read, record) = blocking(move || {
        let ws = work_ws;
        let id = ws.resolve(&input.id)?;
        let read = read(&ws, &id, &input)?;
        Ok((id.clone(), read, ws.get(&id)?))
    })
    .await?;
    let events = session.events(&ws, &[&id]).await;
    let mode_text = format!(
        "{} ({id}), {}: {} bytes of output{}; next_cursor {}",
        record.title,
        record.status.as_str(),
        read.total_bytes,
        if read.truncated {
            ", more not shown"
        } else {
            ""
        },
        read.next_cursor
    );
    let text = convert::with_events(format!("{mode_text}\n{}", read.text), &events);
    let out = OutputOutput {
        text: read.text,
        truncated: read.truncated,
        next_cursor: read.next_cursor,
        total_bytes: read.total_bytes,
        dropped_bytes: read.dropped_bytes,
        skipped_bytes: read.skipped_bytes,
        status: record.status.as_str().to_owned(),
        exit_code: record.exit_code,
        events,
    };
    Ok((text, out))
}

fn read(ws: &Workspace, id: &str, input: &OutputInput) -> ToolResult<Read> {
    let lines = input.lines.unwrap_or(DEFAULT_LINES).clamp(1, MAX_LINES);
    let max_bytes = input.max_bytes.unwrap_or(DEFAULT_BYTES).clamp(1, MAX_BYTES);
    let ansi = input.strip_ansi.unwrap_or(true);
    let clean = |raw: &str| text::clean(raw, ansi);
    match input.mode {
        OutputMode::Tail => {
            let r = ws.read(
                id,
                &ReadRequest {
                    lines: Some(lines as u32),
                    max_bytes: Some(max_bytes),
                    ..ReadRequest::new(ReadMethod::Tail)
                },
            )?;
            Ok(Read {
                text: clean(&r.content),
                truncated: r.truncated,
                next_cursor: r.end_offset,
                total_bytes: r.size_bytes,
                dropped_bytes: r.dropped_bytes,
                skipped_bytes: 0,
            })
        }
        OutputMode::Head => {
            let chunk = ws.lines_after(id, 0, lines as usize, max_bytes as usize)?;
            let mut raw = chunk
                .lines
                .iter()
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            if chunk.last_line_complete && !chunk.lines.is_empty() {
                raw.push('\n');
            }
            Ok(Read {
                text: clean(&raw),
                truncated: !chunk.at_end || chunk.start_offset > 0,
                next_cursor: chunk.end_offset,
                total_bytes: chunk.size_bytes,
                dropped_bytes: chunk.dropped_bytes,
                skipped_bytes: 0,
            })
        }
        OutputMode::Grep if ansi => {
            let pattern = input.pattern.as_deref().unwrap_or_default();
            visible_grep(ws, id, pattern, lines as usize, max_bytes as usize)
        }
        OutputMode::Grep => {
            let pattern = input.pattern.as_deref().unwrap_or_default();
            let found = ws.grep(id, pattern, Some(lines as usize), None)?;
            let mut raw = found
                .lines
                .iter()
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            if !raw.is_empty() {
                raw.push('\n');
            }
            let cleaned = clean(&raw);
            let (shown, cut) = text::first_bytes(&cleaned, max_bytes as usize);
            Ok(Read {
                text: shown.to_owned(),
                truncated: found.truncated || cut,
                next_cursor: found.size_bytes,
                total_bytes: found.size_bytes,
                dropped_bytes: found.dropped_bytes,
                skipped_bytes: 0,
            })
        }
        OutputMode::Since => {
            let cursor = input.cursor.unwrap_or(0);
            let chunk = ws.read_since(id, cursor, max_bytes as usize)?;
            if cursor > chunk.size_bytes {
                return Err(ToolError(format!(
                    "cursor {cursor} is past the end of the output ({} bytes): pass a next_cursor this tool returned",
                    chunk.size_bytes
                )));
            }
            Ok(Read {
                text: clean(&String::from_utf8_lossy(&chunk.bytes)),
                truncated: chunk.end < chunk.size_bytes,
                next_cursor: chunk.end,
                total_bytes: chunk.size_bytes,
                dropped_bytes: chunk.dropped_bytes,
                skipped_bytes: chunk.skipped,
            })
        }
    }
}

/// Bytes read at a time by a grep over the visible text.
const GREP_BLOCK: usize = 1 << 20;

/// The lines whose visible text (without ANSI sequences) matches `pattern`, up to `limit` of
/// them, found with the engine's line matcher over the output as it is now.
fn visible_grep(
    ws: &Workspace,
    id: &str,
    pattern: &str,
    limit: usize,
    max_bytes: usize,
) -> ToolResult<Read> {
    let mut filter = LineFilter::new(LineMatcher::visible(pattern)?, 0);
    let mut shown = String::new();
    let (mut found, mut cut) = (0usize, false);
    let mut keep = |line: &[u8]| {
        found += 1;
        if found > limit || cut {
            return;
        }
        let visible = text::clean(&String::from_utf8_lossy(line), true);
        if shown.len() + visible.len() + 1 > max_bytes {
            let (part, _) = text::first_bytes(&visible, max_bytes.saturating_sub(shown.len()));
            shown.push_str(part);
            cut = true;
            return;
        }
        shown.push_str(&visible);
        shown.push('\n');
    };
    let mut chunk = ws.read_since(id, 0, GREP_BLOCK)?;
    // The output as it is now: a process that keeps writing does not keep the search going.
    let (total, dropped) = (chunk.size_bytes, chunk.dropped_bytes);
    loop {
        // Collecting lines in memory cannot fail.
        let _ = filter.push(&chunk.bytes, chunk.skipped, &mut |_, line| {
            keep(line);
            Ok(())
        });
        if chunk.bytes.is_empty() || chunk.end >= total {
            break;
        }
        chunk = ws.read_since(id, chunk.end, GREP_BLOCK)?;
    }
    let _ = filter.finish(&mut |_, line| {
        keep(line);
        Ok(())
    });
    Ok(Read {
        text: shown,
        truncated: cut || found > limit || dropped > 0,
        next_cursor: total,
        total_bytes: total,
        dropped_bytes: dropped,
        skipped_bytes: 0,
    })
}
