#!/usr/bin/env python3
"""Reproduces a finding of the soak (bench/soak.py): the late resolution notice of a model's drift
episode N, delivered after episode N+1's alert is already firing in Alertmanager, takes that alert
out of Alertmanager while episode N+1 is still confirmed (a spurious resolve, then a new firing).

    python3 bench/soak_alert_race.py --binary .build/release/driftwatch [--down-after 40]

Why: every episode of a model is pushed with the same label set (alertname, model, severity and the
configured labels; `episode_id` is an annotation), so Alertmanager sees one alert per model. The
resolution of N carries endsAt = N's resolution time, before N+1's startsAt, so Alertmanager does not
merge it with the firing alert it holds: it replaces it.

Steps: Alertmanager (null receiver) and `driftwatch serve` on free ports, model `soak` with a
5,000-row window and 2,500 obs/s (a window every 2 s). Drifted input until episode 1 is confirmed and
its alert is in Alertmanager; Alertmanager killed (SIGKILL); clean input until episode 1 resolves,
drifted input until episode 2 is confirmed; Alertmanager restarted --down-after s later (long enough
for the resolution's retry backoff (1, 2, 4 … s) to outgrow the 15 s re-send interval, so a re-send
of episode 2 reaches Alertmanager before the resolution's next retry); then /api/v2/alerts polled every
0.1 s for 90 s. Exit 1 when the alert of the confirmed episode 2 went missing after it had appeared, or
the earlier episode's resolution was delivered after it had appeared.
Low CPU (2,500 obs/s). Everything is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak  # noqa: E402
import soak_data  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "driftwatch"))
    ap.add_argument("--down-after", type=float, default=40, help="s between episode 2's confirmation and Alertmanager's restart")
    ap.add_argument("--resend-seconds", type=float, default=15,
                    help="driftwatch's alertmanager.resend_seconds: the gap lasts until the next re-send or retry")
    a = ap.parse_args()
    out = tempfile.mkdtemp(prefix="driftwatch-alert-race-")
    port, am_port = soak.free_port(), soak.free_port()
    amcfg = os.path.join(out, "alertmanager.yml")
    with open(amcfg, "w") as f:
        f.write('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
    am = soak.Child("alertmanager", ["/usr/bin/prometheus-alertmanager", f"--config.file={amcfg}", f"--storage.path={out}/am",
                                     f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=", "--log.level=warn"],
                    f"{out}/alertmanager.log")
    cfg = os.path.join(out, "driftwatch.json")
    soak.write_driftwatch_config(cfg, port, f"{out}/data", am_port, a.resend_seconds)
    dw = soak.driftwatch(os.path.abspath(a.binary), cfg, f"{out}/driftwatch.log")
    stop = threading.Event()
    t0 = time.time()

    def say(*m):
        print(f"+{time.time() - t0:6.1f} s", *m, flush=True)

    try:
        am.spawn()
        am.wait_http(am_port, "/-/ready", 30)
        dw.spawn()
        dw.wait_http(port, "/readyz", 30)
        soak.create_model(port, 5000, 100, 1)
        pools = soak_data.pools(1, 500, 8)
        drift = [True]

        def feed():
            seq = 0
            while not stop.is_set():
                body = soak_data.batch_body(pools[drift[0]][seq % 8], "p", seq, 500, time.time())
                try:
                    soak.request(port, "POST", "/v1/models/soak/observations", body, {"Content-Type": "application/json"})
                except OSError:
                    pass
                seq += 1
                time.sleep(0.2)

        threading.Thread(target=feed, daemon=True).start()

        def episode():
            return soak.get_json(port, "/v1/models/soak")["episode"]

        def alerts():
            try:
                _, _, d = soak.request(am_port, "GET", "/api/v2/alerts", timeout=2)
                return [(x["annotations"].get("episode_id"), x["status"]["state"]) for x in json.loads(d)
                        if x["labels"].get("alertname") == "DriftwatchDriftEpisode"]
            except OSError:
                return None

        def wait(cond, what):
            while not cond(episode()):
                time.sleep(0.25)
            say(what, episode())

        wait(lambda e: e["state"] == "confirmed", "drifted input: episode confirmed")
        while not alerts():
            time.sleep(0.25)
        say("Alertmanager holds", alerts())
        am.kill9()
        say("Alertmanager killed")
        drift[0] = False
        wait(lambda e: e["state"] == "resolved", "clean input: episode resolved")
        drift[0] = True
        wait(lambda e: e["state"] == "confirmed", "drifted input: next episode confirmed")
        second = str(episode()["id"])
        time.sleep(a.down_after)
        am.spawn()
        am.wait_http(am_port, "/-/ready", 30)
        say("Alertmanager back")
        seen, lost, last, first_seen = False, False, object(), None
        end = time.time() + 90
        while time.time() < end:
            now = alerts()
            firing = bool(now) and any(eid == second and st == "active" for eid, st in now)
            if now != last:
                say("Alertmanager alerts:", now, "| driftwatch episode:", episode()["state"])
                last = now
            if firing:
                seen = True
                first_seen = first_seen or time.time()
            elif seen and episode()["state"] == "confirmed":
                lost = True
            time.sleep(0.1)
        late = None
        for e in soak.get_json(port, "/v1/models/soak/episodes")["episodes"]:
            print(f"episode {e['id']} {e['state']}: " + ", ".join(
                f"{x['key']} {x['state']} after {x['attempts']} attempts (+{x['updated_at'] - t0:.1f} s)" for x in e["actions"]))
            for x in e["actions"]:
                if x["key"].endswith(":resolved") and x["state"] == "delivered" and first_seen and x["updated_at"] > first_seen:
                    late = x["updated_at"] - first_seen
        if late is not None:
            print(f"the resolution of the earlier episode was delivered {late:.1f} s after episode {second}'s alert was active in Alertmanager")
        if lost or late is not None:
            print("REPRODUCED: " + (f"the alert of confirmed episode {second} left Alertmanager after it had appeared" if lost else
                  "the late resolution replaced the alert (the gap was shorter than the 0.1 s polling)"))
            return 1
        print("not reproduced this time (the resolution was delivered before the next firing); try a larger --down-after")
        return 0
    finally:
        stop.set()
        dw.stop()
        am.stop()
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
