//! The shim: one small supervisor per process, the `procdeck` CLI re-run as
//! `procdeck __procdeck-shim <process-dir>` (the app runs the CLI installed beside it, whose
//! footprint is a fraction of its own).
//!
//! It becomes a supervisor on its own (on Unix it forks away, leads a session and becomes the
//! child subreaper, so that even double-forked descendants stay its children; on Windows its
//! starter created it detached), runs the command line with the platform's shell (`/bin/bash -c`,
//! `cmd.exe /d /s /c`) in a tree of its own, with stdout and stderr on one pipe that it copies
//! into `output.log` (arrival order kept, the cap enforced without the child's help), and when
//! the command ends or a stop is requested it asks the whole tree to stop (SIGTERM; Ctrl-Break on
//! Windows), ends it after the grace (SIGKILL; the Job Object), reaps everything and writes
//! `exit.json` atomically. Nothing here depends on
//! the app or CLI that started it staying alive. A full disk pauses the output: the bytes wait in
//! the pipe, the command blocks on its writes, and writing resumes when space returns.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::atomic;
use crate::output::{OutputMeta, OUTPUT_FILE};
use crate::platform::{self, ChildEnd, PipeReader, Supervisor, SupervisorEvent};
use crate::procdir::{self, ExitInfo, ShimInfo, Spec, StopFile};

mod rotation;
use rotation::Rotation;

/// The hidden first argument that turns a Procdeck executable into a shim.
pub const SHIM_ARG: &str = "__procdeck-shim";

/// One read from the pipe, one write to the file. Small enough that the bytes are still in the
/// CPU's cache when they are written out: larger chunks (256 KiB, 1 MiB) and `splice` of up to
/// 1 MiB were slower (docs/benchmarks.md).
const COPY_CHUNK: usize = 64 * 1024;
/// How often the tree is looked at again while it is being terminated, to catch processes
/// forked after the last look.
const RESCAN: Duration = Duration::from_millis(20);
/// After the tree is gone, how long to wait for the pipe to report its end (a process outside
/// the tree that was handed the pipe must not keep the shim alive forever).
const PIPE_LINGER: Duration = Duration::from_secs(1);
/// The most time SIGKILL is repeated before the shim records survivors and ends.
const KILL_GIVE_UP: Duration = Duration::from_secs(10);
/// Under a flood (bytes found again less than `FLOOD_GAP` after the last bytes), the shim waits
/// `FLOOD_PAUSE` before looking again, so that the writer fills the pipe without waking it for
/// every write and one wake-up moves what many writes brought. A pipe of `FLOOD_PIPE_MIN` bytes
/// or more takes longer than the pause to fill even at several GB/s, so the writer never blocks
/// on it; with a smaller pipe the shim does not pause.
const FLOOD_GAP: Duration = Duration::from_millis(1);
const FLOOD_PAUSE: Duration = Duration::from_micros(500);
const FLOOD_PIPE_MIN: usize = 512 * 1024;
/// While the disk is full, how often writing is tried again. Meanwhile the output waits in the
/// pipe and the command blocks on its writes.
const DISK_FULL_RETRY: Duration = Duration::from_millis(250);

/// Call first thing in `main` of every executable the engine may re-run as a shim: when the
/// hidden argument is present this runs the shim and exits; otherwise it returns at once.
pub fn run_if_requested() {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(OsStr::new(SHIM_ARG)) {
        return;
    }
    let code = match args.next() {
        Some(dir) => run(Path::new(&dir)),
        None => {
            log(format_args!("missing process folder"));
            2
        }
    };
    std::process::exit(code);
}

fn run(dir: &Path) -> i32 {
    // No thread exists yet. On Unix the process that started us exits at once, so whoever
    // started it can reap it.
    if let Err(e) = platform::become_supervisor() {
        say_ready(&format!("error cannot detach: {e}"));
        return 1;
    }
    match Shim::start(dir) {
        Ok(mut shim) => {
            say_ready("ok");
            redirect_diagnostics(dir);
            shim.supervise()
        }
        Err(e) => {
            say_ready(&format!("error {e}"));
            1
        }
    }
}

/// The starter reads one line from our stdout: `ok` or `error <message>`.
fn say_ready(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// After the handshake stdout and stderr go to `shim.log`, so the starter's pipe sees its end.
fn redirect_diagnostics(dir: &Path) {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(procdir::SHIM_LOG))
        .or_else(|_| File::options().write(true).open(platform::null_device()));
    if let Ok(log) = log {
        let _ = platform::redirect_stdio(&log);
    }
}

