//! The CLI on Windows, the subset of the suite that does not depend on bash, Unix signals or
//! `/proc`: start, list, output (head, tail, grep, follow), stop of a tree that ignores
//! Ctrl-Break, listening ports, rm, concurrent starts and bad inputs. Commands run through
//! `cmd.exe`. `scripts/wine-tests.sh` runs it under Wine, with `PROCDECK_IGNORE_BREAK` naming a
//! helper that ignores Ctrl-Break and Ctrl-C, and listens on a port when asked
//! (`scripts/wine/ignore_break.c`).

#![cfg(windows)]

mod common;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use procdeck_engine::ports::{listening_ports, who_listens_on};
use procdeck_engine::{platform, Status};

/// The helper that ignores Ctrl-Break; with an argument it starts a second one, its child.
fn ignore_break() -> PathBuf {
    let path = std::env::var_os("PROCDECK_IGNORE_BREAK")
        .map(PathBuf::from)
        .expect("PROCDECK_IGNORE_BREAK names the helper (scripts/wine-tests.sh builds it)");
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

/// Waits until the output of `id` holds `n` lines starting with `prefix`, and returns them.
fn lines_with(ws: &TestWs, id: &str, prefix: &str, n: usize) -> Vec<String> {
    let mut found = Vec::new();
    wait_until(
        &format!("{n} lines starting with {prefix:?}"),
        PATIENCE,
        || {
            found = ws
                .output(id)
                .lines()
                .filter(|l| l.starts_with(prefix))
                .map(|l| l.trim().to_owned())
                .collect();
            found.len() >= n
        },
    );
    found
}

#[test]
fn a_command_runs_through_cmd_and_its_output_and_exit_are_recorded() {
    let ws = TestWs::new();
    let rec = ws.start("echo hello & echo world & exit 3");
    assert!(id_is_well_formed(&rec.id), "{}", rec.id);
    let done = ws.wait(&rec.id);
    assert_eq!(done.status, Status::Error, "{done:?}");
    assert_eq!(done.exit_code, Some(3));
    let out = ws.output(&rec.id);
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    assert_eq!(lines, ["hello", "world"], "{out:?}");
    let listed = ws.list();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, rec.id);
    let table = ws.ok(["list", "--all"]);
    assert!(table.contains(&rec.id), "{table}");
}

#[test]
fn several_words_are_quoted_for_cmd() {
    let ws = TestWs::new();
    // `procdeck start -- echo "a & b"`: the operator inside the word stays text.
    let out = ws.cli(["--json", "start", "--", "echo", "a & b"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rec: procdeck_engine::ProcessRecord =
        serde_json::from_slice(&out.stdout).expect("a record");
    ws.wait(&rec.id);
    let text = ws.output(&rec.id);
    assert!(text.contains("a & b"), "{text:?}");
}

#[test]
fn head_tail_grep_and_follow_read_the_output() {
    let ws = TestWs::new();
    let rec = ws.start("for /L %i in (1,1,50) do @echo line %i");
    ws.wait(&rec.id);
    let head = ws.ok(["output", &rec.id, "--head", "2"]);
    assert_eq!(
        head.lines().map(str::trim_end).collect::<Vec<_>>(),
        ["line 1", "line 2"]
    );
    let tail = ws.ok(["output", &rec.id, "--tail", "2"]);
    assert_eq!(
        tail.lines().map(str::trim_end).collect::<Vec<_>>(),
        ["line 49", "line 50"]
    );
    let grep = ws.ok(["output", &rec.id, "--grep", "^line 4[0-2]\\b"]);
    let matched: Vec<&str> = grep.lines().collect();
    assert_eq!(matched.len(), 3, "{grep}");
    assert!(matched.iter().all(|l| l.contains("line 4")), "{grep}");

    // Follow ends by itself once the process has ended and everything is printed.
    let slow = ws.start(&format!(
        "echo first & \"{}\" & echo never",
        ignore_break().display()
    ));
    let mut follower = spawn_cli(&ws, ["output", &slow.id, "--follow"]);
    let lines = follower.stdout_lines();
    assert_eq!(
        lines.next(PATIENCE).map(|l| l.trim().to_owned()),
        Some("first".to_owned())
    );
    ws.stop(&slow.id, "0");
    assert!(
        follower.wait_timeout(PATIENCE).is_some(),
        "follow ended with the process"
    );
}

#[test]
fn stop_ends_a_tree_that_ignores_ctrl_break_after_the_grace() {
    let ws = TestWs::new();
    // cmd → ignore_break (child) → ignore_break (grandchild): both ignore Ctrl-Break.
    let rec = ws.start(&format!("\"{}\" child", ignore_break().display()));
    let pids: Vec<u32> = lines_with(&ws, &rec.id, "ignoring ", 2)
        .iter()
        .filter_map(|l| l.trim_start_matches("ignoring ").parse().ok())
        .collect();
    assert_eq!(pids.len(), 2, "{pids:?}");
    let starts: Vec<u64> = pids
        .iter()
        .map(|&p| platform::start_time(p).expect("the helper runs"))
        .collect();
    let t = Instant::now();
    let done = ws.stop(&rec.id, "1.5");
    let took = t.elapsed();
    assert_eq!(done.status, Status::Stopped, "{done:?}");
    assert!(
        took >= Duration::from_millis(1400),
        "the grace was given before the tree was ended ({took:?})"
    );
    for (&pid, &start) in pids.iter().zip(&starts) {
        assert!(!platform::is_alive(pid, start), "{pid} survived the stop");
    }
    let exit: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.process_dir(&rec.id).join("exit.json")).expect("exit.json"),
    )
    .expect("exit.json is JSON");
    assert_eq!(exit["survivors"], serde_json::json!([]), "{exit}");
    assert_eq!(exit["stopRequested"], serde_json::json!(true), "{exit}");
}

