//! Test harness: a temporary workspace folder, the real `procdeck` binary, and guards that end
//! every process a test started, even when the test fails.

#![allow(dead_code)]

use std::collections::HashSet;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use procdeck_engine::platform;
use procdeck_engine::{ProcessRecord, Settings, Status};

pub const BIN: &str = env!("CARGO_BIN_EXE_procdeck");

/// How long a test waits for something that must happen: far beyond what it takes on an idle
/// machine, so that a loaded one (parallel builds on two cores) never fails a test by timing.
/// A test that passes waits only as long as the thing takes.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Engine settings for a test that uses the engine API directly: the shim is the real
/// `procdeck` binary (the test executable is not one).
pub fn settings() -> Settings {
    Settings {
        shim_exe: Some(PathBuf::from(BIN)),
        ..Settings::default()
    }
}

/// What a shim wrote about itself in `shim.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShimIds {
    pub shim_pid: u32,
    pub shim_start_time: u64,
    pub pid: u32,
    pub pid_start_time: u64,
}

/// A temporary workspace. Dropping it kills every shim that was started in it and everything
/// those shims supervise: the shim's tree (checked by start time, so a reused pid is never
/// touched) and every process left in the shim's session.
pub struct TestWs {
    pub dir: tempfile::TempDir,
}

impl Default for TestWs {
    fn default() -> Self {
        TestWs::new()
    }
}

impl TestWs {
    pub fn new() -> TestWs {
        TestWs {
            dir: tempfile::Builder::new()
                .prefix("procdeck-test-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The folder as the engine records it (symlinks resolved).
    pub fn canonical(&self) -> PathBuf {
        std::fs::canonicalize(self.path()).expect("canonical workspace path")
    }

    pub fn store(&self) -> PathBuf {
        self.path().join(".procdeck")
    }

    pub fn index_path(&self) -> PathBuf {
        self.store().join("index.json")
    }

    pub fn process_dir(&self, id: &str) -> PathBuf {
        self.store().join("processes").join(id)
    }

    /// A `procdeck -w <dir> ARGS` command, not yet run.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(BIN);
        cmd.arg("-w").arg(self.path()).args(args);
        cmd
    }

    /// Runs `procdeck -w <dir> ARGS`.
    pub fn cli<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run procdeck")
    }

    /// Runs the CLI and asserts success, returning stdout.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        String::from_utf8_lossy(&self.ok_bytes(args)).into_owned()
    }

    /// Runs the CLI and asserts success, returning stdout as bytes.
    pub fn ok_bytes<I, S>(&self, args: I) -> Vec<u8>
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
        out.stdout
    }

    /// Runs the CLI expecting failure; returns stderr after checking it is one `procdeck:` line.
    pub fn fails<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.cli(args);
        check_failure(&out)
    }

    /// Runs `--json ARGS` and parses stdout.
    pub fn json<I, S>(&self, args: I) -> serde_json::Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["--json".into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        let text = self.ok(all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
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

    pub fn list(&self) -> Vec<ProcessRecord> {
        serde_json::from_str(&self.ok(["--json", "list", "--all"])).expect("list json")
    }

    pub fn record(&self, id: &str) -> ProcessRecord {
        self.list()
            .into_iter()
            .find(|r| r.id == id)
            .expect("record listed")
    }

    pub fn wait(&self, id: &str) -> ProcessRecord {
        let timeout = PATIENCE.as_secs().to_string();
        serde_json::from_str(&self.ok(["--json", "wait", id, "--timeout", &timeout]))
            .expect("wait json")
    }

    pub fn stop(&self, id: &str, grace: &str) -> ProcessRecord {
        serde_json::from_str(&self.ok(["--json", "stop", id, "--grace", grace])).expect("stop json")
    }

    pub fn output(&self, id: &str) -> String {
        self.ok(["output", id])
    }

    /// index.json as it is on disk, without going through the engine.
    pub fn raw_index(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.index_path()).expect("read index.json");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("index.json is not JSON ({e})"))
    }

    pub fn write_raw_index(&self, index: &serde_json::Value) {
        let text = serde_json::to_string_pretty(index).expect("serialise index");
        std::fs::write(self.index_path(), text).expect("write index.json");
    }

    pub fn shim_ids(&self, id: &str) -> ShimIds {
        shim_ids_in(self.path(), id)
    }

    /// `shim.json` of every process ever started here.
    fn all_shims(&self) -> Vec<ShimIds> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(self.store().join("processes")) else {
            return out;
        };
        for e in entries.flatten() {
            let Ok(text) = std::fs::read_to_string(e.path().join("shim.json")) else {
                continue;
            };
            if let Some(ids) = parse_shim_ids(&text) {
                out.push(ids);
            }
        }
        out
    }
}

