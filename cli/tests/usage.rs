//! What running processes cost: the CPU and memory of each one's whole tree, in `procdeck list`
//! and through the engine, measured on real processes under real shims.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use procdeck_engine::{platform, UsageSampler, Workspace};

const MIB: u64 = 1024 * 1024;

/// A process that keeps one core busy, as the command's child (bash stays its parent).
const BUSY: &str = "sh -c 'while :; do :; done' & wait";

/// A grandchild of the shim (under `bash -c`) that holds 200 MiB it has written to, then says so.
const ALLOCATE: &str = r#"python3 -c 'import time; b = bytearray(200 * 1024 * 1024); b[::4096] = b"\x01" * (len(b) // 4096); print("allocated", flush=True); time.sleep(600)' & wait"#;

#[test]
fn list_shows_cpu_and_memory_of_running_processes() {
    let ws = TestWs::new();
    let busy = ws.start_with(&["--title", "busy"], BUSY);
    let idle = ws.start_with(&["--title", "idle"], "sleep 600");
    let done = ws.start_with(&["--title", "done"], "true");
    ws.wait(&done.id);
    wait_until("both trees to run", PATIENCE, || {
        [&busy.id, &idle.id]
            .iter()
            .all(|id| !platform::descendants(ws.shim_ids(id).shim_pid).is_empty())
    });

    let listed = ws.json(["list"]);
    let rows = listed.as_array().expect("an array");
    let row = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} listed: {listed}"))
    };
    let busy_cpu = row(&busy.id)["cpuPercent"].as_f64().expect("busy cpu");
    let idle_cpu = row(&idle.id)["cpuPercent"].as_f64().expect("idle cpu");
    // A spinning core; a loaded machine gives it less, never nothing.
    assert!(busy_cpu > 20.0, "busy: {busy_cpu}");
    assert!(idle_cpu < 10.0, "idle: {idle_cpu}");
    for id in [&busy.id, &idle.id] {
        let rss = row(id)["rssBytes"].as_u64().expect("rss");
        assert!(rss > 100 * 1024 && rss < 100 * MIB, "{id}: {rss}");
    }
    let ended = row(&done.id);
    assert!(
        ended.get("cpuPercent").is_none() && ended.get("rssBytes").is_none(),
        "{ended}"
    );

    let table = ws.ok(["list"]);
    let lines: Vec<&str> = table.lines().collect();
    let header = lines.first().expect("a header");
    let cpu_end = header.find("CPU").expect("CPU column") + "CPU".len();
    let mem_end = header.find("MEM").expect("MEM column") + "MEM".len();
    let line_of = |title: &str| {
        *lines
            .iter()
            .find(|l| l.trim_end().ends_with(title))
            .unwrap_or_else(|| panic!("{title} in\n{table}"))
    };
    // Numbers are right-aligned under their headers.
    for title in ["busy", "idle", "done"] {
        let line = line_of(title);
        assert_eq!(
            line.chars()
                .nth(cpu_end - 1)
                .map(|c| c.is_ascii_digit() || c == '%' || c == '-'),
            Some(true),
            "{table}"
        );
        assert!(
            line.get(..mem_end)
                .is_some_and(|l| l.ends_with('B') || l.ends_with('-')),
            "{table}"
        );
    }
    let busy_line = line_of("busy");
    let shown: f64 = busy_line[..cpu_end]
        .rsplit(' ')
        .next()
        .and_then(|c| c.strip_suffix('%'))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("a CPU figure in {busy_line:?}"));
    assert!(shown > 20.0, "{table}");
    assert!(line_of("done")[..mem_end].ends_with('-'), "{table}");

    ws.stop(&busy.id, "0");
    ws.stop(&idle.id, "0");
}

