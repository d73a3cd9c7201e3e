"""Helpers of scripts/check-openapi.sh (run with .venv-openapi's python).

  openapi_fuzz.py wait URL                 wait until GET URL/healthz answers (30 s)
  openapi_fuzz.py seed URL TOKEN ROOT      the models schemathesis works on (below)
  openapi_fuzz.py summary HAR JSON...      count requests and failures of the runs

Also a schemathesis hooks module (SCHEMATHESIS_HOOKS=openapi_fuzz): serializers for the
request media types schemathesis has none for (NDJSON, protobuf), so those bodies are sent too.

Only 127.0.0.1 is ever contacted.
"""

import json
import random
import sys
import time
import urllib.error
import urllib.request


def _hooks():
    import schemathesis

    def text_bytes(value):
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        if isinstance(value, str):
            return value.encode("utf-8", "surrogatepass")
        return json.dumps(value).encode()

    @schemathesis.serializer("application/x-ndjson")
    def ndjson(ctx, value):
        return text_bytes(value)

    @schemathesis.serializer("application/x-protobuf")
    def protobuf(ctx, value):
        return text_bytes(value)


def _patch_hypothesis():
    # CPython 3.11 (3.11.2 and 3.11.7 here) can raise SystemError "AST constructor recursion
    # depth mismatch" from ast.parse on a worker thread's deep stack; Hypothesis calls it only to
    # describe a filter lambda in a strategy's repr. Such a description becomes "<unknown>"
    # instead of an error that ends the operation's coverage phase.
    from hypothesis.internal import lambda_sources

    original = lambda_sources._lambda_description

    def described(f, *args, **kwargs):
        try:
            return original(f, *args, **kwargs)
        except SystemError:
            return "lambda: <unknown>"

    lambda_sources._lambda_description = described


if __name__ != "__main__":
    _hooks()
    _patch_hypothesis()


def call(base, method, path, token, body=None, content_type="application/json", expect=(200, 201, 202, 204)):
    assert base.startswith("http://127.0.0.1:"), base
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    if status not in expect:
        sys.exit(f"check-openapi: seeding {method} {path} answered {status}: {text[:500]!r}")
    return json.loads(text) if text else None


def wait(base):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("check-openapi: the server did not answer /healthz within 30 s")


def read_csv(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = lines[0].split(",")
    return header, [dict(zip(header, line.split(","))) for line in lines[1:] if line]


def seed(base, token, root):
    """`fraud`: the example data with a label column, quality settings, windows of 1,000 rows;
    5,000 clean then 5,000 drifted observations (windows, an episode), labels for the first
    2,000; and an open window of 150 rows, so that evaluate has something to close. `scratch` is
    the model the examples create, replace and delete."""
    rng = random.Random(14)
    header, train = read_csv(f"{root}/examples/train.csv")
    csv = [",".join(header + ["label"])]
    for row in train:
        csv.append(",".join([row[h] for h in header] + ["1" if rng.random() < float(row["score"]) else "0"]))
    categorical = {"hour", "merchant_category", "country"}
    features = [{"name": h, "kind": "categorical" if h in categorical else "numeric"} for h in header if h != "score"]
    settings = {
        "features": features,
        "prediction": {"name": "score", "kind": "numeric"},
        "window": {"rows": 1000},
        "min_rows": 100,
        "quality": {"task": "binary", "label": "label", "segment": "country", "min_labelled_rows": 100},
    }
    call(base, "PUT", "/v1/models/fraud", token, settings)
    call(base, "PUT", "/v1/models/fraud/baseline", token, ("\n".join(csv) + "\n").encode(), content_type="text/csv")

    def observation(pid, row, ts=None):
        feats = {}
        for f in features:
            v = row.get(f["name"], "")
            feats[f["name"]] = None if v == "" else (v if f["name"] in categorical else float(v))
        out = {"id": pid, "features": feats, "prediction": float(row["score"])}
        if ts is not None:
            out["ts"] = ts
        return out

    n = 0
    labels = []
    for name in ("live_clean.csv", "live_drifted.csv"):
        _, rows = read_csv(f"{root}/examples/{name}")
        for start in range(0, len(rows), 500):
            batch = []
            for row in rows[start:start + 500]:
                batch.append(observation(f"p-{n}", row, ts=1764400000 + n))
                if n < 2000:
                    labels.append({"id": f"p-{n}", "label": 1 if rng.random() < float(row["score"]) else 0})
                n += 1
            call(base, "POST", "/v1/models/fraud/observations", token, {"observations": batch})
    call(base, "POST", "/v1/models/fraud/labels", token, {"labels": labels})
    _, rows = read_csv(f"{root}/examples/live_clean.csv")
    call(base, "POST", "/v1/models/fraud/observations", token,
         {"observations": [observation(f"open-{k}", r) for k, r in enumerate(rows[:150])]})
    # The windows are evaluated in the background.
    deadline = time.time() + 60
    while True:
        windows = call(base, "GET", "/v1/models/fraud/windows?limit=1000", token)["windows"]
        if len(windows) >= 10:
            break
        if time.time() > deadline:
            sys.exit(f"check-openapi: seeding: {len(windows)} of the 10 windows of model fraud evaluated after 60 s")
        time.sleep(0.5)
    episodes = call(base, "GET", "/v1/models/fraud/episodes", token)["episodes"]
    print(f"check-openapi: seeded model fraud: {n + 150} observations, {len(windows)} windows, "
          f"{len(episodes)} episode(s), {len(labels)} labels")


def summary(har_paths, json_paths):
    requests = 0
    for p in har_paths:
        with open(p, encoding="utf-8") as f:
            requests += len(json.load(f)["log"]["entries"])
    failures = 0
    cases = 0
    seconds = 0.0
    titles = []
    for p in json_paths:
        with open(p, encoding="utf-8") as f:
            doc = json.load(f)
        cases += doc["test_cases"]["generated"]
        seconds += doc.get("running_time") or 0
        for group in doc.get("failures", []):
            failures += group["count"]
            titles.append(f'{group["title"]} ×{group["count"]} ({", ".join(group["operations"][:5])})')
        for error in doc.get("errors", []):
            failures += error["count"]
            titles.append(f'error: {error["title"]} ×{error["count"]}')
    return requests, cases, failures, seconds, titles


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "wait":
        wait(sys.argv[2])
    elif command == "seed":
        seed(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "summary":
        hars = [a for a in sys.argv[2:] if a.endswith(".har")]
        jsons = [a for a in sys.argv[2:] if a.endswith(".json")]
        requests, cases, failures, seconds, titles = summary(hars, jsons)
        for t in titles:
            print("check-openapi: failure:", t)
        print(f"check-openapi: schemathesis sent {requests} requests ({cases} test cases) in {seconds:.0f} s; "
              f"checks not_a_server_error, status_code_conformance, content_type_conformance, "
              f"response_schema_conformance: {failures} failures")
        print(f"requests={requests} failures={failures}")
    else:
        sys.exit(f"unknown command {command}")
