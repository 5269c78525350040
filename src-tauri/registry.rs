//! The open workspaces: the folders the user added, each with its engine workspace, a store
//! watcher, and a thread forwarding its events to the window.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use procdeck_engine::{Event, Settings, StoreWatcher, Workspace};
use tokio::sync::broadcast::error::RecvError;

use crate::config::Config;
use crate::dto::{ProcessEvent, WorkspaceInfo};
use crate::error::{AppError, AppResult};

/// Where the registry sends what the window must hear (the app emits Tauri events; tests record).
pub trait Notify: Send + Sync {
    fn process(&self, event: ProcessEvent);
    fn workspaces(&self, list: Vec<WorkspaceInfo>);
}

struct Entry {
    path: PathBuf,
    open: Option<Opened>,
}

struct Opened {
    ws: Arc<Workspace>,
    _watcher: StoreWatcher,
}

pub struct Registry {
    settings: Settings,
    config_path: PathBuf,
    config: Mutex<Config>,
    entries: Mutex<Vec<Entry>>,
    notify: Arc<dyn Notify>,
    me: Weak<Registry>,
}

impl Registry {
    pub fn new(settings: Settings, config_path: PathBuf, notify: Arc<dyn Notify>) -> Arc<Registry> {
        let config = Config::load(&config_path);
        let entries = config
            .workspaces
            .iter()
            .map(|p| Entry {
                path: p.clone(),
                open: None,
            })
            .collect();
        Arc::new_cyclic(|me| Registry {
            settings,
            config_path,
            config: Mutex::new(config),
            entries: Mutex::new(entries),
            notify,
            me: me.clone(),
        })
    }

