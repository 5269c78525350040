use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use procdeck_engine::follow::{FollowChunk, FollowControl};
use procdeck_engine::{
    Error, ForeignConsent, Origin, ReadMethod, ReadRequest, Settings, StartRequest, StopRequest,
    Workspace,
};
use serde_json::json;

use crate::args::{Cli, Command, OutputArgs, StartArgs};
use crate::linefilter::LineFilter;
use crate::print;

/// Errors of the CLI itself; engine errors pass through with their own messages.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Engine(#[from] Error),
    #[error("{0}")]
    Usage(String),
    #[error("cannot read the current folder: {0}")]
    CurrentDir(io::Error),
    #[error("writing to standard output: {0}")]
    Stdout(io::Error),
}

type Result<T, E = CliError> = std::result::Result<T, E>;

const STDOUT_BUFFER: usize = 256 * 1024;

pub fn run(cli: Cli) -> Result<ExitCode> {
    let folder = match cli.workspace {
        Some(dir) => dir,
        None => std::env::current_dir().map_err(CliError::CurrentDir)?,
    };
    let (ws, report) = Workspace::open(&folder, Settings::default())?;
    for warning in report.warnings {
        eprintln!("procdeck: warning: {warning}");
    }
    let json = cli.json;
    let code = match cli.command {
        Command::Start(args) => start(&ws, args, json)?,
        Command::List => {
            let records = ws.list()?;
            if json {
                print::json(&records)?;
            } else {
                print::table(&records)?;
            }
            ExitCode::SUCCESS
        }
        Command::Stop { id, grace } => {
            let grace = grace.map(secs).transpose()?;
            let record = ws.stop(&id, StopRequest { grace })?;
            print::record(&record, json)?;
            ExitCode::SUCCESS
        }
        Command::Restart { id, yes } => restart(&ws, &id, yes, json)?,
        Command::Rm { id } => {
            ws.remove(&id)?;
            if json {
                print::json(&json!({ "id": id, "removed": true }))?;
            } else {
                print::line(&format!("removed {id}"))?;
            }
            ExitCode::SUCCESS
        }
        Command::Output(args) => output(&ws, args, json)?,
        Command::Wait { id, timeout } => {
            let timeout = timeout.map(secs).transpose()?;
            let record = ws.wait(&id, timeout)?;
            print::record(&record, json)?;
            ExitCode::SUCCESS
        }
        Command::Close => {
            let records = ws.close()?;
            if json {
                print::json(&records)?;
            } else {
                print::table(&records)?;
            }
            ExitCode::SUCCESS
        }
    };
    for warning in ws.take_warnings() {
        eprintln!("procdeck: warning: {warning}");
    }
    Ok(code)
}

fn secs(value: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        CliError::Usage(format!(
            "{value} is not a number of seconds (expected 0 or more)"
        ))
    })
}

fn start(ws: &Workspace, args: StartArgs, json: bool) -> Result<ExitCode> {
    let command = match args.command.as_slice() {
        [] => return Err(Error::EmptyCommand.into()),
        [line] => line.clone(),
        words => words
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" "),
    };
    let mut env = BTreeMap::new();
    for pair in &args.env {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(Error::InvalidEnv(pair.clone()).into());
        };
        env.insert(key.to_owned(), value.to_owned());
    }
    let record = ws.start(StartRequest {
        command,
        title: args.title,
        env,
        stop_grace: args.grace.map(secs).transpose()?,
        output_cap_bytes: args.output_cap,
    })?;
    print::record(&record, json)?;
    Ok(ExitCode::SUCCESS)
}

/// Restarts `id`. A record the user did not start is printed in full first (to stderr, quoted so
/// that nothing in it reaches the terminal as control characters) and runs only with `yes`.
fn restart(ws: &Workspace, id: &str, yes: bool, json: bool) -> Result<ExitCode> {
    let record = ws.get(id)?;
    let consent = (record.origin == Origin::Foreign).then(|| ForeignConsent::to(&record));
    if let Some(c) = &consent {
        let mut text = format!(
            "procdeck: {id} was not started by you in this folder; it runs:\n  command: {:?}\n  cwd:     {:?}\n",
            c.command,
            ws.folder()
        );
        for (name, value) in &c.env {
            text.push_str(&format!("  env:     {name:?}={value:?}\n"));
        }
        if c.env.is_empty() {
            text.push_str("  env:     (none)\n");
        }
        if !yes {
            text.push_str(&format!(
                "procdeck: to run it, use `procdeck restart {id} --yes`\n"
            ));
        }
        eprint!("{text}");
    }
    let new = ws.restart(id, if yes { consent.as_ref() } else { None })?;
    print::record(&new, json)?;
    Ok(ExitCode::SUCCESS)
}