/// `ERROR_INTERNAL_ERROR`, which Wine's CreateProcess returns now and then under a burst of
/// process creation.
const WINE_INTERNAL_ERROR: i32 = 1359;

/// Wine installs its own tools in the system folder; Windows has no `winecfg.exe`.
fn under_wine() -> bool {
    std::path::Path::new(r"C:\windows\system32\winecfg.exe").is_file()
}

#[test]
fn a_command_that_takes_ctrl_break_ends_before_the_grace() {
    let ws = TestWs::new();
    // `ping` waits between its echoes and ends on Ctrl-Break like most console programs.
    let rec = ws.start("echo up & ping -n 600 127.0.0.1");
    lines_with(&ws, &rec.id, "up", 1);
    let grace = Duration::from_secs(5);
    let t = Instant::now();
    let done = ws.stop(&rec.id, "5");
    let took = t.elapsed();
    assert_eq!(done.status, Status::Stopped, "{done:?}");
    if under_wine() {
        // Wine 8 attaches to the command's console but fails GenerateConsoleCtrlEvent with
        // ERROR_INVALID_HANDLE, so nothing is asked: the Job Object ends the tree once the
        // grace has passed. On Windows the tree ends on the Ctrl-Break, before the grace.
        assert!(took >= grace, "under Wine the grace passes ({took:?})");
    } else {
        assert!(
            took < grace,
            "Ctrl-Break ended the tree before the grace ({took:?})"
        );
    }
}

#[test]
fn the_port_a_tree_listens_on_is_found_with_its_holder() {
    let ws = TestWs::new();
    let rec = ws.start(&format!("\"{}\" listen", ignore_break().display()));
    let said = lines_with(&ws, &rec.id, "listening ", 1);
    let port: u16 = said[0]
        .trim_start_matches("listening ")
        .parse()
        .expect("a port number");
    let holder: u32 = lines_with(&ws, &rec.id, "ignoring ", 1)[0]
        .trim_start_matches("ignoring ")
        .parse()
        .expect("a pid");
    let shim = ws.shim_ids(&rec.id);
    if under_wine() {
        // Wine 8's GetExtendedTcpTable lists the socket but gives 0 as every owner's pid: the
        // port is seen, its holder is not, so no tree is found listening on it.
        let mut owner = None;
        wait_until("the port is listed", PATIENCE, || {
            owner = who_listens_on(port);
            owner.is_some()
        });
        let owner = owner.expect("listed");
        assert_eq!(
            (owner.address.as_str(), owner.pid),
            ("127.0.0.1", None),
            "{owner:?}"
        );
        assert_eq!(listening_ports(shim.shim_pid), [], "Wine names no holder");
    } else {
        let mut found = Vec::new();
        wait_until("the tree's port is listed", PATIENCE, || {
            found = listening_ports(shim.shim_pid);
            !found.is_empty()
        });
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].port, found[0].pid), (port, holder), "{found:?}");
        assert_eq!(found[0].address, "127.0.0.1");
        let owner = who_listens_on(port).expect("the port has an owner");
        assert_eq!(owner.pid, Some(holder), "{owner:?}");
        assert!(
            owner
                .command
                .as_deref()
                .is_some_and(|c| c.contains("ignore_break")),
            "{owner:?}"
        );
    }
    ws.stop(&rec.id, "0");
    assert!(
        who_listens_on(port).is_none(),
        "the port was freed with the tree"
    );
}

