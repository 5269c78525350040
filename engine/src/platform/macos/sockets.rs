//! Listening TCP sockets and the processes holding them, from each process's descriptors
//! (`PROC_PIDLISTFDS`, `PROC_PIDFDSOCKETINFO`). Only the sockets of processes this user may
//! inspect can be seen: macOS keeps no system-wide table of sockets and their owners that a
//! user may read.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::libproc::{self, SocketFdInfo, INI_IPV4, INI_IPV6, SOCKINFO_TCP, TSI_S_LISTEN};
use crate::platform::{pids, stat, Listener};

/// One listening TCP socket held by a process.
struct Held {
    /// The kernel's handle of the socket: the same socket shared after a fork has the same.
    socket: u64,
    listener: Listener,
}

/// The listening TCP sockets `pid` holds.
fn listening(pid: u32) -> Vec<Held> {
    libproc::fds(pid)
        .into_iter()
        .filter(|fd| fd.proc_fdtype == libc::PROX_FDTYPE_SOCKET as u32)
        .filter_map(|fd| libproc::socket_info(pid, fd.proc_fd))
        .filter_map(|info| listener(&info, pid))
        .collect()
}

fn listener(info: &SocketFdInfo, pid: u32) -> Option<Held> {
    if info.psi.soi_kind != SOCKINFO_TCP {
        return None;
    }
    // SAFETY: `soi_kind` says the union holds the TCP member.
    let tcp = unsafe { info.psi.soi_proto.pri_tcp };
    if tcp.tcpsi_state != TSI_S_LISTEN {
        return None;
    }
    let ini = tcp.tcpsi_ini;
    let bytes = ini.insi_laddr.bytes;
    let address = if ini.insi_vflag & INI_IPV6 != 0 {
        IpAddr::V6(Ipv6Addr::from(bytes))
    } else if ini.insi_vflag & INI_IPV4 != 0 {
        IpAddr::V4(Ipv4Addr::new(bytes[12], bytes[13], bytes[14], bytes[15]))
    } else {
        return None;
    };
    // The port is kept in network byte order in the low 16 bits.
    let port = u16::from_be((ini.insi_lport & 0xffff) as u16);
    Some(Held {
        socket: info.psi.soi_so,
        listener: Listener {
            address,
            port,
            uid: info.psi.soi_stat.vst_uid,
            pid: Some(pid),
        },
    })
}

pub(in crate::platform) fn listeners_of(holders: &[u32]) -> Vec<Listener> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for &pid in holders {
        for held in listening(pid) {
            if seen.insert(held.socket) {
                out.push(held.listener);
            }
        }
    }
    out
}

pub(in crate::platform) fn port_owner(port: u16) -> Option<Listener> {
    let mut holders: Vec<(u32, Held)> = Vec::new();
    for pid in pids() {
        holders.extend(
            listening(pid)
                .into_iter()
                .filter(|h| h.listener.port == port)
                .map(|h| (pid, h)),
        );
    }
    let pids: HashSet<u32> = holders.iter().map(|(pid, _)| *pid).collect();
    // Prefer the holder whose parent does not also hold it: the process that opened the socket.
    let opener = holders
        .iter()
        .find(|(pid, _)| stat(*pid).is_none_or(|s| !pids.contains(&s.ppid)))
        .or_else(|| holders.iter().min_by_key(|(pid, _)| *pid))?;
    Some(opener.1.listener)
}
