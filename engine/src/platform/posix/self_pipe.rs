//! A supervisor's signals through a self-pipe: a handler writes the signal's number to a pipe
//! (`write` is async-signal-safe; nothing else is done in the handler) and the supervisor's loop
//! polls the pipe's read end beside the output pipe.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::unistd::{getpid, read, write};

use crate::platform::unix::{meaning, wait_for_signals, SUPERVISOR_SIGNALS};
use crate::platform::SupervisorEvent;

/// The pipe's write end, for the handler (-1 before `install`). It is never closed, so a handler
/// can never write to a descriptor reused for something else.
static WRITE_END: AtomicI32 = AtomicI32::new(-1);
/// The supervisor's pid: a child between its fork and its `exec` still has the handler, and a
/// signal it receives there is not the supervisor's.
static SUPERVISOR: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signo: libc::c_int) {
    // Only async-signal-safe calls (getpid, write), and errno left as the interrupted code had
    // it.
    let saved = Errno::last_raw();
    let fd = WRITE_END.load(Ordering::Relaxed);
    if fd >= 0 && getpid().as_raw() == SUPERVISOR.load(Ordering::Relaxed) {
        if let Ok(byte) = u8::try_from(signo) {
            // SAFETY: `fd` is the self-pipe's write end, which stays open for the life of the
            // process. A full pipe drops the byte: the loop has many waiting already.
            let _ = write(unsafe { BorrowedFd::borrow_raw(fd) }, &[byte]);
        }
    }
    Errno::set_raw(saved);
}

/// The self-pipe's read end (non-blocking).
pub(in crate::platform) struct Signals(OwnedFd);

impl Signals {
    pub(in crate::platform) fn install() -> io::Result<Signals> {
        let (reader, writer): (OwnedFd, OwnedFd) = nix::unistd::pipe()?;
        for fd in [&reader, &writer] {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
            let flags = OFlag::from_bits_retain(fcntl(fd, FcntlArg::F_GETFL)?);
            fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        }
        SUPERVISOR.store(getpid().as_raw(), Ordering::Relaxed);
        WRITE_END.store(writer.into_raw_fd(), Ordering::Relaxed);
        let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        // SAFETY: installing the default disposition runs no code of ours in a handler.
        unsafe { sigaction(Signal::SIGQUIT, &default) }?;
        // Interrupted calls restart, so that a signal caught on another thread does not fail
        // its reads and writes; stopped children are not an end.
        let flags = SaFlags::SA_RESTART | SaFlags::SA_NOCLDSTOP;
        let handler = SigAction::new(SigHandler::Handler(on_signal), flags, SigSet::empty());
        let mut set = SigSet::empty();
        for sig in SUPERVISOR_SIGNALS {
            // SAFETY: the handler only calls async-signal-safe functions (see `on_signal`).
            unsafe { sigaction(sig, &handler) }?;
            set.add(sig);
        }
        // A starter that blocked them must not keep them from the handler.
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None)?;
        Ok(Signals(reader))
    }

    pub(in crate::platform) fn take(&self) -> Vec<SupervisorEvent> {
        let mut out = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            match read(&self.0, &mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend(buf[..n].iter().map(|&b| meaning(i32::from(b)))),
                Err(Errno::EINTR) => {}
                // Empty (EAGAIN) or broken: nothing more to take now.
                Err(_) => break,
            }
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
