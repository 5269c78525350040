//! `shellenv` with fake login shells (scripts that misbehave in the ways startup files do) and
//! the real bash. Login shells are a Unix matter: Windows has none.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use procdeck_engine::platform;
use procdeck_engine::shellenv::{
    login_shell_env, login_shell_env_from, login_shell_env_in, user_shell, ShellEnvError,
    RESOLVING_ENV_VAR,
};

/// Writes an executable script into `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, body).expect("write script");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// Runs the fake shell. Another test thread forking while a script was being written can hold
/// the script's write descriptor for a moment (ETXTBSY); that is a property of the test, not of
/// the code, so it is retried.
fn run(shell: &Path, timeout: Duration) -> Result<BTreeMap<String, String>, ShellEnvError> {
    retry_busy(shell, || login_shell_env_from(shell, timeout))
}

fn retry_busy(
    shell: &Path,
    capture: impl Fn() -> Result<BTreeMap<String, String>, ShellEnvError>,
) -> Result<BTreeMap<String, String>, ShellEnvError> {
    for _ in 0..50 {
        match capture() {
            Err(ShellEnvError::Spawn { source, .. })
                if source.raw_os_error() == Some(libc::ETXTBSY) =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
    panic!("{} stayed busy", shell.display());
}

/// Living (non-zombie) processes whose process group is `pgid`.
fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            platform::stat(pid).is_some_and(|s| s.pgrp == pgid as i32 && !s.has_exited())
        })
        .collect()
}

