//! One client's session: the workspace it works in, who it is, what it started, and what it has
//! been told about.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use procdeck_engine::{ReadMethod, ReadRequest, ReadyWhen, Settings, StopRequest, Workspace};
use rmcp::{Peer, RoleServer};
use tokio::sync::OnceCell;

use super::events::Seen;
use super::schema::EventOut;
use super::text;

/// How long the client is given to answer `roots/list`.
const ROOTS_TIMEOUT: Duration = Duration::from_secs(5);
/// Lines of output an event carries, and their most bytes.
const EVENT_LINES: u32 = 10;
const EVENT_BYTES: usize = 1024;

/// A tool's failure: one sentence for the agent, returned as an `isError` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError(pub String);

impl From<procdeck_engine::Error> for ToolError {
    fn from(e: procdeck_engine::Error) -> Self {
        ToolError(e.to_string())
    }
}

pub type ToolResult<T> = Result<T, ToolError>;

/// Runs engine work (files, processes, waits) off the async threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> ToolResult<T> + Send + 'static,
) -> ToolResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ToolError(format!("the operation did not complete: {e}")))?
}

pub struct Session {
    /// The folder given with `-w`; otherwise the client's first root, else the current folder.
    folder: Option<PathBuf>,
    stop_on_exit: bool,
    workspace: OnceCell<Arc<Workspace>>,
    seen: Mutex<Seen>,
    /// Processes this session started, in order.
    started: Mutex<Vec<String>>,
    /// The readiness each of them was started with, for `until: "ready"`.
    ready: Mutex<HashMap<String, ReadyWhen>>,
}

impl Session {
    pub fn new(folder: Option<PathBuf>, stop_on_exit: bool) -> Session {
        Session {
            folder,
            stop_on_exit,
            workspace: OnceCell::new(),
            seen: Mutex::new(Seen::default()),
            started: Mutex::new(Vec::new()),
            ready: Mutex::new(HashMap::new()),
        }
    }

    /// The workspace, opened at the first call that needs it (the client's roots are known only
    /// once it has initialized). Processes that ended before it was opened are no events.
    pub async fn workspace(&self, peer: &Peer<RoleServer>) -> ToolResult<Arc<Workspace>> {
        self.workspace
            .get_or_try_init(|| async {
                let folder = match &self.folder {
                    Some(folder) => folder.clone(),
                    None => match first_root(peer).await {
                        Some(root) => root,
                        None => std::env::current_dir().map_err(|e| {
                            ToolError(format!("cannot read the current folder: {e}"))
                        })?,
                    },
                };
                let (ws, records) = blocking(move || {
                    let (ws, report) = Workspace::open(&folder, Settings::default())?;
                    for warning in report.warnings {
                        tracing::warn!("{warning}");
                    }
                    let records = ws.list()?;
                    Ok((ws, records))
                })
                .await?;
                tracing::info!(folder = %ws.folder().display(), "workspace opened");
                if let Ok(mut seen) = self.seen.lock() {
                    *seen = Seen::new(&records);
                }
                Ok(Arc::new(ws))
            })
            .await
            .cloned()
    }

    /// The client's name from its `initialize`, for the records it starts.
    pub fn client_name(peer: &Peer<RoleServer>) -> String {
        peer.peer_info()
            .map(|info| info.client_info.name.clone())
            .unwrap_or_default()
    }

    pub fn remember_start(&self, id: &str, ready: Option<ReadyWhen>) {
        if let Ok(mut started) = self.started.lock() {
            if !started.iter().any(|s| s == id) {
                started.push(id.to_owned());
            }
        }
        if let (Some(ready), Ok(mut all)) = (ready, self.ready.lock()) {
            all.insert(id.to_owned(), ready);
        }
    }

    pub fn started_here(&self, id: &str) -> bool {
        self.started
            .lock()
            .is_ok_and(|started| started.iter().any(|s| s == id))
    }

