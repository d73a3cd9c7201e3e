#!/usr/bin/env python3
"""Reproduces a finding of the soak (bench/soak.py): a row window that was closed (its 202 said
`window_closed: K`) but not yet recorded when driftwatch was killed is rebuilt as the open window after
the restart and not closed until the next batch arrives; that batch then joins it, so window K holds
more than `window.rows` rows — and with no further traffic it is never evaluated.

    python3 bench/soak_window_restart.py --binary .build/release/driftwatch

Steps: `driftwatch serve` on a free port, a model with a 100,000-row window (the soak's schema and
baseline), 500-row batches until an answer says `window_closed`, then SIGKILL at once (the window's
evaluation runs in the background and is stored when it ends), restart, and:
1. GET /v1/models/{m}: the open window after the restart, and whether window K exists;
2. 5 s later (no traffic): still not evaluated?
3. one more batch: window K appears, with 100,500 rows.
Exit 1 when window K holds other than 100,000 rows or was not evaluated without further traffic.
Low CPU. Everything is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak  # noqa: E402
import soak_data  # noqa: E402

ROWS = 100_000


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "driftwatch"))
    ap.add_argument("--tries", type=int, default=5, help="kills until one lands before the window is stored")
    a = ap.parse_args()
    out = tempfile.mkdtemp(prefix="driftwatch-window-restart-")
    port = soak.free_port()
    cfg = os.path.join(out, "driftwatch.json")
    soak.write_driftwatch_config(cfg, port, f"{out}/data", None, 60)
    dw = soak.driftwatch(os.path.abspath(a.binary), cfg, f"{out}/driftwatch.log")
    pools = soak_data.pools(1, 500, 4)
    seq = 0

    def post():
        nonlocal seq
        body = soak_data.batch_body(pools[False][seq % 4], "p", seq, 500, time.time())
        st, _, d = soak.request(port, "POST", "/v1/models/soak/observations", body,
                                {"Content-Type": "application/json", "Idempotency-Key": f"w-{seq}"})
        seq += 1
        assert st == 202, (st, d)
        return json.loads(d)

    def windows():
        return {w["seq"]: w["rows"] for w in soak.get_json(port, "/v1/models/soak/windows?limit=1000")["windows"]}

    try:
        dw.spawn()
        dw.wait_http(port, "/readyz", 30)
        soak.create_model(port, ROWS, 500, 1)
        for attempt in range(1, a.tries + 1):
            while True:
                ans = post()
                if ans.get("window_closed") is not None:
                    break
            k = ans["window_closed"]
            dw.kill9()
            dw.spawn()
            dw.wait_http(port, "/readyz", 60)
            st = soak.get_json(port, "/v1/models/soak")
            have = windows()
            print(f"try {attempt}: the 202 said window_closed={k}; SIGKILL at once; after the restart: window {k} "
                  f"{'stored with ' + format(have[k], ',') + ' rows' if k in have else 'NOT stored'}, "
                  f"open window {st['window']['rows']:,} rows (target {ROWS:,})", flush=True)
            if k in have:
                continue  # the evaluation finished before the kill; try again
            time.sleep(5)
            print(f"  5 s later, no traffic: window {k} {'stored' if k in windows() else 'still not evaluated'}; "
                  f"open window {soak.get_json(port, '/v1/models/soak')['window']['rows']:,} rows", flush=True)
            ans = post()
            time.sleep(1)
            rows = windows().get(k)
            print(f"  one more 500-row batch: its 202 says window_closed={ans.get('window_closed')}; window {k} now holds "
                  f"{rows if rows is None else format(rows, ',')} rows", flush=True)
            if rows != ROWS:
                print(f"REPRODUCED: window {k} holds {rows:,} rows, not window.rows = {ROWS:,}, and was evaluated only when the next batch came")
                return 1
            return 0
        print("not reproduced: every kill came after the window was stored")
        return 0
    finally:
        dw.stop()
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
