//! Listening TCP sockets and their owning processes, from `GetExtendedTcpTable`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use windows_sys::Win32::Foundation::{ERROR_INSUFFICIENT_BUFFER, NO_ERROR};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    GetExtendedTcpTable, MIB_TCP6ROW_OWNER_PID, MIB_TCPROW_OWNER_PID, TCP_TABLE_OWNER_PID_LISTENER,
};
use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};

use crate::platform::Listener;

/// Windows keeps no owning user per socket: every listener reads as user 0.
const NO_UID: u32 = 0;

/// The port fields hold the port in network order in their low two bytes.
fn port(field: u32) -> u16 {
    u16::from_be(field as u16)
}

/// Every listening socket of the system, with its owner's pid.
fn listening() -> Vec<(IpAddr, u16, u32)> {
    let mut out = Vec::new();
    for (family, v6) in [(AF_INET, false), (AF_INET6, true)] {
        let Some(buf) = table(u32::from(family)) else {
            continue;
        };
        let count = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if v6 {
            // The rows start after the count, aligned for their u32 fields.
            let rows = rows::<MIB_TCP6ROW_OWNER_PID>(&buf, count);
            out.extend(rows.iter().map(|r| {
                (
                    IpAddr::V6(Ipv6Addr::from(r.ucLocalAddr)),
                    port(r.dwLocalPort),
                    r.dwOwningPid,
                )
            }));
        } else {
            let rows = rows::<MIB_TCPROW_OWNER_PID>(&buf, count);
            out.extend(rows.iter().map(|r| {
                (
                    IpAddr::V4(Ipv4Addr::from(r.dwLocalAddr.to_ne_bytes())),
                    port(r.dwLocalPort),
                    r.dwOwningPid,
                )
            }));
        }
    }
    out
}

/// The table of one address family, as the call wrote it (in u32s, so its rows are aligned).
fn table(family: u32) -> Option<Vec<u8>> {
    let mut size = 0u32;
    for _ in 0..4 {
        let mut buf = vec![0u32; (size as usize).div_ceil(4).max(1)];
        let mut len = (buf.len() * 4) as u32;
        // SAFETY: `buf` is writable for `len` bytes.
        let rc = unsafe {
            GetExtendedTcpTable(
                buf.as_mut_ptr().cast(),
                &mut len,
                0,
                family,
                TCP_TABLE_OWNER_PID_LISTENER,
                0,
            )
        };
        match rc {
            NO_ERROR => return Some(buf.iter().flat_map(|w| w.to_ne_bytes()).collect()),
            // The table grew between the calls: ask again with the size it gave.
            ERROR_INSUFFICIENT_BUFFER => size = len,
            _ => return None,
        }
    }
    None
}

/// The `count` rows after the table's count field, copied out.
fn rows<T: Copy>(buf: &[u8], count: usize) -> Vec<T> {
    let start = std::mem::align_of::<T>().max(4);
    (0..count)
        .map_while(|i| {
            let at = start + i * size_of::<T>();
            let bytes = buf.get(at..at + size_of::<T>())?;
            // SAFETY: `bytes` holds one T as the call wrote it; read unaligned.
            Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
        })
        .collect()
}

pub(in crate::platform) fn listeners_of(holders: &[u32]) -> Vec<Listener> {
    let all = listening();
    let mut out = Vec::new();
    for &holder in holders {
        out.extend(
            all.iter()
                .filter(|(_, _, pid)| *pid == holder)
                .map(|&(address, port, pid)| Listener {
                    address,
                    port,
                    uid: NO_UID,
                    pid: Some(pid),
                }),
        );
    }
    out
}

pub(in crate::platform) fn port_owner(port_wanted: u16) -> Option<Listener> {
    listening()
        .into_iter()
        .find(|(_, port, _)| *port == port_wanted)
        .map(|(address, port, pid)| Listener {
            address,
            port,
            uid: NO_UID,
            pid: Some(pid).filter(|&p| p != 0),
        })
}
