//! Stopping a whole tree (SIGTERM, then SIGKILL after the grace period), rm and close.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use procdeck_engine::Status;

/// A grace period no stop in these tests may wait for: a stop that ends well before half of it
/// did not wait for it, however loaded the machine.
const LONG_GRACE: &str = "120";
const WELL_BEFORE_LONG_GRACE: Duration = Duration::from_secs(60);

/// A tree that escapes a plain group kill: a background child, a double-forked `setsid` child,
/// and a child that ignores SIGTERM. Returns the command and the three sleeps' command lines.
fn nasty_tree(m: &str) -> (String, [String; 3]) {
    let base: u64 = m.parse().unwrap();
    let (a, b, c) = (base + 1, base + 2, base + 3);
    let cmd = format!(
        "sleep {a} & (setsid sleep {b} & {ORPHAN_HANDOFF}) ; bash -c \"trap '' TERM; exec sleep {c}\" & wait"
    );
    (
        cmd,
        [
            format!("sleep {a}"),
            format!("sleep {b}"),
            format!("sleep {c}"),
        ],
    )
}

fn wait_for_all(sleeps: &[String]) {
    wait_until("every sleep of the tree to run", PATIENCE, || {
        sleeps.iter().all(|s| processes_exactly(s).len() == 1)
    });
}

#[test]
fn stop_leaves_zero_survivors_of_a_nasty_tree() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard::block(&m);
    let (cmd, sleeps) = nasty_tree(&m);
    let r = ws.start_with(&["--grace", "0.3"], &cmd);
    wait_for_all(&sleeps);
    let pids: Vec<u32> = sleeps.iter().map(|s| processes_exactly(s)[0]).collect();
    let main = r.pid.unwrap();
    assert!(alive(main));

    let stopped = ws.stop(&r.id, "0.3");

    assert_eq!(stopped.status, Status::Stopped, "{stopped:?}");
    assert!(stopped.stop_requested);
    assert!(stopped.stopped_at.is_some());
    assert!(stopped.stopping_since.is_none());
    for (line, pid) in sleeps.iter().zip(&pids) {
        assert!(!alive(*pid), "{line} (pid {pid}) survived the stop");
        assert!(
            processes_exactly(line).is_empty(),
            "{line} survived the stop"
        );
    }
    assert!(!alive(main), "the main bash survived");
    let shim = ws.shim_ids(&r.id);
    assert!(
        !alive(shim.shim_pid),
        "the shim is still running after the stop returned"
    );
    assert!(
        processes_with_block(&m).is_empty(),
        "something of the tree survived: {:?}",
        processes_with_block(&m)
    );
    let exit = std::fs::read_to_string(ws.process_dir(&r.id).join("exit.json")).unwrap();
    assert!(exit.contains("\"survivors\": []"), "{exit}");
    assert!(exit.contains("\"stopRequested\": true"), "{exit}");
}

#[test]
fn default_grace_is_two_seconds_before_sigkill() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard::block(&m);
    let (cmd, sleeps) = nasty_tree(&m);
    let r = ws.start(&cmd);
    assert_eq!(r.stop_grace_ms, 2000);
    wait_for_all(&sleeps);
    let started = Instant::now();
    let stopped: procdeck_engine::ProcessRecord =
        serde_json::from_str(&ws.ok(["--json", "stop", &r.id])).unwrap();
    let took = started.elapsed();
    assert_eq!(stopped.status, Status::Stopped);
    // The TERM-ignoring sleep only goes at SIGKILL, 2 s after SIGTERM.
    assert!(
        took >= Duration::from_millis(1900),
        "stopped after {took:?}: SIGKILL came before the 2 s grace"
    );
    for line in &sleeps {
        assert!(processes_exactly(line).is_empty(), "{line} survived");
    }
}

