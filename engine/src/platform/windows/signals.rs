//! What stands for signals: Windows can end a process (`TerminateProcess`), but has no request
//! to end that reaches any process; asking a tree to stop goes through its console
//! (`supervisor.rs`).

use std::os::windows::io::AsRawHandle;

use windows_sys::Win32::System::Threading::{TerminateProcess, PROCESS_TERMINATE};

use super::handles::open_process;
use crate::platform::{start_time, Signal};

/// The exit code of a process ended here, as `kill -9` would leave on Unix.
const KILLED_EXIT_CODE: u32 = 137;

/// Ends `pid` for [`Signal::Kill`]; [`Signal::Terminate`] has no Windows counterpart for an
/// arbitrary process and is not sent (false).
pub(in crate::platform) fn kill(pid: u32, sig: Signal) -> bool {
    if sig != Signal::Kill {
        return false;
    }
    let Some(before) = start_time(pid) else {
        return false;
    };
    let Ok(process) = open_process(pid, PROCESS_TERMINATE) else {
        return false;
    };
    // The handle names one process from here on: check it is the one the caller verified.
    if start_time(pid) != Some(before) {
        return false;
    }
    // SAFETY: a valid process handle opened with PROCESS_TERMINATE.
    unsafe { TerminateProcess(process.as_raw_handle(), KILLED_EXIT_CODE) != 0 }
}

/// Console process groups cannot be signalled from outside their console: never sent.
pub(in crate::platform) fn kill_group(_group: u32, _sig: Signal) -> bool {
    false
}

/// Windows processes end with an exit code, never a signal number.
pub(in crate::platform) fn signal_name(sig: i32) -> String {
    format!("signal {sig}")
}
