//! What the desktop app does differently on Windows.

/// WebView2 needs no workarounds.
pub(in crate::platform) const WEBVIEW_ENV_DEFAULTS: &[(&str, &str)] = &[];

/// The notification area shows a tray item's tooltip on hover; a title has no place there.
pub(in crate::platform) const TRAY_TITLE_ON_HOVER: bool = false;
