//! The user's preferences, kept in the app's config folder as `settings.json`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What quitting does while processes run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub enum QuitBehavior {
    #[default]
    Ask,
    StopAll,
    LeaveRunning,
}

/// The order of the process list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub enum ProcessSort {
    /// Newest first.
    #[default]
    Started,
    /// Most CPU first.
    Cpu,
    /// Most resident memory first.
    Memory,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "camelCase", default)]
pub struct Prefs {
    pub quit_behavior: QuitBehavior,
    /// Notify when a process fails or is lost while the window is not focused.
    pub notifications: bool,
    /// Give started commands the login shell's environment (PATH with nvm, cargo, pyenv, …).
    pub login_shell_env: bool,
    /// Set FORCE_COLOR=1, CLICOLOR_FORCE=1 and PYTHONUNBUFFERED=1 for started commands.
    pub color_env: bool,
    /// Whether the user has been told once that closing the window keeps Procdeck in the tray.
    pub told_about_tray: bool,
    pub process_sort: ProcessSort,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            quit_behavior: QuitBehavior::Ask,
            notifications: true,
            login_shell_env: true,
            color_env: true,
            told_about_tray: false,
            process_sort: ProcessSort::Started,
        }
    }
}

pub struct PrefStore {
    path: PathBuf,
    prefs: Mutex<Prefs>,
}

impl PrefStore {
    pub fn load(dir: &Path) -> PrefStore {
        let path = dir.join("settings.json");
        let prefs = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!("{} is damaged ({e}); using defaults", path.display());
                Prefs::default()
            }),
            Err(_) => Prefs::default(),
        };
        PrefStore {
            path,
            prefs: Mutex::new(prefs),
        }
    }

    pub fn get(&self) -> Prefs {
        self.prefs.lock().map(|p| p.clone()).unwrap_or_default()
    }

    pub fn update(&self, change: impl FnOnce(&mut Prefs)) -> std::io::Result<Prefs> {
        let mut prefs = self
            .prefs
            .lock()
            .map_err(|_| std::io::Error::other("preferences lock poisoned"))?;
        change(&mut prefs);
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        procdeck_engine::atomic::write_json(&self.path, &*prefs).map_err(std::io::Error::other)?;
        Ok(prefs.clone())
    }
}
