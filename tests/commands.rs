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
use procdeck_engine::store::STORE_DIR;
use procdeck_engine::{settings, Settings};

/// Long enough for anything on a loaded machine: waits end when their condition holds.
const DEADLINE: Duration = Duration::from_secs(30);

/// Polls `done` until it holds (true) or the deadline passes (false).
fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The app's settings as `run` makes them: the shim is the `procdeck` CLI beside the app's
/// executable, which a build of the CLI package puts there (`cargo test --workspace` builds it
/// first; `cargo test -p procdeck-app` alone needs `cargo build -p procdeck-cli` before).
fn settings() -> Settings {
    let shim = settings::cli_beside(Path::new(env!("CARGO_BIN_EXE_procdeck-app")));
    assert!(
        shim.is_file(),
        "{} is missing: run `cargo build -p procdeck-cli` first",
        shim.display()
    );
    Settings {
        shim_exe: Some(shim),
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
        let deadline = Instant::now() + DEADLINE;
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
    let canonical = dir.0.path().canonicalize().expect("canon");
    assert_eq!(
        id,
        canonical.to_string_lossy(),
        "a workspace is named by its folder"
    );
    let again = a.ok("add_workspace", json!({ "path": dir.0.path() }));
    assert_eq!(
        again["id"],
        id.as_str(),
        "adding twice gives the same workspace"
    );
    let list = a.ok("list_workspaces", json!({}));
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["missing"], false);
    assert_eq!(
        a.ok("take_requested_workspace", json!({})),
        Value::Null,
        "no folder was given at launch"
    );

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
    assert_eq!(record["startedBy"], json!({ "kind": "app" }));
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

    let deadline = Instant::now() + DEADLINE;
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
    // Two runs of one service: the workspace counts one service, running.
    let listed = a.ok("list_workspaces", json!({}));
    assert_eq!(
        (&listed[0]["running"], &listed[0]["total"]),
        (&json!(1), &json!(1)),
        "{listed}"
    );
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
        procdeck_engine::platform::stat(pid).is_none_or(|s| s.state == 'Z'),
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
    let sub = streams.start(ws.clone(), record.id.clone(), None, move |frame| {
        tx.send(frame).is_ok()
    });
    let mut lines: Vec<(u64, String)> = Vec::new();
    let mut open = false;
    let mut next_offset = 0;
    loop {
        match rx.recv_timeout(DEADLINE).expect("a frame") {
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
                // As the view does once it has drawn the frame.
                streams.ack(sub);
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

/// The names between the brackets that follow `opening` in `source`, each ending with `,`:
/// the commands of `generate_handler![…]` in lib.rs or of `COMMANDS: &[…]` in build.rs.
fn listed_after<'a>(source: &'a str, opening: &str) -> Vec<&'a str> {
    let start = source.find(opening).map(|i| i + opening.len());
    let list = start.map_or("", |i| &source[i..]);
    let list = &list[..list.find(']').unwrap_or(0)];
    list.split(',')
        .map(|item| item.trim().trim_matches('"'))
        .map(|item| {
            item.strip_prefix("commands::")
                .or_else(|| item.strip_prefix("stacks::"))
                .unwrap_or(item)
        })
        .filter(|item| !item.is_empty())
        .collect()
}

fn registered_commands() -> Vec<&'static str> {
    let mut handler = listed_after(
        include_str!("../src-tauri/lib.rs"),
        "tauri::generate_handler![",
    );
    handler.sort_unstable();
    handler
}

