//! Which process records this user's Procdeck made. A `.procdeck` folder can come with a cloned
//! repository or from another user of a shared folder, and running the command and environment
//! it holds runs whatever its author wrote. So every `spec.json` written here carries a tag,
//! HMAC-SHA256 under a key only this user can read, over everything the spec says to run and
//! the workspace folder it belongs to; a record is [`Origin::Own`] only when its tag verifies.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, IoContext, Result};
use crate::platform;
use crate::procdir::{self, Spec};
use crate::record::{Origin, ProcessRecord};

type HmacSha256 = Hmac<Sha256>;

const KEY_LEN: usize = 32;
const KEY_FILE: &str = "record-key";
/// Part of every signed message, so that a tag made for another purpose, or for an older
/// encoding, never verifies a spec.
const DOMAIN: &[u8] = b"procdeck spec.json tag v1";
/// The same for a stack file's confirmation.
const STACK_DOMAIN: &[u8] = b"procdeck stack confirmation v1";

/// Where this user's key lives: `$XDG_DATA_HOME/procdeck/record-key`, else
/// `~/.local/share/procdeck/record-key` (relative values are ignored, as the XDG spec says).
pub fn default_key_file() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let data =
        absolute("XDG_DATA_HOME").or_else(|| absolute("HOME").map(|h| h.join(".local/share")))?;
    Some(data.join("procdeck").join(KEY_FILE))
}

/// The per-user key, read on first use and made the first time a spec is signed.
pub struct Trust {
    file: Option<PathBuf>,
    state: Mutex<KeyState>,
}

enum KeyState {
    /// Not read yet, or absent at the last look (another Procdeck may make it at any time).
    Unknown,
    Loaded(Key),
    /// Present but unusable; said once, then every record is foreign.
    Broken,
}

struct Key([u8; KEY_LEN]);

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust").field("file", &self.file).finish()
    }
}

impl Trust {
    /// Trust backed by the key in `file`; with None nothing verifies and nothing is signed.
    pub fn new(file: Option<PathBuf>) -> Trust {
        Trust {
            file,
            state: Mutex::new(KeyState::Unknown),
        }
    }

    /// The tag for `spec` in the workspace `folder`, making the key if there is none yet.
    /// None when there is no usable key (no home folder, a damaged key file): the spec is then
    /// written untagged and its record is foreign, which costs a confirmation, never a start.
    pub fn sign(&self, spec: &Spec, folder: &Path) -> Option<String> {
        self.with_key(true, |key| {
            hex::encode(key.mac(spec, folder).finalize().into_bytes())
        })
    }

    /// Own when `spec`'s tag verifies for the workspace `folder` under this user's key.
    pub fn origin(&self, spec: &Spec, folder: &Path) -> Origin {
        let Some(tag) = spec.tag.as_deref().and_then(|t| hex::decode(t).ok()) else {
            return Origin::Foreign;
        };
        let verified = self.with_key(false, |key| {
            key.mac(spec, folder).verify_slice(&tag).is_ok()
        });
        if verified == Some(true) {
            Origin::Own
        } else {
            Origin::Foreign
        }
    }

    /// The tag saying this user confirmed running the stack file whose content has `digest`, in
    /// the workspace `folder`; None without a usable key (the stack is then asked about again).
    pub fn sign_stack(&self, digest: &str, folder: &Path) -> Option<String> {
        self.with_key(true, |key| {
            hex::encode(key.stack_mac(digest, folder).finalize().into_bytes())
        })
    }

    /// Whether `tag` says this user confirmed the stack file with `digest` in `folder`.
    pub fn stack_confirmed(&self, tag: &str, digest: &str, folder: &Path) -> bool {
        let Ok(tag) = hex::decode(tag.trim()) else {
            return false;
        };
        self.with_key(false, |key| {
            key.stack_mac(digest, folder).verify_slice(&tag).is_ok()
        }) == Some(true)
    }

    /// Brings what `record` says it runs from the `spec.json` in its folder `dir` (the file a
    /// restart runs, so that a record never shows one thing and runs another) and marks whether
    /// it is this user's own. A missing or unreadable spec leaves a foreign record.
    pub(crate) fn stamp(&self, record: &mut ProcessRecord, dir: &Path, folder: &Path) {
        let spec = match procdir::read_json::<Spec>(&dir.join(procdir::SPEC)) {
            Ok(Some(spec)) if spec.id == record.id => spec,
            _ => {
                record.origin = Origin::Foreign;
                record.service = crate::runs::service_key(&record.title, &record.cwd);
                return;
            }
        };
        record.origin = self.origin(&spec, folder);
        record.title = spec.title;
        record.command = spec.command;
        record.cwd = spec.cwd.to_string_lossy().into_owned();
        record.env = spec.env;
        record.stop_grace_ms = spec.stop_grace_ms;
        record.output_cap_bytes = spec.output_cap_bytes;
        record.started_by = spec.started_by;
        record.service = crate::runs::service_key(&record.title, &record.cwd);
    }

