#!/usr/bin/env bash
# Creates .venv-kserve/ with a pinned KServe model server and scikit-learn (from PyPI) for the
# KServe peer test (Tests/DriftServerTests/KServePeerTests.swift starts
# Tests/Peers/kserve_sklearn_server.py from it on 127.0.0.1). Later runs find it in place and
# return at once. Prints the venv's python executable.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-kserve"
# kserve 0.21.0 is the code behind KServe's sklearn/xgboost runtimes; numpy and pandas shape
# what its get_predict_response answers, so they are pinned too.
pins="kserve==0.21.0 scikit-learn==1.9.1 numpy==2.4.6 pandas==2.3.3"
# shellcheck source=lib/pinned-venv.sh
. "$root/scripts/lib/pinned-venv.sh"
pinned_venv setup-kserve "$venv" python3 "$pins" 'import kserve, sklearn'
echo "$venv/bin/python"