#[test]
fn capabilities_grant_every_command_the_app_registers() {
    let handler = registered_commands();
    assert!(
        handler.contains(&"start_process") && handler.contains(&"set_prefs"),
        "the handler list was read: {handler:?}"
    );
    let mut declared = listed_after(
        include_str!("../src-tauri/build.rs"),
        "COMMANDS: &[&str] = &[",
    );
    declared.sort_unstable();
    assert_eq!(
        declared, handler,
        "build.rs declares exactly the commands lib.rs registers"
    );

    let capability: Value = serde_json::from_str(include_str!("../capabilities/default.json"))
        .expect("capability json");
    let mut granted: Vec<String> = capability["permissions"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .filter(|p| !p.starts_with("core:"))
        .map(str::to_owned)
        .collect();
    granted.sort_unstable();
    let mut wanted: Vec<String> = handler
        .iter()
        .map(|cmd| format!("allow-{}", cmd.replace('_', "-")))
        .collect();
    wanted.sort_unstable();
    assert_eq!(
        granted, wanted,
        "capabilities/default.json grants each registered command and nothing else"
    );
}

#[test]
fn every_registered_command_answers_through_the_ipc() {
    let a = app();
    let dir = folder();
    let picked = folder();
    std::fs::write(
        dir.0.path().join("package.json"),
        r#"{ "scripts": { "dev": "vite" } }"#,
    )
    .expect("package.json");
    let called = Mutex::new(Vec::<&str>::new());
    let call = |cmd: &'static str, args: Value| {
        called.lock().expect("called").push(cmd);
        a.invoke(cmd, args)
    };
    let ok = |cmd: &'static str, args: Value| {
        call(cmd, args).unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    };
    let err = |cmd: &'static str, args: Value| match call(cmd, args) {
        Ok(v) => panic!("{cmd} should fail, returned {v}"),
        Err(e) => e,
    };

    // The folder dialog needs someone to click: a picker stands in for it, once with a folder and
    // once cancelled.
    let choice = Arc::new(Mutex::new(Some(picked.0.path().to_owned())));
    let next = choice.clone();
    a.app
        .manage(Arc::new(procdeck_app::commands::FolderPicker::new(
            move || Ok(next.lock().expect("choice").take()),
        )));
    let info = ok("pick_workspace", json!({}));
    let picked_key = picked.0.path().canonicalize().expect("canon");
    assert_eq!(info["id"], picked_key.to_string_lossy().as_ref(), "{info}");
    assert_eq!(ok("pick_workspace", json!({})), Value::Null, "cancelled");

    let ws = ok("add_workspace", json!({ "path": dir.0.path() }))["id"]
        .as_str()
        .expect("key")
        .to_owned();
    assert_eq!(
        ok("list_workspaces", json!({})).as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(ok("take_requested_workspace", json!({})), Value::Null);
    let suggestions = ok("suggestions", json!({ "workspaceId": ws }));
    assert!(
        suggestions
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["name"] == "dev"
                && s["source"] == "package.json"
                && s["command"] == "npm run dev")),
        "{suggestions}"
    );

    // A process that listens on a port the system picks and says which.
    let listen = "exec perl -MIO::Socket::INET -e '$|=1; my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => \"127.0.0.1\", LocalPort => 0) or die $!; print $s->sockport, \"\\n\"; sleep 600'";
    let server = ok(
        "start_process",
        json!({ "workspaceId": ws, "command": listen, "title": "server", "env": {} }),
    );
    let server_id = server["id"].as_str().expect("id").to_owned();
    assert_eq!(server["workspaceId"], ws.as_str());
    let mut port = 0;
    assert!(
        wait_until(|| {
            let head = ok(
                "read_output",
                json!({ "workspaceId": ws, "id": server_id, "request": { "method": "head", "lines": 1 } }),
            );
            port = head["content"]
                .as_str()
                .and_then(|c| c.strip_suffix('\n'))
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            port > 0
        }),
        "the server never said its port"
    );
    assert!(
        wait_until(|| {
            ok(
                "listening_ports",
                json!({ "workspaceId": ws, "id": server_id }),
            )
            .as_array()
            .is_some_and(|l| l.iter().any(|p| p["port"] == port))
        }),
        "port {port} never listed"
    );
    // What its tree costs: memory at once, CPU from the second sample on.
    let first = ok(
        "process_usage",
        json!({ "workspaceId": ws, "ids": [server_id] }),
    );
    assert!(
        first[&server_id]["rssBytes"]
            .as_u64()
            .is_some_and(|b| b > 0),
        "{first}"
    );
    assert!(first[&server_id]["cpuPercent"].is_null(), "{first}");
    let second = ok(
        "process_usage",
        json!({ "workspaceId": ws, "ids": [server_id, "proc_2026-01-01T0000_abcdef"] }),
    );
    assert!(second[&server_id]["cpuPercent"].is_f64(), "{second}");
    assert_eq!(second.as_object().map(|m| m.len()), Some(1), "{second}");
    let too_many = err(
        "process_usage",
        json!({ "workspaceId": ws, "ids": vec![server_id.clone(); 1001] }),
    );
    assert_eq!(too_many["kind"], "workspace", "{too_many}");
    let subscription = ok(
        "follow_output",
        json!({ "workspaceId": ws, "id": server_id, "fromOffset": 0, "onFrame": "__CHANNEL__:7" }),
    );
    assert!(subscription.is_u64(), "{subscription}");
    assert_eq!(
        ok("ack_output", json!({ "subscription": subscription })),
        Value::Null
    );
    assert_eq!(
        ok("unfollow_output", json!({ "subscription": subscription })),
        Value::Null
    );
    // A subscription that has ended is acknowledged without a word.
    assert_eq!(
        ok("ack_output", json!({ "subscription": subscription })),
        Value::Null
    );
    let unknown = "proc_2026-01-01T0000_abcdef";
    let missing = err(
        "follow_output",
        json!({ "workspaceId": ws, "id": unknown, "fromOffset": null, "onFrame": "__CHANNEL__:8" }),
    );
    assert_eq!(missing["kind"], "notFound", "{missing}");
    let killed = ok(
        "kill_process",
        json!({ "workspaceId": ws, "id": server_id }),
    );
    assert_eq!(killed["status"], "stopped");

    // A process that fails because its port is taken.
    let clash = ok(
        "start_process",
        json!({ "workspaceId": ws, "command": "echo 'Error: listen EADDRINUSE: address already in use :::4321'; exit 1", "title": null, "env": {} }),
    );
    let clash_id = clash["id"].as_str().expect("id").to_owned();
    a.wait_status(&ws, &clash_id, "error");
    let conflict = ok(
        "port_conflict",
        json!({ "workspaceId": ws, "id": clash_id }),
    );
    assert_eq!(conflict["port"], 4321, "{conflict}");
    assert_eq!(
        conflict["message"], "Port 4321 was in use; nothing listens on it now",
        "{conflict}"
    );
    // Nobody holds it, so there is no Procdeck process to stop for it.
    let untaken = err(
        "take_port",
        json!({ "workspaceId": ws, "id": clash_id, "consent": null }),
    );
    assert_eq!(untaken["kind"], "noPortHolder", "{untaken}");
    let again = ok(
        "restart_process",
        json!({ "workspaceId": ws, "id": clash_id }),
    );
    assert_eq!(again["command"], clash["command"]);
    assert_eq!(again["workspaceId"], ws.as_str());

    // Files and the browser are opened by other programs: only what is refused before them runs.
    let no_file = err(
        "open_output_file",
        json!({ "workspaceId": ws, "id": unknown }),
    );
    assert_eq!(no_file["kind"], "notFound", "{no_file}");
    let no_reveal = err(
        "reveal_output_file",
        json!({ "workspaceId": ws, "id": unknown }),
    );
    assert_eq!(no_reveal["kind"], "notFound", "{no_reveal}");
    let no_port = err("open_port", json!({ "port": 0 }));
    assert_eq!(no_port["kind"], "workspace", "{no_port}");

    let prefs = ok("get_prefs", json!({}));
    assert_eq!(prefs["notifications"], true, "{prefs}");
    let mut changed = prefs.clone();
    changed["notifications"] = json!(false);
    assert_eq!(prefs["processSort"], "started", "{prefs}");
    changed["processSort"] = json!("memory");
    assert_eq!(ok("set_prefs", json!({ "value": changed })), changed);
    assert_eq!(ok("get_prefs", json!({})), changed);

    // The rest are the commands every other test uses; each is called once here too.
    let listed = ok("list_processes", json!({ "workspaceId": ws }));
    assert_eq!(listed.as_array().map(Vec::len), Some(3), "{listed}");
    let stopped = ok(
        "stop_process",
        json!({ "workspaceId": ws, "id": again["id"] }),
    );
    assert_eq!(stopped["workspaceId"], ws.as_str());
    let tail = ok(
        "read_output",
        json!({ "workspaceId": ws, "id": clash_id, "request": { "method": "tail", "lines": 1 } }),
    );
    assert!(tail["content"]
        .as_str()
        .is_some_and(|c| c.contains("EADDRINUSE")));
    let grep = ok(
        "grep_output",
        json!({ "workspaceId": ws, "id": clash_id, "pattern": "4321", "limit": 5 }),
    );
    assert_eq!(grep["matchingLines"], 1);
    let chunk = ok(
        "lines_before",
        json!({ "workspaceId": ws, "id": clash_id, "endOffset": null, "lines": 1 }),
    );
    assert_eq!(chunk["lines"].as_array().map(Vec::len), Some(1));
    // The stack: none at first, then saved from what runs, shown, started (what runs is left
    // alone) and stopped.
    assert_eq!(ok("stack_show", json!({ "workspaceId": ws })), Value::Null);
    let sleeper = ok(
        "start_process",
        json!({ "workspaceId": ws, "command": "exec sleep 600", "title": "sleeper", "env": {} }),
    );
    let saved = ok("stack_save", json!({ "workspaceId": ws }));
    assert_eq!(saved["file"], "procdeck.toml", "{saved}");
    assert_eq!(saved["entries"][0]["name"], "sleeper", "{saved}");
    let again_saved = err("stack_save", json!({ "workspaceId": ws }));
    assert_eq!(again_saved["kind"], "stack", "{again_saved}");
    let shown = ok("stack_show", json!({ "workspaceId": ws }));
    assert_eq!(shown["entries"][0]["command"], "exec sleep 600", "{shown}");
    assert_eq!(
        shown["confirmed"], true,
        "a stack saved here runs nothing unseen"
    );
    // A stack file changed behind the window's back runs only once confirmed as it now reads.
    let file = dir.0.path().join("procdeck.toml");
    let text = std::fs::read_to_string(&file).expect("saved stack");
    std::fs::write(&file, format!("{text}\n# changed\n")).expect("change the stack");
    let changed = ok("stack_show", json!({ "workspaceId": ws }));
    assert_eq!(changed["confirmed"], false, "{changed}");
    let refused = err(
        "stack_up",
        json!({ "workspaceId": ws, "names": [], "confirm": shown["digest"], "onStatus": "__CHANNEL__:11" }),
    );
    assert_eq!(refused["kind"], "unconfirmedStack", "{refused}");
    let up = ok(
        "stack_up",
        json!({ "workspaceId": ws, "names": [], "confirm": changed["digest"], "onStatus": "__CHANNEL__:9" }),
    );
    assert_eq!(
        ok("stack_show", json!({ "workspaceId": ws }))["confirmed"],
        true,
        "confirmed once, remembered"
    );
    assert_eq!(up[0]["state"], "alreadyRunning", "{up}");
    assert_eq!(up[0]["id"], sleeper["id"], "{up}");
    let down = ok(
        "stack_down",
        json!({ "workspaceId": ws, "names": ["sleeper"], "onStatus": "__CHANNEL__:10" }),
    );
    assert_eq!(down[0]["state"], "stopped", "{down}");
    let recent = ok("recent_commands", json!({ "workspaceId": ws }));
    assert_eq!(recent.as_array().map(Vec::len), Some(3), "{recent}");
    assert_eq!(
        ok(
            "remove_process",
            json!({ "workspaceId": ws, "id": clash_id })
        ),
        Value::Null
    );
    assert_eq!(
        ok(
            "remove_workspace",
            json!({ "workspaceId": ws, "deleteHistory": false })
        ),
        Value::Null
    );
    assert!(dir.0.path().join(STORE_DIR).exists(), "history kept");

    let mut called = called.into_inner().expect("called");
    called.sort_unstable();
    called.dedup();
    assert_eq!(called, registered_commands(), "every command was called");
}

