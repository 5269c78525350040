//! Running the user's login shell to capture what it prints, in a session of its own, and
//! ending everything its startup files leave behind.

use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::platform::os::child_has_exited;
use crate::platform::{is_executable, signal_group, ShellCapture, Signal};

const FALLBACK_SHELLS: &[&str] = &["/bin/bash", "/bin/sh"];
/// An environment is a few KiB; anything past this is not one.
const MAX_STDOUT: usize = 16 * 1024 * 1024;
const STDERR_KEPT: usize = 2048;
/// After the shell has exited, how long a process it left in the background may keep the pipes
/// open before we stop reading.
const LINGER: Duration = Duration::from_millis(200);
/// Once the shell has printed what was asked, how long logout files (`.bash_logout`,
/// `.zlogout`) may run before the shell is killed; the result is kept either way.
const LOGOUT_GRACE: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(50);

pub(in crate::platform) fn user_shell() -> PathBuf {
    std::env::var_os("SHELL")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && is_executable_file(p))
        .or_else(|| {
            FALLBACK_SHELLS
                .iter()
                .map(PathBuf::from)
                .find(|p| is_executable_file(p))
        })
        .unwrap_or_else(|| PathBuf::from(FALLBACK_SHELLS[0]))
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && is_executable(&m))
}

pub(in crate::platform) fn run_login_shell(
    shell: &Path,
    script: &str,
    env: (&str, &str),
    home: Option<&Path>,
    deadline: Instant,
    printed: &[u8],
) -> io::Result<ShellCapture> {
    let mut cmd = Command::new(shell);
    // -i as well as -l: nvm and friends are often set up in `.bashrc`, which only interactive
    // shells read.
    cmd.arg("-ilc")
        .arg(script)
        .env(env.0, env.1)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match home.filter(|h| h.is_absolute() && h.is_dir()) {
        Some(home) => cmd.env("HOME", home).current_dir(home),
        None => cmd.current_dir("/"),
    };
    // SAFETY: setsid is async-signal-safe. A new session puts the shell and everything its
    // startup files start in one process group we can kill, and leaves them without a
    // controlling terminal: an interactive shell that finds one would try to take it over, and
    // a background group touching it is stopped by SIGTTOU/SIGTTIN, i.e. hangs.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()?;
            Ok(())
        });
    }
    let mut run = Run::new(cmd.spawn()?);
    let collected = run.collect(deadline, printed);
    // Kills what the startup files left running (and the shell, if it is still running), then
    // reaps the shell.
    let exit = match (collected, run.end()) {
        (Collected::Exited, Some(status)) => Some(status),
        _ => None,
    };
    Ok(ShellCapture {
        exit,
        stdout: std::mem::take(&mut run.stdout),
        stderr: std::mem::take(&mut run.stderr),
    })
}

/// How [`Run::collect`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collected {
    /// The shell exited (it is left unreaped).
    Exited,
    TimedOut,
}

