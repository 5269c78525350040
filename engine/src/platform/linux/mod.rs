//! What only Linux has: `/proc` (processes, sockets), pidfd, waiting on a child without reaping
//! it, hole punching, and the supervisor's child subreaper, signalfd and pipe size. With the
//! `portable-posix` feature the supervisor's mechanics and the wait for a non-child come from
//! `posix/` instead, as on macOS; `/proc` stays, being the only source of process information
//! Linux has, and so does hole punching, a feature of the file system.

mod children;
mod desktop;
mod holes;
#[cfg(not(feature = "portable-posix"))]
mod pidfd;
mod procfs;
mod sockets;
#[cfg(not(feature = "portable-posix"))]
mod supervisor;

pub(super) use children::child_has_exited;
pub(super) use desktop::{TRAY_TITLE_ON_HOVER, WEBVIEW_ENV_DEFAULTS};
pub(super) use holes::punch_hole;
#[cfg(not(feature = "portable-posix"))]
pub(super) use pidfd::wait_exit;
pub(super) use procfs::{boot_id, cmdline, pids, process_name, stat};
pub(super) use sockets::{listeners_of, port_owner};
#[cfg(not(feature = "portable-posix"))]
pub(super) use supervisor::{
    detach, known_without_descendants, output_pipe, unblock_signals_in, Signals, ADOPTS_ORPHANS,
};

#[cfg(feature = "portable-posix")]
pub(super) use super::posix::{
    detach, known_without_descendants, output_pipe, unblock_signals_in, wait_exit, Signals,
    ADOPTS_ORPHANS,
};

/// The unit of `ru_maxrss`: kilobytes on Linux.
pub(super) const MAXRSS_UNIT: u64 = 1024;