#[test]
fn two_folders_with_the_same_store_id_are_kept_apart() {
    let first = folder();
    let second = folder();
    {
        let (ws, _) = procdeck_engine::Workspace::open(first.0.path(), settings()).expect("open");
        let record = ws
            .start(procdeck_engine::StartRequest::new("echo first"))
            .expect("start");
        wait_for_output(&ws, &record.id, "first");
        // Copied while its shim still writes, a file could vanish under `cp` (the exit record
        // is written beside and renamed): the copy is made of a store at rest.
        ws.wait(&record.id, Some(DEADLINE))
            .expect("the process ends");
    }
    // What `cp -r project copy` does to the store.
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(first.0.path().join(STORE_DIR))
        .arg(second.0.path())
        .output()
        .expect("cp");
    assert!(
        copied.status.success(),
        "cp: {}",
        String::from_utf8_lossy(&copied.stderr)
    );
    let id_file = |f: &Folder| {
        std::fs::read(f.0.path().join(STORE_DIR).join("workspace.json")).expect("workspace.json")
    };
    assert_eq!(
        id_file(&first),
        id_file(&second),
        "the copy has the same id"
    );

    let a = app();
    let one = a.add(first.0.path());
    let two = a.add(second.0.path());
    assert_ne!(one, two);
    let second_path = second.0.path().canonicalize().expect("canon");
    assert_eq!(two, second_path.to_string_lossy());

    let record = a.ok(
        "start_process",
        json!({ "workspaceId": two, "command": "pwd", "title": null, "env": {} }),
    );
    assert_eq!(record["workspaceId"], two.as_str());
    assert_eq!(record["cwd"], second_path.to_string_lossy().as_ref());
    let id = record["id"].as_str().expect("id").to_owned();
    a.wait_status(&two, &id, "stopped");
    let out = a.ok(
        "read_output",
        json!({ "workspaceId": two, "id": id, "request": { "method": "tail", "lines": 1 } }),
    );
    assert_eq!(
        out["content"],
        format!("{}\n", second_path.display()),
        "it ran in the second folder"
    );
    let listed = a.ok("list_processes", json!({ "workspaceId": two }));
    assert!(
        listed
            .as_array()
            .is_some_and(|l| l.iter().any(|r| r["id"] == id.as_str())
                && l.iter().all(|r| r["workspaceId"] == two.as_str())),
        "every record read from the second folder names it, copied ones too: {listed}"
    );
    let first_list = a.ok("list_processes", json!({ "workspaceId": one }));
    assert_eq!(first_list.as_array().map(Vec::len), Some(1), "{first_list}");

    a.ok(
        "remove_workspace",
        json!({ "workspaceId": two, "deleteHistory": true }),
    );
    assert!(
        !second.0.path().join(STORE_DIR).exists(),
        "the second folder's history is deleted"
    );
    assert!(
        first
            .0
            .path()
            .join(STORE_DIR)
            .join("workspace.json")
            .exists(),
        "the first folder's store is intact"
    );
    let still = a.ok("list_processes", json!({ "workspaceId": one }));
    assert_eq!(still.as_array().map(Vec::len), Some(1), "{still}");
    let left = a.ok("list_workspaces", json!({}));
    assert_eq!(left.as_array().map(Vec::len), Some(1), "{left}");
    assert_eq!(left[0]["id"], one.as_str());
}

