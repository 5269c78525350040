//! Bad inputs: every one is ONE stderr line starting `procdeck:`, a non-zero exit, and no
//! change on disk.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::path::Path;

use common::*;

const MALFORMED: [&str; 10] = [
    "../x",
    "..",
    "../../etc/passwd",
    "proc_2026-11-24T0408_4db84d/../../..",
    "proc_2026-11-24T0408_4DB84D",
    "proc_2026-11-24T0408_4db84",
    "proc_2026-11-24T0408_4db84dd",
    "/tmp",
    "proc_2026-11-24T0408_4db84\u{e9}",
    "",
];

/// A snapshot of every file name under the store, to check nothing changed.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            out.push(p.to_string_lossy().into_owned());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn malformed_ids_are_rejected_by_every_command() {
    let ws = TestWs::new();
    let r = ws.start("echo hi");
    ws.wait(&r.id);
    // A file a `../x` id would reach if it were joined to the processes folder.
    std::fs::write(ws.store().join("x"), "do not touch").unwrap();
    std::fs::create_dir_all(ws.store().join("processes/../y")).unwrap();
    let before = tree(ws.path());
    for bad in MALFORMED {
        for args in [
            vec!["stop", bad],
            vec!["rm", bad],
            vec!["output", bad],
            vec!["output", bad, "--tail", "1"],
            vec!["output", bad, "--follow"],
            vec!["wait", bad],
            vec!["--json", "rm", bad],
        ] {
            // Not an id, nor the start of one or a title here.
            let err = ws.fails(&args);
            assert!(
                err.contains("no process with id, start of an id or title"),
                "{args:?}: {err:?}"
            );
            assert!(err.contains("proc_YYYY-MM-DDTHHMM_xxxxxx"), "{err}");
        }
    }
    assert_eq!(tree(ws.path()), before, "a malformed id changed the store");
    assert_eq!(
        std::fs::read_to_string(ws.store().join("x")).unwrap(),
        "do not touch"
    );
    assert_eq!(ws.output(&r.id), "hi\n");
}

#[test]
fn unknown_ids_are_not_found() {
    let ws = TestWs::new();
    let r = ws.start("true");
    ws.wait(&r.id);
    let unknown = "proc_2026-01-01T0000_abcdef";
    for args in [
        vec!["stop", unknown],
        vec!["rm", unknown],
        vec!["output", unknown],
        vec!["output", unknown, "--grep", "x"],
        vec!["output", unknown, "--follow"],
        vec!["wait", unknown],
    ] {
        let err = ws.fails(&args);
        assert_eq!(
            err.trim_end(),
            format!("procdeck: no process with id {unknown} in this workspace"),
            "{args:?}"
        );
    }
    // An id of another workspace is unknown here.
    let other = TestWs::new();
    let err = other.fails(["output", &r.id]);
    assert!(err.contains("no process with id"), "{err}");
    assert_eq!(ws.list().len(), 1);
}

#[test]
fn invalid_and_empty_regexes_are_clear_errors() {
    let ws = TestWs::new();
    let r = ws.start("echo text");
    ws.wait(&r.id);
    for args in [
        vec!["output", &r.id, "--grep", "("],
        vec!["output", &r.id, "--grep", "a{2,1}"],
        vec!["output", &r.id, "--grep", "[z-a]"],
        vec!["--json", "output", &r.id, "--grep", "("],
        vec!["output", &r.id, "--grep", "(", "--follow"],
        vec!["output", &r.id, "--grep", "(", "--max-bytes", "3"],
    ] {
        let err = ws.fails(&args);
        assert!(
            err.starts_with("procdeck: invalid regex"),
            "{args:?}: {err:?}"
        );
    }
    // The line says what is wrong.
    let err = ws.fails(["output", &r.id, "--grep", "a(b"]);
    assert!(
        err.contains("\"a(b\"") && err.contains("unclosed group"),
        "{err}"
    );
    // A pattern too big to compile is refused the same way, not run.
    let err = ws.fails(["output", &r.id, "--grep", r"\w{1000}{1000}"]);
    assert!(err.starts_with("procdeck: invalid regex"), "{err}");
    assert!(err.contains("size limit"), "{err}");
    for args in [
        vec!["output", &r.id, "--grep", ""],
        vec!["--json", "output", &r.id, "--grep", ""],
        vec!["output", &r.id, "--grep", "", "--follow"],
    ] {
        let err = ws.fails(&args);
        assert!(err.contains("grep needs a pattern"), "{args:?}: {err:?}");
    }
}

