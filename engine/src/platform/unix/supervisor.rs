//! A supervisor on Unix: the command leads a process group of its own, the tree is what
//! `tree.rs` says (every descendant of the supervisor where it is their subreaper, and what it
//! saw elsewhere), stop requests are signals.

use std::fs::File;
use std::io::{self, Read};
use std::process::{Child, Command};
use std::time::Duration;

use crate::platform::{os, ChildEnd, ProcessStat, Signal, SupervisorEvent};

use super::tree::Tree;
use super::{in_new_group, kill, reap_child};

pub(in crate::platform) fn detached(cmd: &mut Command) -> &mut Command {
    cmd
}

/// The process started has forked the shim away and exits at once: it is reaped here.
pub(in crate::platform) fn release_detached(mut child: Child) {
    let _ = child.wait();
}

/// The shim calls setsid.
pub(in crate::platform) fn is_detached_leader(pid: u32, stat: &ProcessStat) -> bool {
    stat.in_session(pid)
}

pub(in crate::platform) fn become_supervisor() -> io::Result<()> {
    os::detach()
}

pub(in crate::platform) fn request_stop(pid: u32, _start_time: u64) -> bool {
    kill(pid, Signal::Terminate)
}

/// The read end of the output pipe, opened non-blocking.
pub(in crate::platform) struct PipeReader(pub(in crate::platform) File);

impl PipeReader {
    pub(in crate::platform) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.0).read(buf)
    }
}

pub(in crate::platform) struct Supervisor {
    signals: os::Signals,
    /// The command, once started: it leads its process group.
    main_pid: Option<u32>,
    main_reaped: bool,
    tree: Tree,
}

impl Supervisor {
    pub(in crate::platform) fn install() -> io::Result<Supervisor> {
        Ok(Supervisor {
            signals: os::Signals::install()?,
            main_pid: None,
            main_reaped: false,
            tree: Tree::new(std::process::id()),
        })
    }

    pub(in crate::platform) fn start(&mut self, cmd: &mut Command) -> io::Result<u32> {
        in_new_group(cmd);
        // The signals the supervisor holds back would leave the command unstoppable.
        os::unblock_signals_in(cmd);
        let pid = cmd.spawn()?.id();
        // The pid stays reserved until it is reaped here, so the group's id names our group.
        self.main_pid = Some(pid);
        Ok(pid)
    }

    /// Where the tree must be scanned to be known, no longer than the next scan is due; the
    /// scan is made on the way out.
    pub(in crate::platform) fn wait(
        &mut self,
        pipe: Option<&PipeReader>,
        timeout: Option<Duration>,
    ) -> io::Result<bool> {
        let timeout = match self.tree.next_scan_in() {
            Some(scan) => Some(timeout.map_or(scan, |t| t.min(scan))),
            None => timeout,
        };
        let waited = self.signals.wait(pipe.map(|p| &p.0), timeout);
        self.tree.scan_if_due();
        waited
    }

    pub(in crate::platform) fn take(&mut self) -> Vec<SupervisorEvent> {
        self.signals.take()
    }

    pub(in crate::platform) fn reap(&mut self) -> Option<ChildEnd> {
        let mut main_end = None;
        while let Some((pid, end)) = reap_child() {
            if Some(pid) == self.main_pid {
                self.main_reaped = true;
                main_end = Some(end);
            }
        }
        main_end
    }

    pub(in crate::platform) fn ask_tree_to_stop(&mut self) {
        let group = self.living_group();
        self.tree.signal(Signal::Terminate, group);
    }

    pub(in crate::platform) fn end_tree(&mut self) {
        let group = self.living_group();
        self.tree.signal(Signal::Kill, group);
    }

    pub(in crate::platform) fn tree(&mut self) -> Vec<u32> {
        self.tree.survivors()
    }

    /// The command's process group while its leader is our unreaped child: its id is not reused
    /// meanwhile, so it names our group.
    fn living_group(&self) -> Option<u32> {
        self.main_pid.filter(|_| !self.main_reaped)
    }
}
