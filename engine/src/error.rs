use std::io;
use std::path::PathBuf;

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure the engine reports. Messages are written for the person who typed the command:
/// they name the thing that was wrong and what was expected.
#[derive(Debug, Error)]
pub enum Error {
    #[error("no process with id {0} in this workspace")]
    NotFound(String),
    #[error(
        "malformed process id {0:?}: expected proc_YYYY-MM-DDTHHMM_xxxxxx (6 lowercase hex digits)"
    )]
    MalformedId(String),
    #[error("no process with id, start of an id or title {0:?} in this workspace (ids look like proc_YYYY-MM-DDTHHMM_xxxxxx)")]
    NoMatch(String),
    #[error("{name:?} names {} processes: {}; give one of these ids", candidates.len(), candidates.join(", "))]
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
    #[error("the command is empty")]
    EmptyCommand,
    #[error("grep needs a pattern")]
    MissingPattern,
    #[error("invalid regex {pattern:?}: {}", last_line(reason))]
    InvalidPattern { pattern: String, reason: String },
    #[error("invalid environment variable {0:?}: expected NAME=VALUE with a name of letters, digits and _ not starting with a digit")]
    InvalidEnv(String),
    #[error("{id} cannot take its port: {reason}, and only a process Procdeck started can be stopped for it")]
    NoPortHolder { id: String, reason: String },
    #[error("the folder {cwd} is outside the workspace {folder}")]
    CwdOutsideWorkspace { cwd: PathBuf, folder: PathBuf },
    #[error("workspace folder {0} does not exist")]
    MissingFolder(PathBuf),
    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),
    #[error("workspace folder {path} is not writable: {source}")]
    Unwritable { path: PathBuf, source: io::Error },
    #[error("disk full while writing {0}; nothing was changed")]
    DiskFull(PathBuf),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{path} is not valid: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("could not start the process: {0}")]
    Spawn(String),
    #[error("timed out after {0:.1} s waiting for {1}")]
    Timeout(f64, String),
    #[error("watching the workspace for changes failed: {0}")]
    Watch(String),
    // A store is untrusted input (a repository can ship one, another user can share it): these
    // report what was found there instead of following or trusting it.
    #[error("{0} is a symbolic link; Procdeck does not follow links inside its store")]
    Symlink(PathBuf),
    #[error("{path} is {kind}, not a regular file")]
    NotRegularFile { path: PathBuf, kind: &'static str },
    #[error("process {id} was not started by you in this folder: its record came with the folder (a cloned repository, another user) or was edited. It would run {command:?} in {cwd:?} with {} environment variable(s){}; look at them, then confirm to run it", env.len(), env_summary(env))]
    ForeignRecord {
        id: String,
        command: String,
        cwd: PathBuf,
        env: std::collections::BTreeMap<String, String>,
    },
    /// A stack file that cannot be used: where (file and line, when known) and what is wrong.
    #[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Stack {
        file: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("the record key {path} is not safe to use: {reason}")]
    UnsafeKey { path: PathBuf, reason: String },
}

impl Error {
    /// Wraps an I/O error with what was being done and to which path, turning ENOSPC into the
    /// dedicated disk-full error so that fronts can say it plainly.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        let path = path.into();
        // The kind says it both for the OS error and for wrappers (tempfile's) that keep the
        // kind but not the OS error number.
        if source.kind() == io::ErrorKind::StorageFull {
            return Error::DiskFull(path);
        }
        Error::Io {
            action,
            path,
            source,
        }
    }

    /// A short machine-readable name, stable across versions, for fronts that map errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "notFound",
            Error::MalformedId(_) => "malformedId",
            Error::NoMatch(_) => "noMatch",
            Error::Ambiguous { .. } => "ambiguous",
            Error::EmptyCommand => "emptyCommand",
            Error::MissingPattern => "missingPattern",
            Error::InvalidPattern { .. } => "invalidPattern",
            Error::InvalidEnv(_) => "invalidEnv",
            Error::NoPortHolder { .. } => "noPortHolder",
            Error::CwdOutsideWorkspace { .. } => "cwdOutsideWorkspace",
            Error::MissingFolder(_) => "missingFolder",
            Error::NotAFolder(_) => "notAFolder",
            Error::Unwritable { .. } => "unwritable",
            Error::DiskFull(_) => "diskFull",
            Error::Io { .. } => "io",
            Error::Corrupt { .. } => "corrupt",
            Error::Spawn(_) => "spawn",
            Error::Timeout(..) => "timeout",
            Error::Watch(_) => "watch",
            Error::Symlink(_) => "symlink",
            Error::NotRegularFile { .. } => "notRegularFile",
            Error::ForeignRecord { .. } => "foreignRecord",
            Error::UnsafeKey { .. } => "unsafeKey",
            Error::Stack { .. } => "stack",
        }
    }
}

/// The variables' names, so that a one-line message still says which ones would be set.
fn env_summary(env: &std::collections::BTreeMap<String, String>) -> String {
    if env.is_empty() {
        return String::new();
    }
    let names: Vec<String> = env.keys().map(|name| format!("{name:?}")).collect();
    format!(": {}", names.join(", "))
}

/// The regex crate explains a parse error over several lines (the pattern, a caret, then the
/// error); a message must be one line, and the last one says what is wrong.
fn last_line(text: &str) -> &str {
    let line = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(text);
    line.strip_prefix("error: ").unwrap_or(line)
}

/// Shorthand for mapping `io::Result` with a path and an action.
pub(crate) trait IoContext<T> {
    fn ctx(self, action: &'static str, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, action: &'static str, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| Error::io(action, path, e))
    }
}
