//! A start that fails because its port is taken says which port (from the output, or else from
//! the command line) and who holds it — a process of this workspace, of another one, or
//! something outside Procdeck — and `restart --take-port` stops a Procdeck holder and runs the
//! failed command again. Real servers on real ports.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::net::TcpListener;

use common::*;

/// Python's "OSError: [Errno 98] Address already in use" names no port: only the command does.
fn server(port: u16) -> String {
    format!("exec python3 -m http.server {port} --bind 127.0.0.1")
}

/// Starts a server titled `title` on `port` and waits until it accepts connections.
fn serve(ws: &TestWs, title: &str, port: u16) -> String {
    let r = ws.start_with(&["--title", title], &server(port));
    wait_until("the server listens", PATIENCE, || listening(port));
    r.id
}

/// Starts a second server on `port`, which fails, and returns its id.
fn clash(ws: &TestWs, title: &str, port: u16) -> String {
    let r = ws.start_with(&["--title", title], &server(port));
    let done = ws.wait(&r.id);
    assert_eq!(done.status, procdeck_engine::Status::Error, "{done:?}");
    r.id
}

#[test]
fn a_holder_in_this_workspace_is_named_and_can_be_stopped_for_the_failed_one() {
    let ws = TestWs::new();
    let port = free_port();
    let web = serve(&ws, "web", port);
    let web_pid = ws.record(&web).pid.expect("a pid");
    let again = clash(&ws, "web again", port);
    let list = ws.ok(["list"]);
    assert!(
        list.contains(&format!(
            "{again}: Port {port} (from the command line) is held by web (pid {web_pid}) in this workspace; `procdeck restart {again} --take-port` stops it and runs this again"
        )),
        "{list}"
    );

    let restarted = ws.json(["restart", &again, "--take-port"]);
    let new = restarted["id"].as_str().expect("the new record").to_owned();
    assert_eq!(ws.record(&web).status, procdeck_engine::Status::Stopped);
    wait_until("the new server listens", PATIENCE, || listening(port));
    let owner = procdeck_engine::ports::who_listens_on(port).expect("someone listens");
    assert_eq!(owner.pid, ws.record(&new).pid, "the port is the new run's");
}

#[test]
fn a_holder_in_another_workspace_is_named_with_its_folder_and_stopped_there() {
    let (a, b) = (TestWs::new(), TestWs::new());
    let port = free_port();
    let api = serve(&a, "api", port);
    let failed = clash(&b, "api", port);
    let list = b.ok(["list"]);
    assert!(
        list.contains(&format!(
            "held by api (pid {}) in the workspace {}",
            a.record(&api).pid.expect("pid"),
            a.canonical().display()
        )),
        "{list}"
    );
    let new = b.json(["restart", &failed, "--take-port"])["id"]
        .as_str()
        .expect("the new record")
        .to_owned();
    assert_eq!(a.record(&api).status, procdeck_engine::Status::Stopped);
    wait_until("the new server listens", PATIENCE, || listening(port));
    assert_eq!(
        procdeck_engine::ports::who_listens_on(port).and_then(|o| o.pid),
        b.record(&new).pid
    );
}

#[test]
fn a_holder_outside_procdeck_is_named_and_never_signalled() {
    let ws = TestWs::new();
    let outside = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = outside.local_addr().expect("address").port();
    let failed = clash(&ws, "web", port);
    let list = ws.ok(["list"]);
    let me = std::process::id();
    assert!(
        list.contains(&format!(
            "Port {port} (from the command line) is held by pid {me} ("
        )),
        "{list}"
    );
    assert!(list.contains("outside Procdeck"), "{list}");
    assert!(!list.contains("--take-port"), "{list}");
    let err = ws.fails(["restart", &failed, "--take-port"]);
    assert_one_error_line(&err);
    assert!(
        err.contains("only a process Procdeck started can be stopped for it"),
        "{err}"
    );
    assert_eq!(ws.list().len(), 1, "nothing was started");
    // Still ours and still listening: nobody signalled this test.
    assert!(outside.local_addr().is_ok() && listening(port));
}

#[test]
fn a_failure_that_is_not_about_a_port_has_no_conflict() {
    let ws = TestWs::new();
    let r = ws.start("echo 'no such file'; exit 3");
    ws.wait(&r.id);
    let list = ws.ok(["list"]);
    assert!(!list.contains("Port"), "{list}");
    let err = ws.fails(["restart", &r.id, "--take-port"]);
    assert!(
        err.contains("its output does not say that an address was in use"),
        "{err}"
    );
}
