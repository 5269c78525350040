//! A full disk pauses a process instead of ending it: its output waits in the pipe, the command
//! blocks on its writes, and everything resumes, with nothing lost or repeated, when space
//! returns. Runs on a small tmpfs, so it needs root (as CI has).

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::*;
use procdeck_engine::{platform, Status};

const LINES: u32 = 200_000;

fn expected_output() -> String {
    let mut text = String::with_capacity(LINES as usize * 12 + 5);
    for n in 1..=LINES {
        text.push_str(&format!("line {n:06}\n"));
    }
    text.push_str("DONE\n");
    text
}

/// Writes a file until the file system refuses with ENOSPC, then gives back `room` bytes: the
/// output fills those and the disk is full part way through it.
fn fill_leaving(dir: &Path, room: u64) -> File {
    let mut filler = File::create(dir.join("filler")).expect("create filler");
    let chunk = vec![0x55u8; 64 * 1024];
    let mut len = 0u64;
    loop {
        match filler.write(&chunk) {
            Ok(0) => panic!("writing the filler made no progress"),
            Ok(n) => len += n as u64,
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    filler
        .set_len(len.saturating_sub(room))
        .expect("shrink the filler");
    filler
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The kernel function a process sleeps in.
fn wchan(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default()
}

/// The first line where two texts differ, for a readable failure.
fn first_difference(got: &str, want: &str) -> String {
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        if g != w {
            return format!("line {}: got {g:?}, want {w:?}", i + 1);
        }
    }
    format!(
        "{} lines instead of {}; last: {:?}",
        got.lines().count(),
        want.lines().count(),
        got.lines().last()
    )
}

#[test]
fn a_full_disk_pauses_the_command_and_loses_nothing() {
    let Some(mount) = TmpfsMount::new("rw,size=8m") else {
        skip_or_fail("full disk test: mounting a tmpfs is refused here");
        return;
    };
    // Dropped before the mount: its guard ends the processes before the unmount.
    let ws = TestWs {
        dir: tempfile::Builder::new()
            .prefix("procdeck-test-")
            .tempdir_in(mount.path())
            .expect("workspace on the tmpfs"),
    };
    let gate = tempfile::tempdir().expect("gate folder");
    let go = gate.path().join("go");
    let command = format!(
        "while [ ! -e '{}' ]; do sleep 0.05; done; seq -f 'line %06g' 1 {LINES}; echo DONE",
        go.display()
    );
    let r = ws.start(&command);
    let shim = ws.shim_ids(&r.id).shim_pid;

    let _filler = fill_leaving(mount.path(), 1 << 20);
    File::create(&go).expect("open the gate");

    // The writer blocks in the pipe once the shim can no longer write to the disk. It also
    // blocks for a moment whenever the shim is behind (at once with a small pipe), so the disk
    // counts as full only once the output has not grown for a while as well.
    let log = ws.process_dir(&r.id).join("output.log");
    let log_size = || std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let mut seq = None;
    let mut unchanged: Option<(u64, std::time::Instant)> = None;
    wait_until(
        "seq to block on the full pipe",
        Duration::from_secs(60),
        || {
            seq = platform::descendants(shim)
                .into_iter()
                .find(|&p| comm(p) == "seq");
            let blocked = seq.is_some_and(|p| {
                platform::stat(p).is_some_and(|s| s.state == 'S') && wchan(p).contains("pipe_write")
            });
            let now = log_size();
            if !blocked || unchanged.is_none_or(|(size, _)| size != now) {
                unchanged = blocked.then(|| (now, std::time::Instant::now()));
                return false;
            }
            unchanged.is_some_and(|(_, since)| since.elapsed() >= Duration::from_millis(500))
        },
    );
    let seq = seq.expect("seq found");
    let size = log_size();
    assert!(size > 0 && size < expected_output().len() as u64, "{size}");

    // Reads work while the disk is full.
    let list = ws.cli(["list"]);
    assert!(
        list.status.success(),
        "list on a full disk: {}",
        String::from_utf8_lossy(&list.stderr)
    );
    let tail = ws.cli(["output", &r.id, "--tail", "5"]);
    assert!(
        tail.status.success(),
        "output --tail on a full disk: {}",
        String::from_utf8_lossy(&tail.stderr)
    );
    assert!(
        String::from_utf8_lossy(&tail.stdout).contains("line "),
        "{}",
        String::from_utf8_lossy(&tail.stdout)
    );

    // Still paused, not dead: same place, same size.
    assert!(alive(seq), "seq {seq} died while the disk was full");
    assert!(
        wchan(seq).contains("pipe_write"),
        "seq left its write: {}",
        wchan(seq)
    );
    assert_eq!(std::fs::metadata(&log).expect("output.log").len(), size);
    assert_eq!(ws.record(&r.id).status, Status::Running);

    assert!(mount.remount("size=64m"), "remount with more space");
    let done = ws.wait(&r.id);
    assert_eq!(done.status, Status::Stopped, "{done:?}");
    assert_eq!(done.exit_code, Some(0), "{done:?}");
    assert!(ws.process_dir(&r.id).join("exit.json").is_file());
    let got = std::fs::read_to_string(&log).expect("read output.log");
    let want = expected_output();
    assert!(got == want, "{}", first_difference(&got, &want));
}
