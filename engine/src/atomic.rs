//! Crash-safe file replacement: write a temp file beside the target, fsync it, rename it over
//! the target, fsync the folder. A reader sees the old file or the new one, never a mix.
//!
//! The temp file gets a random name and is created exclusively (`O_CREAT | O_EXCL`, which never
//! follows a symlink): a store can be shipped by a repository or shared with another user, and a
//! link planted under a predictable name must not turn this write into one outside the store.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, IoContext, Result};
use crate::platform;

pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_as(path, bytes, Replace::Yes)
}

/// As [`write`], for a file that must not exist yet: an existing one (or a link in its place)
/// is left as it is, with an `AlreadyExists` error.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    write_as(path, bytes, Replace::No)
}

#[derive(PartialEq)]
enum Replace {
    Yes,
    No,
}

fn write_as(path: &Path, bytes: &[u8], replace: Replace) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    // Same mode as any file this process creates (the umask applies), not tempfile's 0600.
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    if let Some(permissions) = platform::new_file_permissions() {
        builder.permissions(permissions);
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .ctx("creating a temporary file for", path)?;
    // Dropping `tmp` before the rename deletes it, so an error below leaves nothing behind.
    // Errors name the target: the temp file is an implementation detail, and one message per
    // target lets a repeated failure be reported once.
    tmp.as_file_mut().write_all(bytes).ctx("writing", path)?;
    tmp.as_file().sync_all().ctx("syncing", path)?;
    if replace == Replace::Yes {
        // Closed before it is moved: Windows replaces only a file nobody holds open.
        let tmp = tmp.into_temp_path();
        platform::rename_replacing(&tmp, path).ctx("replacing", path)?;
        // Moved: there is nothing left to delete.
        let _ = tmp.keep();
    } else {
        tmp.persist_noclobber(path)
            .map_err(|e| Error::io("creating", path, e.error))?;
    }
    // The rename is durable once the folder is synced; a failure here loses nothing that the
    // rename did not already make visible.
    let _ = platform::sync_dir(dir);
    Ok(())
}

pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| crate::Error::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    bytes.push(b'\n');
    write(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_links_under_every_old_temp_name_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let sentinel = outside.path().join("sentinel");
        std::fs::write(&sentinel, b"keep me").unwrap();
        let me = std::process::id();
        for pid in [me, me.wrapping_sub(1), me + 1] {
            platform::symlink(
                &sentinel,
                &dir.path().join(format!(".index.json.{pid}.tmp")),
            )
            .unwrap();
        }
        let target = dir.path().join("index.json");
        write(&target, b"[]\n").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"[]\n");
        assert_eq!(std::fs::read(&sentinel).unwrap(), b"keep me");
        let temps = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .count();
        assert_eq!(temps, 0, "a temp file was left behind");
    }
}