#[test]
fn grace_is_configurable_at_start_and_at_stop() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard::block(&m);
    let base: u64 = m.parse().unwrap();
    let stubborn = |n: u64| format!("bash -c \"trap '' TERM; exec sleep {n}\" & wait");

    // A long grace given at start is what a plain stop uses...
    let long = ws.start_with(&["--grace", LONG_GRACE], &stubborn(base + 1));
    assert_eq!(long.stop_grace_ms, 120_000);
    // ...and one of 3 s (not the default 2 s) makes a plain stop take 3 s: a lower bound, which
    // no load can break, tells it from the default.
    let short = ws.start_with(&["--grace", "3"], &stubborn(base + 2));
    assert_eq!(short.stop_grace_ms, 3000);
    wait_until("the sleeps", PATIENCE, || {
        processes_exactly(&format!("sleep {}", base + 1)).len() == 1
            && processes_exactly(&format!("sleep {}", base + 2)).len() == 1
    });

    let t = Instant::now();
    let r: procdeck_engine::ProcessRecord =
        serde_json::from_str(&ws.ok(["--json", "stop", &short.id])).unwrap();
    let took = t.elapsed();
    assert_eq!(r.status, Status::Stopped);
    assert!(
        took >= Duration::from_millis(2900) && took < WELL_BEFORE_LONG_GRACE,
        "a 3 s grace from start took {took:?}"
    );

    // `stop --grace` overrides the long grace of the start.
    let t = Instant::now();
    let r = ws.stop(&long.id, "0.3");
    let took = t.elapsed();
    assert_eq!(r.status, Status::Stopped);
    assert!(
        took < WELL_BEFORE_LONG_GRACE,
        "stop --grace 0.3 took {took:?} (the start's grace was used?)"
    );
    assert!(processes_exactly(&format!("sleep {}", base + 1)).is_empty());

    // Zero kills at once; the TERM-ignoring process does not delay it.
    let now = ws.start_with(&["--grace", LONG_GRACE], &stubborn(base + 3));
    wait_until("the sleep", PATIENCE, || {
        processes_exactly(&format!("sleep {}", base + 3)).len() == 1
    });
    let t = Instant::now();
    assert_eq!(ws.stop(&now.id, "0").status, Status::Stopped);
    assert!(t.elapsed() < WELL_BEFORE_LONG_GRACE, "{:?}", t.elapsed());
    assert!(processes_exactly(&format!("sleep {}", base + 3)).is_empty());
}

#[test]
fn a_process_that_handles_sigterm_can_clean_up_and_its_output_is_kept() {
    let ws = TestWs::new();
    let r = ws.start_with(
        &["--grace", LONG_GRACE],
        "trap 'echo cleaning up; exit 0' TERM; echo ready; while :; do sleep 0.05; done",
    );
    wait_until("ready", PATIENCE, || ws.output(&r.id).contains("ready"));
    let t = Instant::now();
    let stopped = ws.stop(&r.id, LONG_GRACE);
    assert!(
        t.elapsed() < WELL_BEFORE_LONG_GRACE,
        "the process exited on SIGTERM; the stop should not wait for the grace"
    );
    assert_eq!(stopped.status, Status::Stopped);
    assert_eq!(stopped.exit_code, Some(0));
    // (bash may also report its `sleep` child as Terminated: the whole tree got SIGTERM.)
    let out = ws.output(&r.id);
    assert!(
        out.starts_with("ready\n") && out.ends_with("cleaning up\n"),
        "{out:?}"
    );
}

#[test]
fn stopping_a_finished_process_is_a_no_op_returning_its_record() {
    let ws = TestWs::new();
    let r = ws.start("exit 5");
    let done = ws.wait(&r.id);
    assert_eq!(done.status, Status::Error);
    let index_before = std::fs::read(ws.index_path()).unwrap();
    let again = ws.stop(&r.id, "0.3");
    assert_eq!(again.status, Status::Error);
    assert_eq!(again.exit_code, Some(5));
    assert_eq!(again.stopped_at, done.stopped_at);
    assert!(!again.stop_requested);
    assert_eq!(again, ws.stop(&r.id, "0.3"));
    assert_eq!(std::fs::read(ws.index_path()).unwrap(), index_before);
    assert!(!ws.process_dir(&r.id).join("stop.json").exists());

    // Human output of stop is the table.
    let table = ws.ok(["stop", &r.id]);
    assert!(
        table.contains(&r.id) && table.contains("error (5)"),
        "{table}"
    );
}

