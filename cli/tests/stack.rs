//! Stacks: `procdeck.toml` (or a Procfile) read and checked with the file and line of every
//! mistake; `procdeck up` starting entries in dependency order, each once what it depends on is
//! ready (a log line, a port, an HTTP answer), leaving running ones alone and saying why an entry
//! failed; `procdeck down` stopping dependents first. Real processes, real ports.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use common::*;
use procdeck_engine::stack::{self, EntryState, EntryStatus};
use procdeck_engine::{Error, Status, Workspace};

fn write_stack(ws: &TestWs, text: &str) {
    std::fs::write(ws.path().join("procdeck.toml"), text).expect("write procdeck.toml");
}

/// The error reading `text` as `procdeck.toml` gives: (line, message).
fn stack_error(text: &str) -> (Option<usize>, String) {
    match stack::file::parse(Path::new("procdeck.toml"), text) {
        Err(Error::Stack { line, message, .. }) => (line, message),
        other => panic!("expected a stack error for {text:?}, got {other:?}"),
    }
}

#[test]
fn a_stack_file_is_read_in_its_order_with_its_defaults() {
    let text = r#"
# The shop's processes.
[processes.web]
command = "npm run dev"
cwd = "web"
depends_on = ["api"]
ready = { http = "http://127.0.0.1:5173/" }

[processes.api]
command = "cargo run"
env = { PORT = "8080", RUST_LOG = "info" }
ready = { port = 8080, timeout_s = 90 }

[processes.docs]
command = "mdbook serve"
autostart = false
"#;
    let stack = stack::file::parse(Path::new("/x/procdeck.toml"), text).expect("a valid stack");
    let names: Vec<&str> = stack.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["web", "api", "docs"]);
    let web = &stack.entries[0];
    assert_eq!(web.line, 3);
    assert_eq!(web.cwd.as_deref(), Some(Path::new("web")));
    assert_eq!(web.depends_on, ["api"]);
    let ready = web.ready.as_ref().expect("web has a probe");
    assert_eq!(ready.http.as_deref(), Some("http://127.0.0.1:5173/"));
    assert_eq!(ready.timeout, stack::DEFAULT_READY_TIMEOUT);
    let api = &stack.entries[1];
    assert_eq!(api.env.get("PORT").map(String::as_str), Some("8080"));
    let api_ready = api.ready.as_ref().expect("api has a probe");
    assert_eq!(
        (api_ready.port, api_ready.timeout.as_secs()),
        (Some(8080), 90)
    );
    assert!(api.autostart && !stack.entries[2].autostart);
    // A plain start: autostart entries, dependencies first.
    let order: Vec<&str> = stack
        .selection(&[])
        .expect("selection")
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(order, ["api", "web"]);
    let named: Vec<&str> = stack
        .selection(&["docs".to_owned(), "web".to_owned()])
        .expect("selection")
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(named, ["docs", "api", "web"]);
    assert!(stack.selection(&["nope".to_owned()]).is_err());
}