#[test]
fn memory_counts_the_whole_tree_down_to_the_grandchildren() {
    let ws = TestWs::new();
    let (engine, _) = Workspace::open(ws.path(), settings()).expect("open");
    let r = ws.start_with(&["--title", "allocate"], ALLOCATE);
    wait_until("the allocation", PATIENCE, || {
        ws.output(&r.id).contains("allocated")
    });
    // The memory is held by a grandchild of the shim: bash is between them.
    let shim = ws.shim_ids(&r.id).shim_pid;
    let page = platform::page_size().expect("page size");
    let (holder, held) = platform::descendants(shim)
        .into_iter()
        .filter_map(|p| platform::stat(p).map(|s| (s, s.rss_pages * page)))
        .max_by_key(|(_, bytes)| *bytes)
        .expect("a tree under the shim");
    assert!(held >= 200 * MIB, "{} MiB", held / MIB);
    assert_ne!(holder.ppid, shim, "the holder is a grandchild");

    let mut sampler = UsageSampler::new();
    let usage = engine
        .usage(&mut sampler, std::slice::from_ref(&r.id))
        .expect("usage");
    let rss = usage.get(&r.id).expect("measured").rss_bytes;
    assert!(rss >= 200 * MIB, "{} MiB", rss / MIB);
    assert!(rss < 400 * MIB, "{} MiB", rss / MIB);
    ws.stop(&r.id, "0");
    let after = engine
        .usage(&mut sampler, std::slice::from_ref(&r.id))
        .expect("usage");
    assert!(
        after.is_empty(),
        "an ended process costs nothing: {after:?}"
    );
}

/// A spinning process group that Procdeck did not start, killed whole when the test ends.
struct Stranger(std::process::Child);

impl Drop for Stranger {
    fn drop(&mut self) {
        // SAFETY: kill has no memory effects; the group is led by our unreaped child.
        unsafe { libc::kill(-(self.0.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

#[test]
fn a_process_that_is_not_the_records_is_never_measured() {
    let ws = TestWs::new();
    let (engine, _) = Workspace::open(ws.path(), settings()).expect("open");
    let real = ws.start_with(&["--title", "real"], "sleep 600");
    ws.shim_ids(&real.id);
    // A busy process with a child of its own, standing where a record's shim was.
    let stranger = Stranger(
        Command::new("sh")
            .args(["-c", "sh -c 'while :; do :; done' & wait"])
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn"),
    );
    let pid = stranger.0.id();
    let start = platform::start_time(pid).expect("start time");
    wait_until("the stranger's child", PATIENCE, || {
        !platform::descendants(pid).is_empty()
    });

    // Two records of this store naming it: one with an older start time (its pid was reused),
    // one with its real start time (a record written to point at it).
    let mut index = ws.raw_index();
    let original = index
        .as_array()
        .and_then(|a| a.iter().find(|r| r["id"] == real.id.as_str()))
        .expect("the real record")
        .clone();
    let forged = |id: &str, start_time: u64| {
        let mut r = original.clone();
        r["id"] = id.into();
        r["title"] = id.into();
        r["pid"] = pid.into();
        r["supervisor"]["shimPid"] = pid.into();
        r["supervisor"]["shimStartTime"] = start_time.into();
        r["supervisor"]["pidStartTime"] = start_time.into();
        r
    };
    let reused = "proc_2026-01-01T0000_aaaaaa";
    let pointed = "proc_2026-01-01T0000_bbbbbb";
    let entries = index.as_array_mut().expect("array");
    entries.push(forged(reused, start.saturating_sub(1)));
    entries.push(forged(pointed, start));
    ws.write_raw_index(&index);

    let ids = [real.id.clone(), reused.to_owned(), pointed.to_owned()];
    let mut sampler = UsageSampler::new();
    for _ in 0..2 {
        let usage = engine.usage(&mut sampler, &ids).expect("usage");
        assert!(usage.contains_key(&real.id), "{usage:?}");
        assert!(!usage.contains_key(reused), "{usage:?}");
        assert!(!usage.contains_key(pointed), "{usage:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let malformed = engine.usage(&mut sampler, &["../x".to_owned()]);
    assert!(malformed.is_err(), "{malformed:?}");
    ws.stop(&real.id, "0");
}
