//! The environment of the user's login shell.
//!
//! An app started from a desktop launcher inherits the session's bare environment: no nvm,
//! cargo, pyenv or anything else the user's shell startup files add to PATH. Running the login
//! shell once and reading its `env` gives started commands the environment they would have in a
//! terminal.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use thiserror::Error;

/// Set while the login shell runs, so that startup files can skip work that needs a terminal
/// (`[ -n "$PROCDECK_RESOLVING_ENVIRONMENT" ] && return`). Never part of the result.
pub const RESOLVING_ENV_VAR: &str = "PROCDECK_RESOLVING_ENVIRONMENT";

/// Printed in two pieces so that a startup file echoing the command line (`set -v`) does not
/// produce the marker itself.
const BEGIN: &[u8] = b"__PROCDECK_ENV_BEGIN__";
const END: &[u8] = b"__PROCDECK_ENV_END__";
const SCRIPT: &str =
    "printf '%s%s' __PROCDECK_ENV_ BEGIN__; env -0 && printf '%s%s' __PROCDECK_ENV_ END__";

const FALLBACK_SHELLS: &[&str] = &["/bin/bash", "/bin/sh"];
/// An environment is a few KiB; anything past this is not one.
const MAX_STDOUT: usize = 16 * 1024 * 1024;
const STDERR_KEPT: usize = 2048;
/// After the shell has exited, how long a process it left in the background may keep the pipes
/// open before we stop reading.
const LINGER: Duration = Duration::from_millis(200);
/// Once the environment has been printed, how long logout files (`.bash_logout`, `.zlogout`)
/// may run before the shell is killed; the result is kept either way.
const LOGOUT_GRACE: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(50);

/// Variables that describe the shell that printed them, not the environment a command should
/// start with:
/// - `PWD`, `OLDPWD`: commands run in their workspace folder; a stale PWD misleads the programs
///   that trust it over getcwd().
/// - `SHLVL`: the login shell counted itself; passing it on makes every command look nested.
/// - `_`: the last command the shell ran (`env`).
/// - `TERM`, `COLUMNS`, `LINES`, `WINDOWID`, `TERM_SESSION_ID`, `TMUX`, `TMUX_PANE`, `STY`,
///   `SSH_TTY`, `GPG_TTY`: a terminal the commands are not attached to. Output goes to a file;
///   a TERM claiming a capable terminal makes tools write cursor movement into the log, and
///   GPG_TTY was computed with no terminal at all.
/// - `PS1`, `PS2`, `PROMPT_COMMAND`: the interactive prompt, when a startup file exports it.
/// - `PROCDECK_RESOLVING_ENVIRONMENT` ([`RESOLVING_ENV_VAR`]): set by us for the startup files.
const DROPPED: &[&str] = &[
    "PWD",
    "OLDPWD",
    "SHLVL",
    "_",
    "TERM",
    "COLUMNS",
    "LINES",
    "WINDOWID",
    "TERM_SESSION_ID",
    "TMUX",
    "TMUX_PANE",
    "STY",
    "SSH_TTY",
    "GPG_TTY",
    "PS1",
    "PS2",
    "PROMPT_COMMAND",
    RESOLVING_ENV_VAR,
];

#[derive(Debug, Error)]
pub enum ShellEnvError {
    #[error("cannot run the login shell {}: {source}", .shell.display())]
    Spawn { shell: PathBuf, source: io::Error },
    #[error("the login shell {} did not finish within {:.1} s (does a startup file wait for input or a terminal?)", .shell.display(), .timeout.as_secs_f64())]
    Timeout { shell: PathBuf, timeout: Duration },
    #[error("the login shell {} failed ({status}): {stderr}", .shell.display())]
    Failed {
        shell: PathBuf,
        status: ExitStatus,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    #[error("the login shell {} did not print its environment: {excerpt}", .shell.display())]
    NoMarker { shell: PathBuf, excerpt: String },
}

impl ShellEnvError {
    /// A short machine-readable name, like [`crate::Error::kind`].
    pub fn kind(&self) -> &'static str {
        match self {
            ShellEnvError::Spawn { .. } => "spawn",
            ShellEnvError::Timeout { .. } => "timeout",
            ShellEnvError::Failed { .. } => "failed",
            ShellEnvError::NoMarker { .. } => "noMarker",
        }
    }
}

