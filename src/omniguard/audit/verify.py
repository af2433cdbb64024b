"""Verify the chain and the checkpoints; name the first damage and its kind.

The fast path streams ``(seq, body, prev_hash, hash)`` through one tight loop. Only when a link
breaks does it load the chain's shape (seqs and hashes, no bodies) to tell an edit from a deletion,
an insertion or a reordering.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from omniguard.audit.chain import GENESIS, link
from omniguard.audit.checkpoint import Checkpoint, stored_checkpoints
from omniguard.store import Store

KINDS = ("edited", "deleted", "inserted", "reordered", "truncated", "bad-signature")


@dataclasses.dataclass(frozen=True)
class Damage:
    seq: int
    kind: str
    detail: str


@dataclasses.dataclass
class VerifyReport:
    events: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS.hex()
    checkpoints_checked: int = 0
    signatures_checked: int = 0
    damage: list[Damage] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.damage

    @property
    def first(self) -> Damage | None:
        return min(self.damage, key=lambda d: d.seq) if self.damage else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "last_seq": self.last_seq,
            "last_hash": self.last_hash,
            "checkpoints_checked": self.checkpoints_checked,
            "signatures_checked": self.signatures_checked,
            "damage": [dataclasses.asdict(d) for d in sorted(self.damage, key=lambda d: d.seq)],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events / self.seconds) if self.seconds else None,
        }


def _chunks(store: Store, conn: Any, sql: str, size: int = 65536) -> Iterator[list[tuple]]:
    raw = conn.connection.dbapi_connection
    cur = raw.cursor(name="omniguard_verify") if store.dialect == "postgresql" else raw.cursor()
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(size):
            yield rows
    finally:
        cur.close()


def _walk(store: Store, progress: Callable[[int], None] | None) -> tuple[int, bytes, Damage | None]:
    """The hot loop. Returns (last good seq, its hash, the first break or None)."""
    if store.dialect == "sqlite":
        sql = "SELECT seq, CAST(body AS BLOB), prev_hash, hash FROM audit_events ORDER BY seq"
    else:
        sql = "SELECT seq, convert_to(body, 'UTF8'), prev_hash, hash FROM audit_events ORDER BY seq"
    expect, prev = 1, GENESIS
    with store.read() as conn:
        for rows in _chunks(store, conn, sql):
            for seq, body, ph, h in rows:
                if seq != expect or ph != prev or link(ph, body) != h:
                    return expect - 1, prev, _diagnose(store, seq, expect, prev, bytes(ph), bytes(h), bytes(body))
                prev = h
                expect += 1
            if progress:
                progress(expect - 1)
    return expect - 1, bytes(prev), None


PARALLEL_MIN_EVENTS = 100_000


def _walk_range(url: str, lo: int, hi: int) -> tuple[bytes, bytes, int, bool]:
    """Worker: check the links inside seq [lo, hi]. Returns (first prev_hash, last hash, last seq
    seen, intact). The parent stitches ranges together and re-walks serially on any doubt."""
    store = Store(url)
    try:
        cast = "CAST(body AS BLOB)" if store.dialect == "sqlite" else "convert_to(body, 'UTF8')"
        sql = f"SELECT seq, {cast}, prev_hash, hash FROM audit_events WHERE seq >= {int(lo)} AND seq <= {int(hi)} ORDER BY seq"
        expect, first, prev = lo, None, None
        with store.read() as conn:
            for rows in _chunks(store, conn, sql):
                for seq, body, ph, h in rows:
                    if first is None:
                        first = prev = bytes(ph)
                    if seq != expect or ph != prev or link(ph, body) != h:
                        return first or b"", b"", seq, False
                    prev = h
                    expect += 1
        return first or b"", bytes(prev or b""), expect - 1, expect - 1 == hi
    finally:
        store.dispose()


def _walk_parallel(store: Store, last_seq: int, workers: int) -> tuple[int, bytes] | None:
    """Verify ranges in worker processes (SM3 is the bottleneck and runs on every core). None
    when anything looks wrong: the caller then walks serially to name the damage precisely."""
    import concurrent.futures as cf
    import multiprocessing as mp

    parts = workers * 2
    bounds = [(1 + i * last_seq // parts, (i + 1) * last_seq // parts) for i in range(parts)]
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    store.engine.dispose()  # no pooled connection may be inherited by a forked worker
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(method)) as pool:
        results = list(pool.map(_walk_range, [store.url] * parts, *zip(*bounds, strict=True)))
    prev = GENESIS
    for (first, last, _seen, intact) in results:
        if not intact or first != prev:
            return None
        prev = last
    return last_seq, prev


def _shape(store: Store) -> tuple[list[int], list[bytes], list[bytes]]:
    with store.read() as conn:
        rows = conn.exec_driver_sql("SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq").all()
    return [int(r[0]) for r in rows], [bytes(r[1]) for r in rows], [bytes(r[2]) for r in rows]


def _diagnose(store: Store, seq: int, expect: int, prev: bytes, ph: bytes, h: bytes, body: bytes) -> Damage:
    if seq > expect:
        missing = f"seq {expect}" if seq == expect + 1 else f"seq {expect} to {seq - 1}"
        return Damage(expect, "deleted", f"{missing} missing from the log")
    seqs, prevs, hashes = _shape(store)
    pos = seqs.index(seq)
    where = {hh: s for s, hh in zip(seqs, hashes, strict=True)}
    nxt_prev = prevs[pos + 1] if pos + 1 < len(prevs) else None
    if ph != prev:
        if ph in where and where[ph] > seq:
            return Damage(seq, "reordered", f"the event at seq {seq} follows the event now at seq {where[ph]}")
        if pos >= 1 and ph == prevs[pos - 1]:
            return Damage(seq - 1, "inserted", f"seq {seq - 1} is not part of the chain: seq {seq} skips it")
        if ph not in where and ph != GENESIS:
            return Damage(seq, "deleted", f"the event before seq {seq} is missing (later events renumbered)")
        return Damage(seq, "edited", f"seq {seq}: prev_hash was changed")
    if link(ph, body) != h:
        if nxt_prev is not None and nxt_prev == prev and nxt_prev != h:
            return Damage(seq, "inserted", f"seq {seq} is not part of the chain: seq {seq + 1} skips it")
        return Damage(seq, "edited", f"seq {seq}: content does not match its hash")
    return Damage(seq, "edited", f"seq {seq}: chain link broken")


def verify_log(
    store: Store,
    *,
    workspace_id: str,
    public_key: bytes,
    external: Sequence[Checkpoint] = (),
    all_signatures: bool = False,
    progress: Callable[[int], None] | None = None,
    parallel: int | None = None,
) -> VerifyReport:
    """Check every link, every stored checkpoint's hash, the newest stored checkpoint's signature
    (all with ``all_signatures``) and each externally kept checkpoint. Large logs are walked by
    ``parallel`` worker processes (default: one per core)."""
    t0 = time.perf_counter()
    rep = VerifyReport()
    with store.read() as conn:
        count, last_seq = conn.exec_driver_sql("SELECT count(*), coalesce(max(seq), 0) FROM audit_events").one()
    workers = min(os.cpu_count() or 1, 8) if parallel is None else parallel
    fast = None
    if workers > 1 and last_seq >= PARALLEL_MIN_EVENTS and count == last_seq:
        fast = _walk_parallel(store, int(last_seq), workers)
    damage: Damage | None
    if fast is not None:
        good_hash, damage = fast[1], None
        if progress:
            progress(int(last_seq))
    else:
        _good_seq, good_hash, damage = _walk(store, progress)
    rep.events, rep.last_seq = int(count), int(last_seq)
    rep.last_hash = good_hash.hex() if damage is None else ""
    if damage:
        rep.damage.append(damage)

    stored = stored_checkpoints(store, workspace_id)
    to_check: list[tuple[Checkpoint, str]] = [(c, "stored") for c in stored] + [(c, "kept") for c in external]
    hashes_at = _hashes_at(store, {c.seq for c, _ in to_check if c.seq <= last_seq})
    newest_stored = stored[-1].seq if stored else None
    for cp, origin in to_check:
        rep.checkpoints_checked += 1
        check_sig = origin == "kept" or all_signatures or cp.seq == newest_stored
        if check_sig:
            rep.signatures_checked += 1
            if not cp.signature_valid(public_key) or (origin == "kept" and cp.workspace != workspace_id):
                why = "not signed by this workspace's audit key" if cp.workspace == workspace_id else \
                    "belongs to another workspace"
                rep.damage.append(Damage(cp.seq, "bad-signature", f"{origin} checkpoint at seq {cp.seq} {why}"))
                continue
        if cp.seq > last_seq:
            rep.damage.append(Damage(last_seq + 1, "truncated",
                                     f"the log ends at seq {last_seq} but a {origin} checkpoint vouches for seq {cp.seq}"))
        elif cp.seq in hashes_at and hashes_at[cp.seq].hex() != cp.hash.lower():
            rep.damage.append(Damage(cp.seq, "edited",
                                     f"the chain up to seq {cp.seq} differs from the {origin} checkpoint (rewritten)"))
    if stored and rep.ok and last_seq > stored[-1].seq:
        rep.warnings.append(f"{last_seq - stored[-1].seq} events after the newest checkpoint (seq {stored[-1].seq})")
    rep.seconds = time.perf_counter() - t0
    return rep


def _hashes_at(store: Store, seqs: set[int]) -> dict[int, bytes]:
    if not seqs:
        return {}
    out: dict[int, bytes] = {}
    ordered = sorted(seqs)
    with store.read() as conn:
        for i in range(0, len(ordered), 500):
            part = ordered[i:i + 500]
            marks = store.placeholders(len(part))
            for s, h in conn.exec_driver_sql(f"SELECT seq, hash FROM audit_events WHERE seq IN ({marks})", tuple(part)):
                out[int(s)] = bytes(h)
    return out
