#!/usr/bin/env bash
# End-to-end tests: the real app (built with tauri/custom-protocol, so it loads the bundled UI)
# under Xvfb, driven through tauri-driver and WebKitWebDriver. Screenshots of the main states go
# to tests/e2e/artifacts/. Every process started here is ended on exit, even on failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

npm --prefix ui run build
# A target folder of its own: the custom-protocol feature would otherwise rebuild tauri for every
# switch between this and a plain `cargo build`.
target="$root/target/e2e"
cargo build --target-dir "$target" --features custom-protocol --bin procdeck-app
cargo build --target-dir "$target" -p procdeck-cli --bin procdeck

export PATH="$HOME/.cargo/bin:$PATH"
command -v tauri-driver >/dev/null || { echo "e2e: tauri-driver is missing (cargo install tauri-driver --locked)" >&2; exit 1; }
command -v WebKitWebDriver >/dev/null || { echo "e2e: WebKitWebDriver is missing (apt-get install webkit2gtk-driver)" >&2; exit 1; }

work="$(mktemp -d /tmp/procdeck-e2e.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  # Processes the tests started through the app or the CLI: stopped through their shims (which
  # end whole trees), then anything left in the shims' sessions.
  for ws in "$work"/ws*; do
    [ -d "$ws/.procdeck" ] && "$target/debug/procdeck" -w "$ws" close >/dev/null 2>&1 || true
  done
  for f in "$work"/ws*/.procdeck/processes/*/shim.json; do
    [ -f "$f" ] || continue
    shim=$(sed -n 's/.*"shimPid": *\([0-9]*\).*/\1/p' "$f")
    [ -n "$shim" ] && pkill -KILL -s "$shim" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

display=":$((90 + RANDOM % 9))"
setsid Xvfb "$display" -screen 0 1400x900x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY="$display"
for _ in $(seq 50); do xdpyinfo -display "$display" >/dev/null 2>&1 && break; sleep 0.1; done

port=$((4444 + RANDOM % 500))
setsid env PROCDECK_CONFIG_DIR="$work/config" tauri-driver --port "$port" --native-port "$((port + 1))" >"$work/driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

export PROCDECK_E2E_DRIVER="http://127.0.0.1:$port"
export PROCDECK_E2E_APP="$target/debug/procdeck-app"
export PROCDECK_E2E_CLI="$target/debug/procdeck"
export PROCDECK_E2E_WORK="$work"
export PROCDECK_E2E_ARTIFACTS="$root/tests/e2e/artifacts"
mkdir -p "$PROCDECK_E2E_ARTIFACTS"
status=0
node --test --test-concurrency=1 tests/e2e/*.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- tauri-driver log"; tail -n 50 "$work/driver.log" || true
fi
exit "$status"
