use std::io::{self, Write};

use procdeck_engine::{ProcessRecord, Status};

use crate::commands::CliError;

pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| CliError::Stdout(io::Error::other(e)))?;
    line(&text)
}

pub fn line(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}").map_err(CliError::Stdout)
}

pub fn record(record: &ProcessRecord, as_json: bool) -> Result<(), CliError> {
    if as_json {
        json(record)
    } else {
        table(std::slice::from_ref(record))
    }
}

pub fn table(records: &[ProcessRecord]) -> Result<(), CliError> {
    if records.is_empty() {
        return line("no processes");
    }
    let rows: Vec<[String; 6]> = records
        .iter()
        .map(|r| {
            [
                r.id.clone(),
                status(r),
                r.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                r.started_at
                    .get(..19)
                    .unwrap_or(&r.started_at)
                    .replace('T', " "),
                human_size(r.output_size_bytes),
                r.title.replace(['\n', '\r', '\t'], " "),
            ]
        })
        .collect();
    let header = ["ID", "STATUS", "PID", "STARTED (UTC)", "OUTPUT", "TITLE"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = io::stdout().lock();
    let mut write_row = |cells: &[&str]| -> io::Result<()> {
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                writeln!(out, "{cell}")?;
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
        (s, _, Some(sig)) => format!("{} ({})", s.as_str(), signal_name(sig)),
        (s, Some(code), None) => format!("{} ({code})", s.as_str()),
        (s, None, None) => s.as_str().into(),
    }
}

pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGUSR2 => "SIGUSR2",
        _ => return format!("signal {sig}"),
    };
    name.into()
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
