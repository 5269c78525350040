//! Hostile stores: a `.procdeck` folder shipped by a repository or shared by another user, with
//! symlinks, FIFOs, traversal ids, pid 1, an unknown boot and a copied workspace id. Each case
//! runs the real CLI and checks that nothing outside the store changed, that the case got one
//! clear error or warning line, and that nothing hung.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use procdeck_engine::{platform, ProcessRecord, Status, Workspace};
use serde_json::{json, Value};

/// Long enough for a loaded machine, short enough that a hang fails the test.
const LIMIT: Duration = Duration::from_secs(40);

/// A folder outside every store, with a file and a subfolder, whose content must never change.
struct Outside {
    dir: tempfile::TempDir,
}

impl Outside {
    fn new() -> Outside {
        let dir = tempfile::Builder::new()
            .prefix("procdeck-outside-")
            .tempdir()
            .expect("temp dir");
        fs::write(dir.path().join("bashrc"), "export KEEP=me\n").unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub").join("notes"), "untouched\n").unwrap();
        Outside { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn run(ws: &TestWs, args: &[&str]) -> Output {
    output_within(ws.command(args), LIMIT)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn warnings(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with("procdeck: warning: "))
        .map(str::to_owned)
        .collect()
}

/// Succeeded with exactly one warning line, which is returned; nothing else on stderr.
fn one_warning(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", stderr(out));
    let w = warnings(out);
    assert_eq!(w.len(), 1, "expected one warning, got {:?}", stderr(out));
    assert_eq!(stderr(out).lines().count(), 1, "{:?}", stderr(out));
    w[0].clone()
}

fn records(out: &Output) -> Vec<ProcessRecord> {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not a list ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// A process that ran `echo hi` to its end, settled in the index.
fn finished(ws: &TestWs) -> ProcessRecord {
    let r = ws.start("echo hi");
    ws.wait(&r.id);
    ws.list();
    r
}

/// Edits the first record back to `running`: its folder holds an exit record, so the next
/// listing corrects it and must write the index.
fn make_index_stale(index_path: &Path) {
    let text = fs::read_to_string(index_path).unwrap();
    let mut index: Value = serde_json::from_str(&text).unwrap();
    index[0]["status"] = "running".into();
    index[0]["exitCode"] = Value::Null;
    index[0]["stoppedAt"] = Value::Null;
    fs::write(index_path, serde_json::to_string_pretty(&index).unwrap()).unwrap();
}

fn workspace_id(ws: &TestWs) -> String {
    let text = fs::read_to_string(ws.store().join("workspace.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .unwrap()
        .trim()
        .to_owned()
}

/// A running record naming `pid` as both the shim and the command, with their start times.
fn running_record(ws: &TestWs, id: &str, pid: u32, start_time: u64, boot: &str) -> Value {
    json!({
        "id": id,
        "workspaceId": workspace_id(ws),
        "title": "planted",
        "command": "sleep 1",
        "cwd": ws.canonical(),
        "status": "running",
        "pid": pid,
        "startedAt": "2026-01-01T00:00:00.000Z",
        "stoppedAt": null,
        "exitCode": null,
        "outputSizeBytes": 0,
        "stopGraceMs": 100,
        "supervisor": {
            "shimPid": pid,
            "shimStartTime": start_time,
            "pidStartTime": start_time,
            "bootId": boot
        }
    })
}

#[test]
fn temp_file_links_planted_for_many_pids_are_never_written_through() {
    let ws = TestWs::new();
    let outside = Outside::new();
    finished(&ws);
    make_index_stale(&ws.index_path());
    // The next pids to be handed out, the CLI's among them: each gets a link to a file outside.
    let last: u32 = fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for pid in last + 1..=last + 1000 {
        symlink(
            outside.join("bashrc"),
            ws.store().join(format!(".index.json.{pid}.tmp")),
        )
        .unwrap();
    }
    let before = snapshot(outside.path());
    let out = run(&ws, &["--json", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert_eq!(records(&out)[0].status, Status::Stopped);
    assert_eq!(
        snapshot(outside.path()),
        before,
        "a file outside the store changed"
    );
    let index = fs::symlink_metadata(ws.index_path()).unwrap();
    assert!(index.is_file(), "index.json is no longer a regular file");
    assert_eq!(ws.raw_index()[0]["status"], "stopped");
}

#[test]
fn store_files_that_are_symlinks_are_refused_or_reported_never_followed() {
    /// What the link points to outside the store.
    enum Target {
        Folder,
        File(&'static str),
        /// Nothing yet: following the link would create it.
        Missing,
    }
    // (what is linked, its target, whether the case is an error rather than a warning)
    let cases = [
        (".procdeck", Target::Folder, true),
        (".procdeck/processes", Target::Folder, true),
        (".procdeck/index.lock", Target::Missing, true),
        (".procdeck/.gitignore", Target::Missing, false),
        (".procdeck/index.json", Target::File("[]"), false),
        (
            ".procdeck/workspace.json",
            Target::File(r#"{"id": "ws_aaaaaaaaaaaa", "createdAt": "x"}"#),
            false,
        ),
    ];
    for (linked, kind, is_error) in cases {
        let ws = TestWs::new();
        let outside = Outside::new();
        let target = outside.join("target");
        match kind {
            Target::Folder => fs::create_dir(&target).unwrap(),
            Target::File(text) => fs::write(&target, text).unwrap(),
            Target::Missing => {}
        }
        if linked != ".procdeck" {
            fs::create_dir(ws.store()).unwrap();
        }
        symlink(&target, ws.path().join(linked)).unwrap();
        let before = snapshot(outside.path());

        let out = run(&ws, &["--json", "list"]);
        assert_eq!(
            snapshot(outside.path()),
            before,
            "{linked}: a file outside the store changed"
        );
        let line = if is_error {
            check_failure(&out)
        } else {
            one_warning(&out)
        };
        let name = Path::new(linked).file_name().unwrap().to_string_lossy();
        assert!(
            line.contains(name.as_ref()) && line.contains("symbolic link"),
            "{linked}: {line}"
        );
        if !is_error {
            // The store works on, and still leaves the outside alone.
            let again = run(&ws, &["--json", "list"]);
            assert!(again.status.success(), "{linked}: {}", stderr(&again));
            assert_eq!(snapshot(outside.path()), before, "{linked}");
        }
    }
}

#[test]
fn a_process_folder_that_is_a_symlink_is_skipped_and_never_read_through() {
    let ws = TestWs::new();
    let outside = Outside::new();
    let id = "proc_2026-01-01T0000_00000c";
    let proc_dir = outside.join("proc");
    fs::create_dir(&proc_dir).unwrap();
    let spec = json!({
        "id": id, "workspaceId": "ws_aaaaaaaaaaaa", "title": "t", "command": "sleep 1",
        "cwd": "/", "env": {}, "startedAt": "2026-01-01T00:00:00.000Z",
        "stopGraceMs": 100, "outputCapBytes": 1000
    });
    fs::write(proc_dir.join("spec.json"), spec.to_string()).unwrap();
    let shim = json!({"shimPid": 999999, "shimStartTime": 1, "pid": 999999,
        "pidStartTime": 1, "bootId": boot_id()});
    fs::write(proc_dir.join("shim.json"), shim.to_string()).unwrap();
    fs::write(proc_dir.join("output.log"), "SECRET\n").unwrap();
    ws.ok(["list"]);
    symlink(&proc_dir, ws.process_dir(id)).unwrap();
    // The index names it too: still one warning.
    let mut record = running_record(&ws, id, 999_999, 1, &boot_id());
    record["status"] = "stopped".into();
    ws.write_raw_index(&json!([record]));
    let before = snapshot(outside.path());

    for args in [
        vec!["output", id],
        vec!["output", id, "--grep", "SECRET"],
        vec!["stop", id],
        vec!["rm", id],
    ] {
        let out = run(&ws, &args);
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("SECRET"),
            "{args:?} read through the link"
        );
        let line = check_failure(&out);
        assert!(line.contains("symbolic link"), "{args:?}: {line}");
    }
    assert_eq!(snapshot(outside.path()), before);
    let out = run(&ws, &["--json", "list"]);
    let line = one_warning(&out);
    assert!(
        line.contains(id) && line.contains("symbolic link"),
        "{line}"
    );
    assert!(records(&out).is_empty(), "{:?}", records(&out));
    // Nothing was lost: the record is still in the index, as it was.
    assert_eq!(ws.raw_index()[0]["id"], id);
}

#[test]
fn traversal_ids_in_the_index_are_skipped_reported_and_kept() {
    let ws = TestWs::new();
    let outside = Outside::new();
    let r = finished(&ws);
    let mut index = ws.raw_index();
    let mut bad = index[0].clone();
    bad["id"] = "../../../escape".into();
    bad["status"] = "running".into();
    index.as_array_mut().unwrap().push(bad.clone());
    ws.write_raw_index(&index);
    // The real record is stale too, so the listing writes the index back.
    make_index_stale(&ws.index_path());
    let before = snapshot(outside.path());

    let out = run(&ws, &["--json", "list"]);
    let line = one_warning(&out);
    assert!(line.contains("../../../escape"), "{line}");
    let listed = records(&out);
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].id.as_str(), listed[0].status),
        (r.id.as_str(), Status::Stopped)
    );
    // Written back as it was: nothing is lost.
    let index = ws.raw_index();
    assert_eq!(index[0]["status"], "stopped");
    assert_eq!(index[1], bad);
    ws.ok(["rm", &r.id]);
    assert_eq!(ws.raw_index().as_array().unwrap(), &vec![bad]);
    assert_eq!(snapshot(outside.path()), before);
}

#[test]
fn a_fifo_or_a_link_as_output_log_is_an_error_not_a_hang() {
    let ws = TestWs::new();
    let outside = Outside::new();
    let fifo = finished(&ws);
    let log = ws.process_dir(&fifo.id).join("output.log");
    fs::remove_file(&log).unwrap();
    let made = Command::new("mkfifo").arg(&log).status().unwrap();
    assert!(made.success());
    let linked = finished(&ws);
    let log = ws.process_dir(&linked.id).join("output.log");
    fs::remove_file(&log).unwrap();
    symlink(outside.join("bashrc"), &log).unwrap();
    let before = snapshot(outside.path());

    for (id, what) in [(&fifo.id, "is a FIFO"), (&linked.id, "symbolic link")] {
        for args in [
            vec!["output", id],
            vec!["output", id, "--tail", "1"],
            vec!["output", id, "--grep", "KEEP"],
        ] {
            let out = run(&ws, &args);
            let line = check_failure(&out);
            assert!(line.contains(what) && line.contains("output.log"), "{line}");
            assert!(out.stdout.is_empty(), "{args:?} printed something");
        }
    }
    // The listing does not open output files and still works.
    let out = run(&ws, &["--json", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(snapshot(outside.path()), before);
}

/// A process of this test in a pid namespace of its own, where it is pid 1; dropping it kills it
/// (and with it everything in the namespace).
struct PidNamespace {
    unshare: ChildGuard,
    init: u32,
    init_start: u64,
}

impl PidNamespace {
    fn new(script: &str) -> PidNamespace {
        let unshare = ChildGuard {
            child: Command::new("unshare")
                .args([
                    "--pid",
                    "--fork",
                    "--mount-proc",
                    "--",
                    "bash",
                    "-c",
                    script,
                ])
                .stdin(Stdio::null())
                .spawn()
                .expect("unshare (util-linux)"),
        };
        let mut init = 0;
        wait_until("the namespace's pid 1", LIMIT, || {
            init = platform::descendants(unshare.pid())
                .into_iter()
                .find(|&p| platform::stat(p).is_some_and(|s| s.ppid == unshare.pid()))
                .unwrap_or(0);
            init != 0
        });
        let init_start = platform::start_time(init).expect("start time of pid 1");
        PidNamespace {
            unshare,
            init,
            init_start,
        }
    }

    /// `procdeck ARGS` run inside the namespace.
    fn procdeck(&self, ws: &TestWs, args: &[&str]) -> Output {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--target={}", self.init))
            .args(["--pid", "--mount", "--", BIN, "-w"])
            .arg(ws.path())
            .args(args);
        output_within(cmd, LIMIT)
    }
}

impl Drop for PidNamespace {
    fn drop(&mut self) {
        platform::signal_verified(self.init, self.init_start, platform::Signal::Kill);
        let _ = self.unshare.wait_timeout(Duration::from_secs(5));
    }
}

#[test]
fn a_record_naming_pid_1_is_never_signalled() {
    let ws = TestWs::new();
    ws.ok(["list"]);
    let marks = tempfile::tempdir().unwrap();
    let signals = marks.path().join("signals");
    let child = marks.path().join("child");
    // Pid 1 of the namespace records any signal it catches; its child stands for every other
    // process there (kill(-1) would reach it).
    let ns = PidNamespace::new(&format!(
        "trap 'echo TERM >> {s}' TERM; trap 'echo HUP >> {s}' HUP; trap 'echo INT >> {s}' INT; \
         sleep 100000 & echo $! > {c}; while :; do sleep 0.05; done",
        s = signals.display(),
        c = child.display()
    ));
    wait_until("pid 1's child", LIMIT, || child.exists());
    let sleeper = platform::descendants(ns.init)
        .into_iter()
        .find(|&p| {
            fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c == b"sleep\x00100000\x00")
        })
        .expect("the sleeper");
    let id = "proc_2026-01-01T0000_00000a";
    fs::create_dir(ws.process_dir(id)).unwrap();
    ws.write_raw_index(&json!([running_record(
        &ws,
        id,
        1,
        ns.init_start,
        &boot_id()
    )]));

    let stopped = ns.procdeck(&ws, &["--json", "stop", id, "--grace", "0"]);
    let listed = ns.procdeck(&ws, &["--json", "list"]);
    let removed = ns.procdeck(&ws, &["rm", id]);
    assert!(
        !signals.exists(),
        "pid 1 was signalled: {:?}",
        fs::read_to_string(&signals)
    );
    assert!(platform::is_alive(ns.init, ns.init_start), "pid 1 ended");
    assert!(
        alive(sleeper),
        "another process of the namespace was killed"
    );

    let line = one_warning(&stopped);
    assert!(line.contains(id) && line.contains("pid 1 "), "{line}");
    let record: ProcessRecord = serde_json::from_slice(&stopped.stdout).unwrap();
    assert_eq!(record.status, Status::Lost);
    assert_eq!(stderr(&listed), "");
    assert_eq!(records(&listed)[0].status, Status::Lost);
    assert!(removed.status.success(), "{}", stderr(&removed));
}

#[test]
fn an_unreadable_boot_id_matches_no_record_and_signals_nothing() {
    let ws = TestWs::new();
    ws.ok(["list"]);
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    // A process of this test that leads its own session and group, as a shim would.
    let decoy = ChildGuard {
        child: Command::new("setsid")
            .args(["sleep", &m])
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    };
    wait_until("the decoy", LIMIT, || {
        platform::stat(decoy.pid()).is_some_and(|s| s.session == decoy.pid() as i32)
            && fs::read(format!("/proc/{}/cmdline", decoy.pid()))
                .is_ok_and(|c| c.starts_with(b"sleep"))
    });
    let start = platform::start_time(decoy.pid()).unwrap();
    let id = "proc_2026-01-01T0000_00000b";
    fs::create_dir(ws.process_dir(id)).unwrap();
    ws.write_raw_index(&json!([running_record(&ws, id, decoy.pid(), start, "")]));
    let empty = tempfile::NamedTempFile::new().unwrap();
    // Inside a mount namespace, the boot id reads as empty, as when /proc cannot tell it.
    let in_unknown_boot = |args: &[&str]| {
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--", "sh", "-c"])
            .arg(r#"mount --bind "$0" /proc/sys/kernel/random/boot_id && exec "$@""#)
            .arg(empty.path())
            .arg(BIN)
            .arg("-w")
            .arg(ws.path())
            .args(args);
        output_within(cmd, LIMIT)
    };

    let out = in_unknown_boot(&["--json", "stop", id, "--grace", "0"]);
    std::thread::sleep(Duration::from_millis(100));
    assert!(alive(decoy.pid()), "the decoy was signalled");
    let line = one_warning(&out);
    assert!(
        line.contains(id) && line.contains("not signalled"),
        "{line}"
    );
    let record: ProcessRecord = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record.status, Status::Lost);
    // With the boot readable, the record's empty boot id matches nothing either.
    ws.write_raw_index(&json!([running_record(&ws, id, decoy.pid(), start, "")]));
    let out = run(&ws, &["--json", "stop", id, "--grace", "0"]);
    one_warning(&out);
    assert!(alive(decoy.pid()), "the decoy was signalled");
}

#[test]
fn a_copied_workspace_gets_its_own_id_and_leaves_the_original_alone() {
    let original = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let cmd = format!("sleep {m}");
    let r = original.start(&cmd);
    wait_until("the sleep", LIMIT, || processes_exactly(&cmd).len() == 1);
    original.list();
    let copy = TestWs::new();
    let copied = Command::new("cp")
        .arg("-a")
        .arg(original.store())
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(copied.success());
    let before = snapshot(&original.store());

    // Stopping and removing in the copy leaves the original's process and store alone.
    let stopped = run(&copy, &["--json", "stop", &r.id, "--grace", "0"]);
    let listed = run(&copy, &["--json", "list"]);
    let removed = run(&copy, &["rm", &r.id]);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        processes_exactly(&cmd).len(),
        1,
        "the original's process was stopped"
    );
    assert_eq!(
        snapshot(&original.store()),
        before,
        "the original's store changed"
    );

    let line = one_warning(&stopped);
    assert!(line.contains("copy"), "{line}");
    let record: ProcessRecord = serde_json::from_slice(&stopped.stdout).unwrap();
    assert_eq!(
        record.status,
        Status::Lost,
        "a copy cannot control the original's process"
    );
    let own_id = workspace_id(&copy);
    assert_ne!(own_id, r.workspace_id);
    // The next commands have nothing more to say.
    assert_eq!(stderr(&listed), "");
    assert_eq!(records(&listed).len(), 1);
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(stderr(&removed), "");

    // A start in the copy runs in the copy.
    let s = copy.start("pwd");
    copy.wait(&s.id);
    assert_eq!(s.workspace_id, own_id);
    assert_eq!(
        copy.output(&s.id).trim(),
        copy.canonical().to_string_lossy()
    );

    assert_eq!(original.record(&r.id).status, Status::Running);
    assert_eq!(original.stop(&r.id, "0").status, Status::Stopped);
}

/// The inotify watches this process holds, over all its inotify descriptors.
fn inotify_watches() -> usize {
    let mut n = 0;
    for fd in fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let is_inotify =
            fs::read_link(fd.path()).is_ok_and(|t| t.to_string_lossy() == "anon_inode:inotify");
        if is_inotify {
            let info = fs::read_to_string(Path::new("/proc/self/fdinfo").join(fd.file_name()))
                .unwrap_or_default();
            n += info
                .lines()
                .filter(|l| l.starts_with("inotify wd:"))
                .count();
        }
    }
    n
}

#[test]
fn the_watcher_does_not_follow_a_linked_process_folder() {
    let ws = TestWs::new();
    let outside = Outside::new();
    for i in 0..40 {
        fs::create_dir_all(outside.path().join(format!("deep/{i}/a/b"))).unwrap();
    }
    let r = finished(&ws);
    let id = "proc_2026-01-01T0000_00000d";
    symlink(outside.path(), ws.process_dir(id)).unwrap();
    let before = snapshot(outside.path());
    let watches = inotify_watches();

    let (engine, _) = Workspace::open(ws.path(), settings()).unwrap();
    let engine = Arc::new(engine);
    let watcher = engine.watch().unwrap();
    // The store, processes/ and the one real process folder.
    let added = inotify_watches() - watches;
    assert_eq!(added, 3, "watches were added through the link");
    assert_eq!(engine.list().unwrap().len(), 1);
    let warnings = engine.take_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("symbolic link"));
    let mut events = engine.subscribe();
    ws.ok(["rm", &r.id]);
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        assert!(std::time::Instant::now() < deadline, "no removal event");
        if let Ok(procdeck_engine::Event::Removed { id, .. }) = events.try_recv() {
            assert_eq!(id, r.id);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(watcher);
    assert_eq!(snapshot(outside.path()), before);
}

#[test]
fn reads_of_one_process_wait_for_no_lock() {
    let ws = TestWs::new();
    let r = finished(&ws);
    let lock = fs::File::options()
        .read(true)
        .write(true)
        .open(ws.store().join("index.lock"))
        .unwrap();
    // SAFETY: flock on a descriptor this test owns; closing it releases the lock.
    let rc = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) };
    assert_eq!(rc, 0);
    for args in [
        vec!["output", &r.id],
        vec!["output", &r.id, "--tail", "1"],
        vec!["output", &r.id, "--grep", "h"],
    ] {
        let out = run(&ws, &args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n", "{args:?}");
    }
    drop(lock);
}

/// Runs the CLI on a workspace folder that is not a [`TestWs`].
fn run_in(folder: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("-w").arg(folder).args(args);
    output_within(cmd, LIMIT)
}

#[test]
fn reads_work_on_a_full_disk() {
    let Some(mnt) = TmpfsMount::new("rw") else {
        eprintln!("note: mounting a tmpfs was refused here; the full-disk case did not run");
        return;
    };
    let out = run_in(mnt.path(), &["--json", "start", "--", "echo hi"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: ProcessRecord = serde_json::from_slice(&out.stdout).unwrap();
    assert!(run_in(mnt.path(), &["wait", &r.id, "--timeout", "30"])
        .status
        .success());
    assert!(run_in(mnt.path(), &["list"]).status.success());
    let index = mnt.path().join(".procdeck/index.json");
    make_index_stale(&index);
    // Fill the file system.
    let filler = mnt.path().join("filler");
    {
        use std::io::Write;
        let mut f = fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }

    let out = run_in(mnt.path(), &["--json", "list"]);
    let line = one_warning(&out);
    assert!(line.contains("disk full"), "{line}");
    assert_eq!(records(&out)[0].status, Status::Stopped);
    let out = run_in(mnt.path(), &["output", &r.id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");

    // Space is back: the next listing saves what the merge found, without a word.
    fs::remove_file(&filler).unwrap();
    let out = run_in(mnt.path(), &["list"]);
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    let text = fs::read_to_string(&index).unwrap();
    assert!(text.contains("\"stopped\""), "{text}");
}

#[test]
fn a_fifo_in_another_process_folder_blocks_neither_a_listing_nor_a_read() {
    let ws = TestWs::new();
    let r = finished(&ws);
    let id = "proc_2026-01-01T0000_00000e";
    fs::create_dir(ws.process_dir(id)).unwrap();
    let made = Command::new("mkfifo")
        .arg(ws.process_dir(id).join("spec.json"))
        .status()
        .unwrap();
    assert!(made.success());

    // A read of one process touches only its own folder: not a word about the other one.
    let out = run(&ws, &["output", &r.id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
    assert_eq!(stderr(&out), "");
    // A listing reads every folder, reports the FIFO and goes on.
    let out = run(&ws, &["--json", "list"]);
    let line = one_warning(&out);
    assert!(line.contains(id) && line.contains("FIFO"), "{line}");
    assert_eq!(records(&out).len(), 1);
}
