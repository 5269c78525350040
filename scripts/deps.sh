#!/usr/bin/env bash
# Installs what building, running and testing Procdeck needs on Debian/Ubuntu, skipping what is
# already there. Idempotent; used by start.sh and test.sh.
set -euo pipefail

APT_PACKAGES=(
  build-essential pkg-config libssl-dev curl file
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  xvfb xauth x11-utils dbus dbus-x11 webkit2gtk-driver imagemagick
  openbox xfce4-panel dunst xdotool libglib2.0-bin
  python3
  gcc-mingw-w64-x86-64-win32 wine64
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "deps: Rust is missing: install it with rustup (https://rustup.rs), then run this again" >&2
  exit 1
fi
# The macOS type check of test.sh needs the standard library of a macOS target (no SDK: it does
# not link).
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx aarch64-apple-darwin; then
  echo "deps: adding the Rust target aarch64-apple-darwin"
  rustup target add aarch64-apple-darwin
fi
# The Windows build, linted and tested under Wine (scripts/wine-tests.sh).
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
  echo "deps: adding the Rust target x86_64-pc-windows-gnu"
  rustup target add x86_64-pc-windows-gnu
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "deps: installing Node.js and npm"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi

if [ "${PROCDECK_E2E_DEPS:-0}" = 1 ] && ! command -v tauri-driver >/dev/null; then
  echo "deps: building tauri-driver (cargo install)"
  cargo install tauri-driver --locked --version "^2"
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
for dir in "$root/ui" "$root" "$root/tests/mcp"; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
done
