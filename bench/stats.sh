#!/usr/bin/env bash
# Peer comparison for the statistics core: driftwatch vs scipy/numpy/pandas (and Evidently).
#
# Usage: bash bench/stats.sh [--evidently] [--keep] [--repeat N]
#
#   --evidently  also time Evidently Report([DataDriftPreset()]) once (~1 min more)
#   --keep       keep the temporary directory with the exported CSVs and raw JSON
#   --repeat N   runs per timing for the CLI and the Python peers (default 3, best kept)
#
# Steps: virtualenv bench/.venv (reused), release build of driftwatch, export of the
# seeded data set, in-process timings (driftwatch bench stats --format json), end-to-end
# timing of `driftwatch check`, the Python peers (bench/peer_stats.py) on the same CSVs,
# then a table. Raw figures are also written to bench/out/stats-<UTC time>.json.
set -euo pipefail

die() { echo "stats.sh: error: $*" >&2; exit 1; }
bad_usage() { echo "stats.sh: error: $*" >&2; echo "usage: bash bench/stats.sh [--evidently] [--keep] [--repeat N]" >&2; exit 2; }
step() { echo "stats.sh: $*" >&2; }
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

EVIDENTLY=0
KEEP=0
REPEAT=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --evidently) EVIDENTLY=1 ;;
    --keep) KEEP=1 ;;
    --repeat)
      [[ $# -ge 2 ]] || bad_usage "--repeat needs a value"
      REPEAT="$2"; shift ;;
    --repeat=*) REPEAT="${1#--repeat=}" ;;
    -h|--help) usage; exit 0 ;;
    *) bad_usage "unknown argument: $1" ;;
  esac
  shift
done
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || bad_usage "--repeat must be a positive integer, got '$REPEAT'"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
VENV="$BENCH_DIR/.venv"
PY="$VENV/bin/python"

command -v python3 >/dev/null || die "python3 not found (apt-get install python3 python3-venv)"
command -v swift >/dev/null || die "swift not found on PATH"

# ---------------------------------------------------------------- virtualenv
reqs=("$BENCH_DIR/requirements.txt")
if [[ $EVIDENTLY -eq 1 ]]; then reqs+=("$BENCH_DIR/requirements-evidently.txt"); fi
if [[ ! -x "$PY" ]]; then
  step "creating virtualenv $VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
