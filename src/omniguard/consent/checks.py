"""Batch and point consent checks: ``allowed()`` and ``explain()``.

``allowed()`` never loops over ids in Python or in SQL. For the current state it loads the
purpose's valid subjects once (one indexed range scan), keeps them in memory keyed by the store's
consent-state version (a counter every consent write bumps in its own transaction), and answers
with one Arrow hash-set membership test. The first check after a change pays the scan; the next
batches of a pipeline pay only the membership test and a one-row version read. Small batches with
nothing cached go to the database with ``IN (...)``. Checks "as of" a past instant derive the state
from the events recorded by then with a window query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, bindparam, select, text

from omniguard.config import iso_utc
from omniguard.consent import notices, rules
from omniguard.consent.model import check_subject, to_utc
from omniguard.consent.tables import consent_state, consent_subjects, consent_tombstones
from omniguard.policy import LegalBasis, Purpose

POINT_MAX = 2000  # below this, with nothing cached, ask the database for just these ids
_CHUNK = 500


@dataclass
class _ValidSet:
    """A purpose's subjects whose consent is valid apart from its end date, as of a state version,
    and the subset still live in ``[live_from, live_until)`` (until the next consent ends)."""

    version: int
    fresh: tuple[tuple[str, int | None], ...]
    ids: pa.Array
    expires: pa.Array
    live: pa.Array | None = None
    live_from: str = ""
    live_until: str | None = None
    members: frozenset[str] | None = None

    def live_at(self, when: str) -> pa.Array:
        if self.live is None or when < self.live_from or (self.live_until is not None and when >= self.live_until):
            ends_later = pc.greater(self.expires, pa.scalar(when))
            self.live = self.ids.filter(pc.fill_null(ends_later, True))
            upcoming = self.expires.filter(pc.fill_null(ends_later, False))
            self.live_from = when
            self.live_until = pc.min(upcoming).as_py() if len(upcoming) else None
            self.members = None
        return self.live

    def contains(self, arr: pa.Array, when: str) -> np.ndarray:
        live = self.live_at(when)
        if len(arr) > POINT_MAX:
            return _member(arr, live)
        if self.members is None:
            self.members = frozenset(live.to_pylist())
        return np.fromiter((x in self.members for x in arr.to_pylist()), dtype=bool, count=len(arr))


@dataclass(frozen=True)
class Decision:
    """Whether one subject's data may be used for one purpose, and why."""

    subject_id: str
    purpose: str
    allowed: bool
    code: str
    reason: str
    legal_basis: str
    at: str
    event: dict[str, Any] | None = None
    notice: str | None = None
    stale: bool | None = None
    stale_detail: str | None = None
    separate_required: bool = False
    separate: bool | None = None
    minor_at_grant: bool | None = None
    guardian: bool | None = None
    opted_out: bool = False
    expires_at: str | None = None
    erased: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def as_arrow(subject_ids: Any) -> pa.Array:
    """A list, numpy array or pandas Series of ids as an Arrow string array (None/NaN -> null)."""
    if isinstance(subject_ids, pa.ChunkedArray):
        subject_ids = subject_ids.combine_chunks()
    if isinstance(subject_ids, pa.Array):
        return subject_ids.cast(pa.string())
    if isinstance(subject_ids, list):
        try:
            return pa.array(subject_ids, type=pa.string())  # the common case: a list of str
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    s = subject_ids if isinstance(subject_ids, pd.Series) else pd.Series(
        subject_ids if isinstance(subject_ids, np.ndarray) else list(subject_ids), dtype=object)
    if not (pd.api.types.is_string_dtype(s.dtype) and s.dtype != object):
        s = s.astype("string")
    arr = pa.array(s, from_pandas=True)
    return (arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr).cast(pa.string())


def as_series(arr: pa.Array) -> pd.Series:
    """Arrow ids as a pandas text Series without copying (what the audit digest reads fastest)."""
    return pd.Series(pd.array(arr, dtype="str"), copy=False)


def tombstone_tag(key: bytes, subject_id: str) -> str:
    """Keyed 64-bit tag of an erased id. BLAKE2b (a keyed PRF) rather than HMAC-SM3 because a
    contract-basis check may hash millions of ids: ~1 us each against ~7. The audit log's
    HMAC-SM3 reference stays the canonical one; a false match needs a 2^-64 collision."""
    return hashlib.blake2b(subject_id.encode(), key=key, digest_size=8).hexdigest()


