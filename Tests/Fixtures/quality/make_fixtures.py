#!/usr/bin/env python3
"""Golden fixtures for Sources/DriftStats/Quality.swift (model-quality numerics).

Writes, next to this script:
  binary.json      sklearn.metrics: roc_auc_score, average_precision_score, precision/recall/f1/accuracy,
                   log_loss, brier_score_loss; plus the ECE as driftwatch defines it (see `ece` below)
  regression.json  sklearn.metrics: mean_absolute_error, root_mean_squared_error,
                   mean_absolute_percentage_error, r2_score
  isotonic.json    sklearn.isotonic.IsotonicRegression(y_min=0, y_max=1, increasing=True, out_of_bounds="clip")
  cbpe.json        NannyML CBPE formulas (binary), re-implemented here in numpy from
                   nannyml/performance_estimation/confidence_based/metrics.py (estimate_roc_auc, estimate_f1, ...)
                   on scores calibrated by the sklearn isotonic fit above

Generated with (the versions are also written into every file):
  python 3.11.7, numpy 2.4.6, scipy 1.17.1, scikit-learn 1.9.1
  python3 -m venv /tmp/qvenv && /tmp/qvenv/bin/pip install scikit-learn numpy
  /tmp/qvenv/bin/python Tests/Fixtures/quality/make_fixtures.py

Numbers are written in Python's shortest round-trip form (json.dumps uses repr), so a correctly rounded
parser (Swift's JSONDecoder) reads back exactly the binary64 values sklearn saw. `null` in an expected
field means "driftwatch reports nil"; what sklearn itself returned/raised there is in `sklearn_notes`.
Deterministic: every case draws from numpy.random.default_rng(BASE_SEED + case index).
"""

import json
import math
import os
import platform
import sys
import warnings

import numpy as np
import scipy
import sklearn
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_SEED = 20260301
VERSIONS = {
    "python": platform.python_version(),
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "scikit-learn": sklearn.__version__,
}


def rng_for(index):
    return np.random.default_rng(BASE_SEED + index)


def f(x):
    """A float for JSON, or None for nan (the 'not defined' marker)."""
    x = float(x)
    return None if math.isnan(x) else x


def write(name, family, description, cases, tolerance):
    doc = {
        "format": "driftwatch-quality-golden",
        "format_version": 1,
        "family": family,
        "description": description,
        "generated_by": "Tests/Fixtures/quality/make_fixtures.py",
        "versions": VERSIONS,
        "base_seed": BASE_SEED,
        "suggested_tolerance": tolerance,
        "cases": cases,
    }
    path = os.path.join(HERE, name)
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1, allow_nan=False)
        fh.write("\n")
    print(f"wrote {path}: {len(cases)} cases", file=sys.stderr)


# --------------------------------------------------------------------------------------------
# Binary classification
# --------------------------------------------------------------------------------------------

def ece(scores, labels):
    """driftwatch's expected calibration error: 10 equal-width bins on [0, 1] of the score clipped to
    [0, 1], bin = min(floor(10 p), 9) (so 1.0 falls in the last bin), weighted by bin size:
    sum_b |mean_b(p) - mean_b(y)| * n_b / n. Not an sklearn function (sklearn has calibration_curve,
    whose bins are the same but which drops empty bins and returns no ECE)."""
    p = np.clip(scores, 0.0, 1.0)
    y = labels.astype(np.float64)
    b = np.minimum(np.floor(p * 10.0).astype(np.int64), 9)
    total = 0.0
    for k in range(10):
        m = b == k
        nb = int(m.sum())
        if nb:
            total += abs(p[m].mean() - y[m].mean()) * nb / len(p)
    return total


