# A desktop like a new user's, on the X display and session bus run.sh made: openbox as window
# manager, xfce4-panel (its status tray hosts StatusNotifier items, by its clock) and dunst as
# notification server. Sourced by run.sh, which ends every process listed in `pids` on exit.
# The panel's settings come from xfconfd, which the session bus starts on demand with the bus's
# own environment: run.sh starts the bus with XDG_CONFIG_HOME="$desktop_config".

desktop_config="$work/desktop-config"
mkdir -p "$desktop_config/xfce4/xfconf/xfce-perchannel-xml"
cp "$root/tests/e2e/desktop/xfce4-panel.xml" "$desktop_config/xfce4/xfconf/xfce-perchannel-xml/"

bus_has() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}

# Polls `$@` for up to 30 s; a desktop that does not come up fails the run, with its logs.
wait_for() {
  local what="$1"
  shift
  for _ in $(seq 300); do
    "$@" && return 0
    sleep 0.1
  done
  echo "e2e: $what did not come up" >&2
  # Whether the X server is still there, and still answers, tells a dead display from a slow one.
  echo "e2e: Xvfb (pid $xvfb_pid) is $(kill -0 "$xvfb_pid" 2>/dev/null && echo running || echo gone);" \
    "$DISPLAY $(xdpyinfo >/dev/null 2>&1 && echo answers || echo does not answer)" >&2
  tail -n 20 "$work"/xvfb.log "$work"/openbox.log "$work"/panel.log "$work"/dunst.log >&2 || true
  return 1
}

has_window_manager() { xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id'; }

# Started again when it ends: now and then it fails to open the display that xdpyinfo has just
# reached ("Failed to open the display from the DISPLAY environment variable"), and a moment
# later it opens it.
setsid bash -c 'while :; do openbox; echo "openbox ended ($?)"; sleep 0.5; done' >"$work/openbox.log" 2>&1 &
pids+=($!)
wait_for openbox has_window_manager

# A desktop session restarts a panel that ends; so does this one (the panel has ended under the
# tray's menu updates here), and the tray item registers again with the new panel.
setsid bash -c 'while :; do env XDG_CONFIG_HOME="$1" xfce4-panel; echo "panel ended ($?)"; sleep 0.5; done' _ "$desktop_config" >"$work/panel.log" 2>&1 &
pids+=($!)
wait_for "xfce4-panel's status tray" bus_has org.kde.StatusNotifierWatcher

# The panel runs its status tray in a process of its own and restarts it when it crashes (its
# libdbusmenu has crashed here while tray menus changed); a second crash within a minute makes it
# ask, in a modal dialog, whether to restart the tray. A person at the desktop answers "Execute"
# (the default button); so does this session, and its log says each time it did.
setsid bash -c 'while :; do
  for w in $(xdotool search --name "^Plugin Restart$" 2>/dev/null); do
    echo "$(date +%T) answered the panel: restart the status tray"
    xdotool windowactivate --sync "$w" key Return
  done
  sleep 0.5
done' >"$work/panel-questions.log" 2>&1 &
pids+=($!)

setsid dunst >"$work/dunst.log" 2>&1 &
pids+=($!)
wait_for dunst bus_has org.freedesktop.Notifications
echo "e2e: desktop up (openbox, xfce4-panel, dunst) on $DISPLAY"