    fn entries(&self) -> AppResult<std::sync::MutexGuard<'_, Vec<Entry>>> {
        self.entries
            .lock()
            .map_err(|_| AppError::internal("workspace list lock poisoned"))
    }

    fn save_config(&self, change: impl FnOnce(&mut Config)) -> AppResult<()> {
        let mut config = self
            .config
            .lock()
            .map_err(|_| AppError::internal("config lock poisoned"))?;
        change(&mut config);
        config.save(&self.config_path).map_err(|e| {
            AppError::workspace(format!("cannot save {}: {e}", self.config_path.display()))
        })
    }

    /// Opens every remembered folder that exists (missing ones stay listed as missing).
    pub fn open_all(&self) {
        let paths: Vec<PathBuf> = self
            .entries()
            .map(|e| e.iter().map(|e| e.path.clone()).collect())
            .unwrap_or_default();
        for path in paths {
            if let Err(e) = self.ensure_open(&path) {
                tracing::warn!("cannot open workspace {}: {}", path.display(), e.message);
            }
        }
    }

    /// Adds a folder (or returns it when already added) and opens it.
    pub fn add(&self, path: &Path) -> AppResult<WorkspaceInfo> {
        let (ws, _) = Workspace::open(path, self.settings.clone())?;
        let canonical = ws.folder().to_owned();
        drop(ws);
        {
            let mut entries = self.entries()?;
            if !entries.iter().any(|e| e.path == canonical) {
                entries.push(Entry {
                    path: canonical.clone(),
                    open: None,
                });
            }
        }
        self.save_config(|c| {
            if !c.workspaces.contains(&canonical) {
                c.workspaces.push(canonical.clone());
            }
        })?;
        let ws = self.ensure_open(&canonical)?;
        self.announce();
        Ok(info_of(&canonical, Some(&ws)))
    }

    fn ensure_open(&self, path: &Path) -> AppResult<Arc<Workspace>> {
        let mut entries = self.entries()?;
        let entry = entries.iter_mut().find(|e| e.path == path).ok_or_else(|| {
            AppError::workspace(format!("{} is not an added workspace", path.display()))
        })?;
        if let Some(open) = &entry.open {
            if path.is_dir() {
                return Ok(open.ws.clone());
            }
            entry.open = None;
        }
        let (ws, report) = Workspace::open(path, self.settings.clone())?;
        for w in report.warnings {
            tracing::warn!("{w}");
        }
        let ws = Arc::new(ws);
        let watcher = ws.watch()?;
        self.forward(&ws);
        entry.open = Some(Opened {
            ws: ws.clone(),
            _watcher: watcher,
        });
        Ok(ws)
    }

    /// Relays the workspace's events to the window; when running counts change, the workspace
    /// list too. A receiver that fell behind gets every record again rather than missing one.
    fn forward(&self, ws: &Arc<Workspace>) {
        let mut rx = ws.subscribe();
        let weak_ws = Arc::downgrade(ws);
        let registry = self.me.clone();
        let notify = self.notify.clone();
        let workspace_id = ws.id().to_owned();
        let mut running: HashMap<String, bool> = ws
            .list()
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.id.clone(), r.status.is_running()))
            .collect();
        let spawned = std::thread::Builder::new()
            .name("procdeck-events".into())
            .spawn(move || loop {
                let events = match rx.blocking_recv() {
                    Ok(event) => vec![event],
                    Err(RecvError::Closed) => return,
                    Err(RecvError::Lagged(_)) => match weak_ws.upgrade().map(|ws| ws.list()) {
                        Some(Ok(records)) => records
                            .into_iter()
                            .map(|record| Event::Updated {
                                record: Box::new(record),
                            })
                            .collect(),
                        _ => Vec::new(),
                    },
                };
                let mut counts_changed = false;
                for event in events {
                    match &event {
                        Event::Updated { record } => {
                            let now = record.status.is_running();
                            counts_changed |= running.insert(record.id.clone(), now) != Some(now);
                        }
                        Event::Removed { id, .. } => counts_changed |= running.remove(id).is_some(),
                    }
                    notify.process(ProcessEvent {
                        workspace_id: workspace_id.clone(),
                        event,
                    });
                }
                if counts_changed {
                    if let Some(r) = registry.upgrade() {
                        r.announce();
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the event thread: {e}");
        }
    }

    pub fn announce(&self) {
        if let Ok(list) = self.list() {
            self.notify.workspaces(list);
        }
    }

    pub fn list(&self) -> AppResult<Vec<WorkspaceInfo>> {
        let paths: Vec<PathBuf> = self.entries()?.iter().map(|e| e.path.clone()).collect();
        Ok(paths
            .into_iter()
            .map(|path| match self.ensure_open(&path) {
                Ok(ws) => info_of(&path, Some(&ws)),
                Err(_) => info_of(&path, None),
            })
            .collect())
    }

    /// Every open workspace with its processes.
    pub fn snapshot(&self) -> Vec<(WorkspaceInfo, Vec<procdeck_engine::ProcessRecord>)> {
        let open: Vec<(PathBuf, Arc<Workspace>)> = match self.entries() {
            Ok(entries) => entries
                .iter()
                .filter_map(|e| e.open.as_ref().map(|o| (e.path.clone(), o.ws.clone())))
                .collect(),
            Err(_) => return Vec::new(),
        };
        open.into_iter()
            .filter_map(|(path, ws)| {
                ws.list()
                    .ok()
                    .map(|records| (info_of(&path, Some(&ws)), records))
            })
            .collect()
    }

    /// Stops every running process of every workspace, in parallel.
    pub fn stop_all(&self) -> AppResult<()> {
        let open: Vec<Arc<Workspace>> = self
            .entries()?
            .iter()
            .filter_map(|e| e.open.as_ref().map(|o| o.ws.clone()))
            .collect();
        let results: Vec<AppResult<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = open
                .iter()
                .map(|ws| s.spawn(move || ws.close().map(|_| ())))
                .collect();
            handles
                .into_iter()
                .map(|h| match h.join() {
                    Ok(r) => r.map_err(AppError::from),
                    Err(_) => Err(AppError::internal("a stop thread panicked")),
                })
                .collect()
        });
        results.into_iter().collect()
    }

    /// The open workspace with this id.
    pub fn get(&self, workspace_id: &str) -> AppResult<Arc<Workspace>> {
        let entries = self.entries()?;
        for e in entries.iter() {
            if let Some(open) = &e.open {
                if open.ws.id() == workspace_id {
                    open.ws.check_present()?;
                    return Ok(open.ws.clone());
                }
            }
        }
        Err(AppError::workspace(format!(
            "no open workspace with id {workspace_id}"
        )))
    }

    pub fn remember_command(&self, ws: &Workspace, command: &str) -> AppResult<()> {
        self.save_config(|c| c.remember_command(ws.folder(), command))
    }

    pub fn recent_commands(&self, ws: &Workspace) -> Vec<String> {
        self.config
            .lock()
            .map(|c| c.recent(ws.folder()))
            .unwrap_or_default()
    }

    /// Stops the workspace's processes (as `close` does), forgets the folder, and with
    /// `delete_history` removes its `.procdeck` folder too.
    pub fn remove(&self, workspace_id: &str, delete_history: bool) -> AppResult<()> {
        let (path, ws) = {
            let entries = self.entries()?;
            let found = entries.iter().find(|e| {
                e.open.as_ref().is_some_and(|o| o.ws.id() == workspace_id)
                    || format!("missing:{}", e.path.display()) == workspace_id
            });
            match found {
                Some(e) => (e.path.clone(), e.open.as_ref().map(|o| o.ws.clone())),
                None => {
                    return Err(AppError::workspace(format!(
                        "no workspace with id {workspace_id}"
                    )))
                }
            }
        };
        if let Some(ws) = &ws {
            if ws.check_present().is_ok() {
                ws.close()?;
            }
        }
        self.entries()?.retain(|e| e.path != path);
        self.save_config(|c| {
            c.workspaces.retain(|p| p != &path);
            c.recent_commands.remove(&*path.to_string_lossy());
        })?;
        if delete_history {
            let store = path.join(".procdeck");
            if let Err(e) = std::fs::remove_dir_all(&store) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(AppError::workspace(format!(
                        "cannot delete {}: {e}",
                        store.display()
                    )));
                }
            }
        }
        self.announce();
        Ok(())
    }
}

fn info_of(path: &Path, ws: Option<&Arc<Workspace>>) -> WorkspaceInfo {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let records = ws.and_then(|ws| ws.list().ok());
    let missing = !path.is_dir() || records.is_none();
    WorkspaceInfo {
        id: match (ws, missing) {
            (Some(ws), false) => ws.id().to_owned(),
            _ => format!("missing:{}", path.display()),
        },
        path: path.display().to_string(),
        name,
        missing,
        running: records.as_ref().map_or(0, |r| {
            r.iter().filter(|r| r.status.is_running()).count() as u32
        }),
        total: records.as_ref().map_or(0, |r| r.len() as u32),
    }
}
