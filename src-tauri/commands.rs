//! The window's commands: each validates its input, calls the engine off the main thread, and
//! returns a typed result or an [`AppError`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use procdeck_engine::{
    ForeignConsent, GrepResult, LineChunk, ProcessRecord, ReadMethod, ReadRequest, ReadResult,
    StartRequest, StartedBy, StopRequest, Workspace,
};
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use crate::dto::{OutputFrame, WorkspaceInfo};
use crate::error::{AppError, AppResult};
use crate::prefs::{PrefStore, Prefs};
use crate::registry::{self, Registry};
use crate::streams::Streams;

/// The most lines one request may ask for, so a view cannot make the engine build a huge reply.
const MAX_LINES: u32 = 100_000;
const MAX_GREP_LINES: usize = 10_000;
const MAX_CHUNK_BYTES: usize = 8 * 1024 * 1024;

pub type Reg<'a> = State<'a, Arc<Registry>>;

/// Runs blocking engine work on the blocking pool, never on the main or async threads.
pub(crate) async fn blocking<T, F>(f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> AppResult<T> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| AppError::internal(format!("a background task failed: {e}")))?
}

/// Runs `f` on the open workspace `workspace_id`, on the blocking pool.
pub(crate) async fn on_workspace<T, F>(
    registry: &Reg<'_>,
    workspace_id: String,
    f: F,
) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Workspace) -> procdeck_engine::Result<T> + Send + 'static,
{
    let r = registry.inner().clone();
    blocking(move || {
        let ws = r.get(&workspace_id)?;
        Ok(f(&ws)?)
    })
    .await
}

