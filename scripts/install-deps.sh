#!/usr/bin/env bash
# Installs the Debian packages driftwatch needs, when missing:
#   scripts/install-deps.sh run    what building and running the service needs (scripts/run.sh)
#   scripts/install-deps.sh test   that, and the real peers the tests start (scripts/test.sh)
# Idempotent and quiet when everything is there. Needs root (or sudo) only to install.
set -euo pipefail

mode="${1:-test}"
case "$mode" in run|test) ;; *) echo "install-deps: usage: install-deps.sh run|test" >&2; exit 2 ;; esac

packages=(
  liblapack-dev liblapacke-dev libopenblas-dev  # CLAPACK: PCA drift (LAPACK), BLAS
  libsqlite3-dev                                # GRDB's system SQLite
  zlib1g-dev                                    # gzip request bodies (compress-nio)
  libcurl4-openssl-dev                          # FoundationNetworking (URLSession): the demo's client, the tests
)
if [ "$mode" = test ]; then
  packages+=(
    prometheus                                  # promtool (check metrics, rules) and the alerting end-to-end test
    prometheus-alertmanager                     # the alerting end-to-end test
    chromium                                    # the report page's headless screenshot test
    postgresql                                  # PostgreSQL 15: the second store backend's tests (initdb/pg_ctl into a temp dir)
    python3-venv                                # the virtualenvs of the Python peers (MLflow, KServe, schemathesis, kubernetes-validate)
  )
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
