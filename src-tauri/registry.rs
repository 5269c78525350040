//! The open workspaces: the folders the user added, each with its engine workspace, a store
//! watcher, and a thread forwarding its events to the window.
//!
//! A workspace is known by its canonical folder path (its key), never by the id in its store:
//! a copied folder or two clones of a repository that ships its store carry the same id, and
//! commands must still reach the folder the window named.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, Weak};

use procdeck_engine::store::STORE_DIR;
use procdeck_engine::{
    Event, ProcessRecord, Settings, StoreWatcher, Usage, UsageSampler, Workspace,
};
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
    /// The previous sample of each process's CPU counters, so that the window's next
    /// [`Registry::usage`] gives a rate.
    usage: Arc<Mutex<UsageSampler>>,
    _watcher: StoreWatcher,
}

pub struct Registry {
    settings: Settings,
    config_path: PathBuf,
    config: Mutex<Config>,
    entries: Mutex<Vec<Entry>>,
    /// Running processes per workspace, kept from its events, so that the count is known
    /// without reading any store (the window's close request asks for it on the main thread).
    running: Mutex<HashMap<PathBuf, usize>>,
    /// Set once the remembered folders and those given at launch are added.
    started: (Mutex<bool>, Condvar),
    /// The key of the last folder given at launch, until the window takes it to show it.
    requested: Mutex<Option<String>>,
    notify: Arc<dyn Notify>,
    me: Weak<Registry>,
}

/// The key of the workspace at `canonical`: what the window, events and records name it by.
/// Paths are UTF-8 here ([`Registry::add`] refuses others), so the key is exact.
pub fn key_of(canonical: &Path) -> String {
    canonical.to_string_lossy().into_owned()
}

