"""Seeded fraud-like data for bench/soak.py (Python standard library only).

The same distributions as driftwatch's `FraudDemoData` (Sources/DriftSimulation/FraudDemoData.swift),
which `driftwatch demo` streams: card transactions with a model score. `drift=True` moves amounts up,
shifts the merchant mix, adds a country the model never saw (BR, 10 %) and raises the scores. Each
row also gets a 0/1 label drawn with probability = its score (a calibrated model), so delayed labels
give the model-quality figures something to measure.
"""

from __future__ import annotations

import math
import random

NUMERIC = ["amount", "account_age_days", "tx_last_24h", "distance_km"]
CATEGORICAL = ["merchant_category", "country"]
PREDICTION = "score"
LABEL = "label"
MERCHANTS = ["grocery", "fuel", "travel", "electronics", "restaurants", "online"]
COUNTRIES = ["DE", "FR", "NL", "US", "GB"]


def _pick(rng: random.Random, options, weights):
    u = rng.random() * sum(weights)
    for o, w in zip(options, weights):
        if u < w:
            return o
        u -= w
    return options[-1]


def _poisson(rng: random.Random, lam: float) -> float:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        k += 1
        p *= rng.random()
        if p <= limit:
            return float(k - 1)


def _u(rng: random.Random) -> float:
    return 1.0 - rng.random()  # (0, 1]: log() is finite


def row(rng: random.Random, drift: bool) -> dict:
    amount = round(math.exp(3.6 + (0.5 if drift else 0.0) + 0.9 * rng.gauss(0, 1)) * 100) / 100
    age = float(round(-300 * math.log(_u(rng)) - 300 * math.log(_u(rng))))
    tx = _poisson(rng, 3.4 if drift else 2.0)
    distance = round(-12 * math.log(_u(rng)) * 10) / 10
    merchant = _pick(rng, MERCHANTS, [0.2, 0.1, 0.05, 0.15, 0.15, 0.35] if drift else [0.3, 0.15, 0.05, 0.1, 0.2, 0.2])
    country = _pick(rng, COUNTRIES, [0.4, 0.2, 0.15, 0.15, 0.1])
    if drift and rng.random() < 0.1:
        country = "BR"
    logit = -4 + 0.15 * math.log(max(amount, 0.01)) + 0.3 * tx - 0.001 * age + (0.8 if drift else 0.0) + 0.5 * rng.gauss(0, 1)
    score = round(1 / (1 + math.exp(-logit)) * 10_000) / 10_000
    label = 1 if rng.random() < score else 0
    return {"amount": amount, "account_age_days": age, "tx_last_24h": tx, "distance_km": distance,
            "merchant_category": merchant, "country": country, "score": score, "label": label}


def settings(window_rows: int, min_rows: int, min_labelled_rows: int) -> dict:
    """The model's settings (PUT /v1/models/{model}): the demo's schema, a row-count window, the
    demo's confirm/resolve policy, and binary quality from delayed labels."""
    return {
        "features": [{"name": n, "kind": "numeric"} for n in NUMERIC] + [{"name": n, "kind": "categorical"} for n in CATEGORICAL],
        "prediction": {"name": PREDICTION, "kind": "numeric"},
        "window": {"rows": window_rows},
        "min_rows": min_rows,
        "confirm": {"windows": 2, "of": 3},
        "resolve": {"clean_windows": 3},
        "quality": {"task": "binary", "label": LABEL, "threshold": 0.5, "min_labelled_rows": min_labelled_rows,
                    "label_horizon_hours": 24},
    }


def baseline_csv(rng: random.Random, rows: int) -> str:
    cols = NUMERIC + CATEGORICAL + [PREDICTION, LABEL]
    lines = [",".join(cols)]
    for _ in range(rows):
        r = row(rng, False)
        lines.append(",".join(str(r[c]) for c in cols))
    return "\n".join(lines) + "\n"


class PoolBatch:
    """One pre-serialized batch shape: the JSON columnar `features` and `predictions` members for
    `rows` rows, and the label of each row. A sent batch adds its own `ids` and `ts`."""

    __slots__ = ("fragment", "labels")

    def __init__(self, rng: random.Random, rows: int, drift: bool):
        data = [row(rng, drift) for _ in range(rows)]
        feats = []
        for n in NUMERIC:
            feats.append('"%s":[%s]' % (n, ",".join(repr(r[n]) for r in data)))
        for n in CATEGORICAL:
            feats.append('"%s":[%s]' % (n, ",".join('"%s"' % r[n] for r in data)))
        self.fragment = '"features":{%s},"predictions":[%s]' % (",".join(feats), ",".join(repr(r[PREDICTION]) for r in data))
        self.labels = [r[LABEL] for r in data]


def pools(seed: int, rows: int, size: int) -> dict[bool, list[PoolBatch]]:
    rng = random.Random(seed * 7919 + 1)
    return {False: [PoolBatch(rng, rows, False) for _ in range(size)],
            True: [PoolBatch(rng, rows, True) for _ in range(size)]}


def batch_ids(prefix: str, seq: int, rows: int) -> list[str]:
    return [f"{prefix}{seq}-{i}" for i in range(rows)]


def batch_body(pool: PoolBatch, prefix: str, seq: int, rows: int, ts: float) -> bytes:
    ids = ",".join([f'"{prefix}{seq}-{i}"' for i in range(rows)])
    t = repr(round(ts, 3))
    return ('{"ids":[%s],"ts":[%s],%s}' % (ids, ",".join([t] * rows), pool.fragment)).encode()
