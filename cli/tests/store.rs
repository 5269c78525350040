//! The workspace store on disk: layout, workspace id, a damaged or missing index, and
//! reconciling the index with what the shims recorded.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::time::Duration;

use common::*;
use procdeck_engine::platform;
use procdeck_engine::Status;

const RECORD_KEYS: [&str; 11] = [
    "id",
    "workspaceId",
    "title",
    "command",
    "cwd",
    "status",
    "pid",
    "startedAt",
    "stoppedAt",
    "exitCode",
    "outputSizeBytes",
];

#[test]
fn layout_gitignore_index_and_one_folder_per_process() {
    let ws = TestWs::new();
    // Any command creates the store, even one that changes nothing.
    assert_eq!(ws.ok(["list"]).trim(), "no processes");
    assert_eq!(
        std::fs::read_to_string(ws.store().join(".gitignore")).unwrap(),
        "*\n"
    );
    assert_eq!(ws.raw_index(), serde_json::json!([]));

    let a = ws.start_with(&["--title", "first"], "echo a");
    let b = ws.start("exit 1");
    ws.wait(&a.id);
    ws.wait(&b.id);
    ws.list();
    let index = ws.raw_index();
    let records = index.as_array().expect("index.json is an array");
    assert_eq!(records.len(), 2);
    for rec in records {
        for key in RECORD_KEYS {
            assert!(rec.get(key).is_some(), "key {key} missing in {rec}");
        }
        let id = rec["id"].as_str().unwrap();
        assert!(id_is_well_formed(id));
        assert!(ws.process_dir(id).is_dir(), "no folder for {id}");
        assert_eq!(rec["cwd"], ws.canonical().to_string_lossy().as_ref());
    }
    let first = &records[0];
    assert_eq!(first["id"], a.id.as_str());
    assert_eq!(first["title"], "first");
    assert_eq!(first["command"], "echo a");
    assert_eq!(first["status"], "stopped");
    assert_eq!(first["exitCode"], 0);
    assert_eq!(first["outputSizeBytes"], 2);
    assert!(first["pid"].as_u64().is_some());
    assert!(first["stoppedAt"].as_str().is_some());
    assert_eq!(records[1]["status"], "error");
    assert_eq!(records[1]["exitCode"], 1);
    // No snake_case keys anywhere.
    let text = std::fs::read_to_string(ws.index_path()).unwrap();
    assert!(
        !text.contains("_id\"") && !text.contains("exit_code"),
        "{text}"
    );

    let folders: Vec<String> = std::fs::read_dir(ws.store().join("processes"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(folders.len(), 2);

    // The store never shows in the user's git status.
    let git = std::process::Command::new("git")
        .arg("init")
        .arg("-q")
        .arg(ws.path())
        .status();
    if git.is_ok_and(|s| s.success()) {
        let status = std::process::Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=all"])
            .current_dir(ws.path())
            .output()
            .unwrap();
        assert!(status.status.success());
        assert_eq!(
            String::from_utf8_lossy(&status.stdout),
            "",
            "the store shows in git status"
        );
    }
}

#[test]
fn the_workspace_id_is_stable_for_a_folder() {
    let ws = TestWs::new();
    let a = ws.start_with(&["--title", "a"], "true");
    let b = ws.start_with(&["--title", "b"], "true");
    assert_eq!(a.workspace_id, b.workspace_id);
    assert!(a.workspace_id.starts_with("ws_"), "{}", a.workspace_id);
    let (engine_ws, _) = procdeck_engine::Workspace::open(ws.path(), settings()).unwrap();
    assert_eq!(engine_ws.id(), a.workspace_id);
    // Reached through another path (a symlink), it is the same workspace.
    let link_dir = tempfile::tempdir().unwrap();
    let link = link_dir.path().join("link");
    std::os::unix::fs::symlink(ws.path(), &link).unwrap();
    let out = std::process::Command::new(BIN)
        .arg("-w")
        .arg(&link)
        .args(["--json", "list"])
        .output()
        .unwrap();
    let listed: Vec<procdeck_engine::ProcessRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|r| r.workspace_id == a.workspace_id));
    // From the folder itself as the current directory (no -w).
    let out = std::process::Command::new(BIN)
        .args(["--json", "list"])
        .current_dir(ws.path())
        .output()
        .unwrap();
    let listed: Vec<procdeck_engine::ProcessRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.len(), 2);

    let other = TestWs::new();
    let c = other.start("true");
    assert_ne!(c.workspace_id, a.workspace_id);
    ws.wait(&a.id);
    ws.wait(&b.id);
    other.wait(&c.id);
}

