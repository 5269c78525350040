//! Listening TCP sockets and the processes holding them: sockets are matched to processes
//! through `/proc/<pid>/fd/*` (`socket:[INODE]`) and the kernel's socket tables in
//! `/proc/.../net/tcp{,6}`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::platform::{pids, stat, Listener};

/// `TCP_LISTEN` in the kernel's `st` column.
const STATE_LISTEN: u8 = 0x0A;

/// One row of `/proc/net/tcp` or `/proc/net/tcp6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TcpRow {
    address: IpAddr,
    port: u16,
    state: u8,
    uid: u32,
    inode: u64,
}

impl TcpRow {
    fn listener(&self, pid: Option<u32>) -> Listener {
        Listener {
            address: self.address,
            port: self.port,
            uid: self.uid,
            pid,
        }
    }
}

pub(in crate::platform) fn listeners_of(holders: &[u32]) -> Vec<Listener> {
    let mut owner_of: HashMap<u64, u32> = HashMap::new();
    // The socket tables are per network namespace; a tree that entered its own namespace (or a
    // container) has its sockets only in that namespace's tables.
    let mut namespaces: HashMap<Option<String>, u32> = HashMap::new();
    for &pid in holders {
        let inodes = socket_inodes(pid);
        if inodes.is_empty() {
            continue;
        }
        for inode in inodes {
            owner_of.entry(inode).or_insert(pid);
        }
        namespaces.entry(net_namespace(pid)).or_insert(pid);
    }
    if owner_of.is_empty() {
        return Vec::new();
    }
    let own_ns = net_namespace_of("self");
    let mut rows = Vec::new();
    for (ns, pid) in namespaces {
        let base = if ns.is_some() && ns == own_ns {
            "/proc/net".to_owned()
        } else {
            format!("/proc/{pid}/net")
        };
        rows.extend(read_tables(&base));
    }
    owned_listeners(&rows, &owner_of)
}

fn owned_listeners(rows: &[TcpRow], owner_of: &HashMap<u64, u32>) -> Vec<Listener> {
    rows.iter()
        .filter(|r| r.state == STATE_LISTEN)
        .filter_map(|r| owner_of.get(&r.inode).map(|&pid| r.listener(Some(pid))))
        .collect()
}

pub(in crate::platform) fn port_owner(port: u16) -> Option<Listener> {
    let rows: Vec<TcpRow> = read_tables("/proc/net")
        .into_iter()
        .filter(|r| r.state == STATE_LISTEN && r.port == port)
        .collect();
    let first = *rows.first()?;
    let wanted: HashSet<u64> = rows.iter().map(|r| r.inode).filter(|&i| i != 0).collect();
    let holders = processes_holding(&wanted);
    // Prefer the holder whose parent does not also hold it: the process that opened the socket.
    let pid = holders
        .iter()
        .copied()
        .find(|&p| stat(p).is_none_or(|s| !holders.contains(&s.ppid)))
        .or_else(|| holders.iter().copied().min());
    let row = pid
        .and_then(|p| {
            let inodes = socket_inodes(p);
            rows.iter().find(|r| inodes.contains(&r.inode)).copied()
        })
        .unwrap_or(first);
    Some(row.listener(pid))
}

fn processes_holding(inodes: &HashSet<u64>) -> HashSet<u32> {
    let mut out = HashSet::new();
    if inodes.is_empty() {
        return out;
    }
    for pid in pids() {
        if !socket_inodes(pid).is_disjoint(inodes) {
            out.insert(pid);
        }
    }
    out
}

/// The inodes of the sockets `pid` has open; empty when its fds are not ours to read.
fn socket_inodes(pid: u32) -> HashSet<u64> {
    let mut out = HashSet::new();
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return out;
    };
    for entry in entries.flatten() {
        let Ok(target) = fs::read_link(entry.path()) else {
            continue;
        };
        if let Some(inode) = target
            .to_str()
            .and_then(|t| t.strip_prefix("socket:["))
            .and_then(|t| t.strip_suffix(']'))
            .and_then(|t| t.parse().ok())
        {
            out.insert(inode);
        }
    }
    out
}

fn net_namespace(pid: u32) -> Option<String> {
    net_namespace_of(&pid.to_string())
}

fn net_namespace_of(proc_entry: &str) -> Option<String> {
    fs::read_link(format!("/proc/{proc_entry}/ns/net"))
        .ok()
        .and_then(|p| p.to_str().map(str::to_owned))
}

