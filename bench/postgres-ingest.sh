#!/usr/bin/env bash
# Ingest benchmark on the PostgreSQL store, PostgreSQL on this machine:
#   bench/postgres-ingest.sh [driftwatch bench ingest options…]
# Starts Debian's PostgreSQL (initdb into a temporary directory, its defaults: fsync and
# synchronous_commit on, so 202 means the commit's WAL is flushed), on 127.0.0.1 and a free port,
# runs `driftwatch bench ingest --store postgres://…` against an empty database, prints its
# figures (observations/s, p50/p99 acknowledgement, CPU per 1,000 observations of driftwatch and
# of PostgreSQL), and stops the server by PID. Builds the release binary when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=".build/release/driftwatch"
[ -x "$bin" ] || swift build -c release --product driftwatch >&2
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "postgres-ingest: no PostgreSQL server (scripts/install-deps.sh test installs Debian's postgresql)" >&2; exit 1; }
dir=$(mktemp -d /tmp/driftwatch-bench-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; as_pg=(runuser -u postgres --); fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pid=""
cleanup() { if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || true; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; fi; rm -rf "$dir"; }
trap cleanup EXIT
(cd "$dir" && "${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -U driftwatch --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null)
(cd "$dir" && "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=100" start >/dev/null </dev/null)
pid=$(head -1 "$dir/data/postmaster.pid")
(cd "$dir" && "${as_pg[@]}" "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U driftwatch driftwatch)
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (pid $pid, fsync on, synchronous_commit on)" >&2
"$bin" bench ingest --store "postgres://driftwatch@127.0.0.1:$port/driftwatch?sslmode=disable" "$@"