#[test]
fn every_bad_stack_names_the_line_and_what_is_wrong() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "[processes.web]\ncommand = \"x\"\ndepends_on = [\"db\"]\n",
            1,
            "web depends on \"db\", which is not in the stack (it has web)",
        ),
        (
            "[processes.a]\ncommand = \"x\"\ndepends_on = [\"b\"]\n\n[processes.b]\ncommand = \"x\"\ndepends_on = [\"a\"]\n",
            1,
            "the dependencies go round in a cycle: a → b → a",
        ),
        (
            "[processes.a]\ncommand = \"x\"\ndepends_on = [\"a\"]\n",
            1,
            "the dependencies go round in a cycle: a → a",
        ),
        ("[processes.a]\ncommand = \"x\"\n\n[processes.a]\ncommand = \"y\"\n", 4, "duplicate"),
        (
            "[processes.a]\ncommand = \"x\"\ncwd = \"../elsewhere\"\n",
            3,
            "a's cwd \"../elsewhere\" is outside the workspace folder",
        ),
        ("[processes.a]\ncommand = \"x\"\ncwd = \"/etc\"\n", 3, "outside the workspace folder"),
        (
            "[processes.a]\ncommand = \"x\"\nready = { log_regex = \"(unclosed\" }\n",
            3,
            "a's ready.log_regex: invalid regex",
        ),
        ("[processes.a]\ncommand = \"x\"\nready = { port = 70000 }\n", 3, "is not a TCP port"),
        (
            "[processes.a]\ncommand = \"x\"\nready = { http = \"https://localhost/\" }\n",
            3,
            "only http:// is probed",
        ),
        (
            "[processes.a]\ncommand = \"x\"\nready = { timeout_s = 5 }\n",
            3,
            "a's ready says nothing to wait for",
        ),
        (
            "[processes.a]\ncommand = \"x\"\nready = { port = 1, timeout_s = 0 }\n",
            3,
            "timeout_s 0 is out of range",
        ),
        ("[processes.a]\ncommand = \"  \"\n", 2, "a's command is empty"),
        ("[processes.a]\ncommand = \"x\"\nenv = { \"1BAD\" = \"v\" }\n", 3, "\"1BAD\" is not a valid name"),
        ("[processes.\"a\\u001bb\"]\ncommand = \"x\"\n", 1, "\"a\\u{1b}b\" is not a valid name"),
        ("[processes.\" a\"]\ncommand = \"x\"\n", 1, "\" a\" is not a valid name"),
        ("[processes.a]\ncomand = \"x\"\n", 2, "unknown field `comand`"),
        ("[processes.a]\n", 1, "missing field `command`"),
        ("[process.a]\ncommand = \"x\"\n", 1, "unknown field `process`"),
        ("[processes.a]\ncommand = \"x\"\n\nnot toml at all\n", 4, ""),
        (
            "[processes.a]\ncommand = \"x\"\ndepends_on = [\"b\", \"b\"]\n[processes.b]\ncommand = \"y\"\n",
            3,
            "a lists \"b\" twice in depends_on",
        ),
    ];
    for (text, line, message) in cases {
        let (got_line, got) = stack_error(text);
        assert_eq!(got_line, Some(*line), "{text:?}: {got}");
        assert!(got.contains(message), "{text:?}: {got:?} lacks {message:?}");
    }
    // The whole message, as the CLI prints it: file, line, what is wrong.
    let ws = TestWs::new();
    write_stack(
        &ws,
        "[processes.web]\ncommand = \"x\"\ndepends_on = [\"db\"]\n",
    );
    let err = ws.fails(["up"]);
    assert!(
        err.contains(&format!(
            "{}:1: web depends on \"db\", which is not in the stack",
            ws.path().join("procdeck.toml").display()
        )),
        "{err}"
    );
    assert!(ws.list().is_empty(), "nothing was started");
}

#[test]
fn a_procfile_is_the_stack_when_there_is_no_procdeck_toml_and_is_checked_too() {
    let ws = TestWs::new();
    std::fs::write(
        ws.path().join("Procfile"),
        "# processes\nweb: sleep 300\n\nworker: sleep 301\n",
    )
    .expect("write Procfile");
    let stack = stack::load(ws.path()).expect("load").expect("a stack");
    let names: Vec<(&str, usize)> = stack
        .entries
        .iter()
        .map(|e| (e.name.as_str(), e.line))
        .collect();
    assert_eq!(names, [("web", 2), ("worker", 4)]);
    assert!(stack.file.ends_with("Procfile"));

    write_stack(&ws, "[processes.only]\ncommand = \"sleep 302\"\n");
    let stack = stack::load(ws.path()).expect("load").expect("a stack");
    assert_eq!(
        stack.entries.len(),
        1,
        "procdeck.toml wins over the Procfile"
    );

    std::fs::remove_file(ws.path().join("procdeck.toml")).expect("rm");
    std::fs::write(ws.path().join("Procfile"), "web: a\nweb: b\n").expect("write");
    let err = stack::load(ws.path()).expect_err("a duplicate");
    assert!(
        err.to_string()
            .ends_with("Procfile:2: web is named twice (first on line 1)"),
        "{err}"
    );
    std::fs::write(ws.path().join("Procfile"), "web a\n").expect("write");
    let err = stack::load(ws.path()).expect_err("not name: command");
    assert!(
        err.to_string()
            .contains("Procfile:1: \"web a\" is not `name: command`"),
        "{err}"
    );

    std::fs::remove_file(ws.path().join("Procfile")).expect("rm");
    assert!(stack::load(ws.path()).expect("load").is_none());
    // A link, shipped by a repository, is not followed.
    std::os::unix::fs::symlink("/etc/passwd", ws.path().join("procdeck.toml")).expect("link");
    assert!(matches!(stack::load(ws.path()), Err(Error::Symlink(_))));
}

