//! The tray icon: how many processes run, and a menu to stop each of them, stop all, show the
//! window or quit; a click on the icon shows the window. Linux's StatusNotifier hosts show the
//! item's title where other platforms show the tooltip, so there the title carries the running
//! count too; on macOS a title would be drawn beside the icon in the menu bar, so it has none.
//! Some hosts show neither on hover: the running count heads the menu as well, where every
//! platform shows it.

use procdeck_engine::{ProcessRecord, StartedBy};
use std::sync::Mutex;

use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem};
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
const STACK_PREFIX: &str = "stack-up:";

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

/// The id of a "Start stack — <workspace>" item, and back.
pub fn stack_item_id(workspace_id: &str) -> String {
    format!("{STACK_PREFIX}{workspace_id}")
}

pub fn parse_stack_item(id: &str) -> Option<&str> {
    id.strip_prefix(STACK_PREFIX)
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
    for (ws, _) in workspaces.iter().filter(|(ws, _)| ws.stack && !ws.missing) {
        items.push(Some((
            stack_item_id(&ws.id),
            format!("Start stack — {}", ws.name),
            true,
        )));
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

/// One line of the menu as shown: its key (the item's id, or `separator:N` for the Nth
/// separator), and for an item its label and whether it can be clicked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub key: String,
    pub item: Option<(String, bool)>,
}

/// The model's items as keyed lines.
pub fn lines(model: &TrayModel) -> Vec<Line> {
    let mut separators = 0;
    model
        .items
        .iter()
        .map(|item| match item {
            Some((id, label, enabled)) => Line {
                key: id.clone(),
                item: Some((label.clone(), *enabled)),
            },
            None => {
                separators += 1;
                Line {
                    key: format!("separator:{}", separators - 1),
                    item: None,
                }
            }
        })
        .collect()
}

/// One change to the menu as shown; positions are those of the moment the edit is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Remove(usize),
    /// Inserts `wanted[line]` at `position`.
    Insert {
        position: usize,
        line: usize,
    },
    /// Gives the line at `position` the label and state of `wanted[line]`.
    Set {
        position: usize,
        line: usize,
    },
}

/// The edits that turn the menu as shown into the wanted one, touching only what differs:
/// lines that stay keep their place and item, so the tray host sees a new label or one line
/// added or removed, never a new menu.
pub fn edits(shown: &[Line], wanted: &[Line]) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut now: Vec<&Line> = shown.iter().collect();
    let mut position = 0;
    while position < now.len() {
        if wanted.iter().any(|w| w.key == now[position].key) {
            position += 1;
        } else {
            edits.push(Edit::Remove(position));
            now.remove(position);
        }
    }
    for (line, want) in wanted.iter().enumerate() {
        match now.iter().position(|l| l.key == want.key) {
            Some(at) if at == line => {
                if now[at].item != want.item {
                    edits.push(Edit::Set { position: at, line });
                    now[at] = want;
                }
            }
            Some(at) => {
                // A line that moved is removed and inserted again where it belongs.
                edits.push(Edit::Remove(at));
                now.remove(at);
                edits.push(Edit::Insert {
                    position: line,
                    line,
                });
                now.insert(line, want);
            }
            None => {
                edits.push(Edit::Insert {
                    position: line,
                    line,
                });
                now.insert(line, want);
            }
        }
    }
    edits
}

enum Shown<R: Runtime> {
    Item(MenuItem<R>),
    Separator(PredefinedMenuItem<R>),
}

impl<R: Runtime> Shown<R> {
    fn new(app: &AppHandle<R>, line: &Line) -> tauri::Result<Self> {
        Ok(match &line.item {
            Some((label, enabled)) => Shown::Item(MenuItem::with_id(
                app,
                &line.key,
                label,
                *enabled,
                None::<&str>,
            )?),
            None => Shown::Separator(PredefinedMenuItem::separator(app)?),
        })
    }

    fn as_item(&self) -> &dyn IsMenuItem<R> {
        match self {
            Shown::Item(item) => item,
            Shown::Separator(separator) => separator,
        }
    }
}

/// The tray's menu, kept so that updates edit it in place. Tray hosts' menu code (libdbusmenu,
/// used by Xfce's and other panels) has crashed when a new menu replaced the one it was showing
/// or still building; edits in place reach it as changed properties and single insertions.
pub struct TrayMenu<R: Runtime> {
    menu: Menu<R>,
    shown: Mutex<Vec<(Line, Shown<R>)>>,
}

impl<R: Runtime> TrayMenu<R> {
    fn new(app: &AppHandle<R>, model: &TrayModel) -> tauri::Result<Self> {
        let tray_menu = TrayMenu {
            menu: Menu::new(app)?,
            shown: Mutex::new(Vec::new()),
        };
        tray_menu.show(app, model)?;
        Ok(tray_menu)
    }

    fn show(&self, app: &AppHandle<R>, model: &TrayModel) -> tauri::Result<()> {
        let Ok(mut shown) = self.shown.lock() else {
            return Ok(());
        };
        let wanted = lines(model);
        let current: Vec<Line> = shown.iter().map(|(line, _)| line.clone()).collect();
        for edit in edits(&current, &wanted) {
            match edit {
                Edit::Remove(position) => {
                    let (_, item) = shown.remove(position);
                    self.menu.remove(item.as_item())?;
                }
                Edit::Insert { position, line } => {
                    let item = Shown::new(app, &wanted[line])?;
                    self.menu.insert(item.as_item(), position)?;
                    shown.insert(position, (wanted[line].clone(), item));
                }
                Edit::Set { position, line } => {
                    let (old, item) = &mut shown[position];
                    if let (Shown::Item(item), Some((label, enabled))) = (item, &wanted[line].item)
                    {
                        item.set_text(label)?;
                        item.set_enabled(*enabled)?;
                    }
                    *old = wanted[line].clone();
                }
            }
        }
        Ok(())
    }
}

