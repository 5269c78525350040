//! The workspace store: `<folder>/.procdeck/` with `index.json`, `workspace.json`, a `.gitignore`
//! and one folder per process. The index is read-modify-written only under an advisory lock and
//! replaced atomically; it is merged from the process folders (what the shims wrote) on every
//! listing, and rebuilt from them when it is missing or damaged. Reading one process takes no
//! lock and writes nothing.
//!
//! A store is untrusted input: a repository can ship one and another user can share it. Nothing
//! in it is followed through a symlink, ids are checked before they name a path, and a pid from a
//! record is signalled only once it is proven to be the one this store's shim started.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
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
use crate::{atomic, id, nofollow, platform};

pub const STORE_DIR: &str = ".procdeck";
const INDEX: &str = "index.json";
const LOCK: &str = "index.lock";
const WORKSPACE: &str = "workspace.json";
const PROCESSES: &str = "processes";
const GITIGNORE: &str = ".gitignore";
/// A process folder without a shim record is a start in progress until it is this old.
const START_GRACE: Duration = Duration::from_secs(30);

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkspaceFile {
    id: String,
    created_at: String,
    /// The canonical folder the store was made for. Found in another folder, the store is a copy
    /// (`cp -r`, a second clone of a repository that ships it) and gets an id of its own, so that
    /// the two are never taken for one another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    folder: Option<PathBuf>,
}