#[test]
fn rm_stops_then_deletes_record_and_folder() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard::block(&m);
    let (cmd, sleeps) = nasty_tree(&m);
    // rm uses the process's own grace period.
    let running = ws.start_with(&["--grace", "0.3"], &cmd);
    let keep = ws.start("echo keep");
    let finished = ws.start("echo done");
    ws.wait(&finished.id);
    ws.wait(&keep.id);
    wait_for_all(&sleeps);
    let shim = ws.shim_ids(&running.id);

    let out = ws.json(["rm", &running.id]);
    assert_eq!(out["id"], running.id.as_str());
    assert_eq!(out["removed"], true);
    for line in &sleeps {
        assert!(processes_exactly(line).is_empty(), "{line} survived rm");
    }
    assert!(!alive(shim.shim_pid));
    assert!(
        !ws.process_dir(&running.id).exists(),
        "folder kept after rm"
    );

    let text = ws.ok(["rm", &finished.id]);
    assert!(text.contains(&format!("removed {}", finished.id)), "{text}");
    assert!(!ws.process_dir(&finished.id).exists());

    let left = ws.list();
    assert_eq!(ids(&left), [keep.id.clone()].into_iter().collect());
    let index = ws.raw_index();
    assert_eq!(index.as_array().unwrap().len(), 1);
    // No trash is left behind in processes/.
    let entries: Vec<String> = std::fs::read_dir(ws.store().join("processes"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, vec![keep.id.clone()]);

    // Removing it again: unknown id.
    let err = ws.fails(["rm", &running.id]);
    assert!(err.contains("no process with id"), "{err}");
    let err = ws.fails(["output", &finished.id]);
    assert!(err.contains("no process with id"), "{err}");
}

#[test]
fn close_stops_every_running_process_and_keeps_history() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard::block(&m);
    let base: u64 = m.parse().unwrap();
    let finished = ws.start("exit 2");
    ws.wait(&finished.id);
    // Two processes that note SIGTERM in a file and keep running through a long grace.
    let noting = |name: &str, n: u64| {
        format!("trap 'touch {name}.term' TERM; echo ready; while :; do sleep {n}; done")
    };
    let a = ws.start_with(&["--grace", LONG_GRACE], &noting("a", base + 1));
    let b = ws.start_with(&["--grace", LONG_GRACE], &noting("b", base + 2));
    let (cmd, sleeps) = nasty_tree(&(base + 4).to_string());
    let c = ws.start_with(&["--grace", "0.3"], &cmd);
    wait_for_all(&sleeps);
    wait_until("the noting processes to be ready", PATIENCE, || {
        [&a, &b].iter().all(|r| ws.output(&r.id).contains("ready"))
    });

    let mut close = spawn_cli(&ws, ["--json", "close"]);
    // The stops run side by side: both get SIGTERM while the other waits out its grace (one
    // after the other, the second SIGTERM would come only after the first grace).
    wait_until("SIGTERM to reach both", PATIENCE, || {
        ["a.term", "b.term"]
            .iter()
            .all(|f| ws.path().join(f).exists())
    });
    for r in [&a, &b] {
        assert_eq!(ws.stop(&r.id, "0").status, Status::Stopped);
    }
    let status = close
        .wait_timeout(PATIENCE)
        .expect("close ends with its processes");
    let mut text = String::new();
    std::io::Read::read_to_string(close.child.stdout.as_mut().unwrap(), &mut text).unwrap();
    assert!(status.success(), "{}", close.stderr_text());
    let closed: Vec<procdeck_engine::ProcessRecord> = serde_json::from_str(&text).unwrap();
    assert_eq!(
        ids(&closed),
        [a.id.clone(), b.id.clone(), c.id.clone()]
            .into_iter()
            .collect()
    );
    assert!(closed.iter().all(|r| r.status == Status::Stopped));
    assert!(
        processes_with_block(&m).is_empty(),
        "survivors: {:?}",
        processes_with_block(&m)
    );

    let list = ws.list();
    assert_eq!(list.len(), 4, "close keeps the history");
    for r in &list {
        if r.id == finished.id {
            assert_eq!((r.status, r.exit_code), (Status::Error, Some(2)));
        } else {
            assert_eq!(r.status, Status::Stopped, "{r:?}");
            assert!(r.stop_requested);
        }
    }
    // Closing again with nothing running is fine and stops nothing.
    let again: Vec<procdeck_engine::ProcessRecord> =
        serde_json::from_str(&ws.ok(["--json", "close"])).unwrap();
    assert!(again.is_empty());
    assert_eq!(ws.ok(["close"]).trim(), "no processes");
}