pub fn create<R: Runtime>(app: &AppHandle<R>, model: &TrayModel) -> tauri::Result<TrayIcon<R>> {
    let tray_menu = TrayMenu::new(app, model)?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip(&model.tooltip)
        .menu(&tray_menu.menu)
        .show_menu_on_left_click(false)
        .on_tray_icon_event(|tray, event| {
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
    if let Some(title) = title(model) {
        builder = builder.title(title);
    }
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let tray = builder.build(app)?;
    app.manage(tray_menu);
    Ok(tray)
}

/// Brings the tray's menu and tooltip to the model. Runs on the main thread.
pub fn update<R: Runtime>(app: &AppHandle<R>, model: &TrayModel) {
    let (Some(tray), Some(tray_menu)) = (app.tray_by_id(TRAY_ID), app.try_state::<TrayMenu<R>>())
    else {
        return;
    };
    let result = tray_menu
        .show(app, model)
        .and_then(|()| tray.set_tooltip(Some(&model.tooltip)))
        .and_then(|()| tray.set_title(title(model)));
    if let Err(e) = result {
        tracing::warn!("cannot update the tray: {e}");
    }
}

/// The item's title, where the system shows it on hover.
fn title(model: &TrayModel) -> Option<&str> {
    procdeck_engine::platform::tray_title_on_hover().then_some(model.tooltip.as_str())
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
            stack: false,
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

    /// The menu after `edits`, applied as `TrayMenu::show` applies them.
    fn apply(shown: &[Line], wanted: &[Line], edits: &[Edit]) -> Vec<Line> {
        let mut now = shown.to_vec();
        for edit in edits {
            match *edit {
                Edit::Remove(position) => {
                    now.remove(position);
                }
                Edit::Insert { position, line } => now.insert(position, wanted[line].clone()),
                Edit::Set { position, line } => now[position] = wanted[line].clone(),
            }
        }
        now
    }

    fn running(ids: &[&str]) -> TrayModel {
        let records = ids
            .iter()
            .map(|id| record(id, &format!("title {id}"), Status::Running))
            .collect();
        model(&[(ws("ws_1", "shop"), records)])
    }

    #[test]
    fn an_update_edits_only_the_lines_that_changed() {
        let none = lines(&running(&[]));
        let one = lines(&running(&["p1"]));
        let two = lines(&running(&["p1", "p2"]));
        let first = edits(&none, &one);
        assert_eq!(apply(&none, &one, &first), one);
        // The count, the new stop line, the separator under it, and "Stop all" enabled.
        assert_eq!(
            first,
            vec![
                Edit::Set {
                    position: 0,
                    line: 0
                },
                Edit::Insert {
                    position: 2,
                    line: 2
                },
                Edit::Insert {
                    position: 3,
                    line: 3
                },
                Edit::Set {
                    position: 4,
                    line: 4
                },
            ]
        );
        let second = edits(&one, &two);
        assert_eq!(apply(&one, &two, &second), two);
        assert_eq!(
            second,
            vec![
                Edit::Set {
                    position: 0,
                    line: 0
                },
                Edit::Insert {
                    position: 3,
                    line: 3
                },
            ]
        );
        let back = edits(&two, &none);
        assert_eq!(apply(&two, &none, &back), none);
        assert!(back.iter().filter(|e| matches!(e, Edit::Remove(_))).count() == 3);
        assert_eq!(edits(&two, &two), vec![]);
        assert_eq!(apply(&[], &two, &edits(&[], &two)), two);
    }

    #[test]
    fn a_process_being_stopped_changes_its_line_in_place_and_moved_lines_move() {
        let before = running(&["p1", "p2"]);
        let mut stopping = before.clone();
        if let Some(Some((_, _, enabled))) = stopping.items.get_mut(2) {
            *enabled = false;
        }
        let (before, stopping) = (lines(&before), lines(&stopping));
        assert_eq!(
            edits(&before, &stopping),
            vec![Edit::Set {
                position: 2,
                line: 2
            }]
        );
        let swapped = lines(&running(&["p2", "p1"]));
        let moves = edits(&before, &swapped);
        assert_eq!(apply(&before, &swapped, &moves), swapped);
        assert_eq!(moves.len(), 2, "{moves:?}");
    }

    #[test]
    fn a_workspace_with_a_stack_can_start_it_from_the_tray() {
        let mut shop = ws("/code/shop", "shop");
        shop.stack = true;
        let m = model(&[
            (shop, vec![record("p1", "web", Status::Running)]),
            (ws("/code/api", "api"), vec![]),
        ]);
        let labels: Vec<&str> = m
            .items
            .iter()
            .filter_map(|i| i.as_ref().map(|(_, l, _)| l.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                "Procdeck — 1 running",
                "Stop web — shop",
                "Start stack — shop",
                "Stop all",
                "Show Procdeck",
                "Quit"
            ]
        );
        let id = stack_item_id("/code/shop");
        assert!(m.items.iter().flatten().any(|(i, ..)| *i == id));
        assert_eq!(parse_stack_item(&id), Some("/code/shop"));
        assert_eq!(parse_stop_item(&id), None);
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
