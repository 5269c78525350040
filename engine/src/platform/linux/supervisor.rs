//! A shim's supervisor mechanics: detaching as a child subreaper, its signals read from a
//! signalfd, the output pipe and waiting on both.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::prctl::set_child_subreaper;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::{fork, setsid, ForkResult};

use crate::platform::unix::PipeReader;
use crate::platform::{OutputPipe, SupervisorEvent};

/// The signals a supervisor reads, and SIGQUIT, whose default is reset too.
const HANDLED: [Signal; 5] = [
    Signal::SIGCHLD,
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGUSR1,
];
/// A bigger pipe means fewer wake-ups under heavy output.
const PIPE_SIZE: i32 = 1 << 20;

/// Forks (the parent exits at once), leads a new session and becomes the child subreaper.
pub(in crate::platform) fn detach() -> io::Result<()> {
    // SAFETY: called before any thread exists in this process, so fork is safe.
    match unsafe { fork() }? {
        // Raw `libc`: nix has no wrapper for _exit, which leaves at once without running
        // anything the parent's exit would.
        // SAFETY: _exit ends this process; nothing runs after it.
        ForkResult::Parent { .. } => unsafe { libc::_exit(0) },
        ForkResult::Child => {}
    }
    setsid()?;
    set_child_subreaper(true)?;
    Ok(())
}

/// The handled signals, blocked and read from a signalfd.
pub(in crate::platform) struct Signals(SignalFd);

impl Signals {
    pub(in crate::platform) fn install() -> io::Result<Signals> {
        let mut set = SigSet::empty();
        let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        for sig in HANDLED.into_iter().chain([Signal::SIGQUIT]) {
            // SAFETY: installing the default disposition runs no code of ours in a handler.
            unsafe { sigaction(sig, &default) }?;
        }
        for sig in HANDLED {
            set.add(sig);
        }
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
        Ok(Signals(fd))
    }

    pub(in crate::platform) fn take(&self) -> Vec<SupervisorEvent> {
        let mut out = Vec::new();
        while let Ok(Some(info)) = self.0.read_signal() {
            out.push(match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGCHLD) => SupervisorEvent::ChildEnded,
                Ok(Signal::SIGUSR1) => SupervisorEvent::StopNow,
                _ => SupervisorEvent::Stop,
            });
        }
        out
    }

    pub(in crate::platform) fn wait(
        &self,
        pipe: Option<&File>,
        timeout: Option<Duration>,
    ) -> io::Result<bool> {
        let mut fds = vec![PollFd::new(self.0.as_fd(), PollFlags::POLLIN)];
        if let Some(pipe) = pipe {
            fds.push(PollFd::new(pipe.as_fd(), PollFlags::POLLIN));
        }
        let timeout = timeout.map_or(PollTimeout::NONE, |t| {
            PollTimeout::try_from(t).unwrap_or(PollTimeout::MAX)
        });
        match poll(&mut fds, timeout) {
            Ok(_) => Ok(fds[0].any().unwrap_or(true)),
            Err(Errno::EINTR) => Ok(true),
            Err(errno) => Err(errno.into()),
        }
    }
}

pub(in crate::platform) fn unblock_signals_in(cmd: &mut Command) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
            Ok(())
        });
    }
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