def binary_case(cid, description, scores, labels, threshold, tags):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    n = len(scores)
    positives = int(labels.sum())
    y_pred = (scores >= threshold).astype(np.int64)
    notes = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", UserWarning)
        if positives in (0, n):
            # sklearn 1.9 warns and returns nan ("Only one class is present in y_true").
            notes["roc_auc_score"] = repr(roc_auc_score(labels, scores)) if n > 0 else "n/a"
            auc = None
        else:
            auc = f(roc_auc_score(labels, scores))
        if positives == 0:
            # sklearn warns "No positive class found in y_true, recall is set to one" and returns 0.0.
            notes["average_precision_score"] = repr(average_precision_score(labels, scores))
            ap = None
        else:
            ap = f(average_precision_score(labels, scores))
        pred_pos = int(y_pred.sum())
        prec_nan = precision_score(labels, y_pred, zero_division=np.nan)
        rec_nan = recall_score(labels, y_pred, zero_division=np.nan)
        f1_nan = f1_score(labels, y_pred, zero_division=np.nan)
        if pred_pos == 0:
            notes["precision_score"] = "zero_division (no predicted positives): sklearn returns zero_division, 0.0 by default"
        if positives == 0:
            notes["recall_score"] = "zero_division (no positives): sklearn returns zero_division, 0.0 by default"
        if math.isnan(f1_nan):
            notes["f1_score"] = "zero_division (no positives and no predicted positives)"
        # Probabilities outside [0, 1] make sklearn raise; driftwatch clips scores into [0, 1] first.
        p = np.clip(scores, 0.0, 1.0)
        if np.any(p != scores):
            notes["log_loss"] = "scores outside [0, 1] clipped to [0, 1] before log_loss/brier_score_loss (sklearn raises)"
        ll = log_loss(labels, p, labels=[0, 1])
        br = brier_score_loss(labels, p, pos_label=1)
    return {
        "id": cid,
        "description": description,
        "tags": tags,
        "inputs": {"scores": [float(s) for s in scores], "labels": [int(v) for v in labels]},
        "params": {"threshold": float(threshold)},
        "expected": {
            "rows": n,
            "positives": positives,
            "threshold": float(threshold),
            "roc_auc": auc,
            "average_precision": ap,
            "precision": f(prec_nan),
            "recall": f(rec_nan),
            "f1": f(f1_nan),
            "accuracy": f(accuracy_score(labels, y_pred)),
            "log_loss": f(ll),
            "brier": f(br),
            "expected_calibration_error": f(ece(scores, labels)),
            "positive_rate": f(labels.mean()),
            "predicted_positive_rate": f(y_pred.mean()),
        },
        "sklearn_notes": notes,
    }


