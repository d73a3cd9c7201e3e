#!/usr/bin/env bash
# The README's run command: builds driftwatch (release) and runs the service on its
# embedded SQLite store with the demo fraud model: a baseline, then a live stream that
# drifts and recovers (ok → suspected → confirmed → resolved within a minute). The service
# keeps running afterwards on http://127.0.0.1:8080 — Ctrl-C stops it.
#   PORT=9090 scripts/run.sh      another port
#   DEMO_ONCE=1 scripts/run.sh    exit when the demo stream ends (for scripts)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || { echo "swift not found: install Swift 6.3 (https://www.swift.org/install/linux/)" >&2; exit 1; }
scripts/install-deps.sh run
swift build -c release --product driftwatch
bin="$(swift build -c release --show-bin-path)/driftwatch"
args=(demo --port "${PORT:-8080}" --data-dir "${DATA_DIR:-./driftwatch-demo-data}")
[ -n "${DEMO_ONCE:-}" ] && args+=(--once)
exec "$bin" "${args[@]}"
