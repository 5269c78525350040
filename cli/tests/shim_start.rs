//! How a shim is started and starts its command: the supervisor executable must exist, and the
//! command runs with the shell at its absolute path, so a `bash` that a command's environment or
//! the starter's `PATH` puts first is never run.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;
use procdeck_engine::Status;

/// A folder holding a `bash` that records that it ran, then behaves like bash.
fn planted_bash(dir: &Path) -> (PathBuf, PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).expect("create bin");
    let marker = dir.join("planted-bash-ran");
    let bash = bin.join("bash");
    std::fs::write(
        &bash,
        format!(
            "#!/bin/sh\necho planted >> '{}'\nexec /bin/bash \"$@\"\n",
            marker.display()
        ),
    )
    .expect("write planted bash");
    std::fs::set_permissions(&bash, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (bin, marker)
}

fn path_with_first(bin: &Path) -> String {
    let rest = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    format!("{}:{rest}", bin.display())
}

fn assert_ran_with_the_real_shell(ws: &TestWs, id: &str, marker: &Path) {
    let done = ws.wait(id);
    assert_eq!(done.status, Status::Stopped, "{done:?}");
    assert_eq!(ws.output(id), "ran\n");
    assert!(
        !marker.exists(),
        "the planted bash ran: {}",
        std::fs::read_to_string(marker).unwrap_or_default()
    );
}

#[test]
fn a_bash_on_the_commands_path_is_not_the_shell() {
    let ws = TestWs::new();
    let planted = tempfile::tempdir().expect("tempdir");
    let (bin, marker) = planted_bash(planted.path());
    let env = format!("PATH={}", path_with_first(&bin));
    let r = ws.start_with(&["--env", &env], "echo ran");
    assert_ran_with_the_real_shell(&ws, &r.id, &marker);
}

#[test]
fn a_bash_on_the_starters_path_is_not_the_shell() {
    let ws = TestWs::new();
    let planted = tempfile::tempdir().expect("tempdir");
    let (bin, marker) = planted_bash(planted.path());
    let out = ws
        .command(["--json", "start", "--", "echo ran"])
        .env("PATH", path_with_first(&bin))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run procdeck");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: procdeck_engine::ProcessRecord =
        serde_json::from_slice(&out.stdout).expect("start prints a record");
    assert_ran_with_the_real_shell(&ws, &r.id, &marker);
}

#[test]
fn a_missing_supervisor_is_named_in_the_error() {
    let ws = TestWs::new();
    let missing = ws.path().join("no-such-dir").join("procdeck");
    let mut s = settings();
    s.shim_exe = Some(missing.clone());
    let (engine_ws, _) = procdeck_engine::Workspace::open(ws.path(), s).expect("open");
    let err = engine_ws
        .start(procdeck_engine::StartRequest::new("echo never"))
        .expect_err("no supervisor");
    let message = err.to_string();
    assert!(
        message.contains(&missing.display().to_string()) && message.contains("missing"),
        "{message}"
    );
    assert!(engine_ws.list().expect("list").is_empty());
}
