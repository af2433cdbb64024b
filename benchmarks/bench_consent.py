"""Consent registry benchmarks (issue 3), on SQLite and PostgreSQL.

1. Import N consent events from CSV (validation, append, derived state, audit event) against a
   floor: the bare driver bulk insert of the same rows into a table with no index and no checks.
2. ``allowed()`` over M subject ids (cold: first check after a change; warm: the next batch of a
   pipeline) against a per-subject query loop (the same decision SQL, compiled once, one
   execution per id through the raw driver cursor: the fastest a loop can be), measured on a
   sample in the same run and scaled to M ids.
3. Point-check latency of ``allowed([id])`` (with its audit event) and ``explain(id)``.

Medians of ``--runs`` runs. Usage:

    .venv/bin/python benchmarks/bench_consent.py [--events 1000000] [--ids 1000000] [--runs 3]
        [--stores sqlite,postgresql] [--pg-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from omniguard.consent import notices, rules
from omniguard.consent.registry import ConsentRegistry
from omniguard.consent.synthetic import consent_events, member_id
from omniguard.workspace import Workspace

PURPOSE = "analytics"


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def pg_schema(base: str) -> tuple[str, str]:
    import psycopg

    schema = "bench_" + secrets.token_hex(4)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options=-csearch_path%3D{schema}"


def drop_schema(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def floor_insert(ws: Workspace, frame) -> float:
    """The same rows through the bare driver into an unindexed table: the cost of moving bytes."""
    cols = list(frame.columns)
    rows = list(frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None))
    t0 = time.perf_counter()
    with ws.store.write() as conn:
        conn.exec_driver_sql(f"CREATE TABLE floor_events ({', '.join(c + ' TEXT' for c in cols)})")
        if ws.store.dialect == "postgresql":
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"COPY floor_events ({', '.join(cols)}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)
        else:
            ws.store.insert_rows(conn, "floor_events", cols, rows)
    seconds = time.perf_counter() - t0
    with ws.store.write() as conn:
        conn.exec_driver_sql("DROP TABLE floor_events")
    return seconds


def loop_per_id(ws: Workspace, ids: list[str]) -> float:
    """Seconds per id of one decision query per subject (the same SQL as allowed())."""
    from sqlalchemy import bindparam

    from omniguard.config import iso_utc

    purpose = ws.policy.purpose(PURPOSE)
    now = iso_utc()
    src = rules.current_source(PURPOSE)
    q = rules.valid_ids(src, purpose, notices.fresh_from(ws.policy, PURPOSE, now), now).where(
        src.c.subject_id == bindparam("probe"))
    compiled = q.compile(dialect=ws.store.engine.dialect, compile_kwargs={"render_postcompile": True})
    sql, params = compiled.string, dict(compiled.params)
    positional = ws.store.dialect == "sqlite"
    order = list(compiled.positiontup or []) if positional else []
    with ws.store.engine.connect() as conn:
        cur = conn.connection.driver_connection.cursor()
        t0 = time.perf_counter()
        hits = 0
        for sid in ids:
            params["probe"] = sid
            cur.execute(sql, [params[k] for k in order] if positional else params)
            hits += cur.fetchone() is not None
        seconds = time.perf_counter() - t0
        cur.close()
    return seconds / len(ids)


def loop_per_id_core(ws: Workspace, ids: list[str]) -> float:
    """Seconds per id of the same decision query through SQLAlchemy Core, one execute per id:
    how a loop in this code base would be written."""
    from sqlalchemy import bindparam

    from omniguard.config import iso_utc

    purpose = ws.policy.purpose(PURPOSE)
    now = iso_utc()
    src = rules.current_source(PURPOSE)
    q = rules.valid_ids(src, purpose, notices.fresh_from(ws.policy, PURPOSE, now), now).where(
        src.c.subject_id == bindparam("probe"))
    with ws.store.read() as conn:
        t0 = time.perf_counter()
        for sid in ids:
            conn.execute(q, {"probe": sid}).first()
        return (time.perf_counter() - t0) / len(ids)


def run_store(store: str, args, csv: Path, frame, work: Path) -> dict:
    out: dict = {"store": store}
    import_times, schemas = [], []
    ws = None
    for run in range(args.runs):
        if ws is not None:
            ws.close()
        url = None
        if store == "postgresql":
            schema, url = pg_schema(args.pg_url)
            schemas.append(schema)
        root = work / f"{store}-{run}"
        shutil.rmtree(root, ignore_errors=True)
        ws = Workspace.init(root, actor="bench@local", store_url=url)
        gc.collect()
        t0 = time.perf_counter()
        rep = ws.consent.import_file(csv)
        import_times.append(time.perf_counter() - t0)
        assert rep.imported == len(frame)
        print(f"[{store}] import run {run + 1}: {import_times[-1]:.1f} s", file=sys.stderr)
    out["import_s"] = [round(x, 2) for x in import_times]
    out["import_median_s"] = round(median(import_times), 2)
    out["import_events_per_s"] = round(len(frame) / median(import_times))
    floor = [floor_insert(ws, frame) for _ in range(args.runs)]
    out["floor_insert_median_s"] = round(median(floor), 2)
    out["import_vs_floor"] = round(median(import_times) / median(floor), 2)

    ids = list(member_id(np.arange(args.ids)))
    rng = np.random.default_rng(1)
    rng.shuffle(ids)
    series = pd.Series(ids)  # a DataFrame column of ids: Arrow-backed text in pandas 3
    kinds = [f"{form}_{state}{suffix}" for form in ("list", "series") for state in ("cold", "warm")
             for suffix in ("", "_unaudited")]
    timings: dict[str, list[float]] = {k: [] for k in [*kinds, "digest"]}
    for _ in range(args.runs):
        for form, given in (("list", ids), ("series", series)):
            for record in (True, False):
                suffix = "" if record else "_unaudited"
                ws.consent.checker.forget()  # cold: as after a consent change
                t0 = time.perf_counter()
                mask = ws.consent.allowed(given, PURPOSE, record=record)
                timings[f"{form}_cold{suffix}"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                mask2 = ws.consent.allowed(given, PURPOSE, record=record)
                timings[f"{form}_warm{suffix}"].append(time.perf_counter() - t0)
                assert (mask == mask2).all()
        t0 = time.perf_counter()
        ws.audit.subjects_digest(series)
        timings["digest"].append(time.perf_counter() - t0)
    out["allowed_ids"] = len(ids)
    out["allowed_true"] = int(mask.sum())
    for k, xs in timings.items():
        out[f"allowed_{k}_median_s"] = round(median(xs), 3)
    sample = ids[: args.loop_sample]
    per_id = [loop_per_id(ws, sample) for _ in range(args.runs)]
    per_id_core = [loop_per_id_core(ws, sample[: args.loop_sample // 4]) for _ in range(args.runs)]
    loop_total = median(per_id) * len(ids)
    out["loop_sample"] = len(sample)
    out["loop_raw_driver_per_id_us"] = round(median(per_id) * 1e6, 1)
    out["loop_raw_driver_scaled_s"] = round(loop_total, 1)
    out["loop_sqlalchemy_per_id_us"] = round(median(per_id_core) * 1e6, 1)
    out["loop_sqlalchemy_scaled_s"] = round(median(per_id_core) * len(ids), 1)
    for k in kinds:
        t = median(timings[k])
        if k.endswith("_unaudited"):
            out[f"speedup_{k}_vs_raw_loop"] = round(loop_total / t, 1)
        else:  # a loop that wrote the same one audit event would pay the same digest
            out[f"speedup_{k}_vs_raw_loop_plus_digest"] = round((loop_total + median(timings["digest"])) / t, 1)
    # Sanity: the loop and the batch agree on the sample.
    assert int(ws.consent.allowed(sample, PURPOSE, record=False).sum()) == int(mask[: len(sample)].sum())

    fresh = ConsentRegistry(ws)  # a registry with nothing cached, as a service answering one request
    point, explain = [], []
    probe = ids[: args.points]
    for sid in probe:
        t0 = time.perf_counter()
        fresh.allowed([sid], PURPOSE)
        point.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        fresh.explain(sid, PURPOSE)
        explain.append(time.perf_counter() - t0)
    out["point_checks"] = len(probe)
    for name, xs in (("point_allowed", point), ("point_explain", explain)):
        out[f"{name}_p50_ms"] = round(float(np.percentile(xs, 50)) * 1e3, 2)
        out[f"{name}_p99_ms"] = round(float(np.percentile(xs, 99)) * 1e3, 2)
    ws.close()
    for schema in schemas:
        drop_schema(args.pg_url, schema)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--ids", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--loop-sample", type=int, default=20_000)
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--stores", default="sqlite,postgresql")
    ap.add_argument("--pg-url", default=os.environ.get("OMNIGUARD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-consent-"))
    try:
        frame = consent_events(args.events, n_subjects=args.events // 2, seed=42)
        csv = work / "events.csv"
        frame.to_csv(csv, index=False)
        results = {"events": args.events, "subjects": args.events // 2, "runs": args.runs,
                   "csv_mb": round(csv.stat().st_size / 2**20, 1), "cpus": os.cpu_count(),
                   "load_avg_at_start": os.getloadavg()[0], "stores": []}
        for store in args.stores.split(","):
            results["stores"].append(run_store(store.strip(), args, csv, frame, work))
        results["load_avg_at_end"] = os.getloadavg()[0]
        print(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
