//! Safe calls into `libproc`, sysctl and the Mach clock: each copies what the kernel says into a
//! buffer of ours and checks how much it wrote. Raw `libc` (and `mach2`) throughout: nix wraps
//! none of them.

use std::ffi::{c_int, c_void, CStr};
use std::mem::{size_of, MaybeUninit};

/// `PROC_PIDFDSOCKETINFO` and the structures it fills, as `<sys/proc_info.h>` declares them
/// (the `libc` crate has neither); their sizes are checked below against the header's.
pub(super) const PROC_PIDFDSOCKETINFO: c_int = 3;
/// `soi_kind` of a TCP socket.
pub(super) const SOCKINFO_TCP: c_int = 2;
/// `tcpsi_state` of a listening socket.
pub(super) const TSI_S_LISTEN: c_int = 1;
/// `insi_vflag` bits.
pub(super) const INI_IPV4: u8 = 0x1;
pub(super) const INI_IPV6: u8 = 0x2;

#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct ProcFileInfo {
    pub fi_openflags: u32,
    pub fi_status: u32,
    pub fi_offset: libc::off_t,
    pub fi_type: i32,
    pub fi_guardflags: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct SockbufInfo {
    pub sbi_cc: u32,
    pub sbi_hiwat: u32,
    pub sbi_mbcnt: u32,
    pub sbi_mbmax: u32,
    pub sbi_lowat: u32,
    pub sbi_flags: i16,
    pub sbi_timeo: i16,
}

