//! What the tools take and return. The JSON Schemas the server declares (`inputSchema`,
//! `outputSchema`) are generated from these types, so a result always matches its schema.

use std::collections::BTreeMap;

use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartInput {
    /// The command line, run by bash in the background (e.g. "npm run dev").
    pub command: String,
    /// A name for the process (default: the command). With `reuse`, a running process of this
    /// title is returned instead of starting another.
    #[serde(default)]
    pub title: Option<String>,
    /// The folder to run in: inside the workspace, relative to it or absolute.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Environment variables added to the process's environment.
    #[serde(default)]
    pub env: Option<BTreeMap<String, String>>,
    /// Wait until the process is ready before answering.
    #[serde(default)]
    pub ready: Option<ReadyInput>,
    /// Return a running process of the same title, or the same command in the same folder,
    /// instead of starting a second one (default true).
    #[serde(default)]
    pub reuse: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadyInput {
    /// Ready when a line of output matches this regex (Rust regex syntax), matched against the
    /// line as it shows, without ANSI sequences.
    #[serde(default)]
    pub log_regex: Option<String>,
    /// Ready when the process (or any of its children) listens on this TCP port.
    #[serde(default)]
    pub port: Option<u64>,
    /// Give up waiting after this many seconds (default 30, at most 120); the process keeps
    /// running.
    #[serde(default)]
    pub timeout_s: Option<f64>,
}

/// A process named by id (or a unique start of one) or by exact title.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NameInput {
    /// The process's id, or a unique start of it (a title is accepted too).
    #[serde(default)]
    pub id: Option<String>,
    /// The process's exact title.
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopInput {
    /// The process's id, or a unique start of it (a title is accepted too).
    #[serde(default)]
    pub id: Option<String>,
    /// The process's exact title.
    #[serde(default)]
    pub title: Option<String>,
    /// Seconds between SIGTERM and SIGKILL (default 2, at most 60).
    #[serde(default)]
    pub grace_s: Option<f64>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInput {
    /// Include processes that have ended (default true).
    #[serde(default)]
    pub include_ended: Option<bool>,
    /// Only the most recently started N processes.
    #[serde(default)]
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutputMode {
    /// The last `lines` lines.
    Tail,
    /// The first `lines` lines.
    Head,
    /// The lines matching `pattern` (at most `lines` of them).
    Grep,
    /// What was written since `cursor` (a `next_cursor` from an earlier call; 0 for the start).
    Since,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputInput {
    /// The process's id, a unique start of it, or its exact title.
    pub id: String,
    pub mode: OutputMode,
    /// Lines for tail and head, most matching lines for grep (default 100).
    #[serde(default)]
    pub lines: Option<u64>,
    /// The regex for grep (Rust regex syntax), matched against each line as it shows (without
    /// ANSI sequences; with strip_ansi false, against its raw bytes).
    #[serde(default)]
    pub pattern: Option<String>,
    /// For since: the byte offset to read from (default 0).
    #[serde(default)]
    pub cursor: Option<u64>,
    /// The most bytes of output returned (default 16384, at most 262144).
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// Remove ANSI colour and cursor sequences (default true).
    #[serde(default)]
    pub strip_ansi: Option<bool>,
}

/// What to wait for.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Until {
    /// "exit": the process ends. "ready": it becomes ready as its start asked (its log regex or
    /// port), or, without that, its tree listens on any TCP port.
    Named(UntilName),
    /// A line of output matching this regex (without ANSI sequences), searched from `cursor` (a
    /// byte offset; default: the start of the output).
    Log {
        log_regex: String,
        #[serde(default)]
        cursor: Option<u64>,
    },
    /// The process's tree listens on this TCP port.
    Port { port: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UntilName {
    Exit,
    Ready,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitInput {
    /// The process's id, a unique start of it, or its exact title.
    pub id: String,
    pub until: Until,
    /// Seconds to wait at most (default 30, at most 50); the process keeps running after.
    #[serde(default)]
    pub timeout_s: Option<f64>,
}

/// A process of the workspace that ended since this client's previous call.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct EventOut {
    pub id: String,
    pub title: String,
    /// stopped (exit code 0 or stopped on request), error (non-zero exit or killed), lost.
    pub status: String,
    pub exit_code: Option<i32>,
    /// Its last lines of output (ANSI stripped).
    pub last_lines: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StartOutput {
    pub id: String,
    pub title: String,
    /// running (no readiness asked), ready, exited (exit code 0), failed (ended otherwise) or
    /// timed_out (still running, not ready in time).
    pub status: String,
    /// What ended the readiness wait: log_regex, port, exit or timeout (absent without `ready`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_line: Option<String>,
    /// True when a running process was returned instead of starting a new one.
    pub reused: bool,
    pub pid: Option<u32>,
    pub ports: Vec<u16>,
    /// The last output, at most 4 KiB, ANSI stripped.
    pub output_tail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub events: Vec<EventOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StartedByOut {
    /// app, cli or agent.
    pub kind: String,
    /// The agent's client name, for kind agent.
    pub client: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProcessOut {
    pub id: String,
    pub title: String,
    pub command: String,
    pub cwd: String,
    /// running, stopped (exit code 0 or stopped on request), error or lost.
    pub status: String,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub pid: Option<u32>,
    pub ports: Vec<u16>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub ended_at: Option<String>,
    /// Bytes of output written so far.
    pub output_bytes: u64,
    /// Who started it; absent for records older than this field.
    pub started_by: Option<StartedByOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListOutput {
    pub processes: Vec<ProcessOut>,
    pub events: Vec<EventOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OutputOutput {
    pub text: String,
    /// True when more output exists than was returned (before, after, or other matches).
    pub truncated: bool,
    /// Byte offset to pass as `cursor` with mode since to read only what comes next.
    pub next_cursor: u64,
    /// Bytes the process has written so far.
    pub total_bytes: u64,
    /// Bytes at the start of the output that the output cap dropped.
    pub dropped_bytes: u64,
    /// For since: bytes after the cursor the output cap dropped before they were read.
    pub skipped_bytes: u64,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub events: Vec<EventOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WaitOutput {
    pub satisfied: bool,
    /// log_regex, port, exit, timeout or cancelled.
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_line: Option<String>,
    /// For a port wait: the port found listening.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub output_tail: String,
    pub events: Vec<EventOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StopOutput {
    pub id: String,
    pub title: String,
    pub status: String,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// Processes of its tree still alive after the stop (0 expected).
    pub survivors: u64,
    /// Ports the tree listened on that nobody listens on any more.
    pub ports_freed: Vec<u16>,
    pub events: Vec<EventOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RemoveOutput {
    pub id: String,
    pub removed: bool,
    pub events: Vec<EventOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RestartOutput {
    /// The new process's id.
    pub id: String,
    pub previous_id: String,
    pub title: String,
    pub status: String,
    pub pid: Option<u32>,
    pub events: Vec<EventOut>,
}
