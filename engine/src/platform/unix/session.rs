//! Leaving the process that started us for a session of our own.

use std::io;

use nix::unistd::{fork, setsid, ForkResult};

/// Forks; the parent leaves at once (so whoever started it can reap it) and the child becomes
/// the leader of a new session. Only while no other thread exists.
pub(in crate::platform) fn detach_into_new_session() -> io::Result<()> {
    // SAFETY: called before any thread exists in this process, so fork is safe.
    match unsafe { fork() }? {
        // Raw `libc`: nix has no wrapper for _exit, which leaves at once without running
        // anything the parent's exit would.
        // SAFETY: _exit ends this process; nothing runs after it.
        ForkResult::Parent { .. } => unsafe { libc::_exit(0) },
        ForkResult::Child => {}
    }
    setsid()?;
    Ok(())
}
