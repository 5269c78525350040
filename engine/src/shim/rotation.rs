//! The output cap, enforced on a thread of its own: recording a rotation is an atomic write that
//! waits for the disk, and dropping old output frees its pages, while the bytes in the pipe
//! should keep flowing into `output.log` meanwhile. At most one request waits while another is
//! carried out, and asking for a third blocks, so the output outgrows the cap by at most three
//! steps and three drains.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::mpsc::{self, SyncSender};
use std::thread::{self, JoinHandle};

use crate::output::OutputMeta;
use crate::platform::punch_hole;

/// Drops the output before the offsets it is sent, oldest first, one at a time.
pub(super) struct Rotation {
    requests: SyncSender<u64>,
    worker: JoinHandle<()>,
}

impl Rotation {
    /// `out` is the output file and `kept_from` what its meta file says now.
    pub(super) fn start(dir: PathBuf, out: File, mut kept_from: u64) -> io::Result<Rotation> {
        let (requests, pending) = mpsc::sync_channel::<u64>(1);
        let worker = thread::Builder::new()
            .name("rotation".into())
            .spawn(move || {
                while let Ok(first) = pending.recv() {
                    // Requests that queued up while the disk was slow merge into the newest.
                    let target = pending.try_iter().fold(first, u64::max);
                    if target <= kept_from {
                        continue;
                    }
                    // Announced before the hole is punched, so that a reader that re-checks the
                    // announcement after reading never returns zeros.
                    if let Err(e) = OutputMeta::store(&dir, &OutputMeta { kept_from: target }) {
                        super::log(format_args!(
                            "cannot record rotation, keeping all output for now: {e}"
                        ));
                        continue;
                    }
                    kept_from = target;
                    if let Err(e) = punch_hole(&out, target) {
                        super::log(format_args!("cannot drop old output: {e}"));
                    }
                }
            })?;
        Ok(Rotation { requests, worker })
    }

    /// Asks for the output before `kept_from` to be dropped; waits while the previous request
    /// is still queued.
    pub(super) fn request(&self, kept_from: u64) {
        // The worker only ends once this sender is dropped, so the send cannot fail while the
        // worker runs; if it panicked, the output merely stays uncapped.
        let _ = self.requests.send(kept_from);
    }

    /// Waits until every request has been carried out.
    pub(super) fn finish(self) {
        drop(self.requests);
        if self.worker.join().is_err() {
            super::log(format_args!("the rotation thread panicked"));
        }
    }
}
