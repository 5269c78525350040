//! Permission bits and folder syncs.

use std::fs::{DirBuilder, File, Metadata, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

pub(in crate::platform) fn new_file_permissions() -> Option<Permissions> {
    Some(Permissions::from_mode(0o666))
}

pub(in crate::platform) fn is_private(meta: &Metadata) -> bool {
    meta.permissions().mode() & 0o077 == 0
}

pub(in crate::platform) fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

pub(in crate::platform) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

pub(in crate::platform) fn is_executable(meta: &Metadata) -> bool {
    meta.permissions().mode() & 0o111 != 0
}
