//! The desktop shell's commands through Tauri's mock runtime, with the app's real configuration and
//! capabilities, real workspaces and real processes.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::get_ipc_response;
use tauri::webview::InvokeRequest;
use tauri::{Listener, Manager, WebviewWindow};

use procdeck_app::dto::{OutputFrame, PROCESS_EVENT};
use procdeck_app::streams::Streams;
use procdeck_engine::Settings;

fn settings() -> Settings {
    Settings {
        shim_exe: Some(env!("CARGO_BIN_EXE_procdeck-app").into()),
        ..Settings::default()
    }
}

struct App {
    app: tauri::App<tauri::test::MockRuntime>,
    window: WebviewWindow<tauri::test::MockRuntime>,
    _config: tempfile::TempDir,
}

fn app() -> App {
    let config = tempfile::tempdir().expect("config dir");
    let app = app_with(config.path(), &[]);
    App {
        _config: config,
        ..app
    }
}

/// An app whose preferences and remembered workspaces live in `config`, with `folders` added.
fn app_with(config: &Path, folders: &[std::path::PathBuf]) -> App {
    let app = procdeck_app::builder()
        .build(tauri::generate_context!())
        .expect("app builds");
    procdeck_app::install(app.handle(), settings(), Some(config.to_owned()), folders)
        .expect("state installed");
    let window = match app.get_webview_window("main") {
        Some(w) => w,
        None => tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("window"),
    };
    App {
        app,
        window,
        _config: tempfile::tempdir().expect("unused config dir"),
    }
}

