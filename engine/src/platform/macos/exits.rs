//! The end of a process: kqueue's `EVFILT_PROC` tells when one that is not our child exits.

use std::process::Child;
use std::time::{Duration, Instant};
use std::{io, os::raw::c_long};

use nix::errno::Errno;
use nix::sys::event::{EvFlags, EventFilter, FilterFlag, KEvent, Kqueue};

use crate::platform::posix::wait_exit as wait_by_polling;
use crate::platform::{is_alive, stat};

/// An unreaped child that has exited is a zombie, which `libproc` still describes (nix has no
/// `waitid` here, which could ask without reaping); one it cannot describe is gone too.
pub(in crate::platform) fn child_has_exited(child: &Child) -> io::Result<bool> {
    Ok(stat(child.id()).is_none_or(|s| s.has_exited()))
}

pub(in crate::platform) fn wait_exit(pid: u32, start_time: u64, timeout: Duration) -> bool {
    // A timeout too large to add is as good as forever.
    let deadline = Instant::now()
        .checked_add(timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(u64::from(u32::MAX)));
    // Without a kqueue (out of descriptors), looking again and again.
    let Ok(queue) = Kqueue::new() else {
        return wait_by_polling(pid, start_time, left(deadline));
    };
    let Ok(ident) = usize::try_from(pid) else {
        return true;
    };
    let exit = KEvent::new(
        ident,
        EventFilter::EVFILT_PROC,
        EvFlags::EV_ADD | EvFlags::EV_ONESHOT,
        FilterFlag::NOTE_EXIT,
        0,
        0,
    );
    match queue.kevent(&[exit], &mut [], None) {
        Ok(_) => {}
        // Gone already (a zombie cannot be watched either).
        Err(Errno::ESRCH) => return true,
        Err(_) => return wait_by_polling(pid, start_time, left(deadline)),
    }
    // The pid may have been reused between the caller's check and the registration.
    if !is_alive(pid, start_time) {
        return true;
    }
    loop {
        let mut events = [exit];
        match queue.kevent(&[], &mut events, Some(timespec(left(deadline)))) {
            Ok(0) => return !is_alive(pid, start_time),
            Ok(_) => return true,
            Err(Errno::EINTR) => {}
            Err(_) => return wait_by_polling(pid, start_time, left(deadline)),
        }
    }
}

/// What is left until `deadline`.
fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: c_long::from(d.subsec_nanos()),
    }
}
