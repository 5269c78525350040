//! Checks of the tools' inputs, and records turned into what the tools return.

use std::time::Duration;

use procdeck_engine::{ProcessRecord, Status, Workspace};

use super::schema::{EventOut, ProcessOut, StartedByOut};
use super::session::{ToolError, ToolResult};

/// A number of seconds from 0 to `max`, `default` when absent; `what` names it in the error.
pub fn seconds(value: Option<f64>, default: f64, max: f64, what: &str) -> ToolResult<Duration> {
    let value = value.unwrap_or(default);
    if !(0.0..=max).contains(&value) {
        return Err(ToolError(format!(
            "{what} must be a number of seconds from 0 to {max}, not {value}"
        )));
    }
    Duration::try_from_secs_f64(value).map_err(|e| ToolError(format!("{what}: {e}")))
}

/// A TCP port from 1 to 65535.
pub fn port(value: u64) -> ToolResult<u16> {
    match u16::try_from(value) {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(ToolError(format!(
            "port must be from 1 to 65535, not {value}"
        ))),
    }
}

/// The id of the process named by `id` (an id, a unique start of one, or a title) or `title`
/// (an exact title); exactly one of them.
pub fn resolve(ws: &Workspace, id: Option<&str>, title: Option<&str>) -> ToolResult<String> {
    match (id, title) {
        (Some(name), None) => Ok(ws.resolve(name)?),
        (None, Some(title)) => {
            let matching: Vec<ProcessRecord> = ws
                .list()?
                .into_iter()
                .filter(|r| r.title == title)
                .collect();
            match matching.as_slice() {
                [one] => Ok(one.id.clone()),
                [] => Err(ToolError(format!(
                    "no process titled {title:?} in this workspace"
                ))),
                many => Err(ToolError(format!(
                    "{title:?} is the title of {} processes: {}; give one of these ids",
                    many.len(),
                    many.iter()
                        .map(|r| r.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            }
        }
        (Some(_), Some(_)) => Err(ToolError("give either id or title, not both".into())),
        (None, None) => Err(ToolError("give the process's id or title".into())),
    }
}

/// The status a start or wait reports for a process that is no longer running.
pub fn ended_status(record: &ProcessRecord) -> &'static str {
    if record.status == Status::Stopped {
        "exited"
    } else {
        "failed"
    }
}

pub fn process_out(record: ProcessRecord, ports: Vec<u16>) -> ProcessOut {
    ProcessOut {
        started_by: record.started_by.as_ref().map(|by| StartedByOut {
            kind: by.kind_str().to_owned(),
            client: by.client.clone(),
        }),
        status: record.status.as_str().to_owned(),
        id: record.id,
        title: record.title,
        command: record.command,
        cwd: record.cwd,
        exit_code: record.exit_code,
        signal: record.signal,
        pid: record.pid,
        ports,
        started_at: record.started_at,
        ended_at: record.stopped_at,
        output_bytes: record.output_size_bytes,
    }
}

/// The ports a process's tree listens on, without duplicates (one port on two addresses).
pub fn ports_of(ws: &Workspace, id: &str) -> Vec<u16> {
    let mut ports: Vec<u16> = ws
        .listening_ports(id)
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.port)
        .collect();
    ports.dedup();
    ports
}

/// `text` followed by one line per event, so that a person reading the text hears of them too.
pub fn with_events(mut text: String, events: &[EventOut]) -> String {
    for e in events {
        let code = e
            .exit_code
            .map(|c| format!(", exit code {c}"))
            .unwrap_or_default();
        text.push_str(&format!(
            "\nmeanwhile: {} ({}) ended: {}{code}",
            e.title, e.id, e.status
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_ports_are_bounded() {
        assert_eq!(seconds(None, 30.0, 120.0, "t"), Ok(Duration::from_secs(30)));
        assert_eq!(
            seconds(Some(0.5), 30.0, 120.0, "t"),
            Ok(Duration::from_millis(500))
        );
        for bad in [120.5, -1.0, f64::NAN, f64::INFINITY] {
            let e = seconds(Some(bad), 30.0, 120.0, "timeout_s").unwrap_err();
            assert!(e.0.starts_with("timeout_s must be"), "{e:?}");
        }
        assert_eq!(port(8080), Ok(8080));
        assert!(port(0).is_err() && port(65536).is_err());
    }
}
