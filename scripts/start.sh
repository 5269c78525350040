#!/usr/bin/env bash
# Installs what is missing, builds the web front end and starts Procdeck. Folders given as
# arguments are added as workspaces: ./scripts/start.sh ~/code/shop
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/deps.sh"
npm --prefix "$root/ui" run build
cd "$root"
# The app supervises each process with the `procdeck` CLI beside its own executable.
cargo build --release -p procdeck-cli --bin procdeck
exec cargo run --release --features custom-protocol --bin procdeck-app -- "$@"