/// `record` as the window sees it: carrying the key of the workspace it was read from, whatever
/// workspace id the store recorded.
pub fn keyed(mut record: ProcessRecord, key: &str) -> ProcessRecord {
    key.clone_into(&mut record.workspace_id);
    record
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
            running: Mutex::new(HashMap::new()),
            started: (Mutex::new(false), Condvar::new()),
            requested: Mutex::new(None),
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

    /// Opens every remembered folder that exists (missing ones stay listed as missing), adds
    /// `folders`, then lets [`Registry::list`] answer. Meant for a background thread: opening
    /// a store reads and may repair it.
    pub fn start_up(&self, folders: &[PathBuf]) {
        // Even a start-up that panics must not leave the window's list waiting forever.
        let _started = MarkStarted(self);
        let paths: Vec<PathBuf> = self
            .entries()
            .map(|e| e.iter().map(|e| e.path.clone()).collect())
            .unwrap_or_default();
        for path in paths {
            if let Err(e) = self.ensure_open(&path) {
                tracing::warn!("cannot open workspace {}: {}", path.display(), e.message);
            }
        }
        for folder in folders {
            match self.add(folder) {
                Ok(info) => {
                    if let Ok(mut requested) = self.requested.lock() {
                        *requested = Some(info.id);
                    }
                }
                Err(e) => tracing::warn!("cannot add {}: {}", folder.display(), e.message),
            }
        }
    }

    /// The workspace of the last folder given at launch, once: the window shows it first,
    /// rather than the one it showed last.
    pub fn take_requested(&self) -> Option<String> {
        self.wait_started();
        self.requested.lock().ok()?.take()
    }

    fn wait_started(&self) {
        let (done, ready) = &self.started;
        if let Ok(done) = done.lock() {
            // Poisoned only by a panic elsewhere while flagging: then list what there is.
            drop(ready.wait_while(done, |done| !*done));
        }
    }

    /// Adds a folder (or returns it when already added) and opens it.
    pub fn add(&self, path: &Path) -> AppResult<WorkspaceInfo> {
        let (ws, _) = Workspace::open(path, self.settings.clone())?;
        let canonical = ws.folder().to_owned();
        drop(ws);
        if canonical.to_str().is_none() {
            return Err(AppError::workspace(format!(
                "{} cannot be added: Procdeck needs folder paths that are valid UTF-8",
                canonical.display()
            )));
        }
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
        self.forward(path, &ws);
        // The first listing reconciles the store; what it repaired or refused is said here.
        for w in ws.take_warnings() {
            tracing::warn!("{w}");
        }
        entry.open = Some(Opened {
            ws: ws.clone(),
            usage: Arc::default(),
            _watcher: watcher,
        });
        Ok(ws)
    }

    fn set_running(&self, path: &Path, count: usize) {
        if let Ok(mut running) = self.running.lock() {
            running.insert(path.to_owned(), count);
        }
    }

    /// Like [`Registry::set_running`], unless the workspace was removed meanwhile: checked and
    /// set under the workspace list's lock, as [`Registry::remove`] drops both.
    fn set_running_if_added(&self, path: &Path, count: usize) {
        if let Ok(entries) = self.entries() {
            if entries.iter().any(|e| e.path == path) {
                self.set_running(path, count);
            }
        }
    }

    /// How many processes run in all workspaces, as their events last said. Reads no store.
    pub fn running_total(&self) -> usize {
        self.running.lock().map_or(0, |r| r.values().sum())
    }

    /// Relays the workspace's events to the window, named by the workspace's key; when running
    /// counts change, the workspace list too. A receiver that fell behind gets every record
    /// again rather than missing one.
    fn forward(&self, path: &Path, ws: &Arc<Workspace>) {
        let mut rx = ws.subscribe();
        let weak_ws = Arc::downgrade(ws);
        let registry = self.me.clone();
        let notify = self.notify.clone();
        let path = path.to_owned();
        let key = key_of(&path);
        let mut running: HashMap<String, bool> = ws
            .list()
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.id.clone(), r.status.is_running()))
            .collect();
        self.set_running(&path, running.values().filter(|r| **r).count());
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
                    let event = match event {
                        Event::Updated { record } => {
                            let now = record.status.is_running();
                            counts_changed |= running.insert(record.id.clone(), now) != Some(now);
                            Event::Updated {
                                record: Box::new(keyed(*record, &key)),
                            }
                        }
                        Event::Removed { id, .. } => {
                            counts_changed |= running.remove(&id).is_some();
                            Event::Removed {
                                id,
                                workspace_id: key.clone(),
                            }
                        }
                    };
                    notify.process(ProcessEvent {
                        workspace_id: key.clone(),
                        event,
                    });
                }
                if counts_changed {
                    if let Some(r) = registry.upgrade() {
                        r.set_running_if_added(&path, running.values().filter(|r| **r).count());
                        r.announce();
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the event thread: {e}");
        }
    }

    /// Sends the window the workspace list as it is now.
    pub fn announce(&self) {
        if let Ok(list) = self.list_now() {
            self.notify.workspaces(list);
        }
    }

    /// Every added workspace, once the start-up opening is done.
    pub fn list(&self) -> AppResult<Vec<WorkspaceInfo>> {
        self.wait_started();
        self.list_now()
    }

    fn list_now(&self) -> AppResult<Vec<WorkspaceInfo>> {
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
    pub fn snapshot(&self) -> Vec<(WorkspaceInfo, Vec<ProcessRecord>)> {
        let open: Vec<(PathBuf, Arc<Workspace>)> = match self.entries() {
            Ok(entries) => entries
                .iter()
                .filter_map(|e| e.open.as_ref().map(|o| (e.path.clone(), o.ws.clone())))
                .collect(),
            Err(_) => return Vec::new(),
        };
        open.into_iter()
            .filter_map(|(path, ws)| {
                let key = key_of(&path);
                ws.list().ok().map(|records| {
                    let records = records.into_iter().map(|r| keyed(r, &key)).collect();
                    (info_of(&path, Some(&ws)), records)
                })
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

    /// The added folder whose key is `key`.
    fn path_of(&self, key: &str) -> AppResult<PathBuf> {
        self.entries()?
            .iter()
            .find(|e| key_of(&e.path) == key)
            .map(|e| e.path.clone())
            .ok_or_else(|| AppError::workspace(format!("no workspace {key}")))
    }

    /// The workspace whose key is `key`, opened if it was not (a folder that came back).
    pub fn get(&self, key: &str) -> AppResult<Arc<Workspace>> {
        let path = self.path_of(key)?;
        let ws = self.ensure_open(&path)?;
        ws.check_present()?;
        Ok(ws)
    }

    /// What the running processes `ids` of the workspace `key` cost: CPU since the previous
    /// call for the same processes, memory now.
    pub fn usage(&self, key: &str, ids: &[String]) -> AppResult<BTreeMap<String, Usage>> {
        let ws = self.get(key)?;
        let sampler = self
            .entries()?
            .iter()
            .find_map(|e| e.open.as_ref().filter(|o| Arc::ptr_eq(&o.ws, &ws)))
            .map(|o| o.usage.clone())
            .ok_or_else(|| AppError::workspace(format!("no workspace {key}")))?;
        let mut sampler = sampler
            .lock()
            .map_err(|_| AppError::internal("usage sampler lock poisoned"))?;
        Ok(ws.usage(&mut sampler, ids)?)
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

    /// Stops the workspace's processes, forgets the folder, and with `delete_history` removes
    /// that folder's store too.
    pub fn remove(&self, key: &str, delete_history: bool) -> AppResult<()> {
        let path = self.path_of(key)?;
        let ws = self
            .entries()?
            .iter()
            .find(|e| e.path == path)
            .and_then(|e| e.open.as_ref().map(|o| o.ws.clone()));
        if let Some(ws) = &ws {
            if ws.check_present().is_ok() {
                ws.close()?;
            }
        }
        {
            let mut entries = self.entries()?;
            entries.retain(|e| e.path != path);
            if let Ok(mut running) = self.running.lock() {
                running.remove(&path);
            }
        }
        self.save_config(|c| {
            c.workspaces.retain(|p| p != &path);
            c.recent_commands.remove(&*path.to_string_lossy());
        })?;
        if delete_history {
            // The store folder itself is removed, never what a link there points to.
            let store = path.join(STORE_DIR);
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

/// Flags the start-up done when dropped, and tells the window the list.
struct MarkStarted<'a>(&'a Registry);

impl Drop for MarkStarted<'_> {
    fn drop(&mut self) {
        let (done, ready) = &self.0.started;
        if let Ok(mut done) = done.lock() {
            *done = true;
        }
        ready.notify_all();
        self.0.announce();
    }
}

fn info_of(path: &Path, ws: Option<&Arc<Workspace>>) -> WorkspaceInfo {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let records = ws.and_then(|ws| ws.list().ok());
    let missing = !path.is_dir() || records.is_none();
    let (running, total) = records
        .as_deref()
        .map_or((0, 0), procdeck_engine::runs::service_counts);
    WorkspaceInfo {
        id: key_of(path),
        path: path.display().to_string(),
        name,
        missing,
        running: u32::try_from(running).unwrap_or(u32::MAX),
        total: u32::try_from(total).unwrap_or(u32::MAX),
        stack: procdeck_engine::stack::file_of(path).is_some(),
    }
}
