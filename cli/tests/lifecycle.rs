//! Starting through a shim, and how a process's end is recorded.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use common::*;
use procdeck_engine::platform;
use procdeck_engine::{ProcessRecord, Status};

#[test]
fn start_returns_at_once_and_the_process_outlives_the_cli() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let cmd = format!("sleep {m}");
    let r = ws.start(&cmd);
    // The CLI has exited (Command::output waited for it), the command still runs.
    assert_eq!(r.status, Status::Running);
    assert!(id_is_well_formed(&r.id), "{}", r.id);
    let pid = r.pid.expect("pid recorded");
    assert!(
        alive(pid),
        "main process {pid} is gone after the CLI exited"
    );
    wait_until("the sleep to run", PATIENCE, || {
        !processes_exactly(&cmd).is_empty()
    });
    let again = ws.record(&r.id);
    assert_eq!(again.status, Status::Running);
    assert_eq!(again.pid, Some(pid));
    // The record's defaults.
    assert_eq!(r.title, cmd, "title defaults to the command");
    assert_eq!(r.command, cmd);
    assert_eq!(r.cwd, ws.canonical().to_string_lossy());
    assert!(r.stopped_at.is_none() && r.exit_code.is_none());
    let stopped = ws.stop(&r.id, "0.3");
    assert_eq!(stopped.status, Status::Stopped);
}

#[test]
fn ids_have_the_documented_shape_and_the_start_time() {
    let ws = TestWs::new();
    let before = utc_minute();
    let r = ws.start("true");
    let after = utc_minute();
    assert!(id_is_well_formed(&r.id), "{}", r.id);
    let minute = &r.id[5..20];
    assert!(
        minute == before || minute == after,
        "id {} is not stamped with the UTC start minute ({before} / {after})",
        r.id
    );
    assert!(r.started_at.starts_with(&format!(
        "{}-{}-{}T{}:{}",
        &minute[0..4],
        &minute[5..7],
        &minute[8..10],
        &minute[11..13],
        &minute[13..15]
    )));
    let ids: std::collections::HashSet<String> =
        (0..5).map(|_| ws.start("true").id).chain([r.id]).collect();
    assert_eq!(ids.len(), 6, "ids are unique");
}

/// `YYYY-MM-DDTHHMM` of the current UTC time, from `date` so the test does not trust the
/// engine's own clock formatting.
fn utc_minute() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H%M"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn the_shim_runs_bash_in_a_new_session_keeping_orphans_with_cwd_and_no_stdin() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let inner = format!("sleep {m}");
    // A double fork: the subshell exits, leaving its sleep an orphan.
    let r = ws.start_with(
        &["--grace", "0.3"],
        &format!(
            "pwd; readlink /proc/$$/fd/0; read x; echo read=$?; ({inner} &); sleep {} & wait",
            m.parse::<u64>().unwrap() + 1
        ),
    );
    let shim = ws.shim_ids(&r.id);
    assert_eq!(Some(shim.pid), r.pid);
    // Found, the sleep may still be its subshell's child for a moment: it is reparented when
    // the subshell exits. With a child subreaper the shim adopts it; on the portable POSIX path
    // it goes outside the tree (to init), and stays in the shim's session, where the shim still
    // finds it.
    let reparented = |st: &platform::ProcessStat| {
        if cfg!(feature = "portable-posix") {
            platform::stat(st.ppid).is_none_or(|p| p.session != shim.shim_pid as i32)
        } else {
            st.ppid == shim.shim_pid
        }
    };
    wait_until("the orphaned sleep reparented", PATIENCE, || {
        processes_exactly(&inner)
            .first()
            .and_then(|p| platform::stat(*p))
            .is_some_and(|st| reparented(&st))
    });
    let orphan = processes_exactly(&inner)[0];
    let st = platform::stat(orphan).expect("orphan stat");
    assert!(
        reparented(&st),
        "the double-forked sleep must be reparented to the shim (child subreaper), or out of \
         the tree on the portable path: {st:?}"
    );
    assert_eq!(st.session, shim.shim_pid as i32, "{st:?}");
    let shim_stat = platform::stat(shim.shim_pid).expect("shim stat");
    assert_eq!(
        shim_stat.session, shim.shim_pid as i32,
        "the shim leads its own session (setsid)"
    );
    let main = platform::stat(shim.pid).expect("command stat");
    assert_eq!(main.ppid, shim.shim_pid, "bash is the shim's child");
    assert_eq!(main.session, shim.shim_pid as i32);
    assert_eq!(
        main.pgrp, shim.pid as i32,
        "bash leads its own process group"
    );
    let comm = std::fs::read_to_string(format!("/proc/{}/comm", shim.pid)).unwrap();
    assert_eq!(comm.trim(), "bash");
    let cwd = std::fs::read_link(format!("/proc/{}/cwd", shim.pid)).unwrap();
    assert_eq!(cwd, ws.canonical());

    wait_until("the first output", PATIENCE, || {
        ws.output(&r.id).contains("read=")
    });
    let out = ws.output(&r.id);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], ws.canonical().to_string_lossy(), "{out:?}");
    assert_eq!(lines[1], "/dev/null", "stdin is /dev/null: {out:?}");
    assert_eq!(
        lines[2], "read=1",
        "reading stdin gives end of file: {out:?}"
    );
    ws.stop(&r.id, "0.3");
    assert!(
        processes_exactly(&inner).is_empty(),
        "the orphan survived the stop"
    );
}