/// The cap frees the start of the output in a sparse file (`FSCTL_SET_ZERO_DATA`). Wine 8 marks
/// a file sparse but answers `ERROR_NOT_SUPPORTED` to zeroing a range, so under Wine the shim
/// finds the cap cannot be kept and keeps the output whole; on Windows the start is dropped.
#[test]
fn the_output_cap_keeps_the_newest_output_where_the_file_system_frees_ranges() {
    const CAP: u64 = 65_536;
    let ws = TestWs::new();
    let rec = ws.start_with(
        &["--output-cap", "65536"],
        "for /L %i in (1,1,20000) do @echo line %i",
    );
    let done = ws.wait(&rec.id);
    assert_eq!(done.status, Status::Stopped, "{done:?}");
    let total = done.output_size_bytes;
    assert!(total > 3 * CAP, "only {total} bytes were written");
    let tail = ws.ok(["output", &rec.id, "--tail", "1"]);
    assert_eq!(tail.trim_end(), "line 20000");
    let head = ws.ok(["output", &rec.id, "--head", "1"]);
    if under_wine() {
        assert_eq!(done.dropped_bytes, 0, "{done:?}");
        assert_eq!(head.trim_end(), "line 1");
        return;
    }
    let kept = total - done.dropped_bytes;
    assert!(
        done.dropped_bytes > 0,
        "nothing was dropped of {total} bytes"
    );
    assert!(kept <= CAP, "kept {kept} bytes, more than the cap");
    assert!(head.starts_with("line "), "{head:?}");
    assert_ne!(head.trim_end(), "line 1", "the first line is dropped");
}

#[test]
fn rm_stops_and_removes_the_record_and_its_folder() {
    let ws = TestWs::new();
    let rec = ws.start(&format!("\"{}\"", ignore_break().display()));
    lines_with(&ws, &rec.id, "ignoring ", 1);
    ws.ok(["rm", &rec.id]);
    assert!(ws.list().is_empty());
    assert!(!ws.process_dir(&rec.id).exists());
}

#[test]
fn twenty_concurrent_starts_make_twenty_records() {
    let ws = TestWs::new();
    let children: Vec<std::process::Child> = (0..20)
        .map(|i| {
            let mut cli = ws.command(["--json", "start", "--", &format!("echo run {i}")]);
            cli.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            match cli.spawn() {
                // Wine 8's CreateProcess sometimes fails with ERROR_INTERNAL_ERROR in a burst of
                // process creation (once in about fifteen runs of this suite, here in the
                // test's own spawn of the CLI); Windows does not. Under Wine the test's spawn
                // is tried once more; the CLI's own starts are not retried by anything.
                Err(e) if under_wine() && e.raw_os_error() == Some(WINE_INTERNAL_ERROR) => {
                    std::thread::sleep(Duration::from_millis(100));
                    cli.spawn()
                }
                spawned => spawned,
            }
            .expect("spawn procdeck")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait for procdeck");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let records = ws.list();
    assert_eq!(records.len(), 20, "{records:?}");
    assert_eq!(ids(&records).len(), 20);
    for r in &records {
        let done = ws.wait(&r.id);
        assert_eq!(done.status, Status::Stopped, "{done:?}");
    }
}

#[test]
fn bad_inputs_are_one_error_line() {
    let ws = TestWs::new();
    ws.fails(["output", "proc_2026-01-01T0000_abcdef"]);
    ws.fails(["stop", "..\\..\\windows"]);
    ws.fails(["start", "--", ""]);
    ws.fails(["start", "--env", "A B=1", "--", "echo x"]);
    ws.fails(["stop", "x", "--grace", "-1"]);
    let missing = ws.path().join("missing");
    ws.fails([
        OsStr::new("start"),
        OsStr::new("--cwd"),
        missing.as_os_str(),
        OsStr::new("--"),
        OsStr::new("echo x"),
    ]);
}