/// One line in `shim.log`. A failed write is dropped: the log shares the disk with the output,
/// and a full disk must pause the output, not end the shim.
fn log(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{} {}", now_rfc3339(), message);
}

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Where the output pipe's bytes are going.
enum Drain {
    /// The pipe is empty for now.
    Empty,
    /// Every writer has closed the pipe.
    Eof,
    /// The disk is full: the bytes stay in the pipe (the writer blocks) until space returns.
    DiskFull,
}

struct Shim {
    dir: PathBuf,
    main_reaped: bool,
    exit_code: Option<i32>,
    signal: Option<i32>,
    stop_requested: bool,
    /// When the tree's termination began and when SIGKILL is due.
    kill_at: Option<Instant>,
    killing_since: Option<Instant>,
    pipe: Option<PipeReader>,
    /// True when the pipe is big enough to pause under a flood (see `FLOOD_PAUSE`).
    pipe_is_big: bool,
    supervisor: Supervisor,
    out: File,
    written: u64,
    /// The first offset kept, as last asked of the rotation.
    kept_from: u64,
    cap: u64,
    /// Present when there is a cap and the file system can punch holes.
    rotation: Option<Rotation>,
    /// The copy buffer; `buf[pending]` was read from the pipe but is not written yet.
    buf: Box<[u8]>,
    pending: std::ops::Range<usize>,
    grace: Duration,
    disk_full_logged: bool,
}

impl Shim {
    fn start(dir: &Path) -> Result<Shim, String> {
        let spec: Spec = procdir::read_json(&dir.join(procdir::SPEC))
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{} is missing", dir.join(procdir::SPEC).display()))?;
        let out_path = dir.join(OUTPUT_FILE);
        let out = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&out_path)
            .map_err(|e| format!("cannot create {}: {e}", out_path.display()))?;
        let written = out.metadata().map(|m| m.len()).unwrap_or(0);
        let punch_ok = platform::punch_hole(&out, 0).is_ok();

        let pipe = platform::output_pipe().map_err(|e| format!("cannot create a pipe: {e}"))?;
        let mut supervisor =
            Supervisor::install().map_err(|e| format!("cannot set up stop requests: {e}"))?;
        // Started after the supervisor is installed, so that on Unix the thread inherits its
        // signal mask and every signal reaches the supervisor's loop.
        let kept_from = OutputMeta::load(dir).kept_from;
        let rotation = if spec.output_cap_bytes > 0 && punch_ok {
            let out = out
                .try_clone()
                .map_err(|e| format!("cannot duplicate {}: {e}", out_path.display()))?;
            let rotation = Rotation::start(dir.to_owned(), out, kept_from)
                .map_err(|e| format!("cannot start the rotation thread: {e}"))?;
            Some(rotation)
        } else {
            None
        };