#[test]
fn stdout_and_stderr_go_to_one_file_in_arrival_order_and_exit_json_is_written() {
    let ws = TestWs::new();
    let r = ws.start("for i in 1 2 3; do echo out$i; echo err$i >&2; done; printf 'last' >&2");
    let done = ws.wait(&r.id);
    assert_eq!(done.status, Status::Stopped);
    assert_eq!(done.exit_code, Some(0));
    let expected = "out1\nerr1\nout2\nerr2\nout3\nerr3\nlast";
    assert_eq!(ws.output(&r.id), expected);
    let file = std::fs::read_to_string(ws.process_dir(&r.id).join("output.log")).unwrap();
    assert_eq!(file, expected, "one output file holds both streams");
    assert_eq!(done.output_size_bytes, expected.len() as u64);
    let exit: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.process_dir(&r.id).join("exit.json")).expect("exit.json"),
    )
    .expect("exit.json is JSON");
    assert_eq!(exit["exitCode"], 0);
    assert!(exit["endedAt"].is_string(), "{exit}");
}

#[test]
fn env_title_and_argument_words() {
    let ws = TestWs::new();
    let r = ws.start_with(
        &[
            "--env",
            "PD_ONE=first value",
            "-e",
            "PD_TWO=a=b",
            "--env",
            "PD_EMPTY=",
            "--title",
            "My server",
        ],
        "echo \"$PD_ONE|$PD_TWO|${PD_EMPTY-unset}|${PD_NOT_SET-unset}\"",
    );
    assert_eq!(r.title, "My server");
    assert_eq!(r.env.get("PD_ONE").map(String::as_str), Some("first value"));
    ws.wait(&r.id);
    assert_eq!(ws.output(&r.id), "first value|a=b||unset\n");

    // The variable is the process's own, not the CLI's or a later process's.
    let other = ws.start("echo \"${PD_ONE-unset}\"");
    ws.wait(&other.id);
    assert_eq!(ws.output(&other.id), "unset\n");

    // Several words after `--` are one command with arguments, quoted for bash.
    let out = ws.ok([
        "--json",
        "start",
        "--",
        "printf",
        "%s|",
        "two words",
        "it's",
        "$HOME",
    ]);
    let words: procdeck_engine::ProcessRecord = serde_json::from_str(&out).unwrap();
    ws.wait(&words.id);
    assert_eq!(ws.output(&words.id), "two words|it's|$HOME|");
    assert!(words.title.starts_with("printf"), "{}", words.title);

    // A blank title falls back to the command.
    let blank = ws.start_with(&["--title", "  "], "true");
    assert_eq!(blank.title, "true");
}

