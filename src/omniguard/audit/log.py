"""The audit log: one ``record()`` entry point for every module, batched appends for bulk work.

An event never holds a raw identifier or a personal value: subjects become a count plus a keyed
digest (HMAC-SM3 under a key derived from the master key), and a single subject a keyed reference
that a data-subject request can find again. Appends serialise on the store's writer lock, so
several processes produce one gap-free chain.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from omniguard.audit.chain import FORMAT_VERSION, GENESIS, canonical, link
from omniguard.audit.digest import set_bytes
from omniguard.audit.tables import audit_checkpoints, audit_events
from omniguard.config import iso_utc
from omniguard.crypto.sm3 import hmac_sm3
from omniguard.errors import InputError
from omniguard.store import Store

DECISIONS = ("allow", "deny", "partial", "info", "error")
MAX_BODY_BYTES = 16384
_TOP_FIELDS = (
    "actor", "role", "purpose", "legal_basis", "consent_ref", "dataset", "columns", "rows",
    "subjects", "subject_ref", "subjects_digest", "decision", "reason", "details",
)
_TOP_FIELD_SET = frozenset(_TOP_FIELDS)


@dataclasses.dataclass(frozen=True)
class AuditRecord:
    seq: int
    hash: str


def _tool() -> str:
    from omniguard import __version__

    return f"omniguard/{__version__}"


class AuditLog:
    def __init__(
        self,
        store: Store,
        *,
        digest_key: bytes,
        actor: str,
        role: str | None = None,
        policy_version: str = "",
        checkpointer: Callable[[], Any] | None = None,
        checkpoint_every: int = 0,
    ):
        self.store = store
        self._digest_key = digest_key
        self.actor = actor
        self.role = role
        self.policy_version = policy_version
        self._checkpointer = checkpointer
        self.checkpoint_every = checkpoint_every
        self._client = {"host": socket.gethostname(), "pid": os.getpid(), "tool": _tool()}

    def __repr__(self) -> str:
        return f"AuditLog({self.store!r})"

    # --- identifiers -> counts and keyed digests ---------------------------------------------

    def subject_ref(self, subject_id: str) -> str:
        """Keyed pseudonymous reference of one subject: lets a rights request find the events
        about a person without the log ever holding the id."""
        return "s:" + hmac_sm3(self._digest_key, b"subject\0" + str(subject_id).encode()).hex()[:32]

    def subjects_digest(self, subject_ids: Iterable[Any]) -> tuple[int, str]:
        """(count of distinct subjects, keyed digest of the set). Order and duplicates do not
        change the digest: the workspace can later show that a given list of ids is exactly the set
        an event touched, while the log itself never holds an id."""
        n, data = set_bytes(subject_ids)
        return n, "d:" + hmac_sm3(self._digest_key, b"set\0" + data).hex()[:32]

    # --- building events ---------------------------------------------------------------------

    def event(self, action: str, **fields: Any) -> dict[str, Any]:
        """A validated event body without ``seq`` and ``ts`` (the append assigns those).

        Fields: actor, role, purpose, legal_basis, consent_ref, dataset, columns, rows,
        subjects (one id as text, an iterable of ids: stored as count + digest, or a count that goes
        with a ``subjects_digest`` the caller computed), decision, reason,
        details (a small mapping of counts, ids of omniguard objects and settings, never personal
        values)."""
        unknown = fields.keys() - _TOP_FIELD_SET
        if unknown:
            raise TypeError(f"unknown audit fields: {', '.join(sorted(unknown))}")
        if not isinstance(action, str) or not action or len(action) > 64:
            raise InputError("an audit action is a short non-empty name such as 'read' or 'consent.grant'")
        decision = fields.get("decision") or "allow"
        if decision not in DECISIONS:
            raise InputError(f"audit decision must be one of {', '.join(DECISIONS)}")
        ev: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "action": action,
            "actor": fields.get("actor") or self.actor,
            "decision": decision,
            "client": self._client,
        }
        role = fields.get("role", self.role)
        if role:
            ev["role"] = role
        if self.policy_version:
            ev["policy_version"] = self.policy_version
        for k in ("purpose", "legal_basis", "consent_ref", "reason"):
            if fields.get(k):
                ev[k] = str(fields[k])
        resource: dict[str, Any] = {}
        if fields.get("dataset"):
            resource["dataset"] = str(fields["dataset"])
        if fields.get("columns"):
            resource["columns"] = [str(c) for c in fields["columns"]]
        if resource:
            ev["resource"] = resource
        if fields.get("rows") is not None:
            ev["rows"] = int(fields["rows"])
        subjects = fields.get("subjects")
        if subjects is not None:
            if isinstance(subjects, bool):
                raise InputError("audit subjects: give ids or a count, not a flag")
            if isinstance(subjects, int):  # a count computed by the caller (with its subjects_digest)
                ev["subjects"] = subjects
            elif isinstance(subjects, str):
                ev["subjects"] = 1
                ev["subject_ref"] = self.subject_ref(subjects)
            else:
                ev["subjects"], ev["subjects_digest"] = self.subjects_digest(subjects)
        elif fields.get("subject_ref"):
            ev["subject_ref"] = str(fields["subject_ref"])
        if fields.get("subjects_digest"):
            ev["subjects_digest"] = str(fields["subjects_digest"])
        details = fields.get("details")
        if details:
            if not isinstance(details, Mapping):
                raise InputError("audit details must be a mapping")
            ev["details"] = _plain(details)
        return ev

    # --- appending -----------------------------------------------------------------------------

    def head(self, conn: Connection | None = None) -> tuple[int, bytes]:
        """(last seq, last hash); (0, GENESIS) for an empty log."""
        if conn is None:
            with self.store.read() as c:
                return self.head(c)
        row = conn.execute(
            select(audit_events.c.seq, audit_events.c.hash).order_by(audit_events.c.seq.desc()).limit(1)
        ).first()
        return (0, GENESIS) if row is None else (int(row[0]), bytes(row[1]))

    def _append(self, conn: Connection, bodies: Sequence[dict[str, Any]]) -> AuditRecord:
        """Chain and insert ``bodies``; returns the record of the last one."""
        seq, prev = self.head(conn)
        ts = iso_utc()
        rows = []
        for ev in bodies:
            seq += 1
            body = canonical({**ev, "seq": seq, "ts": ts})
            if len(body) > MAX_BODY_BYTES:
                raise InputError(f"audit event too large ({len(body)} bytes); keep details to counts and ids")
            h = link(prev, body)
            rows.append((seq, body.decode(), prev, h))
            prev = h
        self.store.insert_rows(conn, "audit_events", ("seq", "body", "prev_hash", "hash"), rows)
        return AuditRecord(seq, prev.hex())

    def record(self, action: str, *, conn: Connection | None = None, **fields: Any) -> AuditRecord:
        """Append one event. Pass ``conn`` (from ``store.write()``) to make the event part of the
        caller's transaction: the event and the change it describes commit or vanish together."""
        ev = self.event(action, **fields)
        if conn is not None:
            return self._append(conn, [ev])
        with self.store.write() as c:
            rec = self._append(c, [ev])
        self._maybe_checkpoint()
        return rec

    def record_many(
        self,
        events: Iterable[Mapping[str, Any]],
        *,
        batch_size: int = 10000,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Append many events, one transaction per batch: a crash loses at most the batch in
        flight, never part of one. Each mapping is ``{"action": ..., **fields}``."""
        total = 0
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            nonlocal total
            with self.store.write() as c:
                self._append(c, batch)
            total += len(batch)
            batch.clear()
            if progress:
                progress(total)
            self._maybe_checkpoint()

        for spec in events:
            spec = dict(spec)
            batch.append(self.event(spec.pop("action"), **spec))
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        return total

    def _maybe_checkpoint(self) -> None:
        if not self._checkpointer or self.checkpoint_every <= 0:
            return
        with self.store.read() as c:
            last_cp = c.execute(select(func.max(audit_checkpoints.c.seq))).scalar() or 0
            seq, _ = self.head(c)
        if seq - last_cp >= self.checkpoint_every:
            self._checkpointer()

    # --- reading -------------------------------------------------------------------------------

    def query(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        purpose: str | None = None,
        dataset: str | None = None,
        decision: str | None = None,
        since: str | None = None,
        until: str | None = None,
        subject_ref: str | None = None,
        limit: int | None = None,
        descending: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Events matching every given filter, with ``hash`` added. ``action`` ending in ``*``
        matches a prefix (``consent.*``); times compare as ISO-8601 UTC text."""
        conds: list[str] = []
        params: list[Any] = []

        def field(path: str) -> str:
            return _json_text(self.store.dialect, path)

        mark = "?" if self.store.dialect == "sqlite" else "%s"
        for path, value in (("actor", actor), ("purpose", purpose), ("resource.dataset", dataset),
                            ("decision", decision)):
            if value:
                conds.append(f"{field(path)} = {mark}")
                params.append(value)
        if action:
            if action.endswith("*"):
                conds.append(f"{field('action')} LIKE {mark}")
                params.append(action[:-1].replace("%", r"\%").replace("_", r"\_") + "%")
                if self.store.dialect == "sqlite":
                    conds[-1] += " ESCAPE '\\'"
            else:
                conds.append(f"{field('action')} = {mark}")
                params.append(action)
        if since:
            conds.append(f"{field('ts')} >= {mark}")
            params.append(since)
        if until:
            conds.append(f"{field('ts')} < {mark}")
            params.append(until)
        if subject_ref:
            conds.append(f"{'instr(body, ' + mark + ') > 0' if self.store.dialect == 'sqlite' else 'strpos(body, ' + mark + ') > 0'}")
            params.append(subject_ref)
        sql = "SELECT body, hash FROM audit_events"
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        sql += " ORDER BY seq" + (" DESC" if descending else "")
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.store.read() as conn:
            result = conn.exec_driver_sql(sql, tuple(params))
            for body, h in result:
                ev = json.loads(body)
                ev["hash"] = bytes(h).hex()
                yield ev


def _json_text(dialect: str, path: str) -> str:
    if dialect == "sqlite":
        return f"json_extract(body, '$.{path}')"
    parts = path.split(".")
    return "(body::jsonb)" + "".join(f"->'{p}'" for p in parts[:-1]) + f"->>'{parts[-1]}'"


_SCALARS = (str, int, bool, type(None))


def _plain(value: Any, depth: int = 0) -> Any:
    """Details hold small plain values only."""
    if depth == 0 and isinstance(value, dict) and all(type(v) in _SCALARS for v in value.values()):
        return {str(k): v for k, v in value.items()}  # the common case: a flat mapping of counts and ids
    if depth > 4:
        raise InputError("audit details nest too deeply")
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_plain(v, depth + 1) for v in items]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item(), depth + 1)
    return str(value)
