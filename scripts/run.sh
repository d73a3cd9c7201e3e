#!/usr/bin/env bash
# The README's run command: builds driftwatch (release) and runs the offline drift gate on
# the example fraud-model data — a clean live batch, then a drifted one.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || { echo "swift not found: install Swift 6.3 (https://www.swift.org/install/linux/)" >&2; exit 1; }
scripts/install-deps.sh
swift build -c release --product driftwatch
bin="$(swift build -c release --show-bin-path)/driftwatch"
echo "== clean live batch vs training baseline"
"$bin" check --baseline examples/train.csv --current examples/live_clean.csv --categorical hour || true
echo
echo "== drifted live batch vs training baseline (exit code 1 = dataset drift)"
set +e
"$bin" check --baseline examples/train.csv --current examples/live_drifted.csv --categorical hour
echo "exit code: $?"
