//! Processes as the process APIs describe them. A start time is the creation time (100 ns units
//! since 1601), which with the pid and the boot names one process.

use std::ffi::{c_void, OsString};
use std::os::windows::ffi::OsStringExt;
use std::os::windows::io::{AsRawHandle, OwnedHandle, RawHandle};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use windows_sys::Wdk::System::SystemInformation::{
    NtQuerySystemInformation, SystemTimeOfDayInformation,
};
use windows_sys::Wdk::System::Threading::{
    NtQueryInformationProcess, ProcessBasicInformation, ProcessCommandLineInformation,
};
use windows_sys::Win32::Foundation::{
    LocalFree, FILETIME, STILL_ACTIVE, UNICODE_STRING, WAIT_OBJECT_0,
};
use windows_sys::Win32::System::Diagnostics::Debug::ReadProcessMemory;
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, Process32FirstW, Process32NextW, PROCESSENTRY32W, TH32CS_SNAPPROCESS,
};
use windows_sys::Win32::System::ProcessStatus::{K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS};
use windows_sys::Win32::System::SystemInformation::{GetSystemInfo, SYSTEM_INFO};
use windows_sys::Win32::System::Threading::{
    GetExitCodeProcess, GetProcessTimes, QueryFullProcessImageNameW, WaitForSingleObject, PEB,
    PROCESS_BASIC_INFORMATION, PROCESS_NAME_WIN32, PROCESS_SYNCHRONIZE, PROCESS_VM_READ,
    RTL_USER_PROCESS_PARAMETERS,
};
use windows_sys::Win32::UI::Shell::CommandLineToArgvW;

use super::handles::{open_process, owned};
use crate::platform::{is_alive, ProcessStat};

/// CPU times and start times are counted in 100 ns units.
const TICKS_PER_SECOND: u64 = 10_000_000;

fn filetime(t: FILETIME) -> u64 {
    (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime)
}

pub(in crate::platform) fn stat(pid: u32) -> Option<ProcessStat> {
    // Reading the working set needs PROCESS_VM_READ on older systems; without it the resident
    // size reads as 0.
    let process = open_process(pid, PROCESS_VM_READ)
        .or_else(|_| open_process(pid, 0))
        .ok()?;
    let h = process.as_raw_handle();
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: `h` is a valid process handle; the four pointers are to live locals.
    if unsafe { GetProcessTimes(h, &mut created, &mut exited, &mut kernel, &mut user) } == 0 {
        return None;
    }
    let mut code = 0u32;
    // SAFETY: as above.
    let running = unsafe { GetExitCodeProcess(h, &mut code) } != 0 && code == STILL_ACTIVE as u32;
    let ppid = basic_information(h).map_or(0, |info| {
        u32::try_from(info.InheritedFromUniqueProcessId).unwrap_or(0)
    });
    // SAFETY: `mem` is a zeroed plain struct of the size passed.
    let mut mem: PROCESS_MEMORY_COUNTERS = unsafe { std::mem::zeroed() };
    mem.cb = size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
    // SAFETY: as above.
    let rss = if unsafe { K32GetProcessMemoryInfo(h, &mut mem, mem.cb) } != 0 {
        mem.WorkingSetSize as u64
    } else {
        0
    };
    Some(ProcessStat {
        state: if running { 'R' } else { 'X' },
        ppid,
        // Windows has no process groups or sessions that another process can read.
        pgrp: 0,
        session: 0,
        cpu_ticks: filetime(kernel).saturating_add(filetime(user)),
        start_time: filetime(created),
        rss_pages: rss / page_size().unwrap_or(4096),
    })
}

pub(in crate::platform) fn pids() -> Vec<u32> {
    // SAFETY: a snapshot of the process list; the handle is owned below.
    let Ok(snapshot) = owned(unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) }) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // SAFETY: a zeroed plain struct whose size field is set before use.
    let mut entry: PROCESSENTRY32W = unsafe { std::mem::zeroed() };
    entry.dwSize = size_of::<PROCESSENTRY32W>() as u32;
    let h = snapshot.as_raw_handle();
    // SAFETY: `h` is the snapshot, `entry` a live struct with its size set.
    let mut more = unsafe { Process32FirstW(h, &mut entry) } != 0;
    while more {
        // Pid 0 is the idle process, which is not one.
        if entry.th32ProcessID != 0 {
            out.push(entry.th32ProcessID);
        }
        // SAFETY: as above.
        more = unsafe { Process32NextW(h, &mut entry) } != 0;
    }
    out
}