#[test]
fn leftovers_are_terminated_when_the_main_process_ends() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard::block(&m);
    let m2 = m.parse::<u64>().unwrap() + 1;
    let m3 = m.parse::<u64>().unwrap() + 2;
    let r = ws.start_with(
        &["--grace", "0.3"],
        &format!(
            "sleep {m} & echo $! > leftover.pid; \
             bash -c \"trap '' TERM; exec sleep {m2}\" & echo $! > stubborn.pid; \
             (setsid sleep {m3} & {ORPHAN_HANDOFF}); \
             echo started"
        ),
    );
    let done = ws.wait(&r.id);
    assert_eq!(done.status, Status::Stopped, "{done:?}");
    assert_eq!(done.exit_code, Some(0));
    assert!(!done.stop_requested);
    assert_eq!(ws.output(&r.id), "started\n");
    // The leftovers were started (their pids were written) and are gone now that the record is
    // final.
    for file in ["leftover.pid", "stubborn.pid"] {
        let text = std::fs::read_to_string(ws.path().join(file)).expect("pid file");
        assert!(text.trim().parse::<u32>().is_ok(), "{file}: {text:?}");
    }
    assert!(processes_exactly(&format!("sleep {m}")).is_empty());
    assert!(
        processes_exactly(&format!("sleep {m2}")).is_empty(),
        "a leftover that ignores SIGTERM must be killed after the grace period"
    );
    assert!(
        processes_exactly(&format!("sleep {m3}")).is_empty(),
        "a double-forked setsid leftover survived"
    );
    let exit = std::fs::read_to_string(ws.process_dir(&r.id).join("exit.json")).unwrap();
    assert!(exit.contains("\"survivors\": []"), "{exit}");
}

#[test]
fn exit_status_zero_nonzero_and_unrequested_signal() {
    let ws = TestWs::new();
    let ok = ws.start("echo fine");
    let bad = ws.start("echo failing >&2; exit 3");
    let killed = ws.start("kill -9 $$");
    let segv = ws.start("kill -SEGV $$");

    let ok = ws.wait(&ok.id);
    assert_eq!(
        (ok.status, ok.exit_code, ok.signal),
        (Status::Stopped, Some(0), None)
    );
    assert!(ok.stopped_at.is_some());

    let bad = ws.wait(&bad.id);
    assert_eq!(bad.status, Status::Error);
    assert_eq!(bad.exit_code, Some(3), "the exit code is kept");
    assert!(bad.stopped_at.is_some());

    let killed = ws.wait(&killed.id);
    assert_eq!(
        killed.status,
        Status::Error,
        "a signal nobody asked for is an error"
    );
    assert_eq!(killed.signal, Some(9));
    assert_eq!(killed.exit_code, None);
    assert!(!killed.stop_requested);

    let segv = ws.wait(&segv.id);
    assert_eq!(segv.status, Status::Error);
    assert_eq!(segv.signal, Some(libc::SIGSEGV));

    // The same, as stored in index.json.
    let index = ws.raw_index();
    let stored = index
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == bad.id.as_str())
        .expect("in index")
        .clone();
    assert_eq!(stored["status"], "error");
    assert_eq!(stored["exitCode"], 3);

    // The text table says it too.
    let table = ws.ok(["list"]);
    assert!(table.contains("error (3)"), "{table}");
    assert!(table.contains("error (SIGKILL)"), "{table}");
}

