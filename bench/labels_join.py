#!/usr/bin/env python3
"""Times the delayed-label join: how long one `POST /v1/models/{m}/labels` of N labels takes
against a release `driftwatch serve` that stored the predictions they are for.

    swift build -c release --product driftwatch
    python3 bench/labels_join.py [--predictions 400000] [--per-request 100000]

Starts the binary on 127.0.0.1 and a free port with a fresh data directory, creates a model with
quality settings and a baseline, stores the predictions (JSON rows, 500 per request, each with an
id), waits for the id indexer, then posts the labels in requests of --per-request (the default is
max_label_rows) and prints each request's time. Stops the server by PID at the end."""
import argparse, http.client, json, os, random, socket, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "driftwatch"))
ap.add_argument("--predictions", type=int, default=400_000)
ap.add_argument("--per-request", type=int, default=100_000)
args = ap.parse_args()

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = subprocess.Popen([args.binary, "serve", "--port", str(port), "--data-dir", tempfile.mkdtemp(prefix="dw-labels-")],
                          stderr=subprocess.DEVNULL)

def call(method, path, body, ctype="application/json"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request(method, path, body=body, headers={"Content-Type": ctype})
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status >= 300:
        sys.exit(f"labels_join: {method} {path}: HTTP {r.status} {data[:300]!r}")
    return json.loads(data) if r.getheader("Content-Type", "").startswith("application/json") else {}

try:
    for _ in range(100):
        try:
            call("GET", "/healthz", None)
            break
        except OSError:
            time.sleep(0.1)
    rng = random.Random(1)
    settings = {"features": [{"name": "x", "kind": "numeric"}], "prediction": {"name": "score", "kind": "numeric"},
                "window": {"rows": 100_000}, "quality": {"task": "binary", "label": "label", "min_labelled_rows": 100}}
    call("PUT", "/v1/models/m", json.dumps(settings))
    csv = "x,score,label\n" + "".join(f"{rng.random()},{rng.random()},{rng.randint(0, 1)}\n" for _ in range(5000))
    call("PUT", "/v1/models/m/baseline", csv, "text/csv")
    started = time.time()
    for b in range(args.predictions // 500):
        rows = [{"id": f"p-{b * 500 + i}", "features": {"x": rng.random()}, "prediction": rng.random()} for i in range(500)]
        call("POST", "/v1/models/m/observations", json.dumps({"observations": rows}))
    print(f"stored {args.predictions} predictions in {time.time() - started:.1f} s", file=sys.stderr)
    time.sleep(5)  # the id indexer runs every 2 s
    total = 0.0
    for start in range(0, args.predictions, args.per_request):
        ids = [f"p-{i}" for i in range(start, min(start + args.per_request, args.predictions))]
        body = json.dumps({"ids": ids, "labels": [rng.randint(0, 1) for _ in ids]})
        t = time.time()
        answer = call("POST", "/v1/models/m/labels", body)
        dt = time.time() - t
        total += dt
        print(f"labels: {len(ids)} in one request: {dt:.2f} s ({answer.get('joined', 0) + answer.get('late', 0)} joined)")
    print(f"labels: {args.predictions} in {total:.1f} s, {args.predictions / total:,.0f} labels/s")
finally:
    server.terminate()
    server.wait()
