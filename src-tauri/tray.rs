//! The tray icon: how many processes run, and a menu to stop each of them, stop all, show the
//! window or quit. Linux's appindicator does not deliver clicks on the icon, so everything the tray
//! offers is in its menu. Linux's StatusNotifier hosts show the item's title where other platforms
//! show the tooltip, and appindicator sets no tooltip and a title fixed at start (the application
//! name, see `run`): so the running count heads the menu too, where every platform shows it.

use procdeck_engine::{ProcessRecord, StartedBy};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::dto::WorkspaceInfo;

pub const TRAY_ID: &str = "procdeck";
/// The menu's first line, which says how many processes run; it does nothing when clicked.
pub const STATUS: &str = "status";
pub const SHOW: &str = "show";
pub const STOP_ALL: &str = "stop-all";
pub const QUIT: &str = "quit";
const STOP_PREFIX: &str = "stop:";

/// What the tray shows, built from the process list alone so it can be tested without a tray.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayModel {
    /// "Procdeck — 2 running": the tooltip, and the menu's first line.
    pub tooltip: String,
    /// (menu id, label, enabled); `None` is a separator.
    pub items: Vec<Option<(String, String, bool)>>,
}

/// The id of a "Stop <title>" item, and back. Workspace keys are paths, which hold slashes;
/// process ids never do, so the last slash splits them.
pub fn stop_item_id(workspace_id: &str, process_id: &str) -> String {
    format!("{STOP_PREFIX}{workspace_id}/{process_id}")
}

pub fn parse_stop_item(id: &str) -> Option<(&str, &str)> {
    id.strip_prefix(STOP_PREFIX)?.rsplit_once('/')
}

pub fn model(workspaces: &[(WorkspaceInfo, Vec<ProcessRecord>)]) -> TrayModel {
    let mut stops = Vec::new();
    for (ws, records) in workspaces {
        for r in records.iter().filter(|r| r.status.is_running()) {
            let mut label = format!("Stop {} — {}", ellipsize(&r.title, 48), ws.name);
            if let Some(agent) = r
                .started_by
                .as_ref()
                .and_then(StartedBy::agent_display_name)
            {
                label.push_str(&format!(" ({agent})"));
            }
            stops.push(Some((
                stop_item_id(&ws.id, &r.id),
                label,
                r.stopping_since.is_none(),
            )));
        }
    }
    let running = stops.len();
    let tooltip = match running {
        0 => "Procdeck — nothing running".to_owned(),
        n => format!("Procdeck — {n} running"),
    };
    let mut items = vec![Some((STATUS.into(), tooltip.clone(), false)), None];
    items.append(&mut stops);
    if running > 0 {
        items.push(None);
    }
    items.push(Some((STOP_ALL.into(), "Stop all".into(), running > 0)));
    items.push(Some((SHOW.into(), "Show Procdeck".into(), true)));
    items.push(Some((QUIT.into(), "Quit".into(), true)));
    TrayModel { tooltip, items }
}

fn ellipsize(text: &str, max: usize) -> String {
    let one_line = text.replace(['\n', '\r', '\t'], " ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let cut: String = one_line.chars().take(max - 1).collect();
    format!("{cut}…")
}

pub fn build_menu<R: Runtime>(app: &AppHandle<R>, model: &TrayModel) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    for item in &model.items {
        match item {
            Some((id, label, enabled)) => {
                menu.append(&MenuItem::with_id(app, id, label, *enabled, None::<&str>)?)?
            }
            None => menu.append(&PredefinedMenuItem::separator(app)?)?,
        }
    }
    Ok(menu)
}

pub fn create<R: Runtime>(app: &AppHandle<R>, model: &TrayModel) -> tauri::Result<TrayIcon<R>> {
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip(&model.tooltip)
        .menu(&build_menu(app, model)?)
        .show_menu_on_left_click(false)
        .on_tray_icon_event(|tray, event| {
            // Delivered on Windows and macOS; Linux's appindicator shows the menu instead.
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::desktop::show_window(tray.app_handle());
            }
        })
        .on_menu_event(|app, event| crate::desktop::on_tray_menu(app, event.id().as_ref()));
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)
}

/// Rebuilds the tray's menu and tooltip when the model changed.
pub fn update<R: Runtime>(app: &AppHandle<R>, model: &TrayModel) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let result = build_menu(app, model).and_then(|menu| {
        tray.set_menu(Some(menu))?;
        tray.set_tooltip(Some(&model.tooltip))
    });
    if let Err(e) = result {
        tracing::warn!("cannot update the tray: {e}");
    }
}

pub fn remove<R: Runtime>(app: &AppHandle<R>) {
    let _ = app.remove_tray_by_id(TRAY_ID);
    let _ = app
        .get_webview_window("main")
        .map(|w| w.set_skip_taskbar(false));
}

