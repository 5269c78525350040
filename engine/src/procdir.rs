//! The files of one process folder (`.procdeck/processes/<id>/`) and their formats. The engine
//! writes `spec.json` (and `stop.json` to ask for a stop); the shim writes `shim.json`,
//! `output.log`, `output.meta.json`, `exit.json` and `shim.log`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::record::StartedBy;

pub const SPEC: &str = "spec.json";
pub const SHIM: &str = "shim.json";
pub const EXIT: &str = "exit.json";
pub const STOP: &str = "stop.json";
pub const SHIM_LOG: &str = "shim.log";
/// More than any record file Procdeck writes (a spec's environment is bounded by the kernel's
/// limit on a command's environment, 2 MiB by default).
const MAX_JSON_BYTES: u64 = 4 * 1024 * 1024;

/// What to run, fixed at start.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub id: String,
    pub workspace_id: String,
    pub title: String,
    pub command: String,
    pub cwd: PathBuf,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub started_at: String,
    pub stop_grace_ms: u64,
    pub output_cap_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<StartedBy>,
    /// HMAC of the fields above under the user's key ([`crate::origin`]); absent or wrong in a
    /// spec that this user's Procdeck did not write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// Who is running it, written by the shim once the command has started.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShimInfo {
    pub shim_pid: u32,
    pub shim_start_time: u64,
    pub pid: u32,
    pub pid_start_time: u64,
    pub boot_id: String,
}

/// How it ended, written atomically by the shim after the whole tree is gone.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExitInfo {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub stop_requested: bool,
    pub ended_at: String,
    /// Processes of the tree still alive when the shim gave up (it never should).
    #[serde(default)]
    pub survivors: Vec<u32>,
}

/// A stop request's options, read by the shim when it receives SIGTERM.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopFile {
    pub grace_ms: u64,
}

/// Reads a JSON file of a process folder; `None` when it is missing. The folder may come from
/// elsewhere, so a symlink or a FIFO in its place is an error, never followed or waited on, and
/// a file larger than any record Procdeck writes is refused rather than read into memory.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let corrupt = |reason: String| Error::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let Some(file) = crate::nofollow::open_regular(path)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.take(MAX_JSON_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("reading", path, e))?;
    if bytes.len() as u64 > MAX_JSON_BYTES {
        return Err(corrupt(format!(
            "it holds more than the {MAX_JSON_BYTES} bytes a record file may"
        )));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| corrupt(e.to_string()))
}
