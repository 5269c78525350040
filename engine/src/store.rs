//! The workspace store: `<folder>/.procdeck/` with `index.json`, `workspace.json`, a `.gitignore`
//! and one folder per process. The index is read-modify-written only under an advisory lock and
//! replaced atomically; it is merged from the process folders (what the shims wrote) on every
//! access, and rebuilt from them when it is missing or damaged.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::lock::FileLock;
use crate::origin::Trust;
use crate::output::{OutputMeta, OUTPUT_FILE};
use crate::procdir::{self, ExitInfo, ShimInfo, Spec};
use crate::record::{Origin, ProcessRecord, Status, Supervisor};
use crate::{atomic, id, procinfo};

pub const STORE_DIR: &str = ".procdeck";
const INDEX: &str = "index.json";
const LOCK: &str = "index.lock";
const WORKSPACE: &str = "workspace.json";
const PROCESSES: &str = "processes";
/// A process folder without a shim record is a start in progress until it is this old.
const START_GRACE: Duration = Duration::from_secs(30);

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkspaceFile {
    id: String,
    created_at: String,
}

pub struct Store {
    root: PathBuf,
    dir: PathBuf,
    workspace_id: String,
    warnings: Mutex<Vec<String>>,
    trust: Trust,
}

impl Store {
    /// Opens (creating when needed) the store of `folder`; `trust` tells its records' origin.
    pub fn open(folder: &Path, trust: Trust) -> Result<Store> {
        let root = check_folder(folder)?;
        let dir = root.join(STORE_DIR);
        let unwritable = |source| Error::Unwritable {
            path: root.clone(),
            source,
        };
        fs::create_dir_all(dir.join(PROCESSES)).map_err(unwritable)?;
        let gitignore = dir.join(".gitignore");
        if !gitignore.exists() {
            fs::write(&gitignore, "*\n").map_err(unwritable)?;
        }
        let mut store = Store {
            root,
            dir,
            workspace_id: String::new(),
            warnings: Mutex::new(Vec::new()),
            trust,
        };
        store.workspace_id = store.load_or_create_workspace_id()?;
        store.create_index_if_new()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn workspace_id(&self) -> &str {
        &self.workspace_id
    }

    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    pub fn index_path(&self) -> PathBuf {
        self.dir.join(INDEX)
    }

    pub fn processes_dir(&self) -> PathBuf {
        self.dir.join(PROCESSES)
    }

    /// The folder of process `id`, after checking the id's shape so it cannot point elsewhere.
    pub fn process_dir(&self, id: &str) -> Result<PathBuf> {
        id::validate(id)?;
        Ok(self.processes_dir().join(id))
    }

    /// Warnings gathered since the last call (a damaged index that was rebuilt, say).
    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    fn warn(&self, message: String) {
        tracing::info!("{message}");
        if let Ok(mut w) = self.warnings.lock() {
            w.push(message);
        }
    }

    /// Checks the folder is still there (it may be deleted while the app runs).
    pub fn check_present(&self) -> Result<()> {
        check_folder(&self.root).map(|_| ())
    }

    fn load_or_create_workspace_id(&self) -> Result<String> {
        let path = self.dir.join(WORKSPACE);
        if let Ok(Some(ws)) = procdir::read_json::<WorkspaceFile>(&path) {
            return Ok(ws.id);
        }
        let _lock = self.lock()?;
        if let Ok(Some(ws)) = procdir::read_json::<WorkspaceFile>(&path) {
            return Ok(ws.id);
        }
        let ws = WorkspaceFile {
            id: format!("ws_{}", id::random_hex(6)),
            created_at: crate::shim::now_rfc3339(),
        };
        atomic::write_json(&path, &ws)?;
        Ok(ws.id)
    }

    /// A fresh workspace gets an empty index, so that a missing index later means it was lost.
    fn create_index_if_new(&self) -> Result<()> {
        if self.index_path().exists() || !self.process_ids()?.is_empty() {
            return Ok(());
        }
        let _lock = self.lock()?;
        if !self.index_path().exists() && self.process_ids()?.is_empty() {
            atomic::write(&self.index_path(), b"[]\n")?;
        }
        Ok(())
    }

    fn lock(&self) -> Result<FileLock> {
        FileLock::exclusive(&self.dir.join(LOCK))
    }

    /// Runs `change` on the merged, up-to-date records under the lock, and writes the index
    /// back only when the change (or the merge) altered something other than output sizes.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut Vec<ProcessRecord>) -> Result<T>,
    ) -> Result<T> {
        self.check_present()?;
        let _lock = self.lock()?;
        let (mut records, mut dirty) = self.load_locked()?;
        dirty |= self.merge(&mut records);
        let before = records.clone();
        let out = change(&mut records)?;
        if dirty || !same_ignoring_sizes(&before, &records) {
            atomic::write_json(&self.index_path(), &records)?;
        }
        Ok(out)
    }

