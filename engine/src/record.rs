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

    /// How a front names the agent that started a process: "Claude Code", "Codex", "Cursor",
    /// "VS Code" for the well-known clients, the client's own name cut to a badge's length
    /// otherwise, "Agent" when it gave none; None when no agent started it. A record can come
    /// from someone else's folder, so characters that hide or reorder text are dropped here too.
    /// The UI applies the same rule in `ui/src/lib/agent.ts`.
    pub fn agent_display_name(&self) -> Option<String> {
        if self.kind != Starter::Agent {
            return None;
        }
        let name: String = self
            .client
            .as_deref()
            .unwrap_or_default()
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .filter(|&c| !is_unshown(c))
            .collect();
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Some("Agent".to_owned());
        }
        let key = name.to_lowercase();
        if let Some((_, known)) = KNOWN_AGENTS
            .iter()
            .find(|(prefix, _)| key.starts_with(prefix))
        {
            return Some((*known).to_owned());
        }
        if name.chars().count() <= AGENT_NAME_SHOWN {
            return Some(name);
        }
        let cut: String = name.chars().take(AGENT_NAME_SHOWN - 1).collect();
        Some(format!("{}…", cut.trim_end()))
    }
}

/// Longest agent name a front shows, in characters.
const AGENT_NAME_SHOWN: usize = 24;

/// Known clients by the start of their lower-cased name, the first match winning.
const KNOWN_AGENTS: [(&str, &str); 5] = [
    ("claude-code", "Claude Code"),
    ("codex", "Codex"),
    ("cursor", "Cursor"),
    ("visual studio code", "VS Code"),
    ("vscode", "VS Code"),
];

/// Control characters, the marks that reorder the text around them, and the invisible BOM.
fn is_unshown(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(client: Option<&str>) -> Option<String> {
        StartedBy {
            kind: Starter::Agent,
            client: client.map(str::to_owned),
        }
        .agent_display_name()
    }

    #[test]
    fn well_known_agents_get_their_product_name() {
        for (client, name) in [
            ("claude-code", "Claude Code"),
            ("Claude-Code", "Claude Code"),
            ("codex-mcp-client", "Codex"),
            ("codex", "Codex"),
            ("Cursor", "Cursor"),
            ("cursor-vscode", "Cursor"),
            ("Visual Studio Code", "VS Code"),
            ("Visual Studio Code - Insiders", "VS Code"),
            ("vscode", "VS Code"),
        ] {
            assert_eq!(shown(Some(client)).as_deref(), Some(name), "{client}");
        }
    }

    #[test]
    fn other_agents_keep_their_name_cut_short_and_cleaned() {
        assert_eq!(shown(Some("zed")).as_deref(), Some("zed"));
        assert_eq!(
            shown(Some("  my\tagent\u{202e}\n  2 ")).as_deref(),
            Some("my agent 2")
        );
        let long = "a-very-long-agent-client-name-indeed";
        assert_eq!(
            shown(Some(long)).as_deref(),
            Some("a-very-long-agent-clien…")
        );
        assert_eq!(
            shown(Some(&"é".repeat(24))).as_deref(),
            Some("é".repeat(24).as_str())
        );
    }

    #[test]
    fn an_agent_without_a_name_is_an_agent_and_other_starters_have_none() {
        assert_eq!(shown(None).as_deref(), Some("Agent"));
        assert_eq!(shown(Some(" \u{200f} ")).as_deref(), Some("Agent"));
        assert_eq!(StartedBy::app().agent_display_name(), None);
        assert_eq!(StartedBy::cli().agent_display_name(), None);
    }
}
