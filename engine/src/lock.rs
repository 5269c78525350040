//! An advisory lock across processes (flock), so the app and any number of CLIs can change one
//! workspace's index at once without losing a record.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{Error, IoContext, Result};
use crate::nofollow;

pub struct FileLock {
    // Closing the file releases the lock.
    _file: File,
}

impl FileLock {
    pub fn exclusive(path: &Path) -> Result<FileLock> {
        // Never through a symlink: creating or opening one would touch a file outside the store.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| nofollow::refusal(path, e))?;
        let kind = file.metadata().ctx("inspecting", path)?.file_type();
        if !kind.is_file() {
            return Err(Error::NotRegularFile {
                path: path.to_owned(),
                kind: nofollow::describe(kind),
            });
        }
        loop {
            // SAFETY: flock on a file descriptor we own.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(FileLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EINTR) {
                return Err(Error::io("locking", path, err));
            }
        }
    }
}
