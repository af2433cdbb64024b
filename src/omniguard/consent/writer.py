"""Appending consent events and keeping the current state in step, in the caller's transaction.

One path for one event and for a million: insert the events, find in the batch (columnar, numpy)
the last event per purpose, subject and facet, by time then by order of recording, and merge those
rows into the state with ``INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE newer``. The SQL
is the same on SQLite (>= 3.35) and PostgreSQL but for how the batch's event ids are passed.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, text

from omniguard.config import iso_utc
from omniguard.consent.model import CONSENT_ACTIONS, OPT_ACTIONS, adult_from_ages, adult_from_births
from omniguard.consent.tables import consent_batches
from omniguard.store import Store

EVENT_COLUMNS = (
    "event_id", "batch", "subject_id", "purpose", "action", "ts", "notice_id", "notice_version", "separate",
    "guardian_ref", "channel", "expires_at", "birth_date", "age", "evidence",
)
_COPY_MIN_ROWS = 2000
_BULK_ROWS = 50_000
_BULK_CACHE_KIB = 256 * 1024

# The rows just appended that are the last of their (purpose, subject, facet) in the batch, found
# by :func:`_winners`, merged into the state when newer than what it holds (ties: the later append).
# Found by seq (the primary key) when the batch got consecutive seqs, as it does under the write
# lock; by event id otherwise.
_FROM_IDS = {
    ("sqlite", "seq"): "FROM json_each(:ids) AS j JOIN consent_events AS e ON e.seq = j.value",
    ("sqlite", "event_id"): "FROM json_each(:ids) AS j JOIN consent_events AS e ON e.event_id = j.value",
    ("postgresql", "seq"): "FROM unnest(CAST(:ids AS bigint[])) AS j(value) JOIN consent_events AS e ON e.seq = j.value",
    ("postgresql", "event_id"):
        "FROM unnest(CAST(:ids AS text[])) AS j(value) JOIN consent_events AS e ON e.event_id = j.value",
}

_CONSENT_FACET = """
INSERT INTO consent_state (purpose, subject_id, status, event_id, ts, notice_id, notice_version, separate,
                           guardian_ref, channel, expires_at)
SELECT e.purpose, e.subject_id,
       CASE e.action WHEN 'grant' THEN 'granted' WHEN 'withdraw' THEN 'withdrawn' ELSE 'expired' END,
       e.event_id, e.ts, e.notice_id, e.notice_version, e.separate, e.guardian_ref, e.channel, e.expires_at
{source} WHERE 1 = 1
ON CONFLICT (purpose, subject_id) DO UPDATE SET
  status = excluded.status, event_id = excluded.event_id, ts = excluded.ts, notice_id = excluded.notice_id,
  notice_version = excluded.notice_version, separate = excluded.separate, guardian_ref = excluded.guardian_ref,
  channel = excluded.channel, expires_at = excluded.expires_at
WHERE consent_state.ts IS NULL OR excluded.ts >= consent_state.ts
"""

_OPT_FACET = """
INSERT INTO consent_state (purpose, subject_id, opted_out, opt_event_id, opt_ts)
SELECT e.purpose, e.subject_id, e.action = 'opt_out', e.event_id, e.ts
{source} WHERE 1 = 1
ON CONFLICT (purpose, subject_id) DO UPDATE SET
  opted_out = excluded.opted_out, opt_event_id = excluded.opt_event_id, opt_ts = excluded.opt_ts
WHERE consent_state.opt_ts IS NULL OR excluded.opt_ts >= consent_state.opt_ts
"""

# What we know of a subject's age: a correction beats a stated birth date beats a stated age;
# among equals the later statement wins.
_RANK = "CASE {t}.source WHEN 'correction' THEN 3 WHEN 'birth_date' THEN 2 ELSE 1 END"
_SUBJECTS = f"""
INSERT INTO consent_subjects (subject_id, birth_date, adult_from, source, updated_at)
VALUES (:subject_id, :birth_date, :adult_from, :source, :updated_at)
ON CONFLICT (subject_id) DO UPDATE SET birth_date = excluded.birth_date, adult_from = excluded.adult_from,
  source = excluded.source, updated_at = excluded.updated_at
