// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // The app's own executable is also the shim that supervises each process it starts; this
    // must run before anything else (no GTK, no threads).
    procdeck_engine::shim::run_if_requested();
    procdeck_app::run();
}
