//! The command's tree as a Unix supervisor knows it: the one rule of what a stop signals and
//! when the tree counts as gone.
//!
//! Where the supervisor adopts orphans (Linux's child subreaper) its descendants are the whole
//! tree. Elsewhere a process whose parent ends leaves it, so the tree
//! also holds what the shim can still prove is the command's: the processes of the shim's own
//! session (only forks of its command can be there), and every process seen in the tree by an
//! earlier scan that still has the start time it had then, with their descendants. There, a
//! tree is paused before SIGKILL (see [`Tree::pause`]), so that nothing it forks meanwhile
//! escapes. What calls `setsid` and loses its parent between two scans (0.5 s while the command
//! runs, 20 ms during a stop's grace) is not found.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::platform::{os, signal_group, signal_verified, signallable, ProcessTable, Signal};

use super::kill;

/// How often the tree is scanned while the command runs, where orphans leave it: each scan
/// reads the whole process table (on Linux, a debug build with 100 processes, a waiting shim
/// used half a percent of one core, about 3 ms per scan).
const SCAN_EVERY: Duration = Duration::from_millis(500);

/// The most scans a pause makes: a tree that forks faster than it can be paused is still
/// signalled (and the next round pauses what is left).
const PAUSE_ROUNDS: usize = 20;

pub(in crate::platform) struct Tree {
    /// The shim: the root of the tree and the leader of its session.
    me: u32,
    /// Where orphans leave the tree: every process seen in it, by pid, with its start time.
    /// Entries whose process ended (or whose pid now names another) are dropped at each scan.
    seen: HashMap<u32, u64>,
    /// What has had SIGTERM, which is sent once per process.
    termed: HashSet<u32>,
    next_scan: Instant,
}

impl Tree {
    pub(in crate::platform) fn new(me: u32) -> Tree {
        Tree {
            me,
            seen: HashMap::new(),
            termed: HashSet::new(),
            next_scan: Instant::now() + SCAN_EVERY,
        }
    }

    /// How long until the next scan is due; `None` where none is needed.
    pub(in crate::platform) fn next_scan_in(&self) -> Option<Duration> {
        (!os::ADOPTS_ORPHANS).then(|| self.next_scan.saturating_duration_since(Instant::now()))
    }

    /// Scans the tree when a scan is due, to remember what is in it.
    pub(in crate::platform) fn scan_if_due(&mut self) {
        if !os::ADOPTS_ORPHANS && Instant::now() >= self.next_scan {
            self.members();
        }
    }

    /// Sends `sig` to the command's process `group` (given while its leader is our unreaped
    /// child, so that the id names it) and to every member of the tree, each at most once for
    /// SIGTERM. The group catches forks that race the scan.
    pub(in crate::platform) fn signal(&mut self, sig: Signal, group: Option<u32>) {
        let members = if sig == Signal::Kill && !os::ADOPTS_ORPHANS {
            self.pause(group)
        } else {
            self.members()
        };
        self.send(sig, group, &members);
    }

    /// Pauses the group and every member, scanning again until a scan finds no member that
    /// was not paused yet: a paused process cannot fork, and one forked before its parent was
    /// paused is found through that parent. Without it, a process forked after the scan that
    /// leaves its session and whose parent SIGKILL ends would escape. Returns the members.
    ///
    /// Only before SIGKILL: a process that outlives the signal would have to be resumed, and a
    /// group whose last parent outside it exits while a member is paused is sent SIGHUP by the
    /// kernel, which would end it before its grace.
    fn pause(&mut self, group: Option<u32>) -> Vec<(u32, u64)> {
        if let Some(group) = group {
            signal_group(group, Signal::Pause);
        }
        let mut paused = HashSet::new();
        for _ in 0..PAUSE_ROUNDS {
            let members = self.members();
            let mut new = false;
            for &(pid, start_time) in &members {
                if paused.insert(pid) {
                    new = true;
                    signal_verified(pid, start_time, Signal::Pause);
                }
            }
            if !new {
                return members;
            }
        }
        self.members()
    }

    fn send(&mut self, sig: Signal, group: Option<u32>, members: &[(u32, u64)]) {
        if let Some(group) = group {
            signal_group(group, sig);
        }
        for &(pid, start_time) in members {
            if sig == Signal::Terminate && !self.termed.insert(pid) {
                continue;
            }
            if os::ADOPTS_ORPHANS {
                // Ours to reap: the pid cannot be reused before it is reaped here.
                if signallable(pid) {
                    kill(pid, sig);
                }
            } else {
                // Not necessarily ours to reap: only the start time proves the pid.
                signal_verified(pid, start_time, sig);
            }
        }
    }

    /// What is left of the tree.
    pub(in crate::platform) fn survivors(&mut self) -> Vec<u32> {
        self.members().into_iter().map(|(pid, _)| pid).collect()
    }

    /// The living members of the tree now, with their start times; remembers them where
    /// orphans leave the tree.
    fn members(&mut self) -> Vec<(u32, u64)> {
        if os::known_without_descendants() {
            return Vec::new();
        }
        let table = ProcessTable::read();
        let mut pids = table.descendants(self.me);
        if !os::ADOPTS_ORPHANS {
            self.seen.retain(|&pid, &mut start_time| {
                table
                    .get(pid)
                    .is_some_and(|s| s.start_time == start_time && !s.has_exited())
            });
            pids.extend(table.session_members(self.me));
            for &pid in self.seen.keys() {
                pids.push(pid);
                pids.extend(table.descendants(pid));
            }
            self.next_scan = Instant::now() + SCAN_EVERY;
        }
        let mut listed = HashSet::new();
        let members: Vec<(u32, u64)> = pids
            .into_iter()
            .filter(|&pid| pid != self.me && listed.insert(pid))
            .filter_map(|pid| {
                let s = table.get(pid)?;
                (!s.has_exited()).then_some((pid, s.start_time))
            })
            .collect();
        if !os::ADOPTS_ORPHANS {
            self.seen.extend(members.iter().copied());
        }
        members
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_with_a_living_child_is_not_known_to_be_without_descendants() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let known = os::known_without_descendants();
        let _ = child.kill();
        let _ = child.wait();
        assert!(!known);
    }
}
