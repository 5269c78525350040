//! What only macOS has: `libproc` and sysctl for processes and their sockets, kqueue for the
//! end of a process that is not ours, `F_PUNCHHOLE`. The supervisor's mechanics are POSIX's
//! (`posix/`): macOS has no child subreaper, signalfd or pipe sizes.

mod exits;
mod holes;
mod libproc;
mod procs;
mod sockets;

pub(super) use super::posix::{
    detach, known_without_descendants, output_pipe, unblock_signals_in, Signals, ADOPTS_ORPHANS,
};
pub(super) use exits::{child_has_exited, wait_exit};
pub(super) use holes::punch_hole;
pub(super) use procs::{boot_id, cmdline, pids, process_name, stat};
pub(super) use sockets::{listeners_of, port_owner};

/// WKWebView needs no workarounds.
pub(super) const WEBVIEW_ENV_DEFAULTS: &[(&str, &str)] = &[];

/// A title set on a menu-bar item is drawn beside its icon, not shown on hover.
pub(super) const TRAY_TITLE_ON_HOVER: bool = false;

/// The unit of `ru_maxrss`: bytes on macOS.
pub(super) const MAXRSS_UNIT: u64 = 1;