/// The pids in `shim.json` of process `id` of the workspace at `folder`.
pub fn shim_ids_in(folder: &Path, id: &str) -> ShimIds {
    let path = folder
        .join(".procdeck/processes")
        .join(id)
        .join("shim.json");
    let text = std::fs::read_to_string(&path).expect("read shim.json");
    parse_shim_ids(&text).expect("shim.json has pids")
}

fn parse_shim_ids(text: &str) -> Option<ShimIds> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    Some(ShimIds {
        shim_pid: v["shimPid"].as_u64()? as u32,
        shim_start_time: v["shimStartTime"].as_u64()?,
        pid: v["pid"].as_u64()? as u32,
        pid_start_time: v["pidStartTime"].as_u64()?,
    })
}

impl Drop for TestWs {
    fn drop(&mut self) {
        for s in self.all_shims() {
            cleanup_shim(&s);
        }
    }
}

/// Ends a shim's tree and whatever is left of its session, never touching a process that
/// started before the shim (so a reused pid is safe).
pub fn cleanup_shim(s: &ShimIds) {
    if s.shim_pid == 0 {
        return;
    }
    if platform::is_alive(s.shim_pid, s.shim_start_time) {
        kill_tree(s.shim_pid);
    }
    // The shim is a session leader: its command and anything not double-`setsid`ed stay in its
    // session even after the shim is gone (reparented to pid 1). While any of them lives, the
    // kernel keeps the shim's pid from being reused; so a living process with that pid that is
    // not the shim leads another session (Xvfb, anything setsid'ed since) and none of ours is left.
    if platform::stat(s.shim_pid)
        .is_some_and(|st| st.start_time != s.shim_start_time && !st.has_exited())
    {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let members = session_members(s.shim_pid, s.shim_start_time);
        if members.is_empty() || Instant::now() > deadline {
            return;
        }
        for p in members {
            // A process of this test's shim's session, started after the shim.
            kill_now(p);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn session_members(sid: u32, not_before: u64) -> Vec<u32> {
    all_pids()
        .into_iter()
        .filter(|&p| {
            platform::stat(p).is_some_and(|s| {
                s.session == sid as i32 && s.start_time >= not_before && !s.has_exited()
            })
        })
        .collect()
}

fn all_pids() -> Vec<u32> {
    platform::pids()
}

/// Ends `pid` at once, if it is still the process it was a moment ago.
pub fn kill_now(pid: u32) {
    if let Some(start) = platform::start_time(pid) {
        platform::signal_verified(pid, start, platform::Signal::Kill);
    }
}

/// What a test command runs after double-forking a process into a session of its own, before
/// the intermediate exits and orphans it. With a child subreaper (the default) the shim adopts
/// such an orphan however soon that is; on the portable POSIX path the shim finds it only if a
/// scan of its tree (every 0.5 s) saw it before it lost its parent, so the intermediate there
/// outlives two scans. An orphan handed off sooner escapes that path (README, "Platforms").
pub const ORPHAN_HANDOFF: &str = if cfg!(feature = "portable-posix") {
    "sleep 1.2"
} else {
    ":"
};

/// SIGKILLs `root` and all its descendants, children first found, until none are left.
pub fn kill_tree(root: u32) {
    if root == 0 || platform::stat(root).is_none() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut all = platform::descendants(root);
        all.push(root);
        let alive: Vec<u32> = all.into_iter().filter(|p| alive(*p)).collect();
        if alive.is_empty() || Instant::now() > deadline {
            return;
        }
        for p in alive {
            // Processes of a tree this test started.
            kill_now(p);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// True when `pid` exists and is not a zombie (pid 1 here does not reap, so a dead process
/// may linger as a zombie).
pub fn alive(pid: u32) -> bool {
    platform::stat(pid).is_some_and(|s| !s.has_exited())
}

pub fn check_failure(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected failure, got success with stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_one_error_line(&err);
    err
}

pub fn assert_one_error_line(stderr: &str) {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("procdeck: warning:"))
        .collect();
    assert_eq!(lines.len(), 1, "expected one error line, got {stderr:?}");
    assert!(
        lines[0].starts_with("procdeck: "),
        "error line {:?} must start with `procdeck: `",
        lines[0]
    );
}

fn cmdline(pid: u32) -> Option<String> {
    let args = platform::cmdline(pid)?;
    let words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    Some(words.join(" "))
}

/// True when `marker` is a whole word of the command line (delimited by anything but letters
/// and digits), so that a number inside a hash or a longer number never matches.
fn has_token(cmdline: &str, marker: &str) -> bool {
    cmdline
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|t| t == marker)
}

/// Living processes with `marker` as a word of their command line (a test's own sleeps, and
/// the shells that started them).
pub fn processes_with(marker: &str) -> Vec<u32> {
    all_pids()
        .into_iter()
        .filter(|&pid| pid != std::process::id())
        .filter(|&pid| cmdline(pid).is_some_and(|c| has_token(&c, marker)) && alive(pid))
        .collect()
}

/// The ten markers `m` ... `m + 9` of a block from [`unique_marker`].
pub fn marker_block(m: &str) -> Vec<String> {
    let base: u64 = m.parse().expect("a marker from unique_marker");
    (base..base + 10).map(|n| n.to_string()).collect()
}

/// Living processes carrying any marker of the block `m` ... `m + 9`.
pub fn processes_with_block(m: &str) -> Vec<u32> {
    let mut out: Vec<u32> = marker_block(m)
        .iter()
        .flat_map(|k| processes_with(k))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Living processes whose command line is exactly `line` (arguments joined by spaces), e.g.
/// `sleep 123456`: the sleep itself, not the shell that started it.
pub fn processes_exactly(line: &str) -> Vec<u32> {
    all_pids()
        .into_iter()
        .filter(|&pid| cmdline(pid).is_some_and(|c| c == line) && alive(pid))
        .collect()
}

/// Kills processes found by marker (a whole word of their command line); for cleanup of trees
/// that escaped in a failing test.
pub struct MarkerGuard(pub String);

impl MarkerGuard {
    /// Guards for the whole block `m` ... `m + 9`.
    pub fn block(m: &str) -> Vec<MarkerGuard> {
        marker_block(m).into_iter().map(MarkerGuard).collect()
    }
}

impl Drop for MarkerGuard {
    fn drop(&mut self) {
        for pid in processes_with(&self.0) {
            // Processes carrying this test's unique marker in their command line.
            kill_now(pid);
        }
    }
}

/// A unique number for sleep durations, so a test can find exactly its own processes. It ends
/// in 0: the caller may also use the next nine numbers (`m + 1` ... `m + 9`).
pub fn unique_marker() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // Fixed per test binary (its pid and start time), then a counter within it.
    let prefix = *PREFIX.get_or_init(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        (u64::from(std::process::id()) * 7 + secs) % 9000
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed) % 1000;
    format!("{}", 10_000_000 + prefix * 10_000 + n * 10)
}

/// A TCP port nothing listens on at the moment of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether something accepts connections on `port` of 127.0.0.1.
pub fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
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

/// `proc_YYYY-MM-DDTHHMM_xxxxxx` with 6 lowercase hex digits, checked here independently of
/// the engine's own validator.
pub fn id_is_well_formed(id: &str) -> bool {
    let b = id.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 27
        && id.starts_with("proc_")
        && digits(5..9)
        && b[9] == b'-'
        && digits(10..12)
        && b[12] == b'-'
        && digits(13..15)
        && b[15] == b'T'
        && digits(16..20)
        && b[20] == b'_'
        && b[21..]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

/// A child process (a follower, a decoy) killed and reaped when dropped.
pub struct ChildGuard {
    pub child: Child,
}

impl ChildGuard {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the child to exit, up to `timeout`; None if it did not.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Reads the child's stdout line by line on a thread; lines arrive on the returned channel.
    pub fn stdout_lines(&mut self) -> Lines {
        let out = self.child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(out);
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx
                            .send(String::from_utf8_lossy(&line).into_owned())
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
        });
        Lines { rx }
    }

    pub fn stderr_text(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lines read from a child's stdout.
pub struct Lines {
    rx: mpsc::Receiver<String>,
}

impl Lines {
    /// The next line, waiting up to `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<String> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Every line until the writer closes its end (or `timeout` passes).
    pub fn rest(&self, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => out.push(line),
                Err(_) => return out,
            }
        }
    }
}

/// Spawns `procdeck -w <dir> ARGS` with stdout and stderr piped.
pub fn spawn_cli<I, S>(ws: &TestWs, args: I) -> ChildGuard
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let child = ws
        .command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn procdeck");
    ChildGuard { child }
}

/// A tmpfs mounted for a test, unmounted (lazily) when dropped.
pub struct TmpfsMount {
    pub dir: tempfile::TempDir,
}

impl TmpfsMount {
    /// Mounts a tmpfs with `options` (e.g. "ro", "rw", "rw,size=8m"; 4 MiB unless they give a
    /// size). None, said on stderr, only where this environment refuses mounting (not
    /// privileged); any other failure fails the test.
    pub fn new(options: &str) -> Option<TmpfsMount> {
        let dir = tempfile::Builder::new()
            .prefix("procdeck-mnt-")
            .tempdir()
            .expect("temp dir for a mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size=4m,{options}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("run mount (util-linux)");
        if out.status.success() {
            return Some(TmpfsMount { dir });
        }
        let why = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        let refused = ["permission denied", "not permitted", "must be superuser"]
            .iter()
            .any(|s| why.to_lowercase().contains(s));
        assert!(refused, "mount -t tmpfs failed: {why}");
        eprintln!("SKIPPED: mounting a tmpfs is refused here ({why})");
        None
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn remount(&self, options: &str) -> bool {
        Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(self.path())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Runs `cmd` (stdin closed, output captured) and fails the test if it has not ended within
/// `timeout`: a read that blocks (on a FIFO, on a lock) must show as a failure, not a hang.
pub fn output_within(mut cmd: Command, timeout: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(out) => out.expect("wait for the command"),
        Err(_) => {
            // Our own child, not yet reaped (the waiting thread still owns it): the pid is its.
            kill_now(pid);
            let _ = rx.recv_timeout(Duration::from_secs(5));
            panic!("{cmd:?} did not end within {timeout:?}");
        }
    }
}

/// Everything under `dir`, each entry with its kind and content (a link's target, a file's
/// bytes), to compare a tree before and after: nothing outside a store may change.
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let mode = mode_of(&meta);
            let what = if meta.file_type().is_symlink() {
                format!("link {:?}", std::fs::read_link(&path).ok())
            } else if meta.is_dir() {
                stack.push(path.clone());
                format!("dir {mode:o}")
            } else if meta.is_file() {
                let bytes = std::fs::read(&path).unwrap_or_default();
                format!("file {mode:o} {}", String::from_utf8_lossy(&bytes))
            } else {
                format!("special {mode:o}")
            };
            out.insert(path.strip_prefix(dir).unwrap_or(&path).to_owned(), what);
        }
    }
    out
}

/// The permission bits (Unix) or the read-only flag (Windows, as 0o444 or 0o666).
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode()
    }
    #[cfg(windows)]
    {
        if meta.permissions().readonly() {
            0o444
        } else {
            0o666
        }
    }
}

/// A test that cannot run here says so loudly, and still fails unless `PROCDECK_ALLOW_SKIP=1`:
/// CI runs as root, where every test must really run.
pub fn skip_or_fail(reason: &str) {
    eprintln!("SKIPPED: {reason}");
    if std::env::var("PROCDECK_ALLOW_SKIP").as_deref() != Ok("1") {
        panic!("{reason} (set PROCDECK_ALLOW_SKIP=1 to let this test pass without running)");
    }
}
