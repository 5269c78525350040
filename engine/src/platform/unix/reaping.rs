//! Reaping our children.

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};

use crate::platform::ChildEnd;

pub(in crate::platform) fn reap_child() -> Option<(u32, ChildEnd)> {
    loop {
        let status = waitpid(None, Some(WaitPidFlag::WNOHANG)).ok()?;
        let pid = |p: nix::unistd::Pid| u32::try_from(p.as_raw()).ok();
        match status {
            WaitStatus::Exited(p, code) => return Some((pid(p)?, ChildEnd::Exited(code))),
            WaitStatus::Signaled(p, sig, _) => {
                return Some((pid(p)?, ChildEnd::Signaled(sig as i32)))
            }
            WaitStatus::StillAlive => return None,
            // Stops and continues are not ends; waitpid without WUNTRACED does not report
            // them, but a status that is not an end is skipped rather than taken for one.
            _ => {}
        }
    }
}