/// A running shell and what it has written. The shell stays unreaped until [`Run::end`], so that
/// its pid, which is also its process group's id, cannot be reused while the group is killed.
/// Dropping it ends the run, so no path (early return, panic) leaves a process behind.
struct Run {
    child: Child,
    status: Option<io::Result<ExitStatus>>,
    out_pipe: Option<ChildStdout>,
    err_pipe: Option<ChildStderr>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Run {
    fn new(mut child: Child) -> Self {
        Run {
            out_pipe: child.stdout.take(),
            err_pipe: child.stderr.take(),
            child,
            status: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }

    /// Reads both pipes until they close and the shell has exited, or until `deadline`; once
    /// `printed` has appeared on stdout, for at most [`LOGOUT_GRACE`] more.
    fn collect(&mut self, deadline: Instant, printed: &[u8]) -> Collected {
        let mut exited_at: Option<Instant> = None;
        let mut printed_at: Option<Instant> = None;
        loop {
            if let Some(at) = exited_at {
                // A background process the startup files left behind may hold the pipes for
                // as long as it lives; the shell's output is complete once the shell is gone.
                if self.pipes_closed() || at.elapsed() >= LINGER {
                    return Collected::Exited;
                }
            }
            let limit = match printed_at {
                Some(at) => deadline.min(at + LOGOUT_GRACE),
                None => deadline,
            };
            let now = Instant::now();
            if now >= limit {
                return if exited_at.is_some() {
                    Collected::Exited
                } else {
                    Collected::TimedOut
                };
            }
            let wait = (limit - now).min(TICK);
            if self.pipes_closed() {
                std::thread::sleep(wait.min(Duration::from_millis(5)));
            } else {
                self.read_some(wait);
                if printed_at.is_none() && memchr::memmem::rfind(&self.stdout, printed).is_some() {
                    printed_at = Some(Instant::now());
                }
            }
            if exited_at.is_none() {
                match child_has_exited(&self.child) {
                    Ok(true) => exited_at = Some(Instant::now()),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::debug!(error = %e, "waiting for the login shell failed");
                        return Collected::TimedOut;
                    }
                }
            }
        }
    }

    fn pipes_closed(&self) -> bool {
        self.out_pipe.is_none() && self.err_pipe.is_none()
    }

    /// Waits up to `wait` for either pipe to have data, and reads what is there.
    fn read_some(&mut self, wait: Duration) {
        let (out_ready, err_ready) = {
            let mut fds: Vec<PollFd> = [
                self.out_pipe.as_ref().map(|p| p.as_fd()),
                self.err_pipe.as_ref().map(|p| p.as_fd()),
            ]
            .into_iter()
            .flatten()
            .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
            .collect();
            let timeout = PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX);
            if !poll(&mut fds, timeout).is_ok_and(|n| n > 0) {
                return;
            }
            let ready: Vec<bool> = fds.iter().map(|f| f.any().unwrap_or(false)).collect();
            match (self.out_pipe.is_some(), self.err_pipe.is_some()) {
                (true, true) => (ready[0], ready[1]),
                (true, false) => (ready[0], false),
                (false, true) => (false, ready[0]),
                (false, false) => (false, false),
            }
        };
        if out_ready && !drain(&mut self.out_pipe, &mut self.stdout, Keep::Head(MAX_STDOUT)) {
            self.out_pipe = None;
        }
        if err_ready
            && !drain(
                &mut self.err_pipe,
                &mut self.stderr,
                Keep::Tail(STDERR_KEPT),
            )
        {
            self.err_pipe = None;
        }
    }

    /// Kills the shell's session (its process group: setsid made the shell its leader, and
    /// without job control its background jobs stay in that group), whether or not the shell
    /// has exited, then reaps the shell and returns how it ended.
    fn end(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            // The shell is our unreaped child, so its pid (the group's id) cannot have been
            // reused.
            signal_group(self.child.id(), Signal::Kill);
            self.status = Some(self.child.wait());
            // Our ends of the pipes close too: a process that escaped the group gets EPIPE.
            self.out_pipe = None;
            self.err_pipe = None;
        }
        self.status.as_ref().and_then(|s| s.as_ref().ok()).copied()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.end();
    }
}

enum Keep {
    Head(usize),
    Tail(usize),
}

/// One read from a pipe poll() said was ready. Returns false at end of file or on an error.
fn drain<R: Read>(pipe: &mut Option<R>, buf: &mut Vec<u8>, keep: Keep) -> bool {
    let Some(reader) = pipe.as_mut() else {
        return false;
    };
    let mut chunk = [0u8; 64 * 1024];
    match reader.read(&mut chunk) {
        Ok(0) => false,
        Ok(n) => {
            match keep {
                Keep::Head(max) => {
                    let room = max.saturating_sub(buf.len());
                    buf.extend_from_slice(&chunk[..n.min(room)]);
                }
                Keep::Tail(max) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.len() > max {
                        buf.drain(..buf.len() - max);
                    }
                }
            }
            true
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
            ) =>
        {
            true
        }
        Err(_) => false,
    }
}
