//! What each running process costs: the CPU and resident memory of its whole tree.
//!
//! A process's tree is everything under its shim: the command's main process, its descendants,
//! and the orphans the shim adopted as their subreaper (the shim itself, Procdeck's own cost, is
//! left out). A tree is measured only when its shim is provably the record's (see
//! [`Store::shim_is_ours`](crate::store::Store::shim_is_ours)) and, in the process table read for
//! the measure, still has the recorded start time, so a reused pid is never counted.
//!
//! Memory is the sum of the tree's resident set sizes (pages shared between processes count
//! once per process, as `ps` adds them). CPU is a rate, so it needs two samples: the CPU time
//! (`utime + stime`) each process of the tree used since the previous sample, over the wall
//! time between them, in percent of one core (a tree busy on two cores shows 200 %). The work
//! of a process that starts and ends between two samples is not seen.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use serde::Serialize;

use crate::error::Result;
use crate::id;
use crate::platform::{self, ProcessTable};
use crate::workspace::Workspace;

/// What a running process's tree costs now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// CPU used since the previous sample, in percent of one core (above 100 on several
    /// cores); None on a tree's first sample.
    pub cpu_percent: Option<f64>,
    /// The resident memory of the tree's processes, added up.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub rss_bytes: u64,
}

/// A tree to measure: the processes under `root`, which must still have `root_start_time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// What the measure is reported under (a process id).
    pub key: String,
    pub root: u32,
    pub root_start_time: u64,
}

/// A tree's CPU counters at one moment, per process: a pid with another start time is another
/// process.
struct Sample {
    root: (u32, u64),
    at: Instant,
    ticks: HashMap<(u32, u64), u64>,
}

/// Measures trees, keeping each one's previous sample so that CPU is a rate. A tree left out
/// of a round is forgotten: measured again later, its first sample has no CPU figure rather
/// than an average over the time it was not looked at.
#[derive(Default)]
pub struct UsageSampler {
    previous: HashMap<String, Sample>,
}

impl UsageSampler {
    pub fn new() -> UsageSampler {
        UsageSampler::default()
    }

    /// Measures every tree of `trees` whose root is alive with its recorded start time, from
    /// one read of the process table; the others are left out of the answer.
    pub fn sample(&mut self, trees: &[Tree]) -> BTreeMap<String, Usage> {
        let Some(page) = platform::page_size() else {
            tracing::warn!("the page size is unknown: no process is measured");
            return BTreeMap::new();
        };
        let table = ProcessTable::read();
        let at = Instant::now();
        let ticks_per_second = platform::clock_ticks_per_second();
        let mut out = BTreeMap::new();
        let mut next = HashMap::new();
        for tree in trees {
            let root_fits = table.get(tree.root).is_some_and(|s| {
                s.start_time == tree.root_start_time && s.state != 'Z' && s.state != 'X'
            });
            if !root_fits {
                continue;
            }
            let mut rss_pages = 0u64;
            let mut ticks = HashMap::new();
            for pid in table.descendants(tree.root) {
                if let Some(s) = table.get(pid) {
                    rss_pages = rss_pages.saturating_add(s.rss_pages);
                    ticks.insert((pid, s.start_time), s.cpu_ticks);
                }
            }
            let sample = Sample {
                root: (tree.root, tree.root_start_time),
                at,
                ticks,
            };
            let cpu_percent = match (self.previous.get(&tree.key), ticks_per_second) {
                (Some(prev), Some(hz)) if prev.root == sample.root => {
                    cpu_percent(prev, &sample, hz)
                }
                _ => None,
            };
            out.insert(
                tree.key.clone(),
                Usage {
                    cpu_percent,
                    rss_bytes: rss_pages.saturating_mul(page),
                },
            );
            next.insert(tree.key.clone(), sample);
        }
        self.previous = next;
        out
    }
}

/// The CPU the tree used between two samples, in percent of one core. A process seen in both
/// counts what it used in between; a new one (started in between) counts all it used.
fn cpu_percent(prev: &Sample, now: &Sample, ticks_per_second: u64) -> Option<f64> {
    let seconds = now.at.checked_duration_since(prev.at)?.as_secs_f64();
    if seconds <= 0.0 {
        return None;
    }
    let used: u64 = now
        .ticks
        .iter()
        .map(|(proc_id, &t)| t.saturating_sub(prev.ticks.get(proc_id).copied().unwrap_or(0)))
        .fold(0, u64::saturating_add);
    Some(used as f64 / ticks_per_second as f64 / seconds * 100.0)
}

