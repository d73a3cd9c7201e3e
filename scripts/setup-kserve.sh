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
if [ -x "$venv/bin/python" ] && [ -f "$venv/.pinned" ] && [ "$(cat "$venv/.pinned")" = "$pins" ]; then
  echo "$venv/bin/python"
  exit 0
fi
python3 -m venv --help >/dev/null 2>&1 || { echo "setup-kserve: python3 with venv is needed (apt-get install python3-venv)" >&2; exit 1; }
rm -rf "$venv"
python3 -m venv "$venv" >&2
# shellcheck disable=SC2086 # one argument per pin
"$venv/bin/pip" install --quiet --disable-pip-version-check $pins >&2
"$venv/bin/python" -c 'import kserve, sklearn' >&2
echo "$pins" > "$venv/.pinned"
echo "$venv/bin/python"
