//! What the CLI writes for people and programs. Titles, commands, paths and names come from
//! records a cloned repository can ship, so nothing here reaches the terminal raw: control
//! characters are shown as escapes in text and encoded as JSON escapes in JSON. Process output
//! itself is written by `commands` as its bytes.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use procdeck_engine::{platform, ProcessRecord, Status, Usage};

use crate::commands::CliError;

/// Whether the terminal could act on `c` or reorder the text around it: C0, DEL and C1
/// controls (ESC and CSI start escape sequences, OSC 52 writes the clipboard) and the
/// bidirectional marks and overrides.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every hidden character written as an escape: `\n`, `\t`, `\r`, `\x1b` below
/// U+0080, `\u{9b}` above.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 && is_hidden(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// An error or warning line for stderr: `procdeck: ` and the message, on one line.
pub fn error_line(message: &str) -> String {
    format!("procdeck: {}", visible(message))
}

/// JSON text with the hidden characters serde_json leaves as they are (DEL, C1, bidi marks)
/// written as `\u` escapes: the same JSON value, and nothing a terminal acts on. serde_json
/// already escapes the C0 controls inside strings, and those outside strings are its own
/// layout, which is left alone.
fn safe_json(text: String) -> String {
    if !text.chars().any(|c| c >= '\u{7f}' && is_hidden(c)) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c >= '\u{7f}' && is_hidden(c) {
            // Every hidden character is in the Basic Multilingual Plane: four digits.
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map(safe_json)
        .map_err(|e| CliError::Stdout(io::Error::other(e)))?;
    let mut out = io::stdout().lock();
    writeln!(out, "{text}").map_err(CliError::Stdout)
}

/// One value as one line of JSON, for streams of values.
pub fn json_line<T: serde::Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let text = serde_json::to_string(value).map_err(io::Error::other)?;
    writeln!(out, "{}", safe_json(text))
}

/// A line of text for people.
pub fn line(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    writeln!(out, "{}", visible(text)).map_err(CliError::Stdout)
}

pub fn record(record: &ProcessRecord, as_json: bool) -> Result<(), CliError> {
    if as_json {
        json(record)
    } else {
        table(std::slice::from_ref(record), None)
    }
}

pub fn records(records: &[ProcessRecord], as_json: bool) -> Result<(), CliError> {
    if as_json {
        json(records)
    } else {
        table(records, None)
    }
}

/// The listing: records with what each running process's tree costs (`usage`, by id), as
/// `cpuPercent` and `rssBytes` in JSON and CPU and MEM columns in the table.
pub fn listing(
    records: &[ProcessRecord],
    usage: &BTreeMap<String, Usage>,
    as_json: bool,
) -> Result<(), CliError> {
    if !as_json {
        return table(records, Some(usage));
    }
    let mut values = Vec::with_capacity(records.len());
    for r in records {
        let mut value =
            serde_json::to_value(r).map_err(|e| CliError::Stdout(io::Error::other(e)))?;
        if let (Some(u), Some(fields)) = (usage.get(&r.id), value.as_object_mut()) {
            fields.insert("cpuPercent".into(), u.cpu_percent.into());
            fields.insert("rssBytes".into(), u.rss_bytes.into());
        }
        values.push(value);
    }
    json(&values)
}

/// Columns that hold numbers, right-aligned so that their digits line up.
const NUMERIC: [&str; 4] = ["PID", "CPU", "MEM", "OUTPUT"];

fn table(
    records: &[ProcessRecord],
    usage: Option<&BTreeMap<String, Usage>>,
) -> Result<(), CliError> {
    if records.is_empty() {
        return line("no processes");
    }
    let mut header = vec!["ID", "STATUS", "PID"];
    if usage.is_some() {
        header.extend(["CPU", "MEM"]);
    }
    header.extend(["STARTED (UTC)", "OUTPUT", "TITLE"]);
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            let mut row = vec![
                r.id.clone(),
                status(r),
                r.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
            ];
            if let Some(usage) = usage {
                let u = usage.get(&r.id);
                row.push(
                    u.and_then(|u| u.cpu_percent)
                        .map_or_else(|| "-".into(), |c| format!("{c:.1}%")),
                );
                row.push(u.map_or_else(|| "-".into(), |u| human_size(u.rss_bytes)));
            }
            row.extend([
                r.started_at
                    .get(..19)
                    .unwrap_or(&r.started_at)
                    .replace('T', " "),
                human_size(r.output_size_bytes),
                r.title.clone(),
            ]);
            row.into_iter()
                .map(|cell| visible(&cell).into_owned())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let right: Vec<bool> = header.iter().map(|h| NUMERIC.contains(h)).collect();
    let mut out = io::stdout().lock();
    let mut write_row = |cells: &[&str]| -> io::Result<()> {
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                writeln!(out, "{cell}")?;
            } else if right[i] {
                write!(out, "{cell:>width$}  ", width = widths[i])?;
            } else {
                write!(out, "{cell:<width$}  ", width = widths[i])?;
            }
        }
        Ok(())
    };
    write_row(&header).map_err(CliError::Stdout)?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        write_row(&cells).map_err(CliError::Stdout)?;
    }
    Ok(())
}

fn status(r: &ProcessRecord) -> String {
    match (r.status, r.exit_code, r.signal) {
        (Status::Running, ..) if r.stopping_since.is_some() => "stopping".into(),
        (Status::Running, ..) => "running".into(),
        (s, _, Some(sig)) => format!("{} ({})", s.as_str(), platform::signal_name(sig)),
        (s, Some(code), None) => format!("{} ({code})", s.as_str()),
        (s, None, None) => s.as_str().into(),
    }
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_shown_as_escapes() {
        assert_eq!(visible("web"), "web");
        assert_eq!(visible("caf\u{e9} \u{1F600}"), "caf\u{e9} \u{1F600}");
        assert_eq!(visible("\u{1b}]52;c;aGk=\u{7}x"), "\\x1b]52;c;aGk=\\x07x");
        assert_eq!(visible("a\nb\tc\rd\u{7f}"), "a\\nb\\tc\\rd\\x7f");
        assert_eq!(visible("\u{9b}31m\u{85}"), "\\u{9b}31m\\u{85}");
        assert_eq!(
            visible("abc\u{202e}fed\u{2066}"),
            "abc\\u{202e}fed\\u{2066}"
        );
        assert_eq!(error_line("bad\u{1b}[2J"), "procdeck: bad\\x1b[2J");
    }

    #[test]
    fn json_stays_the_same_value_without_hidden_characters() {
        let title = "\u{1b}]0;owned\u{7}\u{7f}\u{9b}2J\u{202e}x\n";
        let text = safe_json(serde_json::json!({ "title": title }).to_string());
        assert!(!text.chars().any(|c| c != '\n' && is_hidden(c)), "{text:?}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["title"], title);
    }
}
