//! Opening files inside a store, which is untrusted input: never through a symbolic link, never
//! blocking on a FIFO, and only regular files.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read};
use std::path::Path;

use crate::error::{Error, IoContext, Result};
use crate::platform;

/// Opens `path` for reading; `None` when it does not exist. A symlink as the last component is
/// an error ([`platform::no_follow`]), and so is anything but a regular file: opening a FIFO
/// returns at once instead of waiting for a writer, and its metadata then turns it away.
pub(crate) fn open_regular(path: &Path) -> Result<Option<File>> {
    let file = match platform::no_follow(OpenOptions::new().read(true)).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(refusal(path, e)),
    };
    let kind = file.metadata().ctx("inspecting", path)?.file_type();
    if !kind.is_file() {
        return Err(Error::NotRegularFile {
            path: path.to_owned(),
            kind: platform::file_kind(kind),
        });
    }
    Ok(Some(file))
}

/// The whole content of a regular file, as [`open_regular`] opens it; `None` when missing.
pub(crate) fn read(path: &Path) -> Result<Option<Vec<u8>>> {
    let Some(mut file) = open_regular(path)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ctx("reading", path)?;
    Ok(Some(bytes))
}

/// A refusal to open a symlink as the last component: say so plainly.
pub(crate) fn refusal(path: &Path, e: io::Error) -> Error {
    if platform::is_symlink_refusal(&e) {
        Error::Symlink(path.to_owned())
    } else {
        Error::io("opening", path, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_fifos_and_folders_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::write(&real, b"data").unwrap();
        assert_eq!(read(&real).unwrap().unwrap(), b"data");
        assert!(read(&dir.path().join("missing")).unwrap().is_none());

        let link = dir.path().join("link");
        platform::symlink(&real, &link).unwrap();
        assert!(matches!(read(&link), Err(Error::Symlink(p)) if p == link));

        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        // Without O_NONBLOCK this open would wait for a writer forever.
        let err = read(&fifo).unwrap_err();
        assert!(
            err.to_string().contains("is a FIFO, not a regular file"),
            "{err}"
        );

        let err = read(dir.path()).unwrap_err();
        assert!(err.to_string().contains("is a folder"), "{err}");
    }
}
