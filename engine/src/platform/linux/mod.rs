//! What only Linux has: `/proc`, pidfd.

mod pidfd;
mod procfs;

pub(super) use pidfd::wait_exit;
pub(super) use procfs::{boot_id, cmdline, pids, stat};
