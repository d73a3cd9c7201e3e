#!/usr/bin/env python3
"""Peak memory of `driftwatch serve` for the largest KServe events it accepts, and for one it
refuses (the README's KServe figures).

    python3 scripts/measure-kserve-memory.py .build/release/driftwatch

For each step, starts the binary on 127.0.0.1 and a free port with a fresh data directory,
creates a model of 20 numeric features with a baseline, reads the process's peak RSS (VmHWM in
/proc/PID/status) before and after posting one event, and stops it. Steps:

1. the largest accepted request half: v1 `instances`, 100,000 rows x 20 features (2,000,000
   values, KServeLimits.standard);
2. a response half of 100,000 x [p0, p1];
3. the largest request as one v2 tensor `input-0` of shape [100000, 20];
4. a 1,000,000-row body (gzipped, under max_decoded_bytes), refused with 413.

Standard library only; Linux (reads /proc).
"""

import gzip
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

FEATURES = [f"f{k}" for k in range(20)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def call(base, method, path, body=b"", headers=None):
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=300) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def event(kind, ce_id, body, gzipped=False):
    headers = {
        "Content-Type": "application/json",
        "Ce-Specversion": "1.0",
        "Ce-Id": ce_id,
        "Ce-Type": f"org.kubeflow.serving.inference.{kind}",
        "Ce-Source": "measure",
        "Ce-Inferenceservicename": "wide",
        "Ce-Namespace": "bench",
        "Ce-Component": "predictor",
        "Ce-Endpoint": "default",
    }
    if gzipped:
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body, compresslevel=1)
    return body, headers


class Service:
    """`driftwatch serve` on 127.0.0.1 with the 20-feature model and its baseline."""

    def __init__(self, binary, rng):
        self.data_dir = tempfile.mkdtemp(prefix="dw-kserve-rss-")
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", self.data_dir,
                                         "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                if call(self.base, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        settings = {"features": [{"name": f, "kind": "numeric"} for f in FEATURES],
                    "prediction": {"name": "score", "kind": "numeric"}, "window": {"rows": 1000000}, "min_rows": 100}
        status, text = call(self.base, "PUT", "/v1/models/wide", json.dumps(settings).encode(), {"Content-Type": "application/json"})
        assert status == 201, text
        csv = ",".join(FEATURES + ["score"]) + "\n" + "".join(
            ",".join(f"{rng.gauss(100, 15):.2f}" for _ in FEATURES) + f",{rng.random():.4f}\n" for _ in range(5000))
        status, text = call(self.base, "PUT", "/v1/models/wide/baseline", csv.encode(), {"Content-Type": "text/csv"})
        assert status == 201, text

    def peak(self):
        return peak_rss_mib(self.process.pid)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: measure-kserve-memory.py PATH/TO/driftwatch")
    binary = sys.argv[1]
    rng = random.Random(7)
    rows = [[round(rng.gauss(100, 15), 2) for _ in FEATURES] for _ in range(100_000)]
    proba = [[round(1 - p, 6), round(p, 6)] for p in (rng.random() for _ in range(100_000))]
    flat = [x for row in rows for x in row]
    compact = {"separators": (",", ":")}
    steps = [
        ("v1 request: 100,000 rows x 20 features (largest accepted)", "request",
         json.dumps({"instances": rows}, **compact).encode(), False, 202),
        ("v1 response: 100,000 x [p0, p1]", "response", json.dumps({"predictions": proba}, **compact).encode(), False, 202),
        ("v2 request: input-0 [100000, 20] (largest accepted)", "request",
         json.dumps({"id": "r", "inputs": [{"name": "input-0", "shape": [100_000, 20], "datatype": "FP64", "data": flat}]},
                    **compact).encode(), False, 202),
        ("v1 request: 1,000,000 rows x 4, gzipped -> 413", "request",
         json.dumps({"instances": [row[:4] for row in rows] * 10}, **compact).encode(), True, 413),
    ]
    print("each step in a fresh `driftwatch serve` (model of 20 numeric features, 5000-row baseline)")
    print(f"{'step':<58} {'body (decoded)':>16} {'status':>6} {'time':>7} {'RSS before':>10} {'peak RSS':>9}")
    for label, kind, payload, gzipped, expect in steps:
        service = Service(binary, rng)
        try:
            before = service.peak()
            body, headers = event(kind, "e-1", payload, gzipped)
            started = time.monotonic()
            status, text = call(service.base, "POST", "/v1/kserve", body, headers)
            elapsed = time.monotonic() - started
            assert status == expect, (status, text[:300])
            size = f"{len(body) / 2**20:.1f} ({len(payload) / 2**20:.1f}) MiB"
            print(f"{label:<58} {size:>16} {status:>6} {elapsed:>6.2f}s {before:>6.0f} MiB {service.peak():>5.0f} MiB")
        finally:
            service.stop()


if __name__ == "__main__":
    main()
