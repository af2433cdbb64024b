"""The guard end to end: 1,000,000 rows x 25 columns against 1,000,000 consent states, in rows/s,
against reading the same file alone in the same run.

    .venv/bin/python benchmarks/bench_guard.py [--rows 1000000] [--runs 3]

Setup (not timed): a workspace on SQLite, ~1,000,000 consent states imported from synthetic
histories, a customer table (24 columns from omniguard.synth plus the member id) written as
Parquet and CSV, scanned once into the inventory (the guard's first-sight scan is excluded; it is
~1 s and happens once per dataset). Timed, per run, interleaved: read alone; read + guard;
read + guard + write. The guard runs as the marketing role for personalised marketing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def setup(root: Path, rows: int) -> tuple[object, Path, Path]:
    from omniguard.consent.synthetic import consent_events, member_id
    from omniguard.synth.retail import generate_customers
    from omniguard.workspace import Workspace

    ws = Workspace.init(root / "ws", actor="bench@local")
    ws.audit.checkpoint_every = 0
    t = time.perf_counter()
    events = consent_events(int(rows * 1.3), n_subjects=rows // 2, seed=11)
    csv = root / "consent.csv"
    events.to_csv(csv, index=False)
    rep = ws.consent.import_file(csv)
    print(f"setup: imported {len(events)} consent events in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    df = generate_customers(rows, seed=3).drop(columns=["score_pair"])
    rng = np.random.default_rng(5)
    df.insert(0, "member_id", member_id(rng.integers(0, rows // 2, rows)))
    pq, cs = root / "customers.parquet", root / "customers.csv"
    df.to_parquet(pq, index=False)
    df.to_csv(cs, index=False)
    from omniguard.classify import classify_frame

    res = classify_frame(df, ws.policy)
    ws.inventory.save(res, dataset="customers", source="parquet")
    del df
    return ws, pq, cs, getattr(rep, "to_dict", lambda: {})()


def states(ws) -> int:
    with ws.store.read() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM consent_state").scalar())


def run(ws, path: Path, runs: int) -> dict:
    from omniguard.tabular import read_table, write_table

    read_s, guard_s, total_s, write_s, laps = [], [], [], [], []
    out = path.with_name("out" + path.suffix)
    for _ in range(runs):
        t = time.perf_counter()
        df = read_table(path)
        read_s.append(time.perf_counter() - t)
        del df
        t = time.perf_counter()
        df = read_table(path)
        t_read = time.perf_counter() - t
        t = time.perf_counter()
        res = ws.guard.run(df, purpose="personalised_marketing", actor="bench", role="marketing",
                           subject_column="member_id", dataset="customers")
        guard_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        write_table(res.frame, out)
        write_s.append(time.perf_counter() - t)
        total_s.append(t_read + guard_s[-1])
        laps.append(res.timings)
        rows_in, rows_out = res.rows_in, res.rows_out
        del df, res
    r, g, tot, w = (statistics.median(x) for x in (read_s, guard_s, total_s, write_s))
    return {"file": path.suffix.lstrip("."), "rows_in": rows_in, "rows_out": rows_out, "runs": runs,
            "read_s": round(r, 2), "guard_s": round(g, 2), "read_plus_guard_s": round(tot, 2),
            "write_s": round(w, 2), "end_to_end_rows_per_s": round(rows_in / tot),
            "guard_only_rows_per_s": round(rows_in / g), "read_only_rows_per_s": round(rows_in / r),
            "guard_vs_read": round(g / r, 2),
            "stages_s_median": {k: round(statistics.median(lp.get(k, 0) for lp in laps), 2) for k in laps[0]}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        ws, pq, cs, _ = setup(Path(d), args.rows)
        out = {"rows": args.rows, "consent_states": states(ws), "cpus": os.cpu_count(),
               "load_avg_start": os.getloadavg()[0], "results": []}
        for path in (pq, cs):
            out["results"].append(run(ws, path, args.runs))
            print(json.dumps(out["results"][-1]), file=sys.stderr)
        out["load_avg_end"] = os.getloadavg()[0]
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
