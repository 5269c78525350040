//! Stacks: the set of processes a project runs, declared in a file committed with it, started
//! together in dependency order (each once what it depends on is ready) and stopped in reverse.
//!
//! The stack is read from `procdeck.toml` at the workspace's root ([`file`]); without one, a
//! `process-compose.yaml` ([`compose`]) or a `Procfile` ([`procfile`]) is imported. Every check that can be made before anything runs is
//! made when the file is read ([`order`]), and reported with the file, the line and what is
//! wrong. Starting and stopping are in [`up`].

mod check;
pub mod compose;
pub mod file;
mod order;
pub mod procfile;
mod save;
mod trust;
pub mod up;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, IoContext, Result};

pub use up::{EntryState, EntryStatus};

/// The stack file Procdeck reads and writes, at the workspace's root.
pub const STACK_FILE: &str = "procdeck.toml";

/// How long an entry may take to become ready unless its file says otherwise.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest readiness timeout a stack may ask for.
pub const MAX_READY_TIMEOUT: Duration = Duration::from_secs(3600);

/// A workspace's stack: its entries in the file's order, and the file they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub file: PathBuf,
    pub entries: Vec<StackEntry>,
    /// SHA-256 of the file's bytes, in hex: what a confirmation to run it is for.
    pub digest: String,
}

/// One process of a stack. Its name is the title of the processes it starts, so a stack entry,
/// a process started by hand with that title and their runs are one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEntry {
    pub name: String,
    pub command: String,
    /// A folder inside the workspace, relative to it.
    pub cwd: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    /// Names of entries that must be ready before this one starts.
    pub depends_on: Vec<String>,
    pub ready: Option<ReadyProbe>,
    /// Started by a plain "start the stack"; entries with `autostart = false` start when named
    /// or when an entry being started depends on them.
    pub autostart: bool,
    /// The line of the file the entry starts on.
    pub line: usize,
}

/// What makes an entry ready; the first to hold wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyProbe {
    pub log_regex: Option<String>,
    pub port: Option<u16>,
    /// An `http://` URL that answers with a status below 500.
    pub http: Option<String>,
    pub timeout: Duration,
}

impl Stack {
    /// The stack of `entries` read from `file`, whose text was `text`, once its dependencies are
    /// checked: every one names an entry, and none goes round.
    fn checked(file: &Path, entries: Vec<StackEntry>, text: &str) -> Result<Stack> {
        let stack = Stack {
            file: file.to_owned(),
            entries,
            digest: digest(text),
        };
        order::check(&stack)?;
        Ok(stack)
    }

    pub fn entry(&self, name: &str) -> Option<&StackEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The entries to start for `names` (every autostart entry when empty) with everything they
    /// depend on, in an order where each comes after its dependencies.
    pub fn selection(&self, names: &[String]) -> Result<Vec<&StackEntry>> {
        order::selection(self, names)
    }
}

/// The file `load` would read the stack of `folder` from, without reading or checking it.
pub fn file_of(folder: &Path) -> Option<PathBuf> {
    std::iter::once(&STACK_FILE)
        .chain(compose::COMPOSE_FILES)
        .chain([&procfile::PROCFILE])
        .map(|name| folder.join(name))
        .find(|path| path.symlink_metadata().is_ok_and(|m| m.is_file()))
}

/// The workspace's stack: `procdeck.toml`, else an imported `process-compose.yaml`, else an
/// imported `Procfile`, else None.
pub fn load(folder: &Path) -> Result<Option<Stack>> {
    let toml = folder.join(STACK_FILE);
    if let Some(text) = read(&toml)? {
        return file::parse(&toml, &text).map(Some);
    }
    for name in compose::COMPOSE_FILES {
        let path = folder.join(name);
        if let Some(text) = read(&path)? {
            return compose::parse(&path, &text).map(Some);
        }
    }
    let procfile = folder.join(procfile::PROCFILE);
    if let Some(text) = read(&procfile)? {
        return procfile::parse(&procfile, &text).map(Some);
    }
    Ok(None)
}

/// The hex SHA-256 of a stack file's text.
pub(crate) fn digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The longest stack file read; a larger one is reported, not read.
const MAX_FILE: u64 = 1024 * 1024;

/// A stack file's text: None when absent. A link, a folder, a FIFO or a huge file is refused, as
/// any file a cloned repository ships may be any of these.
fn read(path: &Path) -> Result<Option<String>> {
    let Some(file) = crate::nofollow::open_regular(path)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .ctx("reading", path)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(Error::Stack {
            file: path.to_owned(),
            line: None,
            message: format!("the file is larger than {} KiB", MAX_FILE / 1024),
        });
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Error::Stack {
            file: path.to_owned(),
            line: None,
            message: "the file is not UTF-8 text".into(),
        })
}

/// The 1-based line holding byte `offset` of `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

pub(crate) fn invalid(file: &Path, line: usize, message: impl Into<String>) -> Error {
    Error::Stack {
        file: file.to_owned(),
        line: Some(line),
        message: message.into(),
    }
}
