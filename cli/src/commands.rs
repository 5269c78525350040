use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use procdeck_engine::follow::{FollowChunk, FollowControl};
use procdeck_engine::output::{LineFilter, LineMatcher, Utf8Carry};
use procdeck_engine::{
    runs, shell, Error, ForeignConsent, Origin, ProcessRecord, ReadMethod, ReadRequest, Settings,
    StartRequest, StartedBy, Status, StopRequest, Usage, UsageSampler, Workspace,
};
use serde_json::json;

use crate::args::{Cli, Command, OutputArgs, StartArgs};
use crate::print;

/// Errors of the CLI itself; engine errors pass through with their own messages.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Engine(#[from] Error),
    #[error("cannot read the current folder: {0}")]
    CurrentDir(io::Error),
    #[error("writing to standard output: {0}")]
    Stdout(io::Error),
    #[error(transparent)]
    Mcp(#[from] crate::mcp::McpError),
}

type Result<T, E = CliError> = std::result::Result<T, E>;

const STDOUT_BUFFER: usize = 256 * 1024;

pub fn run(cli: Cli) -> Result<ExitCode> {
    if let Command::Mcp { stop_on_exit } = cli.command {
        // The server opens its workspace once the client has said which (its roots).
        return Ok(crate::mcp::run(cli.workspace, stop_on_exit)?);
    }
    let folder = match cli.workspace {
        Some(dir) => dir,
        None => std::env::current_dir().map_err(CliError::CurrentDir)?,
    };
    let (ws, report) = Workspace::open(&folder, Settings::default())?;
    for warning in report.warnings {
        eprintln!("{}", print::error_line(&format!("warning: {warning}")));
    }
    let json = cli.json;
    let code = match cli.command {
        Command::Start(args) => start(&ws, args, json)?,
        Command::List { all } => {
            let every = ws.list()?;
            let records: Vec<ProcessRecord> = if all {
                every
            } else {
                runs::latest_runs(&every).into_iter().cloned().collect()
            };
            print::listing(&records, &usage(&ws, &records)?, json)?;
            if !json {
                conflicts(&ws, &records)?;
            }
            ExitCode::SUCCESS
        }
        Command::Stop { id, grace } => {
            let id = ws.resolve(&id)?;
            let record = ws.stop(&id, StopRequest { grace })?;
            print::record(&record, json)?;
            ExitCode::SUCCESS
        }
        Command::Restart { id, yes, take_port } => restart(&ws, &id, yes, take_port, json)?,
        Command::Rm { id } => {
            let id = ws.resolve(&id)?;
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
            let id = ws.resolve(&id)?;
            let record = ws.wait(&id, timeout)?;
            print::record(&record, json)?;
            ExitCode::SUCCESS
        }
        Command::Close => {
            print::records(&ws.close()?, json)?;
            ExitCode::SUCCESS
        }
        Command::Up { names } => crate::stack::up(&ws, &names, json)?,
        Command::Down { names } => crate::stack::down(&ws, &names, json)?,
        Command::Stack => crate::stack::show(&ws, json)?,
        Command::Mcp { .. } => unreachable!("served before the workspace is opened"),
    };
    for warning in ws.take_warnings() {
        eprintln!("{}", print::error_line(&format!("warning: {warning}")));
    }
    Ok(code)
}

fn start(ws: &Workspace, args: StartArgs, json: bool) -> Result<ExitCode> {
    let command = match args.command.as_slice() {
        [] => return Err(Error::EmptyCommand.into()),
        [line] => line.clone(),
        words => words
            .iter()
            .map(|w| shell::quote(w))
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
        stop_grace: args.grace,
        output_cap_bytes: args.output_cap,
        cwd: args.cwd,
        started_by: Some(StartedBy::cli()),
    })?;
    print::record(&record, json)?;
    Ok(ExitCode::SUCCESS)
}

/// Restarts `id`. A record the user did not start is printed in full first (to stderr, quoted so
/// that nothing in it reaches the terminal as control characters) and runs only with `yes`.
fn restart(ws: &Workspace, name: &str, yes: bool, take_port: bool, json: bool) -> Result<ExitCode> {
    let id = &ws.resolve(name)?;
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
    let consent = if yes { consent.as_ref() } else { None };
    let new = if take_port {
        ws.take_port(id, consent)?
    } else {
        ws.restart(id, consent)?
    };
    print::record(&new, json)?;
    Ok(ExitCode::SUCCESS)
}

/// Under the table: why each failed process whose port was taken failed, and what frees it.
/// How long `list` watches running processes to tell their CPU use.
const CPU_SAMPLE_SPAN: Duration = Duration::from_millis(200);

/// What the trees of the running `records` cost: CPU over [`CPU_SAMPLE_SPAN`], memory at its
/// end. Nothing is measured, and no time spent, when none runs.
fn usage(ws: &Workspace, records: &[ProcessRecord]) -> Result<BTreeMap<String, Usage>> {
    let running: Vec<String> = records
        .iter()
        .filter(|r| r.status.is_running())
        .map(|r| r.id.clone())
        .collect();
    if running.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut sampler = UsageSampler::new();
    ws.usage(&mut sampler, &running)?;
    std::thread::sleep(CPU_SAMPLE_SPAN);
    Ok(ws.usage(&mut sampler, &running)?)
}

fn conflicts(ws: &Workspace, records: &[ProcessRecord]) -> Result<()> {
    for r in records.iter().filter(|r| r.status == Status::Error) {
        let Some(conflict) = ws.port_conflict(&r.id)? else {
            continue;
        };
        let mut text = format!("{}: {}", r.id, conflict.message);
        if conflict.process.is_some() {
            text.push_str(&format!(
                "; `procdeck restart {} --take-port` stops it and runs this again",
                r.id
            ));
        }
        print::line(&text)?;
    }
    Ok(())
}

