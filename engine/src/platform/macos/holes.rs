//! Dropping the start of a file without moving its later offsets (APFS).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

use nix::errno::Errno;

pub(in crate::platform) fn punch_hole(file: &File, end: u64) -> io::Result<()> {
    let len = if end == 0 { 4096 } else { end };
    let len =
        libc::off_t::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let hole = libc::fpunchhole_t {
        fp_flags: 0,
        reserved: 0,
        fp_offset: 0,
        fp_length: len,
    };
    // Raw `libc`: nix's `fcntl` has no `F_PUNCHHOLE`.
    // SAFETY: `file` is open for the duration of the call, and `hole` is the argument
    // F_PUNCHHOLE reads, alive for the call.
    let r = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_PUNCHHOLE, &hole) };
    Errno::result(r).map(drop).map_err(io::Error::from)
}