/// The environment of the user's login shell (`$SHELL`, else bash, else sh), read by running it
/// as an interactive login shell (`-ilc`: nvm and friends are often set up in `.bashrc`, which
/// only interactive shells read), in `$HOME`. Whatever its startup files leave running in its
/// process group is killed once the environment is read; the shell too when it takes longer
/// than `timeout`.
pub fn login_shell_env(timeout: Duration) -> Result<BTreeMap<String, String>, ShellEnvError> {
    login_shell_env_from(&user_shell(), timeout)
}

/// The shell [`login_shell_env`] runs: `$SHELL` when it is an absolute path to an executable
/// file, else the first of /bin/bash and /bin/sh that exists.
pub fn user_shell() -> PathBuf {
    std::env::var_os("SHELL")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && is_executable(p))
        .or_else(|| {
            FALLBACK_SHELLS
                .iter()
                .map(PathBuf::from)
                .find(|p| is_executable(p))
        })
        .unwrap_or_else(|| PathBuf::from(FALLBACK_SHELLS[0]))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// [`login_shell_env`] with a given shell.
pub fn login_shell_env_from(
    shell: &Path,
    timeout: Duration,
) -> Result<BTreeMap<String, String>, ShellEnvError> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    login_shell_env_in(shell, home.as_deref(), timeout)
}

/// [`login_shell_env_from`] with a given home folder (`HOME` for the shell). The shell starts in
/// it, as a terminal's does, or in `/` without one: never in a workspace, whose files (a
/// `.envrc`, a `.nvmrc`) would otherwise be acted on by the user's startup files.
pub fn login_shell_env_in(
    shell: &Path,
    home: Option<&Path>,
    timeout: Duration,
) -> Result<BTreeMap<String, String>, ShellEnvError> {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut cmd = Command::new(shell);
    cmd.arg("-ilc")
        .arg(SCRIPT)
        .env(RESOLVING_ENV_VAR, "1")
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
            if libc::setsid() == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|source| ShellEnvError::Spawn {
        shell: shell.to_owned(),
        source,
    })?;
    let mut run = Run::new(child);
    let collected = run.collect(deadline);
    // Kills what the startup files left running (and the shell, if it is still running), then
    // reaps the shell.
    let outcome = match (collected, run.end()) {
        (Collected::Exited, Some(status)) => Outcome::Exited(status),
        _ => Outcome::TimedOut,
    };
    let (stdout, stderr) = (
        std::mem::take(&mut run.stdout),
        std::mem::take(&mut run.stderr),
    );
    drop(run);
    tracing::debug!(
        shell = %shell.display(),
        ms = started.elapsed().as_millis() as u64,
        ?outcome,
        "login shell ran"
    );
    if let Some(env) = parse_env(&stdout) {
        if !matches!(outcome, Outcome::Exited(s) if s.success()) {
            tracing::debug!(
                ?outcome,
                "login shell printed its environment but did not exit cleanly"
            );
        }
        return Ok(env);
    }
    match outcome {
        Outcome::TimedOut => Err(ShellEnvError::Timeout {
            shell: shell.to_owned(),
            timeout,
        }),
        Outcome::Exited(status) if !status.success() => Err(ShellEnvError::Failed {
            shell: shell.to_owned(),
            status,
            stderr: tail_text(&stderr),
        }),
        Outcome::Exited(_) => {
            let excerpt = if stdout.is_empty() {
                tail_text(&stderr)
            } else {
                tail_text(&stdout)
            };
            Err(ShellEnvError::NoMarker {
                shell: shell.to_owned(),
                excerpt,
            })
        }
    }
}

