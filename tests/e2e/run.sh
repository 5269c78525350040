#!/usr/bin/env bash
# End-to-end tests: the real app (built with tauri/custom-protocol, so it loads the bundled UI)
# under Xvfb on a desktop (window manager, panel with a status tray, notification server: see
# desktop.sh), driven through tauri-driver and WebKitWebDriver, and through the desktop with
# xdotool. Screenshots of the main states go to tests/e2e/artifacts/. Every process started here
# is ended on exit, even on failure.
#
# Usage: tests/e2e/run.sh [TEST_FILE...]   (default: every tests/e2e/*.test.mjs)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

# One release build serves both the package and the tests: `tauri build` builds the front end,
# compiles with tauri/custom-protocol (the bundled UI, not a dev server) and makes the .deb.
npm run tauri build -- --bundles deb --ci
deb="$(ls -t target/release/bundle/deb/*.deb | head -n 1)"
contents="$(dpkg-deb -c "$deb")"
for want in usr/bin/procdeck-app usr/bin/procdeck usr/share/applications/Procdeck.desktop usr/share/icons/hicolor/128x128/apps/procdeck-app.png; do
  grep -qE " (\./)?$want\$" <<<"$contents" || { echo "e2e: $deb lacks $want" >&2; echo "$contents" >&2; exit 1; }
done
launcher="$(dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards '*usr/share/applications/Procdeck.desktop')"
grep -q '^Exec=procdeck-app' <<<"$launcher" || { echo "e2e: the launcher does not start procdeck-app" >&2; exit 1; }
echo "e2e: $deb holds the app, the CLI, the launcher and the icon"
target="$root/target/release"

export PATH="$HOME/.cargo/bin:$PATH"
command -v tauri-driver >/dev/null || { echo "e2e: tauri-driver is missing (cargo install tauri-driver --locked)" >&2; exit 1; }
command -v WebKitWebDriver >/dev/null || { echo "e2e: WebKitWebDriver is missing (apt-get install webkit2gtk-driver)" >&2; exit 1; }

work="$(mktemp -d /tmp/procdeck-e2e.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  # Processes the tests started through the app or the CLI: stopped through their shims (which
  # end whole trees), then anything left in the shims' sessions.
  for ws in "$work"/ws* "$work"/desk/*; do
    [ -d "$ws/.procdeck" ] && "$target/procdeck" -w "$ws" close >/dev/null 2>&1 || true
  done
  for f in "$work"/ws*/.procdeck/processes/*/shim.json "$work"/desk/*/.procdeck/processes/*/shim.json; do
    [ -f "$f" ] || continue
    shim=$(sed -n 's/.*"shimPid": *\([0-9]*\).*/\1/p' "$f")
    [ -n "$shim" ] || continue
    # While anything is left in the shim's session its pid cannot be reused: a living process
    # with that pid that is not a shim leads another session, not ours to end.
    if [ -e "/proc/$shim" ] && ! tr '\0' ' ' <"/proc/$shim/cmdline" 2>/dev/null | grep -q -- '__procdeck-shim'; then
      continue
    fi
    pkill -KILL -s "$shim" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# A session bus of our own: the single-instance handover, the tray and notifications go through
# D-Bus. Services it starts on demand (the panel's xfconfd) read the desktop's settings from here.
eval "$(XDG_CONFIG_HOME="$work/desktop-config" dbus-daemon --session --fork --print-address=1 --print-pid=1 | {
  read -r address; read -r pid
  printf 'export DBUS_SESSION_BUS_ADDRESS=%q; dbus_pid=%q\n' "$address" "$pid"
})"
pids+=("$dbus_pid")

# Xvfb picks a free display itself and writes its number once it accepts connections, so
# neither a display left by another run nor a slow start on a loaded machine can get in the way.
# The file exists before Xvfb starts: the background shell that opens it for Xvfb may not have
# run yet when the loop below first reads it.
: >"$work/display"
setsid Xvfb -displayfd 3 -screen 0 1400x900x24 -nolisten tcp 3>"$work/display" >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
pids+=("$xvfb_pid")
display=""
for _ in $(seq 600); do
  number="$(tr -dc '0-9' <"$work/display")"
  if [ -n "$number" ] && xdpyinfo -display ":$number" >/dev/null 2>&1; then
    display=":$number"
    break
  fi
  sleep 0.1
done
[ -n "$display" ] || { echo "e2e: Xvfb did not start within 60 s" >&2; cat "$work/xvfb.log" >&2; exit 1; }
export DISPLAY="$display"
# shellcheck source=tests/e2e/desktop.sh
. "$root/tests/e2e/desktop.sh"

port=$((4444 + RANDOM % 500))
setsid env PROCDECK_CONFIG_DIR="$work/config" tauri-driver --port "$port" --native-port "$((port + 1))" >"$work/driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

export PROCDECK_E2E_DRIVER="http://127.0.0.1:$port"
export PROCDECK_E2E_APP="$target/procdeck-app"
export PROCDECK_E2E_CLI="$target/procdeck"
export PROCDECK_E2E_WORK="$work"
export PROCDECK_E2E_ARTIFACTS="$root/tests/e2e/artifacts"
mkdir -p "$PROCDECK_E2E_ARTIFACTS"
status=0
tests=("$@")
[ "${#tests[@]}" -gt 0 ] || tests=(tests/e2e/*.test.mjs)
node --test --test-concurrency=1 "${tests[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- tauri-driver log"; tail -n 50 "$work/driver.log" || true
  for log in panel panel-questions openbox dunst; do echo "--- $log log"; tail -n 30 "$work/$log.log" || true; done
fi
exit "$status"
