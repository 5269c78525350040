//! What a process cost: the system's load and a child's peak memory.

use std::io;
use std::process::Child;

use crate::platform::os;

pub(in crate::platform) fn load_average() -> Option<[f64; 3]> {
    let mut loads = [0.0f64; 3];
    // Raw `libc`: nix has no wrapper for getloadavg.
    // SAFETY: the buffer holds the three values asked for.
    let n = unsafe { libc::getloadavg(loads.as_mut_ptr(), 3) };
    (n == 3).then_some(loads)
}

/// `wait4`, the one call that reaps a given child with its own resource usage (nix wraps only
/// `waitpid`). `ru_maxrss` counts in units that differ between systems (`MAXRSS_UNIT` bytes).
pub(in crate::platform) fn wait_peak_memory(child: Child) -> io::Result<u64> {
    let pid = libc::pid_t::try_from(child.id())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of a plain C struct, filled in below.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waits for our own child with pointers to live locals.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc >= 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    Ok(u64::try_from(usage.ru_maxrss)
        .unwrap_or(0)
        .saturating_mul(os::MAXRSS_UNIT))
}
