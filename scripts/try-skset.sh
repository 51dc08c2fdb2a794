#!/usr/bin/env bash
# Set-up command 1: build skset and start it. With no security key plugged in it uses
# the simulated key (OpenSK in memory), so you can walk through enrollment safely.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-packages.sh
cargo build --release --quiet --bin skset
skset=target/release/skset
if [[ $# -gt 0 ]]; then exec "$skset" "$@"; fi
if "$skset" devices --json 2>/dev/null | grep -q '"path"'; then
  exec "$skset"
else
  echo "No security key found: using the simulated one." >&2
  exec "$skset" --simulate
fi
