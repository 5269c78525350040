//! What the app remembers between runs, in its config folder: the workspaces and, for each, the
//! commands recently started.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const RECENT_LIMIT: usize = 20;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    #[serde(default)]
    pub workspaces: Vec<PathBuf>,
    #[serde(default)]
    pub recent_commands: BTreeMap<String, Vec<String>>,
}

impl Config {
    /// A missing file is a first run; a damaged one is set aside (never silently lost) and the
    /// app starts with nothing remembered.
    pub fn load(path: &Path) -> Config {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("cannot read {}: {e}", path.display());
                }
                return Config::default();
            }
        };
        match serde_json::from_slice(&bytes) {
            Ok(c) => c,
            Err(e) => {
                let aside = path.with_extension("json.damaged");
                tracing::warn!(
                    "{} is damaged ({e}); kept as {}",
                    path.display(),
                    aside.display()
                );
                let _ = std::fs::rename(path, aside);
                Config::default()
            }
        }
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        procdeck_engine::atomic::write_json(path, self).map_err(std::io::Error::other)
    }

    pub fn remember_command(&mut self, workspace: &Path, command: &str) {
        let list = self
            .recent_commands
            .entry(workspace.to_string_lossy().into_owned())
            .or_default();
        list.retain(|c| c != command);
        list.insert(0, command.to_owned());
        list.truncate(RECENT_LIMIT);
    }

    pub fn recent(&self, workspace: &Path) -> Vec<String> {
        self.recent_commands
            .get(&*workspace.to_string_lossy())
            .cloned()
            .unwrap_or_default()
    }
}