class Checker:
    def __init__(self, ws: Any):
        self.ws = ws
        self._tag_key = ws.derive_key("consent/tombstone-tag")
        self._cache: dict[str, _ValidSet] = {}
        self._point_sql: dict[tuple[str, Any], Any] = {}

    def forget(self) -> None:
        """Drop the in-memory valid sets (they also refresh by themselves after any change)."""
        self._cache.clear()

    def tag(self, subject_id: str) -> str:
        return tombstone_tag(self._tag_key, subject_id)

    # --- the batch check ---------------------------------------------------------------------

    def allowed(self, subject_ids: Any, purpose_id: str, at: Any = None) -> np.ndarray:
        purpose = self.ws.policy.purpose(purpose_id)
        arr = as_arrow(subject_ids)
        now = iso_utc()
        when = to_utc(at, what="at") if at is not None else now
        if purpose.legal_basis is not LegalBasis.consent:
            mask = ~self._erased(arr)
            if purpose.automated_decision:
                mask &= ~_member(arr, self._opted_out(purpose.id, when, now))
            return mask
        fresh = notices.fresh_from(self.ws.policy, purpose.id, when)
        if when < now:
            src = rules.as_of_source(purpose.id, when)
            with self.ws.store.read() as conn:
                ok = _column(conn, rules.valid_ids(src, purpose, fresh, when))
            return _member(arr, ok)
        with self.ws.store.read() as conn:
            version = _state_version(conn)
            cached = self._cache.get(purpose.id)
            key = tuple(sorted(fresh.items()))
            if cached is None or cached.version != version or cached.fresh != key:
                if len(arr) <= POINT_MAX:
                    return self._point(conn, arr, purpose, fresh, when)
                cached = self._load(conn, purpose, fresh, version)
        return cached.contains(arr, when)

    def _load(self, conn: Connection, purpose: Purpose, fresh: dict[str, int | None], version: int) -> _ValidSet:
        src = rules.current_source(purpose.id)
        rows = _fetch(conn, rules.valid_ids(src, purpose, fresh, None))
        ids = pa.array([r[0] for r in rows], type=pa.string())
        expires = pa.array([r[1] for r in rows], type=pa.string())
        vs = _ValidSet(version, tuple(sorted(fresh.items())), ids, expires)
        self._cache[purpose.id] = vs
        return vs

    def _point(self, conn: Connection, arr: pa.Array, purpose: Purpose, fresh: dict[str, int | None],
               when: str) -> np.ndarray:
        """Ask the database for just these ids (one statement per purpose and notice set, reused)."""
        key = (purpose.id, tuple(sorted(fresh.items())))
        stmt = self._point_sql.get(key)
        if stmt is None:
            src = rules.current_source(purpose.id)
            stmt = rules.valid_ids(src, purpose, fresh, bindparam("at")).where(
                src.c.subject_id.in_(bindparam("ids", expanding=True)))
            self._point_sql[key] = stmt
        wanted = pc.unique(arr.drop_null()).to_pylist()
        found: set[str] = set()
        for i in range(0, len(wanted), _CHUNK):
            found.update(r[0] for r in conn.execute(stmt, {"at": when, "ids": wanted[i:i + _CHUNK]}))
        return np.fromiter((x in found for x in arr.to_pylist()), dtype=bool, count=len(arr))

    def _opted_out(self, purpose_id: str, when: str, now: str) -> pa.Array:
        with self.ws.store.read() as conn:
            if when < now:
                src = rules.as_of_source(purpose_id, when)
                return _column(conn, select(src.c.subject_id).where(src.c.opted_out == True))  # noqa: E712
            st = consent_state
            return _column(conn, select(st.c.subject_id).where(st.c.purpose == purpose_id,
                                                                st.c.opted_out == True))  # noqa: E712

    def _erased(self, arr: pa.Array) -> np.ndarray:
        with self.ws.store.read() as conn:
            tags = [r[0] for r in conn.execute(select(consent_tombstones.c.tag)
                                               .where(consent_tombstones.c.readmitted_at.is_(None)))]
        if not tags:
            return np.zeros(len(arr), dtype=bool)
        wanted = pc.unique(arr.drop_null()).to_pylist()
        tagset = set(tags)
        hit = [s for s in wanted if tombstone_tag(self._tag_key, s) in tagset]
        return _member(arr, pa.array(hit, type=pa.string()))

    # --- one subject, with reasons --------------------------------------------------------------

    def explain(self, subject_id: str, purpose_id: str, at: Any = None) -> Decision:
        purpose = self.ws.policy.purpose(purpose_id)
        sid = check_subject(subject_id)
        now = iso_utc()
        when = to_utc(at, what="at") if at is not None else now
        ref = self.ws.audit.subject_ref(sid)
        base = {"subject_id": sid, "purpose": purpose.id, "legal_basis": purpose.legal_basis.value, "at": when,
                "separate_required": purpose.separate_consent}
        with self.ws.store.read() as conn:
            tomb = conn.execute(select(consent_tombstones.c.erased_at, consent_tombstones.c.readmitted_at)
                                .where(consent_tombstones.c.subject_ref == ref)).first()
            erased = tomb is not None and tomb.readmitted_at is None
            src = rules.as_of_source(purpose.id, when) if when < now else rules.current_source(purpose.id)
            fresh = notices.fresh_from(self.ws.policy, purpose.id, when)
            row = conn.execute(
                rules.decided(src, purpose, fresh, when, *src.c, consent_subjects.c.adult_from)
                .where(src.c.subject_id == sid)).mappings().first()
        opted = bool(row and row["opted_out"]) and purpose.automated_decision
        if purpose.legal_basis is not LegalBasis.consent:
            code = "erased" if erased else "opted_out" if opted else "not_required"
            return Decision(allowed=code == "not_required", code=code, reason=_reason(code, purpose), erased=erased,
                            opted_out=opted, **base)
        if row is None:
            code = "erased" if tomb is not None else "no_consent"
            return Decision(allowed=False, code=code, reason=_reason(code, purpose), erased=tomb is not None, **base)
        return self._described(row, purpose, when, base, erased, opted)

    def _described(self, row: Any, purpose: Purpose, when: str, base: dict[str, Any], erased: bool,
                   opted: bool) -> Decision:
        code = row["reason"]
        has_consent = row["status"] is not None
        stale_detail = None
        if has_consent:
            stale_detail = notices.stale_reason(self.ws.policy, purpose.id, row["notice_id"], row["notice_version"],
                                                when)
        minor = None
        if has_consent:
            minor = row["adult_from"] is not None and row["ts"] < row["adult_from"]
        reason = _reason(code, purpose)
        if code == "stale" and stale_detail:
            reason += f" ({stale_detail})"
        if code == "expired" and row["expires_at"]:
            reason += f" (end of term {row['expires_at']})"
        event = None
        if has_consent:
            event = {"event_id": row["event_id"], "status": row["status"], "ts": row["ts"], "channel": row["channel"]}
        if opted:
            event = {**(event or {}), "opt_out_event_id": row["opt_event_id"], "opt_out_ts": row["opt_ts"]}
        return Decision(
            allowed=code == "ok", code=code, reason=reason, event=event,
            notice=f"{row['notice_id']}@{row['notice_version']}" if row["notice_id"] else None,
            stale=(stale_detail is not None) if has_consent else None, stale_detail=stale_detail,
            separate=bool(row["separate"]) if has_consent else None, minor_at_grant=minor,
            guardian=bool(row["guardian_ref"]) if has_consent else None, opted_out=opted,
            expires_at=row["expires_at"], erased=erased, **base)


