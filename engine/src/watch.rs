//! Watching a workspace's store so that a front hears of every change, whoever made it: the
//! app's own operations, a CLI in a terminal, or a shim recording an exit. Output growth is
//! announced at most once a second per process.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use crate::error::{Error, Result};
use crate::events::Event;
use crate::id;
use crate::output::{OutputMeta, OUTPUT_FILE, OUTPUT_META_FILE};
use crate::record::ProcessRecord;
use crate::store::Store;
use crate::workspace::Workspace;

const SIZE_INTERVAL: Duration = Duration::from_secs(1);
/// How often running processes' shims are checked for a death that left no file behind.
const LIVENESS_INTERVAL: Duration = Duration::from_secs(1);

enum Msg {
    Paths(Vec<std::path::PathBuf>),
    Quit,
}

/// Runs until dropped.
pub struct StoreWatcher {
    tx: mpsc::Sender<Msg>,
    quit: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for StoreWatcher {
    fn drop(&mut self) {
        self.quit.store(true, Ordering::Relaxed);
        let _ = self.tx.send(Msg::Quit);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The folders watched: the store, `processes/` and each real process folder, each on its own
/// (never recursively). A recursive watch would descend into whatever the store holds, and a
/// store can be shipped with `processes/x -> /`.
struct Watches {
    watcher: RecommendedWatcher,
    processes: PathBuf,
    ids: HashSet<String>,
}

impl Watches {
    fn new(watcher: RecommendedWatcher, store: &Store) -> Result<Watches> {
        let mut watches = Watches {
            watcher,
            processes: store.processes_dir(),
            ids: HashSet::new(),
        };
        for dir in [store.dir(), watches.processes.as_path()] {
            watches
                .watcher
                .watch(dir, RecursiveMode::NonRecursive)
                .map_err(|e| Error::Watch(format!("{}: {e}", dir.display())))?;
        }
        watches.follow(store);
        Ok(watches)
    }

    /// Watches the process folders that appeared and forgets those that went away.
    fn follow(&mut self, store: &Store) {
        let Ok(now) = store.process_ids() else {
            return;
        };
        let now: HashSet<String> = now.into_iter().collect();
        for gone in self.ids.difference(&now) {
            let _ = self.watcher.unwatch(&self.processes.join(gone));
        }
        self.ids.retain(|id| now.contains(id));
        for id in now {
            if self.ids.contains(&id) {
                continue;
            }
            let dir = self.processes.join(&id);
            match self.watcher.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.ids.insert(id);
                }
                Err(e) => tracing::warn!("cannot watch {}: {e}", dir.display()),
            }
        }
    }
}

impl Workspace {
    /// Starts watching the store; events go to [`Workspace::subscribe`]rs.
    pub fn watch(self: &Arc<Self>) -> Result<StoreWatcher> {
        let (tx, rx) = mpsc::channel();
        let fs_tx = tx.clone();
        let watcher = RecommendedWatcher::new(
            move |res: notify::Result<notify::Event>| {
                // Opening and reading a file is not a change; the sync itself opens index.json,
                // so counting those would make every sync trigger the next one.
                match res {
                    Ok(event) if !event.kind.is_access() => {
                        let _ = fs_tx.send(Msg::Paths(event.paths));
                    }
                    _ => {}
                }
            },
            notify::Config::default().with_follow_symlinks(false),
        )
        .map_err(|e| Error::Watch(e.to_string()))?;
        let mut watches = Watches::new(watcher, &self.store)?;
        let quit = Arc::new(AtomicBool::new(false));
        let ws = Arc::clone(self);
        let quit_flag = Arc::clone(&quit);
        let thread = std::thread::Builder::new()
            .name("procdeck-watch".into())
            .spawn(move || watch_loop(&ws, &mut watches, &rx, &quit_flag))
            .map_err(|e| Error::Watch(e.to_string()))?;
        Ok(StoreWatcher {
            tx,
            quit,
            thread: Some(thread),
        })
    }

    /// Re-reads the store and announces every difference from what was last announced.
    pub fn sync(&self) -> Result<()> {
        self.resync(true).map(|_| ())
    }

    /// [`Workspace::sync`]; with `sizes` false a record whose output size alone changed is not
    /// announced but returned, so that the watcher's once-a-second limit applies to it (the
    /// watcher re-reads the store every second while anything runs, and a size announced there
    /// as well would double the rate).
    fn resync(&self, sizes: bool) -> Result<Vec<String>> {
        let records = self.store.list()?;
        let mut grown = Vec::new();
        if sizes {
            self.publish(&records);
        } else {
            let changed: Vec<ProcessRecord> = match self.published.lock() {
                Ok(published) => records
                    .iter()
                    .filter(|r| match published.get(&r.id) {
                        Some(p) if same_but_sizes(p, r) => {
                            if p != *r {
                                grown.push(r.id.clone());
                            }
                            false
                        }
                        _ => true,
                    })
                    .cloned()
                    .collect(),
                Err(_) => records.clone(),
            };
            self.publish(&changed);
        }
        let present: HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
        let gone: Vec<String> = match self.published.lock() {
            Ok(mut published) => {
                let gone: Vec<String> = published
                    .keys()
                    .filter(|id| !present.contains(id.as_str()))
                    .cloned()
                    .collect();
                for id in &gone {
                    published.remove(id);
                }
                gone
            }
            Err(_) => Vec::new(),
        };
        for id in gone {
            let _ = self.events.send(Event::Removed {
                id,
                workspace_id: self.id().to_owned(),
            });
        }
        Ok(grown)
    }

