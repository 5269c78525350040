//! What a process cost: the system's load, which Windows does not keep, and a child's peak
//! working set.

use std::io;
use std::os::windows::io::AsRawHandle;
use std::process::Child;

use windows_sys::Win32::System::ProcessStatus::{K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS};

pub(in crate::platform) fn load_average() -> Option<[f64; 3]> {
    None
}

pub(in crate::platform) fn wait_peak_memory(mut child: Child) -> io::Result<u64> {
    child.wait()?;
    // The handle stays open until `child` is dropped, and an ended process's counters stay
    // readable through it.
    // SAFETY: a zeroed plain struct whose size is passed with it.
    let mut mem: PROCESS_MEMORY_COUNTERS = unsafe { std::mem::zeroed() };
    mem.cb = size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
    // SAFETY: a valid process handle and a pointer to the live struct of `cb` bytes.
    if unsafe { K32GetProcessMemoryInfo(child.as_raw_handle(), &mut mem, mem.cb) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(mem.PeakWorkingSetSize as u64)
}