/// The boot time the kernel keeps: the same for every process of this boot.
pub(in crate::platform) fn boot_id() -> Option<String> {
    // SYSTEM_TIMEOFDAY_INFORMATION, which windows-sys does not declare: the boot time comes
    // first.
    let mut info = [0u8; 48];
    let mut len = 0u32;
    // SAFETY: `info` is writable for the length given.
    let status = unsafe {
        NtQuerySystemInformation(
            SystemTimeOfDayInformation,
            info.as_mut_ptr().cast(),
            info.len() as u32,
            &mut len,
        )
    };
    if status < 0 {
        return None;
    }
    let boot = i64::from_le_bytes(info[..8].try_into().ok()?);
    (boot != 0).then(|| format!("windows-boot-{boot}"))
}

pub(in crate::platform) fn cmdline(pid: u32) -> Option<Vec<OsString>> {
    let process = open_process(pid, PROCESS_VM_READ)
        .or_else(|_| open_process(pid, 0))
        .ok()?;
    let line = command_line_asked(&process).or_else(|| command_line_read(&process))?;
    split_command_line(&line)
}

/// The command line as `ProcessCommandLineInformation` gives it (Windows 8.1 and later; Wine 8
/// does not answer it).
fn command_line_asked(process: &OwnedHandle) -> Option<Vec<u16>> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0u32;
    // SAFETY: `buf` is writable for the length given; the result is a UNICODE_STRING whose text
    // follows it in the same buffer.
    let status = unsafe {
        NtQueryInformationProcess(
            process.as_raw_handle(),
            ProcessCommandLineInformation,
            buf.as_mut_ptr().cast::<c_void>(),
            buf.len() as u32,
            &mut len,
        )
    };
    if status < 0 || (len as usize) < size_of::<UNICODE_STRING>() {
        return None;
    }
    // SAFETY: the call filled a UNICODE_STRING at the start of `buf` (read unaligned).
    let text: UNICODE_STRING = unsafe { std::ptr::read_unaligned(buf.as_ptr().cast()) };
    let start = (text.Buffer as usize).checked_sub(buf.as_ptr() as usize)?;
    let end = start.checked_add(usize::from(text.Length))?;
    let bytes = buf.get(start..end)?;
    let mut line: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    line.push(0);
    Some(line)
}

/// The command line read from the process's own memory: its PEB names its parameters, which
/// hold the command line.
fn command_line_read(process: &OwnedHandle) -> Option<Vec<u16>> {
    let h = process.as_raw_handle();
    let info = basic_information(h)?;
    if info.PebBaseAddress.is_null() {
        return None;
    }
    let peb: PEB = read_remote(h, info.PebBaseAddress.cast())?;
    let params: RTL_USER_PROCESS_PARAMETERS = read_remote(h, peb.ProcessParameters.cast())?;
    let text = params.CommandLine;
    let mut line = vec![0u16; usize::from(text.Length) / 2 + 1];
    let len = usize::from(text.Length) / 2 * 2;
    read_remote_into(h, text.Buffer.cast(), line.as_mut_ptr().cast(), len)?;
    Some(line)
}

/// The process's basic information (its parent's pid, where its PEB is); `None` when the
/// system does not answer.
fn basic_information(h: RawHandle) -> Option<PROCESS_BASIC_INFORMATION> {
    // SAFETY: a zeroed plain struct of the size passed.
    let mut info: PROCESS_BASIC_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is writable for the length given.
    let status = unsafe {
        NtQueryInformationProcess(
            h,
            ProcessBasicInformation,
            (&mut info as *mut PROCESS_BASIC_INFORMATION).cast(),
            size_of::<PROCESS_BASIC_INFORMATION>() as u32,
            std::ptr::null_mut(),
        )
    };
    (status >= 0).then_some(info)
}