/// The index as read: the records this store can use, and the entries it must not use (an id
/// that could name a path outside the store, a folder that is a symlink, something that is not a
/// record), which are written back as they were so that nothing is lost.
struct Index {
    records: Vec<ProcessRecord>,
    kept: Vec<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Entry<'a> {
    Record(&'a ProcessRecord),
    Kept(&'a serde_json::Value),
}

/// What a running record's folder and shim say beyond the record.
enum Observation {
    Unchanged,
    Exited(ExitInfo),
    /// The shim is gone (or is not provably this record's) without an exit record.
    Gone,
}

pub struct Store {
    root: PathBuf,
    dir: PathBuf,
    workspace_id: String,
    warnings: Mutex<Warnings>,
    trust: Trust,
}

#[derive(Default)]
struct Warnings {
    /// Not yet taken by [`Store::take_warnings`].
    pending: Vec<String>,
    reported: HashSet<String>,
}

impl Store {
    /// Opens (creating when needed) the store of `folder`; `trust` tells its records' origin.
    pub fn open(folder: &Path, trust: Trust) -> Result<Store> {
        let root = check_folder(folder)?;
        let dir = root.join(STORE_DIR);
        real_dir(&dir, &root)?;
        real_dir(&dir.join(PROCESSES), &root)?;
        let mut store = Store {
            root,
            dir,
            workspace_id: String::new(),
            warnings: Mutex::default(),
            trust,
        };
        store.create_gitignore()?;
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

    /// [`Store::process_dir`], refusing a folder that is a symlink (it may be missing).
    pub fn unlinked_process_dir(&self, id: &str) -> Result<PathBuf> {
        let dir = self.process_dir(id)?;
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => Err(Error::Symlink(dir)),
            _ => Ok(dir),
        }
    }

    /// Warnings gathered since the last call (a damaged index that was rebuilt, say).
    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut w.pending))
            .unwrap_or_default()
    }

    /// Records a warning once for the life of this store: a finding that stays (a linked folder
    /// met by every listing, and by the index and the folder listing in one pass) is one line
    /// for the user, not one per look.
    fn warn(&self, message: String) {
        tracing::info!("{message}");
        if let Ok(mut w) = self.warnings.lock() {
            if w.reported.insert(message.clone()) {
                w.pending.push(message);
            }
        }
    }

    /// Checks the folder is still there (it may be deleted while the app runs).
    pub fn check_present(&self) -> Result<()> {
        check_folder(&self.root).map(|_| ())
    }

    /// Created exclusively and never through a symlink; one already there is left alone, and a
    /// symlink is reported rather than followed.
    fn create_gitignore(&self) -> Result<()> {
        let path = self.dir.join(GITIGNORE);
        let created =
            platform::no_follow(OpenOptions::new().write(true).create_new(true)).open(&path);
        let unwritable = |source| Error::Unwritable {
            path: self.root.clone(),
            source,
        };
        match created {
            Ok(mut f) => f.write_all(b"*\n").map_err(unwritable),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                    self.warn(format!(
                        "{} is a symbolic link; it was not followed or changed, so git may not ignore the store",
                        path.display()
                    ));
                }
                Ok(())
            }
            Err(e) => Err(unwritable(e)),
        }
    }

    fn load_or_create_workspace_id(&self) -> Result<String> {
        let path = self.dir.join(WORKSPACE);
        if let Ok(Some(ws)) = procdir::read_json::<WorkspaceFile>(&path) {
            if ws.folder.as_deref() == Some(self.root.as_path()) {
                return Ok(ws.id);
            }
        }
        let _lock = self.lock()?;
        let now = crate::shim::now_rfc3339;
        let fresh = || format!("ws_{}", id::random_hex(6));
        let (id, created_at) = match procdir::read_json::<WorkspaceFile>(&path) {
            Ok(Some(ws)) if ws.folder.as_deref() == Some(self.root.as_path()) => return Ok(ws.id),
            Ok(Some(ws)) if ws.folder.is_none() => {
                // Written before stores recorded their folder: the folder it is found in claims
                // it. A disk too full to record that changes nothing today, so it is not fatal.
                let claimed = WorkspaceFile {
                    folder: Some(self.root.clone()),
                    ..ws
                };
                if let Err(e) = atomic::write_json(&path, &claimed) {
                    tracing::warn!("could not record the folder in {}: {e}", path.display());
                }
                return Ok(claimed.id);
            }
            Ok(Some(ws)) => {
                let id = fresh();
                self.warn(format!(
                    "this store was made for {} (workspace {}); this folder is a copy of it, so it gets its own id {id}, and the processes it lists from there are shown but not controlled from here",
                    ws.folder.as_deref().unwrap_or(Path::new("?")).display(),
                    ws.id
                ));
                (id, now())
            }
            Ok(None) => (fresh(), now()),
            Err(e) => {
                let id = fresh();
                self.warn(format!("{e}; the workspace gets a new id {id}"));
                (id, now())
            }
        };
        atomic::write_json(
            &path,
            &WorkspaceFile {
                id: id.clone(),
                created_at,
                folder: Some(self.root.clone()),
            },
        )?;
        Ok(id)
    }

    /// A fresh workspace gets an empty index, so that a missing index later means it was lost.
    fn create_index_if_new(&self) -> Result<()> {
        let exists = || fs::symlink_metadata(self.index_path()).is_ok();
        if exists() || !self.process_ids()?.is_empty() {
            return Ok(());
        }
        let _lock = self.lock()?;
        if !exists() && self.process_ids()?.is_empty() {
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
        self.locked(change, true)
    }

    /// Every record, merged with the process folders. Saving what the merge found is left for a
    /// later access when it fails (a full disk): a read must not fail for want of a write.
    pub fn list(&self) -> Result<Vec<ProcessRecord>> {
        self.locked(|r| Ok(r.clone()), false)
    }

    fn locked<T>(
        &self,
        change: impl FnOnce(&mut Vec<ProcessRecord>) -> Result<T>,
        must_save: bool,
    ) -> Result<T> {
        self.check_present()?;
        let _lock = self.lock()?;
        let (mut index, mut dirty) = self.load_locked()?;
        dirty |= self.merge(&mut index);
        let before = index.records.clone();
        let out = change(&mut index.records)?;
        if dirty || !same_ignoring_sizes(&before, &index.records) {
            if let Err(e) = self.save(&index) {
                if must_save {
                    return Err(e);
                }
                self.warn(format!(
                    "{e}; the processes are shown as found, and the index is saved on a later access"
                ));
            }
        }
        Ok(out)
    }

    fn save(&self, index: &Index) -> Result<()> {
        let entries: Vec<Entry<'_>> = index
            .records
            .iter()
            .map(Entry::Record)
            .chain(index.kept.iter().map(Entry::Kept))
            .collect();
        atomic::write_json(&self.index_path(), &entries)
    }

    /// One record, without the lock and without writing: the index as last saved (it is
    /// replaced atomically, so this sees one whole version) and this process's own folder. When
    /// the folder says more than the saved record (the process ended, its shim is gone), or the
    /// index cannot answer, the full merge under the lock decides instead.
    pub fn get(&self, id: &str) -> Result<ProcessRecord> {
        self.unlinked_process_dir(id)?;
        self.check_present()?;
        if let Some(mut record) = self.saved_record(id) {
            if let Observation::Unchanged = self.observe(&record) {
                self.refresh_sizes(&mut record);
                return Ok(record);
            }
        }
        self.list()?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| Error::NotFound(id.to_owned()))
    }

    fn saved_record(&self, id: &str) -> Option<ProcessRecord> {
        self.saved_records().into_iter().find(|r| r.id == id)
    }

    /// The usable records of the index as last saved, without the lock, the process folders or
    /// a write; empty when the index cannot be read (the next listing reports why).
    pub fn saved_records(&self) -> Vec<ProcessRecord> {
        let Ok(Some(bytes)) = nofollow::read(&self.index_path()) else {
            return Vec::new();
        };
        let Ok(entries) = serde_json::from_slice::<Vec<serde_json::Value>>(&bytes) else {
            return Vec::new();
        };
        entries
            .into_iter()
            .filter_map(|e| ProcessRecord::deserialize(e).ok())
            .filter(|r| id::is_valid(&r.id))
            .collect()
    }

    /// Reads the index; a missing one with process folders present, or a damaged one, is rebuilt
    /// from the folders (the damaged file is kept beside it). Returns whether it must be written.
    fn load_locked(&self) -> Result<(Index, bool)> {
        let path = self.index_path();
        let damage = match nofollow::read(&path) {
            Ok(Some(bytes)) => match serde_json::from_slice::<Vec<serde_json::Value>>(&bytes) {
                Ok(entries) => return Ok((self.sort_out(entries), false)),
                Err(e) => format!("{} was damaged ({e})", path.display()),
            },
            // Set aside like a damaged file: renaming moves the link, never what it points to.
            Err(e @ (Error::Symlink(_) | Error::NotRegularFile { .. })) => e.to_string(),
            Err(e) => return Err(e),
            Ok(None) => {
                let records = self.rebuild()?;
                if !records.is_empty() {
                    self.warn(format!(
                        "{} was missing; rebuilt {} record(s) from the process folders",
                        path.display(),
                        records.len()
                    ));
                }
                let dirty = !records.is_empty();
                let kept = Vec::new();
                return Ok((Index { records, kept }, dirty));
            }
        };
        let kept_as = self.dir.join(format!(
            "index.json.damaged-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f")
        ));
        fs::rename(&path, &kept_as).ctx("setting aside the damaged index", &path)?;
        let records = self.rebuild()?;
        self.warn(format!(
            "{damage}; rebuilt {} record(s) from the process folders and kept the damaged file as {}",
            records.len(),
            kept_as.display()
        ));
        let kept = Vec::new();
        Ok((Index { records, kept }, true))
    }

    /// Splits the index's entries into usable records and entries kept aside, with a warning for
    /// each of the latter.
    fn sort_out(&self, entries: Vec<serde_json::Value>) -> Index {
        let mut index = Index {
            records: Vec::new(),
            kept: Vec::new(),
        };
        for entry in entries {
            match self.usable(&entry) {
                Ok(record) => index.records.push(record),
                Err(warning) => {
                    self.warn(warning);
                    index.kept.push(entry);
                }
            }
        }
        index
    }

    fn usable(&self, entry: &serde_json::Value) -> std::result::Result<ProcessRecord, String> {
        let skipping = |reason: String| {
            format!(
                "skipping a record of {}: {reason}; it is kept in the index unchanged",
                self.index_path().display()
            )
        };
        let record = ProcessRecord::deserialize(entry)
            .map_err(|e| skipping(format!("it is not a process record ({e})")))?;
        match self.unlinked_process_dir(&record.id) {
            Ok(_) => Ok(record),
            Err(Error::Symlink(dir)) => Err(linked_folder(&dir)),
            Err(e) => Err(skipping(e.to_string())),
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

    /// The ids of the real process folders; a symlink in their place is reported and skipped.
    pub(crate) fn process_ids(&self) -> Result<Vec<String>> {
        let dir = self.processes_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("listing", &dir, e)),
        };
        Ok(entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                if !id::is_valid(&name) {
                    return None;
                }
                // The entry's own type: a symlink is not followed to see what it names.
                match e.file_type() {
                    Ok(t) if t.is_dir() => Some(name),
                    Ok(t) if t.is_symlink() => {
                        self.warn(linked_folder(&e.path()));
                        None
                    }
                    _ => None,
                }
            })
            .collect())
    }

    /// Brings every record up to date with its folder, and adds folders the index lacks (a
    /// starter that died between starting the shim and writing the index). True when a status
    /// changed or a record was added.
    fn merge(&self, index: &mut Index) -> bool {
        let mut changed = false;
        for record in index.records.iter_mut() {
            changed |= self.refresh(record);
        }
        if let Ok(ids) = self.process_ids() {
            for id in ids {
                let known = index.records.iter().any(|r| r.id == id)
                    || index
                        .kept
                        .iter()
                        .any(|e| e.get("id").and_then(|v| v.as_str()) == Some(id.as_str()));
                if !known {
                    if let Some(r) = self.derive(&id, false) {
                        index.records.push(r);
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
            Ok(Some(spec)) if spec.id == id => spec,
            Ok(Some(spec)) => {
                self.warn(format!(
                    "skipping process folder {}: its spec.json names another process ({:?})",
                    dir.display(),
                    spec.id
                ));
                return None;
            }
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
            let age = fs::symlink_metadata(dir.join(procdir::SPEC))
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
        self.refresh_sizes(record);
        match self.observe(record) {
            Observation::Unchanged => false,
            Observation::Exited(exit) => {
                apply_exit(record, &exit);
                true
            }
            Observation::Gone => {
                self.mark_lost(record);
                true
            }
        }
    }

    fn refresh_sizes(&self, record: &mut ProcessRecord) {
        let dir = self.processes_dir().join(&record.id);
        self.trust.stamp(record, &dir, &self.root);
        record.output_size_bytes = fs::symlink_metadata(dir.join(OUTPUT_FILE))
            .ok()
            .filter(|m| m.is_file())
            .map_or(0, |m| m.len());
        record.dropped_bytes = OutputMeta::load(&dir).kept_from;
    }

    fn observe(&self, record: &ProcessRecord) -> Observation {
        if !record.status.is_running() {
            return Observation::Unchanged;
        }
        let exit_path = self.processes_dir().join(&record.id).join(procdir::EXIT);
        if let Ok(Some(exit)) = procdir::read_json::<ExitInfo>(&exit_path) {
            return Observation::Exited(exit);
        }
        if self.shim_is_ours(record) {
            return Observation::Unchanged;
        }
        // The shim may have written its exit record and ended between the two looks.
        match procdir::read_json::<ExitInfo>(&exit_path) {
            Ok(Some(exit)) => Observation::Exited(exit),
            _ => Observation::Gone,
        }
    }

    /// True when the record's shim is alive and provably the one started for it by this store:
    /// the record is this store's, the boot and start time match, and the process leads its own
    /// session (the shim calls setsid) and was given this process's folder as an argument.
    pub fn shim_is_ours(&self, record: &ProcessRecord) -> bool {
        let Some(sup) = &record.supervisor else {
            return false;
        };
        record.workspace_id == self.workspace_id
            && platform::signallable(sup.shim_pid)
            && platform::is_this_boot(&sup.boot_id)
            && platform::is_alive(sup.shim_pid, sup.shim_start_time)
            && platform::stat(sup.shim_pid)
                .is_some_and(|s| platform::is_detached_leader(sup.shim_pid, &s))
            && self.was_given_folder(sup.shim_pid, &record.id)
    }

    /// Asks the record's shim to stop its tree (with the grace of its stop file), only when
    /// [`Store::shim_is_ours`] holds; true when the request was made.
    pub fn request_stop(&self, record: &ProcessRecord) -> bool {
        match &record.supervisor {
            Some(sup) if self.shim_is_ours(record) => {
                platform::request_stop(sup.shim_pid, sup.shim_start_time)
            }
            _ => false,
        }
    }

    fn was_given_folder(&self, pid: u32, id: &str) -> bool {
        let dir = self.processes_dir().join(id);
        platform::cmdline(pid).is_some_and(|args| args.iter().any(|a| Path::new(a) == dir))
    }

    /// The shim is gone without an exit record. Its command, if still alive, no longer has
    /// anyone reading its output or able to stop it, so its group is ended too.
    fn mark_lost(&self, record: &mut ProcessRecord) {
        record.status = Status::Lost;
        record.stopped_at = Some(crate::shim::now_rfc3339());
        record.stopping_since = None;
        if let Some(group) = self.orphaned_group(record) {
            // The group was just proven to be the one this store's shim created for the record.
            platform::signal_group(group, platform::Signal::Kill);
            return;
        }
        // A record of this store naming a living process it cannot prove is its own: say so,
        // as its command may still be running unsupervised (or the record was crafted).
        let living = record
            .pid
            .and_then(platform::stat)
            .is_some_and(|s| !s.has_exited());
        if living && record.workspace_id == self.workspace_id {
            self.warn(format!(
                "{} is marked lost; pid {} was not signalled: it is not provably the process this store started",
                record.id,
                record.pid.unwrap_or_default()
            ));
        }
    }

    /// The command's process group, when it is provably the one this store's shim created for
    /// the record: the command (verified by its start time on this boot) leads its group (the
    /// shim starts it in a group of its own), sits in the shim's session, and that session's
    /// leader is gone or is still the shim of this process folder and the command's parent.
    fn orphaned_group(&self, record: &ProcessRecord) -> Option<u32> {
        let (pid, sup) = (record.pid?, record.supervisor.as_ref()?);
        if !platform::signallable(pid)
            || !platform::signallable(sup.shim_pid)
            || record.workspace_id != self.workspace_id
            || !platform::is_this_boot(&sup.boot_id)
            || !platform::is_alive(pid, sup.pid_start_time)
        {
            return None;
        }
        let stat = platform::stat(pid)?;
        if i64::from(stat.pgrp) != i64::from(pid) || !stat.in_session(sup.shim_pid) {
            return None;
        }
        let leader_fits = match platform::stat(sup.shim_pid) {
            None => true,
            Some(s) if s.has_exited() => true,
            // Still alive (its start time was recorded wrong): it must be this folder's shim,
            // and the command its child.
            Some(s) => {
                s.in_session(sup.shim_pid)
                    && stat.ppid == sup.shim_pid
                    && self.was_given_folder(sup.shim_pid, &record.id)
            }
        };
        leader_fits.then_some(pid)
    }
}

fn linked_folder(dir: &Path) -> String {
    format!(
        "skipping process folder {}: it is a symbolic link, which Procdeck does not follow",
        dir.display()
    )
}

/// Creates `path` as a folder, or checks that the one there is a real folder, not a symlink.
fn real_dir(path: &Path, root: &Path) -> Result<()> {
    match fs::create_dir(path) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(source) => {
            return Err(Error::Unwritable {
                path: root.to_owned(),
                source,
            })
        }
    }
    let kind = fs::symlink_metadata(path)
        .ctx("inspecting", path)?
        .file_type();
    if kind.is_symlink() {
        Err(Error::Symlink(path.to_owned()))
    } else if kind.is_dir() {
        Ok(())
    } else {
        Err(Error::NotAFolder(path.to_owned()))
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
        started_by: spec.started_by.clone(),
        service: crate::runs::service_key(&spec.title, &spec.cwd.to_string_lossy()),
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

fn same_ignoring_sizes(a: &[ProcessRecord], b: &[ProcessRecord]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            let mut y = y.clone();
            y.output_size_bytes = x.output_size_bytes;
            y.dropped_bytes = x.dropped_bytes;
            *x == y
        })
}