impl Workspace {
    /// What the trees of the running processes `ids` cost, measured by `sampler` (which keeps
    /// the previous sample of each). Processes that are not running, or whose shim is not
    /// provably theirs, are left out of the answer.
    pub fn usage(
        &self,
        sampler: &mut UsageSampler,
        ids: &[String],
    ) -> Result<BTreeMap<String, Usage>> {
        for id in ids {
            id::validate(id)?;
        }
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let trees: Vec<Tree> = self
            .store
            .saved_records()
            .into_iter()
            .filter(|r| wanted.contains(r.id.as_str()) && r.status.is_running())
            .filter(|r| self.store.shim_is_ours(r))
            .filter_map(|r| {
                let sup = r.supervisor?;
                Some(Tree {
                    key: r.id,
                    root: sup.shim_pid,
                    root_start_time: sup.shim_start_time,
                })
            })
            .collect();
        Ok(sampler.sample(&trees))
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Child, Command};
    use std::time::Duration;

    use super::*;

    /// A `sh` whose child runs `script`: the shell stands for a shim, the child for its command.
    struct Parent(Child);

    impl Parent {
        fn start(script: &str) -> Parent {
            let mut cmd = Command::new("sh");
            cmd.arg("-c").arg(format!("({script}) & wait"));
            let child = platform::in_new_group(&mut cmd).spawn().expect("spawn sh");
            Parent(child)
        }

        fn tree(&self, key: &str) -> Tree {
            let root = self.0.id();
            Tree {
                key: key.to_owned(),
                root,
                root_start_time: platform::start_time(root).expect("start time"),
            }
        }
    }

    impl Drop for Parent {
        fn drop(&mut self) {
            // The group is our unreaped child's.
            platform::signal_group(self.0.id(), platform::Signal::Kill);
            let _ = self.0.wait();
        }
    }

    #[test]
    fn a_busy_tree_shows_cpu_and_an_idle_one_almost_none() {
        let busy = Parent::start("while :; do :; done");
        let idle = Parent::start("sleep 60");
        let trees = [busy.tree("busy"), idle.tree("idle")];
        let mut sampler = UsageSampler::new();
        let first = sampler.sample(&trees);
        assert_eq!(first.get("busy").map(|u| u.cpu_percent), Some(None));
        std::thread::sleep(Duration::from_millis(1000));
        let second = sampler.sample(&trees);
        let busy_cpu = second["busy"].cpu_percent.expect("a rate");
        let idle_cpu = second["idle"].cpu_percent.expect("a rate");
        // One core spinning; on a loaded machine it gets less, never nothing.
        assert!(busy_cpu > 20.0, "busy: {busy_cpu}");
        assert!(idle_cpu < 5.0, "idle: {idle_cpu}");
        assert!(second["idle"].rss_bytes > 0);
    }

    #[test]
    fn a_root_with_another_start_time_is_not_measured() {
        let busy = Parent::start("while :; do :; done");
        let mut reused = busy.tree("reused");
        reused.root_start_time += 1;
        let mut sampler = UsageSampler::new();
        let measured = sampler.sample(&[busy.tree("busy"), reused]);
        assert!(measured.contains_key("busy"));
        assert!(!measured.contains_key("reused"), "{measured:?}");
    }

    #[test]
    fn a_tree_left_out_of_a_round_starts_again_without_cpu() {
        let idle = Parent::start("sleep 60");
        let tree = idle.tree("idle");
        let mut sampler = UsageSampler::new();
        sampler.sample(std::slice::from_ref(&tree));
        std::thread::sleep(Duration::from_millis(50));
        let second = sampler.sample(std::slice::from_ref(&tree));
        assert!(second["idle"].cpu_percent.is_some());
        sampler.sample(&[]);
        let again = sampler.sample(std::slice::from_ref(&tree));
        assert_eq!(again["idle"].cpu_percent, None);
    }
}
