//! `output.meta.json`: the first offset of `output.log` still kept after rotation.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;

pub const OUTPUT_FILE: &str = "output.log";
pub const OUTPUT_META_FILE: &str = "output.meta.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OutputMeta {
    /// Bytes before this offset were dropped by rotation (they read as zeros). It only grows, and
    /// the shim records it before punching the hole, which is what makes re-reading it after a
    /// read a sound check.
    pub kept_from: u64,
}

impl OutputMeta {
    /// A missing or unreadable file means nothing was dropped: rotation always writes it before
    /// dropping anything, and the file is replaced atomically, so a torn read is not possible.
    pub fn load(dir: &Path) -> OutputMeta {
        crate::nofollow::read(&dir.join(OUTPUT_META_FILE))
            .ok()
            .flatten()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn store(dir: &Path, meta: &OutputMeta) -> Result<()> {
        crate::atomic::write_json(&dir.join(OUTPUT_META_FILE), meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_fallbacks() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(OutputMeta::load(dir.path()).kept_from, 0);
        OutputMeta::store(dir.path(), &OutputMeta { kept_from: 8192 }).unwrap();
        let text = std::fs::read_to_string(dir.path().join(OUTPUT_META_FILE)).unwrap();
        assert!(text.contains("\"keptFrom\": 8192"), "{text}");
        assert_eq!(OutputMeta::load(dir.path()).kept_from, 8192);
        std::fs::write(dir.path().join(OUTPUT_META_FILE), b"{\"keptFr").unwrap();
        assert_eq!(OutputMeta::load(dir.path()).kept_from, 0);
        std::fs::write(dir.path().join(OUTPUT_META_FILE), b"{}").unwrap();
        assert_eq!(OutputMeta::load(dir.path()).kept_from, 0);
    }
}
