//! `process_start`: start a command (or find it already running), and optionally wait until it
//! is ready.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use procdeck_engine::output::LineMatcher;
use procdeck_engine::{
    PortWanted, ProcessRecord, ReadyReason, ReadyWhen, StartRequest, StartedBy, Workspace,
};

use super::convert::{self, ports_of};
use super::schema::{StartInput, StartOutput};
use super::session::{blocking, tail, Session, ToolError, ToolResult};

/// Readiness wait when `ready` gives no timeout, and the most it may give.
const READY_TIMEOUT_S: f64 = 30.0;
const READY_TIMEOUT_MAX_S: f64 = 120.0;
/// The output tail a start returns.
const TAIL_LINES: u32 = 40;
pub const TAIL_BYTES: usize = 4096;

pub async fn start(
    session: &Session,
    ws: Arc<Workspace>,
    client: String,
    input: StartInput,
    cancel: Arc<AtomicBool>,
) -> ToolResult<(String, StartOutput)> {
    if input.command.trim().is_empty() {
        return Err(ToolError(
            "the command is empty: give the command line to run".into(),
        ));
    }
    let (ready, timeout) = match &input.ready {
        None => (None, None),
        Some(r) => {
            let timeout = convert::seconds(
                r.timeout_s,
                READY_TIMEOUT_S,
                READY_TIMEOUT_MAX_S,
                "ready.timeout_s",
            )?;
            let log = r
                .log_regex
                .as_deref()
                .map(LineMatcher::visible)
                .transpose()?;
            let port = r.port.map(convert::port).transpose()?.map(PortWanted::Port);
            let when = ReadyWhen {
                log,
                log_from: Some(0),
                port,
                http: None,
            };
            (Some(when), Some(timeout))
        }
    };
    let reuse = input.reuse.unwrap_or(true);
    let work_ws = ws.clone();
    let (record, reused) = blocking(move || {
        let ws = work_ws;
        let cwd = ws.resolve_cwd(input.cwd.as_deref().map(Path::new))?;
        if reuse {
            if let Some(found) = running_twin(&ws.list()?, &input, &cwd) {
                return Ok((found, true));
            }
        }
        let record = ws.start(StartRequest {
            command: input.command,
            title: input.title,
            env: input.env.unwrap_or_default(),
            cwd: Some(cwd),
            started_by: Some(StartedBy::agent(&client)),
            ..StartRequest::default()
        })?;
        Ok((record, false))
    })
    .await?;
    let id = record.id.clone();
    if !reused {
        session.remember_start(&id, ready.clone());
    }
    let waited_ws = ws.clone();
    let wait_id = id.clone();
    let (record, reason, matched) = blocking(move || {
        let ws = waited_ws;
        let (Some(when), Some(timeout)) = (ready, timeout) else {
            return Ok((ws.get(&wait_id)?, None, None));
        };
        let outcome = ws.wait_ready(&wait_id, &when, timeout, &cancel)?;
        let matched = outcome
            .matched
            .map(|m| super::text::clean(&String::from_utf8_lossy(&m.bytes), true));
        Ok((outcome.record, Some(outcome.reason), matched))
    })
    .await?;
    let status = match reason {
        _ if !record.status.is_running() => convert::ended_status(&record),
        Some(ReadyReason::LogMatched | ReadyReason::PortListening | ReadyReason::HttpAnswered) => {
            "ready"
        }
        Some(ReadyReason::TimedOut | ReadyReason::Cancelled) => "timed_out",
        Some(ReadyReason::Exited) | None => "running",
    };
    let (ports, output_tail) = {
        let ws = ws.clone();
        let id = id.clone();
        blocking(move || Ok((ports_of(&ws, &id), tail(&ws, &id, TAIL_LINES, TAIL_BYTES)))).await?
    };
    let events = session.events(&ws, &[&id]).await;
    let mut text = format!(
        "{} {} ({id}), pid {}: {status}",
        if reused { "reused running" } else { "started" },
        record.title,
        record
            .pid
            .map(|p| p.to_string())
            .unwrap_or_else(|| "-".into()),
    );
    if let Some(reason) = reason {
        text.push_str(&format!(" (readiness wait ended by {})", reason.as_str()));
    }
    if let Some(code) = record.exit_code {
        text.push_str(&format!(", exit code {code}"));
    }
    if !ports.is_empty() {
        text.push_str(&format!(", listening on {ports:?}"));
    }
    let out = StartOutput {
        id,
        title: record.title,
        status: status.to_owned(),
        ready_reason: reason.map(|r| r.as_str().to_owned()),
        matched_line: matched,
        reused,
        pid: record.pid,
        ports,
        output_tail,
        exit_code: record.exit_code,
        events,
    };
    Ok((convert::with_events(text, &out.events), out))
}

/// The most recently started running process with the asked title, or else the same command in
/// the same folder.
fn running_twin(
    records: &[ProcessRecord],
    input: &StartInput,
    cwd: &Path,
) -> Option<ProcessRecord> {
    let cwd = cwd.to_string_lossy();
    let running = || records.iter().rev().filter(|r| r.status.is_running());
    let by_title = input
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .and_then(|t| running().find(|r| r.title == t));
    by_title
        .or_else(|| running().find(|r| r.command == input.command && r.cwd == cwd))
        .cloned()
}
