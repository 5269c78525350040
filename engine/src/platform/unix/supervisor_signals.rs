//! What a supervisor's signals mean and how its loop waits for them, whichever way they reach
//! it (a signalfd on Linux, a self-pipe elsewhere).

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};

use crate::platform::SupervisorEvent;

/// The signals a supervisor handles. SIGQUIT is not among them, but its default is reset too.
pub(in crate::platform) const SUPERVISOR_SIGNALS: [Signal; 5] = [
    Signal::SIGCHLD,
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGUSR1,
];

/// What the signal numbered `signo` (one of [`SUPERVISOR_SIGNALS`]) tells the supervisor.
pub(in crate::platform) fn meaning(signo: i32) -> SupervisorEvent {
    match Signal::try_from(signo) {
        Ok(Signal::SIGCHLD) => SupervisorEvent::ChildEnded,
        Ok(Signal::SIGUSR1) => SupervisorEvent::StopNow,
        _ => SupervisorEvent::Stop,
    }
}

/// Waits until `signals` (where the signals are read) or `pipe` is readable or closed, for at
/// most `timeout` (`None`: for as long as it takes). True when signals may be waiting.
pub(in crate::platform) fn wait_for_signals(
    signals: BorrowedFd<'_>,
    pipe: Option<&File>,
    timeout: Option<Duration>,
) -> io::Result<bool> {
    let mut fds = vec![PollFd::new(signals, PollFlags::POLLIN)];
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

/// Makes `cmd` start with no signal blocked, whatever the supervisor blocks or its starter did.
pub(in crate::platform) fn clear_signal_mask_in(cmd: &mut Command) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
            Ok(())
        });
    }
}