fi
need_install=0
for r in "${reqs[@]}"; do
  stamp="$VENV/.installed-$(basename "$r").sha256"
  sum="$(sha256sum "$r" | cut -d' ' -f1)"
  [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" ]] || need_install=1
done
if [[ $need_install -eq 1 ]]; then
  pip_args=()
  for r in "${reqs[@]}"; do pip_args+=(-r "$r"); done
  step "installing ${reqs[*]##*/} into $VENV (quiet)"
  "$PY" -m pip install -q --disable-pip-version-check "${pip_args[@]}" \
    || die "pip install failed for ${reqs[*]##*/}"
  for r in "${reqs[@]}"; do
    sha256sum "$r" | cut -d' ' -f1 >"$VENV/.installed-$(basename "$r").sha256"
  done
fi

# ---------------------------------------------------------------- build
step "building driftwatch (swift build -c release --product driftwatch)"
(cd "$ROOT" && swift build -c release --product driftwatch >&2) || die "swift build -c release failed"
BIN_DIR="$(cd "$ROOT" && swift build -c release --show-bin-path)" || die "swift build --show-bin-path failed"
DW="$BIN_DIR/driftwatch"
[[ -x "$DW" ]] || die "driftwatch binary not found at $DW"

# ---------------------------------------------------------------- temp dir
tmp="$(mktemp -d "${TMPDIR:-/tmp}/driftwatch-bench.XXXXXX")"
cleanup() {
  if [[ $KEEP -eq 1 ]]; then
    step "kept $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- driftwatch
step "exporting the data set: driftwatch bench stats --export $tmp"
"$DW" bench stats --export "$tmp" >&2 || die "driftwatch bench stats --export failed"
for f in baseline.csv current.csv; do
  [[ -s "$tmp/$f" ]] || die "driftwatch bench stats --export did not write $tmp/$f"
done

step "in-process timings: driftwatch bench stats --format json"
"$DW" bench stats --format json >"$tmp/driftwatch_bench.json" || die "driftwatch bench stats --format json failed"

step "end to end: driftwatch check (best of $REPEAT)"
"$PY" "$BENCH_DIR/time_cmd.py" --repeat "$REPEAT" --ok-codes 0,1 -- \
  "$DW" check --baseline "$tmp/baseline.csv" --current "$tmp/current.csv" --format json \
  >"$tmp/driftwatch_check.json" || die "timing driftwatch check failed (exit code 2 = error)"

# ---------------------------------------------------------------- python peers
peer_args=("$tmp" --repeat "$REPEAT")
if [[ $EVIDENTLY -eq 1 ]]; then peer_args+=(--evidently); fi
step "python peers: peer_stats.py ${peer_args[*]}"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" "$BENCH_DIR/peer_stats.py" "${peer_args[@]}" \
  >"$tmp/peer_stats.json" || die "peer_stats.py failed"

# ---------------------------------------------------------------- table
mkdir -p "$BENCH_DIR/out"
OUT_JSON="$BENCH_DIR/out/stats-$(date -u +%Y%m%dT%H%M%SZ).json"
CPU_MODEL="$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
[[ -n "$CPU_MODEL" ]] || CPU_MODEL="$(uname -m)"
NPROC="$(nproc)"
GIT_REV="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"

"$PY" - "$tmp" "$OUT_JSON" "$NPROC" "$CPU_MODEL" "$GIT_REV" <<'PYEOF' || die "could not build the table (raw JSON in $tmp; use --keep)"
import json, sys
from pathlib import Path

tmp, out_json, nproc, cpu, rev = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

def load(name):
    text = (tmp / name).read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        sys.exit(f"stats.sh: error: {name} is not one JSON object ({exc}); got: {text[:300]!r}")

dw = load("driftwatch_bench.json")
check = load("driftwatch_check.json")
peer = load("peer_stats.json")
for key in ("prepare_ms", "evaluate_ms"):
    if not isinstance(dw.get(key), (int, float)):
        sys.exit(f"stats.sh: error: driftwatch bench stats --format json has no numeric {key!r}: {dw}")

ev_ms = float(dw["evaluate_ms"])
prep_ms = float(dw["prepare_ms"])
check_ms = check["best_s"] * 1000
loop_ms = peer["scipy_numpy_loop_s"] * 1000
window_ms = peer["peer_window_s"] * 1000
e2e_ms = peer["end_to_end_s"] * 1000
evid_ms = peer["evidently_s"] * 1000 if peer.get("evidently_s") is not None else None

def ratio(peer_ms, dw_ms):
    return peer_ms / dw_ms if dw_ms > 0 else float("inf")

def mark(r, need):
    return "ok" if r >= need else "BELOW TARGET"

r_loop = ratio(loop_ms, ev_ms)
r_window = ratio(window_ms, ev_ms)
r_cold = ratio(window_ms, prep_ms + ev_ms)
r_e2e = ratio(e2e_ms, check_ms)

d = peer["data"]
rows = [
    ("window evaluation (in process)", "", "", "", ""),
    ("  vs scipy ks_2samp + numpy PSI loop", ev_ms, loop_ms, r_loop, f">= 20x (aim 50x)  {mark(r_loop, 20)}"),
    ("  vs full peer loop (ks+psi+js+wass+pct)", ev_ms, window_ms, r_window, f">= 20x (aim 50x)  {mark(r_window, 20)}"),
    ("  driftwatch prepare+evaluate vs full loop", prep_ms + ev_ms, window_ms, r_cold, "(info: baseline prepared once)"),
    ("end to end (CSV load + all statistics)", "", "", "", ""),
    ("  driftwatch check vs read_csv + full loop", check_ms, e2e_ms, r_e2e, f">= 3x  {mark(r_e2e, 3)}"),
]
if evid_ms is not None:
    r_evid = ratio(evid_ms, prep_ms + ev_ms)
    rows.append(("Evidently Report([DataDriftPreset()])", "", "", "", ""))
    rows.append(("  vs driftwatch prepare+evaluate", prep_ms + ev_ms, evid_ms, r_evid, "(info)"))

def fmt_ms(v):
    return f"{v:,.1f} ms" if isinstance(v, float) else ""

lines = []
lines.append("driftwatch statistics benchmark: peer comparison")
lines.append(f"machine: {nproc} cores, {cpu}; driftwatch rev {rev}")
lines.append(
    f"data: {d['features']} features, baseline {d['baseline_rows']:,} rows, window {d['window_rows']:,} rows; "
    f"best of {peer['repeat']}"
)
lines.append("")
lines.append(f"{'':44} {'driftwatch':>14} {'peer':>14} {'ratio':>9}  target")
for label, a, b, r, t in rows:
    rs = f"{r:,.1f}x" if isinstance(r, float) else ""
    lines.append(f"{label:44} {fmt_ms(a):>14} {fmt_ms(b):>14} {rs:>9}  {t}".rstrip())
lines.append("")
lines.append(f"driftwatch: prepare baseline {prep_ms:,.1f} ms, evaluate {ev_ms:,.1f} ms"
             + (f" ({dw['evaluate_rows_per_s']:,.0f} rows/s)" if isinstance(dw.get("evaluate_rows_per_s"), (int, float)) else "")
             + f"; check peak RSS {check['peak_rss_mib']:,.0f} MiB ({check['rss_source']}), exit code {check['exit_codes'][0]}")
lines.append(
    "peers: read_csv {:,.0f} ms, ks_2samp {:,.0f} ms, PSI {:,.0f} ms, JS {:,.1f} ms, wasserstein {:,.0f} ms, "
    "percentiles {:,.0f} ms; peak RSS {:,.0f} MiB".format(
        peer["load_s"] * 1000, peer["scipy_ks_s"] * 1000, peer["numpy_psi_s"] * 1000, peer["scipy_js_s"] * 1000,
        peer["scipy_wasserstein_s"] * 1000, peer["numpy_percentiles_s"] * 1000, peer["peak_rss_mib"]))
lines.append(f"note: driftwatch spreads features over the {nproc} cores and reports the median of its own repeats; "
             "the Python peers run as a plain script (one thread) and report best-of")
lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in peer["versions"].items()))
if (dw.get("baseline_rows"), dw.get("window_rows")) != (d["baseline_rows"], d["window_rows"]):
    lines.append(f"WARNING: driftwatch bench sizes {dw.get('baseline_rows')}/{dw.get('window_rows')} differ from the exported CSVs")
lines.append(f"raw figures: {out_json}")
print("\n".join(lines))

out_json.write_text(json.dumps({
    "machine": {"nproc": int(nproc), "cpu": cpu},
    "driftwatch_rev": rev,
    "driftwatch_bench": dw,
    "driftwatch_check": check,
    "peers": peer,
    "ratios": {"evaluate_vs_scipy_numpy_loop": r_loop, "evaluate_vs_peer_window": r_window,
               "prepare_evaluate_vs_peer_window": r_cold, "check_vs_peer_end_to_end": r_e2e,
               "targets": {"window": 20, "window_aim": 50, "end_to_end": 3}},
}, indent=2) + "\n")
PYEOF
