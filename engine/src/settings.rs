use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Engine-wide defaults a front can change.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Time between SIGTERM and SIGKILL when stopping a tree.
    pub stop_grace: Duration,
    /// Output kept per process; older output is dropped in large steps when it is exceeded.
    pub output_cap_bytes: u64,
    /// The executable re-run as the shim (`<exe> __procdeck-shim <dir>`), which must call
    /// [`crate::shim::run_if_requested`] first thing. Defaults to the running executable (the
    /// CLI); the app sets [`cli_beside_current_exe`].
    pub shim_exe: Option<PathBuf>,
    /// Variables every started command gets on top of the starter's environment (the login
    /// shell's, colour forcing); a start's own variables override them. Not stored in records.
    pub base_env: BaseEnv,
    /// This user's key for marking records as their own ([`crate::origin`]); None marks none.
    pub key_file: Option<std::path::PathBuf>,
}

/// An environment that may still be being worked out (reading the login shell takes a moment):
/// starts wait for it, up to a limit, instead of running with a bare PATH.
#[derive(Clone, Default)]
pub struct BaseEnv(Arc<BaseEnvInner>);

#[derive(Default)]
struct BaseEnvInner {
    value: Mutex<Option<BTreeMap<String, String>>>,
    ready: Condvar,
}

impl std::fmt::Debug for BaseEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self
            .0
            .value
            .lock()
            .ok()
            .and_then(|v| v.as_ref().map(BTreeMap::len));
        f.debug_struct("BaseEnv")
            .field("variables", &count)
            .finish()
    }
}

impl BaseEnv {
    pub fn fixed(vars: BTreeMap<String, String>) -> Self {
        let env = BaseEnv::pending();
        env.set(vars);
        env
    }

    /// Not known yet: [`BaseEnv::get`] waits until [`BaseEnv::set`] is called.
    pub fn pending() -> Self {
        BaseEnv(Arc::new(BaseEnvInner {
            value: Mutex::new(None),
            ready: Condvar::new(),
        }))
    }

    pub fn set(&self, vars: BTreeMap<String, String>) {
        if let Ok(mut value) = self.0.value.lock() {
            *value = Some(vars);
        }
        self.0.ready.notify_all();
    }

    /// The variables, waiting up to `limit` while they are being worked out; empty after that.
    pub fn get(&self, limit: Duration) -> BTreeMap<String, String> {
        let Ok(guard) = self.0.value.lock() else {
            return BTreeMap::new();
        };
        match self
            .0
            .ready
            .wait_timeout_while(guard, limit, |v| v.is_none())
        {
            Ok((value, _)) => value.clone().unwrap_or_default(),
            Err(_) => BTreeMap::new(),
        }
    }
}

/// The CLI's file name. It is the small supervisor: the app runs it as the shim of every
/// process it starts instead of re-running its own, much larger, executable.
pub const CLI_NAME: &str = "procdeck";

/// The `procdeck` CLI installed beside `exe` (the package puts both in one folder; a cargo
/// build puts both in `target/<profile>/`).
pub fn cli_beside(exe: &Path) -> PathBuf {
    exe.with_file_name(CLI_NAME)
}

/// [`cli_beside`] the running executable.
pub fn cli_beside_current_exe() -> crate::Result<PathBuf> {
    std::env::current_exe()
        .map(|exe| cli_beside(&exe))
        .map_err(|e| crate::Error::Spawn(format!("cannot find the running executable: {e}")))
}

pub const DEFAULT_OUTPUT_CAP: u64 = 256 * 1024 * 1024;
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(2);

impl Default for Settings {
    fn default() -> Self {
        Settings {
            stop_grace: DEFAULT_STOP_GRACE,
            output_cap_bytes: DEFAULT_OUTPUT_CAP,
            shim_exe: None,
            base_env: BaseEnv::fixed(BTreeMap::new()),
            key_file: crate::origin::default_key_file(),
        }
    }
}
