//! A workspace: one project folder and its processes. Every operation of the fronts is a method
//! here; each one re-reads the store, so several processes (the app, any number of CLIs) can act
//! on one workspace at once.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use crate::error::{Error, IoContext, Result};
use crate::events::Event;
use crate::origin::Trust;
use crate::output::{
    self, GrepResult, LineChunk, OutputSource, ReadMethod, ReadRequest, ReadResult, SinceChunk,
};
use crate::procdir::{self, Spec, StopFile};
use crate::record::{ProcessRecord, StartedBy};
use crate::settings::Settings;
use crate::store::{self, Store};
use crate::{atomic, id, platform, spawn};

/// How long a stop may take beyond its grace period before it is reported as stuck.
const STOP_SLACK: Duration = Duration::from_secs(5);
const EVENT_BUFFER: usize = 1024;
/// How long a start waits for a base environment still being worked out (the login shell).
const BASE_ENV_WAIT: Duration = Duration::from_secs(6);

#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    pub command: String,
    /// Defaults to the command.
    pub title: Option<String>,
    pub env: BTreeMap<String, String>,
    pub stop_grace: Option<Duration>,
    pub output_cap_bytes: Option<u64>,
    /// Where the command runs: a folder inside the workspace, relative to it or absolute.
    /// Defaults to the workspace folder.
    pub cwd: Option<PathBuf>,
    pub started_by: Option<StartedBy>,
}

