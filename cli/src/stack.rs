//! `procdeck up`, `down` and `stack`: the workspace's stack from the command line. Progress is
//! printed as it happens, one line per change (one JSON object per line with `--json`).

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use procdeck_engine::stack::{self, EntryState, EntryStatus, Stack};
use procdeck_engine::{runs, Error, StartedBy, Workspace};
use serde_json::json;

use crate::commands::CliError;
use crate::print;

type Result<T, E = CliError> = std::result::Result<T, E>;

fn load(ws: &Workspace) -> Result<Stack> {
    stack::load(ws.folder())?.ok_or_else(|| {
        CliError::Engine(Error::Stack {
            file: ws.folder().join(stack::STACK_FILE),
            line: None,
            message: format!(
                "no stack here: write a {} (or a Procfile) in the workspace folder",
                stack::STACK_FILE
            ),
        })
    })
}

pub fn up(ws: &Workspace, names: &[String], json: bool) -> Result<ExitCode> {
    let stack = load(ws)?;
    let printer = Printer::new(&stack, json);
    let never = AtomicBool::new(false);
    let finals = ws.stack_up(&stack, names, Some(StartedBy::cli()), &never, &|s| {
        printer.status(s)
    })?;
    printer.result()?;
    Ok(outcome(&finals))
}

pub fn down(ws: &Workspace, names: &[String], json: bool) -> Result<ExitCode> {
    let stack = load(ws)?;
    let printer = Printer::new(&stack, json);
    let finals = ws.stack_down(&stack, names, &|s| printer.status(s))?;
    printer.result()?;
    Ok(outcome(&finals))
}

fn outcome(finals: &[EntryStatus]) -> ExitCode {
    if finals.iter().any(|s| s.state.is_failure()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints statuses as the entries' threads report them, one whole line at a time.
struct Printer<'a> {
    stack: &'a Stack,
    json: bool,
    width: usize,
    /// The first write error; printing stops there and the command reports it.
    failed: Mutex<Option<io::Error>>,
}

impl<'a> Printer<'a> {
    fn new(stack: &'a Stack, json: bool) -> Self {
        let width = stack
            .entries
            .iter()
            .map(|e| e.name.chars().count())
            .max()
            .unwrap_or(0);
        Printer {
            stack,
            json,
            width,
            failed: Mutex::new(None),
        }
    }

    fn status(&self, status: &EntryStatus) {
        let Ok(mut failed) = self.failed.lock() else {
            return;
        };
        if failed.is_some() {
            return;
        }
        let mut out = io::stdout().lock();
        let written = if self.json {
            print::json_line(&mut out, status)
        } else {
            let text = format!(
                "{:<w$}  {}",
                status.name,
                self.describe(status),
                w = self.width
            );
            writeln!(out, "{}", print::visible(&text))
        };
        if let Err(e) = written.and_then(|()| out.flush()) {
            *failed = Some(e);
        }
    }

    fn describe(&self, status: &EntryStatus) -> String {
        let id = status
            .id
            .as_deref()
            .map(|id| format!(" ({id})"))
            .unwrap_or_default();
        match &status.state {
            EntryState::Waiting { on } => format!("waiting for {}", on.join(", ")),
            EntryState::Starting => {
                let command = self
                    .stack
                    .entry(&status.name)
                    .map(|e| e.command.as_str())
                    .unwrap_or_default();
                format!("starting: {command}")
            }
            EntryState::Ready { how } => format!("ready: {how}{id}"),
            EntryState::Running => format!("running{id}"),
            EntryState::AlreadyRunning => format!("already running, left alone{id}"),
            EntryState::Failed { reason } => format!("failed: {reason}{id}"),
            EntryState::Skipped { because } => format!("not started: {because}"),
            EntryState::Stopping => format!("stopping{id}"),
            EntryState::Stopped => format!("stopped{id}"),
            EntryState::NotRunning => "not running".to_owned(),
        }
    }

    fn result(self) -> Result<()> {
        match self.failed.into_inner() {
            Ok(Some(e)) => Err(CliError::Stdout(e)),
            _ => Ok(()),
        }
    }
}

/// The stack's entries with what each would run and whether it runs now.
pub fn show(ws: &Workspace, json: bool) -> Result<ExitCode> {
    let stack = load(ws)?;
    let records = ws.list()?;
    let latest = runs::latest_runs(&records);
    let rows: Vec<serde_json::Value> = stack
        .entries
        .iter()
        .map(|e| {
            let cwd = ws.resolve_cwd(e.cwd.as_deref()).ok();
            let run = cwd.as_ref().and_then(|cwd| {
                let key = runs::service_key(&e.name, &cwd.to_string_lossy());
                latest.iter().find(|r| r.service == key)
            });
            json!({
                "name": e.name,
                "command": e.command,
                "cwd": e.cwd,
                "env": e.env,
                "dependsOn": e.depends_on,
                "ready": e.ready.as_ref().map(|r| json!({
                    "logRegex": r.log_regex,
                    "port": r.port,
                    "http": r.http,
                    "timeoutS": r.timeout.as_secs_f64(),
                })),
                "autostart": e.autostart,
                "line": e.line,
                "id": run.map(|r| r.id.clone()),
                "status": run.map(|r| r.status.as_str()),
            })
        })
        .collect();
    if json {
        print::json(&json!({ "file": stack.file, "entries": rows }))?;
        return Ok(ExitCode::SUCCESS);
    }
    print::line(&format!("{}:", stack.file.display()))?;
    for (entry, row) in stack.entries.iter().zip(&rows) {
        let status = row["status"].as_str().unwrap_or("not started");
        let mut text = format!("  {}  [{status}]  {}", entry.name, entry.command);
        if !entry.depends_on.is_empty() {
            text.push_str(&format!("  (after {})", entry.depends_on.join(", ")));
        }
        if !entry.autostart {
            text.push_str("  (only when named)");
        }
        print::line(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}