#[test]
fn sigterm_reaches_every_process_of_the_tree_before_any_sigkill() {
    let ws = TestWs::new();
    // Each part of the tree says when it gets SIGTERM and exits: the main bash, a child in its
    // group, and a `setsid` grandchild in a session of its own.
    let catcher = |who: &str| {
        format!("trap 'echo {who} got TERM; exit 0' TERM; echo {who} ready; while :; do sleep 0.05; done")
    };
    let cmd = format!(
        "(setsid bash -c \"{}\" & {ORPHAN_HANDOFF}); bash -c \"{}\" & {}",
        catcher("orphan"),
        catcher("child"),
        catcher("main")
    );
    let r = ws.start_with(&["--grace", LONG_GRACE], &cmd);
    wait_until("every part to be ready", PATIENCE, || {
        let out = ws.output(&r.id);
        ["orphan ready", "child ready", "main ready"]
            .iter()
            .all(|s| out.contains(s))
    });
    let t = Instant::now();
    let stopped = ws.stop(&r.id, LONG_GRACE);
    assert!(
        t.elapsed() < WELL_BEFORE_LONG_GRACE,
        "everything exits on SIGTERM; the stop must not wait for the grace ({:?})",
        t.elapsed()
    );
    assert_eq!(stopped.status, Status::Stopped);
    let out = ws.output(&r.id);
    for who in ["orphan", "child", "main"] {
        assert!(out.contains(&format!("{who} got TERM")), "{who}: {out}");
    }
}

#[test]
fn a_main_process_that_ignores_sigterm_is_killed_and_the_stop_is_still_stopped() {
    let ws = TestWs::new();
    let r = ws.start_with(
        &["--grace", "0.3"],
        "trap '' TERM; echo ready; while :; do sleep 0.05; done",
    );
    wait_until("ready", PATIENCE, || ws.output(&r.id).contains("ready"));
    let pid = r.pid.unwrap();
    let stopped = ws.stop(&r.id, "0.3");
    assert_eq!(
        stopped.status,
        Status::Stopped,
        "a requested stop is not an error"
    );
    assert_eq!(stopped.signal, Some(libc::SIGKILL));
    assert!(stopped.stop_requested);
    assert!(!alive(pid));
}

#[test]
fn a_second_stop_during_the_grace_period_can_shorten_it() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let r = ws.start_with(
        &["--grace", LONG_GRACE],
        &format!("bash -c \"trap '' TERM; exec sleep {m}\" & wait"),
    );
    wait_until("the sleep", PATIENCE, || {
        processes_exactly(&format!("sleep {m}")).len() == 1
    });
    // A slow stop in the background (the long grace)...
    let mut slow = spawn_cli(&ws, ["--json", "stop", r.id.as_str()]);
    wait_until("the stop to begin", PATIENCE, || {
        ws.record(&r.id).stopping_since.is_some()
    });
    let table = ws.ok(["list"]);
    assert!(table.contains("stopping"), "{table}");
    // ...and an impatient one.
    let t = Instant::now();
    let fast = ws.stop(&r.id, "0");
    assert!(t.elapsed() < WELL_BEFORE_LONG_GRACE, "{:?}", t.elapsed());
    assert_eq!(fast.status, Status::Stopped);
    assert!(processes_exactly(&format!("sleep {m}")).is_empty());
    assert!(
        slow.wait_timeout(PATIENCE).is_some_and(|s| s.success()),
        "the first stop must end with the process"
    );
}

#[test]
fn a_tree_that_keeps_forking_during_the_grace_period_is_still_ended() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard::block(&m);
    let base: u64 = m.parse().unwrap();
    // A main process that ignores SIGTERM and keeps starting sleeps, some in sessions of their
    // own, some ignoring SIGTERM too, and one that closed its output first.
    let cmd = format!(
        "trap '' TERM; exec >/dev/null 2>&1 < /dev/null; \
         while :; do setsid sleep {a} & bash -c \"trap '' TERM; exec sleep {b}\" & sleep {c} & sleep 0.02; done",
        a = base + 1,
        b = base + 2,
        c = base + 3
    );
    let r = ws.start_with(&["--grace", "0.5"], &cmd);
    wait_until("the sleeps to pile up", PATIENCE, || {
        processes_exactly(&format!("sleep {}", base + 2)).len() >= 5
    });
    let stopped = ws.stop(&r.id, "0.5");
    assert_eq!(stopped.status, Status::Stopped);
    let survivors = processes_with_block(&m);
    assert!(survivors.is_empty(), "survivors: {survivors:?}");
    let exit = std::fs::read_to_string(ws.process_dir(&r.id).join("exit.json")).unwrap();
    assert!(exit.contains("\"survivors\": []"), "{exit}");
}

