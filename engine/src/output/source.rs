//! An open `output.log` with the rotation check every read goes through.

use std::fs::File;
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::meta::{OutputMeta, OUTPUT_FILE};
use crate::error::{Error, IoContext, Result};

/// Block size for streaming copies and scans: large enough that syscalls do not dominate,
/// small enough to keep memory flat.
pub(crate) const COPY_BLOCK: usize = 1 << 20;

/// A process's output file, with its size as of `open` (or the last `refresh`): every read is
/// clamped to that size so one answer describes one consistent snapshot while the file grows.
#[derive(Debug)]
pub struct OutputSource {
    id: String,
    dir: PathBuf,
    path: PathBuf,
    file: Option<File>,
    len: u64,
    /// The highest `keptFrom` seen; shared readers may raise it, it never goes down.
    kept_from: AtomicU64,
    /// Bytes read so far, so tests and benchmarks can check that a read costs what it returns.
    bytes_read: AtomicU64,
}

impl OutputSource {
    /// A missing `output.log` is an empty output: the process may not have written yet.
    pub fn open(id: &str, process_dir: &Path) -> Result<Self> {
        let mut src = OutputSource {
            id: id.to_owned(),
            dir: process_dir.to_owned(),
            path: process_dir.join(OUTPUT_FILE),
            file: None,
            len: 0,
            kept_from: AtomicU64::new(0),
            bytes_read: AtomicU64::new(0),
        };
        src.refresh()?;
        Ok(src)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The logical size at the snapshot: every byte written so far, dropped ones included.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first kept offset as last seen, never beyond the snapshot's size.
    pub fn kept_from(&self) -> u64 {
        self.kept_from.load(Ordering::Acquire).min(self.len)
    }

    /// Takes a new snapshot of the size and the first kept offset.
    pub fn refresh(&mut self) -> Result<()> {
        // keptFrom first: a size taken after it can only be larger, never hiding a drop.
        self.reload_kept_from();
        if self.file.is_none() {
            // Never through a symlink, never waiting on a FIFO: the store may come from elsewhere.
            self.file = crate::nofollow::open_regular(&self.path)?;
        }
        self.len = match &self.file {
            Some(f) => f.metadata().ctx("reading the size of", &self.path)?.len(),
            None => 0,
        };
        Ok(())
    }

    /// Bytes read from the file since it was opened.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Re-reads `output.meta.json` and returns the first kept offset (clamped to the snapshot).
    pub fn reload_kept_from(&self) -> u64 {
        let fresh = OutputMeta::load(&self.dir).kept_from;
        self.kept_from.fetch_max(fresh, Ordering::AcqRel);
        self.kept_from()
    }

    /// One positioned read, without the rotation check: the bytes may be zeros from a hole.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let Some(file) = &self.file else { return Ok(0) };
        loop {
            match crate::platform::read_at(file, buf, offset) {
                Ok(n) => {
                    self.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("reading", &self.path, e)),
            }
        }
    }

    /// Reads the bytes of `[offset, offset + buf.len())` that are kept and within the snapshot,
    /// and returns the part of `buf` that holds them (its byte `i` is at offset `offset + i`).
    ///
    /// The first kept offset is re-read after the data: rotation announces a new offset before
    /// punching the hole, so any byte below the re-read value may already be a zero and is left
    /// out, while bytes at or above it were read before any hole could reach them.
    pub fn read_kept(&self, offset: u64, buf: &mut [u8]) -> Result<Range<usize>> {
        let end = offset.saturating_add(buf.len() as u64).min(self.len);
        let begin = offset.max(self.kept_from()).min(end);
        let (lo, hi) = ((begin - offset) as usize, (end - offset) as usize);
        let mut done = lo;
        while done < hi {
            let n = self.read_at(offset + done as u64, &mut buf[done..hi])?;
            if n == 0 {
                // The supervisor only appends, so this is someone truncating the file.
                return Err(Error::io(
                    "reading",
                    &self.path,
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the file shrank while being read",
                    ),
                ));
            }
            done += n;
        }
        if lo == hi {
            return Ok(lo..hi);
        }
        let kept = self.reload_kept_from();
        let valid_lo = kept.clamp(begin, end);
        Ok((valid_lo - offset) as usize..hi)
    }
}

