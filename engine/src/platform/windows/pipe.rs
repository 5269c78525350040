//! The output pipe. Anonymous pipes cannot be read without blocking nor waited on, so a thread
//! reads the pipe and hands the chunks over through a short queue, setting an event the
//! supervisor waits on. The queue holds a few chunks at most: when the supervisor stops taking
//! them (a full disk), the thread stops reading and the command blocks on the full pipe, as on
//! Unix.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read};
use std::os::windows::io::{AsRawHandle, OwnedHandle, RawHandle};
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};

use windows_sys::Win32::Foundation::{ERROR_BROKEN_PIPE, HANDLE};
use windows_sys::Win32::System::Pipes::CreatePipe;
use windows_sys::Win32::System::Threading::{CreateEventW, SetEvent};

use super::handles::{check, owned};
use crate::platform::OutputPipe;

/// What the pipe is asked to buffer, so that heavy output wakes the reader less often.
const PIPE_SIZE: u32 = 1 << 20;
/// One read from the pipe.
const CHUNK: usize = 64 * 1024;
/// Chunks read and not yet taken, at most.
const QUEUED: usize = 4;

/// The read side: the chunks the reading thread has read, the one partly taken, and the event
/// set after each chunk and at the end.
pub(in crate::platform) struct PipeReader {
    chunks: Receiver<io::Result<Vec<u8>>>,
    partial: RefCell<(Vec<u8>, usize)>,
    data: OwnedHandle,
}

impl PipeReader {
    pub(in crate::platform) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut partial = self.partial.borrow_mut();
        if partial.1 >= partial.0.len() {
            match self.chunks.try_recv() {
                Ok(Ok(chunk)) => *partial = (chunk, 0),
                Ok(Err(e)) => return Err(e),
                Err(TryRecvError::Empty) => return Err(io::ErrorKind::WouldBlock.into()),
                // The thread has ended: every writer closed the pipe.
                Err(TryRecvError::Disconnected) => return Ok(0),
            }
        }
        let (chunk, taken) = &mut *partial;
        let n = buf.len().min(chunk.len() - *taken);
        buf[..n].copy_from_slice(&chunk[*taken..*taken + n]);
        *taken += n;
        Ok(n)
    }

    /// Set when a chunk or the end is waiting.
    pub(super) fn event(&self) -> RawHandle {
        self.data.as_raw_handle()
    }
}

pub(in crate::platform) fn output_pipe() -> io::Result<OutputPipe> {
    let (mut read, mut write): (HANDLE, HANDLE) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: two out-pointers to locals; the handles are not inheritable (the command gets a
    // duplicate of the write end when it starts).
    check(unsafe { CreatePipe(&mut read, &mut write, std::ptr::null(), PIPE_SIZE) })?;
    let read = owned(read)?;
    let write = owned(write)?;
    // SAFETY: an unnamed auto-reset event, initially clear.
    let data = owned(unsafe { CreateEventW(std::ptr::null(), 0, 0, std::ptr::null()) })?;
    let signal = data.try_clone()?;
    let (tx, rx) = sync_channel(QUEUED);
    let mut pipe = File::from(read);
    std::thread::Builder::new()
        .name("output-pipe".into())
        .spawn(move || {
            loop {
                let mut chunk = vec![0u8; CHUNK];
                let (item, last) = match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        chunk.truncate(n);
                        (Ok(chunk), false)
                    }
                    // Every writer closed the pipe.
                    Err(e) if e.raw_os_error() == Some(ERROR_BROKEN_PIPE as i32) => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => (Err(e), true),
                };
                if tx.send(item).is_err() {
                    return;
                }
                // SAFETY: a valid event handle.
                unsafe { SetEvent(signal.as_raw_handle()) };
                if last {
                    break;
                }
            }
            // The sender is dropped here; the event tells the supervisor to look for the end.
            drop(tx);
            // SAFETY: a valid event handle.
            unsafe { SetEvent(signal.as_raw_handle()) };
        })
        .map(drop)?;
    Ok(OutputPipe {
        reader: crate::platform::PipeReader(PipeReader {
            chunks: rx,
            partial: RefCell::new((Vec::new(), 0)),
            data,
        }),
        writer: File::from(write),
        size: PIPE_SIZE as usize,
    })
}
