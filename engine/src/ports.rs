//! Which TCP ports a process tree listens on, who holds a given port, and whether a failed
//! command's output says that its port was taken.
//!
//! Linux only: sockets are matched to processes through `/proc/<pid>/fd/*` (`socket:[INODE]`)
//! and the kernel's socket tables in `/proc/.../net/tcp{,6}`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::output::plain::strip_ansi;
use crate::platform;

/// `TCP_LISTEN` in the kernel's `st` column.
const STATE_LISTEN: u8 = 0x0A;
/// Enough for any command line worth showing in a message.
const MAX_COMMAND_CHARS: usize = 4096;
/// How many lines around an "address in use" line may hold its port.
const HINT_NEIGHBOURHOOD: usize = 3;

/// A TCP port that a process of a tree is listening on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct ListeningPort {
    pub port: u16,
    /// The local address, e.g. `0.0.0.0`, `127.0.0.1`, `::`, `::1`. An IPv4-mapped IPv6 address
    /// is shown as the IPv4 address it stands for.
    pub address: String,
    /// The process holding the socket (the one nearest the root when several share it).
    pub pid: u32,
}

/// Whoever holds a listening socket on a port, as far as this user can see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct PortOwner {
    pub port: u16,
    pub address: String,
    /// The owning user, from the socket table (readable even when the process is not).
    pub uid: u32,
    /// None when the process is not ours to inspect (another user's, or in another container).
    pub pid: Option<u32>,
    /// The owner's command line, arguments joined by spaces.
    pub command: Option<String>,
}

/// One row of `/proc/net/tcp` or `/proc/net/tcp6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TcpRow {
    address: IpAddr,
    port: u16,
    state: u8,
    uid: u32,
    inode: u64,
}

/// The TCP ports that `root_pid` and its descendants listen on, one entry per (address, port),
/// sorted by port then address.
pub fn listening_ports(root_pid: u32) -> Vec<ListeningPort> {
    let mut pids = vec![root_pid];
    pids.extend(platform::descendants(root_pid));
    // Parents come before their children here, so a socket shared after fork() is attributed to
    // the process that opened it (a server's master, not one of its workers).
    let mut owner_of: HashMap<u64, u32> = HashMap::new();
    // The socket tables are per network namespace; a tree that entered its own namespace (or a
    // container) has its sockets only in that namespace's tables.
    let mut namespaces: HashMap<Option<String>, u32> = HashMap::new();
    for &pid in &pids {
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
    listening_from(&rows, &owner_of)
}

fn listening_from(rows: &[TcpRow], owner_of: &HashMap<u64, u32>) -> Vec<ListeningPort> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| r.state == STATE_LISTEN) {
        let Some(&pid) = owner_of.get(&row.inode) else {
            continue;
        };
        let address = show_address(row.address);
        if seen.insert((address.clone(), row.port)) {
            out.push(ListeningPort {
                port: row.port,
                address,
                pid,
            });
        }
    }
    out.sort_by(|a, b| (a.port, &a.address).cmp(&(b.port, &b.address)));
    out
}

/// Which process listens on `port` (any address) in this network namespace, or None when
/// nothing does. When the socket's process cannot be inspected, the owner's uid and the address
/// are still returned.
pub fn who_listens_on(port: u16) -> Option<PortOwner> {
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
        .find(|&p| platform::stat(p).is_none_or(|s| !holders.contains(&s.ppid)))
        .or_else(|| holders.iter().copied().min());
    let row = pid
        .and_then(|p| {
            let inodes = socket_inodes(p);
            rows.iter().find(|r| inodes.contains(&r.inode)).copied()
        })
        .unwrap_or(first);
    Some(PortOwner {
        port,
        address: show_address(row.address),
        uid: row.uid,
        pid,
        command: pid.and_then(command_line),
    })
}

fn processes_holding(inodes: &HashSet<u64>) -> HashSet<u32> {
    let mut out = HashSet::new();
    if inodes.is_empty() {
        return out;
    }
    for pid in platform::pids() {
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

/// A socket bound to `::ffff:a.b.c.d` only accepts IPv4 clients at `a.b.c.d`, which is what a
/// person wants to see (and to put in a URL).
fn show_address(addr: IpAddr) -> String {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        IpAddr::V4(v4) => v4.to_string(),
    }
}

fn command_line(pid: u32) -> Option<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let text: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|arg| !arg.is_empty())
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect();
    let mut command = text.join(" ");
    if command.is_empty() {
        // Kernel threads and processes that rewrote their argv to nothing.
        command = fs::read_to_string(format!("/proc/{pid}/comm"))
            .ok()?
            .trim()
            .to_owned();
    }
    if command.chars().count() > MAX_COMMAND_CHARS {
        command = command.chars().take(MAX_COMMAND_CHARS).collect();
        command.push('…');
    }
    (!command.is_empty()).then_some(command)
}

