//! A shim's supervisor mechanics without a child subreaper: a session of its own, and the
//! output pipe at the system's default size.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::process::Command;

use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};

use crate::platform::OutputPipe;

/// Nothing makes a supervisor the parent of the orphans of its tree: one whose parent ends is
/// handed to init (or to an ancestor that reaps orphans) and leaves the supervisor's tree.
pub(in crate::platform) const ADOPTS_ORPHANS: bool = false;

/// A process can belong to the tree without descending from the supervisor (its parent ended):
/// only a scan tells.
pub(in crate::platform) fn known_without_descendants() -> bool {
    false
}

pub(in crate::platform) fn detach() -> io::Result<()> {
    crate::platform::unix::detach_into_new_session()
}

/// The supervisor blocks none of its signals (its handlers are reset to the defaults by
/// `exec`), but its starter may have blocked others.
pub(in crate::platform) fn unblock_signals_in(cmd: &mut Command) {
    crate::platform::unix::clear_signal_mask_in(cmd);
}

pub(in crate::platform) fn output_pipe() -> io::Result<OutputPipe> {
    // `pipe2` is not POSIX: the flags are set after. No other thread exists yet that could
    // fork and exec meanwhile.
    let (reader, writer): (OwnedFd, OwnedFd) = nix::unistd::pipe()?;
    for fd in [&reader, &writer] {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
    }
    let flags = OFlag::from_bits_retain(fcntl(&reader, FcntlArg::F_GETFL)?);
    fcntl(&reader, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(OutputPipe {
        reader: crate::platform::PipeReader(crate::platform::unix::PipeReader(File::from(reader))),
        writer: File::from(writer),
        // POSIX has no way to ask a pipe's capacity.
        size: 0,
    })
}
