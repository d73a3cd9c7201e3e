#!/usr/bin/env python3
"""Time a command end to end: best wall clock of N runs and its peak RSS.

Usage: time_cmd.py [--repeat N] [--ok-codes 0,1] -- CMD [ARGS...]

Stdout of the command goes to /dev/null, stderr is kept (shown on failure).
Wall clock is time.perf_counter() around the child process. Peak RSS comes
from `/usr/bin/time -v` ("Maximum resident set size") when that exists,
otherwise from the child's rusage (os.wait4). Prints one JSON object.
Exit status 2 if any run exits with a code outside --ok-codes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

GNU_TIME = "/usr/bin/time"


def gnu_time_usable() -> bool:
    if not os.access(GNU_TIME, os.X_OK):
        return False
    try:
        r = subprocess.run([GNU_TIME, "-v", "true"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and "Maximum resident set size" in r.stderr


def run_once(cmd: list[str], use_gnu_time: bool) -> tuple[float, int, float, str]:
    """Returns (wall seconds, exit code, peak RSS MiB, stderr text)."""
    with tempfile.NamedTemporaryFile("w+", suffix=".time") as tf, tempfile.TemporaryFile("w+") as errf:
        full = [GNU_TIME, "-v", "-o", tf.name, *cmd] if use_gnu_time else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=errf)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        code = proc.returncode
        errf.seek(0)
        err = errf.read()
        rss_kib = float(ru.ru_maxrss)  # KiB on Linux; /usr/bin/time's own is tiny, the child's dominates
        if use_gnu_time:
            tf.seek(0)
            m = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", tf.read())
            if m:
                rss_kib = float(m.group(1))
        return wall, code, rss_kib / 1024.0, err


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("time_cmd.py: usage: time_cmd.py [--repeat N] [--ok-codes 0,1] -- CMD [ARGS...]", file=sys.stderr)
        return 2
    i = argv.index("--")
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--ok-codes", default="0")
    a = p.parse_args(argv[:i])
    cmd = argv[i + 1 :]
    if not cmd:
        print("time_cmd.py: no command given", file=sys.stderr)
        return 2
    ok = {int(x) for x in a.ok_codes.split(",") if x.strip()}
    use_gnu_time = gnu_time_usable()
    walls, rss, codes = [], [], []
    for _ in range(max(1, a.repeat)):
        try:
            wall, code, peak, err = run_once(cmd, use_gnu_time)
        except OSError as exc:
            print(f"time_cmd.py: cannot run {cmd[0]}: {exc}", file=sys.stderr)
            return 2
        if code not in ok:
            sys.stderr.write(err[-4000:])
            print(f"time_cmd.py: {' '.join(cmd)} exited with {code} (accepted: {sorted(ok)})", file=sys.stderr)
            return 2
        walls.append(wall)
        rss.append(peak)
        codes.append(code)
    print(
        json.dumps(
            {
                "best_s": min(walls),
                "runs_s": walls,
                "peak_rss_mib": round(max(rss), 1),
                "exit_codes": codes,
                "rss_source": "/usr/bin/time -v" if use_gnu_time else "rusage (os.wait4)",
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
