//! Checks of one stack entry's fields, shared by every stack format, each reported with the line
//! it concerns.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use crate::error::Result;
use crate::output::LineMatcher;

use super::{invalid, MAX_READY_TIMEOUT};

/// The longest entry name: names are titles, shown in lists and typed on command lines.
const MAX_NAME: usize = 64;

pub(super) fn name(file: &Path, line: usize, name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(())
    } else {
        Err(invalid(
            file,
            line,
            format!("{name:?} is not a valid name: use up to {MAX_NAME} letters, digits, '_', '-' or '.'"),
        ))
    }
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
