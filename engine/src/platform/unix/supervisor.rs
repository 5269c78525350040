//! A supervisor on Unix: the command leads a process group of its own, the tree is every
//! descendant of the supervisor (which is their subreaper), stop requests are signals.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::process::{Child, Command};
use std::time::Duration;

use crate::platform::{
    descendants, os, signallable, ChildEnd, ProcessStat, Signal, SupervisorEvent,
};

use super::{in_new_group, kill, kill_group, reap_child};

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
    me: u32,
    /// The command, once started: it leads its process group.
    main_pid: Option<u32>,
    main_reaped: bool,
    /// The descendants sent SIGTERM already.
    termed: HashSet<u32>,
}

impl Supervisor {
    pub(in crate::platform) fn install() -> io::Result<Supervisor> {
        Ok(Supervisor {
            signals: os::Signals::install()?,
            me: std::process::id(),
            main_pid: None,
            main_reaped: false,
            termed: HashSet::new(),
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

    pub(in crate::platform) fn wait(
        &self,
        pipe: Option<&PipeReader>,
        timeout: Option<Duration>,
    ) -> io::Result<bool> {
        self.signals.wait(pipe.map(|p| &p.0), timeout)
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
        self.signal_tree(Signal::Terminate);
    }

    pub(in crate::platform) fn end_tree(&mut self) {
        self.signal_tree(Signal::Kill);
    }

    pub(in crate::platform) fn tree(&self) -> Vec<u32> {
        descendants(self.me)
    }

    /// Signals the command's process group (which catches forks racing the scan) and every
    /// descendant in the process table, each at most once for SIGTERM. Descendants need no start
    /// time: this process is their subreaper, so their pids cannot be reused before it reaps
    /// them.
    fn signal_tree(&mut self, sig: Signal) {
        if let Some(group) = self.main_pid.filter(|_| !self.main_reaped) {
            // The group is ours: its leader is our unreaped child, so its id is not reused.
            if signallable(group) {
                kill_group(group, sig);
            }
        }
        for pid in descendants(self.me) {
            if sig == Signal::Terminate && !self.termed.insert(pid) {
                continue;
            }
            if signallable(pid) {
                kill(pid, sig);
            }
        }
    }
}
