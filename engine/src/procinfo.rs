//! What `/proc` says about processes: start times (so a reused pid is never trusted), liveness,
//! the descendants of a process, and what each one costs (CPU time, resident pages).

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use nix::unistd::{sysconf, SysconfVar};

/// The fields of `/proc/<pid>/stat` that Procdeck uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub state: char,
    pub ppid: u32,
    pub pgrp: i32,
    pub session: i32,
    /// CPU time spent in user and kernel mode (`utime + stime`), in clock ticks.
    pub cpu_ticks: u64,
    /// Clock ticks after boot.
    pub start_time: u64,
    /// Resident set size, in pages.
    pub rss_pages: u64,
}

pub fn stat(pid: u32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// The command name sits in parentheses and may itself hold spaces and parentheses, so the
/// fields are read after the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    Some(Stat {
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        pgrp: fields.get(2)?.parse().ok()?,
        session: fields.get(3)?.parse().ok()?,
        cpu_ticks: fields
            .get(11)?
            .parse::<u64>()
            .ok()?
            .saturating_add(fields.get(12)?.parse().ok()?),
        start_time: fields.get(19)?.parse().ok()?,
        rss_pages: fields.get(21)?.parse().ok()?,
    })
}

/// Clock ticks per second, the unit of [`Stat::cpu_ticks`] and [`Stat::start_time`].
pub fn clock_ticks_per_second() -> Option<u64> {
    positive_sysconf(SysconfVar::CLK_TCK)
}

/// Bytes per page, the unit of [`Stat::rss_pages`].
pub fn page_size() -> Option<u64> {
    positive_sysconf(SysconfVar::PAGE_SIZE)
}

fn positive_sysconf(var: SysconfVar) -> Option<u64> {
    sysconf(var)
        .ok()
        .flatten()
        .and_then(|v| u64::try_from(v).ok())
        .filter(|&v| v > 0)
}

pub fn start_time(pid: u32) -> Option<u64> {
    stat(pid).map(|s| s.start_time)
}

/// Identifies this boot, so that start times from an earlier boot never match. `None` when it
/// cannot be read: an unknown boot matches no record, so nothing is trusted or signalled then.
pub fn boot_id() -> Option<String> {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// True when `recorded` names this boot (an empty record never does).
pub fn is_this_boot(recorded: &str) -> bool {
    !recorded.is_empty() && boot_id().is_some_and(|b| b == recorded)
}

/// The arguments `pid` was started with (empty for a zombie or a kernel thread).
pub fn cmdline(pid: u32) -> Option<Vec<OsString>> {
    let bytes = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        bytes
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| OsStr::from_bytes(a).to_owned())
            .collect(),
    )
}

/// True when `pid` is the same process that had `start_time`, and it has not exited (a zombie
/// waiting for its parent counts as exited).
pub fn is_alive(pid: u32, start_time: u64) -> bool {
    matches!(stat(pid), Some(s) if s.start_time == start_time && s.state != 'Z' && s.state != 'X')
}

/// Every living process whose parent chain leads to `root`, excluding `root`.
pub fn descendants(root: u32) -> Vec<u32> {
    ProcessTable::read().descendants(root)
}

/// Every process of the system, read in one pass over `/proc`. Each entry is one read of its
/// `stat`, so a process's parent, start time and counters always belong together; a process
/// that ends during the pass is simply missing.
/// Every process's pid, as `/proc` lists them now (empty when it cannot be read).
pub fn pids() -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .collect()
}

#[derive(Debug, Default)]
pub struct ProcessTable {
    stats: HashMap<u32, Stat>,
    /// The living children of each process (zombies and dying processes left out).
    children: HashMap<u32, Vec<u32>>,
}

impl ProcessTable {
    pub fn read() -> ProcessTable {
        let mut table = ProcessTable::default();
        for pid in pids() {
            if let Some(s) = stat(pid) {
                if s.state != 'Z' && s.state != 'X' {
                    table.children.entry(s.ppid).or_default().push(pid);
                }
                table.stats.insert(pid, s);
            }
        }
        table
    }

