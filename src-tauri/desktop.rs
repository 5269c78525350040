//! Procdeck's life on the desktop: the tray, hiding to the tray on close while processes run,
//! quitting (stop them, or leave them to their shims), notifications of failures, and a second
//! launch handing its folders to the running instance.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use procdeck_engine::output::plain;
use procdeck_engine::stack::EntryState;
use procdeck_engine::{
    Event, ProcessRecord, ReadMethod, ReadRequest, StartedBy, Status, StopRequest, Workspace,
};
use serde_json::Value;
use tauri::Emitter;
use tauri::{AppHandle, Manager, Runtime, WindowEvent};
use tauri_plugin_dialog::{
    DialogExt, MessageDialogButtons, MessageDialogKind, MessageDialogResult,
};
use tauri_plugin_notification::{ActionPerformed, NotificationExt};

use crate::dto::{ProcessEvent, RevealProcess, REVEAL_EVENT, SELECT_WORKSPACE_EVENT};
use crate::prefs::{PrefStore, QuitBehavior};
use crate::registry::Registry;
use crate::tray::{self, TrayModel};

const EXTRA_WORKSPACE: &str = "workspaceId";
const EXTRA_PROCESS: &str = "processId";
const STOP_AND_QUIT: &str = "Stop them and quit";
const LEAVE_AND_QUIT: &str = "Leave them running and quit";

/// Desktop state, present only in the real app (not in mock-runtime tests).
/// How long tray changes are gathered before the tray is updated: a burst (a stack starting,
/// "Stop all", the click that stopped a process while its menu closes) becomes one update.
/// Tray hosts rebuild their menu on every update, and some have crashed doing so repeatedly.
const TRAY_SETTLE: Duration = Duration::from_millis(400);

#[derive(Default)]
pub struct Desktop {
    /// What the tray shows, or will show once the pending update runs.
    tray_model: Mutex<Option<TrayModel>>,
    tray_update_pending: AtomicBool,
    /// Last known status of each process (by workspace key and process id), to notice the
    /// moment one fails.
    statuses: Mutex<HashMap<(String, String), Status>>,
}

/// The start-up opening of the workspaces is done: what runs now is remembered, so that a
/// process already running when the app started is noticed when it fails, and the tray shows it.
pub fn on_workspaces_opened<R: Runtime>(app: &AppHandle<R>) {
    let (Some(desktop), Some(registry)) = (app.try_state::<Desktop>(), registry(app)) else {
        return;
    };
    if let Ok(mut statuses) = desktop.statuses.lock() {
        for (_, records) in registry.snapshot() {
            for r in records {
                // An event may already have told a newer status.
                statuses.entry((r.workspace_id, r.id)).or_insert(r.status);
            }
        }
    }
    refresh_tray(app);
}

pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

fn registry<R: Runtime>(app: &AppHandle<R>) -> Option<Arc<Registry>> {
    app.try_state::<Arc<Registry>>().map(|s| s.inner().clone())
}

/// Every workspace's running processes, read from their stores, for the quit question.
fn running_count<R: Runtime>(app: &AppHandle<R>) -> usize {
    registry(app).map_or(0, |r| {
        r.snapshot()
            .iter()
            .map(|(_, records)| records.iter().filter(|p| p.status.is_running()).count())
            .sum()
    })
}

/// Brings the tray up to date when what it shows changed, after [`TRAY_SETTLE`]. The process
/// lists are read on the calling thread (never the main one); only the menu update runs on the
/// main thread.
pub fn refresh_tray<R: Runtime>(app: &AppHandle<R>) {
    let (Some(desktop), Some(registry)) = (app.try_state::<Desktop>(), registry(app)) else {
        return;
    };
    let model = tray::model(&registry.snapshot());
    {
        let Ok(mut last) = desktop.tray_model.lock() else {
            return;
        };
        if last.as_ref() == Some(&model) {
            return;
        }
        *last = Some(model);
    }
    if desktop.tray_update_pending.swap(true, Ordering::SeqCst) {
        // The pending update will show this model, the latest.
        return;
    }
    let app = app.clone();
    std::thread::spawn(move || {
        std::thread::sleep(TRAY_SETTLE);
        let Some(desktop) = app.try_state::<Desktop>() else {
            return;
        };
        // Cleared before the model is read: a change from now on schedules an update of its own.
        desktop.tray_update_pending.store(false, Ordering::SeqCst);
        let model = desktop.tray_model.lock().ok().and_then(|m| m.clone());
        if let Some(model) = model {
            let handle = app.clone();
            let _ = app.run_on_main_thread(move || tray::update(&handle, &model));
        }
    });
}

