//! The process table: every process of the system at one moment, with its children.

use std::collections::HashMap;

use super::{pids, stat, ProcessStat};

/// Every process of the system, read in one pass. Each entry is one read of its stat, so a
/// process's parent, start time and counters always belong together; a process that ends during
/// the pass is simply missing.
#[derive(Debug, Default)]
pub struct ProcessTable {
    stats: HashMap<u32, ProcessStat>,
    /// The living children of each process (exited ones left out).
    children: HashMap<u32, Vec<u32>>,
}

impl ProcessTable {
    pub fn read() -> ProcessTable {
        let mut table = ProcessTable::default();
        let read: Vec<(u32, ProcessStat)> = pids()
            .into_iter()
            .filter_map(|pid| stat(pid).map(|s| (pid, s)))
            .collect();
        table.stats = read.iter().copied().collect();
        for (pid, s) in read {
            // A process never starts before its parent: one that did names a parent whose pid
            // was reused since (Windows keeps a parent's pid after it ends, and reuses pids).
            let reused = table
                .stats
                .get(&s.ppid)
                .is_some_and(|parent| parent.start_time > s.start_time);
            if !s.has_exited() && !reused {
                table.children.entry(s.ppid).or_default().push(pid);
            }
        }
        table
    }

    pub fn get(&self, pid: u32) -> Option<&ProcessStat> {
        self.stats.get(&pid)
    }

    /// Every process read, exited ones included, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &ProcessStat)> {
        self.stats.iter().map(|(&pid, stat)| (pid, stat))
    }

    /// Every living process whose parent chain leads to `root`, excluding `root`; parents come
    /// before their children.
    pub fn descendants(&self, root: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(p) = stack.pop() {
            if let Some(kids) = self.children.get(&p) {
                for &k in kids {
                    out.push(k);
                    stack.push(k);
                }
            }
        }
        out
    }

    /// Every living process of the session that `leader` leads, excluding `leader`.
    pub fn session_members(&self, leader: u32) -> Vec<u32> {
        self.stats
            .iter()
            .filter(|(&pid, s)| pid != leader && s.in_session(leader) && !s.has_exited())
            .map(|(&pid, _)| pid)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{clock_ticks_per_second, page_size};

    #[test]
    fn the_table_holds_this_process_and_its_child_under_it() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let table = ProcessTable::read();
        let me = std::process::id();
        let found = table.descendants(me).contains(&child.id());
        let own = table.get(me).map(|s| s.rss_pages);
        let _ = child.kill();
        let _ = child.wait();
        assert!(found, "the child is a descendant");
        assert!(own.is_some_and(|pages| pages > 0), "{own:?}");
        assert!(clock_ticks_per_second().is_some_and(|t| t > 0));
        assert!(page_size().is_some_and(|p| p >= 4096));
    }
}
