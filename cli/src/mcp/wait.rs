//! `process_wait`: until the process exits, becomes ready, prints a matching line or listens on
//! a port, with progress notifications while it waits.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use procdeck_engine::output::LineMatcher;
use procdeck_engine::{PortWanted, ReadyReason, ReadyWhen, Workspace};
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};

use super::convert;
use super::schema::{Until, UntilName, WaitInput, WaitOutput};
use super::session::{blocking, tail, Session, ToolResult};
use super::start::TAIL_BYTES;

const DEFAULT_TIMEOUT_S: f64 = 30.0;
/// Below the time clients commonly give a tool call (60 s), so a wait ends with an answer.
const MAX_TIMEOUT_S: f64 = 50.0;
const TAIL_LINES: u32 = 40;
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

pub async fn wait(
    session: &Session,
    ws: Arc<Workspace>,
    input: WaitInput,
    progress: Option<(Peer<RoleServer>, ProgressToken)>,
    cancel: Arc<AtomicBool>,
) -> ToolResult<(String, WaitOutput)> {
    let timeout = convert::seconds(
        input.timeout_s,
        DEFAULT_TIMEOUT_S,
        MAX_TIMEOUT_S,
        "timeout_s",
    )?;
    let resolve_ws = ws.clone();
    let name = input.id.clone();
    let id = blocking(move || Ok(resolve_ws.resolve(&name)?)).await?;
    let (when, what) = match &input.until {
        Until::Named(UntilName::Exit) => (ReadyWhen::default(), "exit".to_owned()),
        Until::Named(UntilName::Ready) => match session.ready_of(&id) {
            Some(when) => (when, "ready (as started)".to_owned()),
            None => (
                ReadyWhen {
                    port: Some(PortWanted::Any),
                    ..ReadyWhen::default()
                },
                "ready (listening on a port)".to_owned(),
            ),
        },
        Until::Log { log_regex, cursor } => (
            ReadyWhen {
                log: Some(LineMatcher::visible(log_regex)?),
                log_from: Some(cursor.unwrap_or(0)),
                ..ReadyWhen::default()
            },
            format!("a line matching {log_regex:?}"),
        ),
        Until::Port { port } => {
            let port = convert::port(*port)?;
            (
                ReadyWhen {
                    port: Some(PortWanted::Port(port)),
                    ..ReadyWhen::default()
                },
                format!("port {port}"),
            )
        }
    };
    let ticker = progress.map(|(peer, token)| tokio::spawn(report_progress(peer, token, timeout)));
    let wait_ws = ws.clone();
    let wait_id = id.clone();
    let waited = blocking(move || {
        let outcome = wait_ws.wait_ready(&wait_id, &when, timeout, &cancel)?;
        let tail = tail(&wait_ws, &wait_id, TAIL_LINES, TAIL_BYTES);
        Ok((outcome, tail))
    })
    .await;
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    let (outcome, output_tail) = waited?;
    let satisfied = matches!(
        (&input.until, outcome.reason),
        (Until::Named(UntilName::Exit), ReadyReason::Exited)
            | (
                _,
                ReadyReason::LogMatched | ReadyReason::PortListening | ReadyReason::HttpAnswered,
            )
    );
    let record = outcome.record;
    let events = session.events(&ws, &[&id]).await;
    let mut text = format!(
        "{} ({id}) waiting for {what}: {} ({}), status {}",
        record.title,
        if satisfied {
            "satisfied"
        } else {
            "not satisfied"
        },
        outcome.reason.as_str(),
        record.status.as_str(),
    );
    if let Some(code) = record.exit_code {
        text.push_str(&format!(", exit code {code}"));
    }
    let matched_line = outcome
        .matched
        .map(|m| super::text::clean(&String::from_utf8_lossy(&m.bytes), true));
    if let Some(line) = &matched_line {
        text.push_str(&format!("\nmatched: {line}"));
    }
    let out = WaitOutput {
        satisfied,
        reason: outcome.reason.as_str().to_owned(),
        matched_line,
        port: outcome.port,
        status: record.status.as_str().to_owned(),
        exit_code: record.exit_code,
        output_tail,
        events,
    };
    Ok((convert::with_events(text, &out.events), out))
}

/// Sends `notifications/progress` (seconds waited, of the timeout) until aborted.
async fn report_progress(peer: Peer<RoleServer>, token: ProgressToken, timeout: Duration) {
    let started = Instant::now();
    let mut every = tokio::time::interval(PROGRESS_EVERY);
    every.tick().await;
    loop {
        every.tick().await;
        let waited = started.elapsed().as_secs_f64().floor();
        let note = ProgressNotificationParam::new(token.clone(), waited)
            .with_total(timeout.as_secs_f64())
            .with_message(format!("waited {waited:.0} s"));
        if let Err(e) = peer.notify_progress(note).await {
            tracing::debug!("progress notification not sent: {e}");
            return;
        }
    }
}
