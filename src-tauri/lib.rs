//! Procdeck's desktop shell: thin commands over procdeck-engine, live events and output streams
//! to the web view.

pub mod commands;
pub mod config;
pub mod desktop;
pub mod dto;
pub mod error;
pub mod prefs;
pub mod registry;
pub mod stacks;
pub mod streams;
#[cfg(test)]
mod test_records;
pub mod tray;

use std::path::PathBuf;
use std::sync::Arc;

use procdeck_engine::{settings, shellenv, BaseEnv, Settings};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::dto::{ProcessEvent, WorkspaceInfo, PROCESS_EVENT, WORKSPACES_EVENT};
use crate::prefs::PrefStore;
use crate::registry::{Notify, Registry};
use crate::streams::Streams;

struct EmitNotify<R: Runtime>(AppHandle<R>);

impl<R: Runtime> Notify for EmitNotify<R> {
    fn process(&self, event: ProcessEvent) {
        desktop::on_process_event(&self.0, &event);
        if let Err(e) = self.0.emit(PROCESS_EVENT, event) {
            tracing::warn!("cannot emit a process event: {e}");
        }
    }

    fn workspaces(&self, list: Vec<WorkspaceInfo>) {
        if let Err(e) = self.0.emit(WORKSPACES_EVENT, list) {
            tracing::warn!("cannot emit the workspace list: {e}");
        }
    }
}

/// The app's commands and the plugins they use, without state and without the desktop-only
/// plugins: the mock-runtime tests build on this and add state with [`install`].
pub fn builder<R: Runtime>() -> tauri::Builder<R> {
    with_commands(tauri::Builder::<R>::new())
}

fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(tauri::generate_handler![
            commands::list_workspaces,
            commands::take_requested_workspace,
            commands::add_workspace,
            commands::pick_workspace,
            commands::remove_workspace,
            commands::list_processes,
            commands::start_process,
            commands::stop_process,
            commands::kill_process,
            commands::restart_process,
            commands::remove_process,
            commands::read_output,
            commands::grep_output,
            commands::lines_before,
            commands::follow_output,
            commands::unfollow_output,
            commands::ack_output,
            commands::recent_commands,
            commands::open_output_file,
            commands::reveal_output_file,
            commands::suggestions,
            commands::listening_ports,
            commands::process_usage,
            commands::port_conflict,
            commands::take_port,
            commands::open_port,
            commands::get_prefs,
            commands::set_prefs,
            stacks::stack_show,
            stacks::stack_up,
            stacks::stack_down,
            stacks::stack_save,
        ])
}

/// Creates the app's state: the workspace registry (remembered folders plus `folders`) and the
/// output streams. `config_dir` defaults to the platform's app config folder. The workspaces are
/// opened on a thread of their own: this runs on the main thread while the app starts, and
/// opening a store reads (and may repair) it.
pub fn install<R: Runtime>(
    app: &AppHandle<R>,
    settings: Settings,
    config_dir: Option<PathBuf>,
    folders: &[PathBuf],
) -> tauri::Result<()> {
    let dir = match config_dir {
        Some(d) => d,
        None => app.path().app_config_dir()?,
    };
    let notify = Arc::new(EmitNotify(app.clone()));
    let registry = Registry::new(settings, dir.join("workspaces.json"), notify);
    app.manage(registry.clone());
    app.manage(Arc::new(Streams::default()));
    app.manage(PrefStore::load(&dir));
    let handle = app.clone();
    let folders = folders.to_vec();
    std::thread::Builder::new()
        .name("procdeck-open".into())
        .spawn(move || {
            registry.start_up(&folders);
            desktop::on_workspaces_opened(&handle);
        })?;
    Ok(())
}

/// The environment started commands get on top of the app's: the login shell's (an app started
/// from a desktop launcher has a bare PATH, without nvm, cargo or pyenv) and colour forcing, as
/// the preferences say. Worked out in the background; a start waits for it.
fn started_commands_env<R: Runtime>(
    app: &AppHandle<R>,
    config_dir: Option<&std::path::Path>,
) -> tauri::Result<BaseEnv> {
    let dir = match config_dir {
        Some(d) => d.to_owned(),
        None => app.path().app_config_dir()?,
    };
    let prefs = PrefStore::load(&dir).get();
    let env = BaseEnv::pending();
    let filled = env.clone();
    std::thread::spawn(move || {
        let mut vars = std::collections::BTreeMap::new();
        if prefs.login_shell_env {
            match shellenv::login_shell_env(LOGIN_SHELL_TIMEOUT) {
                Ok(found) => vars = found,
                Err(e) => {
                    tracing::warn!("using the app's own environment for started commands: {e}")
                }
            }
        }
        if prefs.color_env {
            vars.extend(shellenv::color_env());
        }
        filled.set(vars);
    });
    Ok(env)
}

const LOGIN_SHELL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Folders given on the command line (`procdeck-app ~/code/shop`) are added as workspaces.
fn folders_from_args() -> Vec<PathBuf> {
    std::env::args_os()
        .skip(1)
        .filter(|a| !a.to_string_lossy().starts_with('-'))
        .map(PathBuf::from)
        .collect()
}

pub fn run() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PROCDECK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let config_dir = std::env::var_os("PROCDECK_CONFIG_DIR").map(PathBuf::from);
    let folders = folders_from_args();
    // The single-instance plugin goes first, so a second launch is handed over before any other
    // plugin starts.
    let app = tauri::Builder::<tauri::Wry>::new()
        .plugin(tauri_plugin_single_instance::init(
            desktop::on_second_instance,
        ))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init());
    let app = with_commands(app)
        .setup(move |app| {
            let settings = Settings {
                base_env: started_commands_env(app.handle(), config_dir.as_deref())?,
                shim_exe: Some(settings::cli_beside_current_exe()?),
                ..Settings::default()
            };
            // The desktop state and the tray come first and start empty: the workspaces are
            // opened in the background, which then fills them in.
            app.manage(desktop::Desktop::default());
            app.manage(Arc::new(commands::FolderPicker::dialog(
                app.handle().clone(),
            )));
            tray::create(app.handle(), &tray::model(&[]))?;
            install(app.handle(), settings, config_dir.clone(), &folders)?;
            let handle = app.handle().clone();
            app.notification()
                .on_action(move |performed| desktop::on_notification_action(&handle, performed))?;
            Ok(())
        })
        .on_window_event(desktop::on_window_event)
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|handle, event| {
            if let tauri::RunEvent::Exit = event {
                if let Some(streams) = handle.try_state::<Arc<Streams>>() {
                    streams.stop_all();
                }
            }
        }),
        Err(e) => {
            tracing::error!("Procdeck could not start: {e}");
            std::process::exit(1);
        }
    }
}
