//! Readiness: waiting until a process is usable, and saying why the wait ended. A process is
//! ready when a line of its output matches a pattern, when its tree listens on a TCP port, or
//! when a URL of its server answers ([`http`]);
//! the wait also ends when the process exits, when the time is up, or when the caller cancels.
//! Output is read with [`Workspace::follow`] and matched with the one line matcher
//! ([`LineMatcher`], through [`LineFilter`]), ports come from [`crate::ports`], so readiness means
//! the same thing for every front that asks.

pub mod http;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::follow::FollowControl;
use crate::output::{LineFilter, LineMatcher};
use crate::record::ProcessRecord;
use crate::workspace::Workspace;

/// How often the process's ports, the deadline and the cancel flag are checked while no output
/// arrives. Sockets announce nothing, so a port can only be polled.
const POLL: Duration = Duration::from_millis(100);
/// How often, at most, the HTTP probe asks; each ask waits at most this long for an answer.
const HTTP_EVERY: Duration = Duration::from_millis(500);
const HTTP_ANSWER: Duration = Duration::from_secs(2);

/// Which listening port makes a process ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortWanted {
    /// Any TCP port its tree listens on.
    Any,
    /// This port, on any address.
    Port(u16),
}

/// What makes a process ready; whichever comes first ends the wait. With neither, the wait ends
/// only when the process exits (or on timeout or cancel).
#[derive(Debug, Clone, Default)]
pub struct ReadyWhen {
    /// A line of output (from `log_from` on) that matches.
    pub log: Option<LineMatcher>,
    /// Where output is searched from: a logical offset (the first kept byte when lower), or the
    /// current end of the output when None, so that only new lines count.
    pub log_from: Option<u64>,
    pub port: Option<PortWanted>,
    /// An `http://` URL answering with a status below 500 ([`http::check_url`] says which can
    /// be probed).
    pub http: Option<String>,
}

/// Why a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyReason {
    LogMatched,
    PortListening,
    HttpAnswered,
    Exited,
    TimedOut,
    Cancelled,
}

impl ReadyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadyReason::LogMatched => "log_regex",
            ReadyReason::PortListening => "port",
            ReadyReason::HttpAnswered => "http",
            ReadyReason::Exited => "exit",
            ReadyReason::TimedOut => "timeout",
            ReadyReason::Cancelled => "cancelled",
        }
    }
}

/// The line that matched: where its first byte is in the output, and its bytes without `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedLine {
    pub offset: u64,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct ReadyOutcome {
    pub reason: ReadyReason,
    pub matched: Option<MatchedLine>,
    /// The port found listening, for [`ReadyReason::PortListening`].
    pub port: Option<u16>,
    /// The status the URL answered with, for [`ReadyReason::HttpAnswered`].
    pub http_status: Option<u16>,
    /// The record as the wait ended.
    pub record: ProcessRecord,
}

/// What the follower thread reports.
enum Found {
    Line(MatchedLine),
    Ended,
    Failed(Error),
}

impl Workspace {
    /// Waits until process `id` is ready as `when` says, exits, `timeout` passes or `cancel` is
    /// set, whichever comes first. A process already ended answers at once with
    /// [`ReadyReason::Exited`] unless its output holds a matching line.
    pub fn wait_ready(
        &self,
        id: &str,
        when: &ReadyWhen,
        timeout: Duration,
        cancel: &AtomicBool,
    ) -> Result<ReadyOutcome> {
        let deadline = Instant::now() + timeout;
        let stop_follow = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel::<Found>();
        // Where the output is read from; without a pattern only the end matters (exit).
        let end = self.source(id)?.len();
        let from = match (&when.log, when.log_from) {
            (Some(_), Some(from)) => from.min(end),
            _ => end,
        };
        std::thread::scope(|s| {
            s.spawn(|| {
                let found = self.follow_for_line(id, when.log.as_ref(), from, &stop_follow);
                let _ = tx.send(found);
            });
            let result = self.poll_ready(id, when, deadline, cancel, &rx);
            // The follower notices within its own safety-net interval, and the scope joins it.
            stop_follow.store(true, Ordering::Relaxed);
            result
        })
    }

