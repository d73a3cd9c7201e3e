#!/usr/bin/env bash
# Creates .venv-mlflow/ with a pinned MLflow tracking server (from PyPI) for the MLflow tests
# (Tests/DriftServerTests/MLflowTests.swift start `mlflow server` from it on 127.0.0.1). Later
# runs find it in place and return at once. Prints the mlflow executable's path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-mlflow"
pin="mlflow==3.17.2"
# shellcheck source=lib/pinned-venv.sh
. "$root/scripts/lib/pinned-venv.sh"
pinned_venv setup-mlflow "$venv" python3 "$pin" 'import mlflow'
echo "$venv/bin/mlflow"
