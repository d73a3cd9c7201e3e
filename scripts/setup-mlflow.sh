#!/usr/bin/env bash
# Creates .venv-mlflow/ with a pinned MLflow tracking server (from PyPI) for the MLflow tests
# (Tests/DriftServerTests/MLflowTests.swift start `mlflow server` from it on 127.0.0.1). Later
# runs find it in place and return at once. Prints the mlflow executable's path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-mlflow"
pin="mlflow==3.17.2"
if [ -x "$venv/bin/mlflow" ] && [ -f "$venv/.pinned" ] && [ "$(cat "$venv/.pinned")" = "$pin" ]; then
  echo "$venv/bin/mlflow"
  exit 0
fi
python3 -m venv --help >/dev/null 2>&1 || { echo "setup-mlflow: python3 with venv is needed (apt-get install python3-venv)" >&2; exit 1; }
rm -rf "$venv"
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "$pin" >&2
echo "$pin" > "$venv/.pinned"
echo "$venv/bin/mlflow"