/// The port named by the latest "address already in use" message in `output_tail`, if any.
///
/// Recognises Node (`EADDRINUSE ... :::3000`), Go and Rust (`listen tcp :8080: bind: address
/// already in use`), Python (`[Errno 98]`, uvicorn's `('127.0.0.1', 8000)`), Vite, Spring,
/// Rails, nginx, Redis, Docker and the like. When the message itself names no port, the lines
/// around it are searched (Flask, actix and Postgres name the port on a separate line).
pub fn port_in_use_hint(output_tail: &str) -> Option<u16> {
    // Output is captured with colour forced on, so escape sequences can split a message.
    let text = strip_ansi(output_tail);
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate().rev() {
        if !in_use_regex().is_match(line) {
            continue;
        }
        if let Some(port) = port_in_line(line) {
            return Some(port);
        }
        for d in 1..=HINT_NEIGHBOURHOOD {
            let around = [i.checked_add(d), i.checked_sub(d)];
            for j in around.into_iter().flatten() {
                if let Some(port) = lines.get(j).and_then(|l| port_in_line(l)) {
                    return Some(port);
                }
            }
        }
    }
    None
}

/// True when `output_tail` says some address was already in use, whether or not it names the
/// port (Python's bare `OSError: [Errno 98] Address already in use` does not).
pub fn says_address_in_use(output_tail: &str) -> bool {
    strip_ansi(output_tail)
        .lines()
        .any(|l| in_use_regex().is_match(l))
}

fn in_use_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)eaddrinuse|addrinuse|address already in use|\b(?:address|port)\b.{0,60}\b(?:already in use|is in use|in use by|already allocated)|already running on port|\bis port \d+ in use|\berrno (?:98|48)\b|os error (?:98|48)\b",
        )
        .expect("static regex")
    })
}