WHERE {_RANK.format(t="excluded")} >= {_RANK.format(t="consent_subjects")}
"""
SOURCE_RANK = {"age": 1, "birth_date": 2, "correction": 3}


@dataclass(frozen=True)
class BatchWritten:
    batch: int
    events: int
    first_seq: int
    last_seq: int


def bump_state_version(conn: Connection) -> None:
    conn.execute(text("UPDATE consent_meta SET value = value + 1 WHERE name = 'state'"))


def write_events(store: Store, conn: Connection, events: pd.DataFrame, *, actor: str, source: str) -> BatchWritten:
    """Append validated events (columns of :data:`EVENT_COLUMNS` but ``batch``; ``ts`` in
    ``iso_utc`` text) and update state and subject ages. Call inside ``store.write()``."""
    now = iso_utc()
    res = conn.execute(consent_batches.insert().values(recorded_at=now, actor=actor, source=source,
                                                       events=len(events)))
    batch = int(res.inserted_primary_key[0])
    lo = int(conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM consent_events")).scalar_one())
    frame = events.assign(batch=batch)[list(EVENT_COLUMNS)]
    with _bulk(store, conn, len(frame), lo):
        _insert(store, conn, frame)
        hi = int(conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM consent_events")).scalar_one())
        by = "seq" if hi - lo == len(frame) else "event_id"
        for sql, actions in ((_CONSENT_FACET, CONSENT_ACTIONS), (_OPT_FACET, OPT_ACTIONS)):
            pos = _winners(frame, actions)
            if len(pos):
                ids = (pos + lo + 1).tolist() if by == "seq" else frame["event_id"].to_numpy(dtype=object)[pos].tolist()
                conn.execute(text(sql.format(source=_FROM_IDS[store.dialect, by])),
                             {"ids": json.dumps(ids) if store.dialect == "sqlite" else ids})
    _update_subjects(conn, frame, now)
    bump_state_version(conn)
    return BatchWritten(batch, len(frame), lo + 1, hi)


@contextlib.contextmanager
def _bulk(store: Store, conn: Connection, rows: int, existing: int) -> Iterator[None]:
    """Bulk loading: more sort and cache memory while the batch is written and, when the batch
    outnumbers the rows already stored, the subject index built once afterwards (a sorted build)
    instead of a million random-order insertions. All inside the caller's transaction."""
    if rows < _BULK_ROWS:
        yield
        return
    rebuild = rows > existing
    if store.dialect == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size = -{_BULK_CACHE_KIB}")
    else:  # transaction-scoped settings
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{_BULK_CACHE_KIB // 1024}MB'")
        conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{_BULK_CACHE_KIB // 1024}MB'")
    if rebuild:
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_consent_events_subject")
    try:
        yield
        if rebuild:
            conn.exec_driver_sql("CREATE INDEX ix_consent_events_subject ON consent_events (subject_id)")
    finally:
        if store.dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size = -2000")


def _insert(store: Store, conn: Connection, frame: pd.DataFrame) -> None:
    if store.dialect == "postgresql" and len(frame) >= _COPY_MIN_ROWS:
        buf = io.BytesIO()
        pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), buf,
                        pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        cols = ", ".join(EVENT_COLUMNS)
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY consent_events ({cols}) FROM STDIN (FORMAT csv)") as cp:
            cp.write(buf.getbuffer())
        return
    columns = [_plain_column(frame[c]) for c in EVENT_COLUMNS]
    store.insert_rows(conn, "consent_events", EVENT_COLUMNS, list(zip(*columns, strict=True)))


def _winners(frame: pd.DataFrame, actions: tuple[str, ...]) -> np.ndarray:
    """Positions in ``frame`` of the last event (by time, then by position) of each (purpose,
    subject) among ``actions``, in key order so the state's primary key is filled in sequence.
    One Arrow sort on (purpose, subject, time, position): half the time of factorising the keys."""
    where = np.flatnonzero(frame["action"].isin(actions).to_numpy())
    sub = frame.iloc[where]
    n = len(sub)
    if not n:
        return where
    ts = pc.cast(pa.array(sub["ts"], type=pa.string()), pa.timestamp("us", tz="UTC")).cast(pa.int64())
    keys = pa.table({"p": pa.array(sub["purpose"], type=pa.string()),
                     "s": pa.array(sub["subject_id"], type=pa.string()), "t": ts, "i": pa.array(np.arange(n))})
    order = pc.sort_indices(keys, sort_keys=[(c, "ascending") for c in ("p", "s", "t", "i")])
    p, s = pc.take(keys["p"], order), pc.take(keys["s"], order)
    last = np.ones(n, dtype=bool)
    if n > 1:
        same = pc.and_(pc.equal(p.slice(1), p.slice(0, n - 1)), pc.equal(s.slice(1), s.slice(0, n - 1)))
        last[:-1] = ~same.to_numpy(zero_copy_only=False)
    return where[order.to_numpy()[last]]


def _plain_column(col: pd.Series) -> list[Any]:
    """A column as Python values with None for missing (what the driver binds)."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.tolist()
    return col.astype(object).where(col.notna(), None).tolist()


def _update_subjects(conn: Connection, frame: pd.DataFrame, now: str) -> None:
    known = frame[frame["birth_date"].notna() | frame["age"].notna()]
    if known.empty:
        return
    known = known.assign(order=range(len(known)))
    births = known["birth_date"].notna()
    adult = pd.Series(index=known.index, dtype=object)
    if births.any():
        adult[births] = adult_from_births(known.loc[births, "birth_date"])
    if (~births).any():
        adult[~births] = adult_from_ages(known.loc[~births, "age"], known.loc[~births, "ts"])
    known = known.assign(adult_from=adult, source=births.map({True: "birth_date", False: "age"}))
    known = known.assign(rank=known["source"].map(SOURCE_RANK))
    last = known.sort_values(["rank", "order"]).drop_duplicates("subject_id", keep="last")
    rows = [
        {"subject_id": r.subject_id, "birth_date": r.birth_date if isinstance(r.birth_date, str) else None,
         "adult_from": r.adult_from, "source": r.source, "updated_at": now}
        for r in last.itertuples(index=False)
    ]
    conn.execute(text(_SUBJECTS), rows)