#[test]
fn a_double_forked_orphan_in_a_session_of_its_own_is_stopped() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard::block(&m);
    let base: u64 = m.parse().unwrap();
    let (orphan, main) = (format!("sleep {}", base + 1), format!("sleep {}", base + 2));
    let r = ws.start_with(
        &["--grace", "0.3"],
        &format!("(setsid {orphan} & {ORPHAN_HANDOFF}); echo orphaned; exec {main}"),
    );
    wait_until("the orphan and the main sleep", PATIENCE, || {
        ws.output(&r.id).contains("orphaned")
            && processes_exactly(&orphan).len() == 1
            && processes_exactly(&main).len() == 1
    });
    let pid = processes_exactly(&orphan)[0];
    let shim = ws.shim_ids(&r.id);
    let stat = procdeck_engine::platform::stat(pid).expect("the orphan's stat");
    // Its own session, and its parent gone: only a subreaper makes the shim its parent.
    assert_eq!(stat.session, pid as i32);
    if cfg!(feature = "portable-posix") {
        assert_ne!(
            stat.ppid, shim.shim_pid,
            "the portable path adopted an orphan"
        );
    } else {
        assert_eq!(
            stat.ppid, shim.shim_pid,
            "the shim did not adopt the orphan"
        );
    }

    let stopped = ws.stop(&r.id, "0.3");

    assert_eq!(stopped.status, Status::Stopped, "{stopped:?}");
    assert!(!alive(pid), "the orphan (pid {pid}) survived the stop");
    let survivors = processes_with_block(&m);
    assert!(survivors.is_empty(), "survivors: {survivors:?}");
    let exit = std::fs::read_to_string(ws.process_dir(&r.id).join("exit.json")).unwrap();
    assert!(exit.contains("\"survivors\": []"), "{exit}");
}

/// Sends `signal` to the shim of `id` as a user or a terminal would.
fn signal_shim(ws: &TestWs, id: &str, signal: libc::c_int) {
    let shim = ws.shim_ids(id);
    assert!(procdeck_engine::platform::is_alive(
        shim.shim_pid,
        shim.shim_start_time
    ));
    // SAFETY: the shim of this test's process, proven by its start time just above.
    assert_eq!(unsafe { libc::kill(shim.shim_pid as i32, signal) }, 0);
}

#[test]
fn the_shim_stops_on_sigint_and_sighup_with_the_grace_and_on_sigusr1_at_once() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard::block(&m);
    let base: u64 = m.parse().unwrap();
    let stubborn = |n: u64| format!("bash -c \"trap '' TERM; exec sleep {n}\" & wait");
    let run = |n: u64, grace: &str| {
        let r = ws.start_with(&["--grace", grace], &stubborn(n));
        wait_until("the sleep", PATIENCE, || {
            processes_exactly(&format!("sleep {n}")).len() == 1
        });
        r
    };

    // SIGINT and SIGHUP stop like SIGTERM: the grace first (the sleep ignores SIGTERM, so it
    // only goes at SIGKILL), and the stop is recorded as requested.
    for (n, signal) in [(base + 1, libc::SIGINT), (base + 2, libc::SIGHUP)] {
        let r = run(n, "1.5");
        let t = Instant::now();
        signal_shim(&ws, &r.id, signal);
        let done = ws.wait(&r.id);
        let took = t.elapsed();
        assert_eq!(done.status, Status::Stopped, "{done:?}");
        assert!(done.stop_requested, "{done:?}");
        assert!(
            took >= Duration::from_millis(1400),
            "signal {signal}: SIGKILL came {took:?} after, before the 1.5 s grace"
        );
        assert!(processes_exactly(&format!("sleep {n}")).is_empty());
    }

    // SIGUSR1 stops without the grace.
    let r = run(base + 3, LONG_GRACE);
    let t = Instant::now();
    signal_shim(&ws, &r.id, libc::SIGUSR1);
    let done = ws.wait(&r.id);
    assert!(
        t.elapsed() < WELL_BEFORE_LONG_GRACE,
        "SIGUSR1 waited for the grace ({:?})",
        t.elapsed()
    );
    assert_eq!(done.status, Status::Stopped, "{done:?}");
    assert!(done.stop_requested, "{done:?}");
    assert!(processes_exactly(&format!("sleep {}", base + 3)).is_empty());
}
