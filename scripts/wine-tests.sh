#!/usr/bin/env bash
# Procdeck on Windows, built for x86_64-pc-windows-gnu (mingw-w64) and tested under Wine:
# clippy for the Windows target, then the CLI's Windows suite (cli/tests/windows.rs) with its
# test executables and procdeck.exe run by wine64, then a store written on Linux read on
# Windows and back. Called by test.sh; deps.sh installs the target, mingw-w64 and wine64.
#
# Wine 8 lacks bcryptprimitives.dll, from which Rust's standard library imports ProcessPrng: a
# small DLL built here from scripts/wine/bcryptprimitives.c stands in for it in a private Wine
# prefix (under the target folder). The wineserver of that prefix is shut down at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target=x86_64-pc-windows-gnu
out="${CARGO_TARGET_DIR:-$root/target}"

step() { printf '\n=== %s\n' "$*"; }

# Debian's wine64 keeps its binaries off PATH.
wine="$(dpkg -L wine64 | grep -m1 '/wine64$')"
wineserver="$(dpkg -L libwine | grep -m1 '/wineserver$')"
[ -x "$wine" ] && [ -x "$wineserver" ] || { echo "wine-tests: wine64 is missing (deps.sh installs it)" >&2; exit 1; }

# The Windows name of a path on this machine (Wine maps / to Z:).
winpath() { printf 'Z:%s' "${1//\//\\}"; }

export WINEPREFIX="$out/wine-prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
helpers="$out/wine-helpers"
mkdir -p "$helpers"
trap '"$wineserver" -k >/dev/null 2>&1 || true' EXIT

step "Windows target: cargo clippy --workspace --target $target --all-targets -- -D warnings"
cargo clippy --workspace --target "$target" --all-targets -- -D warnings

step "Wine: a private prefix, with bcryptprimitives.dll and the test helper built by mingw-w64"
x86_64-w64-mingw32-gcc -shared -O2 -o "$helpers/bcryptprimitives.dll" \
  scripts/wine/bcryptprimitives.c scripts/wine/bcryptprimitives.def -ladvapi32
x86_64-w64-mingw32-gcc -O2 -o "$helpers/ignore_break.exe" scripts/wine/ignore_break.c -lws2_32
if [ ! -d "$WINEPREFIX/drive_c/windows/system32" ]; then
  "$wine" wineboot -i >/dev/null 2>&1
  "$wineserver" -w
fi
cp "$helpers/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"

step "the CLI's Windows suite under Wine"
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine" \
PROCDECK_IGNORE_BREAK="$(winpath "$helpers/ignore_break.exe")" \
  cargo test -p procdeck-cli --target "$target" --test windows

step "one store, Linux and Windows: each reads what the other wrote"
cargo build -q -p procdeck-cli --bin procdeck
cargo build -q -p procdeck-cli --bin procdeck --target "$target"
linux_cli="$out/debug/procdeck"
windows_cli="$out/$target/debug/procdeck.exe"
store="$(mktemp -d "${TMPDIR:-/tmp}/procdeck-interop-XXXXXX")"
trap '"$wineserver" -k >/dev/null 2>&1 || true; rm -rf "$store"' EXIT
on_linux() { "$linux_cli" -w "$store" "$@"; }
on_windows() { "$wine" "$windows_cli" -w "$(winpath "$store")" "$@"; }
from_linux="$(on_linux --json start --title from-linux -- 'echo written on linux' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
on_linux wait "$from_linux" >/dev/null
from_windows="$(on_windows --json start --title from-windows -- 'echo written on windows' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
on_windows wait "$from_windows" >/dev/null
for side in on_linux on_windows; do
  listed="$("$side" --json list --all)"
  for id in "$from_linux" "$from_windows"; do
    python3 - "$listed" "$id" "$side" <<'PY'
import json, sys
records = {r["id"]: r for r in json.loads(sys.argv[1])}
rec = records.get(sys.argv[2])
assert rec is not None, f"{sys.argv[3]}: {sys.argv[2]} is not listed: {sorted(records)}"
assert rec["status"] == "stopped" and rec.get("exitCode") == 0, f"{sys.argv[3]}: {rec}"
PY
  done
  "$side" output "$from_linux" | grep -q 'written on linux'
  "$side" output "$from_windows" | grep -q 'written on windows'
done
echo "both records listed, exited 0, with their output, on both sides"