/// Runs `procdeck up` through the engine, with every status reported in order.
fn up(ws: &TestWs, names: &[&str]) -> (Vec<EntryStatus>, Vec<EntryStatus>) {
    let (workspace, _) = Workspace::open(ws.path(), settings()).expect("open");
    let stack = stack::load(ws.path()).expect("load").expect("a stack");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let seen = Mutex::new(Vec::new());
    let never = AtomicBool::new(false);
    let finals = workspace
        .stack_up(&stack, &names, None, &never, &|s| {
            seen.lock().expect("lock").push(s.clone())
        })
        .expect("up");
    (finals, seen.into_inner().expect("lock"))
}

fn position(seen: &[EntryStatus], name: &str, what: fn(&EntryState) -> bool) -> usize {
    seen.iter()
        .position(|s| s.name == name && what(&s.state))
        .unwrap_or_else(|| panic!("no such status of {name}: {seen:#?}"))
}

fn is_starting(s: &EntryState) -> bool {
    matches!(s, EntryState::Starting)
}
fn is_ready(s: &EntryState) -> bool {
    matches!(s, EntryState::Ready { .. })
}

#[test]
fn up_starts_each_entry_once_what_it_depends_on_is_ready_and_down_stops_dependents_first() {
    let ws = TestWs::new();
    let (api_port, web_port) = (free_port(), free_port());
    write_stack(
        &ws,
        &format!(
            r#"
[processes.web]
command = "exec python3 -m http.server {web_port} --bind 127.0.0.1"
depends_on = ["api"]
ready = {{ http = "http://127.0.0.1:{web_port}/" }}

[processes.api]
command = "sleep 0.3; exec python3 -m http.server {api_port} --bind 127.0.0.1"
depends_on = ["db"]
ready = {{ port = {api_port} }}

[processes.db]
command = "sleep 0.5; echo 'database system is ready to accept connections'; exec sleep 300"
ready = {{ log_regex = "ready to accept connections$" }}

[processes.worker]
command = "exec sleep 301"
depends_on = ["db"]
"#
        ),
    );
    let (finals, seen) = up(&ws, &[]);
    let state = |name: &str| {
        finals
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.state.clone())
    };
    assert!(
        matches!(state("db"), Some(EntryState::Ready { how }) if how == "printed \"database system is ready to accept connections\""),
        "{finals:#?}"
    );
    assert_eq!(
        state("api"),
        Some(EntryState::Ready {
            how: format!("listening on port {api_port}")
        })
    );
    assert_eq!(
        state("web"),
        Some(EntryState::Ready {
            how: "answered HTTP 200".into()
        })
    );
    assert_eq!(state("worker"), Some(EntryState::Running));
    // Each waited for what it depends on, and started only once that was ready.
    assert!(seen.iter().any(|s| s.name == "api"
        && s.state
            == EntryState::Waiting {
                on: vec!["db".into()]
            }));
    assert!(position(&seen, "db", is_ready) < position(&seen, "api", is_starting));
    assert!(position(&seen, "db", is_ready) < position(&seen, "worker", is_starting));
    assert!(position(&seen, "api", is_ready) < position(&seen, "web", is_starting));
    assert!(listening(api_port) && listening(web_port));
    let records = ws.list();
    assert_eq!(records.len(), 4);
    assert!(
        records.iter().all(|r| r.status == Status::Running),
        "{records:#?}"
    );

    // Again: everything is running, so nothing new starts.
    let (again, _) = up(&ws, &[]);
    assert!(
        again.iter().all(|s| s.state == EntryState::AlreadyRunning),
        "{again:#?}"
    );
    for s in &again {
        let first = finals
            .iter()
            .find(|f| f.name == s.name)
            .expect("same entry");
        assert_eq!(s.id, first.id, "{} kept its process", s.name);
    }
    assert_eq!(ws.list().len(), 4);

    // `down db` stops what depends on db first, then db.
    let out = ws.ok(["down", "db"]);
    let order: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("  stopped ("))
        .map(|l| l.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(order.len(), 4, "{out}");
    let at = |n: &str| order.iter().position(|o| *o == n).unwrap_or(usize::MAX);
    assert!(
        at("web") < at("api") && at("api") < at("db") && at("worker") < at("db"),
        "{out}"
    );
    assert!(ws.list().iter().all(|r| !r.status.is_running()));
    wait_until("the ports are free", PATIENCE, || {
        !listening(api_port) && !listening(web_port)
    });
    let down_again = ws.ok(["down"]);
    assert_eq!(down_again.matches("not running").count(), 4, "{down_again}");
}