/// `struct in4in6_addr` and `struct in6_addr` in one: an IPv4 address sits in the last four
/// bytes.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct InAddr46 {
    pub bytes: [u8; 16],
    /// `in4in6_addr` and `in6_addr` are aligned to 4 bytes.
    _align: [u32; 0],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct InSockInfo {
    pub insi_fport: c_int,
    /// The local port, in network byte order, in the low 16 bits.
    pub insi_lport: c_int,
    pub insi_gencnt: u64,
    pub insi_flags: u32,
    pub insi_flow: u32,
    pub insi_vflag: u8,
    pub insi_ip_ttl: u8,
    pub rfu_1: u32,
    pub insi_faddr: InAddr46,
    pub insi_laddr: InAddr46,
    pub insi_v4: u8,
    pub insi_v6: InSockInfoV6,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct InSockInfoV6 {
    pub in6_hlim: u8,
    pub in6_cksum: c_int,
    pub in6_ifindex: u16,
    pub in6_hops: i16,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct TcpSockInfo {
    pub tcpsi_ini: InSockInfo,
    pub tcpsi_state: c_int,
    pub tcpsi_timer: [c_int; 4],
    pub tcpsi_mss: c_int,
    pub tcpsi_flags: u32,
    pub rfu_1: u32,
    pub tcpsi_tp: u64,
}

/// `soi_proto`: only its TCP member is read; the largest member (`un_sockinfo`, 528 bytes)
/// gives its size.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) union SocketProto {
    pub pri_tcp: TcpSockInfo,
    _largest: [u64; 66],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct SocketInfo {
    pub soi_stat: libc::vinfo_stat,
    pub soi_so: u64,
    pub soi_pcb: u64,
    pub soi_type: c_int,
    pub soi_protocol: c_int,
    pub soi_family: c_int,
    pub soi_options: i16,
    pub soi_linger: i16,
    pub soi_state: i16,
    pub soi_qlen: i16,
    pub soi_incqlen: i16,
    pub soi_qlimit: i16,
    pub soi_timeo: i16,
    pub soi_error: u16,
    pub soi_oobmark: u32,
    pub soi_rcv: SockbufInfo,
    pub soi_snd: SockbufInfo,
    pub soi_kind: c_int,
    pub rfu_1: u32,
    pub soi_proto: SocketProto,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct SocketFdInfo {
    pub pfi: ProcFileInfo,
    pub psi: SocketInfo,
}

// The sizes `<sys/proc_info.h>` gives these structures on 64-bit macOS.
const _: () = assert!(size_of::<ProcFileInfo>() == 24);
const _: () = assert!(size_of::<libc::vinfo_stat>() == 136);
const _: () = assert!(size_of::<InSockInfo>() == 80);
const _: () = assert!(size_of::<TcpSockInfo>() == 120);
const _: () = assert!(size_of::<SocketInfo>() == 768);
const _: () = assert!(size_of::<SocketFdInfo>() == 792);

fn pid_arg(pid: u32) -> Option<c_int> {
    c_int::try_from(pid).ok()
}

/// `proc_pidinfo` with a `flavor` that fills one `T`; `None` when the process is gone or not
/// ours to see.
pub(super) fn pid_info<T: Copy>(pid: u32, flavor: c_int) -> Option<T> {
    let pid = pid_arg(pid)?;
    let size = c_int::try_from(size_of::<T>()).ok()?;
    let mut out = MaybeUninit::<T>::uninit();
    // SAFETY: the kernel writes at most `size` bytes into `out`, which has room for them.
    let n = unsafe { libc::proc_pidinfo(pid, flavor, 0, out.as_mut_ptr().cast(), size) };
    // SAFETY: the kernel wrote the whole structure (plain integers: any bytes are valid).
    (n == size).then(|| unsafe { out.assume_init() })
}

/// The open descriptors of `pid` (`PROC_PIDLISTFDS`).
pub(super) fn fds(pid: u32) -> Vec<libc::proc_fdinfo> {
    let Some(pid) = pid_arg(pid) else {
        return Vec::new();
    };
    // SAFETY: with a null buffer the call only says how many bytes the list needs.
    let needed =
        unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDLISTFDS, 0, std::ptr::null_mut(), 0) };
    let Ok(needed) = usize::try_from(needed) else {
        return Vec::new();
    };
    // Room for descriptors opened since.
    let mut list: Vec<libc::proc_fdinfo> =
        Vec::with_capacity(needed / size_of::<libc::proc_fdinfo>() + 16);
    let Ok(bytes) = c_int::try_from(list.capacity() * size_of::<libc::proc_fdinfo>()) else {
        return Vec::new();
    };
    // SAFETY: the buffer has room for `bytes` bytes; the kernel writes at most that.
    let n = unsafe {
        libc::proc_pidinfo(
            pid,
            libc::PROC_PIDLISTFDS,
            0,
            list.as_mut_ptr().cast(),
            bytes,
        )
    };
    let Ok(n) = usize::try_from(n) else {
        return Vec::new();
    };
    // SAFETY: the kernel filled `n` bytes, whole entries of plain integers.
    unsafe { list.set_len((n / size_of::<libc::proc_fdinfo>()).min(list.capacity())) };
    list
}

/// What the socket `fd` of `pid` is (`PROC_PIDFDSOCKETINFO`).
pub(super) fn socket_info(pid: u32, fd: i32) -> Option<SocketFdInfo> {
    let pid = pid_arg(pid)?;
    let size = c_int::try_from(size_of::<SocketFdInfo>()).ok()?;
    let mut out = MaybeUninit::<SocketFdInfo>::uninit();
    // SAFETY: the kernel writes at most `size` bytes into `out`, which has room for them.
    let n = unsafe {
        libc::proc_pidfdinfo(pid, fd, PROC_PIDFDSOCKETINFO, out.as_mut_ptr().cast(), size)
    };
    // SAFETY: the kernel wrote the whole structure (plain integers: any bytes are valid).
    (n == size).then(|| unsafe { out.assume_init() })
}

/// Every process's pid.
pub(super) fn all_pids() -> Vec<u32> {
    // SAFETY: with a null buffer the call only says how many pids there are.
    let count = unsafe { libc::proc_listallpids(std::ptr::null_mut(), 0) };
    let Ok(count) = usize::try_from(count) else {
        return Vec::new();
    };
    // Room for processes started since.
    let mut pids: Vec<c_int> = Vec::with_capacity(count + 64);
    let Ok(bytes) = c_int::try_from(pids.capacity() * size_of::<c_int>()) else {
        return Vec::new();
    };
    // SAFETY: the buffer has room for `bytes` bytes; the kernel writes at most that.
    let n = unsafe { libc::proc_listallpids(pids.as_mut_ptr().cast::<c_void>(), bytes) };
    let Ok(n) = usize::try_from(n) else {
        return Vec::new();
    };
    // SAFETY: the call returns how many pids it wrote.
    unsafe { pids.set_len(n.min(pids.capacity())) };
    pids.into_iter()
        .filter_map(|p| u32::try_from(p).ok())
        .collect()
}

/// The process's name (its executable's, up to 32 bytes).
pub(super) fn name(pid: u32) -> Option<String> {
    let pid = pid_arg(pid)?;
    let mut buf = [0u8; 2 * libc::MAXCOMLEN + 1];
    let size = u32::try_from(buf.len()).ok()?;
    // SAFETY: the kernel writes at most `size` bytes into `buf`.
    let n = unsafe { libc::proc_name(pid, buf.as_mut_ptr().cast(), size) };
    let n = usize::try_from(n).ok().filter(|&n| n > 0)?;
    Some(String::from_utf8_lossy(&buf[..n.min(buf.len())]).into_owned())
}

/// A sysctl by MIB, into a buffer of up to `max` bytes; `None` when it fails.
pub(super) fn sysctl(mib: &mut [c_int], max: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; max];
    let mut len = buf.len();
    let count = libc::c_uint::try_from(mib.len()).ok()?;
    // SAFETY: `buf` has room for `len` bytes and the kernel writes at most that, updating
    // `len` to what it wrote; `mib` holds `count` integers.
    let r = unsafe {
        libc::sysctl(
            mib.as_mut_ptr(),
            count,
            buf.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    (r == 0).then(|| {
        buf.truncate(len);
        buf
    })
}

/// A sysctl by name, into a buffer of up to `max` bytes.
pub(super) fn sysctl_by_name(name: &CStr, max: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; max];
    let mut len = buf.len();
    // SAFETY: `name` is NUL-terminated; `buf` has room for `len` bytes and the kernel writes
    // at most that, updating `len` to what it wrote.
    let r = unsafe {
        libc::sysctlbyname(
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    (r == 0).then(|| {
        buf.truncate(len);
        buf
    })
}

/// The factor from Mach absolute time units (the CPU times of `proc_taskinfo`) to nanoseconds.
pub(super) fn timebase() -> Option<(u64, u64)> {
    let mut info = mach2::mach_time::mach_timebase_info { numer: 0, denom: 0 };
    // SAFETY: fills the structure it is given.
    let r = unsafe { mach2::mach_time::mach_timebase_info(&mut info) };
    (r == mach2::kern_return::KERN_SUCCESS && info.denom != 0)
        .then_some((u64::from(info.numer), u64::from(info.denom)))
}