/// Called for every process event: keeps the tray current and notifies failures.
pub fn on_process_event<R: Runtime>(app: &AppHandle<R>, event: &ProcessEvent) {
    let Some(desktop) = app.try_state::<Desktop>() else {
        return;
    };
    let changed = match &event.event {
        Event::Updated { record } => {
            let key = (event.workspace_id.clone(), record.id.clone());
            let before = desktop
                .statuses
                .lock()
                .ok()
                .and_then(|mut s| s.insert(key, record.status));
            if before == Some(Status::Running)
                && matches!(record.status, Status::Error | Status::Lost)
            {
                notify_failure(app, &event.workspace_id, record);
            }
            before != Some(record.status) || record.stopping_since.is_some()
        }
        Event::Removed { id, .. } => desktop
            .statuses
            .lock()
            .ok()
            .and_then(|mut s| s.remove(&(event.workspace_id.clone(), id.clone())))
            .is_some(),
    };
    if changed {
        refresh_tray(app);
    }
}

fn notify_failure<R: Runtime>(app: &AppHandle<R>, workspace: &str, record: &ProcessRecord) {
    let prefs = app
        .try_state::<PrefStore>()
        .map(|p| p.get())
        .unwrap_or_default();
    let focused = app
        .get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false);
    if !prefs.notifications || focused {
        return;
    }
    let last = registry(app)
        .and_then(|r| r.get(workspace).ok())
        .map(|ws| last_output_lines(&ws, &record.id))
        .unwrap_or_default();
    let (title, body) = failure_notification(record, &last);
    let shown = app
        .notification()
        .builder()
        .title(title)
        .body(body)
        .extra(EXTRA_WORKSPACE, &record.workspace_id)
        .extra(EXTRA_PROCESS, &record.id)
        .show();
    if let Err(e) = shown {
        tracing::warn!("cannot show a notification: {e}");
    }
}

/// How many of a failed process's last lines its notification shows, and how wide each may be.
const NOTIFIED_LINES: usize = 3;
const NOTIFIED_LINE_CHARS: usize = 160;
/// How much of the end of the output is read to find them.
const NOTIFIED_TAIL_BYTES: u64 = 16 * 1024;

/// The last lines of a process's output that show something, as plain text (what tells the user
/// what happened: "FAILED: 3 tests", "error[E0308]: …"). Empty when there is nothing to read.
fn last_output_lines(ws: &Workspace, id: &str) -> Vec<String> {
    let request = ReadRequest {
        max_bytes: Some(NOTIFIED_TAIL_BYTES),
        ..ReadRequest::new(ReadMethod::Full)
    };
    match ws.read(id, &request) {
        Ok(read) => plain::last_lines(&read.content, NOTIFIED_LINES, NOTIFIED_LINE_CHARS),
        Err(e) => {
            tracing::warn!("cannot read the output of {id} for its notification: {e}");
            Vec::new()
        }
    }
}

/// The title and body of the notification that `record` failed, with `last_lines` of its output.
/// The process's title, command and output can come from a cloned repository and Linux
/// notification servers read the body as markup (bold, links, images), so they go only in the
/// body, escaped; the title holds only Procdeck's own words (servers show titles as plain text,
/// where escapes would show). The command is shown only when there is no output to show.
pub fn failure_notification(record: &ProcessRecord, last_lines: &[String]) -> (String, String) {
    let how = match (record.status, record.exit_code, record.signal) {
        (Status::Lost, ..) => "was lost (its supervisor vanished)".to_owned(),
        (_, _, Some(sig)) => format!(
            "was killed by {}",
            procdeck_engine::platform::signal_name(sig)
        ),
        (_, Some(code), None) => format!("exited with code {code}"),
        _ => "failed".to_owned(),
    };
    let mut body = escape_markup(&record.title);
    if !last_lines.is_empty() {
        for line in last_lines {
            body.push('\n');
            body.push_str(&escape_markup(line));
        }
    } else if record.command != record.title {
        body.push('\n');
        body.push_str(&escape_markup(&record.command));
    }
    (format!("A process {how}"), body)
}

