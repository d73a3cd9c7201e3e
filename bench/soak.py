#!/usr/bin/env python3
"""Soak benchmark of driftwatch (issue 16): ingest at half the measured capacity for a long time while
windows close, labels join, Alertmanager flaps and the server is killed with SIGKILL and restarted.

    swift build -c release --product driftwatch
    python3 bench/soak.py --binary .build/release/driftwatch [--minutes 30] [--rate R] \\
        [--kill-every 300] [--flap-every 180] [--seed 1] [--out DIR] [--json FILE]

Python 3 standard library only. What it does:

1. Capacity (unless --rate): a throwaway `driftwatch serve` (own data dir) gets --capacity-seconds (20)
   of 500-row JSON-columnar batches from --senders (8) concurrent keep-alive connections, the soak's
   batch shape; the soak then runs at half of the acknowledged rows/s.
2. Starts the real Alertmanager (/usr/bin/prometheus-alertmanager, null receiver, no clustering) and
   `driftwatch serve --config` (alertmanager block: urls, resend_seconds) on free 127.0.0.1 ports,
   creates model `soak` through the API (the demo's fraud schema, a row window that closes every
   --window-seconds at the chosen rate, confirm 2 of 3, resolve after 3 clean windows, binary quality
   from labels) with a 20,000-row labelled baseline.
3. Senders post batches on a fixed schedule (rate), each with an Idempotency-Key and unique ids
   (p<seq>-<row>); a batch is acknowledged only by HTTP 202; connection errors, 429 and 503 are
   retried with the same body and key until 202 (a 202 with "duplicate": true is an ack of the first,
   stored copy). The input alternates seeded clean and drifted phases (--phase-min/--phase-max).
4. A share of each acknowledged batch's ids (--label-share, 5 %) gets its label 5–30 s after the ack
   (--label-delay-min/-max); the label feed posts what is due every --label-every (5) s, one request
   of at most 50,000 ids (columnar {"ids","labels"}), retried until 202 (a re-sent label is `duplicate`).
5. Every --kill-every s: SIGKILL the server, restart it on the same port and data dir; restart time =
   exec until /readyz answers 200. Every --flap-every s (jittered) Alertmanager is SIGKILLed for a
   seeded 30–120 s, then restarted.
6. Every 10 s: the server's VmRSS, /metrics (actions counters per server lifetime). Every 2 s:
   Alertmanager's /api/v2/alerts (episode_id of each firing DriftwatchDriftEpisode).
7. At the end (server and Alertmanager up): the last batches acknowledged, labels flushed, the outbox
   drained (up to --drain-seconds), the API read (model status, windows, episodes with their actions,
   quality, /metrics); then driftwatch is stopped gracefully and its SQLite file read for the exact
   per-id count (bench/soak_verify.py). Prints the figures and writes --json.

Exit status: 0 when nothing acknowledged was lost or duplicated, 1 otherwise, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import collections
import heapq
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ next to the helpers
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak_data  # noqa: E402
import soak_verify  # noqa: E402

MODEL = "soak"
ID_PREFIX = "p"
KEY_PREFIX = "soak-"
ALERTNAME = "DriftwatchDriftEpisode"


class SetupError(Exception):
    pass


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body=None, headers=None, timeout=30.0, conn=None):
    """One HTTP request; returns (status, headers dict (lower-case), body bytes). Raises OSError or
    http.client.HTTPException on connection errors. With `conn`, uses (and leaves open) that
    keep-alive connection."""
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        if own:
            c.close()


def get_json(port: int, path: str, timeout=30.0):
    status, _, data = request(port, "GET", path, timeout=timeout)
    if status != 200:
        raise SetupError(f"GET {path}: HTTP {status} {data[:300]!r}")
    return json.loads(data)


def pct(values, q):
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def rss_kib(pid: int):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


_METRIC = re.compile(r'^(driftwatch_actions_total|driftwatch_actions_pending|driftwatch_actions_given_up)\{([^}]*)\}\s+(\S+)')


def parse_actions(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        m = _METRIC.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        name = m.group(1).removeprefix("driftwatch_actions_")
        key = f"{name}:{labels.get('kind', '')}:{labels.get('outcome', '')}".rstrip(":")
        out[key] = float(m.group(3))
    return out


# ---------------------------------------------------------------------------------------------
# Processes


class Child:
    def __init__(self, name: str, argv: list[str], log_path: str):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.proc: subprocess.Popen | None = None

    def spawn(self) -> None:
        logf = open(self.log_path, "ab")
        logf.write(f"\n==== {time.strftime('%H:%M:%S')} exec {' '.join(self.argv)}\n".encode())
        logf.flush()
        # Own session: a Ctrl-C in the terminal reaches only this script, which stops them by PID.
        self.proc = subprocess.Popen(self.argv, stdout=logf, stderr=logf, stdin=subprocess.DEVNULL, start_new_session=True)
        logf.close()

    @property
    def pid(self):
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout=60.0):
        """SIGTERM, then SIGKILL after `timeout`. Returns (exit code, seconds)."""
        if not self.proc or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None), 0.0
        t = time.monotonic()
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        return self.proc.returncode, time.monotonic() - t

    def wait_http(self, port: int, path: str, timeout: float) -> float:
        """Polls path every 20 ms until it answers 200; returns the seconds since the call."""
        t = time.monotonic()
        while time.monotonic() - t < timeout:
            if self.proc.poll() is not None:
                raise SetupError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if request(port, "GET", path, timeout=2)[0] == 200:
                    return time.monotonic() - t
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.02)
        raise SetupError(f"{self.name}: {path} not 200 within {timeout} s; see {self.log_path}")


def driftwatch(binary: str, config_path: str, log_path: str) -> Child:
    return Child("driftwatch", [binary, "serve", "--config", config_path, "--log-level", "notice"], log_path)


def write_driftwatch_config(path: str, port: int, data_dir: str, am_port, resend: float) -> None:
    cfg = {"host": "127.0.0.1", "port": port, "data_dir": data_dir, "durability": "process_crash",
           "public_url": f"http://127.0.0.1:{port}"}
    if am_port:
        cfg["alertmanager"] = {"urls": [f"http://127.0.0.1:{am_port}"], "resend_seconds": resend, "timeout_seconds": 2}
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)


def create_model(port: int, window_rows: int, min_labelled_rows: int, seed: int) -> None:
    settings = soak_data.settings(window_rows, max(100, window_rows // 2), min_labelled_rows)
    status, _, data = request(port, "PUT", f"/v1/models/{MODEL}", json.dumps(settings).encode(), {"Content-Type": "application/json"})
    if status not in (200, 201):
        raise SetupError(f"PUT /v1/models/{MODEL}: HTTP {status} {data[:500]!r}")
    csv = soak_data.baseline_csv(random.Random(seed), 20_000)
    status, _, data = request(port, "PUT", f"/v1/models/{MODEL}/baseline", csv.encode(), {"Content-Type": "text/csv"}, timeout=120)
    if status != 201:
        raise SetupError(f"PUT /v1/models/{MODEL}/baseline: HTTP {status} {data[:500]!r}")


# ---------------------------------------------------------------------------------------------
# Load


class Load:
    """Batches on a schedule (seq k is due at start + k·rows/rate; rate None: as fast as acknowledged),
    each sent until acknowledged (202) with the same body and Idempotency-Key."""

    def __init__(self, port: int, pools, rows: int, rate, seconds: float, phases=None, labels=None, senders: int = 8):
        self.port, self.pools, self.rows, self.rate, self.seconds = port, pools, rows, rate, seconds
        self.phases = phases or []
        self.labels = labels
        self.n_senders = senders
        self.lock = threading.Lock()
        self.next_seq = 0
        self.start = None
        self.stop_new = threading.Event()
        self.abandon = threading.Event()
        self.acked: dict[int, int] = {}
        self.acked_dup = 0
        self.latency = []  # seconds, the request that got 202
        self.e2e = []  # seconds, first attempt → 202
        self.attempts = 0
        self.conn_errors = 0
        self.status = collections.Counter()
        self.refused = []
        self.abandoned = []
        self.drifted_batches = 0
        self.ack_times = []  # (monotonic, rows)
        self.slow = []  # (start, end) of acknowledged requests that took ≥ 1 s
        self.threads = []

    def drifted_at(self, offset: float) -> bool:
        for a, b, d in self.phases:
            if a <= offset < b:
                return d
        return False

    def take(self):
        with self.lock:
            if self.stop_new.is_set():
                return None
            seq = self.next_seq
            if self.rate:
                due = self.start + seq * self.rows / self.rate
                if due - self.start >= self.seconds:
                    return None
            else:
                due = time.monotonic()
                if due - self.start >= self.seconds:
                    return None
            self.next_seq += 1
            return seq, due

    def run_async(self):
        self.start = time.monotonic()
        for i in range(self.n_senders):
            t = threading.Thread(target=self._sender, name=f"sender-{i}", daemon=True)
            t.start()
            self.threads.append(t)

    def join(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        for t in self.threads:
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return all(not t.is_alive() for t in self.threads)

    def _sender(self):
        conn = None
        while True:
            nxt = self.take()
            if nxt is None:
                break
            seq, due = nxt
            d = due - time.monotonic()
            if d > 0:
                time.sleep(d)
            conn = self._send(seq, due - self.start, conn)
        if conn:
            conn.close()

    def _send(self, seq: int, offset: float, conn):
        drift = self.drifted_at(offset)
        pool = self.pools[drift][seq % len(self.pools[drift])]
        body = soak_data.batch_body(pool, ID_PREFIX, seq, self.rows, time.time())
        headers = {"Content-Type": "application/json", "Idempotency-Key": f"{KEY_PREFIX}{seq}"}
        first = time.monotonic()
        while True:
            if self.abandon.is_set():
                with self.lock:
                    self.abandoned.append(seq)
                return conn
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            t = time.monotonic()
            with self.lock:
                self.attempts += 1
            try:
                status, hdrs, data = request(self.port, "POST", f"/v1/models/{MODEL}/observations", body, headers, conn=conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = None
                with self.lock:
                    self.conn_errors += 1
                time.sleep(0.1)
                continue
            now = time.monotonic()
            with self.lock:
                self.status[status] += 1
            if status == 202:
                ans = json.loads(data)
                with self.lock:
                    self.acked[seq] = self.rows
                    self.latency.append(now - t)
                    self.e2e.append(now - first)
                    if now - t >= 1.0:
                        self.slow.append((t, now))
                    self.ack_times.append((now, self.rows))
                    if ans.get("duplicate"):
                        self.acked_dup += 1
                    if drift:
                        self.drifted_batches += 1
                    if ans.get("accepted") != self.rows or ans.get("rejected"):
                        self.refused.append((seq, status, f"accepted {ans.get('accepted')} rejected {ans.get('rejected')}"))
                if self.labels:
                    self.labels.schedule(seq, pool)
                if hdrs.get("connection", "").lower() == "close":
                    conn.close()
                    conn = None
                return conn
            if status in (429, 503):
                try:
                    wait = float(hdrs.get("retry-after", "1"))
                except ValueError:
                    wait = 1.0
                time.sleep(min(max(wait, 0.1), 10.0))
                continue
            with self.lock:
                self.refused.append((seq, status, data[:300].decode("utf-8", "replace")))
            return conn


class Labels:
    """Labels for a share of each acknowledged batch's ids, posted --label-delay s after the ack."""

    def __init__(self, port: int, rows: int, share: float, delay: tuple[float, float], seed: int, every: float):
        self.port, self.rows, self.share, self.delay, self.every = port, rows, share, delay, every
        self.rng = random.Random(seed * 31 + 5)
        self.lock = threading.Lock()
        self.heap = []
        self.done = threading.Event()
        self.sent = 0
        self.requests = 0
        self.retries = 0
        self.answers = collections.Counter()
        self.refused = []
        self.delays = []
        self.latency = []  # (seconds, ids) per acknowledged labels request of the steady feed
        self.intervals = []  # (start, end) monotonic of those requests
        self.thread = threading.Thread(target=self._run, name="labels", daemon=True)
        cut = int(round(share * 1000))
        self.rows_of = [i for i in range(rows) if (i * 37) % 1000 < cut]

    def schedule(self, seq: int, pool) -> None:
        if not self.rows_of:
            return
        with self.lock:
            d = self.rng.uniform(*self.delay)
            heapq.heappush(self.heap, (time.monotonic() + d, seq, pool))

    def pending(self) -> int:
        with self.lock:
            return len(self.heap)

    def _run(self):
        conn = None
        while True:
            # At the end (done) everything still scheduled goes out at once.
            now = float("inf") if self.done.is_set() else time.monotonic()
            ids, values = [], []
            with self.lock:
                while self.heap and self.heap[0][0] <= now and len(ids) < 50_000:
                    due, seq, pool = heapq.heappop(self.heap)
                    if not self.done.is_set():
                        self.delays.append(now - due)
                    for i in self.rows_of:
                        ids.append(f"{ID_PREFIX}{seq}-{i}")
                        values.append(pool.labels[i])
                empty = not self.heap
            if ids:
                conn = self._post(ids, values, conn, final=self.done.is_set())
                if len(ids) >= 50_000 or self.done.is_set():
                    continue
            if empty and self.done.is_set():
                break
            # A label feed posts what it has every `every` s (the last ones at once at the end).
            time.sleep(0.2 if self.done.is_set() else self.every)

    def _post(self, ids, values, conn, final=False):
        body = json.dumps({"ids": ids, "labels": values}).encode()
        while True:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            t = time.monotonic()
            try:
                status, hdrs, data = request(self.port, "POST", f"/v1/models/{MODEL}/labels", body, {"Content-Type": "application/json"}, conn=conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = None
                self.retries += 1
                time.sleep(0.2)
                continue
            if status == 202:
                ans = json.loads(data)
                if not final:  # the end's flush is not the steady feed
                    self.latency.append((time.monotonic() - t, len(ids)))
                    self.intervals.append((t, time.monotonic()))
                self.requests += 1
                self.sent += len(ids)
                for k in ("joined", "late", "pending", "duplicate", "rejected"):
                    self.answers[k] += ans.get(k, 0)
                return conn
            if status in (429, 503):
                self.retries += 1
                time.sleep(1.0)
                continue
            self.refused.append((status, data[:300].decode("utf-8", "replace")))
            return conn


# ---------------------------------------------------------------------------------------------
# The soak


class Soak:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.out = a.out
        self.data_dir = os.path.join(self.out, "driftwatch-data")
        self.port = free_port()
        self.am_port = free_port()
        self.am_dir = os.path.join(self.out, "alertmanager")
        self.server: Child | None = None
        self.am: Child | None = None
        self.server_lock = threading.Lock()  # held while the server is being killed and restarted
        self.am_lock = threading.Lock()
        self.stop = threading.Event()  # the poller and the monitor
        self.chaos_stop = threading.Event()  # the killer and the flapper
        self.fatal = None
        self.restarts = []  # dicts: at (offset s), restart_s, pid_before, pid_after
        self.am_down = []  # [down wall time, up wall time or None]
        self.am_up_since = None
        self.am_seen = {}  # episode_id → {first, last, polls}
        self.am_polls = []  # (wall time, up, frozenset of episode ids firing)
        self.rss = []  # (offset s, kib, pid, seconds since that process was ready)
        self.ready_at = {}  # pid → monotonic time it answered /readyz
        self.scrapes = {}  # pid → last parsed actions metrics
        self.scrape_errors = 0
        self.t0 = None

    # --- processes

    def start_am(self):
        os.makedirs(self.am_dir, exist_ok=True)
        cfg = os.path.join(self.out, "alertmanager.yml")
        with open(cfg, "w") as f:
            f.write('route:\n  receiver: "null"\n  group_by: [alertname, model]\nreceivers:\n  - name: "null"\n')
        self.am = Child("alertmanager", [self.a.alertmanager, f"--config.file={cfg}", f"--storage.path={self.am_dir}",
                                         f"--web.listen-address=127.0.0.1:{self.am_port}", "--cluster.listen-address=",
                                         "--log.level=warn"], os.path.join(self.out, "alertmanager.log"))
        self.am.spawn()
        self.am.wait_http(self.am_port, "/-/ready", 30)
        self.am_up_since = time.time()

    def start_server(self):
        cfg = os.path.join(self.out, "driftwatch.json")
        write_driftwatch_config(cfg, self.port, self.data_dir, self.am_port, self.a.resend_seconds)
        self.server = driftwatch(self.a.binary, cfg, os.path.join(self.out, "driftwatch.log"))
        self.server.spawn()
        self.server.wait_http(self.port, "/readyz", 120)
        self.ready_at[self.server.pid] = time.monotonic()

    def scrape(self, timeout=3.0):
        pid = self.server.pid if self.server else None
        if not pid:
            return
        try:
            status, _, data = request(self.port, "GET", "/metrics", timeout=timeout)
            if status == 200:
                self.scrapes[pid] = parse_actions(data.decode("utf-8", "replace"))
        except (OSError, http.client.HTTPException):
            self.scrape_errors += 1

    def restart_server(self):
        with self.server_lock:
            self.scrape(timeout=2)
            before = self.server.pid
            self.server.kill9()
            t = time.monotonic()
            self.server.spawn()
            self.server.wait_http(self.port, "/readyz", 300)
            took = time.monotonic() - t  # exec → /readyz 200
            self.ready_at[self.server.pid] = time.monotonic()
            self.restarts.append({"at_s": round(t - self.t0, 1), "restart_s": round(took, 3), "pid_killed": before, "pid_new": self.server.pid})
            log(f"killed driftwatch (pid {before}) with SIGKILL; restarted as pid {self.server.pid}, ready in {took:.2f} s")

    # --- background threads

    def killer(self):
        k = 1
        while not self.chaos_stop.is_set():
            target = self.t0 + k * self.a.kill_every
            if target >= self.t_end - 5:
                return
            if self.chaos_stop.wait(max(0.0, target - time.monotonic())):
                return
            try:
                self.restart_server()
            except SetupError as e:
                log(f"restart failed: {e}")
                self.fatal = str(e)
                self.chaos_stop.set()
                return
            k += 1

    def flapper(self):
        rng = random.Random(self.a.seed * 1009 + 17)
        while True:
            up = self.a.flap_every * rng.uniform(0.8, 1.2)
            if self.chaos_stop.wait(up):
                return
            if time.monotonic() > self.t_end - 10:
                return
            down = rng.uniform(30.0, min(120.0, max(30.0, self.a.flap_every)))
            down = min(down, max(5.0, self.t_end - 10 - time.monotonic()))
            with self.am_lock:
                self.am.kill9()
                self.am_down.append([time.time(), None])
                self.am_up_since = None
            log(f"Alertmanager down (SIGKILL) for {down:.0f} s")
            stopped = self.chaos_stop.wait(down)
            with self.am_lock:
                self.am.spawn()
                try:
                    self.am.wait_http(self.am_port, "/-/ready", 30)
                except SetupError as e:
                    log(f"Alertmanager did not come back: {e}")
                self.am_down[-1][1] = time.time()
                self.am_up_since = time.time()
            log("Alertmanager up")
            if stopped:
                return

    def am_poller(self):
        while not self.stop.is_set():
            now = time.time()
            try:
                status, _, data = request(self.am_port, "GET", "/api/v2/alerts", timeout=2)
                up = status == 200
                firing = set()
                if up:
                    for alert in json.loads(data):
                        if alert.get("labels", {}).get("alertname") != ALERTNAME:
                            continue
                        eid = alert.get("annotations", {}).get("episode_id")
                        if eid is None:
                            continue
                        firing.add(eid)
                        s = self.am_seen.setdefault(eid, {"first": now, "last": now, "polls": 0})
                        s["last"] = now
                        s["polls"] += 1
                self.am_polls.append((now, up, frozenset(firing)))
            except (OSError, http.client.HTTPException, ValueError):
                self.am_polls.append((now, False, frozenset()))
            self.stop.wait(2.0)

    def monitor(self):
        last_print = 0.0
        while not self.stop.is_set():
            pid = self.server.pid if self.server else None
            if pid:
                kib = rss_kib(pid)
                if kib is not None:
                    # Uptime −1: not ready yet (a restart in progress), left out like a warming process.
                    up = time.monotonic() - self.ready_at[pid] if pid in self.ready_at else -1.0
                    self.rss.append((time.monotonic() - self.t0, kib, pid, up))
                if not self.server_lock.locked():
                    self.scrape()
            if time.monotonic() - last_print >= 30:
                last_print = time.monotonic()
                self.progress()
            self.stop.wait(10.0)

    def progress(self):
        L = self.load
        with L.lock:
            rows = sum(L.acked.values())
            lat = pct(L.latency[-2000:], 0.99)
        el = time.monotonic() - self.t0
        state = "?"
        try:
            st = get_json(self.port, f"/v1/models/{MODEL}", timeout=3)
            state = f"episode {st['episode']['state']}, last window {(st.get('last_window') or {}).get('seq')}"
        except (OSError, http.client.HTTPException, SetupError, ValueError, KeyError):
            pass
        rss = self.rss[-1][1] / 1024 if self.rss else 0
        log(f"{el:6.0f} s: {rows:,} rows acknowledged ({rows / max(el, 1):,.0f}/s), p99 {1000 * (lat or 0):.0f} ms, "
            f"RSS {rss:.0f} MiB, {state}, Alertmanager {'up' if self.am_up_since else 'down'}, labels sent {self.labels.sent:,}")

    # --- capacity

    def measure_capacity(self, pools) -> float:
        d = tempfile.mkdtemp(prefix="capacity-", dir=self.out)
        port = free_port()
        cfg = os.path.join(d, "driftwatch.json")
        write_driftwatch_config(cfg, port, os.path.join(d, "data"), None, 60)
        server = driftwatch(self.a.binary, cfg, os.path.join(self.out, "capacity-driftwatch.log"))
        server.spawn()
        try:
            server.wait_http(port, "/readyz", 60)
            create_model(port, 100_000, 1000, self.a.seed)
            load = Load(port, pools, self.a.batch_rows, None, self.a.capacity_seconds, senders=self.a.senders)
            log(f"capacity: {self.a.capacity_seconds:.0f} s of {self.a.batch_rows}-row batches from {self.a.senders} senders, as fast as acknowledged")
            load.run_async()
            load.join()
            took = time.monotonic() - load.start
            rows = sum(load.acked.values())
            cap = rows / took
            log(f"capacity: {rows:,} rows acknowledged in {took:.1f} s = {cap:,.0f} observations/s "
                f"(p50 {1000 * pct(load.latency, 0.5):.0f} ms, p99 {1000 * pct(load.latency, 0.99):.0f} ms)")
            self.capacity = {"observations_per_s": round(cap), "seconds": round(took, 1), "rows": rows,
                             "p50_ms": round(1000 * pct(load.latency, 0.5), 1), "p99_ms": round(1000 * pct(load.latency, 0.99), 1),
                             "senders": self.a.senders, "batch_rows": self.a.batch_rows}
            return cap
        finally:
            server.stop()
            shutil.rmtree(d, ignore_errors=True)

    # --- run

    def phases(self):
        rng = random.Random(self.a.seed * 7 + 3)
        out, t, drift = [], 0.0, False
        total = self.a.minutes * 60
        while t < total:
            d = rng.uniform(self.a.phase_min, self.a.phase_max)
            out.append((t, min(t + d, total), drift))
            t += d
            drift = not drift
        return out

    def run(self):
        a = self.a
        log(f"output in {self.out}")
        pools = soak_data.pools(a.seed, a.batch_rows, 32)
        self.capacity = None
        if a.rate:
            rate = a.rate
        else:
            rate = self.measure_capacity(pools) / 2
            log(f"soak rate: half the measured capacity = {rate:,.0f} observations/s")
        rate = max(rate, a.batch_rows / 10)
        self.rate = rate
        window_rows = max(2 * a.batch_rows, int(round(rate * a.window_seconds / a.batch_rows)) * a.batch_rows)
        self.window_rows = window_rows
        self.phase_list = self.phases()
        log(f"rate {rate:,.0f} obs/s, batches of {a.batch_rows}, window {window_rows:,} rows (~{window_rows / rate:.0f} s); "
            f"phases: " + ", ".join(f"{'drifted' if d else 'clean'} {b - s:.0f} s" for s, b, d in self.phase_list))

        self.start_am()
        self.start_server()
        log(f"Alertmanager on 127.0.0.1:{self.am_port}, driftwatch on 127.0.0.1:{self.port}")
        create_model(self.port, window_rows, a.min_labelled_rows, a.seed)
        self.labels = Labels(self.port, a.batch_rows, a.label_share, (a.label_delay_min, a.label_delay_max), a.seed, a.label_every)
        self.load = Load(self.port, pools, a.batch_rows, rate, a.minutes * 60, self.phase_list, self.labels, a.senders)
        self.t0 = time.monotonic()
        self.t0_wall = time.time()
        self.t_end = self.t0 + a.minutes * 60
        self.load.start = self.t0
        threads = [threading.Thread(target=f, name=f.__name__, daemon=True)
                   for f in (self.killer, self.flapper, self.am_poller, self.monitor)]
        self.load.run_async()
        self.labels.thread.start()
        for t in threads:
            t.start()

        # Until the schedule ends.
        while time.monotonic() < self.t_end and not self.fatal:
            time.sleep(1)
        if self.fatal:
            raise SetupError(self.fatal)
        self.load.stop_new.set()
        self.schedule_end_wall = time.time()
        log("schedule done: no new batches; waiting for the last acknowledgements")
        if not self.load.join(timeout=a.drain_seconds):
            self.load.abandon.set()
            self.load.join(timeout=40)
        # Killer and flapper stop; Alertmanager must be up for the drain.
        self.chaos_stop.set()
        for t in threads[:2]:
            t.join(timeout=200)
        with self.am_lock:
            if not self.am.pid:
                self.am.spawn()
                self.am.wait_http(self.am_port, "/-/ready", 30)
                self.am_down[-1][1] = time.time()
            self.am_up_since = self.am_up_since or time.time()
        self.labels.done.set()
        self.labels.thread.join(timeout=a.drain_seconds)
        drained = self.drain_outbox()
        time.sleep(3)  # one more Alertmanager poll after the last delivery
        self.stop.set()
        for t in threads[2:]:
            t.join(timeout=15)
        api = self.read_api()
        api["outbox_drained"] = drained
        self.scrape()
        code, took = self.server.stop()
        api["graceful_stop"] = {"exit_code": code, "seconds": round(took, 2)}
        log(f"driftwatch stopped (SIGTERM): exit {code} in {took:.1f} s")
        self.am.stop()
        db = os.path.join(self.data_dir, "driftwatch.sqlite")
        log("reading the SQLite store for the per-id count")
        verified = soak_verify.verify(db, MODEL, ID_PREFIX, KEY_PREFIX, dict(self.load.acked))
        return self.report(api, verified)

    def drain_outbox(self):
        """Waits until no outbox action of any episode is pending (delivered and given_up are final)."""
        t = time.monotonic()
        last = None
        while time.monotonic() - t < self.a.drain_seconds:
            try:
                eps = get_json(self.port, f"/v1/models/{MODEL}/episodes?limit=1000")["episodes"]
            except (OSError, http.client.HTTPException, SetupError, ValueError):
                time.sleep(1)
                continue
            states = collections.Counter(act.get("state") for e in eps for act in e.get("actions", []))
            open_ = states.get("pending", 0)
            last = dict(states)
            if open_ == 0:
                log(f"outbox drained in {time.monotonic() - t:.1f} s: {last}")
                return {"drained": True, "seconds": round(time.monotonic() - t, 1), "states": last}
            time.sleep(2)
        log(f"outbox not drained after {self.a.drain_seconds} s: {last}")
        return {"drained": False, "seconds": self.a.drain_seconds, "states": last}

    def read_api(self) -> dict:
        p = self.port
        st = get_json(p, f"/v1/models/{MODEL}")
        wins = get_json(p, f"/v1/models/{MODEL}/windows?limit=1000", timeout=120)["windows"]
        eps = get_json(p, f"/v1/models/{MODEL}/episodes?limit=1000")["episodes"]
        try:
            q = get_json(p, f"/v1/models/{MODEL}/quality?limit=1")
        except SetupError as e:
            q = {"error": str(e)}
        status, _, m = request(p, "GET", "/metrics")
        return {"status": st, "windows": [{"seq": w["seq"], "rows": w["rows"], "drifted": w["summary"].get("verdict", {}).get("drifted"),
                                          "started_at": w.get("started_at"), "ended_at": w.get("ended_at"),
                                          "evaluated_at": w.get("evaluated_at"), "episode_state": w.get("episode_state")} for w in wins],
                "episodes": eps, "quality_labels": q.get("labels"), "quality_episode_state": q.get("episode_state"),
                "metrics_final": parse_actions(m.decode("utf-8", "replace"))}

    # --- figures

    def am_up_intervals(self, end_wall):
        """[start, end] wall-time intervals during which Alertmanager was up."""
        ups, start = [], self.t0_wall
        for down, up in self.am_down:
            ups.append((start, down))
            start = up if up else end_wall
        ups.append((start, end_wall))
        return [(s, e) for s, e in ups if e > s]

    def report(self, api: dict, v: dict) -> int:
        a, L = self.a, self.load
        end_wall = time.time()
        lat = [x * 1000 for x in L.latency]
        e2e = [x * 1000 for x in L.e2e]
        acked_rows = sum(L.acked.values())
        st = api["status"]
        win_rows = sum(w["rows"] for w in api["windows"])
        seqs = sorted(w["seq"] for w in api["windows"])
        api_counts = {"observations_stored": st.get("observations_stored"), "window_rows_closed": win_rows,
                      "open_window_rows": st.get("window", {}).get("rows"), "windows": len(seqs),
                      "windows_seq_contiguous": seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True}
        api_counts["closed_plus_open"] = win_rows + (api_counts["open_window_rows"] or 0)
        wr = [w["rows"] for w in api["windows"]]
        api_counts["window_rows_min_max"] = [min(wr), max(wr)] if wr else None
        api_counts["windows_not_target_size"] = sum(1 for r in wr if r != self.window_rows)
        # A window closes at the append that fills it; one of another size (not the last) points at a
        # restart between its close and its stored evaluation. Listed with the nearest kill.
        kills = [self.t0_wall + r["at_s"] for r in self.restarts]
        api_counts["off_size_windows"] = [
            {"seq": w["seq"], "rows": w["rows"], "ended_s": round(w["ended_at"] - self.t0_wall, 1),
             "nearest_kill_s": round(min(kills, key=lambda k: abs(k - w["ended_at"])) - self.t0_wall, 1) if kills else None}
            for w in api["windows"] if w["rows"] != self.window_rows]

        # Each episode's transitions must follow the state machine, each step once.
        allowed = {("ok", "suspected"), ("resolved", "suspected"), ("suspected", "ok"), ("suspected", "confirmed"), ("confirmed", "resolved")}
        anomalies = []
        for e in api["episodes"]:
            tr = [(t.get("from"), t.get("to")) for t in e.get("transitions", [])]
            for x in tr:
                if x not in allowed:
                    anomalies.append(f"episode {e['id']}: transition {x[0]} → {x[1]}")
            for x, n in collections.Counter(tr).items():
                if n > 1:
                    anomalies.append(f"episode {e['id']}: {x[0]} → {x[1]} recorded {n} times")
            for (a1, b1), (a2, b2) in zip(tr, tr[1:]):
                if b1 != a2:
                    anomalies.append(f"episode {e['id']}: {a1} → {b1} followed by {a2} → {b2}")
        slow_overlap = sum(1 for s0, s1 in L.slow if any(a0 < s1 and s0 < a1 for a0, a1 in self.labels.intervals))
        slow_restart = sum(1 for s0, s1 in L.slow if any(s0 - 5 <= self.t0 + r["at_s"] <= s1 for r in self.restarts))
        ack_gaps = [b - a2 for (a2, _), (b, _) in zip(sorted(L.ack_times), sorted(L.ack_times)[1:])]

        # RSS: samples taken < warmup s after a process became ready are left out (a fresh process
        # rebuilds its open window and fills its caches), and so is the first 5 minutes of the run.
        warm = a.rss_warmup
        kept = [(t, k) for t, k, _, up in self.rss if up >= warm]
        buckets = collections.OrderedDict()
        for t, k in kept:
            buckets.setdefault(int(t // 300), []).append(k)
        rss_buckets = [{"from_min": 5 * b, "to_min": 5 * b + 5, "min_mib": round(min(ks) / 1024, 1), "max_mib": round(max(ks) / 1024, 1),
                        "samples": len(ks)} for b, ks in buckets.items()]
        late = [(t, k / 1024) for t, k in kept if t >= 300]
        slope = None
        basis = "samples after minute 5"
        if len(late) < 3:
            late = [(t, k / 1024) for t, k in kept]
            basis = "all kept samples: the run is too short for a meaningful slope"
        if len(late) >= 3:
            mt = statistics.fmean(t for t, _ in late)
            mk = statistics.fmean(k for _, k in late)
            den = sum((t - mt) ** 2 for t, _ in late)
            slope = sum((t - mt) * (k - mk) for t, k in late) / den * 3600 if den else None
        per_life = collections.OrderedDict()
        for t, k, pid, up in self.rss:
            if up >= 0:  # ready: not a process still starting
                per_life.setdefault(pid, []).append(k / 1024)
        lifetimes = [{"pid": pid, "samples": len(ks), "first_mib": round(ks[0], 1), "last_mib": round(ks[-1], 1), "max_mib": round(max(ks), 1)}
                     for pid, ks in per_life.items()]

        # Episodes vs alerts.
        ups = self.am_up_intervals(end_wall)
        need = a.resend_seconds + 10  # an up stretch this long inside a confirmed span should show the alert
        episodes = []
        for e in api["episodes"]:
            if e.get("kind", "drift") != "drift" or e.get("confirmed_at") is None:
                continue
            s, t = e["confirmed_at"], e.get("resolved_at") or end_wall
            longest = max([min(t, ue) - max(s, us) for us, ue in ups] + [0.0])
            seen = self.am_seen.get(str(e["id"]))
            acts = collections.Counter(f"{x['key'].rsplit(':', 1)[-1]}:{x['state']}" for x in e.get("actions", []) if x.get("kind") == "alertmanager")
            row = {"id": e["id"], "confirmed_at": round(s - self.t0_wall, 1), "resolved_at": round(e["resolved_at"] - self.t0_wall, 1) if e.get("resolved_at") else None,
                   "state": e.get("state"), "am_up_longest_s": round(longest, 1), "seen_in_alertmanager": bool(seen),
                   "first_seen_after_confirm_s": round(seen["first"] - s, 1) if seen else None,
                   "last_seen_after_resolve_s": round(seen["last"] - e["resolved_at"], 1) if seen and e.get("resolved_at") else None,
                   "actions": dict(sorted(acts.items()))}
            row["verdict"] = "seen" if seen else ("MISSED" if longest >= need else "not expected (Alertmanager down)")
            # Gaps: polls while the episode was confirmed (after its alert was first seen), Alertmanager
            # up and not restarted within `need` s, that did not list the alert (e.g. replaced by a
            # late resolution of an earlier episode: all episodes of a model share one label set).
            gaps, cur = [], None
            if seen:
                restarts_up = [u for _, u in self.am_down if u]
                for tp, up, firing in self.am_polls:
                    if not (seen["first"] < tp < t - 2) or not up or any(0 <= tp - u < need for u in restarts_up):
                        continue
                    if str(e["id"]) in firing:
                        if cur:
                            gaps.append(cur)
                            cur = None
                    else:
                        cur = [tp, tp] if cur is None else [cur[0], tp]
                if cur:
                    gaps.append(cur)
            row["alert_gaps"] = [{"from_s": round(g0 - self.t0_wall, 1), "polls_s": round(g1 - g0 + 2, 1)} for g0, g1 in gaps]
            episodes.append(row)
        all_eps = collections.Counter(f"{e.get('kind', 'drift')}:{e.get('state')}" for e in api["episodes"])
        action_states = collections.Counter(f"{x.get('kind')}:{x['key'].rsplit(':', 1)[-1]}:{x.get('state')}" for e in api["episodes"] for x in e.get("actions", []))

        # Alert re-established after each Alertmanager restart while an episode stayed confirmed.
        reestablish = []
        for down, up in self.am_down:
            if not up:
                continue
            for e in api["episodes"]:
                if e.get("kind", "drift") != "drift" or e.get("confirmed_at") is None:
                    continue
                if e["confirmed_at"] < down and (e.get("resolved_at") or end_wall) > up + need:
                    first = next((t for t, ok, f in self.am_polls if t >= up and str(e["id"]) in f), None)
                    reestablish.append({"episode": e["id"], "am_up_at": round(up - self.t0_wall, 1),
                                        "seen_after_s": round(first - up, 1) if first else None})

        actions_total = collections.Counter()
        for pid, m in self.scrapes.items():
            for k, val in m.items():
                if k.startswith("total:"):
                    actions_total[k[6:]] += val

        restart = [r["restart_s"] for r in self.restarts]
        fig = {
            "command": " ".join(sys.argv),
            "seed": a.seed, "minutes": a.minutes, "capacity": self.capacity, "rate_obs_per_s": round(self.rate),
            "achieved_obs_per_s": round(acked_rows / max(1e-9, (max((t for t, _ in L.ack_times), default=self.t0) - self.t0))),
            "batch_rows": a.batch_rows, "window_rows": self.window_rows, "senders": a.senders,
            "phases": [{"from_s": round(s), "to_s": round(b), "drifted": d} for s, b, d in self.phase_list],
            "ingest": {"batches_acknowledged": len(L.acked), "rows_acknowledged": acked_rows, "acks_as_duplicate": L.acked_dup,
                       "attempts": L.attempts, "connection_errors": L.conn_errors, "http_status": {str(k): n for k, n in sorted(L.status.items())},
                       "refused": L.refused[:20], "abandoned_batches": L.abandoned[:50], "drifted_batches": L.drifted_batches,
                       "acks_over_1s": len(L.slow), "acks_over_1s_overlapping_a_labels_request": slow_overlap,
                       "acks_over_1s_around_a_restart": slow_restart,
                       "ack_ms": {"p50": _r(pct(lat, 0.5)), "p99": _r(pct(lat, 0.99)), "max": _r(max(lat, default=None))},
                       "ack_first_attempt_to_202_ms": {"p50": _r(pct(e2e, 0.5)), "p99": _r(pct(e2e, 0.99)), "max": _r(max(e2e, default=None))}},
            "stored_api": api_counts,
            "transition_anomalies": anomalies,
            "longest_gap_between_acks_s": _r(max(ack_gaps, default=None), 2),
            "stored_sqlite": v,
            "lost": v["lost"], "duplicated": v["duplicated"],
            "restarts": {"count": len(restart), "seconds": restart, "p50": _r(pct(restart, 0.5), 3), "max": _r(max(restart, default=None), 3),
                         "detail": self.restarts},
            "graceful_stop": api["graceful_stop"],
            "rss": {"buckets_5min": rss_buckets, "slope_mib_per_hour": _r(slope, 2), "slope_basis": basis,
                    "excluded": f"samples taken < {warm:.0f} s after a (re)started process answered /readyz", "lifetimes": lifetimes,
                    "samples": len(self.rss)},
            "labels": {"sent": self.labels.sent, "requests": self.labels.requests, "retries": self.labels.retries,
                       "answers": dict(self.labels.answers), "refused": self.labels.refused[:10], "share": a.label_share,
                       "final_counts_by_state": api["quality_labels"], "quality_episode_state": api["quality_episode_state"],
                       "post_lag_s_p99": _r(pct(self.labels.delays, 0.99), 2),
                       "ids_per_request_p50": _r(pct([n for _, n in self.labels.latency], 0.5), 0),
                       "request_ms": {"p50": _r(pct([1000 * x for x, _ in self.labels.latency], 0.5)),
                                      "p99": _r(pct([1000 * x for x, _ in self.labels.latency], 0.99)),
                                      "max": _r(max((1000 * x for x, _ in self.labels.latency), default=None))}},
            "alertmanager": {"flaps": len(self.am_down), "down_s": [round((u or end_wall) - d, 1) for d, u in self.am_down],
                             "episode_ids_seen_firing": sorted(self.am_seen, key=int), "polls": len(self.am_polls)},
            "episodes": {"by_kind_state": dict(all_eps), "drift_confirmed": len(episodes),
                         "seen_in_alertmanager": sum(1 for e in episodes if e["seen_in_alertmanager"]),
                         "missed_while_alertmanager_up": sum(1 for e in episodes if e["verdict"] == "MISSED"),
                         "alert_gaps_while_confirmed": sum(len(e["alert_gaps"]) for e in episodes),
                         "detail": episodes, "reestablished_after_alertmanager_restart": reestablish},
            "actions": {"by_kind_notice_state": dict(sorted(action_states.items())), "outbox_sqlite": v["outbox_by_notice_state"],
                        "drain": api["outbox_drained"], "driftwatch_actions_total_summed_over_lifetimes": dict(actions_total),
                        "metrics_final": api["metrics_final"], "scrape_errors": self.scrape_errors},
        }
        self.print_table(fig)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(fig, f, indent=2)
            log(f"figures written to {a.json}")
        bad = v["lost"] or v["duplicated"]
        return 1 if bad else 0

    def print_table(self, f):
        def line(k, val):
            print(f"  {k:<44} {val}")
        i, s, v = f["ingest"], f["stored_api"], f["stored_sqlite"]
        print("\n==== driftwatch soak ====")
        line("duration / seed", f"{f['minutes']} min / {f['seed']}")
        line("phases", ", ".join(f"{'drifted' if p['drifted'] else 'clean'} {p['to_s'] - p['from_s']} s" for p in f["phases"]))
        if f["capacity"]:
            c = f["capacity"]
            line("measured capacity", f"{c['observations_per_s']:,} obs/s ({c['seconds']} s burst, {c['senders']} senders, p99 {c['p99_ms']} ms)")
        line("rate (target / achieved)", f"{f['rate_obs_per_s']:,} / {f['achieved_obs_per_s']:,} obs/s, {f['batch_rows']}-row batches, window {f['window_rows']:,} rows")
        line("batches / rows acknowledged (202)", f"{i['batches_acknowledged']:,} / {i['rows_acknowledged']:,}")
        line("attempts / connection errors / statuses", f"{i['attempts']:,} / {i['connection_errors']:,} / {i['http_status']}")
        line("acks that were duplicates (retry of stored)", i["acks_as_duplicate"])
        line("refused / abandoned batches", f"{len(i['refused'])} / {len(i['abandoned_batches'])}")
        line("ack latency p50 / p99 / max", f"{i['ack_ms']['p50']} / {i['ack_ms']['p99']} / {i['ack_ms']['max']} ms")
        line("acks ≥ 1 s (during a labels request / a restart)", f"{i['acks_over_1s']} ({i['acks_over_1s_overlapping_a_labels_request']} / {i['acks_over_1s_around_a_restart']})")
        e = i["ack_first_attempt_to_202_ms"]
        line("first attempt → 202 p50 / p99 / max", f"{e['p50']} / {e['p99']} / {e['max']} ms")
        line("API observations_stored", f"{s['observations_stored']:,} (windows {s['window_rows_closed']:,} + open {s['open_window_rows']:,} = {s['closed_plus_open']:,}; {s['windows']} windows, seq contiguous: {s['windows_seq_contiguous']})")
        line("window rows min / max (target), off-size", f"{s['window_rows_min_max']} ({f['window_rows']:,}), {s['windows_not_target_size']}"
             + "".join(f"\n{'':47}window {w['seq']}: {w['rows']:,} rows, ended +{w['ended_s']} s, nearest kill +{w['nearest_kill_s']} s" for w in s["off_size_windows"]))
        line("episode transition anomalies", f["transition_anomalies"] or "none")
        line("longest gap between acknowledgements", f"{f['longest_gap_between_acks_s']} s")
        line("SQLite: batches / rows / ids", f"{v['batches']:,} / {v['batch_rows']:,} / {v['id_rows']:,}")
        line("LOST (acknowledged, not stored)", f"{v['lost']:,}" + (f" in batches {v['lost_batches'][:10]}" if v["lost"] else ""))
        line("DUPLICATED (stored more than once)", f"{v['duplicated']:,}")
        line("stored but never acknowledged (batches)", v["stored_not_acknowledged_count"])
        line("SQLite windows: problems", v["window_problems"] or "none (every stored row in one window or the open one)")
        r = f["restarts"]
        line("kill -9 + restarts: count / p50 / max", f"{r['count']} / {r['p50']} / {r['max']} s  {r['seconds']}")
        line("graceful stop at the end", f"exit {f['graceful_stop']['exit_code']} in {f['graceful_stop']['seconds']} s")
        m = f["rss"]
        line("RSS slope", f"{m['slope_mib_per_hour']} MiB/h ({m['slope_basis']}; excluded: {m['excluded']})")
        for b in m["buckets_5min"]:
            line(f"  RSS min {b['from_min']:>3}–{b['to_min']:<3}", f"{b['min_mib']} – {b['max_mib']} MiB ({b['samples']} samples)")
        line("RSS per process (first / last / max MiB)", "; ".join(f"{x['first_mib']}/{x['last_mib']}/{x['max_mib']}" for x in m["lifetimes"]))
        lb = f["labels"]
        line("labels sent / answers", f"{lb['sent']:,} / {lb['answers']}")
        line("labels by state (GET quality)", lb["final_counts_by_state"])
        line("labels: requests / ids per request p50 / ms p50 p99 max", f"{lb['requests']} / {lb['ids_per_request_p50']} / "
             f"{lb['request_ms']['p50']} {lb['request_ms']['p99']} {lb['request_ms']['max']}")
        am = f["alertmanager"]
        line("Alertmanager flaps (down s)", f"{am['flaps']} {am['down_s']}")
        ep = f["episodes"]
        line("episodes by kind:state", ep["by_kind_state"])
        line("drift episodes confirmed / seen firing in AM", f"{ep['drift_confirmed']} / {ep['seen_in_alertmanager']} (missed while AM up: {ep['missed_while_alertmanager_up']})")
        line("alert gone from AM while confirmed and AM up", ep["alert_gaps_while_confirmed"])
        for d in ep["detail"]:
            line(f"  episode {d['id']}", f"confirmed +{d['confirmed_at']} s, resolved {('+' + str(d['resolved_at']) + ' s') if d['resolved_at'] else '—'}, "
                 f"{d['verdict']}" + (f" (+{d['first_seen_after_confirm_s']} s)" if d["first_seen_after_confirm_s"] is not None else "")
                 + (f", last seen {d['last_seen_after_resolve_s']} s after resolve" if d["last_seen_after_resolve_s"] is not None else "") + f", actions {d['actions']}"
                 + (f", GAPS {d['alert_gaps']}" if d["alert_gaps"] else ""))
        for x in ep["reestablished_after_alertmanager_restart"]:
            line(f"  AM back at +{x['am_up_at']} s, episode {x['episode']}", f"alert seen again after {x['seen_after_s']} s")
        ac = f["actions"]
        line("actions by kind:notice:state (API)", ac["by_kind_notice_state"])
        line("outbox drained", ac["drain"])
        line("driftwatch_actions_total (Σ lifetimes)", ac["driftwatch_actions_total_summed_over_lifetimes"])
        print()


def _r(x, n=1):
    return None if x is None else round(x, n)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="driftwatch soak: ingest, windows, labels, Alertmanager flaps, kill -9 restarts.")
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "driftwatch"))
    ap.add_argument("--alertmanager", default="/usr/bin/prometheus-alertmanager")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--rate", type=float, help="observations/s (default: half the measured capacity)")
    ap.add_argument("--kill-every", type=float, default=300, help="seconds between kill -9 + restart")
    ap.add_argument("--flap-every", type=float, default=180, help="Alertmanager up for about this long, then down 30–120 s")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="working directory (default: a new temp dir)")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--keep-data", action="store_true", help="keep the SQLite store (default: deleted at the end)")
    ap.add_argument("--batch-rows", type=int, default=500)
    ap.add_argument("--senders", type=int, default=8)
    ap.add_argument("--capacity-seconds", type=float, default=20)
    ap.add_argument("--window-seconds", type=float, default=10, help="window rows = rate × this")
    ap.add_argument("--phase-min", type=float, help="clean/drifted phases last phase-min..phase-max s "
                    "(default 120..240; runs under 15 min: run/6..run/4)")
    ap.add_argument("--phase-max", type=float)
    ap.add_argument("--label-share", type=float, default=0.05, help="share of each batch's ids that get a label")
    ap.add_argument("--label-delay-min", type=float, default=5)
    ap.add_argument("--label-delay-max", type=float, default=30)
    ap.add_argument("--label-every", type=float, default=5, help="the label feed posts the labels due every this many s")
    ap.add_argument("--min-labelled-rows", type=int, default=500)
    ap.add_argument("--resend-seconds", type=float, default=15, help="driftwatch's alertmanager.resend_seconds")
    ap.add_argument("--rss-warmup", type=float, default=30)
    ap.add_argument("--drain-seconds", type=float, default=120)
    a = ap.parse_args(argv)
    a.binary = os.path.abspath(a.binary)
    short = a.minutes < 15
    a.phase_min = a.phase_min or (a.minutes * 60 / 6 if short else 120)
    a.phase_max = max(a.phase_min, a.phase_max or (a.minutes * 60 / 4 if short else 240))
    if not os.access(a.binary, os.X_OK):
        print(f"soak: {a.binary} is not an executable (build it: swift build -c release --product driftwatch)", file=sys.stderr)
        return 2
    if not os.access(a.alertmanager, os.X_OK):
        print(f"soak: {a.alertmanager} not found (Debian package prometheus-alertmanager)", file=sys.stderr)
        return 2
    made = a.out is None
    a.out = os.path.abspath(a.out or tempfile.mkdtemp(prefix="driftwatch-soak-"))
    os.makedirs(a.out, exist_ok=True)
    soak = Soak(a)
    def on_term(*_):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)  # also when started in the background (SIGINT ignored)
    code = 2
    try:
        code = soak.run()
    except KeyboardInterrupt:
        print("soak: interrupted", file=sys.stderr)
        code = 2
    except SetupError as e:
        print(f"soak: {e}", file=sys.stderr)
        code = 2
    finally:
        soak.stop.set()
        soak.chaos_stop.set()
        for child in (soak.server, soak.am):
            if child:
                child.stop(timeout=30)
        if not a.keep_data:
            shutil.rmtree(soak.data_dir, ignore_errors=True)
        if made:
            print(f"soak: logs in {a.out}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