    fn poll_ready(
        &self,
        id: &str,
        when: &ReadyWhen,
        deadline: Instant,
        cancel: &AtomicBool,
        rx: &mpsc::Receiver<Found>,
    ) -> Result<ReadyOutcome> {
        let outcome = |reason, matched, port| -> Result<ReadyOutcome> {
            Ok(ReadyOutcome {
                reason,
                matched,
                port,
                http_status: None,
                record: self.get(id)?,
            })
        };
        let mut next_http = Instant::now();
        loop {
            if let Some(url) = when.http.as_deref().filter(|_| Instant::now() >= next_http) {
                let answer = deadline
                    .saturating_duration_since(Instant::now())
                    .min(HTTP_ANSWER);
                if let Ok(status @ 0..500) = http::status(url, answer) {
                    let mut ready = outcome(ReadyReason::HttpAnswered, None, None)?;
                    ready.http_status = Some(status);
                    return Ok(ready);
                }
                next_http = Instant::now() + HTTP_EVERY;
            }
            if let Some(wanted) = when.port {
                let ports = self.listening_ports(id)?;
                let hit = ports.iter().find(|p| match wanted {
                    PortWanted::Any => true,
                    PortWanted::Port(n) => p.port == n,
                });
                if let Some(p) = hit {
                    return outcome(ReadyReason::PortListening, None, Some(p.port));
                }
            }
            if cancel.load(Ordering::Relaxed) {
                return outcome(ReadyReason::Cancelled, None, None);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return outcome(ReadyReason::TimedOut, None, None);
            }
            match rx.recv_timeout(POLL.min(left)) {
                Ok(Found::Line(line)) => return outcome(ReadyReason::LogMatched, Some(line), None),
                Ok(Found::Ended) => return outcome(ReadyReason::Exited, None, None),
                Ok(Found::Failed(e)) => return Err(e),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::Watch(
                        "the output follower ended without a word".into(),
                    ))
                }
            }
        }
    }

    /// Follows the output from `from` until a line matches `matcher` (never without one), the
    /// process ends, or `stop` is set (reported as nothing found: the waiter has gone).
    fn follow_for_line(
        &self,
        id: &str,
        matcher: Option<&LineMatcher>,
        from: u64,
        stop: &AtomicBool,
    ) -> Found {
        let mut filter = matcher.map(|m| LineFilter::new(m.clone(), from));
        let mut first: Option<MatchedLine> = None;
        let followed = self.follow(id, Some(from), stop, &mut |chunk| {
            let Some(filter) = filter.as_mut() else {
                return FollowControl::Continue;
            };
            // Keeping a line in memory cannot fail.
            let _ = filter.push(chunk.bytes, chunk.skipped, &mut |at, line| {
                keep_first(&mut first, at, line);
                Ok(())
            });
            if first.is_some() {
                FollowControl::Stop
            } else {
                FollowControl::Continue
            }
        });
        let end = match followed {
            Ok(end) => end,
            Err(e) => return Found::Failed(e),
        };
        if end.record.is_some() {
            // The output is complete: a last line without its `\n` counts too.
            if let Some(filter) = filter.as_mut() {
                let _ = filter.finish(&mut |at, line| {
                    keep_first(&mut first, at, line);
                    Ok(())
                });
            }
        }
        match (first, end.record) {
            (Some(line), _) => Found::Line(line),
            (None, Some(_)) => Found::Ended,
            (None, None) => Found::Failed(Error::Watch("the wait was given up".into())),
        }
    }
}

fn keep_first(first: &mut Option<MatchedLine>, offset: u64, line: &[u8]) {
    if first.is_none() {
        *first = Some(MatchedLine {
            offset,
            bytes: line.to_vec(),
        });
    }
}
