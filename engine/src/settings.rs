use std::time::Duration;

/// Engine-wide defaults a front can change.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Time between SIGTERM and SIGKILL when stopping a tree.
    pub stop_grace: Duration,
    /// Output kept per process; older output is dropped in large steps when it is exceeded.
    pub output_cap_bytes: u64,
    /// The executable re-run as the shim (`<exe> __procdeck-shim <dir>`). Defaults to the
    /// running executable, which must call [`crate::shim::run_if_requested`] first thing.
    pub shim_exe: Option<std::path::PathBuf>,
}

pub const DEFAULT_OUTPUT_CAP: u64 = 256 * 1024 * 1024;
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(2);

impl Default for Settings {
    fn default() -> Self {
        Settings {
            stop_grace: DEFAULT_STOP_GRACE,
            output_cap_bytes: DEFAULT_OUTPUT_CAP,
            shim_exe: None,
        }
    }
}
