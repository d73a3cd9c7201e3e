#!/usr/bin/env python3
"""Time the Python peers of `driftwatch bench stats` on the same data.

Usage: peer_stats.py DIR [--repeat N] [--evidently]

DIR holds baseline.csv and current.csv as written by
`driftwatch bench stats --export DIR` (header f00..f29, one row per
observation, empty field = missing value).

Measured, each as the best of --repeat runs (wall clock, one process, no
thread settings touched):

  load_s          pandas.read_csv of both files
  scipy_ks_s      scipy.stats.ks_2samp(baseline[col].dropna(), current[col].dropna())
                  for every column (default method and alternative)
  numpy_psi_s     10-bin quantile PSI per column: cuts = np.quantile(ref, k/10, k=1..9),
                  np.unique, np.searchsorted(side="left"), np.bincount, fractions
                  clipped at 1e-4, PSI = sum((c - r) * ln(c / r))
  scipy_js_s      scipy.spatial.distance.jensenshannon on the same (unclipped)
                  10-bin fractions (the binning itself is counted in numpy_psi_s)
  scipy_wasserstein_s  scipy.stats.wasserstein_distance(ref, cur) per column
  numpy_percentiles_s  np.percentile(cur, [1, 5, 25, 50, 75, 95, 99]) per column

Derived (sums of the per-stage bests, i.e. the most favourable figure for the
peers):

  scipy_numpy_loop_s = scipy_ks_s + numpy_psi_s
  peer_window_s      = ks + psi + js + wasserstein + percentiles
  end_to_end_s       = load_s + peer_window_s

With --evidently, Report([DataDriftPreset()]).run(current, reference) once
(evidently 0.7.x) as evidently_s.

Prints one JSON object on stdout, a human summary on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

PERCENTILES = [1, 5, 25, 50, 75, 95, 99]
PSI_EPS = 1e-4
QUANTILE_PROBS = [k / 10.0 for k in range(1, 10)]
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
)


def eprint(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Time scipy/numpy/pandas (and optionally Evidently) on DIR/baseline.csv and DIR/current.csv."
    )
    p.add_argument("dir", type=Path, help="directory with baseline.csv and current.csv")
    p.add_argument("--repeat", type=int, default=3, help="runs per timing; the best is kept (default 3)")
    p.add_argument("--evidently", action="store_true", help="also time Evidently Report([DataDriftPreset()]) once")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    base_path = args.dir / "baseline.csv"
    cur_path = args.dir / "current.csv"
    for f in (base_path, cur_path):
        if not f.is_file():
            eprint(f"peer_stats.py: error: {f} not found (expected DIR/baseline.csv and DIR/current.csv)")
            return 2

    try:
        import numpy as np
        import pandas as pd
        import scipy
        from scipy.spatial.distance import jensenshannon
        from scipy.stats import ks_2samp, wasserstein_distance
    except ImportError as exc:  # pragma: no cover - environment problem
        eprint(f"peer_stats.py: error: {exc}; install bench/requirements.txt (bash bench/stats.sh does)")
        return 2

    perf = time.perf_counter

    # ---------------------------------------------------------------- load
    load_runs: list[float] = []
    baseline = current = None
    for _ in range(args.repeat):
        del baseline, current
        t0 = perf()
        baseline = pd.read_csv(base_path)
        current = pd.read_csv(cur_path)
        load_runs.append(perf() - t0)

    columns = list(baseline.columns)
    missing_cols = [c for c in columns if c not in current.columns]
    if missing_cols:
        eprint(f"peer_stats.py: error: current.csv lacks columns {missing_cols}")
        return 2
    non_numeric = [c for c in columns if not pd.api.types.is_numeric_dtype(baseline[c])] + [
        c for c in columns if not pd.api.types.is_numeric_dtype(current[c])
    ]
    if non_numeric:
        eprint(f"peer_stats.py: error: non-numeric columns {sorted(set(non_numeric))}")
        return 2

    # Arrays without missing values for the numpy/scipy stages after KS. Extracted once,
    # outside the stage timings (favours the peers); timed on its own for information.
    t0 = perf()
    ref_arrays = {c: baseline[c].dropna().to_numpy(dtype=np.float64) for c in columns}
    cur_arrays = {c: current[c].dropna().to_numpy(dtype=np.float64) for c in columns}
    extract_s = perf() - t0

    # ---------------------------------------------------------------- stages
    def run_ks() -> dict:
        out = {}
        for c in columns:
            out[c] = ks_2samp(baseline[c].dropna(), current[c].dropna())
        return out

    def run_psi() -> dict:
        out = {}
        for c in columns:
            ref = ref_arrays[c]
            cur = cur_arrays[c]
            cuts = np.unique(np.quantile(ref, QUANTILE_PROBS))
            nb = len(cuts) + 1
            r = np.bincount(np.searchsorted(cuts, ref, side="left"), minlength=nb) / ref.size
            cf = np.bincount(np.searchsorted(cuts, cur, side="left"), minlength=nb) / cur.size
            rc = np.clip(r, PSI_EPS, None)
            cc = np.clip(cf, PSI_EPS, None)
            psi = float(np.sum((cc - rc) * np.log(cc / rc)))
            out[c] = (psi, r, cf)
        return out

    psi_results = run_psi()  # fractions for the JS stage (and a warm-up)

    def run_js() -> dict:
        out = {}
        for c in columns:
            _, r, cf = psi_results[c]
            out[c] = float(jensenshannon(r, cf))
        return out

    def run_wasserstein() -> dict:
        out = {}
        for c in columns:
            out[c] = float(wasserstein_distance(ref_arrays[c], cur_arrays[c]))
        return out

    def run_percentiles() -> dict:
        out = {}
        for c in columns:
            out[c] = np.percentile(cur_arrays[c], PERCENTILES)
        return out

    stages = [
        ("scipy_ks_s", run_ks),
        ("numpy_psi_s", run_psi),
        ("scipy_js_s", run_js),
        ("scipy_wasserstein_s", run_wasserstein),
        ("numpy_percentiles_s", run_percentiles),
    ]
    runs: dict[str, list[float]] = {"load_s": load_runs}
    results: dict[str, dict] = {}
    for name, fn in stages:
        runs[name] = []
        for _ in range(args.repeat):
            t0 = perf()
            results[name] = fn()
            runs[name].append(perf() - t0)

    best = {k: min(v) for k, v in runs.items()}
    scipy_numpy_loop_s = best["scipy_ks_s"] + best["numpy_psi_s"]
    peer_window_s = sum(best[name] for name, _ in stages)
    end_to_end_s = best["load_s"] + peer_window_s

    # A few values so the run can be compared with driftwatch's numbers (not timed).
    ks = results["scipy_ks_s"]
    psi = {c: v[0] for c, v in results["numpy_psi_s"].items()}
    sanity = {
        "ks_pvalue_below_0_05": sum(1 for c in columns if ks[c].pvalue < 0.05),
        "psi_above_0_1": sum(1 for c in columns if psi[c] > 0.1),
        "psi_above_0_2": sum(1 for c in columns if psi[c] > 0.2),
        "max_ks_statistic": float(max(ks[c].statistic for c in columns)),
        "max_psi": float(max(psi.values())),
        "missing_baseline": int(baseline.isna().sum().sum()),
        "missing_current": int(current.isna().sum().sum()),
    }

    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
    }

    evidently_s = None
    if args.evidently:
        try:
            import evidently
            from evidently import Report
            from evidently.presets import DataDriftPreset
        except ImportError as exc:
            eprint(f"peer_stats.py: error: --evidently: {exc}; install bench/requirements-evidently.txt")
            return 2
        versions["evidently"] = getattr(evidently, "__version__", "unknown")
        eprint("peer_stats.py: running Evidently Report([DataDriftPreset()]) once (slow) ...")
        t0 = perf()
        Report([DataDriftPreset()]).run(current, baseline)
        evidently_s = perf() - t0

    # ru_maxrss is in KiB on Linux.
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    report = {
        "tool": "peer_stats.py",
        "data": {
            "dir": str(args.dir),
            "features": len(columns),
            "baseline_rows": int(len(baseline)),
            "window_rows": int(len(current)),
        },
        "repeat": args.repeat,
        "load_s": best["load_s"],
        "scipy_ks_s": best["scipy_ks_s"],
        "numpy_psi_s": best["numpy_psi_s"],
        "scipy_js_s": best["scipy_js_s"],
        "scipy_wasserstein_s": best["scipy_wasserstein_s"],
        "numpy_percentiles_s": best["numpy_percentiles_s"],
        "scipy_numpy_loop_s": scipy_numpy_loop_s,
        "peer_window_s": peer_window_s,
        "end_to_end_s": end_to_end_s,
        "evidently_s": evidently_s,
        "extract_arrays_s": extract_s,
        "runs_s": runs,
        "peak_rss_mib": round(peak_rss_mib, 1),
        "sanity": sanity,
        "versions": versions,
        "thread_env": {k: os.environ.get(k) for k in THREAD_VARS},
        "machine": {
            "nproc": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    print(json.dumps(report, indent=2))

    ms = lambda s: f"{s * 1000:10.1f} ms"  # noqa: E731
    eprint(
        f"peer_stats.py: {len(columns)} features, baseline {len(baseline):,} rows, window {len(current):,} rows, "
        f"best of {args.repeat}"
    )
    eprint(f"  pandas.read_csv (both files)     {ms(best['load_s'])}")
    eprint(f"  scipy ks_2samp                   {ms(best['scipy_ks_s'])}")
    eprint(f"  numpy 10-bin quantile PSI        {ms(best['numpy_psi_s'])}")
    eprint(f"  scipy jensenshannon              {ms(best['scipy_js_s'])}")
    eprint(f"  scipy wasserstein_distance       {ms(best['scipy_wasserstein_s'])}")
    eprint(f"  numpy percentile                 {ms(best['numpy_percentiles_s'])}")
    eprint(f"  scipy+numpy loop (ks+psi)        {ms(scipy_numpy_loop_s)}")
    eprint(f"  full peer window loop            {ms(peer_window_s)}")
    eprint(f"  end to end (load + full loop)    {ms(end_to_end_s)}")
    if evidently_s is not None:
        eprint(f"  Evidently DataDriftPreset        {ms(evidently_s)}")
    eprint(
        f"  KS p<0.05 in {sanity['ks_pvalue_below_0_05']}/{len(columns)} columns, "
        f"PSI>0.2 in {sanity['psi_above_0_2']}/{len(columns)}; peak RSS {peak_rss_mib:.0f} MiB; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
