//! The environment of the user's login shell.
//!
//! An app started from a desktop launcher inherits the session's bare environment: no nvm,
//! cargo, pyenv or anything else the user's shell startup files add to PATH. Running the login
//! shell once and reading its `env` gives started commands the environment they would have in a
//! terminal.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::platform;

/// Set while the login shell runs, so that startup files can skip work that needs a terminal
/// (`[ -n "$PROCDECK_RESOLVING_ENVIRONMENT" ] && return`). Never part of the result.
pub const RESOLVING_ENV_VAR: &str = "PROCDECK_RESOLVING_ENVIRONMENT";

/// Printed in two pieces so that a startup file echoing the command line (`set -v`) does not
/// produce the marker itself.
const BEGIN: &[u8] = b"__PROCDECK_ENV_BEGIN__";
const END: &[u8] = b"__PROCDECK_ENV_END__";
const SCRIPT: &str =
    "printf '%s%s' __PROCDECK_ENV_ BEGIN__; env -0 && printf '%s%s' __PROCDECK_ENV_ END__";

/// How much of what the shell wrote an error quotes.
const EXCERPT_BYTES: usize = 2048;

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

/// The environment of the user's login shell ([`user_shell`]), read by running it as an
/// interactive login shell in `$HOME`. Whatever its startup files leave running is killed once
/// the environment is read; the shell too when it takes longer than `timeout`.
pub fn login_shell_env(timeout: Duration) -> Result<BTreeMap<String, String>, ShellEnvError> {
    login_shell_env_from(&user_shell(), timeout)
}

/// The shell [`login_shell_env`] runs: `$SHELL` when it is an absolute path to an executable
/// file, else the first of /bin/bash and /bin/sh that exists.
pub fn user_shell() -> PathBuf {
    platform::user_shell()
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
    let capture = platform::run_login_shell(
        shell,
        SCRIPT,
        (RESOLVING_ENV_VAR, "1"),
        home,
        started + timeout,
        END,
    )
    .map_err(|source| ShellEnvError::Spawn {
        shell: shell.to_owned(),
        source,
    })?;
    let outcome = match capture.exit {
        Some(status) => Outcome::Exited(status),
        None => Outcome::TimedOut,
    };
    let (stdout, stderr) = (capture.stdout, capture.stderr);
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
    let start = bytes.len().saturating_sub(EXCERPT_BYTES);
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