/// Runs `list` and returns (records, stderr).
fn list_with_stderr(ws: &TestWs) -> (Vec<procdeck_engine::ProcessRecord>, String) {
    let out = ws.cli(["--json", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        serde_json::from_slice(&out.stdout).expect("list json"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn damaged_copies(ws: &TestWs) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(ws.store())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("index.json.damaged"))
        })
        .collect()
}

#[test]
fn a_corrupt_index_is_reported_and_rebuilt_and_kept_aside() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let done = ws.start("echo done; exit 4");
    let running = ws.start_with(
        &["--grace", "0.3", "--title", "server"],
        &format!("sleep {m}"),
    );
    ws.wait(&done.id);

    for (n, garbage) in [
        &b"[{\"id\": \"proc_2026-"[..],
        b"",
        b"{\"not\": \"an array\"}",
        b"\xff\xfe\x00garbage",
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::write(ws.index_path(), garbage).unwrap();
        let (records, stderr) = list_with_stderr(&ws);
        let warnings: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("procdeck: warning: "))
            .collect();
        assert_eq!(warnings.len(), 1, "case {n}: stderr {stderr:?}");
        assert!(warnings[0].contains("index.json"), "{stderr}");
        assert_eq!(
            records.len(),
            2,
            "case {n}: the index was emptied: {records:?}"
        );
        let d = records
            .iter()
            .find(|r| r.id == done.id)
            .expect("finished record");
        assert_eq!((d.status, d.exit_code), (Status::Error, Some(4)));
        assert_eq!(d.command, "echo done; exit 4");
        let r = records
            .iter()
            .find(|r| r.id == running.id)
            .expect("running record");
        assert_eq!(r.status, Status::Running);
        assert_eq!(r.title, "server");
        assert_eq!(r.pid, running.pid);
        // The damaged file is kept aside, byte for byte, and the index is whole again.
        let copies = damaged_copies(&ws);
        assert_eq!(copies.len(), n + 1, "{copies:?}");
        assert!(
            copies.iter().any(|p| std::fs::read(p).unwrap() == garbage),
            "case {n}: the damaged content was not kept"
        );
        assert_eq!(ws.raw_index().as_array().unwrap().len(), 2);
        // The next command has nothing to warn about.
        let (_, stderr) = list_with_stderr(&ws);
        assert_eq!(stderr, "", "case {n}");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The rebuilt record still controls the process.
    assert_eq!(ws.stop(&running.id, "0.3").status, Status::Stopped);
    assert!(processes_exactly(&format!("sleep {m}")).is_empty());
}

#[test]
fn a_missing_index_is_reported_and_rebuilt_from_the_folders() {
    let ws = TestWs::new();
    let a = ws.start("echo a");
    let b = ws.start("exit 9");
    ws.wait(&a.id);
    ws.wait(&b.id);
    std::fs::remove_file(ws.index_path()).unwrap();
    let (records, stderr) = list_with_stderr(&ws);
    assert!(
        stderr.starts_with("procdeck: warning: ") && stderr.contains("missing"),
        "{stderr:?}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert_eq!(
        ids(&records),
        [a.id.clone(), b.id.clone()].into_iter().collect()
    );
    let b2 = records.iter().find(|r| r.id == b.id).unwrap();
    assert_eq!((b2.status, b2.exit_code), (Status::Error, Some(9)));
    assert_eq!(ws.raw_index().as_array().unwrap().len(), 2);

    // A command other than list warns too (the warning comes from opening the workspace).
    std::fs::remove_file(ws.index_path()).unwrap();
    let out = ws.cli(["output", &a.id]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a\n");
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("procdeck: warning: "),
        "{out:?}"
    );
}

