//! What only Linux has: `/proc` (processes, sockets), pidfd, waiting on a child without reaping
//! it, hole punching, and the supervisor's child subreaper, signalfd and pipe size.

mod children;
mod desktop;
mod holes;
mod pidfd;
mod procfs;
mod sockets;
mod supervisor;

pub(super) use children::{child_has_exited, has_children};
pub(super) use desktop::{TRAY_TITLE_ON_HOVER, WEBVIEW_ENV_DEFAULTS};
pub(super) use holes::punch_hole;
pub(super) use pidfd::wait_exit;
pub(super) use procfs::{boot_id, cmdline, pids, process_name, stat};
pub(super) use sockets::{listeners_of, port_owner};
pub(super) use supervisor::{detach, output_pipe, unblock_signals_in, Signals};

/// The unit of `ru_maxrss`: kilobytes on Linux.
pub(super) const MAXRSS_UNIT: u64 = 1024;