#[test]
fn a_missing_folder_is_an_error_and_is_not_created() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("not-there");
    for args in [
        vec!["list"],
        vec!["start", "--", "true"],
        vec!["output", "proc_2026-01-01T0000_abcdef"],
        vec!["close"],
    ] {
        let out = std::process::Command::new(BIN)
            .arg("-w")
            .arg(&missing)
            .args(&args)
            .output()
            .unwrap();
        let err = check_failure(&out);
        assert!(err.contains("does not exist"), "{args:?}: {err}");
        assert!(err.contains("not-there"), "{err}");
        assert!(!missing.exists(), "{args:?} created the folder");
    }
}

#[test]
fn a_folder_that_is_a_file_or_cannot_be_written_is_an_error() {
    let parent = tempfile::tempdir().unwrap();
    let file = parent.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let run = |dir: &Path, args: &[&str]| {
        std::process::Command::new(BIN)
            .arg("-w")
            .arg(dir)
            .args(args)
            .output()
            .unwrap()
    };
    let err = check_failure(&run(&file, &["list"]));
    assert!(err.contains("is not a folder"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");

    // /proc cannot hold a store (and root's permissions do not matter there).
    let err = check_failure(&run(Path::new("/proc/self"), &["start", "--", "true"]));
    assert!(err.contains("not writable"), "{err}");
    let err = check_failure(&run(Path::new("/proc"), &["list"]));
    assert!(err.contains("not writable"), "{err}");

    // A read-only file system, where mounting is allowed.
    if let Some(ro) = TmpfsMount::new("ro") {
        let err = check_failure(&run(ro.path(), &["start", "--", "true"]));
        assert!(
            err.contains("not writable") && err.contains("Read-only file system"),
            "{err}"
        );
        assert!(!ro.path().join(".procdeck").exists());
    } else {
        eprintln!("SKIPPED: the read-only file system case (no tmpfs could be mounted)");
    }
}

#[test]
fn a_store_made_read_only_later_fails_cleanly() {
    let Some(mnt) = TmpfsMount::new("rw") else {
        eprintln!(
            "SKIPPED: a_store_made_read_only_later_fails_cleanly (no tmpfs could be mounted)"
        );
        return;
    };
    let run = |args: &[&str]| {
        std::process::Command::new(BIN)
            .arg("-w")
            .arg(mnt.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--json", "start", "--", "echo before"]);
    assert!(out.status.success(), "{out:?}");
    let rec: procdeck_engine::ProcessRecord = serde_json::from_slice(&out.stdout).unwrap();
    let out = run(&["wait", &rec.id, "--timeout", "60"]);
    assert!(out.status.success(), "{out:?}");
    // `wait` answers once the exit is recorded; the shim syncs the output and closes it a moment
    // later, and a file system cannot be made read-only while a file is open for writing on it.
    let shim = shim_ids_in(mnt.path(), &rec.id);
    wait_until("the shim to end", PATIENCE, || {
        !procdeck_engine::platform::is_alive(shim.shim_pid, shim.shim_start_time)
    });
    assert!(mnt.remount("ro"), "remount read-only");
    let out = run(&["start", "--", "echo after"]);
    let err = check_failure(&out);
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(mnt.remount("rw"));
    let out = run(&["--json", "list"]);
    let list: Vec<procdeck_engine::ProcessRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.len(), 1, "a failed start left a record");
}

#[test]
fn empty_commands_are_rejected() {
    let ws = TestWs::new();
    for args in [
        vec!["start"],
        vec!["start", "--"],
        vec!["start", "--", ""],
        vec!["start", "--", "   "],
        vec!["start", "--", " \t\n "],
        vec!["--json", "start", "--title", "t", "--", ""],
    ] {
        let err = ws.fails(&args);
        assert!(err.contains("the command is empty"), "{args:?}: {err}");
    }
    assert!(ws.list().is_empty());
    let processes = std::fs::read_dir(ws.store().join("processes"))
        .unwrap()
        .count();
    assert_eq!(processes, 0, "a rejected start left a folder");
}

#[test]
fn invalid_env_is_rejected() {
    let ws = TestWs::new();
    for bad in [
        "NOEQUALS",
        "=value",
        "1ABC=x",
        "A B=x",
        "A-B=x",
        "É=x",
        "A=x\u{0}y",
    ] {
        if bad.contains('\0') {
            // An argument cannot carry a NUL; the engine's own check is exercised below.
            continue;
        }
        let err = ws.fails(["start", "--env", bad, "--", "true"]);
        assert!(
            err.contains("invalid environment variable"),
            "{bad:?}: {err}"
        );
    }
    assert!(ws.list().is_empty());
    // Through the engine API, a NUL in a value is rejected before anything starts.
    let (engine_ws, _) = procdeck_engine::Workspace::open(ws.path(), settings()).unwrap();
    let mut req = procdeck_engine::StartRequest::new("true");
    req.env.insert("OK".into(), "a\0b".into());
    let err = engine_ws.start(req).unwrap_err();
    assert_eq!(err.kind(), "invalidEnv");
    assert!(engine_ws.list().unwrap().is_empty());
}

#[test]
fn bad_numbers_and_unknown_arguments_are_one_line_errors() {
    let ws = TestWs::new();
    let r = ws.start("true");
    ws.wait(&r.id);
    for args in [
        vec!["start", "--grace", "abc", "--", "true"],
        vec!["start", "--grace", "-1", "--", "true"],
        vec!["start", "--grace", "NaN", "--", "true"],
        vec!["start", "--output-cap", "-5", "--", "true"],
        vec!["stop", &r.id, "--grace", "inf"],
        vec!["wait", &r.id, "--timeout", "-3"],
        vec!["output", &r.id, "--tail", "x"],
        vec!["output", &r.id, "--head", "1", "--tail", "1"],
        vec!["output", &r.id, "--max-bytes", "-1"],
        vec!["frobnicate"],
        vec!["list", "--nope"],
        vec!["stop"],
    ] {
        ws.fails(&args);
    }
    // A missing argument is named on the one line.
    let err = ws.fails(["stop"]);
    assert!(err.contains("<ID>"), "{err}");
    assert_eq!(ws.list().len(), 1);
}

#[test]
fn a_shim_that_cannot_start_leaves_no_record_and_no_folder() {
    let ws = TestWs::new();
    for exe in ["/nonexistent/procdeck", "/bin/true"] {
        let mut s = settings();
        s.shim_exe = Some(exe.into());
        let (engine_ws, _) = procdeck_engine::Workspace::open(ws.path(), s).unwrap();
        let err = engine_ws
            .start(procdeck_engine::StartRequest::new("echo never"))
            .unwrap_err();
        assert_eq!(err.kind(), "spawn", "{exe}: {err}");
        assert!(!err.to_string().contains('\n'), "{err}");
        assert!(engine_ws.list().unwrap().is_empty(), "{exe}");
        let folders = std::fs::read_dir(ws.store().join("processes"))
            .unwrap()
            .count();
        assert_eq!(folders, 0, "{exe}: a failed start left its folder");
    }
}

#[test]
fn every_engine_entry_point_checks_the_id() {
    use procdeck_engine::{ReadMethod, ReadRequest, StopRequest};
    let ws = TestWs::new();
    let (w, _) = procdeck_engine::Workspace::open(ws.path(), settings()).unwrap();
    // A process folder a traversal would reach: `processes/../x` is `.procdeck/x`.
    std::fs::create_dir_all(ws.store().join("x")).unwrap();
    std::fs::write(ws.store().join("x/output.log"), "secret").unwrap();
    let cancel = std::sync::atomic::AtomicBool::new(false);
    for bad in MALFORMED {
        let kinds = [
            w.get(bad).map(|_| ()).unwrap_err().kind(),
            w.stop(bad, StopRequest::default())
                .map(|_| ())
                .unwrap_err()
                .kind(),
            w.wait(bad, Some(std::time::Duration::ZERO))
                .map(|_| ())
                .unwrap_err()
                .kind(),
            w.remove(bad).unwrap_err().kind(),
            w.read(bad, &ReadRequest::new(ReadMethod::Full))
                .map(|_| ())
                .unwrap_err()
                .kind(),
            w.grep(bad, "s", None, None).map(|_| ()).unwrap_err().kind(),
            w.lines_before(bad, None, 5, 1000)
                .map(|_| ())
                .unwrap_err()
                .kind(),
            w.lines_after(bad, 0, 5, 1000)
                .map(|_| ())
                .unwrap_err()
                .kind(),
            w.output_path(bad).map(|_| ()).unwrap_err().kind(),
            w.copy_output(bad, None, &mut Vec::new())
                .map(|_| ())
                .unwrap_err()
                .kind(),
            w.follow(bad, None, &cancel, &mut |_| {
                procdeck_engine::FollowControl::Continue
            })
            .map(|_| ())
            .unwrap_err()
            .kind(),
        ];
        assert!(
            kinds.iter().all(|k| *k == "malformedId"),
            "{bad:?}: {kinds:?}"
        );
    }
    assert!(ws.store().join("x/output.log").exists());
}