#[test]
fn a_shim_killed_with_sigkill_leaves_a_lost_record() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let cmd = format!("sleep {m}");
    let r = ws.start(&cmd);
    wait_until("the sleep to run", PATIENCE, || {
        !processes_exactly(&cmd).is_empty()
    });
    let shim = ws.shim_ids(&r.id);
    assert!(platform::is_alive(shim.shim_pid, shim.shim_start_time));
    // SAFETY: the shim this test started, verified by its start time just above.
    unsafe { libc::kill(shim.shim_pid as i32, libc::SIGKILL) };
    wait_until("the shim to die", PATIENCE, || {
        !platform::is_alive(shim.shim_pid, shim.shim_start_time)
    });
    let lost = ws.record(&r.id);
    assert_eq!(lost.status, Status::Lost, "{lost:?}");
    assert!(lost.stopped_at.is_some());
    assert!(!ws.process_dir(&r.id).join("exit.json").exists());
    // Nobody reads its output or can stop it any more, so the command is ended too.
    wait_until("the orphaned command to be ended", PATIENCE, || {
        processes_exactly(&cmd).is_empty()
    });
    // The lost status is stored, and stays.
    let index = ws.raw_index();
    assert_eq!(index[0]["status"], "lost");
    assert_eq!(ws.record(&r.id).status, Status::Lost);
    // Stopping it is a no-op that returns the record; wait returns at once.
    assert_eq!(ws.stop(&r.id, "0.3").status, Status::Lost);
    assert_eq!(ws.wait(&r.id).status, Status::Lost);
}

#[test]
fn wait_returns_the_final_record_and_times_out_with_an_error() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let r = ws.start(&format!("sleep {m}"));
    let err = ws.fails(["wait", &r.id, "--timeout", "0.2"]);
    assert!(err.contains("timed out"), "{err}");
    assert_eq!(ws.record(&r.id).status, Status::Running);
    let quick = ws.start("sleep 0.3; exit 4");
    let done = ws.wait(&quick.id);
    assert_eq!((done.status, done.exit_code), (Status::Error, Some(4)));
    ws.stop(&r.id, "0");
}

#[test]
fn wait_returns_once_the_exit_is_recorded_while_the_shim_still_works() {
    // The shim records the exit, then syncs the output to disk before it ends (a quarter of a
    // second per 256 MiB here); a waiter must not be held back by that. The shim is held still
    // here and the exit record written into its folder the way the shim writes it, by rename.
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let r = ws.start(&format!("sleep {m}"));
    let shim = ws.shim_ids(&r.id);
    assert!(platform::is_alive(shim.shim_pid, shim.shim_start_time));
    // SAFETY: the shim this test started, verified by its start time just above; the
    // workspace's drop ends its tree, stopped or not.
    unsafe { libc::kill(shim.shim_pid as i32, libc::SIGSTOP) };
    let mut waiter = ChildGuard {
        child: ws
            .command(["--json", "wait", &r.id, "--timeout", "60"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run procdeck wait"),
    };
    // Usually the waiter is already waiting when the record appears; when it is not, it finds
    // the record on its first look, which must answer just the same.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let dir = ws.process_dir(&r.id);
    let exit = r#"{"exitCode":3,"signal":null,"stopRequested":false,"endedAt":"2026-11-30T12:00:00.000Z","survivors":[]}"#;
    std::fs::write(dir.join(".exit.json.test"), exit).expect("write the exit record");
    std::fs::rename(dir.join(".exit.json.test"), dir.join("exit.json")).expect("rename it");
    let status = waiter
        .wait_timeout(std::time::Duration::from_secs(30))
        .expect("procdeck wait still waits for the shim, though the exit is recorded");
    let stderr = waiter.stderr_text();
    assert!(status.success(), "{stderr}");
    let mut stdout = Vec::new();
    use std::io::Read;
    let _ = waiter
        .child
        .stdout
        .take()
        .map(|mut o| o.read_to_end(&mut stdout));
    let done: ProcessRecord = serde_json::from_slice(&stdout).expect("wait prints a record");
    assert_eq!((done.status, done.exit_code), (Status::Error, Some(3)));
    assert!(platform::is_alive(shim.shim_pid, shim.shim_start_time));
}
