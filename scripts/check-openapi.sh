#!/usr/bin/env bash
# Checks the OpenAPI document against the spec and against the live service:
#  1. openapi-spec-validator on openapi/openapi.json, and the embedded copy in step with it
#     (scripts/gen-openapi.sh --check);
#  2. builds driftwatch, starts `driftwatch serve` on 127.0.0.1 inside a network namespace of its
#     own (unshare --net: only loopback exists there, so no request can leave the machine — the
#     fuzzer invents MLflow URLs), with ingest, read and admin tokens; seeds model `fraud` through
#     the API (examples/ data with labels: windows, an episode, quality);
#  3. runs schemathesis against it: the GET operations on the seeded data, then every operation
#     with the admin token (every scope), then with the ingest token (403 on the rest); checks not_a_server_error, status_code_conformance,
#     content_type_conformance and response_schema_conformance; requires at least 2,000 requests
#     and 0 failures; stops the server by its PID.
# Pinned PyPI packages in .venv-openapi (made on the first run). Prints one summary line.
#   scripts/check-openapi.sh
#   CHECK_OPENAPI_EXAMPLES=N  schemathesis --max-examples of the admin run (default 40)
#   CHECK_OPENAPI_KEEP=1      keep the work directory (logs, HAR and JSON reports)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-openapi"
pins="openapi-spec-validator==0.9.0 schemathesis==4.32.5 hypothesis==6.170.17"
# Debian's python3 first: CPython 3.11.7 (a pyenv default here) raises "AST constructor recursion
# depth mismatch" inside Hypothesis (fixed in 3.11.8); CHECK_OPENAPI_PYTHON overrides.
python="${CHECK_OPENAPI_PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x /usr/bin/python3 ]; then python=/usr/bin/python3; else python="$(command -v python3)"; fi
fi
# shellcheck source=lib/pinned-venv.sh
. "$root/scripts/lib/pinned-venv.sh"

if [ "${1:-}" != "--in-netns" ]; then
  started=$(date +%s)
  pinned_venv check-openapi "$venv" "$python" "$pins" 'import schemathesis, openapi_spec_validator'
  "$venv/bin/openapi-spec-validator" "$root/openapi/openapi.json"
  bash "$root/scripts/gen-openapi.sh" --check
  if ! unshare --net true 2>/dev/null || ! command -v ip >/dev/null; then
    echo "check-openapi: needs unshare --net and ip (util-linux, iproute2; as root) to keep the fuzzer's traffic on loopback" >&2
    exit 1
  fi
  (cd "$root" && swift build --product driftwatch)
  bin="$(cd "$root" && swift build --show-bin-path)/driftwatch"
  unshare --net -- bash "${BASH_SOURCE[0]}" --in-netns "$bin"
  echo "check-openapi: OK in $(( $(date +%s) - started )) s"
  exit 0
fi

# Inside the network namespace: loopback only.
bin="$2"
ip link set lo up
work="$(mktemp -d "${TMPDIR:-/tmp}/dw-openapi.XXXXXX")"
pid=""
stop_server() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  pid=""
}
cleanup() {
  local rc=$?
  stop_server
  if [ "$rc" -ne 0 ] && [ -f "$work/server.log" ]; then
    echo "check-openapi: last lines of the server's log:" >&2
    tail -n 30 "$work/server.log" >&2
  fi
  if [ "${CHECK_OPENAPI_KEEP:-}" = 1 ] || [ "$rc" -ne 0 ]; then
    echo "check-openapi: work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

py="$venv/bin/python"
read -r admin ingest read_token < <("$py" -c 'import secrets; print(*(secrets.token_hex(16) for _ in range(3)))')
printf '%s admin\n%s ingest\n%s read\n' "$admin" "$ingest" "$read_token" > "$work/tokens"
port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
"$bin" serve --host 127.0.0.1 --port "$port" --data-dir "$work/data" --tokens "$work/tokens" --log-level warning \
  > "$work/server.log" 2>&1 &
pid=$!
"$py" "$root/scripts/openapi_fuzz.py" wait "$base"
"$py" "$root/scripts/openapi_fuzz.py" seed "$base" "$admin" "$root"

# One schemathesis run: $1 name, $2 token, $3 max examples per operation, then more options.
run_schemathesis() {
  local name="$1" token="$2" examples="$3" rc=0
  shift 3
  mkdir -p "$work/$name"
  (cd "$work/$name" && SCHEMATHESIS_HOOKS=openapi_fuzz PYTHONPATH="$root/scripts" "$venv/bin/schemathesis" run "$root/openapi/openapi.json" \
    "$@" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" \
    --workers 2 \
    --seed 14 \
    --request-timeout 30 \
    --generation-database none \
    --suppress-health-check all \
    --no-color \
    --report har,json \
    --report-dir "$work/$name" \
    --report-har-path "$work/$name/run.har" \
    --report-json-path "$work/$name/run.json" \
    > "$work/$name/output.txt" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "check-openapi: schemathesis ($name token) exited $rc:" >&2
    head -c 20000 "$work/$name/output.txt" >&2
  fi
  return "$rc"
}
status=0
# First the reads, on the seeded data (the later runs create, replace and delete models, fraud too);
# then every operation with the admin token; then with the ingest token (403 where it lacks the scope).
run_schemathesis read "$admin" 30 --include-method GET || status=1
run_schemathesis admin "$admin" "${CHECK_OPENAPI_EXAMPLES:-40}" || status=1
run_schemathesis ingest "$ingest" 10 || status=1
kill -0 "$pid" 2>/dev/null || { echo "check-openapi: the server died during the run" >&2; status=1; }
stop_server

summary="$("$py" "$root/scripts/openapi_fuzz.py" summary "$work"/{read,admin,ingest}/run.har "$work"/{read,admin,ingest}/run.json)"
echo "$summary" | grep -v '^requests='
requests="$(echo "$summary" | sed -n 's/^requests=\([0-9]*\) failures=\([0-9]*\)$/\1/p')"
failures="$(echo "$summary" | sed -n 's/^requests=\([0-9]*\) failures=\([0-9]*\)$/\2/p')"
if [ "${requests:-0}" -lt 2000 ]; then
  echo "check-openapi: only ${requests:-0} requests were sent; at least 2000 are required (raise CHECK_OPENAPI_EXAMPLES)" >&2
  status=1
fi
if [ "${failures:-1}" -ne 0 ]; then status=1; fi
exit "$status"