fn read_tables(base: &str) -> Vec<TcpRow> {
    let mut rows = Vec::new();
    for (file, v6) in [("tcp", false), ("tcp6", true)] {
        let path = format!("{base}/{file}");
        match fs::read_to_string(&path) {
            Ok(text) => rows.extend(parse_table(&text, v6)),
            // tcp6 is absent when IPv6 is disabled.
            Err(e) => tracing::debug!(%path, error = %e, "socket table not readable"),
        }
    }
    rows
}

fn parse_table(text: &str, v6: bool) -> impl Iterator<Item = TcpRow> + '_ {
    text.lines()
        .skip(1)
        .filter_map(move |line| parse_row(line, v6))
}

/// `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...`
fn parse_row(line: &str, v6: bool) -> Option<TcpRow> {
    let fields: Vec<&str> = line.split_ascii_whitespace().collect();
    let (addr, port) = fields.get(1)?.split_once(':')?;
    Some(TcpRow {
        address: if v6 {
            IpAddr::V6(parse_v6(addr)?)
        } else {
            IpAddr::V4(parse_v4(addr)?)
        },
        port: u16::from_str_radix(port, 16).ok()?,
        state: u8::from_str_radix(fields.get(3)?, 16).ok()?,
        uid: fields.get(7)?.parse().ok()?,
        inode: fields.get(9)?.parse().ok()?,
    })
}

/// The kernel prints the address's network-order bytes as one native-endian `u32` (`%08X`), so
/// turning the number back into native bytes recovers them on any host.
fn parse_v4(hex: &str) -> Option<Ipv4Addr> {
    if hex.len() != 8 {
        return None;
    }
    Some(Ipv4Addr::from(
        u32::from_str_radix(hex, 16).ok()?.to_ne_bytes(),
    ))
}

/// Four native-endian `u32` words, each printed like an IPv4 address.
fn parse_v6(hex: &str) -> Option<Ipv6Addr> {
    if hex.len() != 32 || !hex.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_exact_mut(4).enumerate() {
        let word = u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).ok()?;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    Some(Ipv6Addr::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_endian = "little")]
    fn decodes_kernel_addresses() {
        assert_eq!(parse_v4("0100007F"), Some(Ipv4Addr::LOCALHOST));
        assert_eq!(parse_v4("00000000"), Some(Ipv4Addr::UNSPECIFIED));
        assert_eq!(parse_v4("0101A8C0"), Some(Ipv4Addr::new(192, 168, 1, 1)));
        assert_eq!(
            parse_v6("00000000000000000000000001000000"),
            Some(Ipv6Addr::LOCALHOST)
        );
        assert_eq!(
            parse_v6("00000000000000000000000000000000"),
            Some(Ipv6Addr::UNSPECIFIED)
        );
        let mapped = parse_v6("0000000000000000FFFF00000100007F").expect("mapped");
        assert_eq!(mapped.to_ipv4_mapped(), Some(Ipv4Addr::LOCALHOST));
        let doc = parse_v6("B80D0120000000000000000001000000").expect("2001:db8::1");
        assert_eq!(doc.to_string(), "2001:db8::1");
        assert_eq!(parse_v4("7F"), None);
        assert_eq!(parse_v6("zz000000000000000000000001000000"), None);
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_tables_and_keeps_the_listening_sockets_of_the_holders() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 112 1 0000000000000000 100 0 0 10 0
   2: 0100007F:0BB8 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 113 1 0000000000000000 20 4 30 10 -1
   garbage line
";
        let tcp6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 115 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0
";
        let mut rows: Vec<TcpRow> = parse_table(tcp, false).collect();
        rows.extend(parse_table(tcp6, true));
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].port, 3000);
        assert_eq!(rows[0].uid, 1000);
        assert_eq!(rows[2].state, 1);
        // 113 is a connection; 999 belongs to somebody else's tree.
        let owner_of: HashMap<u64, u32> = [(111, 10), (112, 11), (113, 10), (115, 13)].into();
        let got: Vec<(u16, String, Option<u32>)> = owned_listeners(&rows, &owner_of)
            .iter()
            .map(|l| (l.port, l.address.to_string(), l.pid))
            .collect();
        assert_eq!(
            got,
            vec![
                (3000, "127.0.0.1".to_owned(), Some(10)),
                (8080, "0.0.0.0".to_owned(), Some(11)),
                (80, "::1".to_owned(), Some(13)),
            ]
        );
    }
}