    pub fn list(&self) -> Result<Vec<ProcessRecord>> {
        self.update(|r| Ok(r.clone()))
    }

    /// Reads the index; a missing one with process folders present, or a damaged one, is rebuilt
    /// from the folders (the damaged file is kept beside it). Returns whether it must be written.
    fn load_locked(&self) -> Result<(Vec<ProcessRecord>, bool)> {
        let path = self.index_path();
        match fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<Vec<ProcessRecord>>(&bytes) {
                Ok(records) => Ok((records, false)),
                Err(e) => {
                    let kept = self.dir.join(format!(
                        "index.json.damaged-{}",
                        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f")
                    ));
                    fs::rename(&path, &kept).ctx("setting aside the damaged index", &path)?;
                    let records = self.rebuild()?;
                    self.warn(format!(
                        "{} was damaged ({e}); rebuilt {} record(s) from the process folders and kept the damaged file as {}",
                        path.display(),
                        records.len(),
                        kept.display()
                    ));
                    Ok((records, true))
                }
            },
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let records = self.rebuild()?;
                if !records.is_empty() {
                    self.warn(format!(
                        "{} was missing; rebuilt {} record(s) from the process folders",
                        path.display(),
                        records.len()
                    ));
                }
                let dirty = !records.is_empty();
                Ok((records, dirty))
            }
            Err(e) => Err(Error::io("reading", &path, e)),
        }
    }

    fn rebuild(&self) -> Result<Vec<ProcessRecord>> {
        let mut records = Vec::new();
        for id in self.process_ids()? {
            if let Some(r) = self.derive(&id, true) {
                records.push(r);
            }
        }
        records.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
        Ok(records)
    }

    fn process_ids(&self) -> Result<Vec<String>> {
        let dir = self.processes_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("listing", &dir, e)),
        };
        Ok(entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| id::is_valid(name))
            .collect())
    }

    /// Brings every record up to date with its folder, and adds folders the index lacks (a
    /// starter that died between starting the shim and writing the index). True when a status
    /// changed or a record was added.
    fn merge(&self, records: &mut Vec<ProcessRecord>) -> bool {
        let mut changed = false;
        for record in records.iter_mut() {
            changed |= self.refresh(record);
        }
        if let Ok(ids) = self.process_ids() {
            for id in ids {
                if records.iter().all(|r| r.id != id) {
                    if let Some(r) = self.derive(&id, false) {
                        records.push(r);
                        changed = true;
                    }
                }
            }
        }
        changed
    }

    /// Builds a record from a process folder alone. Without a shim record the folder is a start
    /// in progress (skipped) unless it is old, or `force` is set (a rebuild), when it is lost.
    fn derive(&self, id: &str, force: bool) -> Option<ProcessRecord> {
        let dir = self.processes_dir().join(id);
        let spec = match procdir::read_json::<Spec>(&dir.join(procdir::SPEC)) {
            Ok(Some(spec)) => spec,
            Ok(None) => return None,
            Err(e) => {
                self.warn(format!("skipping process folder {}: {e}", dir.display()));
                return None;
            }
        };
        let shim = procdir::read_json::<ShimInfo>(&dir.join(procdir::SHIM))
            .ok()
            .flatten();
        if shim.is_none() && !force {
            let age = fs::metadata(dir.join(procdir::SPEC))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .unwrap_or_default();
            if age < START_GRACE {
                return None;
            }
        }
        let mut record = record_from(&spec, shim.as_ref());
        if shim.is_none() {
            record.status = Status::Lost;
            record.stopped_at = Some(spec.started_at.clone());
        }
        self.refresh(&mut record);
        Some(record)
    }

    /// Updates sizes, and for a running record checks the shim: its exit record, or its absence
    /// (`lost`). Returns true when anything but the sizes changed.
    pub fn refresh(&self, record: &mut ProcessRecord) -> bool {
        let dir = self.processes_dir().join(&record.id);
        self.trust.stamp(record, &dir, &self.root);
        record.output_size_bytes = fs::metadata(dir.join(OUTPUT_FILE))
            .map(|m| m.len())
            .unwrap_or(0);
        record.dropped_bytes = OutputMeta::load(&dir).kept_from;
        if !record.status.is_running() {
            return false;
        }
        let exit_path = dir.join(procdir::EXIT);
        if let Ok(Some(exit)) = procdir::read_json::<ExitInfo>(&exit_path) {
            apply_exit(record, &exit);
            return true;
        }
        let alive = record.supervisor.as_ref().is_some_and(|s| {
            s.boot_id == procinfo::boot_id() && procinfo::is_alive(s.shim_pid, s.shim_start_time)
        });
        if alive {
            return false;
        }
        // The shim may have written its exit record and ended between the two looks.
        if let Ok(Some(exit)) = procdir::read_json::<ExitInfo>(&exit_path) {
            apply_exit(record, &exit);
            return true;
        }
        mark_lost(record);
        true
    }
}

