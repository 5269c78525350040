//! `ports` against real sockets held by real processes (python3 and process groups: Unix).

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use procdeck_engine::ports::{listening_ports, who_listens_on};

/// Binds a listening socket on `argv[1]` (port 0) and prints its port, or `SKIP <reason>` when
/// this machine has no such address family or address (no IPv6, say); any other error fails.
const LISTENER: &str = r#"
import errno, socket, sys, time
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
try:
    s = socket.socket(family)
    s.bind((sys.argv[1], 0))
    s.listen()
except OSError as e:
    if e.errno not in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):
        raise
    print("SKIP", e, flush=True)
    time.sleep(30)
    sys.exit()
print(s.getsockname()[1], flush=True)
time.sleep(30)
"#;

/// Binds a TCP socket to a port the kernel picks, on every address (IPv6 and IPv4 when the
/// machine has IPv6), without listening, and prints the port. Without `SO_REUSEADDR` or
/// `SO_REUSEPORT` the bound socket keeps every other socket of this network namespace off that
/// port, so nothing can be listening on it while this process lives. It checks that first: a
/// listener that asks for `SO_REUSEADDR` (as most servers do) must be refused the port.
const PORT_HOLDER: &str = r#"
import socket, time
try:
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", 0))
except OSError:
    s = socket.socket(socket.AF_INET)
    s.bind(("0.0.0.0", 0))
port = s.getsockname()[1]
probe = socket.socket(socket.AF_INET)
probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    probe.bind(("127.0.0.1", port))
    probe.listen()
    print("NOT HELD: another socket could listen on", port, flush=True)
except OSError:
    print(port, flush=True)
probe.close()
time.sleep(30)
"#;

/// A child in its own process group; the whole group is killed when the test ends, pass or fail.
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let pgid = self.0.id() as libc::pid_t;
        // SAFETY: kill has no memory effects; the group leader is our unreaped child.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` and returns it with the first line it prints.
fn start(cmd: &mut Command) -> (Kid, String) {
    use std::os::unix::process::CommandExt;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn listener");
    let stdout = child.stdout.take().expect("stdout");
    let kid = Kid(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the listener printed its port");
    (kid, line.trim().to_owned())
}

/// A listener on `host`, or None (said loudly on stderr) when this machine cannot bind it.
fn python_listener(host: &str) -> (Kid, Option<u16>) {
    let (kid, line) = start(Command::new("python3").arg("-c").arg(LISTENER).arg(host));
    if let Some(reason) = line.strip_prefix("SKIP") {
        eprintln!("SKIPPED: no listener on {host} here:{reason}");
        return (kid, None);
    }
    let port = line
        .parse()
        .unwrap_or_else(|_| panic!("a port, got {line:?}"));
    (kid, Some(port))
}

#[test]
fn finds_a_childs_listening_socket() {
    let (kid, port) = python_listener("127.0.0.1");
    let port = port.expect("IPv4 loopback binds");
    let pid = kid.0.id();
    let ports = listening_ports(pid);
    let found = ports
        .iter()
        .find(|p| p.port == port)
        .unwrap_or_else(|| panic!("port {port} in {ports:?}"));
    assert_eq!(found.address, "127.0.0.1");
    assert_eq!(found.pid, pid);
    assert_eq!(ports.len(), 1, "{ports:?}");
}

#[test]
fn finds_a_grandchilds_socket_from_the_root() {
    let (kid, line) = start(
        Command::new("bash")
            .arg("-c")
            .arg(r#"python3 -c "$0" "$1" & wait"#)
            .arg(LISTENER)
            .arg("127.0.0.1"),
    );
    let port: u16 = line
        .parse()
        .unwrap_or_else(|_| panic!("a port, got {line:?}"));
    let root = kid.0.id();
    let ports = listening_ports(root);
    let found = ports
        .iter()
        .find(|p| p.port == port)
        .unwrap_or_else(|| panic!("port {port} in {ports:?}"));
    assert_ne!(found.pid, root, "the socket is the python grandchild's");
    let owner_parent = procdeck_engine::platform::stat(found.pid).map(|s| s.ppid);
    assert_eq!(owner_parent, Some(root));
}

#[test]
fn finds_ipv6_loopback_when_the_machine_has_it() {
    let (kid, port) = python_listener("::1");
    let Some(port) = port else { return };
    let ports = listening_ports(kid.0.id());
    assert!(
        ports.iter().any(|p| p.port == port && p.address == "::1"),
        "[::1]:{port} in {ports:?}"
    );
}

#[test]
fn shows_an_ipv4_mapped_address_as_ipv4() {
    let (kid, port) = python_listener("::ffff:127.0.0.1");
    let Some(port) = port else { return };
    let ports = listening_ports(kid.0.id());
    assert!(
        ports
            .iter()
            .any(|p| p.port == port && p.address == "127.0.0.1"),
        "127.0.0.1:{port} in {ports:?}"
    );
}

#[test]
fn a_process_without_sockets_listens_on_nothing() {
    let (kid, _) = start(Command::new("sh").arg("-c").arg("echo up; exec sleep 30"));
    assert_eq!(listening_ports(kid.0.id()), vec![]);
    assert_eq!(listening_ports(u32::MAX), vec![]);
}

#[test]
fn who_listens_on_names_the_test_listener() {
    let (kid, port) = python_listener("127.0.0.1");
    let port = port.expect("IPv4 loopback binds");
    let owner = who_listens_on(port).expect("somebody listens");
    assert_eq!(owner.port, port);
    assert_eq!(owner.pid, Some(kid.0.id()));
    assert_eq!(owner.address, "127.0.0.1");
    // SAFETY: getuid has no preconditions.
    assert_eq!(owner.uid, unsafe { libc::getuid() });
    let command = owner.command.expect("our own process's command line");
    // `python3` may be a wrapper (pyenv) that execs the real interpreter by its full path.
    assert!(
        command.contains("python3") && command.contains(" -c "),
        "{command}"
    );
}

#[test]
fn who_listens_on_a_free_port_is_nobody() {
    // A port merely closed again could be taken by anything before the lookup; a port held by a
    // bound, non-listening socket cannot be listened on by anyone while the holder lives.
    let (_holder, line) = start(Command::new("python3").arg("-c").arg(PORT_HOLDER));
    let port: u16 = line
        .parse()
        .unwrap_or_else(|_| panic!("a port, got {line:?}"));
    assert_eq!(who_listens_on(port), None);
}

#[test]
fn finds_a_listener_in_this_process() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let ports = listening_ports(std::process::id());
    assert!(
        ports
            .iter()
            .any(|p| p.port == port && p.pid == std::process::id()),
        "{port} in {ports:?}"
    );
}