/// `text` with the characters notification markup gives meaning to replaced by entities.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn on_tray_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    match id {
        tray::SHOW => show_window(app),
        tray::QUIT => request_quit(app),
        tray::STOP_ALL => {
            let app = app.clone();
            std::thread::spawn(move || stop_all(&app));
        }
        other => {
            if let Some(ws) = tray::parse_stack_item(other) {
                let (app, ws) = (app.clone(), ws.to_owned());
                std::thread::spawn(move || start_stack(&app, &ws));
                return;
            }
            let Some((ws, pid)) = tray::parse_stop_item(other) else {
                return;
            };
            let (ws, pid) = (ws.to_owned(), pid.to_owned());
            if let Some(registry) = registry(app) {
                std::thread::spawn(move || {
                    let stopped = registry.get(&ws).map_err(|e| e.message).and_then(|w| {
                        w.stop(&pid, StopRequest::default())
                            .map_err(|e| e.to_string())
                    });
                    if let Err(e) = stopped {
                        tracing::warn!("cannot stop {pid} from the tray: {e}");
                    }
                });
            }
        }
    }
}

/// Starts a workspace's stack from the tray; what did not start is said in a notification, as
/// nothing else shows it while the window is hidden. A stack not confirmed yet (a cloned
/// repository's, or a changed file) is not started: the window opens on it, where its commands
/// are shown and confirmed.
fn start_stack<R: Runtime>(app: &AppHandle<R>, workspace: &str) {
    let Some(registry) = registry(app) else {
        return;
    };
    let name = Path::new(workspace)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| workspace.to_owned());
    let started = registry
        .get(workspace)
        .map_err(|e| e.message)
        .and_then(|ws| {
            let stack = procdeck_engine::stack::load(ws.folder())
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "the workspace has no stack any more".to_owned())?;
            if !ws.stack_confirmed(&stack) {
                return Ok(None);
            }
            let never = std::sync::atomic::AtomicBool::new(false);
            ws.stack_up(&stack, &[], Some(StartedBy::app()), &never, &|_| {})
                .map(Some)
                .map_err(|e| e.to_string())
        });
    let (title, body) = match started {
        Err(e) => (format!("The stack of {name} did not start"), e),
        Ok(None) => {
            show_window(app);
            if let Err(e) = app.emit(SELECT_WORKSPACE_EVENT, workspace) {
                tracing::warn!("cannot show the workspace: {e}");
            }
            (
                format!("Look at the stack of {name} first"),
                "Its commands have not been confirmed here yet: the window shows them; Start stack asks before it runs them.".to_owned(),
            )
        }
        Ok(Some(finals)) => {
            let failed: Vec<String> = finals
                .iter()
                .filter_map(|s| match &s.state {
                    EntryState::Failed { reason } => Some(format!("{}: {reason}", s.name)),
                    EntryState::Skipped { because } => {
                        Some(format!("{}: not started, {because}", s.name))
                    }
                    _ => None,
                })
                .collect();
            if failed.is_empty() {
                return;
            }
            (
                format!("The stack of {name} did not fully start"),
                format!(
                    "{} of {} did not start. {}",
                    failed.len(),
                    finals.len(),
                    failed.join("; ")
                ),
            )
        }
    };
    tracing::warn!("starting the stack of {workspace}: {body}");
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!("cannot show a notification: {e}");
    }
}

fn stop_all<R: Runtime>(app: &AppHandle<R>) {
    let Some(registry) = registry(app) else {
        return;
    };
    if let Err(e) = registry.stop_all() {
        tracing::warn!("stopping everything: {}", e.message);
    }
}

