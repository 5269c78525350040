//! The window's stack commands: show the workspace's stack, start it, stop it, and save what
//! runs as one. Thin commands over the engine's `stack` module; progress reaches the window
//! through a channel, one [`EntryStatus`] per change.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use procdeck_engine::stack::{self, EntryStatus, Stack};
use procdeck_engine::StartedBy;
use serde::Serialize;
use tauri::ipc::Channel;
use ts_rs::TS;

use crate::commands::{on_workspace, Reg};
use crate::error::{AppError, AppResult};

/// A stack as the window shows it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct StackView {
    /// The file's name in the workspace folder: `procdeck.toml` or `Procfile`.
    pub file: String,
    pub entries: Vec<StackEntryView>,
    /// The file's content, as confirmed: `stack_up` takes it back to say what was confirmed.
    pub digest: String,
    /// Whether this user confirmed running the file as it now reads; until then the window shows
    /// every command and environment and asks before the first start.
    pub confirmed: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct StackEntryView {
    pub name: String,
    pub command: String,
    pub cwd: Option<String>,
    pub env: BTreeMap<String, String>,
    pub depends_on: Vec<String>,
    /// What makes it ready, in words ("port 8080", "a line matching …"), when anything does.
    pub ready: Option<String>,
    pub autostart: bool,
}

impl StackView {
    fn of(stack: Stack, confirmed: bool) -> Self {
        StackView {
            confirmed,
            digest: stack.digest,
            file: stack
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            entries: stack
                .entries
                .into_iter()
                .map(|e| StackEntryView {
                    ready: e.ready.as_ref().map(|r| {
                        let mut ways = Vec::new();
                        if let Some(pattern) = &r.log_regex {
                            ways.push(format!("a line matching {pattern:?}"));
                        }
                        if let Some(port) = r.port {
                            ways.push(format!("port {port}"));
                        }
                        if let Some(url) = &r.http {
                            ways.push(format!("{url} answering"));
                        }
                        ways.join(" or ")
                    }),
                    name: e.name,
                    command: e.command,
                    cwd: e.cwd.map(|c| c.to_string_lossy().into_owned()),
                    env: e.env,
                    depends_on: e.depends_on,
                    autostart: e.autostart,
                })
                .collect(),
        }
    }
}

/// The workspace's stack, or null when it has none; a stack file with a mistake is an error
/// naming the file and line.
#[tauri::command]
pub async fn stack_show(registry: Reg<'_>, workspace_id: String) -> AppResult<Option<StackView>> {
    on_workspace(&registry, workspace_id, |ws| {
        Ok(stack::load(ws.folder())?.map(|stack| {
            let confirmed = ws.stack_confirmed(&stack);
            StackView::of(stack, confirmed)
        }))
    })
    .await
}

/// Starts `names` (every autostart entry when empty) with what they depend on; every change of
/// an entry's state goes to `on_status`. Answers with each entry's final state. A stack the user
/// has not confirmed runs only with `confirm`, the digest of the file as the window showed it.
#[tauri::command]
pub async fn stack_up(
    registry: Reg<'_>,
    workspace_id: String,
    names: Vec<String>,
    confirm: Option<String>,
    on_status: Channel<EntryStatus>,
) -> AppResult<Vec<EntryStatus>> {
    let r = registry.inner().clone();
    crate::commands::blocking(move || {
        let ws = r.get(&workspace_id)?;
        let stack = load(&ws)?;
        if !ws.stack_confirmed(&stack) {
            if confirm.as_deref() != Some(stack.digest.as_str()) {
                return Err(AppError {
                    kind: "unconfirmedStack".into(),
                    message: format!(
                        "{} changed or was never confirmed here: look at what it runs, then confirm",
                        stack.file.display()
                    ),
                });
            }
            ws.confirm_stack(&stack)?;
        }
        let never = AtomicBool::new(false);
        Ok(
            ws.stack_up(&stack, &names, Some(StartedBy::app()), &never, &|s| {
                let _ = on_status.send(s.clone());
            })?,
        )
    })
    .await
}

/// Stops `names` and what depends on them (every entry when empty), dependents first.
#[tauri::command]
pub async fn stack_down(
    registry: Reg<'_>,
    workspace_id: String,
    names: Vec<String>,
    on_status: Channel<EntryStatus>,
) -> AppResult<Vec<EntryStatus>> {
    on_workspace(&registry, workspace_id, move |ws| {
        let stack = load(ws)?;
        ws.stack_down(&stack, &names, &|s| {
            let _ = on_status.send(s.clone());
        })
    })
    .await
}

/// Writes what runs now as the workspace's `procdeck.toml` (never over an existing file).
#[tauri::command]
pub async fn stack_save(registry: Reg<'_>, workspace_id: String) -> AppResult<StackView> {
    on_workspace(&registry, workspace_id, |ws| {
        Ok(StackView::of(ws.save_running_as_stack()?, true))
    })
    .await
}

fn load(ws: &procdeck_engine::Workspace) -> procdeck_engine::Result<Stack> {
    stack::load(ws.folder())?.ok_or_else(|| procdeck_engine::Error::Stack {
        file: ws.folder().join(stack::STACK_FILE),
        line: None,
        message: "this workspace has no stack".into(),
    })
}