fn wait_for_pid_file(path: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(pid) = fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "{} never written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn assert_group_gone(pgid: u32) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let left = group_members(pgid);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "left behind: {left:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn kill(pid: u32) {
    // SAFETY: kill has no memory effects; at worst the pid is already gone.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

#[test]
fn noise_before_the_environment_is_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shell = script(
        dir.path(),
        "noisy",
        r#"#!/bin/sh
[ "$1" = "-ilc" ] || exit 9
[ "$PROCDECK_RESOLVING_ENVIRONMENT" = 1 ] || exit 8
printf 'Welcome to the machine\n'
printf 'junk\000NOT_A_VAR=1\000'
echo "bash: no job control in this shell" >&2
export MULTI='line one
line two=still the value'
export EMPTY=
export FROM_RC=yes
cd /tmp
/bin/sh -c "$2"
status=$?
printf 'Goodbye from .bash_logout\000LOGOUT=1\000'
exit $status
"#,
    );
    let env = run(&shell, Duration::from_secs(10)).expect("environment");
    assert_eq!(
        env.get("MULTI").map(String::as_str),
        Some("line one\nline two=still the value")
    );
    assert_eq!(env.get("EMPTY").map(String::as_str), Some(""));
    assert_eq!(env.get("FROM_RC").map(String::as_str), Some("yes"));
    assert!(env.contains_key("PATH"));
    for gone in [
        "PWD",
        "OLDPWD",
        "SHLVL",
        "_",
        "NOT_A_VAR",
        "LOGOUT",
        RESOLVING_ENV_VAR,
    ] {
        assert!(
            !env.contains_key(gone),
            "{gone} leaked: {:?}",
            env.get(gone)
        );
    }
}

#[test]
fn a_hanging_startup_file_times_out_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("pid");
    let shell = script(
        dir.path(),
        "hangs",
        &format!(
            "#!/bin/sh\necho $$ > '{}'\necho 'loading nvm...'\nsleep 30 &\nsleep 30\n",
            pid_file.display()
        ),
    );
    let timeout = Duration::from_secs(1);
    let started = Instant::now();
    let result = run(&shell, timeout);
    let took = started.elapsed();
    assert!(
        matches!(result, Err(ShellEnvError::Timeout { .. })),
        "{result:?}"
    );
    assert!(took < timeout + Duration::from_millis(500), "took {took:?}");
    let shell_pid = wait_for_pid_file(&pid_file);
    assert_group_gone(shell_pid);
    let message = result.expect_err("timeout").to_string();
    assert!(message.contains("1.0 s"), "{message}");
}

#[test]
fn a_failing_shell_reports_its_status_and_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shell = script(
        dir.path(),
        "fails",
        "#!/bin/sh\necho 'first noise' >&2\necho '.zshrc:12: command not found: compinit' >&2\nexit 3\n",
    );
    match run(&shell, Duration::from_secs(10)) {
        Err(ShellEnvError::Failed { status, stderr, .. }) => {
            assert_eq!(status.code(), Some(3));
            assert!(stderr.contains("command not found: compinit"), "{stderr}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn a_shell_that_prints_no_environment_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shell = script(dir.path(), "silent", "#!/bin/sh\necho 'hello'\nexit 0\n");
    match run(&shell, Duration::from_secs(10)) {
        Err(ShellEnvError::NoMarker { excerpt, .. }) => assert_eq!(excerpt, "hello"),
        other => panic!("expected NoMarker, got {other:?}"),
    }
}

#[test]
fn a_missing_shell_is_a_spawn_error() {
    let result = login_shell_env_from(Path::new("/nonexistent/shell"), Duration::from_secs(1));
    assert!(
        matches!(result, Err(ShellEnvError::Spawn { .. })),
        "{result:?}"
    );
}

#[test]
fn a_background_process_holding_the_pipe_does_not_delay_the_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("pid");
    let shell = script(
        dir.path(),
        "agent",
        &format!(
            "#!/bin/sh\nsleep 30 &\necho $! > '{}'\n/bin/sh -c \"$2\"\n",
            pid_file.display()
        ),
    );
    let started = Instant::now();
    let result = run(&shell, Duration::from_secs(10));
    let took = started.elapsed();
    let agent = wait_for_pid_file(&pid_file);
    kill(agent);
    assert!(result.expect("environment").contains_key("PATH"));
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn a_hanging_logout_file_keeps_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("pid");
    let shell = script(
        dir.path(),
        "logout",
        &format!(
            "#!/bin/sh\necho $$ > '{}'\n/bin/sh -c \"$2\"\nsleep 30\n",
            pid_file.display()
        ),
    );
    let started = Instant::now();
    let result = run(&shell, Duration::from_secs(10));
    let took = started.elapsed();
    assert!(result.expect("environment").contains_key("PATH"));
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_group_gone(wait_for_pid_file(&pid_file));
}

#[test]
fn the_real_bash_gives_a_path() {
    let env = run(Path::new("/bin/bash"), Duration::from_secs(20)).expect("bash environment");
    let path = env.get("PATH").expect("PATH");
    assert!(path.contains("/bin"), "{path}");
    assert!(!env.contains_key("SHLVL") && !env.contains_key("PWD"));
}

#[test]
fn the_users_shell_gives_a_path() {
    let shell = user_shell();
    assert!(shell.is_absolute(), "{}", shell.display());
    let env = login_shell_env(Duration::from_secs(20)).expect("login environment");
    assert!(env.contains_key("PATH"));
}

/// A `sleep` only this test run starts: its argument carries this process's pid.
fn unique_sleep(n: u32) -> String {
    format!("{}.{}", 9000 + n, std::process::id())
}

fn cmdline(pid: u32) -> String {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Alive and not a zombie.
fn running(pid: u32) -> bool {
    platform::stat(pid).is_some_and(|s| !s.has_exited())
}

/// Kills the test's own `sleep` if it is still there when the test ends, pass or fail.
struct SleepGuard {
    pid_file: PathBuf,
    arg: String,
}

impl Drop for SleepGuard {
    fn drop(&mut self) {
        let Some(pid) = fs::read_to_string(&self.pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        else {
            return;
        };
        if cmdline(pid).contains(&self.arg) {
            kill(pid);
        }
    }
}

/// A home folder whose `.bash_profile` reads `.bashrc`, as is usual, and `.bashrc` starts a
/// background job that outlives the shell (its output goes elsewhere, so it holds no pipe) and
/// records the folder the shell started in.
fn home_with_background_job(sleep: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("home");
    fs::write(
        home.path().join(".bash_profile"),
        "[ -f \"$HOME/.bashrc\" ] && . \"$HOME/.bashrc\"\n",
    )
    .expect("write .bash_profile");
    fs::write(
        home.path().join(".bashrc"),
        format!(
            "pwd -P > \"$HOME/cwd\"\nsleep {sleep} >/dev/null 2>&1 </dev/null &\necho $! > \"$HOME/bg.pid\"\n"
        ),
    )
    .expect("write .bashrc");
    home
}

#[test]
fn background_jobs_of_startup_files_are_killed_after_the_capture() {
    let sleep = unique_sleep(1);
    let home = home_with_background_job(&sleep);
    let _guard = SleepGuard {
        pid_file: home.path().join("bg.pid"),
        arg: sleep.clone(),
    };
    let env = login_shell_env_in(
        Path::new("/bin/bash"),
        Some(home.path()),
        Duration::from_secs(20),
    )
    .expect("environment");
    assert!(env.contains_key("PATH"));
    let pid = wait_for_pid_file(&home.path().join("bg.pid"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(pid) {
        assert!(
            Instant::now() < deadline,
            "the startup file's job {pid} ({}) outlived the capture",
            cmdline(pid)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_login_shell_starts_in_the_home_folder() {
    let sleep = unique_sleep(2);
    let home = home_with_background_job(&sleep);
    let _guard = SleepGuard {
        pid_file: home.path().join("bg.pid"),
        arg: sleep,
    };
    let env = login_shell_env_in(
        Path::new("/bin/bash"),
        Some(home.path()),
        Duration::from_secs(20),
    )
    .expect("environment");
    assert_eq!(
        env.get("HOME").map(PathBuf::from).as_deref(),
        Some(home.path())
    );
    let cwd = fs::read_to_string(home.path().join("cwd")).expect("cwd recorded");
    let expected = fs::canonicalize(home.path()).expect("canonical home");
    assert_eq!(Path::new(cwd.trim()), expected);
    assert_ne!(
        Path::new(cwd.trim()),
        std::env::current_dir().expect("test cwd")
    );
}

#[test]
fn without_a_home_folder_the_login_shell_starts_in_the_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd_file = dir.path().join("cwd");
    let shell = script(
        dir.path(),
        "records_cwd",
        &format!(
            "#!/bin/sh\npwd -P > '{}'\n/bin/sh -c \"$2\"\n",
            cwd_file.display()
        ),
    );
    let missing = dir.path().join("no-such-home");
    let env = retry_busy(&shell, || {
        login_shell_env_in(&shell, Some(&missing), Duration::from_secs(10))
    })
    .expect("environment");
    assert!(env.contains_key("PATH"));
    let cwd = fs::read_to_string(&cwd_file).expect("cwd recorded");
    assert_eq!(cwd.trim(), "/");
}
