use serde::{Deserialize, Serialize};

use crate::record::ProcessRecord;

/// What a front hears about a workspace's processes: at start, at exit, at most once a second
/// while output grows, and on removal — whichever process (app or CLI) made the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    #[serde(rename_all = "camelCase")]
    Updated { record: Box<ProcessRecord> },
    #[serde(rename_all = "camelCase")]
    Removed { id: String, workspace_id: String },
}
