#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this): formatting and lints (a type check
# for macOS too), the engine and CLI with real processes (a second time through the portable
# POSIX path, which macOS runs), the desktop shell's commands, the web front end's modules, the
# generated TypeScript types, the Windows build under Wine (scripts/wine-tests.sh), the MCP
# server through the official TypeScript SDK client, and the app end to end under Xvfb.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
PROCDECK_E2E_DEPS=1 "$root/scripts/deps.sh"

step() { printf '\n=== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "web front end: npm run check, npm test, npm run build"
npm --prefix ui run check
npm --prefix ui test
npm --prefix ui run build

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p procdeck-engine -p procdeck-cli --all-targets --features portable-posix -- -D warnings

step "macOS type check: cargo clippy --target aarch64-apple-darwin (the app included)"
# Some of Tauri's dependencies compile Objective-C in build scripts, which needs Apple's SDK; a
# check does not link, so a compiler and archiver that do nothing are enough.
CC_aarch64_apple_darwin=true AR_aarch64_apple_darwin=true \
  cargo clippy --target aarch64-apple-darwin --workspace --all-targets -- -D warnings

step "TypeScript bindings are current (ts-rs)"
cargo test --quiet -p procdeck-engine --features ts export_bindings >/dev/null
cargo test --quiet -p procdeck-app export_bindings >/dev/null
if ! git diff --exit-code --stat -- ui/src/bindings || [ -n "$(git ls-files --others --exclude-standard ui/src/bindings)" ]; then
  echo "ui/src/bindings is stale: run the two export_bindings commands above and commit the result" >&2
  exit 1
fi

step "cargo test (engine, CLI, desktop shell)"
cargo test --workspace

step "cargo test (engine, CLI) through the portable POSIX path (what macOS runs)"
cargo test -p procdeck-engine -p procdeck-cli --features portable-posix

step "Windows: clippy for x86_64-pc-windows-gnu, the CLI's Windows suite under Wine"
"$root/scripts/wine-tests.sh"

step "MCP server (procdeck mcp) driven by the TypeScript SDK client"
cargo build -p procdeck-cli
npm --prefix tests/mcp test

if [ -x "$root/tests/e2e/run.sh" ]; then
  step "end to end: the built app under Xvfb via tauri-driver"
  "$root/tests/e2e/run.sh"
fi
