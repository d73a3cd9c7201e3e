"""Writes the example CSVs (a fraud model's training baseline, a clean live batch and a
drifted live batch). Committed outputs; re-run with `python3 examples/make_examples.py`.
Needs numpy only."""
import csv
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
COLUMNS = ["amount", "hour", "merchant_category", "country", "account_age_days",
           "tx_last_24h", "distance_km", "card_present", "score"]


def draw(rng, n, drift):
    amount = np.round(rng.lognormal(3.6 + (0.45 if drift else 0.0), 0.9, n), 2)
    hour = rng.choice(24, n, p=np.bincount(np.r_[np.arange(24), np.repeat(np.arange(8, 22), 3)]) / 66.0)
    cats = ["grocery", "fuel", "travel", "electronics", "restaurants", "online"]
    pc = [0.3, 0.15, 0.05, 0.1, 0.2, 0.2] if not drift else [0.2, 0.1, 0.05, 0.15, 0.15, 0.35]
    merchant = rng.choice(cats, n, p=pc)
    countries = ["DE", "FR", "NL", "US", "GB"]
    country = rng.choice(countries, n, p=[0.4, 0.2, 0.15, 0.15, 0.1]).astype(object)
    if drift:
        country[rng.random(n) < 0.08] = "BR"  # a market the model never saw
    age = np.round(rng.gamma(2.0, 300.0, n)).astype(int)
    tx = rng.poisson(2.0 if not drift else 3.2, n)
    distance = np.round(rng.exponential(12.0, n), 1)
    present = (rng.random(n) < (0.7 if not drift else 0.55)).astype(int)
    logit = -4 + 0.6 * np.log(amount) / 4 + 0.3 * tx - 0.001 * age + (0.8 if drift else 0.0)
    score = np.round(1 / (1 + np.exp(-logit + rng.normal(0, 0.5, n))), 4)
    rows = list(zip(amount, hour, merchant, country, age, tx, distance, present, score))
    # A few missing values, as real feeds have.
    missing = rng.random(n) < 0.01
    out = []
    for row, m in zip(rows, missing):
        row = list(row)
        if m:
            row[6] = ""
        out.append(row)
    return out


def write(name, rows):
    with open(os.path.join(HERE, name), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)


if __name__ == "__main__":
    rng = np.random.default_rng(20261129)
    write("train.csv", draw(rng, 20000, drift=False))
    write("live_clean.csv", draw(rng, 5000, drift=False))
    write("live_drifted.csv", draw(rng, 5000, drift=True))