def _reason(code: str, purpose: Purpose) -> str:
    if code == "not_required":
        return f"legal basis {purpose.legal_basis.value} (PIPL Art. 13(1) 2-7): no consent needed"
    return rules.REASONS[code]


def _state_version(conn: Connection) -> int:
    return int(conn.execute(text("SELECT value FROM consent_meta WHERE name = 'state'")).scalar_one())


def _fetch(conn: Connection, query: Any) -> list[tuple[Any, ...]]:
    """All rows of a SELECT through the driver's own cursor, in the connection's transaction:
    SQLAlchemy's row objects cost more than the query when a purpose has a million subjects."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    args = [params[k] for k in compiled.positiontup] if compiled.positiontup is not None else params
    cur = conn.connection.driver_connection.cursor()
    try:
        cur.execute(compiled.string, args)
        return cur.fetchall()
    finally:
        cur.close()


def _column(conn: Connection, query: Any) -> pa.Array:
    return pa.array([r[0] for r in _fetch(conn, query)], type=pa.string())


def _member(arr: pa.Array, value_set: pa.Array | Iterable[str]) -> np.ndarray:
    if not isinstance(value_set, pa.Array):
        value_set = pa.array(list(value_set), type=pa.string())
    if len(value_set) == 0 or len(arr) == 0:
        return np.zeros(len(arr), dtype=bool)
    hit = pc.is_in(arr, value_set=value_set)
    return pc.fill_null(hit, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)
