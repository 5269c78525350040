//! Signals and the clock and page units of the process counters.

use nix::sys::signal::{self, Signal as NixSignal};
use nix::unistd::{sysconf, Pid, SysconfVar};

use crate::platform::Signal;

fn nix_signal(sig: Signal) -> NixSignal {
    match sig {
        Signal::Terminate => NixSignal::SIGTERM,
        Signal::Kill => NixSignal::SIGKILL,
        Signal::Pause => NixSignal::SIGSTOP,
    }
}

/// The face has checked that `pid` is signallable; a value beyond `pid_t` is still never cast.
fn target(pid: u32) -> Option<Pid> {
    libc::pid_t::try_from(pid).ok().map(Pid::from_raw)
}

pub(in crate::platform) fn kill(pid: u32, sig: Signal) -> bool {
    target(pid).is_some_and(|p| signal::kill(p, nix_signal(sig)).is_ok())
}

pub(in crate::platform) fn kill_group(group: u32, sig: Signal) -> bool {
    target(group).is_some_and(|p| signal::killpg(p, nix_signal(sig)).is_ok())
}

pub(in crate::platform) fn signal_name(sig: i32) -> String {
    match NixSignal::try_from(sig) {
        Ok(s) => s.as_str().to_owned(),
        Err(_) => format!("signal {sig}"),
    }
}

pub(in crate::platform) fn clock_ticks_per_second() -> Option<u64> {
    positive_sysconf(SysconfVar::CLK_TCK)
}

pub(in crate::platform) fn page_size() -> Option<u64> {
    positive_sysconf(SysconfVar::PAGE_SIZE)
}

fn positive_sysconf(var: SysconfVar) -> Option<u64> {
    sysconf(var)
        .ok()
        .flatten()
        .and_then(|v| u64::try_from(v).ok())
        .filter(|&v| v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(signal_name(libc::SIGTERM), "SIGTERM");
        assert_eq!(signal_name(libc::SIGKILL), "SIGKILL");
        assert_eq!(signal_name(64), "signal 64");
    }
}