#[test]
fn a_failed_entry_says_why_and_what_depends_on_it_is_not_started() {
    let ws = TestWs::new();
    let held = free_port();
    let holder = TcpListener::bind(("127.0.0.1", held)).expect("hold a port");
    write_stack(
        &ws,
        &format!(
            r#"
[processes.broken]
command = "echo 'cannot connect'; exit 3"
ready = {{ log_regex = "^listening" }}

[processes.after-broken]
command = "exec sleep 300"
depends_on = ["broken"]

[processes.slow]
command = "exec sleep 300"
ready = {{ log_regex = "never printed", timeout_s = 1 }}

[processes.clash]
command = "exec python3 -m http.server {held} --bind 127.0.0.1"
ready = {{ port = {held} }}
"#
        ),
    );
    let out = ws.cli(["up"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "up fails when an entry fails: {text}"
    );
    assert!(
        text.contains("broken        failed: exited with code 3 before it was ready"),
        "{text}"
    );
    assert!(
        text.contains("after-broken  not started: broken did not get ready"),
        "{text}"
    );
    assert!(
        text.contains("slow          failed: not ready after 1 s"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "clash         failed: exited with code 1 before it was ready: Port {held} (from the command line) is held by"
        )),
        "{text}"
    );
    let titles: Vec<String> = ws.list().iter().map(|r| r.title.clone()).collect();
    assert!(!titles.contains(&"after-broken".to_owned()), "{titles:?}");
    // The slow one was started and keeps running: only its readiness failed.
    assert!(ws
        .list()
        .iter()
        .any(|r| r.title == "slow" && r.status == Status::Running));
    drop(holder);
}