/// Quitting with processes running asks (or follows the remembered choice): stop them all, or
/// leave them running — their shims keep them alive and the next start finds them.
pub fn request_quit<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    std::thread::spawn(move || {
        let running = running_count(&app);
        if running == 0 {
            app.exit(0);
            return;
        }
        let behavior = app
            .try_state::<PrefStore>()
            .map(|p| p.get().quit_behavior)
            .unwrap_or_default();
        let stop = match behavior {
            QuitBehavior::StopAll => true,
            QuitBehavior::LeaveRunning => false,
            QuitBehavior::Ask => {
                show_window(&app);
                let answer = app
                    .dialog()
                    .message(format!(
                        "{running} process{} still running. Stop {} before quitting, or leave {} running in the background? Procdeck finds them again when it next starts.",
                        if running == 1 { " is" } else { "es are" },
                        if running == 1 { "it" } else { "them" },
                        if running == 1 { "it" } else { "them" },
                    ))
                    .title("Quit Procdeck")
                    .kind(MessageDialogKind::Warning)
                    .buttons(MessageDialogButtons::YesNoCancelCustom(
                        STOP_AND_QUIT.into(),
                        LEAVE_AND_QUIT.into(),
                        "Cancel".into(),
                    ))
                    .blocking_show_with_result();
                match answer {
                    MessageDialogResult::Yes => true,
                    MessageDialogResult::No => false,
                    MessageDialogResult::Custom(label) if label == STOP_AND_QUIT => true,
                    MessageDialogResult::Custom(label) if label == LEAVE_AND_QUIT => false,
                    _ => return,
                }
            }
        };
        if stop {
            stop_all(&app);
        }
        app.exit(0);
    });
}

