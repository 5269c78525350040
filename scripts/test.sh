#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this): formatting and lints, the engine and
# CLI with real processes, the desktop shell's commands, the web front end's modules, the
# generated TypeScript types, the Windows build under Wine (scripts/wine-tests.sh), the MCP server
# through the official TypeScript SDK client, and the app end to end under Xvfb.
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

step "TypeScript bindings are current (ts-rs)"
cargo test --quiet -p procdeck-engine --features ts export_bindings >/dev/null
cargo test --quiet -p procdeck-app export_bindings >/dev/null
if ! git diff --exit-code --stat -- ui/src/bindings || [ -n "$(git ls-files --others --exclude-standard ui/src/bindings)" ]; then
  echo "ui/src/bindings is stale: run the two export_bindings commands above and commit the result" >&2
  exit 1
fi

step "cargo test (engine, CLI, desktop shell)"
cargo test --workspace

step "Windows: clippy for x86_64-pc-windows-gnu, the CLI's Windows suite under Wine"
"$root/scripts/wine-tests.sh"

step "MCP server (procdeck mcp) driven by the TypeScript SDK client"
cargo build -p procdeck-cli
npm --prefix tests/mcp test

if [ -x "$root/tests/e2e/run.sh" ]; then
  step "end to end: the built app under Xvfb via tauri-driver"
  "$root/tests/e2e/run.sh"
fi
