"""The exact per-id count of bench/soak.py: reads driftwatch's SQLite store after the server has stopped.

The API's `observations_stored` (GET /v1/models/{model}) is the sum of the stored batches' row counts,
exact but per batch. Per id, the store keeps each batch's prediction ids as one blob in `batch_ids`
(Sources/DriftStore/SQLite/SQLiteStore+PredictionIndex.swift, `BatchIDs`: u32 count, then per id u32
row, u32 byte length, UTF-8 bytes, little-endian) for as long as the batch is retained. No API lists
them, so this reads the file (read-only) once driftwatch has been stopped.
"""

from __future__ import annotations

import bisect
import collections
import sqlite3
import struct

_U32 = struct.Struct("<I")


def encode_ids(ids: list[str]) -> bytes:
    parts = [_U32.pack(len(ids))]
    for row, i in enumerate(ids):
        b = i.encode()
        parts.append(struct.pack("<II", row, len(b)))
        parts.append(b)
    return b"".join(parts)


_chunks: dict = {}


def expected_blob(prefix: str, seq: int, n: int) -> bytes:
    """encode_ids([f"{prefix}{seq}-{i}" for i in range(n)]), fast: the bytes between two copies of
    the seq's digits depend only on n and the digits' count, so they are built once and joined."""
    sb = str(seq).encode()
    key = (prefix, n, len(sb))
    chunks = _chunks.get(key)
    if chunks is None:
        p = prefix.encode()
        chunks, before = [], _U32.pack(n)
        for i in range(n):
            tail = b"-" + str(i).encode()
            chunks.append(before + struct.pack("<II", i, len(p) + len(sb) + len(tail)) + p)
            before = tail
        chunks.append(before)
        _chunks[key] = chunks
    return sb.join(chunks)


def decode_ids(blob: bytes) -> list[tuple[int, str]]:
    out = []
    if len(blob) < 4:
        return out
    (count,) = _U32.unpack_from(blob, 0)
    off = 4
    for _ in range(count):
        if off + 8 > len(blob):
            break
        row, n = struct.unpack_from("<II", blob, off)
        off += 8
        out.append((row, blob[off:off + n].decode("utf-8", "replace")))
        off += n
    return out


def open_ro(path: str) -> sqlite3.Connection:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        con.execute("SELECT 1 FROM batches LIMIT 1").fetchall()
        return con
    except sqlite3.Error:
        return sqlite3.connect(f"file:{path}?immutable=1", uri=True)


