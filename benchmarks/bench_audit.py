"""Audit log throughput: batched appends with the SM3 chain against the same inserts without it,
on SQLite and PostgreSQL, and chain verification of 1,000,000 events against a plain read.

    .venv/bin/python benchmarks/bench_audit.py [--events 200000] [--verify-events 1000000] [--runs 3]

PostgreSQL is measured when OMNIGUARD_TEST_PG_URL is set (a private schema is created and dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from omniguard.audit.chain import canonical
from omniguard.config import iso_utc
from omniguard.workspace import Workspace


def events(n: int):
    for i in range(n):
        yield {"action": "read", "actor": f"pipeline-{i % 7}@retailer", "role": "data_engineer",
               "purpose": "analytics", "dataset": "pos/tickets.parquet", "columns": ["store", "amount"],
               "rows": 500 + i % 100, "decision": "allow", "details": {"batch": i}}


def append_without_chain(ws: Workspace, n: int, batch: int) -> None:
    """The same event building, canonical encoding and inserts as record_many, minus the chain
    (no head read, no SM3; constant link columns)."""
    audit, store = ws.audit, ws.store
    with store.read() as c:
        seq = c.exec_driver_sql("SELECT coalesce(max(seq), 0) FROM audit_events").scalar()
    zero = bytes(32)
    buf = []
    for spec in events(n):
        spec = dict(spec)
        buf.append(audit.event(spec.pop("action"), **spec))
        if len(buf) >= batch:
            with store.write() as conn:
                ts = iso_utc()
                rows = []
                for ev in buf:
                    seq += 1
                    rows.append((seq, canonical({**ev, "seq": seq, "ts": ts}).decode(), zero, zero))
                store.insert_rows(conn, "audit_events", ("seq", "body", "prev_hash", "hash"), rows)
            buf.clear()


def fresh_workspace(kind: str, tmp: Path) -> tuple[Workspace, callable]:
    name = f"ws-{secrets.token_hex(3)}"
    if kind == "sqlite":
        ws = Workspace.init(tmp / name, actor="bench@local")
        ws.audit.checkpoint_every = 0
        return ws, ws.close
    import psycopg

    base = os.environ["OMNIGUARD_TEST_PG_URL"]
    schema = "bench_" + secrets.token_hex(4)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    ws = Workspace.init(tmp / name, actor="bench@local", store_url=f"{base}{sep}options=-csearch_path%3D{schema}")
    ws.audit.checkpoint_every = 0

    def cleanup():
        ws.close()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")

    return ws, cleanup


def bench_append(kind: str, n: int, runs: int, batch: int, tmp: Path) -> dict:
    chained, plain = [], []
    for _ in range(runs):
        for label, target in (("plain", plain), ("chained", chained)):  # fresh store each, same order each run
            ws, cleanup = fresh_workspace(kind, tmp)
            t = time.perf_counter()
            if label == "plain":
                append_without_chain(ws, n, batch)
            else:
                ws.audit.record_many(events(n), batch_size=batch)
            target.append(time.perf_counter() - t)
            if label == "chained":
                assert ws.verify().ok
            cleanup()
    c, p = statistics.median(chained), statistics.median(plain)
    return {"store": kind, "events": n, "batch": batch, "runs": runs,
            "chained_events_per_s": round(n / c), "plain_events_per_s": round(n / p),
            "chain_overhead_pct": round(100 * (c / p - 1), 1),
            "chained_s_all": [round(x, 3) for x in chained], "plain_s_all": [round(x, 3) for x in plain]}


def bench_verify(kind: str, n: int, runs: int, tmp: Path) -> dict:
    ws, cleanup = fresh_workspace(kind, tmp)
    t = time.perf_counter()
    ws.audit.record_many(events(n - 1), batch_size=20000)
    build = time.perf_counter() - t
    verify_s, read_s = [], []
    for _ in range(runs):
        t = time.perf_counter()
        with ws.store.read() as conn:
            cur = conn.connection.dbapi_connection.cursor()
            cur.execute("SELECT seq, body, prev_hash, hash FROM audit_events ORDER BY seq")
            while cur.fetchmany(65536):
                pass
            cur.close()
        read_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        rep = ws.verify()
        verify_s.append(time.perf_counter() - t)
        assert rep.ok and rep.events == n
    cleanup()
    v, r = statistics.median(verify_s), statistics.median(read_s)
    return {"store": kind, "events": n, "runs": runs, "build_s": round(build, 1),
            "verify_events_per_s": round(n / v), "plain_read_events_per_s": round(n / r),
            "verify_vs_read": round(v / r, 2), "verify_s_all": [round(x, 3) for x in verify_s]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--verify-events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--stores", default="sqlite,postgresql")
    args = ap.parse_args()
    stores = [s for s in args.stores.split(",") if s == "sqlite" or os.environ.get("OMNIGUARD_TEST_PG_URL")]
    out = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "append": [], "verify": []}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for kind in stores:
            out["append"].append(bench_append(kind, args.events, args.runs, args.batch, tmp))
            print(json.dumps(out["append"][-1]), flush=True)
        for kind in stores:
            out["verify"].append(bench_verify(kind, args.verify_events, args.runs, tmp))
            print(json.dumps(out["verify"][-1]), flush=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
