//! `output ID --follow`: what is there, then new output as it is written, until the process
//! ends. The test holds the process back with a file it creates, so "new" really is new.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::time::Duration;

use common::*;

const LINE_WAIT: Duration = PATIENCE;

/// A command that prints `before`, waits for the file `gate` in its folder, then prints `after`.
fn gated(before: &str, gate: &str, after: &str) -> String {
    format!("{before}; while [ ! -e {gate} ]; do sleep 0.02; done; {after}")
}

#[test]
fn follow_prints_existing_then_new_output_and_exits_when_the_process_ends() {
    let ws = TestWs::new();
    let r = ws.start(&gated(
        "echo first; echo second",
        "go1",
        "echo third; while [ ! -e go2 ]; do sleep 0.02; done; printf 'no newline'",
    ));
    wait_until("the first lines", LINE_WAIT, || {
        ws.output(&r.id) == "first\nsecond\n"
    });
    let mut follower = spawn_cli(&ws, ["output", &r.id, "--follow"]);
    let lines = follower.stdout_lines();
    assert_eq!(lines.next(LINE_WAIT).as_deref(), Some("first\n"));
    assert_eq!(lines.next(LINE_WAIT).as_deref(), Some("second\n"));
    // Nothing more until the process writes more.
    assert_eq!(lines.next(Duration::from_millis(300)), None);
    assert!(
        follower.child.try_wait().unwrap().is_none(),
        "follow ended early"
    );

    std::fs::write(ws.path().join("go1"), "").unwrap();
    assert_eq!(lines.next(LINE_WAIT).as_deref(), Some("third\n"));
    assert!(
        follower.child.try_wait().unwrap().is_none(),
        "follow ended early"
    );

    std::fs::write(ws.path().join("go2"), "").unwrap();
    let status = follower
        .wait_timeout(LINE_WAIT)
        .expect("follow must exit when the process ends");
    assert!(status.success(), "{}", follower.stderr_text());
    assert_eq!(lines.rest(LINE_WAIT), vec!["no newline".to_owned()]);
}

#[test]
fn tail_follow_starts_with_the_last_lines() {
    let ws = TestWs::new();
    let r = ws.start(&gated("seq 1 20", "go", "echo after"));
    wait_until("the numbers", LINE_WAIT, || {
        ws.output(&r.id).ends_with("20\n")
    });
    let mut follower = spawn_cli(&ws, ["output", &r.id, "--tail", "3", "--follow"]);
    let lines = follower.stdout_lines();
    for want in ["18\n", "19\n", "20\n"] {
        assert_eq!(lines.next(LINE_WAIT).as_deref(), Some(want));
    }
    assert_eq!(lines.next(Duration::from_millis(300)), None);
    std::fs::write(ws.path().join("go"), "").unwrap();
    assert!(follower
        .wait_timeout(LINE_WAIT)
        .is_some_and(|s| s.success()));
    assert_eq!(lines.rest(LINE_WAIT), vec!["after\n".to_owned()]);
}

#[test]
fn grep_follow_prints_only_matching_lines_old_and_new() {
    let ws = TestWs::new();
    let r = ws.start(&gated(
        "echo 'ERROR one'; echo fine; echo 'ERROR two'",
        "go",
        "echo still fine; echo 'ERROR three'; printf 'ERR'; \
         while [ ! -e go2 ]; do sleep 0.02; done; printf 'OR four'",
    ));
    wait_until("the first lines", LINE_WAIT, || {
        ws.output(&r.id).contains("two")
    });
    let mut follower = spawn_cli(&ws, ["output", &r.id, "--grep", "^ERROR", "--follow"]);
    let lines = follower.stdout_lines();
    assert_eq!(lines.next(LINE_WAIT).as_deref(), Some("ERROR one\n"));
    assert_eq!(lines.next(LINE_WAIT).as_deref(), Some("ERROR two\n"));
    assert_eq!(lines.next(Duration::from_millis(300)), None);
    std::fs::write(ws.path().join("go"), "").unwrap();
    // The first piece of a line is on disk (and seen by the follower) before the rest is written.
    wait_until("the first piece of the last line", LINE_WAIT, || {
        ws.output(&r.id).ends_with("ERROR three\nERR")
    });
    std::fs::write(ws.path().join("go2"), "").unwrap();
    assert!(follower
        .wait_timeout(LINE_WAIT)
        .is_some_and(|s| s.success()));
    // A line written in two pieces is matched whole.
    assert_eq!(
        lines.rest(LINE_WAIT),
        vec!["ERROR three\n".to_owned(), "ERROR four\n".to_owned()]
    );
}