/// Streams the kept bytes of `[start, end)` to `out` in blocks, so the whole output can be
/// printed without holding it. Returns the number of bytes written. Bytes dropped by rotation
/// while copying are skipped, never written as zeros.
pub fn copy_to(src: &OutputSource, start: u64, end: u64, out: &mut dyn Write) -> Result<u64> {
    let end = end.min(src.len());
    let mut pos = start.max(src.kept_from());
    let mut buf = vec![0u8; end.saturating_sub(pos).min(COPY_BLOCK as u64) as usize];
    let mut written = 0u64;
    while pos < end {
        let want = (end - pos).min(COPY_BLOCK as u64) as usize;
        let got = src.read_kept(pos, &mut buf[..want])?;
        out.write_all(&buf[got.clone()])
            .ctx("copying", src.path())?;
        written += got.len() as u64;
        pos += want as u64;
    }
    Ok(written)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A process folder holding `bytes` as its output.
    pub fn folder_with(bytes: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(OUTPUT_FILE), bytes).unwrap();
        dir
    }

    /// Rotates as the shim does: announce the new first kept offset, then punch the hole.
    pub fn rotate(dir: &Path, kept_from: u64) {
        OutputMeta::store(dir, &OutputMeta { kept_from }).unwrap();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(OUTPUT_FILE))
            .unwrap();
        crate::platform::punch_hole(&f, kept_from).expect("punching a hole");
    }

    #[test]
    fn missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let src = OutputSource::open("p", dir.path()).unwrap();
        assert_eq!((src.len(), src.kept_from(), src.id()), (0, 0, "p"));
        let mut buf = [0u8; 8];
        assert_eq!(src.read_at(0, &mut buf).unwrap(), 0);
        assert_eq!(src.read_kept(0, &mut buf).unwrap(), 0..0);
        let mut out = Vec::new();
        assert_eq!(copy_to(&src, 0, u64::MAX, &mut out).unwrap(), 0);
        assert!(out.is_empty());
    }

    #[test]
    fn snapshot_and_refresh() {
        let dir = folder_with(b"hello");
        let mut src = OutputSource::open("p", dir.path()).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(OUTPUT_FILE))
            .unwrap();
        f.write_all(b" world").unwrap();
        let mut buf = [0u8; 32];
        let r = src.read_kept(0, &mut buf).unwrap();
        assert_eq!(&buf[r], b"hello");
        src.refresh().unwrap();
        assert_eq!(src.len(), 11);
        let r = src.read_kept(3, &mut buf).unwrap();
        assert_eq!(&buf[r], b"lo world");
    }

    #[test]
    fn rotation_seen_after_open_hides_dropped_bytes() {
        let data: Vec<u8> = (0..3 * 4096u32).map(|i| b'a' + (i % 26) as u8).collect();
        let dir = folder_with(&data);
        let src = OutputSource::open("p", dir.path()).unwrap();
        assert_eq!(src.kept_from(), 0);
        // Rotation happens between open and read: the read must notice it.
        rotate(dir.path(), 4096);
        let mut buf = vec![0u8; data.len()];
        let r = src.read_kept(0, &mut buf).unwrap();
        assert_eq!(r, 4096..data.len());
        assert_eq!(&buf[r], &data[4096..]);
        assert_eq!(src.kept_from(), 4096);
        let mut out = Vec::new();
        assert_eq!(
            copy_to(&src, 0, u64::MAX, &mut out).unwrap(),
            data.len() as u64 - 4096
        );
        assert_eq!(out, &data[4096..]);
        let mut out = Vec::new();
        copy_to(&src, 5000, 6000, &mut out).unwrap();
        assert_eq!(out, &data[5000..6000]);
    }

    #[test]
    fn copy_spans_blocks() {
        let data: Vec<u8> = (0..(COPY_BLOCK * 2 + 777))
            .map(|i| (i % 251) as u8)
            .collect();
        let dir = folder_with(&data);
        let src = OutputSource::open("p", dir.path()).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            copy_to(&src, 10, u64::MAX, &mut out).unwrap(),
            data.len() as u64 - 10
        );
        assert_eq!(out, &data[10..]);
    }
}
