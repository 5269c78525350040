//! A shim's supervisor mechanics: detaching as a child subreaper, its signals read from a
//! signalfd, the output pipe and waiting on both.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::process::Command;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::prctl::set_child_subreaper;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitid, Id, WaitPidFlag};

use crate::platform::unix::{
    clear_signal_mask_in, meaning, wait_for_signals, PipeReader, SUPERVISOR_SIGNALS,
};
use crate::platform::{OutputPipe, SupervisorEvent};

/// Orphans of the supervisor's tree are handed to it (it is their subreaper) and stay in its tree.
pub(in crate::platform) const ADOPTS_ORPHANS: bool = true;
/// A bigger pipe means fewer wake-ups under heavy output.
const PIPE_SIZE: i32 = 1 << 20;

/// As the reaper of its tree's orphans, a supervisor without children has no descendants at all,
/// and its tree needs no scan (a read of the whole process table: a few milliseconds on a busy
/// system, asked for several times as a command ends). Asked with `waitid`, reaping nothing. Any answer but "no children" (an error other
/// than ECHILD included) counts as having some, so that the caller scans rather than miss one.
pub(in crate::platform) fn known_without_descendants() -> bool {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    matches!(waitid(Id::All, flags), Err(Errno::ECHILD))
}

/// Forks (the parent exits at once), leads a new session and becomes the child subreaper.
pub(in crate::platform) fn detach() -> io::Result<()> {
    crate::platform::unix::detach_into_new_session()?;
    set_child_subreaper(true)?;
    Ok(())
}

/// The handled signals, blocked and read from a signalfd.
pub(in crate::platform) struct Signals(SignalFd);

impl Signals {
    pub(in crate::platform) fn install() -> io::Result<Signals> {
        let mut set = SigSet::empty();
        let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        for sig in SUPERVISOR_SIGNALS.into_iter().chain([Signal::SIGQUIT]) {
            // SAFETY: installing the default disposition runs no code of ours in a handler.
            unsafe { sigaction(sig, &default) }?;
        }
        for sig in SUPERVISOR_SIGNALS {
            set.add(sig);
        }
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
        Ok(Signals(fd))
    }

    pub(in crate::platform) fn take(&self) -> Vec<SupervisorEvent> {
        let mut out = Vec::new();
        while let Ok(Some(info)) = self.0.read_signal() {
            out.push(meaning(info.ssi_signo as i32));
        }
        out
    }

    pub(in crate::platform) fn wait(
        &self,
        pipe: Option<&File>,
        timeout: Option<Duration>,
    ) -> io::Result<bool> {
        wait_for_signals(self.0.as_fd(), pipe, timeout)
    }
}

pub(in crate::platform) fn unblock_signals_in(cmd: &mut Command) {
    clear_signal_mask_in(cmd);
}

pub(in crate::platform) fn output_pipe() -> io::Result<OutputPipe> {
    let (reader, writer): (OwnedFd, OwnedFd) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    // The default size is fine when the system refuses a bigger one.
    let _ = fcntl(&reader, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
    let flags = OFlag::from_bits_retain(fcntl(&reader, FcntlArg::F_GETFL)?);
    fcntl(&reader, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    let size = fcntl(&reader, FcntlArg::F_GETPIPE_SZ).unwrap_or(0);
    Ok(OutputPipe {
        reader: crate::platform::PipeReader(PipeReader(File::from(reader))),
        writer: File::from(writer),
        size: usize::try_from(size).unwrap_or(0),
    })
}
