//! Files: opening without following links, positional reads and writes, `LockFileEx`, replacing
//! a file with `MoveFileExW`, standard handles.

use std::fs::{File, FileType, Metadata, OpenOptions, Permissions};
use std::io;
use std::os::windows::fs::{FileExt, OpenOptionsExt};
use std::os::windows::io::{AsRawHandle, IntoRawHandle};
use std::path::Path;
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION};

use windows_sys::Win32::Storage::FileSystem::{
    LockFileEx, MoveFileExW, SetFileAttributesW, FILE_ATTRIBUTE_NORMAL,
    FILE_FLAG_OPEN_REPARSE_POINT, LOCKFILE_EXCLUSIVE_LOCK, MOVEFILE_REPLACE_EXISTING,
    MOVEFILE_WRITE_THROUGH,
};
use windows_sys::Win32::System::Console::{
    GetStdHandle, SetStdHandle, STD_ERROR_HANDLE, STD_HANDLE, STD_OUTPUT_HANDLE,
};
use windows_sys::Win32::System::Ioctl::{
    FILE_ZERO_DATA_INFORMATION, FSCTL_SET_SPARSE, FSCTL_SET_ZERO_DATA,
};
use windows_sys::Win32::System::IO::{DeviceIoControl, OVERLAPPED};

use super::handles::{check, wide};

/// How long a replacement waits for readers of the replaced file to close it, and how often it
/// tries meanwhile.
const REPLACE_PATIENCE: Duration = Duration::from_secs(2);
const REPLACE_RETRY: Duration = Duration::from_millis(5);

/// The lock lives as long as the file is open: closing the handle releases it.
pub(in crate::platform) type FileLockGuard = File;

/// Opens a symbolic link (a reparse point) itself instead of its target; the caller's check
/// for a regular file then refuses it.
pub(in crate::platform) fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
}

/// Windows files never wait for a writer.
pub(in crate::platform) fn non_blocking(options: &mut OpenOptions) -> &mut OpenOptions {
    options
}

/// A link is opened as itself (see [`no_follow`]), never refused by the open.
pub(in crate::platform) fn is_symlink_refusal(_e: &io::Error) -> bool {
    false
}

pub(in crate::platform) fn file_kind(kind: FileType) -> &'static str {
    if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

pub(in crate::platform) fn lock_exclusive(file: File) -> io::Result<FileLockGuard> {
    // SAFETY: a zeroed OVERLAPPED names offset 0; the lock covers every byte.
    let mut at: OVERLAPPED = unsafe { std::mem::zeroed() };
    // SAFETY: a valid file handle and a live OVERLAPPED; the call waits for the lock.
    check(unsafe {
        LockFileEx(
            file.as_raw_handle(),
            LOCKFILE_EXCLUSIVE_LOCK,
            0,
            u32::MAX,
            u32::MAX,
            &mut at,
        )
    })?;
    Ok(file)
}

/// Windows moves the file's cursor too; the engine never reads through the cursor of a file it
/// reads at offsets.
pub(in crate::platform) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    file.seek_read(buf, offset)
}

pub(in crate::platform) fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
    file.seek_write(buf, offset)
}

pub(in crate::platform) fn redirect_stdio(to: &File) -> io::Result<()> {
    for slot in [STD_OUTPUT_HANDLE, STD_ERROR_HANDLE] {
        set_std_handle(slot, to)?;
    }
    Ok(())
}

/// Points `slot` at a handle of its own on `to`, and closes the handle it held (the starter's
/// pipe sees its end).
fn set_std_handle(slot: STD_HANDLE, to: &File) -> io::Result<()> {
    let handle = to.try_clone()?.into_raw_handle();
    // SAFETY: reads this process's standard handle.
    let old = unsafe { GetStdHandle(slot) };
    // SAFETY: `handle` is ours and stays open for the life of the process.
    check(unsafe { SetStdHandle(slot, handle) })?;
    if !old.is_null() && old != windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE {
        // SAFETY: the old standard handle is no longer reachable through the slot.
        unsafe { windows_sys::Win32::Foundation::CloseHandle(old) };
    }
    Ok(())
}

/// Replaces `to` with `from` (a file of the same folder) in one step, written through to the
/// disk before it returns.
pub(in crate::platform) fn rename_replacing(from: &Path, to: &Path) -> io::Result<()> {
    let (from, to) = (wide(from), wide(to));
    // A temporary file is created hidden and marked temporary; what replaces a store file is
    // neither.
    // SAFETY: a NUL-terminated path.
    check(unsafe { SetFileAttributesW(from.as_ptr(), FILE_ATTRIBUTE_NORMAL) })?;
    // A file another process has open (a reader of the index) cannot be replaced until it is
    // closed; readers hold it for a moment.
    let deadline = Instant::now() + REPLACE_PATIENCE;
    loop {
        // SAFETY: two NUL-terminated paths.
        let moved = check(unsafe {
            MoveFileExW(
                from.as_ptr(),
                to.as_ptr(),
                MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH,
            )
        });
        match moved {
            Err(e)
                if matches!(
                    e.raw_os_error().map(|c| c as u32),
                    Some(ERROR_ACCESS_DENIED | ERROR_SHARING_VIOLATION)
                ) && Instant::now() < deadline =>
            {
                std::thread::sleep(REPLACE_RETRY);
            }
            other => return other,
        }
    }
}

/// A rename is made durable by [`rename_replacing`] itself; Windows cannot sync a folder.
pub(in crate::platform) fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Windows has no permission bits to give a new file: its folder's access list applies.
pub(in crate::platform) fn new_file_permissions() -> Option<Permissions> {
    None
}

/// Files under the user's profile are the user's through the access list they inherit;
/// Windows has no permission bits to check.
pub(in crate::platform) fn is_private(_meta: &Metadata) -> bool {
    true
}

/// Windows runs files by their name's extension, not by a bit.
pub(in crate::platform) fn is_executable(meta: &Metadata) -> bool {
    meta.is_file()
}

pub(in crate::platform) fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Marks the file sparse (`FSCTL_SET_SPARSE`), then zeroes `[0, end)` (`FSCTL_SET_ZERO_DATA`),
/// which in a sparse file frees the clusters. With `end == 0` both are asked with nothing to
/// zero, so a file system without them says so before any output depends on it.
pub(in crate::platform) fn punch_hole(file: &File, end: u64) -> io::Result<()> {
    let handle = file.as_raw_handle();
    fs_control(handle, FSCTL_SET_SPARSE, None)?;
    let range = FILE_ZERO_DATA_INFORMATION {
        FileOffset: 0,
        BeyondFinalZero: i64::try_from(end)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
    };
    fs_control(handle, FSCTL_SET_ZERO_DATA, Some(&range))
}

/// One file-system control code, with its input.
fn fs_control(
    handle: std::os::windows::io::RawHandle,
    code: u32,
    input: Option<&FILE_ZERO_DATA_INFORMATION>,
) -> io::Result<()> {
    let (ptr, len) = match input {
        Some(range) => (
            (range as *const FILE_ZERO_DATA_INFORMATION).cast(),
            size_of::<FILE_ZERO_DATA_INFORMATION>() as u32,
        ),
        None => (std::ptr::null(), 0),
    };
    let mut returned = 0u32;
    // SAFETY: a valid file handle, an input buffer of `len` bytes that outlives the call (or
    // none), no output buffer, and a synchronous call (no OVERLAPPED).
    let ok = unsafe {
        DeviceIoControl(
            handle,
            code,
            ptr,
            len,
            std::ptr::null_mut(),
            0,
            &mut returned,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
