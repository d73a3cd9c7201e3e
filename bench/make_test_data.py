#!/usr/bin/env python3
"""Write a seeded CSV pair shaped like `driftwatch bench stats --export DIR`.

Usage: make_test_data.py DIR [--baseline-rows N] [--window-rows N] [--features N] [--seed S]

For trying bench/peer_stats.py without the Swift binary. Normal data; every
third feature of the window is shifted (mean +0.25 sd) and every fifth scaled
(sd x1.3); about 0.1% of the fields are left empty (missing values).
This is not the driftwatch generator: the figures in bench/stats.sh come from
driftwatch's own export.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def frame(rng: np.random.Generator, rows: int, features: int, drift: bool) -> pd.DataFrame:
    cols = {}
    for j in range(features):
        loc, scale = 10.0 * j, 1.0 + j / 10.0
        if drift and j % 3 == 0:
            loc += 0.25 * scale
        if drift and j % 5 == 0:
            scale *= 1.3
        x = np.round(rng.normal(loc, scale, rows), 6)
        x[rng.random(rows) < 0.001] = np.nan
        cols[f"f{j:02d}"] = x
    return pd.DataFrame(cols)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir", type=Path)
    p.add_argument("--baseline-rows", type=int, default=1_000_000)
    p.add_argument("--window-rows", type=int, default=100_000)
    p.add_argument("--features", type=int, default=30)
    p.add_argument("--seed", type=int, default=20251129)
    a = p.parse_args(argv)
    a.dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    frame(rng, a.baseline_rows, a.features, False).to_csv(a.dir / "baseline.csv", index=False, na_rep="")
    frame(rng, a.window_rows, a.features, True).to_csv(a.dir / "current.csv", index=False, na_rep="")
    print(f"wrote {a.dir / 'baseline.csv'} and {a.dir / 'current.csv'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