/// Closing the window hides it to the tray while processes run (saying so once); with nothing
/// running it quits.
pub fn on_window_event<R: Runtime>(window: &tauri::Window<R>, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let app = window.app_handle();
    let (Some(_), Some(prefs)) = (app.try_state::<Desktop>(), app.try_state::<PrefStore>()) else {
        return;
    };
    // The count kept from events: this runs on the main thread, which must not read stores.
    let running = registry(app).map_or(0, |r| r.running_total());
    match close_action(running, prefs.get().told_about_tray) {
        CloseAction::Quit => {}
        CloseAction::Hide { tell } => {
            api.prevent_close();
            let _ = window.hide();
            if let Some(body) = tell {
                let _ = app
                    .notification()
                    .builder()
                    .title("Procdeck is still running")
                    .body(body)
                    .show();
                if let Err(e) = prefs.update(|p| p.told_about_tray = true) {
                    tracing::warn!("cannot save preferences: {e}");
                }
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum CloseAction {
    /// Nothing runs: closing the window quits.
    Quit,
    /// Processes run: the window hides to the tray, saying so the first time.
    Hide { tell: Option<String> },
}

pub fn close_action(running: usize, told_before: bool) -> CloseAction {
    if running == 0 {
        return CloseAction::Quit;
    }
    let tell = (!told_before).then(|| {
        let what = if running == 1 {
            "1 process keeps".to_owned()
        } else {
            format!("{running} processes keep")
        };
        format!("{what} running. Procdeck stays in the tray; quit from its menu.")
    });
    CloseAction::Hide { tell }
}

/// The folders a second launch was given, resolved against its working folder; flags are not
/// folders.
pub fn second_instance_folders(argv: &[String], cwd: &str) -> Vec<std::path::PathBuf> {
    argv.iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(|a| Path::new(cwd).join(a))
        .collect()
}

/// A click on a failure notification shows the window with that process selected.
pub fn on_notification_action<R: Runtime>(app: &AppHandle<R>, performed: &ActionPerformed) {
    if performed.action_id() != "tap" {
        return;
    }
    show_window(app);
    let Some(extra) = performed.notification().map(|n| n.extra()) else {
        return;
    };
    if let (Some(Value::String(workspace_id)), Some(Value::String(id))) =
        (extra.get(EXTRA_WORKSPACE), extra.get(EXTRA_PROCESS))
    {
        let reveal = RevealProcess {
            workspace_id: workspace_id.clone(),
            id: id.clone(),
        };
        if let Err(e) = app.emit(REVEAL_EVENT, reveal) {
            tracing::warn!("cannot ask the window to show a process: {e}");
        }
    }
}

/// A second launch: show this instance's window and add the folders it was given.
pub fn on_second_instance<R: Runtime>(app: &AppHandle<R>, argv: Vec<String>, cwd: String) {
    show_window(app);
    let Some(registry) = registry(app) else {
        return;
    };
    let folders = second_instance_folders(&argv, &cwd);
    let app = app.clone();
    std::thread::spawn(move || {
        let mut last = None;
        for folder in folders {
            match registry.add(&folder) {
                Ok(info) => last = Some(info.id),
                Err(e) => tracing::warn!("cannot add {}: {}", folder.display(), e.message),
            }
        }
        if let Some(key) = last {
            if let Err(e) = app.emit(SELECT_WORKSPACE_EVENT, key) {
                tracing::warn!("cannot show the folder handed over: {e}");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_quits_when_nothing_runs_and_hides_otherwise_telling_once() {
        assert_eq!(close_action(0, false), CloseAction::Quit);
        assert_eq!(
            close_action(1, false),
            CloseAction::Hide {
                tell: Some(
                    "1 process keeps running. Procdeck stays in the tray; quit from its menu."
                        .into()
                )
            }
        );
        assert_eq!(
            close_action(3, false),
            CloseAction::Hide {
                tell: Some(
                    "3 processes keep running. Procdeck stays in the tray; quit from its menu."
                        .into()
                )
            }
        );
        assert_eq!(close_action(3, true), CloseAction::Hide { tell: None });
    }

    #[test]
    fn markup_characters_are_escaped_and_everything_else_kept() {
        assert_eq!(
            escape_markup("<b>x</b> & \"y\" 'z' é\n"),
            "&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot; &#39;z&#39; é\n"
        );
        assert_eq!(escape_markup("&amp;"), "&amp;amp;", "entities are not kept");
        assert_eq!(escape_markup("npm run dev"), "npm run dev");
    }

    fn failed(title: &str, command: &str) -> ProcessRecord {
        ProcessRecord {
            command: command.into(),
            stopped_at: Some("2026-11-25T00:00:01Z".into()),
            exit_code: Some(2),
            ..crate::test_records::record("proc_2026-01-01T0000_abcdef", title, Status::Error)
        }
    }

    #[test]
    fn a_failure_notification_shows_the_title_and_command_only_escaped_in_its_body() {
        let hostile = failed(
            r#"<a href="https://evil.example">update</a>"#,
            "<img src=x> && make",
        );
        let (title, body) = failure_notification(&hostile, &[]);
        assert_eq!(title, "A process exited with code 2");
        assert_eq!(
            body,
            "&lt;a href=&quot;https://evil.example&quot;&gt;update&lt;/a&gt;\n&lt;img src=x&gt; &amp;&amp; make"
        );

        let mut plain = failed("npm run dev", "npm run dev");
        plain.status = Status::Lost;
        assert_eq!(
            failure_notification(&plain, &[]),
            (
                "A process was lost (its supervisor vanished)".to_owned(),
                "npm run dev".to_owned()
            ),
            "a title that is the command is not repeated"
        );
    }

    #[test]
    fn a_failure_notification_shows_the_last_lines_of_output_escaped() {
        let record = failed("tests", "cargo test");
        let last = [
            "error[E0308]: mismatched types".to_owned(),
            "test result: FAILED. 3 passed; 1 failed <b>".to_owned(),
        ];
        let (_, body) = failure_notification(&record, &last);
        assert_eq!(
            body,
            "tests\nerror[E0308]: mismatched types\ntest result: FAILED. 3 passed; 1 failed &lt;b&gt;",
            "the output replaces the command"
        );
    }

    #[test]
    fn a_second_launch_gives_folders_relative_to_its_own_working_folder() {
        let argv: Vec<String> = ["procdeck-app", "shop", "--verbose", "/abs/api"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            second_instance_folders(&argv, "/home/me/code"),
            vec![
                std::path::PathBuf::from("/home/me/code/shop"),
                std::path::PathBuf::from("/abs/api")
            ]
        );
    }
}