/// A child holding a workspace's index lock until it is killed (by its pid).
struct HeldLock(std::process::Child);

impl HeldLock {
    fn on(folder: &Path) -> HeldLock {
        use std::io::BufRead;
        let lock = folder.join(STORE_DIR).join("index.lock");
        let mut child = std::process::Command::new("flock")
            .arg("--no-fork")
            .arg(&lock)
            .args(["sh", "-c", "echo locked; exec sleep 600"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("flock");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read");
        let held = HeldLock(child);
        assert_eq!(line, "locked\n", "the lock is held");
        held
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_app_starts_before_its_workspaces_are_opened() {
    let dir = folder();
    drop(procdeck_engine::Workspace::open(dir.0.path(), settings()).expect("open"));
    let config = tempfile::tempdir().expect("config dir");
    // While another process holds the store's lock, opening the workspace waits for it.
    let lock = HeldLock::on(dir.0.path());
    let held = Arc::new(Mutex::new(Some(lock)));
    // Ends the wait if installing blocked on the store, so that the test fails instead of hanging.
    let watchdog_held = held.clone();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(DEADLINE);
        watchdog_held
            .lock()
            .map(|mut h| h.take().is_some())
            .unwrap_or(false)
    });
    let a = app_with(config.path(), &[dir.0.path().to_owned()]);
    let released_by_watchdog = held.lock().map(|h| h.is_none()).unwrap_or(true);
    assert!(
        !released_by_watchdog,
        "installing the app waited for the workspace to open"
    );
    held.lock().expect("held").take();
    let list = a.ok("list_workspaces", json!({}));
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["missing"], false, "{list}");
    // The folder given at launch is the one the window shows first, once.
    assert_eq!(a.ok("take_requested_workspace", json!({})), list[0]["id"]);
    assert_eq!(
        a.ok("take_requested_workspace", json!({})),
        Value::Null,
        "asked once"
    );
    drop(watchdog);
}

fn wait_for_output(ws: &procdeck_engine::Workspace, id: &str, want: &str) -> String {
    let deadline = Instant::now() + DEADLINE;
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
    // A start made while the environment is still being worked out waits for it: the
    // environment is given only once the start has written its spec, the step just before it
    // reads the environment.
    let processes = dir.0.path().join(STORE_DIR).join("processes");
    let filler = std::thread::spawn(move || {
        let reached = wait_until(|| {
            std::fs::read_dir(&processes).is_ok_and(|mut entries| {
                entries.any(|e| e.is_ok_and(|e| e.path().join("spec.json").exists()))
            })
        });
        pending.set(base);
        reached
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
    assert!(
        filler.join().expect("filler thread"),
        "the start never wrote its spec"
    );
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
    let grew = wait_until(|| {
        let later = b.ok(
            "read_output",
            json!({ "workspaceId": ws_id, "id": id, "request": { "method": "tail", "lines": 1 } }),
        );
        later["sizeBytes"].as_u64().expect("size") > size
    });
    assert!(grew, "it kept writing while no app ran");
    let stopped = b.ok("stop_process", json!({ "workspaceId": ws_id, "id": id }));
    assert_eq!(stopped["status"], "stopped");
}

#[test]
fn the_running_count_for_the_close_decision_follows_events_without_reading_stores() {
    let a = app();
    let registry = a
        .app
        .state::<Arc<procdeck_app::registry::Registry>>()
        .inner()
        .clone();
    let dir = folder();
    let ws = a.add(dir.0.path());
    assert_eq!(registry.running_total(), 0);
    let rec = a.ok(
        "start_process",
        json!({ "workspaceId": ws, "command": "sleep 600", "title": null, "env": {} }),
    );
    assert!(
        wait_until(|| registry.running_total() == 1),
        "the start was counted"
    );
    // A process started by another front (the CLI) is counted from the store watcher's events.
    let (other, _) = procdeck_engine::Workspace::open(dir.0.path(), settings()).expect("open");
    let cli = other
        .start(procdeck_engine::StartRequest::new("sleep 600"))
        .expect("start");
    assert!(
        wait_until(|| registry.running_total() == 2),
        "the other front's start was counted"
    );
    other
        .stop(&cli.id, procdeck_engine::StopRequest::default())
        .expect("stop");
    a.ok(
        "stop_process",
        json!({ "workspaceId": ws, "id": rec["id"] }),
    );
    assert!(
        wait_until(|| registry.running_total() == 0),
        "the stops were counted"
    );
    assert_eq!(
        procdeck_app::desktop::close_action(registry.running_total(), false),
        procdeck_app::desktop::CloseAction::Quit
    );

    a.ok(
        "start_process",
        json!({ "workspaceId": ws, "command": "sleep 600", "title": null, "env": {} }),
    );
    assert!(wait_until(|| registry.running_total() == 1));
    a.ok(
        "remove_workspace",
        json!({ "workspaceId": ws, "deleteHistory": false }),
    );
    assert_eq!(
        registry.running_total(),
        0,
        "a removed workspace counts no more"
    );
}

#[test]
fn restarting_a_record_that_came_with_the_folder_needs_consent_to_what_it_runs() {
    let a = app();
    let dir = folder();
    let root = std::fs::canonicalize(dir.0.path()).expect("canonical folder");
    let id = "proc_2026-11-01T0900_c0ffee";
    let proc_dir = root.join(".procdeck/processes").join(id);
    std::fs::create_dir_all(&proc_dir).expect("process folder");
    std::fs::write(root.join("x.sh"), "echo ran > marker\n").expect("script");
    let spec = json!({
        "id": id, "workspaceId": "ws_5b1pped00000", "title": "shipped", "command": "true",
        "cwd": root, "env": { "BASH_ENV": "./x.sh" }, "startedAt": "2026-11-01T09:00:00.000Z",
        "stopGraceMs": 2000, "outputCapBytes": 4096,
    });
    std::fs::write(proc_dir.join("spec.json"), spec.to_string()).expect("spec.json");
    // Without an index or a shim record, the folder is rebuilt into a lost record.
    let ws = a.add(&root);
    let listed = a.wait_status(&ws, id, "lost");
    assert_eq!(listed["origin"], "foreign");
    assert_eq!(listed["env"]["BASH_ENV"], "./x.sh");

    let refused = a.err("restart_process", json!({ "workspaceId": ws, "id": id }));
    assert_eq!(refused["kind"], "foreignRecord", "{refused}");
    let changed = json!({ "command": "true", "env": {} });
    let refused = a.err(
        "restart_process",
        json!({ "workspaceId": ws, "id": id, "consent": changed }),
    );
    assert_eq!(refused["kind"], "foreignRecord", "{refused}");
    assert!(!root.join("marker").exists(), "the shipped environment ran");

    let consent = json!({ "command": "true", "env": { "BASH_ENV": "./x.sh" } });
    let new = a.ok(
        "restart_process",
        json!({ "workspaceId": ws, "id": id, "consent": consent }),
    );
    assert_eq!(new["origin"], "own");
    assert_eq!(new["outputCapBytes"], 4096);
    let new_id = new["id"].as_str().expect("id").to_owned();
    a.wait_status(&ws, &new_id, "stopped");
    assert!(
        root.join("marker").exists(),
        "the confirmed run did not run"
    );
}