#[cfg(test)]
mod tests {
    use super::*;
    use procdeck_engine::Status;

    use crate::test_records::record;

    fn ws(id: &str, name: &str) -> WorkspaceInfo {
        WorkspaceInfo {
            id: id.into(),
            path: format!("/code/{name}"),
            name: name.into(),
            missing: false,
            running: 0,
            total: 0,
        }
    }

    #[test]
    fn lists_each_running_process_then_the_fixed_items() {
        let m = model(&[
            (
                ws("ws_1", "shop"),
                vec![
                    record("p1", "npm run dev", Status::Running),
                    record("p2", "old", Status::Stopped),
                ],
            ),
            (
                ws("ws_2", "api"),
                vec![record("p3", "cargo watch", Status::Running)],
            ),
        ]);
        assert_eq!(m.tooltip, "Procdeck — 2 running");
        let labels: Vec<Option<&str>> = m
            .items
            .iter()
            .map(|i| i.as_ref().map(|(_, l, _)| l.as_str()))
            .collect();
        assert_eq!(
            labels,
            vec![
                Some("Procdeck — 2 running"),
                None,
                Some("Stop npm run dev — shop"),
                Some("Stop cargo watch — api"),
                None,
                Some("Stop all"),
                Some("Show Procdeck"),
                Some("Quit")
            ]
        );
        assert_eq!(
            m.items[0].as_ref().map(|(id, _, on)| (id.as_str(), *on)),
            Some((STATUS, false))
        );
        let first = m.items[2]
            .as_ref()
            .map(|(id, ..)| id.clone())
            .unwrap_or_default();
        assert_eq!(parse_stop_item(&first), Some(("ws_1", "p1")));
    }

    #[test]
    fn a_process_an_agent_started_says_which_agent() {
        let started_by = |by: Option<StartedBy>| {
            let mut r = record("p", "npm run dev", Status::Running);
            r.started_by = by;
            r
        };
        let m = model(&[(
            ws("ws_1", "shop"),
            vec![
                started_by(Some(StartedBy::agent("claude-code"))),
                started_by(Some(StartedBy::agent("codex-mcp-client"))),
                started_by(Some(StartedBy::agent(""))),
                started_by(Some(StartedBy::agent(
                    "my\u{202e}-very-own-agent-with-a-long-name",
                ))),
                started_by(Some(StartedBy::cli())),
                started_by(Some(StartedBy::app())),
                started_by(None),
            ],
        )]);
        let labels: Vec<&str> = m
            .items
            .iter()
            .skip(2)
            .take(7)
            .filter_map(|i| i.as_ref().map(|(_, l, _)| l.as_str()))
            .collect();
        assert_eq!(
            labels,
            vec![
                "Stop npm run dev — shop (Claude Code)",
                "Stop npm run dev — shop (Codex)",
                "Stop npm run dev — shop (Agent)",
                "Stop npm run dev — shop (my-very-own-agent-with-…)",
                "Stop npm run dev — shop",
                "Stop npm run dev — shop",
                "Stop npm run dev — shop",
            ]
        );
    }

    #[test]
    fn a_stop_item_names_a_workspace_whose_key_is_a_path() {
        let id = stop_item_id("/home/me/code/shop", "proc_2026-01-01T0000_abcdef");
        assert_eq!(
            parse_stop_item(&id),
            Some(("/home/me/code/shop", "proc_2026-01-01T0000_abcdef"))
        );
    }

    #[test]
    fn with_nothing_running_stop_all_is_disabled() {
        let m = model(&[(ws("ws_1", "shop"), vec![record("p2", "old", Status::Error)])]);
        assert_eq!(m.tooltip, "Procdeck — nothing running");
        assert_eq!(
            m.items[0],
            Some((STATUS.into(), "Procdeck — nothing running".into(), false))
        );
        assert_eq!(
            m.items[2],
            Some((STOP_ALL.into(), "Stop all".into(), false))
        );
        assert_eq!(m.items.len(), 5);
    }

    #[test]
    fn a_process_being_stopped_is_shown_but_not_clickable_and_long_titles_are_cut() {
        let mut r = record("p1", &"x".repeat(100), Status::Running);
        r.stopping_since = Some("2026-11-25T00:00:01Z".into());
        let m = model(&[(ws("ws_1", "shop"), vec![r])]);
        assert_eq!(m.tooltip, "Procdeck — 1 running");
        let (_, label, enabled) = m.items[2].clone().unwrap_or_default();
        assert!(!enabled);
        assert!(
            label.starts_with("Stop xxxxxxxx") && label.contains("…") && label.ends_with("— shop"),
            "{label}"
        );
    }
}