#[test]
fn entries_that_do_not_autostart_start_when_named_or_needed_and_json_streams_statuses() {
    let ws = TestWs::new();
    write_stack(
        &ws,
        r#"
[processes.tools]
command = "exec sleep 300"
autostart = false

[processes.app]
command = "exec sleep 301"

[processes.report]
command = "exec sleep 302"
autostart = false
depends_on = ["tools"]
"#,
    );
    ws.ok(["up"]);
    let titles = |ws: &TestWs| {
        let mut t: Vec<String> = ws.list().iter().map(|r| r.title.clone()).collect();
        t.sort();
        t
    };
    assert_eq!(titles(&ws), ["app"]);
    let out = ws.ok(["--json", "up", "report"]);
    let statuses: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let last_of = |name: &str| {
        statuses
            .iter()
            .rev()
            .find(|s| s["name"] == name)
            .map(|s| s["state"].clone())
    };
    assert_eq!(last_of("tools"), Some("running".into()), "{out}");
    assert_eq!(last_of("report"), Some("running".into()), "{out}");
    assert_eq!(
        last_of("app"),
        None,
        "only what was named, and what it needs: {out}"
    );
    assert_eq!(titles(&ws), ["app", "report", "tools"]);
    let shown = ws.json(["stack"]);
    let entries = shown["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e["status"] == "running"), "{shown}");
    assert_eq!(entries[2]["dependsOn"], serde_json::json!(["tools"]));
    ws.ok(["down"]);
}

#[test]
fn up_without_a_stack_says_how_to_make_one() {
    let ws = TestWs::new();
    let err = ws.fails(["up"]);
    assert!(
        err.contains("no stack here: write a procdeck.toml (or a Procfile)"),
        "{err}"
    );
    let err = ws.fails(["up", "x"]);
    assert!(err.contains("no stack here"), "{err}");
    write_stack(&ws, "[processes.a]\ncommand = \"exec sleep 300\"\n");
    let err = ws.fails(["up", "b"]);
    assert!(err.contains("no entry named \"b\" (it has a)"), "{err}");
    assert!(ws.list().is_empty());
}

#[test]
fn a_confirmation_holds_for_this_content_in_this_folder_under_this_users_key_only() {
    let ws = TestWs::new();
    write_stack(&ws, "[processes.a]\ncommand = \"exec sleep 300\"\n");
    let (workspace, _) = Workspace::open(ws.path(), settings()).expect("open");
    let stack = stack::load(ws.path()).expect("load").expect("a stack");
    assert!(
        !workspace.stack_confirmed(&stack),
        "a new stack file is not confirmed"
    );
    workspace.confirm_stack(&stack).expect("confirm");
    assert!(workspace.stack_confirmed(&stack));
    let tag = std::fs::read(ws.store().join("stack-confirmed")).expect("the tag");

    // The same tag does not confirm another content.
    write_stack(&ws, "[processes.a]\ncommand = \"exec sleep 301\"\n");
    let changed = stack::load(ws.path()).expect("load").expect("a stack");
    assert_ne!(changed.digest, stack.digest);
    assert!(!workspace.stack_confirmed(&changed));

    // Nor the same content in another folder (a copy of the project with its store).
    let other = TestWs::new();
    write_stack(&other, "[processes.a]\ncommand = \"exec sleep 300\"\n");
    let (copy, _) = Workspace::open(other.path(), settings()).expect("open");
    std::fs::write(other.store().join("stack-confirmed"), &tag).expect("ship the tag");
    let copied = stack::load(other.path()).expect("load").expect("a stack");
    assert_eq!(copied.digest, stack.digest);
    assert!(!copy.stack_confirmed(&copied));

    // Nor under another user's key.
    let stranger = procdeck_engine::Settings {
        key_file: Some(other.path().join("another-key")),
        ..settings()
    };
    write_stack(&ws, "[processes.a]\ncommand = \"exec sleep 300\"\n");
    let (theirs, _) = Workspace::open(ws.path(), stranger).expect("open");
    assert!(!theirs.stack_confirmed(&stack));
    assert!(workspace.stack_confirmed(&stack), "still mine");
}

#[test]
fn a_process_compose_file_is_imported_with_its_dependencies_and_http_probes() {
    let ws = TestWs::new();
    let port = free_port();
    std::fs::write(
        ws.path().join("process-compose.yaml"),
        format!(
            r#"version: "0.5"
processes:
  api:
    command: "exec python3 -m http.server {port} --bind 127.0.0.1"
    environment:
      - "MODE=dev"
    readiness_probe:
      http_get:
        host: 127.0.0.1
        port: {port}
        path: /
      period_seconds: 2
      failure_threshold: 5
    availability:
      restart: always
  web:
    command: "exec sleep 300"
    depends_on:
      api:
        condition: process_healthy
  tools:
    command: "exec sleep 301"
    disabled: true
"#
        ),
    )
    .expect("write process-compose.yaml");
    let stack = stack::load(ws.path()).expect("load").expect("a stack");
    assert!(stack.file.ends_with("process-compose.yaml"));
    let names: Vec<(&str, usize)> = stack
        .entries
        .iter()
        .map(|e| (e.name.as_str(), e.line))
        .collect();
    assert_eq!(names, [("api", 3), ("web", 16), ("tools", 21)]);
    let api = &stack.entries[0];
    assert_eq!(api.env.get("MODE").map(String::as_str), Some("dev"));
    let probe = api.ready.as_ref().expect("a probe");
    assert_eq!(
        probe.http.as_deref(),
        Some(format!("http://127.0.0.1:{port}/").as_str())
    );
    assert_eq!(probe.timeout.as_secs(), 10);
    assert_eq!(stack.entries[1].depends_on, ["api"]);
    assert!(!stack.entries[2].autostart);

    let out = ws.ok(["up"]);
    assert!(out.contains("api    ready: answered HTTP 200"), "{out}");
    assert!(out.contains("web    running"), "{out}");
    assert!(!out.contains("tools"), "{out}");
    ws.ok(["down"]);
    wait_until("the port is free", PATIENCE, || !listening(port));

    let cases: &[(&str, usize, &str)] = &[
        (
            "processes:\n  web:\n    command: x\n    depends_on:\n      db:\n        condition: process_started\n",
            2,
            "web depends on \"db\", which is not in the stack",
        ),
        (
            "processes:\n  web:\n    command: x\n    readiness_probe:\n      exec:\n        command: true\n",
            2,
            "web's readiness_probe.exec cannot be imported",
        ),
        ("processes:\n  web:\n    command: x\n    working_dir: ../up\n", 2, "outside the workspace folder"),
        ("processes:\n  web:\n    command: x\n    environment:\n      - NOVALUE\n", 2, "is not KEY=VALUE"),
        ("processes:\n  web:\n    comand: x\n", 2, "web: missing field `command`"),
        ("processes:\n  web: [\n", 3, ""),
    ];
    for (text, line, message) in cases {
        std::fs::write(ws.path().join("process-compose.yaml"), text).expect("write");
        match stack::load(ws.path()) {
            Err(Error::Stack {
                line: got,
                message: m,
                ..
            }) => {
                assert_eq!(got, Some(*line), "{text:?}: {m}");
                assert!(m.contains(message), "{text:?}: {m:?} lacks {message:?}");
            }
            other => panic!("expected a stack error for {text:?}, got {other:?}"),
        }
    }
}