#[test]
fn a_record_marked_running_takes_the_exit_code_the_shim_recorded() {
    let ws = TestWs::new();
    // It ends only after `start` has returned, however slow the machine: then nobody looks
    // while it ends, and only the shim's exit.json knows.
    let r = ws.start("while [ ! -e go ]; do sleep 0.02; done; exit 7");
    std::fs::write(ws.path().join("go"), "").unwrap();
    let exit = ws.process_dir(&r.id).join("exit.json");
    wait_until("exit.json", PATIENCE, || exit.exists());
    assert_eq!(ws.raw_index()[0]["status"], "running");
    let rec = ws.record(&r.id);
    assert_eq!((rec.status, rec.exit_code), (Status::Error, Some(7)));
    assert_eq!(ws.raw_index()[0]["status"], "error");
    assert_eq!(ws.raw_index()[0]["exitCode"], 7);

    // An index edited back to `running` is corrected from the process folder again.
    let mut index = ws.raw_index();
    index[0]["status"] = "running".into();
    index[0]["exitCode"] = serde_json::Value::Null;
    index[0]["stoppedAt"] = serde_json::Value::Null;
    ws.write_raw_index(&index);
    let rec = ws.record(&r.id);
    assert_eq!((rec.status, rec.exit_code), (Status::Error, Some(7)));
    assert!(rec.stopped_at.is_some());
}

#[test]
fn a_pid_is_not_trusted_without_its_start_time() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let base: u64 = m.parse().unwrap();
    let cmd = format!("sleep {base}");
    let r = ws.start(&cmd);
    wait_until("the sleep", PATIENCE, || processes_exactly(&cmd).len() == 1);
    let shim = ws.shim_ids(&r.id);

    // A decoy of this test stands for an unrelated process that got the recorded pids.
    let decoy_line = format!("sleep {}", base + 1);
    let decoy = ChildGuard {
        child: std::process::Command::new("sleep")
            .arg((base + 1).to_string())
            .spawn()
            .unwrap(),
    };
    let decoy_start = platform::start_time(decoy.pid()).unwrap();

    let mut index = ws.raw_index();
    let rec = &mut index[0];
    assert_eq!(rec["status"], "running");
    rec["pid"] = decoy.pid().into();
    rec["supervisor"]["shimPid"] = decoy.pid().into();
    rec["supervisor"]["shimStartTime"] = (decoy_start + 12345).into();
    rec["supervisor"]["pidStartTime"] = (decoy_start + 12345).into();
    ws.write_raw_index(&index);

    let lost = ws.record(&r.id);
    assert_eq!(lost.status, Status::Lost, "{lost:?}");
    assert_eq!(ws.stop(&r.id, "0").status, Status::Lost);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        alive(decoy.pid()),
        "a process with the recorded pid was signalled"
    );
    assert_eq!(processes_exactly(&decoy_line), vec![decoy.pid()]);
    // The real shim was not signalled either (its identity was not the recorded one).
    assert!(platform::is_alive(shim.shim_pid, shim.shim_start_time));
    assert_eq!(processes_exactly(&cmd).len(), 1);
}

#[test]
fn a_wrong_shim_start_time_means_lost_and_the_shim_is_not_signalled() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let cmd = format!("sleep {m}");
    let r = ws.start(&cmd);
    let shim = ws.shim_ids(&r.id);
    let mut index = ws.raw_index();
    let st = index[0]["supervisor"]["shimStartTime"].as_u64().unwrap();
    index[0]["supervisor"]["shimStartTime"] = (st + 1).into();
    ws.write_raw_index(&index);

    let rec = ws.record(&r.id);
    assert_eq!(rec.status, Status::Lost);
    assert_eq!(ws.stop(&r.id, "0").status, Status::Lost);
    // The shim was never sent a stop (SIGTERM) or killed: either it still runs, or it ended on
    // its own and recorded an exit nobody asked for. (The command itself, verified by its own
    // start time, is ended as a lost record's command is.)
    let exit_path = ws.process_dir(&r.id).join("exit.json");
    wait_until("the command to be ended", PATIENCE, || {
        processes_exactly(&cmd).is_empty()
    });
    wait_until("the shim to settle", PATIENCE, || {
        exit_path.exists() || platform::is_alive(shim.shim_pid, shim.shim_start_time)
    });
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        exit_path.exists() || platform::is_alive(shim.shim_pid, shim.shim_start_time),
        "the shim died without an exit record: it was killed"
    );
    if let Ok(text) = std::fs::read_to_string(&exit_path) {
        let exit: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            exit["stopRequested"], false,
            "the shim was asked to stop: {exit}"
        );
    }
    // Lost stays lost, even once the shim has written an exit record.
    assert_eq!(ws.record(&r.id).status, Status::Lost);
}