    pub fn get(&self, pid: u32) -> Option<&Stat> {
        self.stats.get(&pid)
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
}

/// Sends `signal` to `pid` only if it is still the process that had `start_time`. Pid 0 would
/// signal our own group and pid 1 is init: neither is ever a process Procdeck started.
pub fn signal_verified(pid: u32, start_time: u64, signal: i32) -> bool {
    let Some(target) = signallable(pid) else {
        return false;
    };
    if !is_alive(pid, start_time) {
        return false;
    }
    // SAFETY: kill has no memory effects; the pid was just verified against its start time.
    unsafe { libc::kill(target, signal) == 0 }
}

/// `pid` as a kill(2) target when it can name one process of ours: not 0 (our own group), not
/// 1 (init), and not beyond `pid_t`, where the cast would turn negative and name a group.
pub fn signallable(pid: u32) -> Option<libc::pid_t> {
    libc::pid_t::try_from(pid).ok().filter(|&p| p > 1)
}

/// Waits until the process `pid` (verified by `start_time`) has exited, up to `timeout`, without
/// polling: a pidfd becomes readable when the process ends. Returns true when it has exited.
pub fn wait_exit(pid: u32, start_time: u64, timeout: Duration) -> bool {
    // A timeout too large to add is as good as forever.
    let deadline = Instant::now()
        .checked_add(timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(u64::from(u32::MAX)));
    match pidfd_open(pid) {
        Some(fd) => {
            // The pid may have been reused between the caller's check and the open.
            if !is_alive(pid, start_time) {
                return true;
            }
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let mut pfd = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                let ms = left.as_millis().min(i32::MAX as u128) as i32;
                // SAFETY: one valid pollfd for the duration of the call.
                let n = unsafe { libc::poll(&mut pfd, 1, ms) };
                if n > 0 {
                    return true;
                }
                if n == 0 {
                    return !is_alive(pid, start_time);
                }
                if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    break;
                }
            }
            wait_by_polling(pid, start_time, deadline)
        }
        None => wait_by_polling(pid, start_time, deadline),
    }
}

/// For kernels without pidfd (before 5.3).
fn wait_by_polling(pid: u32, start_time: u64, deadline: Instant) -> bool {
    while is_alive(pid, start_time) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_with_an_unaddable_timeout_does_not_panic() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        let start = start_time(pid).unwrap_or(0);
        child.wait().expect("reap true");
        assert!(wait_exit(pid, start, Duration::MAX));
    }

    #[test]
    fn parses_stat_with_parentheses_and_spaces_in_the_name() {
        let line = "1234 (we(ird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10 18446744073709551615";
        let s = parse_stat(line).expect("parses");
        assert_eq!(s.state, 'S');
        assert_eq!(s.ppid, 1);
        assert_eq!(s.pgrp, 1234);
        assert_eq!(s.cpu_ticks, 3);
        assert_eq!(s.start_time, 98765);
        assert_eq!(s.rss_pages, 10);
    }

    #[test]
    fn stat_without_the_counters_is_not_read() {
        let line = "1234 (x) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000";
        assert_eq!(parse_stat(line), None);
        let garbled =
            "1234 (x) S 1 1234 1234 0 -1 4194560 100 0 0 0 one 2 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(parse_stat(garbled), None);
    }

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

    #[test]
    fn pids_that_name_a_group_or_init_are_never_signallable() {
        for pid in [0, 1, u32::MAX, i32::MAX as u32 + 1] {
            assert_eq!(signallable(pid), None, "{pid}");
        }
        assert_eq!(signallable(2), Some(2));
        assert!(!signal_verified(1, start_time(1).unwrap_or(0), 0));
    }

    #[test]
    fn an_empty_recorded_boot_is_never_this_boot() {
        assert!(!is_this_boot(""));
        if let Some(boot) = boot_id() {
            assert!(is_this_boot(&boot));
        }
    }

    #[test]
    fn own_process_is_alive_and_a_wrong_start_time_is_not() {
        let me = std::process::id();
        let st = start_time(me).expect("own stat");
        assert!(is_alive(me, st));
        assert!(!is_alive(me, st + 1));
    }
}