    fn with_key<T>(&self, create: bool, f: impl FnOnce(&Key) -> T) -> Option<T> {
        let file = self.file.as_deref()?;
        let mut state = self.state.lock().ok()?;
        if let KeyState::Unknown = *state {
            let loaded = if create {
                load_or_create(file)
            } else {
                load(file)
            };
            *state = match loaded {
                Ok(Some(key)) => KeyState::Loaded(key),
                Ok(None) => KeyState::Unknown,
                Err(e) => {
                    tracing::warn!("records cannot be marked as this user's own: {e}");
                    KeyState::Broken
                }
            };
        }
        match &*state {
            KeyState::Loaded(key) => Some(f(key)),
            KeyState::Unknown | KeyState::Broken => None,
        }
    }
}

impl Key {
    fn stack_mac(&self, digest: &str, folder: &Path) -> HmacSha256 {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        for bytes in [
            STACK_DOMAIN,
            folder.as_os_str().as_encoded_bytes(),
            digest.as_bytes(),
        ] {
            mac.update(&(bytes.len() as u64).to_le_bytes());
            mac.update(bytes);
        }
        mac
    }

    /// The MAC over an unambiguous encoding of the spec: every field length-prefixed, in a
    /// fixed order, so that no two different specs feed it the same bytes.
    fn mac(&self, spec: &Spec, folder: &Path) -> HmacSha256 {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        let mut field = |bytes: &[u8]| {
            mac.update(&(bytes.len() as u64).to_le_bytes());
            mac.update(bytes);
        };
        field(DOMAIN);
        field(spec.id.as_bytes());
        field(spec.workspace_id.as_bytes());
        field(folder.as_os_str().as_encoded_bytes());
        field(spec.cwd.as_os_str().as_encoded_bytes());
        field(spec.title.as_bytes());
        field(spec.command.as_bytes());
        field(&(spec.env.len() as u64).to_le_bytes());
        for (name, value) in &spec.env {
            field(name.as_bytes());
            field(value.as_bytes());
        }
        field(spec.started_at.as_bytes());
        field(&spec.stop_grace_ms.to_le_bytes());
        field(&spec.output_cap_bytes.to_le_bytes());
        // Appended only when present, so that specs written before it was kept still verify.
        if let Some(by) = &spec.started_by {
            field(b"startedBy");
            field(by.kind_str().as_bytes());
            field(by.client.as_deref().unwrap_or("").as_bytes());
        }
        mac
    }
}

/// Reads the key; None when the file does not exist. The file is opened without following a
/// symlink and must be a regular file of exactly the key's length that only its owner can read
/// or write: anything else could have been put there or read by somebody else.
fn load(file: &Path) -> Result<Option<Key>> {
    let mut f = match platform::no_follow(OpenOptions::new().read(true)).open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("opening the record key", file, e)),
    };
    let meta = f.metadata().ctx("inspecting the record key", file)?;
    let unsafe_key = |reason: &str| Error::UnsafeKey {
        path: file.to_owned(),
        reason: reason.to_owned(),
    };
    if !meta.is_file() {
        return Err(unsafe_key("it is not a regular file"));
    }
    if !platform::is_private(&meta) {
        return Err(unsafe_key(
            "other users can read or write it (expected mode 0600)",
        ));
    }
    if meta.len() != KEY_LEN as u64 {
        return Err(unsafe_key(&format!(
            "it holds {} bytes, not {KEY_LEN}",
            meta.len()
        )));
    }
    let mut key = [0u8; KEY_LEN];
    f.read_exact(&mut key).ctx("reading the record key", file)?;
    Ok(Some(Key(key)))
}