        if !spec.cwd.is_dir() {
            return Err(format!(
                "working folder {} does not exist",
                spec.cwd.display()
            ));
        }
        let shell = platform::command_shell();
        if !is_executable_file(shell) {
            return Err(format!(
                "{} is missing or not executable: commands run with it",
                shell.display()
            ));
        }
        let write_clone = pipe
            .writer
            .try_clone()
            .map_err(|e| format!("cannot duplicate a pipe: {e}"))?;
        let mut cmd = platform::shell_command(&spec.command);
        cmd.current_dir(&spec.cwd)
            .envs(&spec.env)
            .stdin(Stdio::null())
            .stdout(Stdio::from(write_clone))
            .stderr(Stdio::from(pipe.writer));
        let started = supervisor.start(&mut cmd);
        // The Command held the pipe's write ends; dropping it leaves only the child's copies, so
        // the pipe reports its end when the last process of the tree closes it.
        drop(cmd);
        let main_pid = started.map_err(|e| format!("cannot run {}: {e}", shell.display()))?;
        let me = std::process::id();
        let info = ShimInfo {
            shim_pid: me,
            shim_start_time: platform::start_time(me).unwrap_or(0),
            pid: main_pid,
            pid_start_time: platform::start_time(main_pid).unwrap_or(0),
            boot_id: platform::boot_id().unwrap_or_default(),
        };
        if let Err(e) = atomic::write_json(&dir.join(procdir::SHIM), &info) {
            supervisor.end_tree();
            return Err(e.to_string());
        }
        Ok(Shim {
            dir: dir.to_owned(),
            main_reaped: false,
            exit_code: None,
            signal: None,
            stop_requested: false,
            kill_at: None,
            killing_since: None,
            pipe: Some(pipe.reader),
            pipe_is_big: pipe.size >= FLOOD_PIPE_MIN,
            supervisor,
            out,
            written,
            kept_from,
            cap: spec.output_cap_bytes,
            rotation,
            buf: vec![0u8; COPY_CHUNK].into_boxed_slice(),
            pending: 0..0,
            grace: Duration::from_millis(spec.stop_grace_ms),
            disk_full_logged: false,
        })
    }

    fn supervise(&mut self) -> i32 {
        let mut tree_gone_at: Option<Instant> = None;
        let mut disk_full = false;
        let mut last_bytes_at: Option<Instant> = None;
        loop {
            if self.main_reaped && self.tree_is_empty() {
                let gone = *tree_gone_at.get_or_insert_with(Instant::now);
                if self.pipe.is_none() || gone.elapsed() >= PIPE_LINGER {
                    break;
                }
            }
            if let Some(since) = self.killing_since {
                if since.elapsed() >= KILL_GIVE_UP {
                    break;
                }
            }
            let timeout = self.poll_timeout(disk_full);
            let pipe = self.pipe.as_ref().filter(|_| !disk_full);
            // Under heavy output most wake-ups are for the pipe alone: the events are read only
            // when there may be some.
            let evented = self.supervisor.wait(pipe, timeout).unwrap_or_else(|e| {
                log(format_args!("poll failed: {e}"));
                std::thread::sleep(RESCAN);
                true
            });
            if evented {
                self.handle_events();
            }
            let before = self.written;
            disk_full = matches!(self.drain(), Drain::DiskFull);
            if self.written > before {
                let now = Instant::now();
                let flood = last_bytes_at.is_some_and(|t| now - t < FLOOD_GAP);
                if flood && self.pipe_is_big {
                    std::thread::sleep(FLOOD_PAUSE);
                }
                last_bytes_at = Some(now);
            }
            self.advance_termination();
        }
        while matches!(self.drain(), Drain::DiskFull) {
            std::thread::sleep(DISK_FULL_RETRY);
        }
        self.finish()
    }

    /// How long to wait for events or output: forever (`None`) unless a termination is under
    /// way or the disk is full.
    fn poll_timeout(&self, disk_full: bool) -> Option<Duration> {
        let mut timeout: Option<Duration> = None;
        if self.kill_at.is_some() || self.main_reaped {
            timeout = Some(RESCAN);
        }
        if disk_full {
            timeout = Some(timeout.map_or(DISK_FULL_RETRY, |t| t.min(DISK_FULL_RETRY)));
        }
        timeout
    }

    fn handle_events(&mut self) {
        for event in self.supervisor.take() {
            match event {
                SupervisorEvent::ChildEnded => self.reap(),
                SupervisorEvent::StopNow => self.request_stop(Some(Duration::ZERO)),
                SupervisorEvent::Stop => self.request_stop(None),
            }
        }
        // Ends are coalesced (SIGCHLD): reap whatever is waiting even if its event merged with
        // another.
        self.reap();
    }

    fn reap(&mut self) {
        let Some(end) = self.supervisor.reap() else {
            return;
        };
        self.main_reaped = true;
        match end {
            ChildEnd::Exited(code) => self.exit_code = Some(code),
            ChildEnd::Signaled(signal) => self.signal = Some(signal),
        }
        // What the command left behind is terminated like a stop, but the status comes from the
        // command's own exit.
        if self.kill_at.is_none() {
            self.begin_termination(self.grace);
        }
    }

    fn request_stop(&mut self, grace: Option<Duration>) {
        self.stop_requested = true;
        let grace = grace.unwrap_or_else(|| {
            match procdir::read_json::<StopFile>(&self.dir.join(procdir::STOP)) {
                Ok(Some(stop)) => Duration::from_millis(stop.grace_ms),
                _ => self.grace,
            }
        });
        match self.kill_at {
            None => self.begin_termination(grace),
            Some(at) => {
                // A second request (e.g. "kill now") may only shorten the wait.
                let sooner = Instant::now() + grace;
                if sooner < at {
                    self.kill_at = Some(sooner);
                }
            }
        }
    }

    fn begin_termination(&mut self, grace: Duration) {
        self.kill_at = Some(Instant::now() + grace);
        self.supervisor.ask_tree_to_stop();
    }

    fn advance_termination(&mut self) {
        let Some(kill_at) = self.kill_at else { return };
        if Instant::now() >= kill_at {
            self.killing_since.get_or_insert_with(Instant::now);
            self.supervisor.end_tree();
        } else {
            // Reaches what was started since the last look.
            self.supervisor.ask_tree_to_stop();
        }
        self.reap();
    }

    fn tree_is_empty(&mut self) -> bool {
        self.supervisor.tree().is_empty()
    }

    fn drain(&mut self) -> Drain {
        let Some(pipe) = self.pipe.take() else {
            return Drain::Eof;
        };
        let result = loop {
            match self.copy_once(&pipe) {
                Ok(0) => break Drain::Eof,
                Ok(n) => {
                    self.written += n as u64;
                    self.enforce_cap();
                }
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock => break Drain::Empty,
                    io::ErrorKind::Interrupted => {}
                    io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                        if !self.disk_full_logged {
                            log(format_args!(
                                "disk full: output waits in the pipe until space returns"
                            ));
                            self.disk_full_logged = true;
                        }
                        break Drain::DiskFull;
                    }
                    _ => {
                        log(format_args!(
                            "output write failed: {e}; output is discarded from here"
                        ));
                        break Drain::Eof;
                    }
                },
            }
        };
        if !matches!(result, Drain::Eof) {
            self.pipe = Some(pipe);
        }
        if !matches!(result, Drain::DiskFull) {
            self.disk_full_logged = false;
        }
        result
    }

    /// One read from the pipe and its write at the end of the output. Bytes read that could not
    /// be written yet wait in `buf[pending]` and go first next time; while any wait, nothing more
    /// is read, so the rest stays in the pipe and the command blocks once it is full.
    fn copy_once(&mut self, pipe: &PipeReader) -> io::Result<usize> {
        if self.pending.is_empty() {
            let n = pipe.read(&mut self.buf)?;
            if n == 0 {
                return Ok(0);
            }
            self.pending = 0..n;
        }
        self.write_pending()
    }

    /// Writes as much of `buf[pending]` as the disk takes at the end of the output; returns how
    /// many bytes that was, or the error that stopped the first byte.
    fn write_pending(&mut self) -> io::Result<usize> {
        let mut done = 0;
        while done < self.pending.len() {
            let from = self.pending.start + done;
            match platform::write_at(
                &self.out,
                &self.buf[from..self.pending.end],
                self.written + done as u64,
            ) {
                Ok(0) if done == 0 => return Err(io::ErrorKind::WriteZero.into()),
                Ok(0) => break,
                Ok(w) => done += w,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        self.pending.start += done;
        Ok(done)
    }

    /// Keeps the newest output within the cap, dropping it a step at a time so that rotations
    /// stay rare.
    fn enforce_cap(&mut self) {
        let Some(rotation) = &self.rotation else {
            return;
        };
        if self.written - self.kept_from <= self.cap {
            return;
        }
        let step = (self.cap / 8).max(4096);
        let new_kept = (self.written.saturating_sub(self.cap) + step).min(self.written) & !4095;
        if new_kept <= self.kept_from {
            return;
        }
        rotation.request(new_kept);
        self.kept_from = new_kept;
    }

    fn finish(&mut self) -> i32 {
        if let Some(rotation) = self.rotation.take() {
            rotation.finish();
        }
        let survivors = self.supervisor.tree();
        if !survivors.is_empty() {
            log(format_args!(
                "gave up on {survivors:?}: they survived SIGKILL"
            ));
        }
        // The exit is recorded before the output is synced: every reader finds the output in
        // the page cache, and syncing first would hold the record back for the writeback of the
        // whole output (about a quarter of a second per 256 MiB on a fast disk, seconds on a
        // slow one). The shim syncs it right after, so the output still reaches the disk before
        // its supervisor is gone.
        let exit = ExitInfo {
            exit_code: self.exit_code,
            signal: self.signal,
            stop_requested: self.stop_requested,
            ended_at: now_rfc3339(),
            survivors,
        };
        let path = self.dir.join(procdir::EXIT);
        let mut full_logged = false;
        loop {
            match atomic::write_json(&path, &exit) {
                Ok(()) => {
                    if let Err(e) = self.out.sync_data() {
                        log(format_args!("cannot sync the output: {e}"));
                    }
                    return 0;
                }
                // Without the record the process would count as lost: wait for space as the
                // output does.
                Err(crate::Error::DiskFull(_)) => {
                    if !full_logged {
                        log(format_args!(
                            "disk full: the exit record waits until space returns"
                        ));
                        full_logged = true;
                    }
                    std::thread::sleep(DISK_FULL_RETRY);
                }
                Err(e) => {
                    log(format_args!("cannot write the exit record: {e}"));
                    return 1;
                }
            }
        }
    }
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && platform::is_executable(&m))
}
