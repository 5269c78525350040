//! File flags, positional reads and advisory locks.

use std::fs::{File, FileType, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag};

pub(in crate::platform) type FileLockGuard = Flock<File>;

pub(in crate::platform) fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags((OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK).bits())
}

pub(in crate::platform) fn non_blocking(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(OFlag::O_NONBLOCK.bits())
}

pub(in crate::platform) fn is_symlink_refusal(e: &io::Error) -> bool {
    e.raw_os_error() == Some(Errno::ELOOP as i32)
}

pub(in crate::platform) fn lock_exclusive(mut file: File) -> io::Result<FileLockGuard> {
    loop {
        match Flock::lock(file, FlockArg::LockExclusive) {
            Ok(guard) => return Ok(guard),
            Err((back, Errno::EINTR)) => file = back,
            Err((_, errno)) => return Err(errno.into()),
        }
    }
}

pub(in crate::platform) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    file.read_at(buf, offset)
}

pub(in crate::platform) fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
    file.write_at(buf, offset)
}

pub(in crate::platform) fn rename_replacing(
    from: &std::path::Path,
    to: &std::path::Path,
) -> io::Result<()> {
    std::fs::rename(from, to)
}

pub(in crate::platform) fn redirect_stdio(to: &File) -> io::Result<()> {
    nix::unistd::dup2_stdout(to)?;
    nix::unistd::dup2_stderr(to)?;
    Ok(())
}

pub(in crate::platform) fn file_kind(kind: FileType) -> &'static str {
    if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}