/// One `T` from another process's memory at `at`.
fn read_remote<T: Copy>(process: RawHandle, at: *const c_void) -> Option<T> {
    let mut value = std::mem::MaybeUninit::<T>::zeroed();
    read_remote_into(process, at, value.as_mut_ptr().cast(), size_of::<T>())?;
    // SAFETY: every byte was written by the read (or left zero); the types read are plain data.
    Some(unsafe { value.assume_init() })
}

fn read_remote_into(
    process: RawHandle,
    at: *const c_void,
    to: *mut c_void,
    len: usize,
) -> Option<()> {
    if at.is_null() {
        return None;
    }
    let mut read = 0usize;
    // SAFETY: `to` is writable for `len` bytes; the other process's memory is only read.
    let ok = unsafe { ReadProcessMemory(process, at, to, len, &mut read) };
    (ok != 0 && read == len).then_some(())
}

/// Splits a command line into arguments the way programs' start-up code does.
fn split_command_line(line: &[u16]) -> Option<Vec<OsString>> {
    let mut count = 0i32;
    // SAFETY: `line` is NUL-terminated; the result is one LocalAlloc block freed below.
    let argv = unsafe { CommandLineToArgvW(line.as_ptr(), &mut count) };
    if argv.is_null() {
        return None;
    }
    let mut out = Vec::new();
    for i in 0..usize::try_from(count).unwrap_or(0) {
        // SAFETY: `argv` holds `count` NUL-terminated strings.
        let arg = unsafe { *argv.add(i) };
        let mut n = 0;
        // SAFETY: each string ends with a NUL.
        while unsafe { *arg.add(n) } != 0 {
            n += 1;
        }
        // SAFETY: `n` u16s were just read from `arg`.
        out.push(OsString::from_wide(unsafe {
            std::slice::from_raw_parts(arg, n)
        }));
    }
    // SAFETY: `argv` came from CommandLineToArgvW, which allocates with LocalAlloc.
    unsafe { LocalFree(argv.cast()) };
    Some(out)
}

pub(in crate::platform) fn process_name(pid: u32) -> Option<String> {
    let process = open_process(pid, 0).ok()?;
    let mut buf = vec![0u16; 32 * 1024];
    let mut len = buf.len() as u32;
    // SAFETY: `buf` holds `len` u16s.
    let ok = unsafe {
        QueryFullProcessImageNameW(
            process.as_raw_handle(),
            PROCESS_NAME_WIN32,
            buf.as_mut_ptr(),
            &mut len,
        )
    };
    if ok == 0 {
        return None;
    }
    let path = PathBuf::from(OsString::from_wide(buf.get(..len as usize)?));
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

pub(in crate::platform) fn wait_exit(pid: u32, start_time: u64, timeout: Duration) -> bool {
    let deadline = Instant::now()
        .checked_add(timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(u64::from(u32::MAX)));
    let Ok(process) = open_process(pid, PROCESS_SYNCHRONIZE) else {
        return !is_alive(pid, start_time);
    };
    // The pid may have been reused between the caller's check and the open.
    if !is_alive(pid, start_time) {
        return true;
    }
    wait_handle(&process, deadline)
}

/// Waits for `handle` to be signalled until `deadline`; true when it was.
pub(super) fn wait_handle(handle: &OwnedHandle, deadline: Instant) -> bool {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // INFINITE is u32::MAX: stay below it and loop.
        let ms = u32::try_from(left.as_millis())
            .unwrap_or(u32::MAX - 1)
            .min(u32::MAX - 1);
        // SAFETY: a valid handle and a finite timeout.
        if unsafe { WaitForSingleObject(handle.as_raw_handle(), ms) } == WAIT_OBJECT_0 {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
    }
}

pub(in crate::platform) fn clock_ticks_per_second() -> Option<u64> {
    Some(TICKS_PER_SECOND)
}

pub(in crate::platform) fn page_size() -> Option<u64> {
    // SAFETY: a zeroed plain struct the call fills.
    let mut info: SYSTEM_INFO = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { GetSystemInfo(&mut info) };
    Some(u64::from(info.dwPageSize)).filter(|&p| p > 0)
}