/// Quotes a word for bash unless it is made only of characters bash leaves alone.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn output(ws: &Workspace, args: OutputArgs, json: bool) -> Result<ExitCode> {
    let mut req = ReadRequest::new(ReadMethod::Full);
    req.max_bytes = args.max_bytes;
    if let Some(n) = args.head {
        req.method = ReadMethod::Head;
        req.lines = Some(n);
    } else if let Some(n) = args.tail {
        req.method = ReadMethod::Tail;
        req.lines = Some(n);
    } else if let Some(pattern) = &args.grep {
        req.method = ReadMethod::Grep;
        req.pattern = Some(pattern.clone());
    }
    if args.follow {
        return follow(ws, &args, &req, json);
    }
    // Stdout is line-buffered: a write per line would cost a system call per line of a 1 GiB
    // grep. Everything is flushed once at the end (and on error by the drop).
    let mut out = io::BufWriter::with_capacity(STDOUT_BUFFER, io::stdout().lock());
    match (req.method, json) {
        (_, true) => print::json(&ws.read(&args.id, &req)?)?,
        (ReadMethod::Full, false) => {
            ws.copy_output(&args.id, req.max_bytes, &mut out)?;
        }
        (ReadMethod::Grep, false) => {
            let pattern = req.pattern.as_deref().unwrap_or_default();
            ws.grep_to(&args.id, pattern, req.max_bytes, &mut out)?;
        }
        (_, false) => {
            let result = ws.read(&args.id, &req)?;
            out.write_all(result.content.as_bytes())
                .map_err(CliError::Stdout)?;
        }
    }
    out.flush().map_err(CliError::Stdout)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the tail (or nothing, or everything) first, then new output until the process ends.
fn follow(ws: &Workspace, args: &OutputArgs, req: &ReadRequest, json: bool) -> Result<ExitCode> {
    let filter = match &req.pattern {
        Some(p) => Some(LineFilter::new(p)?),
        None => None,
    };
    let from = match req.method {
        ReadMethod::Tail => {
            let lines = req.lines.unwrap_or(10) as usize;
            ws.lines_before(&args.id, None, lines, usize::MAX)?
                .start_offset
        }
        _ => {
            let record = ws.get(&args.id)?;
            let window = req
                .max_bytes
                .map_or(0, |m| record.output_size_bytes.saturating_sub(m));
            window.max(record.dropped_bytes)
        }
    };
    let cancel = AtomicBool::new(false);
    let mut out = io::BufWriter::with_capacity(STDOUT_BUFFER, io::stdout().lock());
    let mut lines = filter;
    let mut failed: Option<io::Error> = None;
    let mut write = |chunk: FollowChunk<'_>| -> FollowControl {
        let result = if json {
            let text = String::from_utf8_lossy(chunk.bytes);
            let line = json!({ "offset": chunk.offset, "skipped": chunk.skipped, "content": text });
            writeln!(out, "{line}")
        } else if let Some(lines) = lines.as_mut() {
            lines.push(chunk.bytes, &mut out)
        } else {
            out.write_all(chunk.bytes)
        };
        match result.and_then(|()| out.flush()) {
            Ok(()) => FollowControl::Continue,
            Err(e) => {
                failed = Some(e);
                FollowControl::Stop
            }
        }
    };
    let end = ws.follow(&args.id, Some(from), &cancel, &mut write)?;
    if let Some(e) = failed {
        // The reader went away (a closed pipe, `| head`): not an error of ours.
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Ok(ExitCode::SUCCESS);
        }
        return Err(CliError::Stdout(e));
    }
    if let (Some(lines), false) = (lines.as_mut(), json) {
        let mut out = io::stdout().lock();
        lines.finish(&mut out).map_err(CliError::Stdout)?;
    }
    if json {
        if let Some(record) = end.record {
            print::json(&json!({ "end": record }))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
