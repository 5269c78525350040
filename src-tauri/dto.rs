//! Types the app adds to the engine's for the web view; TypeScript is generated from them.

use procdeck_engine::output::OutputLine;
use procdeck_engine::{Event, ProcessRecord};
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS, PartialEq)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceInfo {
    /// The workspace's key: its canonical folder path (also while the folder is gone). Commands,
    /// events and the records the app returns name the workspace by it.
    pub id: String,
    pub path: String,
    pub name: String,
    pub missing: bool,
    /// Services with a run that is running, and all its services (runs of one title in one
    /// folder are one service).
    pub running: u32,
    pub total: u32,
    /// Whether the folder has a stack file (`procdeck.toml` or a `Procfile`).
    pub stack: bool,
}

/// One message of a live output stream.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum OutputFrame {
    /// The output bytes `[offset, end)`, cut into lines; `skipped` bytes before `offset` were
    /// left out. Offsets are exact byte offsets whatever the text decodes to. The first line
    /// continues the line the previous frame left open when this frame starts where that one
    /// ended; the last line stays open (more of it follows) unless `last_line_complete`.
    #[serde(rename_all = "camelCase")]
    Data {
        #[ts(type = "number")]
        offset: u64,
        #[ts(type = "number")]
        end: u64,
        lines: Vec<OutputLine>,
        last_line_complete: bool,
        #[ts(type = "number")]
        skipped: u64,
    },
    /// The process ended and everything was delivered (record), or the stream was stopped (null).
    #[serde(rename_all = "camelCase")]
    End { record: Option<Box<ProcessRecord>> },
    #[serde(rename_all = "camelCase")]
    Error { message: String },
}

/// The payload of `procdeck://process`.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ProcessEvent {
    pub workspace_id: String,
    pub event: Event,
}

/// The payload of `procdeck://reveal`: the window should show this process (a click on a
/// notification about it).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct RevealProcess {
    pub workspace_id: String,
    pub id: String,
}

pub const PROCESS_EVENT: &str = "procdeck://process";
pub const REVEAL_EVENT: &str = "procdeck://reveal";
/// The payload is a workspace key: the window should show it (a second launch handed it over).
pub const SELECT_WORKSPACE_EVENT: &str = "procdeck://select-workspace";
pub const WORKSPACES_EVENT: &str = "procdeck://workspaces";
