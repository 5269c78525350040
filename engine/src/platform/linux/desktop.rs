//! What the desktop app does differently on Linux.

/// WebKitGTK's DMA-BUF renderer shows a blank window under Xvfb, in virtual machines and with
/// some GPU drivers; the software path is fast enough for a log viewer.
pub(in crate::platform) const WEBVIEW_ENV_DEFAULTS: &[(&str, &str)] =
    &[("WEBKIT_DISABLE_DMABUF_RENDERER", "1")];

/// StatusNotifier hosts show the tray item's title on hover, where other systems show the
/// tooltip.
pub(in crate::platform) const TRAY_TITLE_ON_HOVER: bool = true;
