//! Following a process's output: what is there from an offset, then new output as it is written,
//! until the process ends; and waiting for that end. Woken by inotify on the process folder (the `notify` crate); the only
//! timed wake-up is a slow safety net for a shim that dies without a word.

use std::ffi::OsStr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use crate::error::{Error, Result};
use crate::output::{self, OutputSource, ReadMethod, ReadRequest};
use crate::platform;
use crate::procdir::{self, ShimInfo};
use crate::record::ProcessRecord;
use crate::workspace::Workspace;

/// How often, with no file activity at all, the shim's liveness and the cancel flag are checked.
const SAFETY_NET: Duration = Duration::from_millis(250);
const READ_CHUNK: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowControl {
    Continue,
    Stop,
}

/// A piece of output at logical offset `offset`. `skipped` bytes before it were dropped by the
/// output cap before this follower could read them.
#[derive(Debug)]
pub struct FollowChunk<'a> {
    pub offset: u64,
    pub bytes: &'a [u8],
    pub skipped: u64,
}

#[derive(Debug)]
pub struct FollowEnd {
    /// The offset just past the last byte delivered.
    pub offset: u64,
    /// The final record when the process ended; None when the follower stopped first.
    pub record: Option<ProcessRecord>,
}

impl Workspace {
    /// The offset from which to follow output as `req` reads it: the first of its last lines
    /// for a tail, otherwise the first byte the read considers (the last `max_bytes` bytes, or
    /// the first kept byte). The reader then continues exactly where the read began.
    pub fn follow_start(&self, id: &str, req: &ReadRequest) -> Result<u64> {
        let src = self.source(id)?;
        match req.method {
            ReadMethod::Tail => Ok(output::read(&src, req)?.start_offset),
            ReadMethod::Full | ReadMethod::Head | ReadMethod::Grep => {
                Ok(output::window_start(&src, req.max_bytes))
            }
        }
    }

    /// Delivers output from `from` (the first kept byte when None) to `on_chunk`, then new output
    /// as it arrives, until the process has ended and everything is delivered, `on_chunk` returns
    /// Stop, or `cancel` is set.
    pub fn follow(
        &self,
        id: &str,
        from: Option<u64>,
        cancel: &AtomicBool,
        on_chunk: &mut dyn FnMut(FollowChunk<'_>) -> FollowControl,
    ) -> Result<FollowEnd> {
        self.get(id)?;
        let dir = self.process_dir(id)?;
        // Only changes wake the loop: its own reads (output.log, output.meta.json) are
        // reported as accesses and would otherwise wake it again at once, forever.
        let (_watcher, rx) = watch_folder(&dir, |e| !e.kind.is_access())?;

        let shim = procdir::read_json::<ShimInfo>(&dir.join(procdir::SHIM))?;
        let mut src = OutputSource::open(id, &dir)?;
        let mut offset = from.unwrap_or(0).min(src.len());
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Ok(FollowEnd {
                    offset,
                    record: None,
                });
            }
            // Checked before reading: the shim writes exit.json only after the last byte is in
            // the file, so reading to the end after seeing it delivers everything.
            let ended = has_ended(&dir, shim.as_ref());
            src.refresh()?;
            while offset < src.len() {
                let want = ((src.len() - offset) as usize).min(buf.len());
                let kept = src.read_kept(offset, &mut buf[..want])?;
                let start = offset + kept.start as u64;
                let control = on_chunk(FollowChunk {
                    offset: start,
                    bytes: &buf[kept.clone()],
                    skipped: start - offset,
                });
                offset += kept.end as u64;
                if control == FollowControl::Stop {
                    return Ok(FollowEnd {
                        offset,
                        record: None,
                    });
                }
            }
            if ended {
                return Ok(FollowEnd {
                    offset,
                    record: Some(self.get(id)?),
                });
            }
            match rx.recv_timeout(SAFETY_NET) {
                Ok(()) => while rx.try_recv().is_ok() {},
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::Watch("the file watcher stopped".into()));
                }
            }
        }
    }
}

impl Workspace {
    /// Waits until the process is no longer running, up to `timeout` (forever when None): until
    /// its exit is recorded, or its shim is gone without recording one. The shim records the exit
    /// before it syncs the output to disk, so a waiter is not held back by that writeback.
    pub fn wait(&self, id: &str, timeout: Option<Duration>) -> Result<ProcessRecord> {
        let record = self.get(id)?;
        if !record.status.is_running() {
            return Ok(record);
        }
        let dir = self.process_dir(id)?;
        // Woken only by the exit record: the output's writes would wake the wait for nothing.
        let (_watcher, rx) = watch_folder(&dir, |e| {
            e.paths
                .iter()
                .any(|p| p.file_name() == Some(OsStr::new(procdir::EXIT)))
        })?;
        let shim = procdir::read_json::<ShimInfo>(&dir.join(procdir::SHIM))?;
        let limit = timeout.unwrap_or(Duration::from_secs(u64::from(u32::MAX)));
        // A timeout too large to add is as good as forever.
        let deadline = Instant::now().checked_add(limit);
        loop {
            if has_ended(&dir, shim.as_ref()) {
                return self.get(id);
            }
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => SAFETY_NET,
            };
            if left.is_zero() {
                return Err(Error::Timeout(limit.as_secs_f64(), format!("{id} to end")));
            }
            match rx.recv_timeout(SAFETY_NET.min(left)) {
                Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::Watch("the file watcher stopped".into()));
                }
            }
        }
    }
}

/// Watches the files directly inside `dir` (inotify through the `notify` crate); the receiver
/// gets one message per event that `wanted` accepts. Events stop when the watcher is dropped.
fn watch_folder(
    dir: &Path,
    wanted: impl Fn(&notify::Event) -> bool + Send + 'static,
) -> Result<(RecommendedWatcher, mpsc::Receiver<()>)> {
    let (tx, rx) = mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if res.as_ref().map_or(true, &wanted) {
            let _ = tx.send(());
        }
    })
    .map_err(|e| Error::Watch(e.to_string()))?;
    watcher
        .watch(dir, RecursiveMode::NonRecursive)
        .map_err(|e| Error::Watch(e.to_string()))?;
    Ok((watcher, rx))
}

fn has_ended(dir: &Path, shim: Option<&ShimInfo>) -> bool {
    if dir.join(procdir::EXIT).exists() {
        return true;
    }
    match shim {
        Some(s) => !platform::is_alive(s.shim_pid, s.shim_start_time),
        None => true,
    }
}