#[test]
fn follow_of_a_finished_process_prints_everything_and_exits() {
    let ws = TestWs::new();
    let r = ws.start("seq 1 5; exit 3");
    ws.wait(&r.id);
    let out = ws.cli(["output", &r.id, "--follow"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n2\n3\n4\n5\n");
    let out = ws.cli(["output", &r.id, "--tail", "2", "--follow"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "4\n5\n");
    // JSON: chunks with offsets, then the final record.
    let out = ws.ok(["--json", "output", &r.id, "--follow"]);
    let values: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&out)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("JSON values");
    assert_eq!(values[0]["offset"], 0);
    assert_eq!(values[0]["content"], "1\n2\n3\n4\n5\n");
    let end = &values.last().unwrap()["end"];
    assert_eq!(end["status"], "error");
    assert_eq!(end["exitCode"], 3);
}

#[test]
fn follow_ends_when_the_process_is_stopped_by_another_cli() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let r = ws.start_with(&["--grace", "0.3"], &format!("echo up; sleep {m}"));
    let mut follower = spawn_cli(&ws, ["output", &r.id, "--follow"]);
    let lines = follower.stdout_lines();
    assert_eq!(lines.next(LINE_WAIT).as_deref(), Some("up\n"));
    ws.stop(&r.id, "0.3");
    assert!(
        follower
            .wait_timeout(LINE_WAIT)
            .is_some_and(|s| s.success()),
        "follow did not end with the process"
    );
}

#[test]
fn follow_delivers_a_lot_of_output_completely_and_in_order() {
    let ws = TestWs::new();
    let r = ws.start(&gated("true", "go", "seq 1 200000"));
    let mut follower = spawn_cli(&ws, ["output", &r.id, "--follow"]);
    let lines = follower.stdout_lines();
    std::fs::write(ws.path().join("go"), "").unwrap();
    assert!(follower.wait_timeout(PATIENCE).is_some_and(|s| s.success()));
    let got = lines.rest(LINE_WAIT);
    assert_eq!(got.len(), 200_000);
    for (i, l) in got.iter().enumerate() {
        assert_eq!(l, &format!("{}\n", i + 1));
    }
}

/// CPU time (user + system, in clock ticks) a process has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn an_idle_follower_waits_without_spinning_even_after_rotation() {
    let ws = TestWs::new();
    // Rotated output (output.meta.json exists), then silence until the gate opens.
    let r = ws.start_with(
        &["--output-cap", "65536"],
        &gated("yes 0123456789 | head -c 400004", "go", "echo done"),
    );
    // Rotation runs beside the capture, so the first drop is seen while output still arrives:
    // wait for all of it, so that what follows the tail is only what the gate lets through.
    wait_until("rotation and the whole output", LINE_WAIT, || {
        let record = ws.record(&r.id);
        record.dropped_bytes > 0 && record.output_size_bytes >= 400_004
    });
    let mut follower = spawn_cli(&ws, ["output", &r.id, "--tail", "1", "--follow"]);
    let lines = follower.stdout_lines();
    assert!(lines.next(LINE_WAIT).is_some(), "nothing followed");
    std::thread::sleep(Duration::from_millis(200));
    let before = cpu_ticks(follower.pid());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(follower.pid()) - before;
    // A clock tick is 10 ms: a spinning follower uses ~100 per second.
    assert!(
        used <= 20,
        "an idle follower used {used} ticks of CPU in 1 s"
    );
    std::fs::write(ws.path().join("go"), "").unwrap();
    assert!(follower
        .wait_timeout(LINE_WAIT)
        .is_some_and(|s| s.success()));
    assert_eq!(lines.rest(LINE_WAIT), vec!["done\n".to_owned()]);
}

#[test]
fn follow_ends_when_the_shim_dies_without_a_word() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let r = ws.start(&format!("echo up; sleep {m}"));
    let mut follower = spawn_cli(&ws, ["output", &r.id, "--follow"]);
    let lines = follower.stdout_lines();
    assert_eq!(lines.next(LINE_WAIT).as_deref(), Some("up\n"));
    let shim = ws.shim_ids(&r.id);
    assert!(procdeck_engine::platform::signal_verified(
        shim.shim_pid,
        shim.shim_start_time,
        procdeck_engine::platform::Signal::Kill
    ));
    assert!(
        follower.wait_timeout(LINE_WAIT).is_some(),
        "follow kept waiting on a process whose shim is gone"
    );
    assert_eq!(ws.record(&r.id).status, procdeck_engine::Status::Lost);
}
