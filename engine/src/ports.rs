//! Which TCP ports a process tree listens on, who holds a given port, and whether a failed
//! command's output says that its port was taken. The sockets themselves are the platform's
//! to find ([`platform::listeners_of`], [`platform::port_owner`]).

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::output::plain::strip_ansi;
use crate::platform;

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

/// The TCP ports that `root_pid` and its descendants listen on, one entry per (address, port),
/// sorted by port then address.
pub fn listening_ports(root_pid: u32) -> Vec<ListeningPort> {
    let mut pids = vec![root_pid];
    pids.extend(platform::descendants(root_pid));
    // Parents come before their children here, so a socket shared after fork() is attributed to
    // the process that opened it (a server's master, not one of its workers).
    listening_from(&platform::listeners_of(&pids))
}

fn listening_from(listeners: &[platform::Listener]) -> Vec<ListeningPort> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for l in listeners {
        let Some(pid) = l.pid else { continue };
        let address = show_address(l.address);
        if seen.insert((address.clone(), l.port)) {
            out.push(ListeningPort {
                port: l.port,
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
    let owner = platform::port_owner(port)?;
    Some(PortOwner {
        port,
        address: show_address(owner.address),
        uid: owner.uid,
        pid: owner.pid,
        command: owner.pid.and_then(command_line),
    })
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
    let args: Vec<String> = platform::cmdline(pid)?
        .iter()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let mut command = args.join(" ");
    if command.is_empty() {
        // Kernel threads and processes that rewrote their argv to nothing.
        command = platform::process_name(pid)?;
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
    fn keeps_one_entry_per_address_and_port_and_shows_mapped_addresses_as_ipv4() {
        let at = |address: &str, port: u16, pid: Option<u32>| platform::Listener {
            address: address.parse().expect("address"),
            port,
            uid: 1000,
            pid,
        };
        // Two SO_REUSEPORT sockets on one address (pids 10 and 12), one IPv4-mapped address, and
        // a socket whose holder is unknown.
        let listeners = [
            at("127.0.0.1", 3000, Some(10)),
            at("0.0.0.0", 8080, Some(11)),
            at("127.0.0.1", 3000, Some(12)),
            at("::1", 80, Some(13)),
            at("::ffff:127.0.0.1", 4000, Some(14)),
            at("::", 3000, None),
        ];
        let got: Vec<(u16, String, u32)> = listening_from(&listeners)
            .into_iter()
            .map(|p| (p.port, p.address, p.pid))
            .collect();
        assert_eq!(
            got,
            vec![
                (80, "::1".to_owned(), 13),
                (3000, "127.0.0.1".to_owned(), 10),
                (4000, "127.0.0.1".to_owned(), 14),
                (8080, "0.0.0.0".to_owned(), 11),
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
