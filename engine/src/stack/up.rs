//! Starting a stack in dependency order and stopping it in reverse.
//!
//! Each entry being started has a thread of its own that waits until everything it depends on is
//! ready, so independent entries start at once and a chain starts link by link. An entry already
//! running (its service has a running run) is left alone. Progress is reported entry by entry
//! as it happens, for a front to show.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::error::Result;
use crate::output::LineMatcher;
use crate::ready::{PortWanted, ReadyOutcome, ReadyReason, ReadyWhen};
use crate::record::{ProcessRecord, StartedBy};
use crate::runs;
use crate::workspace::{StartRequest, StopRequest, Workspace};

use super::{ReadyProbe, Stack, StackEntry};

/// How often a waiting entry looks at the cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// Where an entry of a stack being started or stopped is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum EntryState {
    /// Waiting until these entries are ready.
    Waiting {
        on: Vec<String>,
    },
    Starting,
    /// Ready, and how that was seen.
    Ready {
        how: String,
    },
    /// Started, with nothing declared to wait for.
    Running,
    /// It was running already, and was left alone.
    AlreadyRunning,
    Failed {
        reason: String,
    },
    /// Not started, because an entry it depends on did not get ready.
    Skipped {
        because: String,
    },
    Stopping,
    Stopped,
    /// Nothing of it was running.
    NotRunning,
}

impl EntryState {
    /// Whether entries depending on this one may start.
    fn lets_dependents_start(&self) -> bool {
        matches!(
            self,
            EntryState::Ready { .. } | EntryState::Running | EntryState::AlreadyRunning
        )
    }

    fn is_final(&self) -> bool {
        !matches!(
            self,
            EntryState::Waiting { .. } | EntryState::Starting | EntryState::Stopping
        )
    }

    pub fn is_failure(&self) -> bool {
        matches!(self, EntryState::Failed { .. } | EntryState::Skipped { .. })
    }
}

/// An entry's state, and the process it concerns once there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct EntryStatus {
    pub name: String,
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub state: EntryState,
    pub id: Option<String>,
}

/// The entries' final states, shared by their threads.
struct Board {
    done: Mutex<HashMap<String, EntryState>>,
    changed: Condvar,
}

impl Workspace {
    /// Starts `names` of `stack` (every autostart entry when empty) with what they depend on,
    /// each once its dependencies are ready; `report` hears every change of state, from the
    /// entries' threads. Returns every entry's final state, in dependency order.
    pub fn stack_up(
        &self,
        stack: &Stack,
        names: &[String],
        started_by: Option<StartedBy>,
        cancel: &AtomicBool,
        report: &(dyn Fn(&EntryStatus) + Sync),
    ) -> Result<Vec<EntryStatus>> {
        let selection = stack.selection(names)?;
        let records = self.list()?;
        let board = Board {
            done: Mutex::new(HashMap::new()),
            changed: Condvar::new(),
        };
        let finals: Vec<EntryStatus> = std::thread::scope(|s| {
            let threads: Vec<_> = selection
                .iter()
                .map(|entry| {
                    let (board, records, started_by) = (&board, &records, started_by.clone());
                    s.spawn(move || {
                        let status =
                            self.up_entry(entry, records, started_by, board, cancel, report);
                        if let Ok(mut done) = board.done.lock() {
                            done.insert(entry.name.clone(), status.state.clone());
                        }
                        board.changed.notify_all();
                        status
                    })
                })
                .collect();
            threads
                .into_iter()
                .zip(&selection)
                .map(|(thread, entry)| {
                    thread.join().unwrap_or_else(|_| EntryStatus {
                        name: entry.name.clone(),
                        state: EntryState::Failed {
                            reason: "starting it went wrong inside Procdeck".into(),
                        },
                        id: None,
                    })
                })
                .collect()
        });
        Ok(finals)
    }

