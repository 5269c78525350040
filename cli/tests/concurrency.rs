//! Several CLIs acting on one workspace at once: the index is written atomically under a lock,
//! so no record is lost or corrupted.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::collections::HashSet;
use std::process::{Child, Stdio};

use common::*;
use procdeck_engine::{ProcessRecord, Status};

/// Children killed and reaped when dropped, for a test that fails half-way.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn_all(ws: &TestWs, argss: Vec<Vec<String>>) -> Children {
    Children(
        argss
            .into_iter()
            .map(|args| {
                ws.command(args)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn procdeck")
            })
            .collect(),
    )
}

/// Waits for every child, asserting success; returns their stdouts.
fn finish_all(mut children: Children) -> Vec<String> {
    let mut outs = Vec::new();
    for child in std::mem::take(&mut children.0) {
        let out = child.wait_with_output().expect("wait procdeck");
        assert!(
            out.status.success(),
            "a concurrent procdeck failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        outs.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    outs
}

#[test]
fn a_hundred_concurrent_starts_leave_a_hundred_valid_records() {
    const N: usize = 100;
    let ws = TestWs::new();
    // The store exists before the rush, as it would for a workspace in use.
    ws.ok(["list"]);
    let children = spawn_all(
        &ws,
        (0..N)
            .map(|i| {
                vec![
                    "--json".to_owned(),
                    "start".to_owned(),
                    "--title".to_owned(),
                    format!("job {i}"),
                    "--".to_owned(),
                    format!("echo out {i}"),
                ]
            })
            .collect(),
    );
    let outs = finish_all(children);
    let started: Vec<ProcessRecord> = outs
        .iter()
        .map(|o| serde_json::from_str(o).expect("start printed a record"))
        .collect();
    let started_ids: HashSet<String> = started.iter().map(|r| r.id.clone()).collect();
    assert_eq!(started_ids.len(), N, "ids must be unique");

    // The index on disk: valid JSON, every record, each once.
    let index = ws.raw_index();
    let records = index.as_array().expect("index.json is an array");
    assert_eq!(
        records.len(),
        N,
        "records lost: {} of {N} left",
        records.len()
    );
    let stored: HashSet<String> = records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stored, started_ids);
    let titles: HashSet<String> = records
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles, (0..N).map(|i| format!("job {i}")).collect());
    for r in records {
        let id = r["id"].as_str().unwrap();
        assert!(id_is_well_formed(id), "{id}");
        assert!(ws.process_dir(id).join("shim.json").exists());
    }

    // Every one ran its own command.
    let listed = ws.list();
    assert_eq!(listed.len(), N);
    for r in &started {
        let done = ws.wait(&r.id);
        assert_eq!(done.status, Status::Stopped, "{done:?}");
        let i = r.title.strip_prefix("job ").unwrap();
        assert_eq!(ws.output(&r.id), format!("out {i}\n"));
    }
    // No temp files were left behind by the atomic writes.
    let leftovers: Vec<String> = std::fs::read_dir(ws.store())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn concurrent_starts_stops_and_removes_keep_every_record_straight() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard::block(&m);
    let base: u64 = m.parse().unwrap();
    // Ten long-running processes to stop or remove while ten more start.
    let long: Vec<ProcessRecord> = (0..10)
        .map(|i| ws.start_with(&["--grace", "0.3"], &format!("sleep {}", base + (i % 3))))
        .collect();
    let mut argss = Vec::new();
    for (i, r) in long.iter().enumerate() {
        if i % 2 == 0 {
            argss.push(vec!["rm".to_owned(), r.id.clone()]);
        } else {
            argss.push(vec![
                "stop".to_owned(),
                r.id.clone(),
                "--grace".to_owned(),
                "0.3".to_owned(),
            ]);
        }
    }
    for i in 0..10 {
        argss.push(vec![
            "--json".to_owned(),
            "start".to_owned(),
            "--".to_owned(),
            format!("echo new {i}"),
        ]);
    }
    argss.push(vec!["list".to_owned()]);
    argss.push(vec!["list".to_owned()]);
    let outs = finish_all(spawn_all(&ws, argss));
    let new_ids: HashSet<String> = outs[10..20]
        .iter()
        .map(|o| serde_json::from_str::<ProcessRecord>(o).unwrap().id)
        .collect();

    let list = ws.list();
    let removed: HashSet<String> = long.iter().step_by(2).map(|r| r.id.clone()).collect();
    let stopped: HashSet<String> = long
        .iter()
        .skip(1)
        .step_by(2)
        .map(|r| r.id.clone())
        .collect();
    let expected: HashSet<String> = stopped.union(&new_ids).cloned().collect();
    assert_eq!(ids(&list), expected);
    for r in &list {
        if stopped.contains(&r.id) {
            assert_eq!(r.status, Status::Stopped, "{r:?}");
            assert!(r.stop_requested);
        }
    }
    for id in &removed {
        assert!(!ws.process_dir(id).exists(), "{id} folder kept");
    }
    wait_until("every sleep to be gone", PATIENCE, || {
        (0..3).all(|i| processes_exactly(&format!("sleep {}", base + i)).is_empty())
    });
    assert_eq!(ws.raw_index().as_array().unwrap().len(), 15);
}

#[test]
fn the_engine_and_clis_share_a_workspace() {
    let ws = TestWs::new();
    let (engine_ws, _) = procdeck_engine::Workspace::open(ws.path(), settings()).unwrap();
    let engine_ws = std::sync::Arc::new(engine_ws);
    // Engine starts on threads while CLIs start in processes.
    let threads: Vec<_> = (0..10)
        .map(|i| {
            let w = std::sync::Arc::clone(&engine_ws);
            std::thread::spawn(move || {
                w.start(procdeck_engine::StartRequest::new(format!(
                    "echo engine {i}"
                )))
                .expect("engine start")
                .id
            })
        })
        .collect();
    let children = spawn_all(
        &ws,
        (0..10)
            .map(|i| vec!["start".to_owned(), "--".to_owned(), format!("echo cli {i}")])
            .collect(),
    );
    let engine_ids: HashSet<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    finish_all(children);
    let list = engine_ws.list().unwrap();
    assert_eq!(list.len(), 20);
    assert!(engine_ids.is_subset(&ids(&list)));
    assert_eq!(ws.list().len(), 20);
}

#[test]
fn two_removes_of_one_process_at_once_remove_it_once() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let r = ws.start_with(&["--grace", "0.3"], &format!("sleep {m}"));
    let keep = ws.start("echo keep");
    let mut children = spawn_all(
        &ws,
        vec![
            vec!["rm".to_owned(), r.id.clone()],
            vec!["rm".to_owned(), r.id.clone()],
        ],
    );
    let outs: Vec<std::process::Output> = std::mem::take(&mut children.0)
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let ok = outs.iter().filter(|o| o.status.success()).count();
    assert!(ok >= 1, "{outs:?}");
    for o in outs.iter().filter(|o| !o.status.success()) {
        let err = check_failure(o);
        assert!(err.contains("no process with id"), "{err}");
    }
    assert_eq!(ids(&ws.list()), [keep.id.clone()].into_iter().collect());
    assert!(!ws.process_dir(&r.id).exists());
    assert!(processes_exactly(&format!("sleep {m}")).is_empty());
}