def binary_cases():
    cases = []
    idx = 0

    def nxt():
        nonlocal idx
        r = rng_for(idx)
        idx += 1
        return r

    r = nxt()
    s = np.round(r.uniform(0, 1, 500), 2)
    y = (r.uniform(0, 1, 500) < s).astype(int)
    cases.append(binary_case("random_ties_2dp", "n=500, score ~ U(0,1) rounded to 2 decimals (heavy ties), "
                             "label ~ Bernoulli(score)", s, y, 0.5, ["ties", "medium"]))

    r = nxt()
    t = r.beta(2, 5, 20000)
    s = np.round(t ** 0.7, 3)
    y = (r.uniform(0, 1, 20000) < t).astype(int)
    cases.append(binary_case("random_ties_3dp_large", "n=20000, true p ~ Beta(2,5), score = p^0.7 rounded to 3 "
                             "decimals (miscalibrated, ties), label ~ Bernoulli(p)", s, y, 0.3, ["ties", "large"]))

    r = nxt()
    s = r.uniform(0, 1, 1000)
    y = (r.uniform(0, 1, 1000) < 0.2 + 0.6 * s).astype(int)
    cases.append(binary_case("random_continuous", "n=1000, score ~ U(0,1) unrounded (no ties), "
                             "label ~ Bernoulli(0.2 + 0.6 score)", s, y, 0.6, ["medium"]))

    r = nxt()
    neg = np.round(r.uniform(0.0, 0.45, 40), 4)
    pos = np.round(r.uniform(0.55, 1.0, 25), 4)
    s = np.concatenate([neg, pos])
    y = np.concatenate([np.zeros(40, int), np.ones(25, int)])
    perm = r.permutation(len(s))
    cases.append(binary_case("perfectly_separated", "every positive scores above every negative (AUC = AP = 1)",
                             s[perm], y[perm], 0.5, ["edge", "small"]))

    r = nxt()
    s = np.round(r.uniform(0, 1, 30), 2)
    cases.append(binary_case("all_positive", "labels all 1: ROC AUC undefined (nil), AP = 1",
                             s, np.ones(30, int), 0.5, ["edge", "one_class"]))

    r = nxt()
    s = np.round(r.uniform(0, 1, 30), 2)
    cases.append(binary_case("all_negative", "labels all 0: ROC AUC, AP and recall undefined (nil)",
                             s, np.zeros(30, int), 0.5, ["edge", "one_class"]))

    s = np.array([0.0, 1.0, 0.0, 1.0, 1e-20, 1.0 - 2 ** -53, 2 ** -52, 0.5, 1e-300, 1.0])
    y = np.array([1, 0, 0, 1, 1, 0, 0, 1, 0, 1])
    cases.append(binary_case("log_loss_clipping", "probabilities exactly 0 and 1 on the wrong label (log loss "
                             "clipped to [eps, 1-eps], eps = finfo(float64).eps), tiny and near-one values",
                             s, y, 0.5, ["edge", "clipping"]))

    cases.append(binary_case("sklearn_docstring", "sklearn docstring example: y=[0,0,1,1], "
                             "scores=[0.1,0.4,0.35,0.8] (AUC 0.75, AP 0.8333...)",
                             [0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.5, ["small", "hand"]))

    cases.append(binary_case("ties_across_classes", "hand case: tied scores shared by both classes, a score "
                             "equal to the threshold (predicted positive)",
                             [0.2, 0.2, 0.5, 0.5, 0.5, 0.9, 0.9, 0.1], [0, 1, 1, 0, 1, 1, 0, 0], 0.5,
                             ["small", "hand", "ties"]))

    cases.append(binary_case("all_tied", "every score equal: AUC 0.5, AP = positive rate",
                             [0.3] * 12, [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0], 0.3, ["small", "ties", "edge"]))

    r = nxt()
    s = np.round(r.uniform(0, 0.9, 50), 2)
    y = (r.uniform(0, 1, 50) < s).astype(int)
    cases.append(binary_case("no_predicted_positive", "threshold above every score: precision nil, recall 0, F1 0",
                             s, y, 0.95, ["edge"]))

    cases.append(binary_case("no_positive_no_predicted", "no positives and no predicted positives: "
                             "precision, recall and F1 nil",
                             [0.1, 0.2, 0.3, 0.2], [0, 0, 0, 0], 0.5, ["edge", "one_class"]))

    r = nxt()
    s = np.round(r.normal(0, 1.5, 300), 3)
    y = (r.uniform(0, 1, 300) < 1 / (1 + np.exp(-s))).astype(int)
    cases.append(binary_case("margins_outside_unit", "scores are margins ~ N(0, 1.5^2) (outside [0,1]): AUC/AP use "
                             "them as ranks; log loss, Brier and ECE clip them into [0,1]", s, y, 0.0,
                             ["edge", "clipping"]))

    cases.append(binary_case("single_row", "one row", [0.7], [1], 0.5, ["edge", "small"]))
    cases.append(binary_case("two_rows_inverted", "two rows ranked the wrong way (AUC 0)", [0.8, 0.3], [0, 1], 0.5,
                             ["edge", "small"]))

    r = nxt()
    s = np.round(r.uniform(0, 1, 4000), 1)
    y = (r.uniform(0, 1, 4000) < 0.1 + 0.3 * s).astype(int)
    cases.append(binary_case("coarse_ties_1dp", "n=4000, 11 distinct scores (1 decimal), imbalanced labels",
                             s, y, 0.5, ["ties", "heavy_ties", "large"]))
    return cases


# --------------------------------------------------------------------------------------------
# Regression
# --------------------------------------------------------------------------------------------

def regression_case(cid, description, pred, target, tags):
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    notes = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        r2 = r2_score(target, pred) if len(target) >= 2 else float("nan")
    constant = bool(np.all(target == target[0]))
    if len(target) < 2:
        notes["r2_score"] = "fewer than two samples: sklearn warns and returns nan"
        r2_expected = None
    elif constant:
        notes["r2_score"] = (f"targets constant: sklearn (force_finite=True) returns {r2!r}; "
                             "driftwatch reports nil")
        r2_expected = None
    else:
        r2_expected = f(r2)
    if np.any(target == 0):
        notes["mape"] = "a zero target: sklearn divides by max(|y|, finfo(float64).eps), so the term is |pred|/eps"
    return {
        "id": cid,
        "description": description,
        "tags": tags,
        "inputs": {"predictions": [float(v) for v in pred], "targets": [float(v) for v in target]},
        "expected": {
            "rows": len(target),
            "mae": f(mean_absolute_error(target, pred)),
            "rmse": f(root_mean_squared_error(target, pred)),
            "mape": f(mean_absolute_percentage_error(target, pred)),
            "r2": r2_expected,
        },
        "sklearn_r2": None if math.isnan(r2) else float(r2),
        "sklearn_notes": notes,
    }


def regression_cases():
    cases = []
    base = 100
    r = rng_for(base + 0)
    t = np.round(r.normal(50, 10, 1000), 3)
    p = np.round(t + r.normal(0, 4, 1000), 3)
    cases.append(regression_case("random_normal", "n=1000, target ~ N(50, 10^2), prediction = target + N(0, 4^2)",
                                 p, t, ["medium"]))
    r = rng_for(base + 1)
    t = np.round(r.normal(0, 1, 200), 2)
    t[[3, 17, 50]] = 0.0
    p = np.round(t + r.normal(0, 0.3, 200), 2)
    cases.append(regression_case("zero_targets", "n=200 with three zero targets (MAPE divides by eps there)",
                                 p, t, ["edge", "mape"]))
    cases.append(regression_case("constant_targets_imperfect", "targets all 3.0, imperfect predictions "
                                 "(sklearn R^2 = 0.0 via force_finite)", [2.5, 3.0, 3.5, 4.0], [3.0] * 4,
                                 ["edge", "r2"]))
    cases.append(regression_case("constant_targets_perfect", "targets all 3.0, perfect predictions "
                                 "(sklearn R^2 = 1.0 via force_finite)", [3.0] * 4, [3.0] * 4, ["edge", "r2"]))
    cases.append(regression_case("constant_targets_inexact_mean", "targets all 0.1: numpy's mean is not exactly "
                                 "0.1, so sklearn's denominator is tiny but nonzero and R^2 is a huge negative "
                                 "number; driftwatch reports nil", [0.2, 0.1, 0.0], [0.1] * 3, ["edge", "r2"]))
    cases.append(regression_case("single_row", "one row (R^2 undefined)", [1.5], [2.0], ["edge"]))
    cases.append(regression_case("perfect", "predictions equal targets (R^2 = 1)", [1.0, 2.0, 4.0, 8.0],
                                 [1.0, 2.0, 4.0, 8.0], ["edge"]))
    r = rng_for(base + 2)
    t = np.round(r.lognormal(10, 1, 5000), 2)
    p = np.round(t * r.lognormal(0, 0.2, 5000), 2)
    cases.append(regression_case("lognormal_large", "n=5000, target ~ LogNormal(10, 1), multiplicative error",
                                 p, t, ["large"]))
    r = rng_for(base + 3)
    t = np.round(r.normal(0, 1, 300), 4)
    p = np.round(r.normal(0, 1, 300), 4)
    cases.append(regression_case("uninformative", "predictions independent of targets (R^2 < 0)", p, t, ["medium"]))
    return cases


# --------------------------------------------------------------------------------------------
# Isotonic calibration
# --------------------------------------------------------------------------------------------

def isotonic_case(cid, description, scores, labels, tags, extra_queries=()):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    ir = IsotonicRegression(y_min=0, y_max=1, increasing=True, out_of_bounds="clip")
    ir.fit(scores, labels.astype(np.float64))
    xs = ir.X_thresholds_
    q = list(np.linspace(-0.5, 1.5, 81))
    q += list(np.unique(scores))                       # every training score (ties, exact knots)
    if len(xs) > 1:
        q += list((xs[:-1] + xs[1:]) / 2)              # midpoints between knots
    q += [float(v) for v in extra_queries]
    q += [float(xs[0]) - 1e6, float(xs[-1]) + 1e6]     # far out of bounds
    q = np.asarray(q, dtype=np.float64)
    return {
        "id": cid,
        "description": description,
        "tags": tags,
        "inputs": {"scores": [float(s) for s in scores], "labels": [int(v) for v in labels]},
        "expected": {
            "thresholds": [float(v) for v in ir.X_thresholds_],
            "values": [float(v) for v in ir.y_thresholds_],
            "queries": [float(v) for v in q],
            "predictions": [float(v) for v in ir.predict(q)],
        },
    }


def isotonic_cases():
    cases = []
    base = 200
    r = rng_for(base + 0)
    t = r.uniform(0, 1, 300)
    s = np.round(t ** 0.7, 2)
    y = (r.uniform(0, 1, 300) < t).astype(int)
    cases.append(isotonic_case("ties_2dp", "n=300, score = p^0.7 rounded to 2 decimals (ties pooled first)",
                               s, y, ["ties"]))
    r = rng_for(base + 1)
    t = r.beta(2, 2, 5000)
    s = np.round(t ** 0.7, 3)
    y = (r.uniform(0, 1, 5000) < t).astype(int)
    cases.append(isotonic_case("ties_3dp_large", "n=5000, p ~ Beta(2,2), score = p^0.7 rounded to 3 decimals",
                               s, y, ["ties", "large"]))
    r = rng_for(base + 2)
    s = r.uniform(0.1, 0.9, 1000)
    y = (r.uniform(0, 1, 1000) < s).astype(int)
    cases.append(isotonic_case("continuous", "n=1000 distinct scores in [0.1, 0.9]", s, y, ["medium"]))
    cases.append(isotonic_case("hand_small", "hand case with a violator pooled across a tie",
                               [0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6], [0, 1, 0, 0, 1, 0, 1], ["small", "hand"]))
    cases.append(isotonic_case("all_zero_labels", "every label 0: the fit is constant 0",
                               [0.2, 0.4, 0.6, 0.8], [0, 0, 0, 0], ["edge"]))
    cases.append(isotonic_case("single_distinct_score", "one distinct score: constant prediction",
                               [0.4, 0.4, 0.4], [1, 0, 1], ["edge"]))
    cases.append(isotonic_case("anti_correlated", "labels decrease with score: everything pools into one block",
                               [0.1, 0.3, 0.5, 0.7, 0.9], [1, 1, 0, 1, 0], ["edge"]))
    cases.append(isotonic_case("near_duplicates", "scores closer than finfo(float64).resolution = 1e-15 are merged "
                               "by sklearn's _make_unique (x - current_x >= 1e-15 starts a new value)",
                               [1e-17, 5e-16, 9e-16, 2e-15, 0.5, 0.5000000000000001, 0.7, 0.7],
                               [0, 1, 1, 0, 1, 0, 1, 1], ["edge", "ties"], extra_queries=[1e-16, 1.5e-15]))
    cases.append(isotonic_case("equal_adjacent_means", "adjacent blocks with equal means (1/2 and 2/4) are pooled "
                               "(scipy's PAVA pools on >=)", [0.1, 0.1, 0.2, 0.2, 0.2, 0.2, 0.3],
                               [0, 1, 1, 0, 0, 1, 1], ["edge", "ties"]))
    cases.append(isotonic_case("wide_range", "scores are margins in [-5, 5], rounded to 1 decimal",
                               np.round(rng_for(base + 3).uniform(-5, 5, 400), 1),
                               (rng_for(base + 4).uniform(0, 1, 400) < 0.5).astype(int), ["ties"]))
    return cases


# --------------------------------------------------------------------------------------------
# CBPE (NannyML formulas, independent numpy implementation)
# --------------------------------------------------------------------------------------------

def nannyml_estimate_roc_auc(calibrated, scores):
    """nannyml/performance_estimation/confidence_based/metrics.py::estimate_roc_auc, without its
    np.round(..., 5) of the cumulative sums (which only tames float noise) and with a stable sort."""
    order = np.argsort(scores, kind="stable")[::-1]
    p = calibrated[order]
    tps = np.r_[0, np.cumsum(p)]
    fps = np.r_[0, np.cumsum(1 - p)]
    tpr = tps / tps[-1]
    fpr = fps / fps[-1]
    return float(np.trapezoid(tpr, fpr))


def cbpe_case(cid, description, ref_scores, ref_labels, scores, threshold):
    ir = IsotonicRegression(y_min=0, y_max=1, increasing=True, out_of_bounds="clip")
    ir.fit(ref_scores, ref_labels.astype(np.float64))
    p = ir.predict(scores)
    yhat = scores >= threshold
    tp = float(np.sum(np.where(yhat, p, 0.0)))
    fp = float(np.sum(np.where(yhat, 1 - p, 0.0)))
    fn = float(np.sum(np.where(~yhat, p, 0.0)))
    tn = float(np.sum(np.where(~yhat, 1 - p, 0.0)))
    return {
        "id": cid,
        "description": description,
        "inputs": {"reference_scores": [float(v) for v in ref_scores],
                   "reference_labels": [int(v) for v in ref_labels],
                   "scores": [float(v) for v in scores]},
        "params": {"threshold": float(threshold)},
        "expected": {
            "rows": len(scores),
            "true_positives": tp, "false_positives": fp, "false_negatives": fn, "true_negatives": tn,
            "precision": tp / (tp + fp) if tp + fp > 0 else None,
            "recall": tp / (tp + fn) if tp + fn > 0 else None,
            "f1": tp / (tp + 0.5 * (fp + fn)) if tp + fp + fn > 0 else None,   # nannyml estimate_f1
            "accuracy": (tp + tn) / len(scores),
            "roc_auc": nannyml_estimate_roc_auc(p, scores),
            "expected_positive_rate": float(np.mean(p)),
        },
    }


def cbpe_cases():
    cases = []
    base = 300
    r = rng_for(base + 0)
    t = r.uniform(0, 1, 3000)
    rs = np.round(t ** 0.7, 3)
    ry = (r.uniform(0, 1, 3000) < t).astype(int)
    t2 = r.uniform(0, 1, 2000) ** 0.5
    s = np.round(t2 ** 0.7, 3)
    cases.append(cbpe_case("shifted_window", "reference p ~ U(0,1), score = p^0.7 (3 decimals); window p = U^0.5",
                           rs, ry, s, 0.5))
    s = np.concatenate([np.round(r.uniform(-0.2, 1.2, 500), 4), rs[:100]])
    cases.append(cbpe_case("out_of_range_scores", "same calibrator; window scores partly outside the reference range "
                           "(clipped) and partly equal to reference scores", rs, ry, s, 0.6))
    return cases


if __name__ == "__main__":
    write("binary.json", "binary_quality",
          "sklearn.metrics binary classification metrics at a threshold (predicted positive when score >= threshold)",
          binary_cases(),
          {"roc_auc": "rtol 1e-12 (driftwatch computes the Mann-Whitney count exactly; sklearn integrates "
                      "the ROC curve with np.trapezoid)",
           "others": "rtol 1e-12", "counts": "exact"})
    write("regression.json", "regression_quality", "sklearn.metrics regression metrics", regression_cases(),
          {"all": "rtol 1e-12"})
    write("isotonic.json", "isotonic_calibration",
          "sklearn.isotonic.IsotonicRegression(y_min=0, y_max=1, increasing=True, out_of_bounds='clip') fit on "
          "(score, label): X_thresholds_, y_thresholds_ and predict() at query points", isotonic_cases(),
          {"thresholds": "exact", "values": "exact (same PAVA arithmetic as scipy.optimize.isotonic_regression)",
           "predictions": "exact (scipy interp1d linear arithmetic)"})
    write("cbpe.json", "cbpe_binary",
          "CBPE estimate (NannyML formulas) on scores calibrated by the sklearn isotonic fit", cbpe_cases(),
          {"all": "rtol 1e-12"})
