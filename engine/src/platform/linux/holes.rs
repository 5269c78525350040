//! Dropping the start of a file without moving its later offsets.

use std::fs::File;
use std::io;

use nix::fcntl::{fallocate, FallocateFlags};

pub(in crate::platform) fn punch_hole(file: &File, end: u64) -> io::Result<()> {
    let len = if end == 0 { 4096 } else { end };
    let len =
        libc::off_t::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    fallocate(
        file,
        FallocateFlags::FALLOC_FL_PUNCH_HOLE | FallocateFlags::FALLOC_FL_KEEP_SIZE,
        0,
        len,
    )
    .map_err(io::Error::from)
}
