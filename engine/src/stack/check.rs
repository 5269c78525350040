//! Checks of one stack entry's fields, shared by every stack format, each reported with the line
//! it concerns.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use crate::error::Result;
use crate::output::LineMatcher;

use super::{invalid, MAX_READY_TIMEOUT};

/// The longest entry name. Names are the titles of the processes an entry starts, so that a
/// process started by hand with that title counts as the entry's; they are shown in lists and
/// typed on command lines.
const MAX_NAME: usize = 128;

pub(super) fn name(file: &Path, line: usize, name: &str) -> Result<()> {
    if is_name(name) {
        Ok(())
    } else {
        Err(invalid(
            file,
            line,
            format!("{name:?} is not a valid name: use 1 to {MAX_NAME} characters, no control characters, no spaces at either end"),
        ))
    }
}

pub(super) fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && !name.chars().any(char::is_control)
        && name.trim() == name
}

pub(super) fn command(file: &Path, line: usize, entry: &str, command: &str) -> Result<()> {
    if command.trim().is_empty() {
        return Err(invalid(file, line, format!("{entry}'s command is empty")));
    }
    if command.contains('\0') {
        return Err(invalid(
            file,
            line,
            format!("{entry}'s command holds a NUL byte"),
        ));
    }
    Ok(())
}

pub(super) fn env(file: &Path, line: usize, entry: &str, key: &str, value: &str) -> Result<()> {
    if !crate::shell::is_env_name(key) {
        return Err(invalid(
            file,
            line,
            format!("{entry}'s environment variable {key:?} is not a valid name (letters, digits and _, not starting with a digit)"),
        ));
    }
    if value.contains('\0') {
        return Err(invalid(
            file,
            line,
            format!("{entry}'s {key} holds a NUL byte"),
        ));
    }
    Ok(())
}

/// A folder relative to the workspace that stays inside it, judged on the text alone (the
/// folder may not exist yet); symlinks are resolved, and checked again, when the entry starts.
pub(super) fn cwd(file: &Path, line: usize, entry: &str, cwd: &str) -> Result<PathBuf> {
    let path = PathBuf::from(cwd);
    let mut depth: usize = 0;
    for part in path.components() {
        match part {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => depth -= 1,
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(invalid(
                    file,
                    line,
                    format!("{entry}'s cwd {cwd:?} is outside the workspace folder: give a folder inside it, relative to it"),
                ))
            }
        }
    }
    Ok(path)
}

pub(super) fn log_regex(file: &Path, line: usize, entry: &str, pattern: &str) -> Result<()> {
    LineMatcher::visible(pattern)
        .map(|_| ())
        .map_err(|e| invalid(file, line, format!("{entry}'s ready.log_regex: {e}")))
}

pub(super) fn port(file: &Path, line: usize, entry: &str, port: i64) -> Result<u16> {
    u16::try_from(port).ok().filter(|&p| p > 0).ok_or_else(|| {
        invalid(
            file,
            line,
            format!("{entry}'s ready.port {port} is not a TCP port (1-65535)"),
        )
    })
}

pub(super) fn http(file: &Path, line: usize, entry: &str, url: &str) -> Result<()> {
    crate::ready::http::check_url(url).map_err(|reason| {
        invalid(
            file,
            line,
            format!("{entry}'s ready.http {url:?}: {reason}"),
        )
    })
}

pub(super) fn timeout(file: &Path, line: usize, entry: &str, seconds: f64) -> Result<Duration> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_READY_TIMEOUT.as_secs_f64() {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(invalid(
            file,
            line,
            format!(
                "{entry}'s ready.timeout_s {seconds} is out of range: give seconds above 0, at most {}",
                MAX_READY_TIMEOUT.as_secs()
            ),
        ))
    }
}