impl App {
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().expect("url"),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: self.app.invoke_key().to_owned(),
            },
        )
        .map(|body| body.deserialize::<Value>().expect("json reply"))
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.invoke(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    fn err(&self, cmd: &str, args: Value) -> Value {
        match self.invoke(cmd, args) {
            Ok(v) => panic!("{cmd} should fail, returned {v}"),
            Err(e) => e,
        }
    }

    fn add(&self, dir: &Path) -> String {
        let info = self.ok("add_workspace", json!({ "path": dir }));
        info["id"].as_str().expect("workspace id").to_owned()
    }

    fn wait_status(&self, ws: &str, id: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let list = self.ok("list_processes", json!({ "workspaceId": ws }));
            let record = list
                .as_array()
                .and_then(|l| l.iter().find(|r| r["id"] == id))
                .cloned()
                .expect("listed");
            if record["status"] == status {
                return record;
            }
            assert!(
                Instant::now() < deadline,
                "{id} never became {status}: {record}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Kills whatever a test left running in its workspace.
struct Folder(tempfile::TempDir);

impl Drop for Folder {
    fn drop(&mut self) {
        if let Ok((ws, _)) = procdeck_engine::Workspace::open(self.0.path(), settings()) {
            let _ = ws.close();
        }
    }
}

fn folder() -> Folder {
    Folder(tempfile::tempdir().expect("workspace dir"))
}

#[test]
fn workspaces_are_added_listed_remembered_and_bad_folders_rejected() {
    let a = app();
    let dir = folder();
    let id = a.add(dir.0.path());
    assert!(id.starts_with("ws_"), "{id}");
    let again = a.ok("add_workspace", json!({ "path": dir.0.path() }));
    assert_eq!(
        again["id"],
        id.as_str(),
        "adding twice gives the same workspace"
    );
    let list = a.ok("list_workspaces", json!({}));
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["missing"], false);

    let missing = a.err(
        "add_workspace",
        json!({ "path": "/nonexistent/procdeck/folder" }),
    );
    assert_eq!(missing["kind"], "missingFolder", "{missing}");
    assert!(missing["message"]
        .as_str()
        .unwrap_or("")
        .contains("does not exist"));
    let empty = a.err("add_workspace", json!({ "path": "  " }));
    assert_eq!(empty["kind"], "workspace");

    let saved =
        std::fs::read_to_string(a._config.path().join("workspaces.json")).expect("config saved");
    assert!(
        saved.contains(
            &*dir
                .0
                .path()
                .canonicalize()
                .expect("canon")
                .to_string_lossy()
        ),
        "{saved}"
    );
}

#[test]
fn a_process_runs_is_read_grepped_stopped_and_removed_through_the_commands() {
    let a = app();
    let dir = folder();
    let ws = a.add(dir.0.path());
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = events.clone();
    a.app.listen(PROCESS_EVENT, move |e| {
        if let Ok(mut s) = seen.lock() {
            s.push(e.payload().to_owned());
        }
    });

    let record = a.ok(
        "start_process",
        json!({ "workspaceId": ws, "command": "printf 'alpha\\nbeta 42\\ngamma\\n'; echo $GREETING", "title": "demo", "env": { "GREETING": "hello" } }),
    );
    let id = record["id"].as_str().expect("id").to_owned();
    assert_eq!(record["title"], "demo");
    a.wait_status(&ws, &id, "stopped");

    let tail = a.ok(
        "read_output",
        json!({ "workspaceId": ws, "id": id, "request": { "method": "tail", "lines": 2 } }),
    );
    assert_eq!(tail["content"], "gamma\nhello\n");
    let grep = a.ok(
        "grep_output",
        json!({ "workspaceId": ws, "id": id, "pattern": "\\d+", "limit": null }),
    );
    assert_eq!(grep["matchingLines"], 1);
    assert_eq!(grep["lines"][0]["lineNumber"], 2);
    assert_eq!(grep["lines"][0]["text"], "beta 42");
    let chunk = a.ok(
        "lines_before",
        json!({ "workspaceId": ws, "id": id, "endOffset": null, "lines": 10 }),
    );
    assert_eq!(
        chunk["lines"],
        json!([
            { "offset": 0, "text": "alpha" },
            { "offset": 6, "text": "beta 42" },
            { "offset": 14, "text": "gamma" },
            { "offset": 20, "text": "hello" },
        ])
    );
    assert_eq!(chunk["atStart"], true);

    let bad = a.err(
        "grep_output",
        json!({ "workspaceId": ws, "id": id, "pattern": "(", "limit": null }),
    );
    assert_eq!(bad["kind"], "invalidPattern", "{bad}");
    let malformed = a.err(
        "stop_process",
        json!({ "workspaceId": ws, "id": "../../etc" }),
    );
    assert_eq!(malformed["kind"], "malformedId");
    let unknown = a.err(
        "stop_process",
        json!({ "workspaceId": ws, "id": "proc_2026-01-01T0000_abcdef" }),
    );
    assert_eq!(unknown["kind"], "notFound");
    let no_ws = a.err(
        "list_processes",
        json!({ "workspaceId": "ws_000000000000" }),
    );
    assert_eq!(no_ws["kind"], "workspace");
    let empty = a.err(
        "start_process",
        json!({ "workspaceId": ws, "command": "   ", "title": null, "env": {} }),
    );
    assert_eq!(empty["kind"], "emptyCommand");
    let full = a.err(
        "read_output",
        json!({ "workspaceId": ws, "id": id, "request": { "method": "full" } }),
    );
    assert_eq!(
        full["kind"], "workspace",
        "an unbounded full read is refused: {full}"
    );

    let long = a.ok(
        "start_process",
        json!({ "workspaceId": ws, "command": "sleep 600", "title": null, "env": {} }),
    );
    let long_id = long["id"].as_str().expect("id").to_owned();
    let stopped = a.ok("stop_process", json!({ "workspaceId": ws, "id": long_id }));
    assert_eq!(stopped["status"], "stopped");
    assert_eq!(stopped["stopRequested"], true);
    a.ok(
        "remove_process",
        json!({ "workspaceId": ws, "id": long_id }),
    );
    let list = a.ok("list_processes", json!({ "workspaceId": ws }));
    assert!(list
        .as_array()
        .is_some_and(|l| l.iter().all(|r| r["id"] != long_id.as_str())));

    let recent = a.ok("recent_commands", json!({ "workspaceId": ws }));
    assert_eq!(recent[0], "sleep 600");

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = events.lock().map(|e| e.join("\n")).unwrap_or_default();
        if log.contains("\"removed\"") && log.contains(&id) {
            break;
        }
        assert!(Instant::now() < deadline, "events never arrived: {log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn restart_starts_the_same_command_again_and_keeps_the_old_record() {
    let a = app();
    let dir = folder();
    let ws = a.add(dir.0.path());
    let first = a.ok(
        "start_process",
        json!({ "workspaceId": ws, "command": "sleep 600", "title": "nap", "env": { "A": "1" } }),
    );
    let id = first["id"].as_str().expect("id").to_owned();
    let second = a.ok("restart_process", json!({ "workspaceId": ws, "id": id }));
    assert_ne!(second["id"], first["id"]);
    assert_eq!(second["command"], "sleep 600");
    assert_eq!(second["title"], "nap");
    assert_eq!(second["env"]["A"], "1");
    assert_eq!(second["status"], "running");
    a.wait_status(&ws, &id, "stopped");
    let killed = a.ok(
        "kill_process",
        json!({ "workspaceId": ws, "id": second["id"] }),
    );
    assert_eq!(killed["status"], "stopped");
}

#[test]
fn removing_a_workspace_stops_its_processes_and_can_delete_its_history() {
    let a = app();
    let dir = folder();
    let ws = a.add(dir.0.path());
    let rec = a.ok(
        "start_process",
        json!({ "workspaceId": ws, "command": "sleep 600", "title": null, "env": {} }),
    );
    let pid = rec["pid"].as_u64().expect("pid") as u32;
    a.ok(
        "remove_workspace",
        json!({ "workspaceId": ws, "deleteHistory": true }),
    );
    assert!(
        procdeck_engine::procinfo::stat(pid).is_none_or(|s| s.state == 'Z'),
        "its process was stopped"
    );
    assert!(!dir.0.path().join(".procdeck").exists(), "history deleted");
    assert_eq!(a.ok("list_workspaces", json!({})), json!([]));
}

#[test]
fn live_output_streams_in_order_and_ends_with_the_record() {
    let dir = folder();
    let (ws, _) = procdeck_engine::Workspace::open(dir.0.path(), settings()).expect("open");
    let ws = Arc::new(ws);
    let record = ws
        .start(procdeck_engine::StartRequest::new(
            "for i in $(seq 1 200); do echo \"line $i é\"; done; sleep 0.2; echo last",
        ))
        .expect("start");
    let streams = Streams::default();
    let (tx, rx) = std::sync::mpsc::channel();
    streams.start(ws.clone(), record.id.clone(), None, move |frame| {
        tx.send(frame).is_ok()
    });
    let mut lines: Vec<(u64, String)> = Vec::new();
    let mut open = false;
    let mut next_offset = 0;
    loop {
        match rx.recv_timeout(Duration::from_secs(20)).expect("a frame") {
            OutputFrame::Data {
                offset,
                end,
                lines: got,
                last_line_complete,
                skipped,
            } => {
                assert_eq!(skipped, 0);
                assert_eq!(offset, next_offset, "frames are contiguous");
                next_offset = end;
                for (k, l) in got.into_iter().enumerate() {
                    match lines.last_mut() {
                        Some(last) if k == 0 && open => last.1.push_str(&l.text),
                        _ => lines.push((l.offset, l.text)),
                    }
                }
                open = !last_line_complete && end > offset;
            }
            OutputFrame::End { record } => {
                assert_eq!(
                    record.map(|r| r.status),
                    Some(procdeck_engine::Status::Stopped)
                );
                break;
            }
            OutputFrame::Error { message } => panic!("stream failed: {message}"),
        }
    }
    let mut expected = Vec::new();
    let mut offset = 0;
    for text in (1..=200)
        .map(|i| format!("line {i} é"))
        .chain(["last".into()])
    {
        let len = text.len() as u64 + 1;
        expected.push((offset, text));
        offset += len;
    }
    assert_eq!(lines, expected);
    assert_eq!(next_offset, offset);
}

#[test]
fn capabilities_grant_every_command_the_app_registers() {
    let capability: Value = serde_json::from_str(include_str!("../capabilities/default.json"))
        .expect("capability json");
    let granted: Vec<&str> = capability["permissions"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let build = include_str!("../src-tauri/build.rs");
    let declared: Vec<&str> = build
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"')?.strip_suffix("\","))
        .collect();
    assert!(declared.len() >= 18, "{declared:?}");
    for cmd in declared {
        let permission = format!("allow-{}", cmd.replace('_', "-"));
        assert!(
            granted.contains(&permission.as_str()),
            "{permission} missing from capabilities/default.json"
        );
    }
}

fn wait_for_output(ws: &procdeck_engine::Workspace, id: &str, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tail = ws
            .read(
                id,
                &procdeck_engine::ReadRequest::new(procdeck_engine::ReadMethod::Tail),
            )
            .expect("tail");
        if tail.content.contains(want) {
            return tail.content;
        }
        assert!(
            Instant::now() < deadline,
            "{want:?} never appeared: {:?}",
            tail.content
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn started_commands_get_the_base_environment_under_their_own_variables() {
    let dir = folder();
    let shell = dir.0.path().join("fake-login-shell");
    std::fs::write(&shell, "#!/bin/sh\necho 'motd noise'\nexport FROM_LOGIN=nvm-path PD_OVER=login\nexec /bin/sh -c \"$2\"\n")
        .expect("write fake shell");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&shell)
        .status()
        .expect("chmod");
    let mut base = procdeck_engine::shellenv::login_shell_env_from(&shell, Duration::from_secs(5))
        .expect("login env");
    assert_eq!(base.get("FROM_LOGIN").map(String::as_str), Some("nvm-path"));
    base.extend(procdeck_engine::shellenv::color_env());

    let pending = procdeck_engine::BaseEnv::pending();
    let settings = Settings {
        base_env: pending.clone(),
        ..settings()
    };
    let (ws, _) = procdeck_engine::Workspace::open(dir.0.path(), settings).expect("open");
    // A start made while the environment is still being worked out waits for it.
    let filler = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        pending.set(base);
    });
    let mut env = std::collections::BTreeMap::new();
    env.insert("PD_OVER".to_owned(), "request".to_owned());
    let record = ws
        .start(procdeck_engine::StartRequest {
            env,
            ..procdeck_engine::StartRequest::new(
                "echo \"$FROM_LOGIN $PD_OVER $FORCE_COLOR $PYTHONUNBUFFERED\"",
            )
        })
        .expect("start");
    filler.join().expect("filler thread");
    let out = wait_for_output(&ws, &record.id, "nvm-path");
    assert_eq!(out, "nvm-path request 1 1\n");
    assert!(
        !record.env.contains_key("FROM_LOGIN"),
        "the base environment is not stored in the record"
    );
}

#[test]
fn processes_left_running_at_quit_are_found_running_by_the_next_start_with_their_output() {
    let dir = folder();
    let ws_id;
    let id;
    let config = tempfile::tempdir().expect("config dir");
    {
        let a = app_with(config.path(), &[dir.0.path().to_owned()]);
        ws_id = a.ok("list_workspaces", json!({}))[0]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let rec = a.ok(
            "start_process",
            json!({ "workspaceId": ws_id, "command": "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done", "title": "ticker", "env": {} }),
        );
        id = rec["id"].as_str().expect("id").to_owned();
        let (ws, _) = procdeck_engine::Workspace::open(dir.0.path(), settings()).expect("open");
        wait_for_output(&ws, &id, "tick 3\n");
        // "Leave them running and quit": the app goes away without stopping anything.
    }
    let b = app_with(config.path(), &[]);
    let list = b.ok("list_workspaces", json!({}));
    assert_eq!(
        list[0]["id"],
        ws_id.as_str(),
        "the workspace was remembered"
    );
    assert_eq!(list[0]["running"], 1);
    let before = b.ok(
        "read_output",
        json!({ "workspaceId": ws_id, "id": id, "request": { "method": "head", "lines": 3 } }),
    );
    assert_eq!(
        before["content"], "tick 1\ntick 2\ntick 3\n",
        "output from before the restart is intact"
    );
    let size = before["sizeBytes"].as_u64().expect("size");
    std::thread::sleep(Duration::from_millis(300));
    let later = b.ok(
        "read_output",
        json!({ "workspaceId": ws_id, "id": id, "request": { "method": "tail", "lines": 1 } }),
    );
    assert!(
        later["sizeBytes"].as_u64().expect("size") > size,
        "it kept writing while no app ran"
    );
    let stopped = b.ok("stop_process", json!({ "workspaceId": ws_id, "id": id }));
    assert_eq!(stopped["status"], "stopped");
}
