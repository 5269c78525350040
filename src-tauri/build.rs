/// Every command the window may call; capabilities/default.json grants each one by name.
const COMMANDS: &[&str] = &[
    "list_workspaces",
    "take_requested_workspace",
    "add_workspace",
    "pick_workspace",
    "remove_workspace",
    "list_processes",
    "start_process",
    "stop_process",
    "kill_process",
    "restart_process",
    "remove_process",
    "read_output",
    "grep_output",
    "lines_before",
    "follow_output",
    "unfollow_output",
    "ack_output",
    "recent_commands",
    "open_output_file",
    "reveal_output_file",
    "suggestions",
    "listening_ports",
    "process_usage",
    "port_conflict",
    "take_port",
    "open_port",
    "get_prefs",
    "set_prefs",
    "stack_show",
    "stack_up",
    "stack_down",
    "stack_save",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .unwrap_or_else(|e| panic!("tauri build step failed: {e:#}"));
}
