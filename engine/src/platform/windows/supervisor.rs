//! A supervisor on Windows. The shim cannot fork away from its starter, so the starter creates
//! it detached (no console of the starter's, a process group of its own, no window). The
//! command runs in a console process group of its own with a hidden console, inside a Job
//! Object holding its whole tree; it is created suspended and resumed once it is in the job, so
//! no process it starts escapes. Asking the tree to stop is a `CTRL_BREAK_EVENT` to that group
//! (the shim attaches to the command's console for the call); ending it terminates the job.
//!
//! Stop requests arrive through a named event, `Local\procdeck-stop-<pid>-<start time>`, which
//! the shim creates before anything else: it wakes the supervisor's wait at once (no polling of
//! the stop file, which still carries the grace), and its name holds the shim's start time, so
//! a request never reaches a later process that was given the same pid. An event of that name
//! that exists already was not made by this shim, and the shim refuses to start.

use std::cell::Cell;
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle};
use std::os::windows::process::CommandExt;
use std::process::{Child, Command};
use std::time::Duration;

use windows_sys::Win32::Foundation::{
    GetLastError, SetHandleInformation, ERROR_ALREADY_EXISTS, HANDLE, WAIT_OBJECT_0,
};
use windows_sys::Win32::System::Console::{
    AttachConsole, FreeConsole, GenerateConsoleCtrlEvent, GetStdHandle, CTRL_BREAK_EVENT,
    STD_ERROR_HANDLE, STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, Thread32First, Thread32Next, TH32CS_SNAPTHREAD, THREADENTRY32,
};
use windows_sys::Win32::System::Threading::{
    CreateEventW, OpenEventW, OpenThread, ResumeThread, SetEvent, WaitForMultipleObjects,
    CREATE_NEW_PROCESS_GROUP, CREATE_NO_WINDOW, CREATE_SUSPENDED, DETACHED_PROCESS,
    EVENT_MODIFY_STATE, INFINITE, THREAD_SUSPEND_RESUME,
};

use super::handles::{owned, wide};
use super::job::Job;
use super::pipe::PipeReader;
use crate::platform::{start_time, ChildEnd, ProcessStat, SupervisorEvent};

/// `HANDLE_FLAG_INHERIT`.
const INHERIT: u32 = 1;

fn stop_event_name(pid: u32, start_time: u64) -> Vec<u16> {
    wide(format!("Local\\procdeck-stop-{pid}-{start_time}"))
}

pub(in crate::platform) fn detached(cmd: &mut Command) -> &mut Command {
    // The shim outlives its starter: it must not hold the starter's own standard handles (a
    // caller reading the starter's output to its end would wait for the shim).
    keep_std_handles_from_children();
    cmd.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW)
}

/// Makes this process's standard handles non-inheritable: a process started with every
/// inheritable handle (as `Command` starts them) gets only the ones given to it explicitly.
/// Children given ours on purpose (`Stdio::inherit`) get duplicates made for them.
fn keep_std_handles_from_children() {
    for slot in [STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE] {
        // SAFETY: reads this process's standard handle.
        let h = unsafe { GetStdHandle(slot) };
        if !h.is_null() && h != windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE {
            // SAFETY: a handle of this process; clearing its inherit flag changes nothing else.
            unsafe { SetHandleInformation(h, INHERIT, 0) };
        }
    }
}

/// The shim runs on after the starter has its answer; the starter only closes its handles.
pub(in crate::platform) fn release_detached(child: Child) {
    drop(child);
}

pub(in crate::platform) fn become_supervisor() -> io::Result<()> {
    // The starter's pipe (stdout) must close when the shim says it is ready, not when the
    // command's tree ends.
    keep_std_handles_from_children();
    Ok(())
}

pub(in crate::platform) fn request_stop(pid: u32, start_time: u64) -> bool {
    let name = stop_event_name(pid, start_time);
    // SAFETY: opens an existing event by a NUL-terminated name.
    let Ok(event) = owned(unsafe { OpenEventW(EVENT_MODIFY_STATE, 0, name.as_ptr()) }) else {
        return false;
    };
    // SAFETY: a valid event handle opened for setting.
    unsafe { SetEvent(event.as_raw_handle()) != 0 }
}

/// Windows lets no other process read whether a process is detached or leads a console
/// process group.
pub(in crate::platform) fn is_detached_leader(_pid: u32, _stat: &ProcessStat) -> bool {
    true
}

/// Makes `cmd` start its process as the leader of a new console process group.
pub(in crate::platform) fn in_new_group(cmd: &mut Command) -> &mut Command {
    cmd.creation_flags(CREATE_NEW_PROCESS_GROUP)
}

pub(in crate::platform) struct Supervisor {
    stop: OwnedHandle,
    /// Set by [`Supervisor::wait`] when the stop event woke it (the event resets itself).
    stop_seen: Cell<bool>,
    job: Option<Job>,
    main: Option<Child>,
    main_ended: Option<ChildEnd>,
    main_reported: bool,
    asked: bool,
}