/// Runs `f` on the open workspace `workspace_id` and returns the record it gives, carrying that
/// workspace's key.
async fn on_record<F>(registry: &Reg<'_>, workspace_id: String, f: F) -> AppResult<ProcessRecord>
where
    F: FnOnce(&Workspace) -> procdeck_engine::Result<ProcessRecord> + Send + 'static,
{
    let key = workspace_id.clone();
    let record = on_workspace(registry, workspace_id, f).await?;
    Ok(registry::keyed(record, &key))
}

#[tauri::command]
pub async fn list_workspaces(registry: Reg<'_>) -> AppResult<Vec<WorkspaceInfo>> {
    let r = registry.inner().clone();
    blocking(move || r.list()).await
}

/// The workspace of the folder given on the command line, the first time it is asked; null after
/// that, or when none was given.
#[tauri::command]
pub async fn take_requested_workspace(registry: Reg<'_>) -> AppResult<Option<String>> {
    let r = registry.inner().clone();
    blocking(move || Ok(r.take_requested())).await
}

#[tauri::command]
pub async fn add_workspace(registry: Reg<'_>, path: String) -> AppResult<WorkspaceInfo> {
    if path.trim().is_empty() {
        return Err(AppError::workspace("no folder given"));
    }
    let r = registry.inner().clone();
    blocking(move || r.add(&PathBuf::from(path))).await
}

/// How the window asks the user for a folder: the platform's folder dialog in the app; the tests
/// of the commands, which have no one to click, give their own.
pub struct FolderPicker(Box<dyn Fn() -> AppResult<Option<PathBuf>> + Send + Sync>);

impl FolderPicker {
    pub fn new(pick: impl Fn() -> AppResult<Option<PathBuf>> + Send + Sync + 'static) -> Self {
        FolderPicker(Box::new(pick))
    }

    /// The platform's folder dialog; `None` when the user cancels it.
    pub fn dialog<R: Runtime>(app: AppHandle<R>) -> Self {
        FolderPicker::new(move || {
            let Some(picked) = app
                .dialog()
                .file()
                .set_title("Add a project folder")
                .blocking_pick_folder()
            else {
                return Ok(None);
            };
            picked
                .into_path()
                .map(Some)
                .map_err(|e| AppError::workspace(format!("cannot use that folder: {e}")))
        })
    }
}

#[tauri::command]
pub async fn pick_workspace(
    picker: State<'_, Arc<FolderPicker>>,
    registry: Reg<'_>,
) -> AppResult<Option<WorkspaceInfo>> {
    let r = registry.inner().clone();
    let picker = picker.inner().clone();
    blocking(move || match (picker.0)()? {
        Some(path) => r.add(&path).map(Some),
        None => Ok(None),
    })
    .await
}

#[tauri::command]
pub async fn remove_workspace(
    registry: Reg<'_>,
    workspace_id: String,
    delete_history: bool,
) -> AppResult<()> {
    let r = registry.inner().clone();
    blocking(move || r.remove(&workspace_id, delete_history)).await
}

#[tauri::command]
pub async fn list_processes(
    registry: Reg<'_>,
    workspace_id: String,
) -> AppResult<Vec<ProcessRecord>> {
    let key = workspace_id.clone();
    let records = on_workspace(&registry, workspace_id, |ws| ws.list()).await?;
    Ok(records
        .into_iter()
        .map(|r| registry::keyed(r, &key))
        .collect())
}

#[tauri::command]
pub async fn start_process(
    registry: Reg<'_>,
    workspace_id: String,
    command: String,
    title: Option<String>,
    env: BTreeMap<String, String>,
) -> AppResult<ProcessRecord> {
    let r = registry.inner().clone();
    blocking(move || {
        let ws = r.get(&workspace_id)?;
        let record = ws.start(StartRequest {
            title,
            env,
            started_by: Some(StartedBy::app()),
            ..StartRequest::new(command.clone())
        })?;
        if let Err(e) = r.remember_command(&ws, command.trim()) {
            tracing::warn!("{}", e.message);
        }
        Ok(registry::keyed(record, &workspace_id))
    })
    .await
}

#[tauri::command]
pub async fn stop_process(
    registry: Reg<'_>,
    workspace_id: String,
    id: String,
) -> AppResult<ProcessRecord> {
    on_record(&registry, workspace_id, move |ws| {
        ws.stop(&id, StopRequest::default())
    })
    .await
}

#[tauri::command]
pub async fn kill_process(
    registry: Reg<'_>,
    workspace_id: String,
    id: String,
) -> AppResult<ProcessRecord> {
    let now = StopRequest {
        grace: Some(Duration::ZERO),
    };
    on_record(&registry, workspace_id, move |ws| ws.stop(&id, now)).await
}

/// `consent` is what the window showed of a record the user did not start, and they confirmed.
#[tauri::command]
pub async fn restart_process(
    registry: Reg<'_>,
    workspace_id: String,
    id: String,
    consent: Option<ForeignConsent>,
) -> AppResult<ProcessRecord> {
    on_record(&registry, workspace_id, move |ws| {
        ws.restart(&id, consent.as_ref())
    })
    .await
}

/// For a process that failed because its port was taken: stops the Procdeck process holding
/// the port (in any workspace), then runs this one again. `consent` as for `restart_process`.
#[tauri::command]
pub async fn take_port(
    registry: Reg<'_>,
    workspace_id: String,
    id: String,
    consent: Option<ForeignConsent>,
) -> AppResult<ProcessRecord> {
    on_record(&registry, workspace_id, move |ws| {
        ws.take_port(&id, consent.as_ref())
    })
    .await
}

#[tauri::command]
pub async fn remove_process(registry: Reg<'_>, workspace_id: String, id: String) -> AppResult<()> {
    on_workspace(&registry, workspace_id, move |ws| ws.remove(&id)).await
}

#[tauri::command]
pub async fn read_output(
    registry: Reg<'_>,
    workspace_id: String,
    id: String,
    request: ReadRequest,
) -> AppResult<ReadResult> {
    if request.lines.is_some_and(|n| n > MAX_LINES) {
        return Err(AppError::workspace(format!(
            "at most {MAX_LINES} lines can be read at once"
        )));
    }
    if request.method == ReadMethod::Full && request.max_bytes.is_none() {
        return Err(AppError::workspace(
            "a full read from the window needs maxBytes",
        ));
    }
    on_workspace(&registry, workspace_id, move |ws| ws.read(&id, &request)).await
}

#[tauri::command]
pub async fn grep_output(
    registry: Reg<'_>,
    workspace_id: String,
    id: String,
    pattern: String,
    limit: Option<usize>,
) -> AppResult<GrepResult> {
    let limit = limit.unwrap_or(MAX_GREP_LINES).min(MAX_GREP_LINES);
    on_workspace(&registry, workspace_id, move |ws| {
        ws.grep(&id, &pattern, Some(limit), None)
    })
    .await
}

#[tauri::command]
pub async fn lines_before(
    registry: Reg<'_>,
    workspace_id: String,
    id: String,
    end_offset: Option<u64>,
    lines: u32,
) -> AppResult<LineChunk> {
    let lines = lines.min(MAX_LINES) as usize;
    on_workspace(&registry, workspace_id, move |ws| {
        ws.lines_before(&id, end_offset, lines, MAX_CHUNK_BYTES)
    })
    .await
}

#[tauri::command]
pub async fn follow_output(
    registry: Reg<'_>,
    streams: State<'_, Arc<Streams>>,
    workspace_id: String,
    id: String,
    from_offset: Option<u64>,
    on_frame: Channel<OutputFrame>,
) -> AppResult<u32> {
    let r = registry.inner().clone();
    let checked = id.clone();
    let ws = blocking(move || {
        let ws = r.get(&workspace_id)?;
        ws.get(&checked)?;
        Ok(ws)
    })
    .await?;
    Ok(streams.start(ws, id, from_offset, move |frame| {
        on_frame.send(frame).is_ok()
    }))
}

#[tauri::command]
pub fn unfollow_output(streams: State<'_, Arc<Streams>>, subscription: u32) {
    streams.stop(subscription);
}

/// The view has drawn a frame of the stream: it may be sent the next.
#[tauri::command]
pub fn ack_output(streams: State<'_, Arc<Streams>>, subscription: u32) {
    streams.ack(subscription);
}

#[tauri::command]
pub async fn recent_commands(registry: Reg<'_>, workspace_id: String) -> AppResult<Vec<String>> {
    let r = registry.inner().clone();
    blocking(move || {
        let ws = r.get(&workspace_id)?;
        Ok(r.recent_commands(&ws))
    })
    .await
}

#[tauri::command]
pub async fn open_output_file<R: Runtime>(
    app: AppHandle<R>,
    registry: Reg<'_>,
    workspace_id: String,
    id: String,
) -> AppResult<()> {
    let path = on_workspace(&registry, workspace_id, move |ws| ws.output_path(&id)).await?;
    app.opener()
        .open_path(path.to_string_lossy(), None::<&str>)
        .map_err(|e| AppError::workspace(format!("cannot open {}: {e}", path.display())))
}

#[tauri::command]
pub async fn reveal_output_file<R: Runtime>(
    app: AppHandle<R>,
    registry: Reg<'_>,
    workspace_id: String,
    id: String,
) -> AppResult<()> {
    let path = on_workspace(&registry, workspace_id, move |ws| ws.output_path(&id)).await?;
    app.opener().reveal_item_in_dir(&path).map_err(|e| {
        AppError::workspace(format!("cannot show {} in its folder: {e}", path.display()))
    })
}

#[tauri::command]
pub async fn suggestions(
    registry: Reg<'_>,
    workspace_id: String,
) -> AppResult<Vec<procdeck_engine::suggest::Suggestion>> {
    on_workspace(&registry, workspace_id, |ws| Ok(ws.suggestions())).await
}

#[tauri::command]
pub async fn listening_ports(
    registry: Reg<'_>,
    workspace_id: String,
    id: String,
) -> AppResult<Vec<procdeck_engine::ports::ListeningPort>> {
    on_workspace(&registry, workspace_id, move |ws| ws.listening_ports(&id)).await
}

/// The most processes one `process_usage` may name: far more rows than a window shows.
const MAX_USAGE_IDS: usize = 1000;

#[tauri::command]
pub async fn process_usage(
    registry: Reg<'_>,
    workspace_id: String,
    ids: Vec<String>,
) -> AppResult<BTreeMap<String, procdeck_engine::Usage>> {
    if ids.len() > MAX_USAGE_IDS {
        return Err(AppError::workspace(format!(
            "at most {MAX_USAGE_IDS} processes can be measured at once"
        )));
    }
    let r = registry.inner().clone();
    blocking(move || r.usage(&workspace_id, &ids)).await
}

#[tauri::command]
pub async fn port_conflict(
    registry: Reg<'_>,
    workspace_id: String,
    id: String,
) -> AppResult<Option<procdeck_engine::conflict::PortConflict>> {
    on_workspace(&registry, workspace_id, move |ws| ws.port_conflict(&id)).await
}

/// Opens `http://localhost:PORT` in the default browser; only a port, never a URL, comes in.
#[tauri::command]
pub fn open_port<R: Runtime>(app: AppHandle<R>, port: u16) -> AppResult<()> {
    if port == 0 {
        return Err(AppError::workspace("port 0 cannot be opened"));
    }
    app.opener()
        .open_url(format!("http://localhost:{port}"), None::<&str>)
        .map_err(|e| AppError::workspace(format!("cannot open the browser: {e}")))
}

#[tauri::command]
pub fn get_prefs(prefs: State<'_, PrefStore>) -> Prefs {
    prefs.get()
}

#[tauri::command]
pub fn set_prefs(prefs: State<'_, PrefStore>, value: Prefs) -> AppResult<Prefs> {
    prefs
        .update(|p| *p = value)
        .map_err(|e| AppError::workspace(format!("cannot save the settings: {e}")))
}
