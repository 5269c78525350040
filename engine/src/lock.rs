//! An advisory lock across processes, so the app and any number of CLIs can change one
//! workspace's index at once without losing a record.

use std::fs::OpenOptions;
use std::path::Path;

use crate::error::{Error, IoContext, Result};
use crate::{nofollow, platform};

pub struct FileLock {
    _lock: platform::ExclusiveLock,
}

impl FileLock {
    pub fn exclusive(path: &Path) -> Result<FileLock> {
        // Never through a symlink: creating or opening one would touch a file outside the store.
        let file = platform::no_follow(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        )
        .open(path)
        .map_err(|e| nofollow::refusal(path, e))?;
        let kind = file.metadata().ctx("inspecting", path)?.file_type();
        if !kind.is_file() {
            return Err(Error::NotRegularFile {
                path: path.to_owned(),
                kind: platform::file_kind(kind),
            });
        }
        let lock = platform::lock_exclusive(file).ctx("locking", path)?;
        Ok(FileLock { _lock: lock })
    }
}