    pub fn ready_of(&self, id: &str) -> Option<ReadyWhen> {
        self.ready.lock().ok()?.get(id).cloned()
    }

    /// Processes of the workspace that ended since the previous call, but `subjects`. A failure
    /// to work them out is logged and leaves the list empty: it never fails the call.
    pub async fn events(&self, ws: &Arc<Workspace>, subjects: &[&str]) -> Vec<EventOut> {
        let subjects: HashSet<String> = subjects.iter().map(|s| (*s).to_owned()).collect();
        let listed = {
            let ws = ws.clone();
            blocking(move || Ok(ws.list()?)).await
        };
        let records = match listed {
            Ok(records) => records,
            Err(ToolError(e)) => {
                tracing::warn!("events: listing the workspace failed: {e}");
                return Vec::new();
            }
        };
        let ended: Vec<_> = match self.seen.lock() {
            Ok(mut seen) => seen
                .ended_since(&records, &subjects)
                .into_iter()
                .cloned()
                .collect(),
            Err(_) => return Vec::new(),
        };
        let ws = ws.clone();
        blocking(move || {
            Ok(ended
                .into_iter()
                .map(|r| EventOut {
                    last_lines: tail(&ws, &r.id, EVENT_LINES, EVENT_BYTES),
                    id: r.id,
                    title: r.title,
                    status: r.status.as_str().to_owned(),
                    exit_code: r.exit_code,
                })
                .collect())
        })
        .await
        .unwrap_or_default()
    }

    /// With `--stop-on-exit`: stops what this session started and still runs, side by side.
    pub fn stop_started(&self) {
        let Some(ws) = self.workspace.get() else {
            return;
        };
        if !self.stop_on_exit {
            return;
        }
        let ids = self.started.lock().map(|s| s.clone()).unwrap_or_default();
        std::thread::scope(|s| {
            for id in &ids {
                s.spawn(move || match ws.stop(id, StopRequest::default()) {
                    Ok(r) => tracing::info!(id, status = r.status.as_str(), "stopped on exit"),
                    Err(e) => tracing::warn!(id, "stopping on exit failed: {e}"),
                });
            }
        });
    }
}

/// The last `lines` lines of a process's output, at most `max` bytes, cleaned for an agent. A
/// read that fails says so in the text rather than failing the call it is part of.
pub fn tail(ws: &Workspace, id: &str, lines: u32, max: usize) -> String {
    let req = ReadRequest {
        lines: Some(lines),
        max_bytes: Some(max as u64),
        ..ReadRequest::new(ReadMethod::Tail)
    };
    match ws.read(id, &req) {
        Ok(read) => text::last_bytes(&text::clean(&read.content, true), max).to_owned(),
        Err(e) => format!("(output unreadable: {e})"),
    }
}

/// The folder of the client's first root, when it offers roots and answers in time. Roots are
/// part of the protocol revisions this server speaks (those with `initialize`), whatever later
/// revisions replace them with.
#[allow(deprecated)]
async fn first_root(peer: &Peer<RoleServer>) -> Option<PathBuf> {
    let offers = peer
        .peer_info()
        .is_some_and(|info| info.capabilities.roots.is_some());
    if !offers {
        return None;
    }
    let roots = match tokio::time::timeout(ROOTS_TIMEOUT, peer.list_roots()).await {
        Ok(Ok(result)) => result.roots,
        Ok(Err(e)) => {
            tracing::warn!("roots/list failed: {e}");
            return None;
        }
        Err(_) => {
            tracing::warn!("roots/list got no answer in {ROOTS_TIMEOUT:?}");
            return None;
        }
    };
    let root = roots.first()?;
    match url::Url::parse(&root.uri)
        .ok()
        .and_then(|u| u.to_file_path().ok())
    {
        Some(path) => Some(path),
        None => {
            tracing::warn!(
                uri = root.uri,
                "the client's first root is not a local folder"
            );
            None
        }
    }
}
