//! The Job Object that holds a command's whole tree: every process the command starts joins it
//! (breakaway is not allowed), terminating it ends them all, and closing its last handle (the
//! supervisor ending, however it ends) ends them too.

use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle, RawHandle};

use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JobObjectBasicProcessIdList,
    JobObjectExtendedLimitInformation, QueryInformationJobObject, SetInformationJobObject,
    TerminateJobObject, JOBOBJECT_BASIC_PROCESS_ID_LIST, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
};

use super::handles::{check, owned};

/// The exit code of the processes a terminated job ends, as `kill -9` would leave on Unix.
const KILLED_EXIT_CODE: u32 = 137;
/// How many pids one query returns at most; a bigger tree is listed in part, which is enough
/// to know it is not empty and to name survivors.
const MAX_LISTED: usize = 4096;

pub(super) struct Job(OwnedHandle);

impl Job {
    pub(super) fn new() -> io::Result<Job> {
        // SAFETY: an anonymous job with default security.
        let job = owned(unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) })?;
        // SAFETY: a zeroed plain struct; only the limit flags are set.
        let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        // SAFETY: `limits` is readable for the length given.
        check(unsafe {
            SetInformationJobObject(
                job.as_raw_handle(),
                JobObjectExtendedLimitInformation,
                (&limits as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
                size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
            )
        })?;
        Ok(Job(job))
    }

    pub(super) fn assign(&self, process: RawHandle) -> io::Result<()> {
        // SAFETY: both handles are valid for the call.
        check(unsafe { AssignProcessToJobObject(self.0.as_raw_handle(), process) })
    }

    pub(super) fn terminate(&self) {
        // SAFETY: a valid job handle. A failure leaves the members to the next call.
        unsafe { TerminateJobObject(self.0.as_raw_handle(), KILLED_EXIT_CODE) };
    }

    /// The pids of the job's living processes.
    pub(super) fn pids(&self) -> Vec<u32> {
        // JOBOBJECT_BASIC_PROCESS_ID_LIST: two u32 counts, then the pids as usize.
        let mut buf = vec![0usize; 1 + MAX_LISTED];
        // SAFETY: `buf` is writable for the length given and aligned for the struct.
        let ok = unsafe {
            QueryInformationJobObject(
                self.0.as_raw_handle(),
                JobObjectBasicProcessIdList,
                buf.as_mut_ptr().cast(),
                (buf.len() * size_of::<usize>()) as u32,
                std::ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Vec::new();
        }
        // SAFETY: the call filled the struct at the start of `buf`.
        let list = unsafe { &*buf.as_ptr().cast::<JOBOBJECT_BASIC_PROCESS_ID_LIST>() };
        let n = (list.NumberOfProcessIdsInList as usize).min(MAX_LISTED);
        buf[1..=n]
            .iter()
            .filter_map(|&pid| u32::try_from(pid).ok())
            .collect()
    }
}