impl Supervisor {
    pub(in crate::platform) fn install() -> io::Result<Supervisor> {
        let me = std::process::id();
        let started = start_time(me).ok_or_else(|| io::Error::other("no start time of its own"))?;
        let name = stop_event_name(me, started);
        // SAFETY: an auto-reset event, initially clear, with a NUL-terminated name.
        let stop = owned(unsafe { CreateEventW(std::ptr::null(), 0, 0, name.as_ptr()) })?;
        // SAFETY: reads the calling thread's last error, set by CreateEventW.
        if unsafe { GetLastError() } == ERROR_ALREADY_EXISTS {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the stop event of this shim exists already: another process made it",
            ));
        }
        Ok(Supervisor {
            stop,
            stop_seen: Cell::new(false),
            job: None,
            main: None,
            main_ended: None,
            main_reported: false,
            asked: false,
        })
    }

    pub(in crate::platform) fn start(&mut self, cmd: &mut Command) -> io::Result<u32> {
        let job = Job::new()?;
        cmd.creation_flags(CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW | CREATE_SUSPENDED);
        let mut child = cmd.spawn()?;
        let pid = child.id();
        if let Err(e) = job.assign(child.as_raw_handle()).and_then(|()| resume(pid)) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        self.job = Some(job);
        self.main = Some(child);
        Ok(pid)
    }

    pub(in crate::platform) fn wait(
        &self,
        pipe: Option<&PipeReader>,
        timeout: Option<Duration>,
    ) -> io::Result<bool> {
        let mut handles: Vec<HANDLE> = vec![self.stop.as_raw_handle()];
        if let Some(main) = self.main.as_ref().filter(|_| self.main_ended.is_none()) {
            handles.push(main.as_raw_handle());
        }
        let pipe_at = handles.len();
        if let Some(pipe) = pipe {
            handles.push(pipe.event());
        }
        let ms = timeout.map_or(INFINITE, |t| {
            u32::try_from(t.as_millis())
                .unwrap_or(INFINITE - 1)
                .min(INFINITE - 1)
        });
        // SAFETY: every handle is valid for the call; at most three.
        let woke = unsafe { WaitForMultipleObjects(handles.len() as u32, handles.as_ptr(), 0, ms) };
        let index = woke.wrapping_sub(WAIT_OBJECT_0) as usize;
        if index == 0 {
            self.stop_seen.set(true);
        }
        if woke == windows_sys::Win32::Foundation::WAIT_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(index < pipe_at)
    }

    pub(in crate::platform) fn take(&mut self) -> Vec<SupervisorEvent> {
        let mut out = Vec::new();
        if self.stop_seen.replace(false) {
            out.push(SupervisorEvent::Stop);
        }
        if self.poll_main().is_some() && !self.main_reported {
            out.push(SupervisorEvent::ChildEnded);
        }
        out
    }

    pub(in crate::platform) fn reap(&mut self) -> Option<ChildEnd> {
        let end = self.poll_main()?;
        if self.main_reported {
            return None;
        }
        self.main_reported = true;
        Some(end)
    }

    fn poll_main(&mut self) -> Option<ChildEnd> {
        if self.main_ended.is_none() {
            let status = self.main.as_mut()?.try_wait().ok()??;
            // Windows reports every end as an exit code (a code above i32::MAX, such as an
            // NTSTATUS, reads as negative).
            self.main_ended = status.code().map(ChildEnd::Exited);
        }
        self.main_ended
    }

    pub(in crate::platform) fn ask_tree_to_stop(&mut self) {
        // A group receives the event once; processes started in it since are ended with the
        // tree after the grace.
        if self.asked {
            return;
        }
        let Some(group) = self.main.as_ref().map(Child::id) else {
            return;
        };
        let tree = self.tree();
        // The event goes through the console the group shares: the shim attaches to it through
        // any living member, sends, and leaves it.
        for pid in tree {
            // SAFETY: plain calls on this process's console state.
            if unsafe { AttachConsole(pid) } != 0 {
                // SAFETY: as above.
                let sent = unsafe { GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, group) } != 0;
                // SAFETY: as above.
                unsafe { FreeConsole() };
                if sent {
                    self.asked = true;
                    return;
                }
            }
        }
        tracing::debug!(
            group,
            "no member of the tree's console took the break event"
        );
    }

    pub(in crate::platform) fn end_tree(&mut self) {
        if let Some(job) = &self.job {
            job.terminate();
        }
    }

    pub(in crate::platform) fn tree(&self) -> Vec<u32> {
        self.job.as_ref().map(Job::pids).unwrap_or_default()
    }
}

/// Resumes the threads of `pid`, created suspended.
fn resume(pid: u32) -> io::Result<()> {
    // SAFETY: a snapshot of the threads; the handle is owned.
    let snapshot = owned(unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) })?;
    // SAFETY: a zeroed plain struct whose size is set before use.
    let mut entry: THREADENTRY32 = unsafe { std::mem::zeroed() };
    entry.dwSize = size_of::<THREADENTRY32>() as u32;
    let mut resumed = 0;
    // SAFETY: a valid snapshot and a live struct.
    let mut more = unsafe { Thread32First(snapshot.as_raw_handle(), &mut entry) } != 0;
    while more {
        if entry.th32OwnerProcessID == pid {
            // SAFETY: opens a thread by id.
            let thread =
                owned(unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, entry.th32ThreadID) })?;
            // SAFETY: a valid thread handle opened for resuming.
            if unsafe { ResumeThread(thread.as_raw_handle()) } == u32::MAX {
                return Err(io::Error::last_os_error());
            }
            resumed += 1;
        }
        // SAFETY: as above.
        more = unsafe { Thread32Next(snapshot.as_raw_handle(), &mut entry) } != 0;
    }
    if resumed == 0 {
        return Err(io::Error::other(format!(
            "no thread of process {pid} to resume"
        )));
    }
    Ok(())
}
