//! Processes as `libproc` and sysctl describe them.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use nix::unistd::{getsid, Pid};

use super::libproc;
use crate::platform::{clock_ticks_per_second, page_size, ProcessStat};

/// `pbi_status` values (`<sys/proc.h>`).
const SIDL: u32 = 1;
const SSTOP: u32 = 4;
const SZOMB: u32 = 5;

pub(in crate::platform) fn stat(pid: u32) -> Option<ProcessStat> {
    let bsd: libc::proc_bsdinfo = libproc::pid_info(pid, libc::PROC_PIDTBSDINFO)?;
    let state = match bsd.pbi_status {
        SZOMB => 'Z',
        SSTOP => 'T',
        SIDL => 'D',
        _ => 'R',
    };
    // A zombie, and a process of another user, has no task information to give.
    let task: Option<libc::proc_taskinfo> = libproc::pid_info(pid, libc::PROC_PIDTASKINFO);
    let session =
        getsid(Some(Pid::from_raw(libc::pid_t::try_from(pid).ok()?))).map_or(-1, Pid::as_raw);
    Some(ProcessStat {
        state,
        ppid: bsd.pbi_ppid,
        pgrp: i32::try_from(bsd.pbi_pgid).unwrap_or(-1),
        session,
        cpu_ticks: task.map_or(0, |t| {
            cpu_ticks(t.pti_total_user.saturating_add(t.pti_total_system))
        }),
        // Microseconds since the epoch: with the pid and the boot id it names one process.
        start_time: bsd
            .pbi_start_tvsec
            .saturating_mul(1_000_000)
            .saturating_add(bsd.pbi_start_tvusec),
        rss_pages: task.map_or(0, |t| t.pti_resident_size / page_size().unwrap_or(16384)),
    })
}

/// Mach absolute time units to clock ticks ([`clock_ticks_per_second`]).
fn cpu_ticks(mach: u64) -> u64 {
    let (numer, denom) = libproc::timebase().unwrap_or((1, 1));
    let nanos = u128::from(mach) * u128::from(numer) / u128::from(denom);
    let ticks = nanos * u128::from(clock_ticks_per_second().unwrap_or(100)) / 1_000_000_000;
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// The boot session's UUID, new at every boot.
pub(in crate::platform) fn boot_id() -> Option<String> {
    let bytes = libproc::sysctl_by_name(c"kern.bootsessionuuid", 64)?;
    let text = String::from_utf8_lossy(&bytes);
    let id = text.trim_end_matches('\0').trim();
    (!id.is_empty()).then(|| id.to_owned())
}

/// `KERN_PROCARGS2`: the argument count, the executable's path, padding, then the arguments
/// (and the environment after them), each NUL-terminated.
pub(in crate::platform) fn cmdline(pid: u32) -> Option<Vec<OsString>> {
    let max = libproc::sysctl(&mut [libc::CTL_KERN, libc::KERN_ARGMAX], 4)?;
    let max = usize::try_from(i32::from_ne_bytes(max.get(..4)?.try_into().ok()?)).ok()?;
    let pid = i32::try_from(pid).ok()?;
    let Some(buf) = libproc::sysctl(&mut [libc::CTL_KERN, libc::KERN_PROCARGS2, pid], max) else {
        // A zombie has no arguments left to read.
        return stat(pid.unsigned_abs()).map(|_| Vec::new());
    };
    parse_procargs(&buf)
}

fn parse_procargs(buf: &[u8]) -> Option<Vec<OsString>> {
    let argc = usize::try_from(i32::from_ne_bytes(buf.get(..4)?.try_into().ok()?)).ok()?;
    let rest = buf.get(4..)?;
    // The executable's path, then the NULs that pad it.
    let after_path = rest.iter().position(|&b| b == 0)?;
    let args_from = rest[after_path..].iter().position(|&b| b != 0)? + after_path;
    Some(
        rest[args_from..]
            .split(|&b| b == 0)
            .take(argc)
            .map(|a| OsStr::from_bytes(a).to_owned())
            .collect(),
    )
}

pub(in crate::platform) fn process_name(pid: u32) -> Option<String> {
    libproc::name(pid)
}

pub(in crate::platform) fn pids() -> Vec<u32> {
    libproc::all_pids()
}