fn check_folder(folder: &Path) -> Result<PathBuf> {
    match fs::metadata(folder) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(Error::NotAFolder(folder.to_owned())),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(Error::MissingFolder(folder.to_owned()))
        }
        Err(e) => return Err(Error::io("opening workspace folder", folder, e)),
    }
    fs::canonicalize(folder).ctx("resolving", folder)
}

pub fn record_from(spec: &Spec, shim: Option<&ShimInfo>) -> ProcessRecord {
    ProcessRecord {
        id: spec.id.clone(),
        workspace_id: spec.workspace_id.clone(),
        title: spec.title.clone(),
        command: spec.command.clone(),
        cwd: spec.cwd.to_string_lossy().into_owned(),
        status: Status::Running,
        pid: shim.map(|s| s.pid),
        started_at: spec.started_at.clone(),
        stopped_at: None,
        exit_code: None,
        signal: None,
        output_size_bytes: 0,
        dropped_bytes: 0,
        stop_requested: false,
        stopping_since: None,
        env: spec.env.clone(),
        stop_grace_ms: spec.stop_grace_ms,
        output_cap_bytes: spec.output_cap_bytes,
        // Worked out by `Store::refresh`, which every record passes through.
        origin: Origin::Foreign,
        supervisor: shim.map(|s| Supervisor {
            shim_pid: s.shim_pid,
            shim_start_time: s.shim_start_time,
            pid_start_time: s.pid_start_time,
            boot_id: s.boot_id.clone(),
        }),
    }
}

pub fn apply_exit(record: &mut ProcessRecord, exit: &ExitInfo) {
    record.status = if exit.stop_requested || exit.exit_code == Some(0) {
        Status::Stopped
    } else {
        Status::Error
    };
    record.exit_code = exit.exit_code;
    record.signal = exit.signal;
    record.stop_requested = exit.stop_requested;
    record.stopped_at = Some(exit.ended_at.clone());
    record.stopping_since = None;
}

/// The shim is gone without an exit record. Its command, if still alive, no longer has anyone
/// reading its output or able to stop it, so its group is ended too.
fn mark_lost(record: &mut ProcessRecord) {
    record.status = Status::Lost;
    record.stopped_at = Some(crate::shim::now_rfc3339());
    record.stopping_since = None;
    if let (Some(pid), Some(sup)) = (record.pid, record.supervisor.as_ref()) {
        if sup.boot_id == procinfo::boot_id() && procinfo::is_alive(pid, sup.pid_start_time) {
            // SAFETY: signalling the group led by a process verified by its start time.
            unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
        }
    }
}

fn same_ignoring_sizes(a: &[ProcessRecord], b: &[ProcessRecord]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            let mut y = y.clone();
            y.output_size_bytes = x.output_size_bytes;
            y.dropped_bytes = x.dropped_bytes;
            *x == y
        })
}
