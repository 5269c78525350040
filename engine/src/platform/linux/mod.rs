//! What only Linux has: `/proc` (processes, sockets), pidfd, waiting on a child without reaping
//! it, hole punching, and the supervisor's child subreaper, signalfd and pipe size. With the
//! `portable-posix` feature the supervisor's mechanics and the wait for a non-child come from
//! `posix/` instead, as on macOS; `/proc` stays, being the only source of process information
//! Linux has, and so does hole punching, a feature of the file system.

mod children;
mod holes;
#[cfg(not(feature = "portable-posix"))]
mod pidfd;
mod procfs;
mod sockets;
#[cfg(not(feature = "portable-posix"))]
mod supervisor;

pub(super) use children::child_has_exited;
pub(super) use holes::punch_hole;
#[cfg(not(feature = "portable-posix"))]
pub(super) use pidfd::wait_exit;
pub(super) use procfs::{boot_id, cmdline, pids, process_name, stat};
pub(super) use sockets::{listeners_of, port_owner};
#[cfg(not(feature = "portable-posix"))]
pub(super) use supervisor::{detach, output_pipe, unblock_signals_in, Signals, ADOPTS_ORPHANS};

#[cfg(feature = "portable-posix")]
pub(super) use super::posix::{
    detach, output_pipe, unblock_signals_in, wait_exit, Signals, ADOPTS_ORPHANS,
};
