//! What only macOS has: `libproc` and sysctl for processes and their sockets, kqueue for the
//! end of a process that is not ours, `F_PUNCHHOLE`. The supervisor's mechanics are POSIX's
//! (`posix/`): macOS has no child subreaper, signalfd or pipe sizes.

mod exits;
mod holes;
mod libproc;
mod procs;
mod sockets;

pub(super) use super::posix::{detach, output_pipe, unblock_signals_in, Signals, ADOPTS_ORPHANS};
pub(super) use exits::{child_has_exited, wait_exit};
pub(super) use holes::punch_hole;
pub(super) use procs::{boot_id, cmdline, pids, process_name, stat};
pub(super) use sockets::{listeners_of, port_owner};