fn output(ws: &Workspace, args: OutputArgs, json: bool) -> Result<ExitCode> {
    let id = ws.resolve(&args.id)?;
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
        return follow(ws, &id, &req, json);
    }
    // Stdout is line-buffered: a write per line would cost a system call per line of a 1 GiB
    // grep. Everything is flushed once at the end (and on error by the drop).
    let mut out = io::BufWriter::with_capacity(STDOUT_BUFFER, io::stdout().lock());
    match (req.method, json) {
        (_, true) => print::json(&ws.read(&id, &req)?)?,
        (ReadMethod::Full, false) => {
            ws.copy_output(&id, req.max_bytes, &mut out)?;
        }
        (ReadMethod::Grep, false) => {
            let pattern = req.pattern.as_deref().unwrap_or_default();
            ws.grep_to(&id, pattern, req.max_bytes, &mut out)?;
        }
        (_, false) => {
            let result = ws.read(&id, &req)?;
            out.write_all(result.content.as_bytes())
                .map_err(CliError::Stdout)?;
        }
    }
    out.flush().map_err(CliError::Stdout)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the tail (or nothing, or everything) first, then new output until the process ends.
fn follow(ws: &Workspace, id: &str, req: &ReadRequest, json: bool) -> Result<ExitCode> {
    let from = ws.follow_start(id, req)?;
    let mut format = match &req.pattern {
        Some(p) => Format::Grep(LineFilter::new(LineMatcher::new(p)?, from)),
        None if json => Format::Json(JsonChunks::default()),
        None => Format::Raw,
    };
    let cancel = AtomicBool::new(false);
    let mut out = io::BufWriter::with_capacity(STDOUT_BUFFER, io::stdout().lock());
    let mut failed: Option<io::Error> = None;
    let mut write = |chunk: FollowChunk<'_>| -> FollowControl {
        let result = match &mut format {
            Format::Raw => out.write_all(chunk.bytes),
            Format::Grep(lines) => lines.push(chunk.bytes, chunk.skipped, &mut |at, line| {
                write_line(&mut out, at, line, json)
            }),
            Format::Json(chunks) => chunks.push(&chunk, &mut out),
        };
        match result.and_then(|()| out.flush()) {
            Ok(()) => FollowControl::Continue,
            Err(e) => {
                failed = Some(e);
                FollowControl::Stop
            }
        }
    };
    let end = ws.follow(id, Some(from), &cancel, &mut write)?;
    let finished = match failed {
        Some(e) => Err(e),
        None => match &mut format {
            Format::Raw => Ok(()),
            Format::Grep(lines) => {
                lines.finish(&mut |at, line| write_line(&mut out, at, line, json))
            }
            Format::Json(chunks) => chunks.finish(end.offset, &mut out),
        },
    };
    let finished = finished.and_then(|()| match end.record {
        Some(record) if json => print::json_line(&mut out, &json!({ "end": record })),
        _ => Ok(()),
    });
    match finished.and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The reader went away (a closed pipe, `| head`): not an error of ours.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(CliError::Stdout(e)),
    }
}

/// How followed output is written.
enum Format {
    /// As its bytes.
    Raw,
    /// Only the matching lines: as `output --grep` writes them, or as JSON values (see
    /// [`write_line`]).
    Grep(LineFilter),
    /// One JSON value a piece, with its offset.
    Json(JsonChunks),
}

/// A matching line followed by `\n`: as its bytes, or as the JSON value `{offset, content}`.
fn write_line(out: &mut dyn Write, offset: u64, line: &[u8], json: bool) -> io::Result<()> {
    if !json {
        out.write_all(line)?;
        return out.write_all(b"\n");
    }
    let content = format!("{}\n", String::from_utf8_lossy(line));
    print::json_line(out, &json!({ "offset": offset, "content": content }))
}

/// Followed output as JSON values `{offset, skipped, content}`, one a line. Pieces end where
/// reads ended, so a character may be split between two: the decoder holds the start of one
/// until the rest comes, and `offset` is that of the first byte decoded into `content`.
#[derive(Default)]
struct JsonChunks {
    carry: Utf8Carry,
}

impl JsonChunks {
    fn push(&mut self, chunk: &FollowChunk<'_>, out: &mut dyn Write) -> io::Result<()> {
        if chunk.skipped > 0 && self.carry.pending() > 0 {
            // The rest of that character was dropped with the skipped bytes.
            let at = chunk.offset - chunk.skipped - self.carry.pending() as u64;
            Self::write(out, at, 0, &self.carry.finish())?;
        }
        let offset = chunk.offset - self.carry.pending() as u64;
        let content = self.carry.push(chunk.bytes);
        if content.is_empty() && chunk.skipped == 0 {
            return Ok(());
        }
        Self::write(out, offset, chunk.skipped, &content)
    }

    /// The output ended at `end`: bytes of an unfinished character are shown as one
    /// replacement character.
    fn finish(&mut self, end: u64, out: &mut dyn Write) -> io::Result<()> {
        let offset = end - self.carry.pending() as u64;
        let content = self.carry.finish();
        if content.is_empty() {
            return Ok(());
        }
        Self::write(out, offset, 0, &content)
    }

    fn write(out: &mut dyn Write, offset: u64, skipped: u64, content: &str) -> io::Result<()> {
        let value = json!({ "offset": offset, "skipped": skipped, "content": content });
        print::json_line(out, &value)
    }
}
