// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Before any thread exists, so that setting the environment races nothing. A user's own
    // setting wins.
    for (name, value) in procdeck_engine::platform::webview_env_defaults() {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
    procdeck_app::run();
}