/// The port a single line names: `port 3000`, `('127.0.0.1', 8000)`, or an address with a port
/// (`:::3000`, `127.0.0.1:8080`, `[::1]:8080`, `*:6379`, `localhost:8000`, `tcp :8080:`).
fn port_in_line(line: &str) -> Option<u16> {
    static KEYWORD: OnceLock<Regex> = OnceLock::new();
    static TUPLE: OnceLock<Regex> = OnceLock::new();
    let keyword = KEYWORD
        .get_or_init(|| Regex::new(r"(?i)\bport\b\s*[:=#]?\s*(\d{1,5})\b").expect("static regex"));
    let tuple = TUPLE.get_or_init(|| {
        Regex::new(r#"\(\s*['"][^'"]*['"]\s*,\s*(\d{1,5})\s*\)"#).expect("static regex")
    });
    for re in [keyword, tuple] {
        if let Some(port) = re
            .captures_iter(line)
            .filter_map(|c| valid_port(c.get(1)?.as_str()))
            .next()
        {
            return Some(port);
        }
    }
    line.split_ascii_whitespace().find_map(port_in_token)
}

/// `host:port` where the host is empty, `*`, `localhost` or an IP address; anything else with a
/// colon (`12:30:45`, `node:net:1817:7`, `src/main.rs:12:55`) is not an address.
pub(crate) fn port_in_token(token: &str) -> Option<u16> {
    let token = token
        .trim_start_matches(['(', '"', '\'', '<', '{'])
        .trim_end_matches(['(', ')', '"', '\'', '>', '}', ',', ';', '.', '!', '?', ':']);
    let (host, port) = token.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let is_address = host.is_empty()
        || host == "*"
        || host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok();
    if is_address {
        valid_port(port)
    } else {
        None
    }
}

pub(crate) fn valid_port(digits: &str) -> Option<u16> {
    digits.parse::<u16>().ok().filter(|&p| p != 0)
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
        assert_eq!(show_address(IpAddr::V6(mapped)), "127.0.0.1");
        let doc = parse_v6("B80D0120000000000000000001000000").expect("2001:db8::1");
        assert_eq!(show_address(IpAddr::V6(doc)), "2001:db8::1");
        assert_eq!(parse_v4("7F"), None);
        assert_eq!(parse_v6("zz000000000000000000000001000000"), None);
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_tables_and_keeps_one_entry_per_address_and_port() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 112 1 0000000000000000 100 0 0 10 0
   2: 0100007F:0BB8 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 113 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 114 1 0000000000000000 100 0 0 10 0
   garbage line
";
        let tcp6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 115 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0
";
        let mut rows: Vec<TcpRow> = parse_table(tcp, false).collect();
        rows.extend(parse_table(tcp6, true));
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0].port, 3000);
        assert_eq!(rows[0].uid, 1000);
        assert_eq!(rows[2].state, 1);
        // 111 and 114 are two SO_REUSEPORT sockets on one address; 113 is a connection; 999
        // belongs to somebody else's tree.
        let owner_of: HashMap<u64, u32> =
            [(111, 10), (112, 11), (113, 10), (114, 12), (115, 13)].into();
        let ports = listening_from(&rows, &owner_of);
        let got: Vec<(u16, &str, u32)> = ports
            .iter()
            .map(|p| (p.port, p.address.as_str(), p.pid))
            .collect();
        assert_eq!(
            got,
            vec![
                (80, "::1", 13),
                (3000, "127.0.0.1", 10),
                (8080, "0.0.0.0", 11)
            ]
        );
    }

    #[test]
    fn finds_the_port_in_real_world_messages() {
        let cases: &[(&str, Option<u16>)] = &[
            ("Error: listen EADDRINUSE: address already in use :::3000", Some(3000)),
            ("Error: listen EADDRINUSE: address already in use 127.0.0.1:8080", Some(8080)),
            ("Error: listen EADDRINUSE :::4000\n    at Server.setupListenHandle [as _listen2] (node:net:1817:16)", Some(4000)),
            ("node:events:497\n      throw er; // Unhandled 'error' event\n      ^\n\nError: listen EADDRINUSE: address already in use ::1:5000\n    at Server.setupListenHandle [as _listen2] (node:net:1872:16)", Some(5000)),
            ("Traceback (most recent call last):\n  File \"/usr/lib/python3.11/socketserver.py\", line 456, in __init__\nOSError: [Errno 98] Address already in use", None),
            ("ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', 8000): address already in use", Some(8000)),
            (" * Serving Flask app 'app'\n * Debug mode: on\nAddress already in use\nPort 5000 is in use by another program. Either identify and stop that program, or start the server with a different port.", Some(5000)),
            ("2024/01/02 15:04:05 listen tcp 127.0.0.1:9000: bind: address already in use", Some(9000)),
            ("listen tcp :8080: bind: address already in use", Some(8080)),
            ("listen tcp [::1]:8081: bind: address already in use", Some(8081)),
            ("Error: listen tcp 127.0.0.1:1313: bind: address already in use", Some(1313)),
            ("thread 'main' panicked at src/main.rs:12:55:\ncalled `Result::unwrap()` on an `Err` value: Os { code: 98, kind: AddrInUse, message: \"Address already in use\" }", None),
            ("Error: failed to bind 127.0.0.1:8088\n\nCaused by:\n    Address already in use (os error 98)", Some(8088)),
            ("Error: port 3000 is already in use", Some(3000)),
            ("  VITE v5.0.0  ready in 300 ms\nPort 5173 is in use, trying another one...", Some(5173)),
            ("error when starting dev server:\nError: Port 5174 is already in use\n    at Server.onError (file:///app/node_modules/vite/dist/node/chunks/dep.js:1:2)", Some(5174)),
            ("\u{1b}[31merror\u{1b}[39m Port \u{1b}[1m5175\u{1b}[22m is already in use", Some(5175)),
            ("Address already in use - bind(2) for \"127.0.0.1\" port 3001 (Errno::EADDRINUSE)", Some(3001)),
            ("***************************\nAPPLICATION FAILED TO START\n***************************\n\nDescription:\n\nWeb server failed to start. Port 8082 was already in use.", Some(8082)),
            ("nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)", Some(80)),
            ("# Warning: Could not create server TCP listening socket *:6379: bind: Address already in use", Some(6379)),
            ("Error response from daemon: driver failed programming external connectivity on endpoint db (3f2a): Bind for 0.0.0.0:5432 failed: port is already allocated", Some(5432)),
            ("[Mon Jan  1 12:00:00 2024] Failed to listen on localhost:8001 (reason: Address already in use)", Some(8001)),
            ("error: Failed to start server. Is port 3002 in use?", Some(3002)),
            ("Something is already running on port 3003.", Some(3003)),
            ("LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use\nHINT:  Is another postmaster already running on port 5433? If not, wait a few seconds and retry.", Some(5433)),
            ("error: Uncaught (in promise) AddrInUse: Address already in use (os error 98)", None),
            ("java.net.BindException: Address already in use", None),
            ("Error: That port is already in use.", None),
            ("Server listening on :3000\nGET / 200 12:30:45", None),
            ("compiled successfully", None),
            ("", None),
            // The latest failure wins.
            ("Error: listen EADDRINUSE: address already in use :::3000\nretrying\nError: listen EADDRINUSE: address already in use :::3004", Some(3004)),
        ];
        for (text, want) in cases {
            assert_eq!(port_in_use_hint(text), *want, "for {text:?}");
        }
        assert!(says_address_in_use(
            "OSError: [Errno 98] Address already in use"
        ));
        assert!(!says_address_in_use("listening on :3000"));
    }

    #[test]
    fn tokens_that_are_not_addresses_give_no_port() {
        for token in [
            "12:30:45",
            "node:net:1817:7)",
            "src/main.rs:12:55:",
            "(98:",
            "host.example:99999",
            ":0",
        ] {
            assert_eq!(port_in_token(token), None, "{token}");
        }
        assert_eq!(port_in_token("\"[::]:443\","), Some(443));
    }
}