    /// Announces a new output size for `id` without touching the index.
    fn publish_size(&self, id: &str) {
        let Ok(dir) = self.process_dir(id) else {
            return;
        };
        let size = std::fs::metadata(dir.join(OUTPUT_FILE))
            .map(|m| m.len())
            .unwrap_or(0);
        let dropped = OutputMeta::load(&dir).kept_from;
        let record = match self.published.lock() {
            Ok(published) => published.get(id).cloned(),
            Err(_) => None,
        };
        if let Some(mut record) = record {
            record.output_size_bytes = size;
            record.dropped_bytes = dropped;
            self.publish(std::slice::from_ref(&record));
        }
    }

    fn any_running(&self) -> bool {
        self.published
            .lock()
            .map(|p| p.values().any(|r| r.status.is_running()))
            .unwrap_or(false)
    }
}

fn watch_loop(ws: &Workspace, watches: &mut Watches, rx: &mpsc::Receiver<Msg>, quit: &AtomicBool) {
    let processes = ws.store.processes_dir();
    let mut pending: HashSet<String> = HashSet::new();
    let mut last_size: HashMap<String, Instant> = HashMap::new();
    let mut last_liveness = Instant::now();
    while !quit.load(Ordering::Relaxed) {
        let mut resync = false;
        let wait = next_wake(&pending, &last_size, last_liveness);
        let first = match rx.recv_timeout(wait) {
            Ok(msg) => Some(msg),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        // Take everything already queued, so a burst of events costs one pass.
        for msg in first
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()))
        {
            match msg {
                Msg::Quit => return,
                Msg::Paths(paths) => {
                    for path in paths {
                        match classify(&processes, &path) {
                            Change::Output(id) => {
                                pending.insert(id);
                            }
                            Change::Store => resync = true,
                            Change::Ignored => {}
                        }
                    }
                }
            }
        }
        if !resync && last_liveness.elapsed() >= LIVENESS_INTERVAL && ws.any_running() {
            resync = true;
        }
        if resync {
            last_liveness = Instant::now();
            watches.follow(&ws.store);
            match ws.resync(false) {
                Ok(grown) => pending.extend(grown),
                Err(e) => tracing::warn!("could not re-read the workspace: {e}"),
            }
        }
        let now = Instant::now();
        let due: Vec<String> = pending
            .iter()
            .filter(|id| {
                last_size
                    .get(*id)
                    .is_none_or(|t| now.duration_since(*t) >= SIZE_INTERVAL)
            })
            .cloned()
            .collect();
        for id in due {
            pending.remove(&id);
            ws.publish_size(&id);
            last_size.insert(id, now);
        }
    }
}

/// True when the two differ at most in their output sizes.
fn same_but_sizes(a: &ProcessRecord, b: &ProcessRecord) -> bool {
    let mut b = b.clone();
    b.output_size_bytes = a.output_size_bytes;
    b.dropped_bytes = a.dropped_bytes;
    *a == b
}

fn next_wake(
    pending: &HashSet<String>,
    last_size: &HashMap<String, Instant>,
    last_liveness: Instant,
) -> Duration {
    let now = Instant::now();
    let mut wait = LIVENESS_INTERVAL.saturating_sub(now.duration_since(last_liveness));
    for id in pending {
        let due = last_size.get(id).map_or(Duration::ZERO, |t| {
            SIZE_INTERVAL.saturating_sub(now.duration_since(*t))
        });
        wait = wait.min(due);
    }
    wait.max(Duration::from_millis(1))
}

enum Change {
    Output(String),
    Store,
    Ignored,
}

fn classify(processes: &Path, path: &Path) -> Change {
    let Ok(rel) = path.strip_prefix(processes) else {
        // Outside processes/: the index (or its temp file) changed.
        return match path.file_name().and_then(|n| n.to_str()) {
            Some("index.json") => Change::Store,
            _ => Change::Ignored,
        };
    };
    let parts: Vec<&str> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    match parts.as_slice() {
        [id] if id::is_valid(id) => Change::Store,
        [id, file] if id::is_valid(id) => match *file {
            OUTPUT_FILE | OUTPUT_META_FILE => Change::Output((*id).to_owned()),
            "exit.json" | "shim.json" => Change::Store,
            _ => Change::Ignored,
        },
        _ => Change::Ignored,
    }
}