/// Reads the key, or makes it: random bytes written to a private temporary file in the key's
/// folder, then linked to its name only if nothing is there (never replacing or following
/// whatever is), so that two Procdecks starting at once end up with the same key.
fn load_or_create(file: &Path) -> Result<Option<Key>> {
    if let Some(key) = load(file)? {
        return Ok(Some(key));
    }
    let Some(dir) = file.parent() else {
        return Ok(None);
    };
    platform::create_private_dir_all(dir).ctx("creating", dir)?;
    let mut key = [0u8; KEY_LEN];
    rand::fill(&mut key[..]);
    // tempfile creates the file exclusively with mode 0600.
    let mut tmp = tempfile::Builder::new()
        .prefix(".record-key.")
        .tempfile_in(dir)
        .ctx("creating a file in", dir)?;
    tmp.write_all(&key).ctx("writing", tmp.path())?;
    tmp.as_file().sync_all().ctx("syncing", tmp.path())?;
    match tmp.persist_noclobber(file) {
        Ok(_) => {
            // Durable once the folder is synced; without it the key is still in place now.
            let _ = platform::sync_dir(dir);
            tracing::info!("made the record key {}", file.display());
            Ok(Some(Key(key)))
        }
        Err(e) if e.error.kind() == ErrorKind::AlreadyExists => load(file),
        // Dropping the error deletes the temporary file.
        Err(e) => Err(Error::io("creating the record key", file, e.error)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn spec() -> Spec {
        Spec {
            id: "proc_2026-11-30T1200_abcdef".into(),
            workspace_id: "ws_123456789abc".into(),
            title: "dev".into(),
            command: "npm run dev".into(),
            cwd: PathBuf::from("/p"),
            env: BTreeMap::from([("A".into(), "1".into())]),
            started_at: "2026-11-30T12:00:00.000Z".into(),
            stop_grace_ms: 2000,
            output_cap_bytes: 4096,
            started_by: Some(crate::record::StartedBy::agent("claude-code")),
            tag: None,
        }
    }

    #[test]
    fn a_signed_spec_is_own_and_any_change_makes_it_foreign() {
        let dir = tempfile::tempdir().expect("temp dir");
        let trust = Trust::new(Some(dir.path().join("procdeck").join(KEY_FILE)));
        let folder = Path::new("/p");
        let mut signed = spec();
        signed.tag = trust.sign(&signed, folder);
        assert!(signed.tag.is_some());
        assert_eq!(trust.origin(&signed, folder), Origin::Own);
        assert_eq!(trust.origin(&signed, Path::new("/copy")), Origin::Foreign);
        let changes: [fn(&mut Spec); 9] = [
            |s| s.started_by = Some(crate::record::StartedBy::app()),
            |s| s.started_by = Some(crate::record::StartedBy::agent("codex")),
            |s| s.command.push(' '),
            |s| s.title.push('x'),
            |s| {
                s.env.insert("BASH_ENV".into(), "./x.sh".into());
            },
            |s| s.cwd = PathBuf::from("/q"),
            |s| s.output_cap_bytes += 1,
            |s| s.stop_grace_ms += 1,
            |s| s.workspace_id.push('0'),
        ];
        for change in changes {
            let mut s = signed.clone();
            change(&mut s);
            assert_eq!(trust.origin(&s, folder), Origin::Foreign, "{s:?}");
        }
        // Windows files have no permission bits: the profile's access list keeps the key.
        #[cfg(unix)]
        {
            let key = dir.path().join("procdeck").join(KEY_FILE);
            assert_eq!(platform::mode(&key).expect("key made"), 0o600);
        }
        // A spec that never recorded its starter verifies as before.
        let mut unattributed = spec();
        unattributed.started_by = None;
        unattributed.tag = trust.sign(&unattributed, folder);
        assert_eq!(trust.origin(&unattributed, folder), Origin::Own);
        let mut claimed = unattributed.clone();
        claimed.started_by = Some(crate::record::StartedBy::cli());
        assert_eq!(trust.origin(&claimed, folder), Origin::Foreign);
        // Another handle on the same file (another Procdeck) agrees.
        assert_eq!(
            Trust::new(Some(dir.path().join("procdeck").join(KEY_FILE))).origin(&signed, folder),
            Origin::Own
        );
    }

    #[test]
    #[cfg(unix)]
    fn a_key_file_that_is_a_symlink_or_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, [7u8; KEY_LEN]).expect("write");
        platform::set_mode(&target, 0o600).expect("chmod");
        let link = dir.path().join("link");
        platform::symlink(&target, &link).expect("symlink");
        let trust = Trust::new(Some(link.clone()));
        assert!(trust.sign(&spec(), Path::new("/p")).is_none());
        assert_eq!(
            std::fs::read(&target).expect("read"),
            [7u8; KEY_LEN],
            "target untouched"
        );

        platform::set_mode(&target, 0o644).expect("chmod");
        assert!(matches!(load(&target), Err(Error::UnsafeKey { .. })));
    }
}
