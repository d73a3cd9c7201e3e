#!/usr/bin/env python3
"""Golden fixtures for Sources/DriftStats/Multivariate.swift (PCA data-reconstruction drift).

Writes reconstruction.json next to this script: for each case a baseline and a window (missing values as
null), and what NannyML's DataReconstructionDriftCalculator pipeline computes from them with scikit-learn
(nannyml/drift/multivariate/data_reconstruction/calculator.py, `_fit` and `_calculate_dre_results`):

  SimpleImputer(strategy="mean") -> StandardScaler() -> PCA(n_components=variance_share, svd_solver="full")
  error per row = ||z - pca.inverse_transform(pca.transform(z))||_2, averaged over the rows

Expected: imputer statistics_ (means), scaler scale_ (stds), n_components_, sum(explained_variance_ratio_),
components_ (sklearn >= 1.5 signs them so that each row's largest |entry| is positive, the convention
driftwatch uses too), and the mean reconstruction error of the window and of the whole baseline.
The chunk thresholds are not here: driftwatch shuffles the baseline with its own generator before
chunking, which sklearn cannot reproduce; the Swift tests check them by construction instead.

svd_solver="full" (LAPACK gesdd on the centred data) is the most accurate reference; NannyML leaves the
default "auto", which picks a solver by shape and gives the same subspace to rounding.

Generated with (the versions are also written into the file):
  python 3.11.7, numpy 2.4.6, scikit-learn 1.9.1
  python3 -m venv /tmp/pcavenv && /tmp/pcavenv/bin/pip install numpy scikit-learn
  /tmp/pcavenv/bin/python Tests/Fixtures/multivariate/make_fixtures.py

Numbers are written in Python's shortest round-trip form, so Swift's JSONDecoder reads back exactly the
binary64 values sklearn saw (the inputs are rounded to 6 significant digits
before sklearn sees them, to keep the file small). Deterministic: case i draws from numpy.random.default_rng(BASE_SEED + i).
"""

import json
import os
import platform

import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler

BASE_SEED = 20260301


def with_missing(rng, x, share):
    x = x.copy()
    x[rng.random(x.shape) < share] = np.nan
    return x


def factor_data(rng, n, loadings, noise, scales, offsets):
    """Rows = latent factors @ loadings + noise, then per-column scale and offset."""
    latent = rng.standard_normal((n, loadings.shape[0]))
    x = latent @ loadings + noise * rng.standard_normal((n, loadings.shape[1]))
    return x * scales + offsets


def case_correlated(rng):
    loadings = np.array([[1.0, 0.9, 0.8, 0.0, 0.1], [0.0, 0.2, -0.5, 1.0, 0.9]])
    scales = np.array([1.0, 2.0, 0.5, 10.0, 1.0])
    offsets = np.array([0.0, 5.0, -3.0, 100.0, 1.0])
    baseline = with_missing(rng, factor_data(rng, 200, loadings, 0.3, scales, offsets), 0.03)
    # Window: the second factor's sign flips on two features (a relationship change).
    flipped = loadings.copy()
    flipped[1, 3:] *= -1
    window = with_missing(rng, factor_data(rng, 80, flipped, 0.3, scales, offsets), 0.03)
    return "correlated_with_missing", baseline, window, 0.65


def case_constant_column(rng):
    loadings = np.array([[1.0, 0.7, 0.0], [0.0, 0.6, 1.0]])
    x = factor_data(rng, 200, loadings, 0.4, np.ones(3), np.zeros(3))
    baseline = np.column_stack([x[:, 0], np.full(200, 7.5), x[:, 1], x[:, 2]])
    w = factor_data(rng, 80, loadings, 0.4, np.ones(3), np.zeros(3))
    window = np.column_stack([w[:, 0], np.full(80, 7.5), w[:, 1], w[:, 2]])
    return "constant_column", baseline, window, 0.8


def case_scales(rng):
    loadings = rng.standard_normal((3, 8))
    scales = np.array([1e-3, 1.0, 1e3, 5.0, 0.2, 1e2, 3.0, 1e-1])
    offsets = rng.standard_normal(8) * 50
    baseline = factor_data(rng, 200, loadings, 0.5, scales, offsets)
    window = factor_data(rng, 60, loadings, 0.5, scales, offsets + scales * 0.5)  # mean shift of 0.5 sd-ish
    return "eight_features_mixed_scales", baseline, window, 0.9


def six_digits(x):
    """Inputs are stored (and so computed on) with 6 significant digits to keep the file small."""
    return np.array([[float(f"{v:.6g}") for v in row] for row in x])


def run(name, baseline, window, share):
    baseline, window = six_digits(baseline), six_digits(window)
    imputer = SimpleImputer(strategy="mean")
    scaler = StandardScaler()
    zb = scaler.fit_transform(imputer.fit_transform(baseline))
    pca = PCA(n_components=share, svd_solver="full")
    pca.fit(zb)
    comps = pca.components_
    for row in comps:  # check the sign convention this fixture promises
        assert row[np.argmax(np.abs(row))] > 0

    def mean_error(x):
        z = scaler.transform(imputer.transform(x))
        rec = pca.inverse_transform(pca.transform(z))
        return float(np.mean(np.linalg.norm(z - rec, axis=1)))

    def encode(x):
        return [[None if np.isnan(v) else float(v) for v in col] for col in x.T]

    return {
        "name": name,
        "variance_share": share,
        "baseline_columns": encode(baseline),
        "window_columns": encode(window),
        "expected": {
            "means": [float(v) for v in imputer.statistics_],
            "stds": [float(v) for v in scaler.scale_],
            "n_components": int(pca.n_components_),
            "explained_variance_share": float(np.sum(pca.explained_variance_ratio_)),
            "explained_variance_ratio": [float(v) for v in pca.explained_variance_ratio_],
            "components": [[float(v) for v in row] for row in comps],
            "window_mean_error": mean_error(window),
            "baseline_mean_error": mean_error(baseline),
        },
    }


def main():
    builders = [case_correlated, case_constant_column, case_scales]
    cases = [run(*build(np.random.default_rng(BASE_SEED + i))) for i, build in enumerate(builders)]
    out = {
        "family": "reconstruction",
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "sklearn": sklearn.__version__},
        "base_seed": BASE_SEED,
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reconstruction.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
