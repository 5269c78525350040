//! Waiting for a process that is not our child: a pidfd becomes readable when it ends.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::platform::is_alive;

pub(in crate::platform) fn wait_exit(pid: u32, start_time: u64, timeout: Duration) -> bool {
    // A timeout too large to add is as good as forever.
    let deadline = Instant::now()
        .checked_add(timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(u64::from(u32::MAX)));
    let Some(fd) = pidfd_open(pid) else {
        return wait_by_polling(pid, start_time, deadline);
    };
    // The pid may have been reused between the caller's check and the open.
    if !is_alive(pid, start_time) {
        return true;
    }
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, ms) {
            Ok(0) => return !is_alive(pid, start_time),
            Ok(_) => return true,
            Err(Errno::EINTR) => {}
            Err(_) => return wait_by_polling(pid, start_time, deadline),
        }
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

/// Raw `libc`: nix has no wrapper for pidfd_open.
fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(fd).ok().filter(|&fd| fd >= 0)?;
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}