    fn up_entry(
        &self,
        entry: &StackEntry,
        records: &[ProcessRecord],
        started_by: Option<StartedBy>,
        board: &Board,
        cancel: &AtomicBool,
        report: &(dyn Fn(&EntryStatus) + Sync),
    ) -> EntryStatus {
        let say = |state, id: Option<&str>| tell(report, entry, state, id);
        if let Err(because) = wait_for_dependencies(entry, board, cancel, &say) {
            return say(EntryState::Skipped { because }, None);
        }
        let cwd = match self.resolve_cwd(entry.cwd.as_deref()) {
            Ok(cwd) => cwd,
            Err(e) => {
                return say(
                    EntryState::Failed {
                        reason: e.to_string(),
                    },
                    None,
                )
            }
        };
        let running = latest_running(records, &entry.name, &cwd);
        let record = match running {
            Some(record) => record.clone(),
            None => {
                say(EntryState::Starting, None);
                let started = self.start(StartRequest {
                    command: entry.command.clone(),
                    title: Some(entry.name.clone()),
                    env: entry.env.clone(),
                    cwd: Some(cwd),
                    started_by,
                    ..StartRequest::default()
                });
                match started {
                    Ok(record) => record,
                    Err(e) => {
                        return say(
                            EntryState::Failed {
                                reason: e.to_string(),
                            },
                            None,
                        )
                    }
                }
            }
        };
        let id = Some(record.id.as_str());
        let Some(probe) = &entry.ready else {
            let state = if running.is_some() {
                EntryState::AlreadyRunning
            } else {
                EntryState::Running
            };
            return say(state, id);
        };
        let when = match ready_when(probe) {
            Ok(when) => when,
            Err(e) => {
                return say(
                    EntryState::Failed {
                        reason: e.to_string(),
                    },
                    id,
                )
            }
        };
        let state = match self.wait_ready(&record.id, &when, probe.timeout, cancel) {
            Ok(outcome) => self.readiness(&record.id, &outcome, probe.timeout, running.is_some()),
            Err(e) => EntryState::Failed {
                reason: e.to_string(),
            },
        };
        say(state, id)
    }

    /// What a readiness wait's outcome means for the entry.
    fn readiness(
        &self,
        id: &str,
        outcome: &ReadyOutcome,
        timeout: Duration,
        was_running: bool,
    ) -> EntryState {
        let ready = |how: String| {
            if was_running {
                EntryState::AlreadyRunning
            } else {
                EntryState::Ready { how }
            }
        };
        match outcome.reason {
            ReadyReason::LogMatched => {
                let line = outcome
                    .matched
                    .as_ref()
                    .map(|m| crate::output::plain::clean(&String::from_utf8_lossy(&m.bytes), true))
                    .unwrap_or_default();
                ready(format!("printed {:?}", short(&line)))
            }
            ReadyReason::PortListening => ready(format!(
                "listening on port {}",
                outcome.port.map(|p| p.to_string()).unwrap_or_default()
            )),
            ReadyReason::HttpAnswered => ready(format!(
                "answered HTTP {}",
                outcome
                    .http_status
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            )),
            ReadyReason::Exited => {
                let how = match (outcome.record.exit_code, outcome.record.signal) {
                    (Some(code), _) => format!("exited with code {code}"),
                    (None, Some(signal)) => {
                        format!("ended by {}", crate::platform::signal_name(signal))
                    }
                    (None, None) => "ended".to_owned(),
                };
                let conflict = self
                    .port_conflict(id)
                    .ok()
                    .flatten()
                    .map(|c| format!(": {}", c.message))
                    .unwrap_or_default();
                EntryState::Failed {
                    reason: format!("{how} before it was ready{conflict}"),
                }
            }
            ReadyReason::TimedOut => EntryState::Failed {
                reason: format!("not ready after {} s", timeout.as_secs_f64()),
            },
            ReadyReason::Cancelled => EntryState::Failed {
                reason: "the start was cancelled before it was ready".into(),
            },
        }
    }

    /// Stops `names` of `stack` (every entry when empty) and every entry that depends on them,
    /// dependents first. Every running run of an entry's service is stopped.
    pub fn stack_down(
        &self,
        stack: &Stack,
        names: &[String],
        report: &(dyn Fn(&EntryStatus) + Sync),
    ) -> Result<Vec<EntryStatus>> {
        let everything: Vec<String> = stack.entries.iter().map(|e| e.name.clone()).collect();
        let order = stack.selection(&everything)?;
        let chosen = dependents(stack, if names.is_empty() { &everything } else { names })?;
        let records = self.list()?;
        let mut finals = Vec::new();
        for entry in order.iter().rev().filter(|e| chosen.contains(&e.name)) {
            let say = |state, id: Option<&str>| tell(report, entry, state, id);
            let running: Vec<&ProcessRecord> = match self.resolve_cwd(entry.cwd.as_deref()) {
                Ok(cwd) => {
                    let key = runs::service_key(&entry.name, &cwd.to_string_lossy());
                    records
                        .iter()
                        .filter(|r| r.service == key && r.status.is_running())
                        .collect()
                }
                // A folder that is gone has nothing running in it.
                Err(_) => Vec::new(),
            };
            if running.is_empty() {
                finals.push(say(EntryState::NotRunning, None));
                continue;
            }
            let mut failure = None;
            for record in &running {
                say(EntryState::Stopping, Some(&record.id));
                if let Err(e) = self.stop(&record.id, StopRequest::default()) {
                    failure = Some(e.to_string());
                }
            }
            let last = running.last().map(|r| r.id.as_str());
            finals.push(match failure {
                Some(reason) => say(EntryState::Failed { reason }, last),
                None => say(EntryState::Stopped, last),
            });
        }
        Ok(finals)
    }
}