/// Variables that make the usual tools keep colours and flush their output although it goes to a
/// file: Node's `supports-color`/chalk (`FORCE_COLOR`), the `CLICOLOR` convention (`ls`, cmake,
/// many Rust and Go tools) and Python's buffering.
pub fn color_env() -> BTreeMap<String, String> {
    [
        ("FORCE_COLOR", "1"),
        ("CLICOLOR_FORCE", "1"),
        ("PYTHONUNBUFFERED", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Exited(ExitStatus),
    TimedOut,
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

    /// Reads both pipes until they close and the shell has exited, or until `deadline`.
    fn collect(&mut self, deadline: Instant) -> Collected {
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
                if printed_at.is_none() && memchr::memmem::rfind(&self.stdout, END).is_some() {
                    printed_at = Some(Instant::now());
                }
            }
            if exited_at.is_none() {
                match self.has_exited() {
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

    /// Whether the shell has exited, without reaping it.
    fn has_exited(&self) -> io::Result<bool> {
        // SAFETY: waitid fills a zeroed siginfo_t we own; WNOWAIT leaves the child waitable.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                self.child.id() as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: after a successful waitid, si_pid is set (0 when no child has changed state).
        Ok(unsafe { info.si_pid() } != 0)
    }

    fn pipes_closed(&self) -> bool {
        self.out_pipe.is_none() && self.err_pipe.is_none()
    }

    /// Waits up to `wait` for either pipe to have data, and reads what is there.
    fn read_some(&mut self, wait: Duration) {
        let fds: Vec<i32> = [
            self.out_pipe.as_ref().map(|p| p.as_raw_fd()),
            self.err_pipe.as_ref().map(|p| p.as_raw_fd()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut pfds: Vec<libc::pollfd> = fds
            .iter()
            .map(|&fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: `pfds` is a valid array of pollfd for the duration of the call.
        let n = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
        if n <= 0 {
            return;
        }
        for pfd in pfds.iter().filter(|p| p.revents != 0) {
            if self.out_pipe.as_ref().map(|p| p.as_raw_fd()) == Some(pfd.fd) {
                if !drain(&mut self.out_pipe, &mut self.stdout, Keep::Head(MAX_STDOUT)) {
                    self.out_pipe = None;
                }
            } else if !drain(
                &mut self.err_pipe,
                &mut self.stderr,
                Keep::Tail(STDERR_KEPT),
            ) {
                self.err_pipe = None;
            }
        }
    }

    /// Kills the shell's session (its process group: setsid made the shell its leader, and
    /// without job control its background jobs stay in that group), whether or not the shell
    /// has exited, then reaps the shell and returns how it ended.
    fn end(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            let pgid = self.child.id() as libc::pid_t;
            // SAFETY: kill has no memory effects. The shell is our unreaped child, so its pid
            // (the group's id) cannot have been reused.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
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

/// The variables between the markers. Startup files may print anything before the first marker
/// and logout files anything after the last; `env -0` ends every entry with a NUL, so values
/// may hold newlines.
fn parse_env(stdout: &[u8]) -> Option<BTreeMap<String, String>> {
    let start = memchr::memmem::find(stdout, BEGIN)? + BEGIN.len();
    let body = &stdout[start..];
    let body = &body[..memchr::memmem::rfind(body, END)?];
    let mut env = BTreeMap::new();
    for entry in body.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        let Some(eq) = memchr::memchr(b'=', entry) else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            std::str::from_utf8(&entry[..eq]),
            std::str::from_utf8(&entry[eq + 1..]),
        ) else {
            // Re-encoding would pass on a value that differs from the real one.
            continue;
        };
        // Also drops bash's exported functions (`BASH_FUNC_name%%`), which are not variables.
        if crate::shell::is_env_name(name) && !DROPPED.contains(&name) {
            env.insert(name.to_owned(), value.to_owned());
        }
    }
    Some(env)
}

fn tail_text(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(STDERR_KEPT);
    String::from_utf8_lossy(&bytes[start..]).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_between_the_markers() {
        let mut out = b"Welcome!\0junk=1\0\n__PROCDECK_ENV_BEGIN__".to_vec();
        out.extend_from_slice(
            b"PATH=/a:/b\0MULTI=line1\nline2=x\0PWD=/home\0SHLVL=2\0BASH_FUNC_f%%=() { :; }\0EMPTY=\0",
        );
        out.extend_from_slice(b"__PROCDECK_ENV_END__logout noise\0X=1\0");
        let env = parse_env(&out).expect("markers");
        let got: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("EMPTY", ""),
                ("MULTI", "line1\nline2=x"),
                ("PATH", "/a:/b")
            ]
        );
    }

    #[test]
    fn no_markers_no_environment() {
        assert_eq!(parse_env(b"PATH=/bin\0"), None);
        assert_eq!(parse_env(b"__PROCDECK_ENV_BEGIN__PATH=/bin\0"), None);
    }

    #[test]
    fn color_env_has_the_three_variables() {
        let env = color_env();
        assert_eq!(env.get("FORCE_COLOR").map(String::as_str), Some("1"));
        assert_eq!(env.get("CLICOLOR_FORCE").map(String::as_str), Some("1"));
        assert_eq!(env.get("PYTHONUNBUFFERED").map(String::as_str), Some("1"));
        assert_eq!(env.len(), 3);
    }
}