impl StartRequest {
    pub fn new(command: impl Into<String>) -> Self {
        StartRequest {
            command: command.into(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct StopRequest {
    /// Overrides the process's grace period for this stop; zero kills at once.
    pub grace: Option<Duration>,
}

/// What opening a workspace found that the user should hear about.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    pub warnings: Vec<String>,
}

pub struct Workspace {
    pub(crate) store: Arc<Store>,
    settings: Settings,
    pub(crate) events: broadcast::Sender<Event>,
    /// The last state published for each record, so that an unchanged record is not announced
    /// twice (the watcher and the operation itself both see a change).
    pub(crate) published: Arc<Mutex<HashMap<String, ProcessRecord>>>,
}

impl Workspace {
    /// Opens the workspace at `folder`, creating its store. Opening takes no lock and reads no
    /// process folder, so that a read of one process never waits for a writer; the first
    /// [`Workspace::list`] reconciles the index with what the shims recorded.
    pub fn open(folder: &Path, settings: Settings) -> Result<(Workspace, OpenReport)> {
        let store = Store::open(folder, Trust::new(settings.key_file.clone()))?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let ws = Workspace {
            store: Arc::new(store),
            settings,
            events,
            published: Arc::new(Mutex::new(HashMap::new())),
        };
        let records = ws.store.saved_records();
        if let Ok(mut published) = ws.published.lock() {
            published.extend(records.into_iter().map(|r| (r.id.clone(), r)));
        }
        let report = OpenReport {
            warnings: ws.store.take_warnings(),
        };
        Ok((ws, report))
    }

    pub fn id(&self) -> &str {
        self.store.workspace_id()
    }

    pub fn folder(&self) -> &Path {
        self.store.root()
    }

    /// Fails with `MissingFolder` once the folder has been deleted or moved away.
    pub fn check_present(&self) -> Result<()> {
        self.store.check_present()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Warnings found since the last call (for example a damaged index that was rebuilt).
    pub fn take_warnings(&self) -> Vec<String> {
        self.store.take_warnings()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub fn start(&self, req: StartRequest) -> Result<ProcessRecord> {
        if req.command.trim().is_empty() {
            return Err(Error::EmptyCommand);
        }
        for (key, value) in &req.env {
            if !crate::shell::is_env_name(key) || value.contains('\0') {
                return Err(Error::InvalidEnv(format!("{key}={value}")));
            }
        }
        if req.command.contains('\0') {
            return Err(Error::Spawn("the command contains a NUL byte".into()));
        }
        self.store.check_present()?;
        let cwd = self.resolve_cwd(req.cwd.as_deref())?;
        let exe = spawn::shim_exe(self.settings.shim_exe.as_ref())?;
        let now = chrono::Utc::now();
        let (id, dir) = self.create_process_dir(now)?;
        let title = req
            .title
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| req.command.clone());
        let mut spec = Spec {
            id: id.clone(),
            workspace_id: self.id().to_owned(),
            title,
            command: req.command,
            cwd,
            env: req.env,
            started_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            stop_grace_ms: req
                .stop_grace
                .unwrap_or(self.settings.stop_grace)
                .as_millis() as u64,
            output_cap_bytes: req
                .output_cap_bytes
                .unwrap_or(self.settings.output_cap_bytes),
            started_by: req.started_by,
            tag: None,
        };
        spec.tag = self.store.trust().sign(&spec, self.store.root());
        let started = atomic::write_json(&dir.join(procdir::SPEC), &spec).and_then(|()| {
            spawn::start_shim(&exe, &dir, &self.settings.base_env.get(BASE_ENV_WAIT))
        });
        let shim = match started {
            Ok(shim) => shim,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let mut record = store::record_from(&spec, Some(&shim));
        let record = self.store.update(|records| {
            self.store.refresh(&mut record);
            records.retain(|r| r.id != record.id);
            records.push(record.clone());
            Ok(record)
        })?;
        tracing::info!(id = %record.id, pid = ?record.pid, "started");
        self.publish(std::slice::from_ref(&record));
        Ok(record)
    }

    /// The folder a command runs in: `cwd` resolved against the workspace folder, with every
    /// symlink followed, which must still be a folder inside the workspace.
    pub fn resolve_cwd(&self, cwd: Option<&Path>) -> Result<PathBuf> {
        let root = self.store.root();
        let Some(cwd) = cwd else {
            return Ok(root.to_owned());
        };
        let joined = root.join(cwd);
        let outside = || Error::CwdOutsideWorkspace {
            cwd: cwd.to_owned(),
            folder: root.to_owned(),
        };
        let real = match fs::canonicalize(&joined) {
            Ok(real) => real,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::MissingFolder(joined))
            }
            Err(e) => return Err(Error::io("resolving", &joined, e)),
        };
        if !real.starts_with(root) {
            return Err(outside());
        }
        if !real.is_dir() {
            return Err(Error::NotAFolder(real));
        }
        Ok(real)
    }

    fn create_process_dir(&self, now: chrono::DateTime<chrono::Utc>) -> Result<(String, PathBuf)> {
        let parent = self.store.processes_dir();
        fs::create_dir_all(&parent).ctx("creating", &parent)?;
        let mut last = None;
        for _ in 0..16 {
            let id = id::new_id(now);
            let dir = parent.join(&id);
            match fs::create_dir(&dir) {
                Ok(()) => return Ok((id, dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(Error::io("creating", &dir, e)),
            }
        }
        Err(Error::io(
            "creating a process folder in",
            &parent,
            last.unwrap_or_else(|| std::io::Error::other("too many id collisions")),
        ))
    }

    /// Every record, reconciled and with current output sizes, oldest first.
    pub fn list(&self) -> Result<Vec<ProcessRecord>> {
        let records = self.store.list()?;
        self.publish(&records);
        Ok(records)
    }

    /// One record, read without the store's lock (see [`Store::get`]); what it finds that the
    /// index lacks is published like a listing's.
    pub fn get(&self, id: &str) -> Result<ProcessRecord> {
        let record = self.store.get(id)?;
        self.publish(std::slice::from_ref(&record));
        Ok(record)
    }

    /// Stops the whole tree (SIGTERM, then SIGKILL after the grace period) and returns the record
    /// once the shim has reaped everything. Stopping a finished process returns its record.
    pub fn stop(&self, id: &str, req: StopRequest) -> Result<ProcessRecord> {
        let record = self.get(id)?;
        let (Some(sup), true) = (record.supervisor.clone(), record.status.is_running()) else {
            return Ok(record);
        };
        let dir = self.store.process_dir(id)?;
        let grace = req
            .grace
            .unwrap_or(Duration::from_millis(record.stop_grace_ms));
        atomic::write_json(
            &dir.join(procdir::STOP),
            &StopFile {
                grace_ms: grace.as_millis() as u64,
            },
        )?;
        let stopping = self.store.update(|records| {
            let r = records
                .iter_mut()
                .find(|r| r.id == id)
                .ok_or_else(|| Error::NotFound(id.to_owned()))?;
            if r.status.is_running() && r.stopping_since.is_none() {
                r.stopping_since = Some(crate::shim::now_rfc3339());
            }
            Ok(r.clone())
        })?;
        self.publish(std::slice::from_ref(&stopping));
        let started = Instant::now();
        if !self.store.request_stop(&stopping) {
            // Its shim ended meanwhile, or is not provably this record's: nothing is signalled,
            // and the record says what became of it.
            return self.get(id);
        }
        if !platform::wait_exit(sup.shim_pid, sup.shim_start_time, grace + STOP_SLACK) {
            return Err(Error::Timeout(
                started.elapsed().as_secs_f64(),
                format!("the shim of {id} to end the process tree"),
            ));
        }
        let done = self.get(id)?;
        tracing::info!(id, status = done.status.as_str(), elapsed = ?started.elapsed(), "stopped");
        Ok(done)
    }

    /// Stops the process if it runs, then deletes its record and its folder.
    pub fn remove(&self, id: &str) -> Result<()> {
        self.stop(id, StopRequest::default())?;
        let dir = self.store.process_dir(id)?;
        let trash = self
            .store
            .processes_dir()
            .join(format!(".removing-{id}-{}", id::random_hex(3)));
        self.store.update(|records| {
            let before = records.len();
            records.retain(|r| r.id != id);
            if records.len() == before {
                return Err(Error::NotFound(id.to_owned()));
            }
            // Renamed out of the way inside the lock, so that no merge can bring it back.
            match fs::rename(&dir, &trash) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(Error::io("removing", &dir, e)),
            }
        })?;
        if let Err(e) = fs::remove_dir_all(&trash) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("could not delete {}: {e}", trash.display());
            }
        }
        if let Ok(mut published) = self.published.lock() {
            published.remove(id);
        }
        let _ = self.events.send(Event::Removed {
            id: id.to_owned(),
            workspace_id: self.id().to_owned(),
        });
        Ok(())
    }

    /// Closing a workspace: stops every running process side by side, keeping the history.
    pub fn close(&self) -> Result<Vec<ProcessRecord>> {
        let running: Vec<String> = self
            .list()?
            .into_iter()
            .filter(|r| r.status.is_running())
            .map(|r| r.id)
            .collect();
        let results: Vec<Result<ProcessRecord>> = std::thread::scope(|s| {
            let handles: Vec<_> = running
                .iter()
                .map(|id| s.spawn(move || self.stop(id, StopRequest::default())))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Error::Spawn("a stop thread panicked".into())))
                })
                .collect()
        });
        results.into_iter().collect()
    }

    /// The output file of a process, for "open" and "reveal" in a file manager.
    pub fn output_path(&self, id: &str) -> Result<PathBuf> {
        self.get(id)?;
        Ok(self
            .store
            .unlinked_process_dir(id)?
            .join(output::OUTPUT_FILE))
    }

    pub(crate) fn source(&self, id: &str) -> Result<OutputSource> {
        self.get(id)?;
        OutputSource::open(id, &self.store.unlinked_process_dir(id)?)
    }

    /// Reads the output: full, head, tail or grep, with `max_bytes`.
    pub fn read(&self, id: &str, req: &ReadRequest) -> Result<ReadResult> {
        let src = self.source(id)?;
        output::read(&src, req)
    }

    pub fn grep(
        &self,
        id: &str,
        pattern: &str,
        limit: Option<usize>,
        max_bytes: Option<u64>,
    ) -> Result<GrepResult> {
        let src = self.source(id)?;
        output::grep(&src, Some(pattern), limit, max_bytes)
    }

    /// Up to `lines` whole lines ending at `end_offset` (the file's end when None): what a viewer
    /// fetches when the user scrolls up.
    pub fn lines_before(
        &self,
        id: &str,
        end_offset: Option<u64>,
        lines: usize,
        max_bytes: usize,
    ) -> Result<LineChunk> {
        let src = self.source(id)?;
        output::lines_before(&src, end_offset.unwrap_or(src.len()), lines, max_bytes)
    }

    pub fn lines_after(
        &self,
        id: &str,
        start_offset: u64,
        lines: usize,
        max_bytes: usize,
    ) -> Result<LineChunk> {
        let src = self.source(id)?;
        output::lines_after(&src, start_offset, lines, max_bytes)
    }

    /// Up to `max_bytes` bytes from logical offset `cursor` on, and the cursor for the next read
    /// (see [`output::read_since`]): reads in a row deliver every byte once.
    pub fn read_since(&self, id: &str, cursor: u64, max_bytes: usize) -> Result<SinceChunk> {
        // Whether the process has ended is read before the output: once it has, the output read
        // next is its last.
        let complete = !self.get(id)?.status.is_running();
        let src = OutputSource::open(id, &self.store.unlinked_process_dir(id)?)?;
        output::read_since(&src, cursor, max_bytes, complete)
    }

    /// Processes of the tree still alive when the shim of an ended process gave up on them
    /// (empty for a process still running, and whenever the stop went as it should).
    pub fn survivors(&self, id: &str) -> Result<Vec<u32>> {
        let path = self.store.process_dir(id)?.join(procdir::EXIT);
        Ok(procdir::read_json::<procdir::ExitInfo>(&path)?
            .map(|exit| exit.survivors)
            .unwrap_or_default())
    }

    /// Streams the kept output (or its last `max_bytes`) to `out` without holding it in memory.
    pub fn copy_output(
        &self,
        id: &str,
        max_bytes: Option<u64>,
        out: &mut dyn std::io::Write,
    ) -> Result<u64> {
        let src = self.source(id)?;
        let start = output::window_start(&src, max_bytes);
        output::copy_to(&src, start, src.len(), out)
    }

    /// Streams every matching line to `out`, like grep; returns how many matched.
    pub fn grep_to(
        &self,
        id: &str,
        pattern: &str,
        max_bytes: Option<u64>,
        out: &mut dyn std::io::Write,
    ) -> Result<u64> {
        let src = self.source(id)?;
        output::grep_to(&src, pattern, max_bytes, out)
    }

    /// The TCP ports the process's tree listens on (empty once it has ended).
    pub fn listening_ports(&self, id: &str) -> Result<Vec<crate::ports::ListeningPort>> {
        let record = self.get(id)?;
        let (Some(pid), Some(sup), true) = (
            record.pid,
            record.supervisor.as_ref(),
            record.status.is_running(),
        ) else {
            return Ok(Vec::new());
        };
        if !platform::is_alive(pid, sup.pid_start_time) {
            return Ok(Vec::new());
        }
        Ok(crate::ports::listening_ports(pid))
    }

    /// Commands the workspace's own files offer (package.json scripts, Procfile, Makefile, Cargo).
    pub fn suggestions(&self) -> Vec<crate::suggest::Suggestion> {
        crate::suggest::suggestions(self.folder())
    }

    /// Publishes `updated` for each record that differs from what was last published.
    pub(crate) fn publish(&self, records: &[ProcessRecord]) {
        let Ok(mut published) = self.published.lock() else {
            return;
        };
        for record in records {
            if published.get(&record.id) != Some(record) {
                published.insert(record.id.clone(), record.clone());
                let _ = self.events.send(Event::Updated {
                    record: Box::new(record.clone()),
                });
            }
        }
    }

    pub(crate) fn process_dir(&self, id: &str) -> Result<PathBuf> {
        self.store.process_dir(id)
    }
}

impl ReadMethod {
    pub fn parse(s: &str) -> Option<ReadMethod> {
        match s {
            "full" => Some(ReadMethod::Full),
            "head" => Some(ReadMethod::Head),
            "tail" => Some(ReadMethod::Tail),
            "grep" => Some(ReadMethod::Grep),
            _ => None,
        }
    }
}