def verify(path: str, model: str, prefix: str, key_prefix: str, acked: dict[int, int]) -> dict:
    """acked: batch seq → rows acknowledged (HTTP 202). Batch seq s carries ids f"{prefix}{s}-{i}",
    i < rows, and Idempotency-Key f"{key_prefix}{s}"."""
    con = open_ro(path)
    batches = con.execute("SELECT id, rows, idempotency_key FROM batches WHERE model = ? ORDER BY id", (model,)).fetchall()
    rows_by_batch = {b: r for b, r, _ in batches}
    seq_by_batch = {}
    keys_irregular = 0
    for b, _, key in batches:
        if key and key.startswith(key_prefix) and key[len(key_prefix):].isdigit():
            seq_by_batch[b] = int(key[len(key_prefix):])
        else:
            keys_irregular += 1

    stored_per_seq: collections.Counter = collections.Counter()  # whole batches that match exactly
    irregular: collections.Counter = collections.Counter()  # single ids from batches that do not
    foreign_ids = 0
    id_rows = 0
    batches_without_ids = 0
    have_ids = set()
    for batch_id, blob in con.execute("SELECT batch_id, ids FROM batch_ids WHERE model = ? ORDER BY batch_id", (model,)):
        have_ids.add(batch_id)
        seq = seq_by_batch.get(batch_id)
        if seq is not None and seq in acked and blob == expected_blob(prefix, seq, acked[seq]):
            stored_per_seq[seq] += 1
            id_rows += acked[seq]
            continue
        for _, pid in decode_ids(blob):
            id_rows += 1
            irregular[pid] += 1
    for b in rows_by_batch:
        if b not in have_ids:
            batches_without_ids += 1

    acked_ids = sum(acked.values())
    lost = 0
    lost_batches = []
    duplicated = 0
    for seq, n in acked.items():
        c = stored_per_seq.get(seq, 0)
        if not irregular:  # the usual case: every batch blob is exactly the one sent
            if c == 0:
                lost += n
                lost_batches.append(seq)
            duplicated += max(0, c - 1) * n
            continue
        missing = 0
        for i in range(n):
            k = c + irregular.get(f"{prefix}{seq}-{i}", 0)
            if k == 0:
                missing += 1
            duplicated += max(0, k - 1)
        if missing:
            lost += missing
            lost_batches.append(seq)
    for pid, c in irregular.items():
        s = _seq_of(pid, prefix)
        if s is None or s not in acked:
            foreign_ids += c
    extra_batches = sorted(s for s in stored_per_seq if s not in acked)

    # Windows: every stored batch in exactly one closed window, or after the last (the open window).
    windows = con.execute("SELECT seq, first_batch_id, last_batch_id, rows FROM windows WHERE model = ? ORDER BY seq", (model,)).fetchall()
    ids_sorted = sorted(rows_by_batch)
    prefix_rows = [0]
    for b in ids_sorted:
        prefix_rows.append(prefix_rows[-1] + rows_by_batch[b])

    def rows_between(lo: int, hi: int) -> int:  # rows of batches with lo <= id <= hi
        return prefix_rows[bisect.bisect_right(ids_sorted, hi)] - prefix_rows[bisect.bisect_left(ids_sorted, lo)]

    problems = []
    prev_last = None
    prev_seq = None
    covered = 0
    for seq, first, last, rows in windows:
        inside = rows_between(first, last)
        if inside != rows:
            problems.append(f"window {seq}: batches {first}..{last} hold {inside} rows, the window says {rows}")
        if prev_last is not None:
            if first <= prev_last:
                problems.append(f"window {seq} starts at batch {first}, inside window {prev_seq} (…{prev_last})")
            gap = rows_between(prev_last + 1, first - 1)
            if gap:
                problems.append(f"{gap} rows in batches between window {prev_seq} (…{prev_last}) and {seq} ({first}…): in no window")
        if prev_seq is not None and seq != prev_seq + 1:
            problems.append(f"window seq {prev_seq} is followed by {seq}")
        covered += rows
        prev_last, prev_seq = last, seq
    before_first = rows_between(-1, windows[0][1] - 1) if windows else 0
    if before_first:
        problems.append(f"{before_first} rows in batches before the first window")
    open_rows = rows_between(-1 if prev_last is None else prev_last + 1, 1 << 62)

    outbox = collections.Counter()
    try:
        for key, state in con.execute("SELECT key, state FROM outbox WHERE model = ?", (model,)):
            notice = key.rsplit(":", 1)[-1] if key.startswith("alertmanager:episode:") else key.split(":", 1)[0]
            outbox[f"{notice}:{state}"] += 1
    except sqlite3.Error as e:
        outbox[f"error: {e}"] += 1
    con.close()
    return {
        "source": f"SQLite {path} (read-only, after a graceful stop): batches, batch_ids blobs, windows, outbox",
        "batches": len(batches), "batch_rows": sum(rows_by_batch.values()), "id_rows": id_rows,
        "acknowledged_batches": len(acked), "acknowledged_rows": acked_ids,
        "lost": lost, "lost_batches": lost_batches[:50], "duplicated": duplicated,
        "stored_not_acknowledged_batches": extra_batches[:50], "stored_not_acknowledged_count": len(extra_batches),
        "foreign_ids": foreign_ids, "batches_without_ids": batches_without_ids, "irregular_keys": keys_irregular,
        "windows": len(windows), "window_rows": covered, "open_window_rows": open_rows, "window_problems": problems[:50],
        "outbox_by_notice_state": dict(sorted(outbox.items())),
    }


def _seq_of(pid: str, prefix: str):
    if not pid.startswith(prefix):
        return None
    head = pid[len(prefix):].split("-", 1)[0]
    return int(head) if head.isdigit() else None
