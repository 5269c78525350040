//! What POSIX gives a supervisor where Linux's extras are missing (macOS) or left aside (Linux
//! with the `portable-posix` feature): detaching without becoming the reaper of orphans, signals
//! through a self-pipe, a pipe of the default size, and waiting for a process that is not ours
//! by polling (Linux without pidfd; macOS when it cannot have a kqueue).

mod polling;
mod self_pipe;
mod supervisor;

pub(super) use polling::wait_exit;
pub(super) use self_pipe::Signals;
pub(super) use supervisor::{
    detach, known_without_descendants, output_pipe, unblock_signals_in, ADOPTS_ORPHANS,
};
