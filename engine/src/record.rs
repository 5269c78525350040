//! The process record as `index.json` stores it and `--json` prints it (camelCase keys).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a process is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// Its shim is alive and the command has not ended.
    Running,
    /// Exit code 0, or ended because somebody asked it to stop.
    Stopped,
    /// Non-zero exit, or killed by a signal nobody asked for.
    Error,
    /// Its shim is gone without having recorded an exit.
    Lost,
}

impl Status {
    pub fn is_running(self) -> bool {
        self == Status::Running
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Stopped => "stopped",
            Status::Error => "error",
            Status::Lost => "lost",
        }
    }
}

/// Who made a record: this user's Procdeck, or anyone else (a `.procdeck` folder that came with
/// a cloned repository, another user of a shared folder, a hand edit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub enum Origin {
    /// Its spec carries a tag that verifies under this user's key: started by this user.
    Own,
    /// Anything else. Running it again runs whatever its author wrote, so it is shown in full
    /// and confirmed first.
    #[default]
    Foreign,
}

/// Which of Procdeck's fronts started a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub enum Starter {
    App,
    Cli,
    /// A coding agent, through the MCP server.
    Agent,
}

/// Who started a process: the front, and for an agent the name its client gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct StartedBy {
    pub kind: Starter,
    /// The client's own name (for example "claude-code"); shown as plain text, never trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub client: Option<String>,
}

/// Longest client name kept: enough for any real client, short enough for a badge.
const CLIENT_NAME_MAX: usize = 64;

impl StartedBy {
    pub fn app() -> StartedBy {
        StartedBy {
            kind: Starter::App,
            client: None,
        }
    }

    pub fn cli() -> StartedBy {
        StartedBy {
            kind: Starter::Cli,
            client: None,
        }
    }

    /// An agent whose client calls itself `client`. Control characters are dropped and the
    /// name is cut to a badge's length, since any program can claim any name.
    pub fn agent(client: &str) -> StartedBy {
        let name: String = client
            .chars()
            .filter(|c| !c.is_control())
            .take(CLIENT_NAME_MAX)
            .collect();
        let name = name.trim();
        StartedBy {
            kind: Starter::Agent,
            client: (!name.is_empty()).then(|| name.to_owned()),
        }
    }

    pub fn kind_str(&self) -> &'static str {
        match self.kind {
            Starter::App => "app",
            Starter::Cli => "cli",
            Starter::Agent => "agent",
        }
    }
}

/// One process of a workspace, as stored in `index.json` and shown to every front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct ProcessRecord {
    pub id: String,
    pub workspace_id: String,
    pub title: String,
    pub command: String,
    pub cwd: String,
    pub status: Status,
    /// The command's main process (`bash -c`).
    pub pid: Option<u32>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub stopped_at: Option<String>,
    pub exit_code: Option<i32>,
    /// The signal that ended the main process, when one did.
    #[serde(default)]
    pub signal: Option<i32>,
    /// Bytes the process has written since it started, including any dropped by rotation.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub output_size_bytes: u64,
    /// Bytes at the start of the output no longer kept (the output cap rotated them out).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub dropped_bytes: u64,
    /// Whether somebody asked for the stop that ended it.
    #[serde(default)]
    pub stop_requested: bool,
    /// When a stop was asked for and is still being carried out (grace period), RFC 3339.
    #[serde(default)]
    pub stopping_since: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "Record<string, string>"))]
    pub env: BTreeMap<String, String>,
    /// Grace period between SIGTERM and SIGKILL for this process, in milliseconds.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub stop_grace_ms: u64,
    /// Output kept for this process, in bytes.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub output_cap_bytes: u64,
    /// Worked out from `spec.json` on every read; whatever `index.json` says here is ignored.
    #[serde(default)]
    pub origin: Origin,
    /// Who started it, from `spec.json`; None for records written before this was kept.
    #[serde(default)]
    pub started_by: Option<StartedBy>,
    /// The service this is a run of ([`crate::runs::service_key`]): runs with the same title in
    /// the same folder are one service. Worked out on every read, like `origin`.
    #[serde(default)]
    pub service: String,
    /// The shim's identity, so that a reused pid is never signalled.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub supervisor: Option<Supervisor>,
}

/// A process identity that survives pid reuse: pid, start time in clock ticks since boot, and
/// the boot it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Supervisor {
    pub shim_pid: u32,
    pub shim_start_time: u64,
    pub pid_start_time: u64,
    pub boot_id: String,
}
