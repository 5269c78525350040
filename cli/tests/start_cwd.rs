//! `start --cwd` runs a command in a folder inside the workspace, a restart runs it there again,
//! and every record says which front started it.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::fs;
use std::os::unix::fs::symlink;

use common::*;

#[test]
fn a_command_runs_in_the_folder_it_was_given_and_again_there_on_restart() {
    let ws = TestWs::new();
    fs::create_dir_all(ws.path().join("web/src")).expect("mkdir");
    let r = ws.start_with(&["--cwd", "web/src", "--title", "where"], "pwd");
    let done = ws.wait(&r.id);
    let inner = ws.canonical().join("web/src");
    assert_eq!(done.cwd, inner.to_string_lossy());
    assert_eq!(ws.output(&r.id), format!("{}\n", inner.display()));
    let stored = &ws.raw_index()[0];
    assert_eq!(stored["id"], r.id.as_str());
    assert_eq!(stored["startedBy"]["kind"], "cli", "{stored}");

    let again = ws.json(["restart", "where"]);
    let id = again["id"].as_str().expect("restart prints the new record");
    assert_eq!(again["cwd"], inner.to_string_lossy().as_ref());
    assert_eq!(again["startedBy"]["kind"], "cli");
    ws.wait(id);
    assert_eq!(ws.output(id), format!("{}\n", inner.display()));

    // An absolute path inside the workspace is as good as a relative one.
    let abs = ws.start_with(&["--cwd", &inner.to_string_lossy()], "pwd");
    ws.wait(&abs.id);
    assert_eq!(ws.output(&abs.id), format!("{}\n", inner.display()));
}

#[test]
fn a_folder_outside_the_workspace_or_missing_is_refused_and_nothing_starts() {
    let ws = TestWs::new();
    let outside = tempfile::tempdir().expect("temp dir");
    fs::create_dir(ws.path().join("sub")).expect("mkdir");
    symlink(outside.path(), ws.path().join("sub/out")).expect("symlink");
    fs::write(ws.path().join("file"), "x").expect("write");
    let cases: [(&str, &str); 6] = [
        ("..", "is outside the workspace"),
        ("/", "is outside the workspace"),
        ("sub/../..", "is outside the workspace"),
        ("sub/out", "is outside the workspace"),
        ("nowhere", "does not exist"),
        ("file", "is not a folder"),
    ];
    let marker = unique_marker();
    let _guard = MarkerGuard(marker.clone());
    for (cwd, expected) in cases {
        let err = ws.fails(["start", "--cwd", cwd, "--", &format!("sleep {marker}")]);
        assert_one_error_line(&err);
        assert!(err.contains(expected), "--cwd {cwd}: {err}");
    }
    assert!(ws.list().is_empty(), "nothing was recorded");
    assert!(processes_with(&marker).is_empty(), "nothing ran");
}

#[test]
fn list_shows_the_latest_run_of_each_service_and_all_of_them_with_all() {
    let ws = TestWs::new();
    fs::create_dir(ws.path().join("api")).expect("mkdir");
    let first = ws.start_with(&["--title", "web"], "echo one");
    ws.wait(&first.id);
    let worker = ws.start_with(&["--title", "worker"], "echo w");
    ws.wait(&worker.id);
    let second = ws.json(["restart", "web"]);
    let second = second["id"].as_str().expect("new id").to_owned();
    ws.wait(&second);
    // The same title in another folder is another service.
    let api = ws.start_with(&["--title", "web", "--cwd", "api"], "echo api");
    ws.wait(&api.id);

    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--json", "list"];
        all.extend_from_slice(args);
        let records: Vec<procdeck_engine::ProcessRecord> =
            serde_json::from_str(&ws.ok(all)).expect("list json");
        records.into_iter().map(|r| r.id).collect()
    };
    assert_eq!(
        ids(&[]),
        [worker.id.clone(), second.clone(), api.id.clone()]
    );
    assert_eq!(
        ids(&["--all"]),
        [first.id.clone(), worker.id, second.clone(), api.id]
    );
    let table = ws.ok(["list"]);
    assert!(
        table.contains(&second) && !table.contains(&first.id),
        "{table}"
    );
    // An earlier run is still there to read, by its id.
    assert_eq!(ws.output(&first.id), "one\n");
}
