//! Test harness: a temporary workspace folder, the real `procdeck` binary, and a guard that
//! ends every process a test started, even when the test fails.

#![allow(dead_code)]

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use procdeck_engine::{ProcessRecord, Settings, Status};

pub const BIN: &str = env!("CARGO_BIN_EXE_procdeck");

pub fn settings() -> Settings {
    Settings { shim_exe: Some(PathBuf::from(BIN)), ..Settings::default() }
}

/// A temporary workspace. Dropping it kills every shim that was started in it and everything
/// those shims supervise, by process group and by walking /proc.
pub struct TestWs {
    pub dir: tempfile::TempDir,
}

impl TestWs {
    pub fn new() -> TestWs {
        TestWs { dir: tempfile::Builder::new().prefix("procdeck-test-").tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn store(&self) -> PathBuf {
        self.path().join(".procdeck")
    }

    pub fn process_dir(&self, id: &str) -> PathBuf {
        self.store().join("processes").join(id)
    }

    /// Runs `procdeck -w <dir> ARGS`.
    pub fn cli<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Command::new(BIN).arg("-w").arg(self.path()).args(args).output().expect("run procdeck")
    }

    /// Runs the CLI and asserts success, returning stdout.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "procdeck failed: {}\nstdout: {}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs the CLI expecting failure; returns stderr after checking it is one `procdeck:` line.
    pub fn fails<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.cli(args);
        assert!(!out.status.success(), "expected failure, got: {}", String::from_utf8_lossy(&out.stdout));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_one_error_line(&err);
        err
    }

    pub fn start(&self, command: &str) -> ProcessRecord {
        self.start_with(&[], command)
    }

    pub fn start_with(&self, extra: &[&str], command: &str) -> ProcessRecord {
        let mut args = vec!["--json", "start"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", command]);
        serde_json::from_str(&self.ok(args)).expect("start prints a record")
    }

    pub fn record(&self, id: &str) -> ProcessRecord {
        let list: Vec<ProcessRecord> = serde_json::from_str(&self.ok(["--json", "list"])).expect("list json");
        list.into_iter().find(|r| r.id == id).expect("record listed")
    }

    pub fn wait(&self, id: &str) -> ProcessRecord {
        serde_json::from_str(&self.ok(["--json", "wait", id, "--timeout", "30"])).expect("wait json")
    }

    pub fn output(&self, id: &str) -> String {
        self.ok(["output", id])
    }

    /// Pids of every shim ever started here (from their shim.json files).
    fn shim_pids(&self) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(self.store().join("processes")) else { return out };
        for e in entries.flatten() {
            let Ok(text) = std::fs::read_to_string(e.path().join("shim.json")) else { continue };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
            let shim = v["shimPid"].as_u64().unwrap_or(0) as u32;
            let pid = v["pid"].as_u64().unwrap_or(0) as u32;
            out.push((shim, pid));
        }
        out
    }
}

impl Drop for TestWs {
    fn drop(&mut self) {
        for (shim, pid) in self.shim_pids() {
            kill_tree(shim);
            if pid > 0 {
                // SAFETY: the group of a command this test started.
                unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
            }
        }
    }
}

/// SIGKILLs `root` and all its descendants, children first found, until none are left.
pub fn kill_tree(root: u32) {
    if root == 0 || procdeck_engine::procinfo::stat(root).is_none() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut all = procdeck_engine::procinfo::descendants(root);
        all.push(root);
        let alive: Vec<u32> = all
            .into_iter()
            .filter(|p| procdeck_engine::procinfo::stat(*p).is_some_and(|s| s.state != 'Z'))
            .collect();
        if alive.is_empty() || Instant::now() > deadline {
            return;
        }
        for p in alive {
            // SAFETY: processes of a tree this test started.
            unsafe { libc::kill(p as i32, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn assert_one_error_line(stderr: &str) {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.contains("warning")).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got {stderr:?}");
    assert!(lines[0].starts_with("procdeck: "), "error line {:?} must start with `procdeck: `", lines[0]);
}

/// Living processes whose command line contains `marker` (used to find a test's own sleeps).
pub fn processes_with(marker: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return out };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let zombie = procdeck_engine::procinfo::stat(pid).is_some_and(|s| s.state == 'Z');
        if text.contains(marker) && !zombie && pid != std::process::id() {
            out.push(pid);
        }
    }
    out
}

/// Kills processes found by marker; for cleanup of trees that escaped in a failing test.
pub struct MarkerGuard(pub String);

impl Drop for MarkerGuard {
    fn drop(&mut self) {
        for pid in processes_with(&self.0) {
            // SAFETY: processes carrying this test's unique marker in their command line.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    }
}

/// A unique number for sleep durations, so a test can find exactly its own processes.
pub fn unique_marker() -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}", 100_000 + (n % 800_000) as u64 + std::process::id() as u64 % 1000)
}

pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn ids(records: &[ProcessRecord]) -> HashSet<String> {
    records.iter().map(|r| r.id.clone()).collect()
}

pub fn is_running(r: &ProcessRecord) -> bool {
    r.status == Status::Running
}
