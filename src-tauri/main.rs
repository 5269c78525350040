// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // The app's own executable is also the shim that supervises each process it starts; this
    // must run before anything else (no GTK, no threads).
    procdeck_engine::shim::run_if_requested();
    // WebKitGTK's DMA-BUF renderer shows a blank window under Xvfb, in VMs and with some GPU
    // drivers; the software path is fast enough for a log viewer. A user's own setting wins.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_none() {
        std::env::set_var("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    }
    procdeck_app::run();
}