/// Reports `entry`'s new state, and returns it.
fn tell(
    report: &(dyn Fn(&EntryStatus) + Sync),
    entry: &StackEntry,
    state: EntryState,
    id: Option<&str>,
) -> EntryStatus {
    let status = EntryStatus {
        name: entry.name.clone(),
        state,
        id: id.map(str::to_owned),
    };
    report(&status);
    status
}

/// Waits until every dependency of `entry` has a final state; Err names one that is not ready.
fn wait_for_dependencies(
    entry: &StackEntry,
    board: &Board,
    cancel: &AtomicBool,
    say: &dyn Fn(EntryState, Option<&str>) -> EntryStatus,
) -> std::result::Result<(), String> {
    if entry.depends_on.is_empty() {
        return Ok(());
    }
    let Ok(mut done) = board.done.lock() else {
        return Err("its dependencies could not be followed".into());
    };
    let mut told: Option<Vec<String>> = None;
    loop {
        let pending: Vec<String> = entry
            .depends_on
            .iter()
            .filter(|d| !done.get(*d).is_some_and(EntryState::is_final))
            .cloned()
            .collect();
        if let Some(failed) = entry.depends_on.iter().find(|d| {
            done.get(*d)
                .is_some_and(|s| s.is_final() && !s.lets_dependents_start())
        }) {
            return Err(format!("{failed} did not get ready"));
        }
        if pending.is_empty() {
            return Ok(());
        }
        if cancel.load(Ordering::Relaxed) {
            return Err("the start was cancelled".into());
        }
        if told.as_ref() != Some(&pending) {
            say(
                EntryState::Waiting {
                    on: pending.clone(),
                },
                None,
            );
            told = Some(pending);
        }
        done = match board.changed.wait_timeout(done, CANCEL_POLL) {
            Ok((done, _)) => done,
            Err(_) => return Err("its dependencies could not be followed".into()),
        };
    }
}

/// The running latest run of the service `title` in `cwd`, if any.
fn latest_running<'a>(
    records: &'a [ProcessRecord],
    title: &str,
    cwd: &Path,
) -> Option<&'a ProcessRecord> {
    let key = runs::service_key(title, &cwd.to_string_lossy());
    records
        .iter()
        .rev()
        .find(|r| r.service == key)
        .filter(|r| r.status.is_running())
}

fn ready_when(probe: &ReadyProbe) -> Result<ReadyWhen> {
    Ok(ReadyWhen {
        log: probe
            .log_regex
            .as_deref()
            .map(LineMatcher::visible)
            .transpose()?,
        // From the first byte: a line printed before the wait began counts, and so does one of
        // a run that was already running.
        log_from: Some(0),
        port: probe.port.map(PortWanted::Port),
        http: probe.http.clone(),
    })
}

/// `names` and every entry that depends on them, directly or not.
fn dependents(stack: &Stack, names: &[String]) -> Result<Vec<String>> {
    let mut chosen: Vec<String> = Vec::new();
    for name in names {
        if stack.entry(name).is_none() {
            // The same error as a start of an unknown name.
            stack.selection(std::slice::from_ref(name))?;
        }
        if !chosen.contains(name) {
            chosen.push(name.clone());
        }
    }
    loop {
        let more: Vec<String> = stack
            .entries
            .iter()
            .filter(|e| {
                !chosen.contains(&e.name) && e.depends_on.iter().any(|d| chosen.contains(d))
            })
            .map(|e| e.name.clone())
            .collect();
        if more.is_empty() {
            return Ok(chosen);
        }
        chosen.extend(more);
    }
}

/// A matched line, cut for a status line.
fn short(line: &str) -> String {
    const MAX: usize = 80;
    if line.chars().count() <= MAX {
        return line.to_owned();
    }
    let cut: String = line.chars().take(MAX - 1).collect();
    format!("{cut}…")
}
