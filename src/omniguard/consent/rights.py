"""Data-subject rights (PIPL Art. 44-47): access and portability, correction, erasure (``ws.rights``).

Each exercise of a right is a *request* with a status and a due date. PIPL asks for a prompt reply
without a day count; the default of 15 working days (weekends skipped, public holidays not known
to omniguard, so the date errs early) is common practice and set in ``omniguard.toml``
``[rights] due_working_days``. A request can be opened first (identity to verify) and completed
later, or opened and completed in one call.

Requests never keep the raw subject id, only the audit log's keyed reference, so an erasure
leaves no copy of the id behind. Erasure deletes the consent history, state, receipts and age
record, destroys the subject's key when the keyring has one (crypto-shredding everything
encrypted under it), deletes the subject's rows from the datasets named, and leaves a tombstone:
a later import of the old events is refused, and new consent needs an explicit re-admission.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select, text, update

from omniguard.config import iso_utc
from omniguard.consent import receipts, subject_data
from omniguard.consent.model import BEIJING, check_subject, parse_date
from omniguard.consent.subject_data import DatasetRef
from omniguard.consent.tables import (
    consent_events,
    consent_receipts,
    consent_state,
    consent_subjects,
    consent_tombstones,
    rights_requests,
)
from omniguard.consent.writer import bump_state_version
from omniguard.errors import InputError

KINDS = ("access", "erase", "correct")
_REQUEST_ID = re.compile(r"R-\d{8}-[0-9a-f]{6}")


def check_request_id(request_id: str) -> str:
    """A request id as ``_new`` makes them. The message never repeats a malformed value: it may
    be a subject id typed in the wrong place."""
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        raise InputError("not a rights request id (R-YYYYMMDD-xxxxxx, as `omniguard rights list` shows)")
    return request_id


EXPORT_FORMAT = "omniguard-subject-export/1"


@dataclass(frozen=True)
class RightsRequest:
    request_id: str
    kind: str
    subject_ref: str
    status: str
    received_at: str
    due: str
    closed_at: str | None
    actor: str
    note: str | None
    outcome: dict[str, Any] | None

    def overdue(self, today: dt.date | None = None) -> bool:
        today = today or dt.datetime.now(BEIJING).date()
        return self.status == "open" and dt.date.fromisoformat(self.due) < today

    @property
    def late(self) -> bool:
        return self.closed_at is not None and self.closed_at[:10] > self.due

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "overdue": self.overdue(), "late": self.late}


class RightsDesk:
    def __init__(self, ws: Any):
        self.ws = ws

    def __repr__(self) -> str:
        return f"RightsDesk({self.ws!r})"

    # --- requests -----------------------------------------------------------------------------

    def due_date(self, received_at: str) -> dt.date:
        """``due_working_days`` Monday-Friday days after the Beijing date of receipt."""
        day = dt.datetime.fromisoformat(received_at.replace("Z", "+00:00")).astimezone(BEIJING).date()
        n = int(self.ws.config.rights_due_working_days)
        return np.busday_offset(np.datetime64(day), n, roll="forward").astype(dt.date)

    def open(self, kind: str, subject_id: str, *, received: Any = None, note: str | None = None,
             actor: str | None = None) -> RightsRequest:
        """Log a request that will be answered later (e.g. once the requester's identity is checked)."""
        if kind not in KINDS:
            raise InputError(f"unknown request kind {kind!r} (known: {', '.join(KINDS)})")
        sid = check_subject(subject_id)
        with self.ws.store.write() as conn:
            req = self._new(conn, kind, sid, received, note, actor)
            self.ws.audit.record("rights.open", conn=conn, actor=actor, subjects=sid, decision="info",
                                 details={"request": req.request_id, "kind": kind, "due": req.due})
        return req

    def get(self, request_id: str) -> RightsRequest:
        check_request_id(request_id)
        with self.ws.store.read() as conn:
            row = conn.execute(select(rights_requests).where(rights_requests.c.request_id == request_id)).mappings().first()
        if row is None:
            raise InputError(f"no rights request {request_id!r}")
        return _request(row)

    def list(self, *, status: str | None = None, kind: str | None = None, overdue: bool = False) -> list[RightsRequest]:
        q = select(rights_requests).order_by(rights_requests.c.received_at)
        if status:
            q = q.where(rights_requests.c.status == status)
        if kind:
            q = q.where(rights_requests.c.kind == kind)
        with self.ws.store.read() as conn:
            out = [_request(r) for r in conn.execute(q).mappings()]
        return [r for r in out if r.overdue()] if overdue else out

    def reject(self, request_id: str, reason: str, *, actor: str | None = None) -> RightsRequest:
        """Close a request without acting (e.g. identity not verified); the reason is kept."""
        req = self.get(request_id)
        if req.status != "open":
            raise InputError(f"request {request_id} is already {req.status}")
        with self.ws.store.write() as conn:
            self._close(conn, req, "rejected", {"reason": reason})
            self.ws.audit.record("rights.reject", conn=conn, actor=actor, subject_ref=req.subject_ref,
                                 decision="deny", reason="request rejected", details={"request": request_id})
        return self.get(request_id)

    def _new(self, conn: Connection, kind: str, sid: str, received: Any, note: str | None,
             actor: str | None) -> RightsRequest:
        from omniguard.consent.model import to_utc

        received_at = to_utc(received, what="received") if received is not None else iso_utc()
        day = dt.datetime.fromisoformat(received_at.replace("Z", "+00:00")).astimezone(BEIJING)
        rid = f"R-{day:%Y%m%d}-{secrets.token_hex(3)}"
        row = {"request_id": rid, "kind": kind, "subject_ref": self.ws.audit.subject_ref(sid), "status": "open",
               "received_at": received_at, "due": self.due_date(received_at).isoformat(), "closed_at": None,
               "actor": actor or self.ws.audit.actor, "note": note, "outcome": None}
        conn.execute(insert(rights_requests).values(**row))
        return _request(row)

    def _begin(self, conn: Connection, kind: str, sid: str, request_id: str | None, received: Any,
               actor: str | None) -> RightsRequest:
        if request_id is None:
            return self._new(conn, kind, sid, received, None, actor)
        check_request_id(request_id)
        row = conn.execute(select(rights_requests).where(rights_requests.c.request_id == request_id)).mappings().first()
        if row is None:
            raise InputError(f"no rights request {request_id!r}")
        req = _request(row)
        if req.kind != kind or req.status != "open" or req.subject_ref != self.ws.audit.subject_ref(sid):
            raise InputError(f"request {request_id} is not an open {kind} request for this subject")
        return req

    def _close(self, conn: Connection, req: RightsRequest, status: str, outcome: dict[str, Any]) -> None:
        conn.execute(update(rights_requests).where(rights_requests.c.request_id == req.request_id)
                     .values(status=status, closed_at=iso_utc(), outcome=json.dumps(outcome, sort_keys=True)))

    # --- access and portability (Art. 45) -----------------------------------------------------

    def export(self, subject_id: str, *, datasets: Iterable[Any] = (), request_id: str | None = None,
               received: Any = None, actor: str | None = None, role: str | None = "dpo") -> dict[str, Any]:
        """Everything held about a subject as one JSON-ready document. Cells stored SM4-encrypted
        are decrypted for the person's copy (Art. 45 means a readable copy) when ``role`` may
        decrypt; otherwise they stay encrypted and the document says so."""
        sid = check_subject(subject_id)
        refs = [DatasetRef.parse(d) for d in datasets]
        found = [self._readable(f, actor, role) for f in subject_data.locate(refs, sid)]
        consent = self.ws.consent
        history = consent.history(sid)
        ref = self.ws.audit.subject_ref(sid)
        with self.ws.store.read() as conn:
            issued = [json.loads(b) for (b,) in conn.execute(
                select(consent_receipts.c.body).where(consent_receipts.c.subject_id == sid)
                .order_by(consent_receipts.c.signed_at))]
            record = conn.execute(select(consent_subjects).where(consent_subjects.c.subject_id == sid)).mappings().first()
        doc = {
            "format": EXPORT_FORMAT,
            "subject_id": sid,
            "generated_at": iso_utc(),
            "controller": receipts.controller(self.ws.policy),
            "consent": {
                "decisions": [consent.checker.explain(sid, p).to_dict() for p in sorted(self.ws.policy.purposes)],
                "state": consent.state(sid),
                "history": history,
                "receipts": [consent.receipt(e["event_id"]) for e in history if e["action"] in ("grant", "withdraw")],
                "signed_receipts": issued,
            },
            "age_record": dict(record) if record else None,
            "audit_events": list(self.ws.audit.query(subject_ref=ref)),
            "datasets": [{"dataset": f.ref.name, "column": f.ref.column, "rows": subject_data.rows_of(f)} for f in found],
            "notes": ["Audit events about many subjects at once hold a count and a keyed digest, not ids, and "
                      "cannot be attributed to one person; they are not listed."]
                     + [f"{f.ref.name}: encrypted cells left encrypted (role {role} may not decrypt)"
                        for f in found if f.still_encrypted],
        }
        with self.ws.store.write() as conn:
            req = self._begin(conn, "access", sid, request_id, received, actor)
            outcome = {"events": len(history), "datasets": {f.ref.name: f.count for f in found}}
            self._close(conn, req, "completed", outcome)
            for f in found:
                self.ws.audit.record("read", conn=conn, actor=actor, dataset=f.ref.name, rows=f.count, subjects=sid,
                                     legal_basis="legal_obligation", details={"request": req.request_id})
            self.ws.audit.record("rights.export", conn=conn, actor=actor, subjects=sid, legal_basis="legal_obligation",
                                 details={"request": req.request_id, **outcome})
        doc["request"] = self.get(req.request_id).to_dict()
        return doc

    def _readable(self, f: Any, actor: str | None, role: str | None) -> Any:
        """The subject's rows of one dataset, with omniguard ciphertext cells decrypted."""
        from omniguard.crypto import looks_like_ciphertext
        from omniguard.errors import AccessDenied

        rows = f.frame[f.hits]
        if not any(looks_like_ciphertext(rows[c]).any() for c in rows.columns):
            return f
        from omniguard.crypto.frame import decrypt_frame

        try:
            plain = decrypt_frame(self.ws, rows, dataset=f.ref.name, role=role, actor=actor,
                                  subject_column=f.ref.column).frame
        except AccessDenied:
            f.still_encrypted = True
            return f
        return subject_data.Located(f.ref, plain, pd.Series(True, index=plain.index))

    # --- erasure (Art. 47) ----------------------------------------------------------------------

    def erase(self, subject_id: str, *, datasets: Iterable[Any] = (), request_id: str | None = None,
              received: Any = None, actor: str | None = None) -> dict[str, Any]:
        """Delete (and crypto-shred) everything held about a subject and leave a tombstone."""
        sid = check_subject(subject_id)
        refs = [DatasetRef.parse(d) for d in datasets]
        found = subject_data.locate(refs, sid)  # read and check every file before changing anything
        if request_id is not None:
            with self.ws.store.read() as conn:
                self._begin(conn, "erase", sid, request_id, received, actor)
        shredded = self._shred(sid)
        removed = subject_data.delete_rows(found)
        ref = self.ws.audit.subject_ref(sid)
        with self.ws.store.write() as conn:
            req = self._begin(conn, "erase", sid, request_id, received, actor)
            counts = {name: _delete(conn, table, sid) for name, table in (
                ("events", consent_events), ("state", consent_state), ("receipts", consent_receipts),
                ("age_record", consent_subjects))}
            now = iso_utc()
            tomb = {"tag": self.ws.consent.checker.tag(sid), "erased_at": now, "request_id": req.request_id,
                    "readmitted_at": None}
            if conn.execute(select(func.count()).where(consent_tombstones.c.subject_ref == ref)).scalar_one():
                conn.execute(update(consent_tombstones).where(consent_tombstones.c.subject_ref == ref).values(**tomb))
            else:
                conn.execute(insert(consent_tombstones).values(subject_ref=ref, **tomb))
            bump_state_version(conn)
            outcome = {"deleted": counts, "datasets": removed, "key_shredded": shredded}
            self._close(conn, req, "completed", outcome)
            self.ws.audit.record("rights.erase", conn=conn, actor=actor, subjects=sid, legal_basis="legal_obligation",
                                 details={"request": req.request_id, **outcome})
        return {"request": self.get(req.request_id).to_dict(), **outcome}

    def _shred(self, sid: str) -> bool | None:
        """True: a per-subject key existed and is destroyed; False: there was none; None: this
        omniguard has no keyring, so only deletion applies."""
        if importlib.util.find_spec("omniguard.crypto.keyring") is None:
            return None
        return bool(self.ws.keyring.shred_subject(sid))

    # --- correction (Art. 46) -------------------------------------------------------------------

    def correct(self, subject_id: str, *, birth_date: str | dt.date | None = None, datasets: Iterable[Any] = (),
                values: dict[str, str] | None = None, request_id: str | None = None, received: Any = None,
                actor: str | None = None) -> dict[str, Any]:
        """Correct the birth date the registry holds (it decides who was under 14) and/or fields
        of the subject's rows in the datasets named."""
        sid = check_subject(subject_id)
        values = dict(values or {})
        if birth_date is None and not values:
            raise InputError("nothing to correct: give a birth date or fields to set")
        if values and not datasets:
            raise InputError("fields to correct need the dataset(s) holding them (PATH:COLUMN)")
        born = parse_date(birth_date, "birth date") if birth_date is not None else None
        if born is not None and born > dt.datetime.now(BEIJING).date():
            raise InputError("birth date: expected a past date")
        found = subject_data.locate([DatasetRef.parse(d) for d in datasets], sid)
        if request_id is not None:
            with self.ws.store.read() as conn:
                self._begin(conn, "correct", sid, request_id, received, actor)
        changed = subject_data.correct_rows(found, values) if values else {}
        with self.ws.store.write() as conn:
            req = self._begin(conn, "correct", sid, request_id, received, actor)
            if born is not None:
                from omniguard.consent.model import adult_from_birth

                conn.execute(text(_CORRECT_AGE), {"subject_id": sid, "birth_date": born.isoformat(),
                                                  "adult_from": adult_from_birth(born), "updated_at": iso_utc()})
                bump_state_version(conn)
            outcome = {"birth_date": born is not None, "fields": sorted(values), "datasets": changed}
            self._close(conn, req, "completed", outcome)
            self.ws.audit.record("rights.correct", conn=conn, actor=actor, subjects=sid, legal_basis="legal_obligation",
                                 details={"request": req.request_id, **outcome})
        return {"request": self.get(req.request_id).to_dict(), **outcome}


_CORRECT_AGE = """
INSERT INTO consent_subjects (subject_id, birth_date, adult_from, source, updated_at)
VALUES (:subject_id, :birth_date, :adult_from, 'correction', :updated_at)
ON CONFLICT (subject_id) DO UPDATE SET birth_date = excluded.birth_date, adult_from = excluded.adult_from,
  source = excluded.source, updated_at = excluded.updated_at
"""


def _delete(conn: Connection, table: Any, sid: str) -> int:
    return int(conn.execute(delete(table).where(table.c.subject_id == sid)).rowcount or 0)


def _request(row: Any) -> RightsRequest:
    d = dict(row)
    outcome = d.get("outcome")
    d["outcome"] = json.loads(outcome) if isinstance(outcome, str) else outcome
    return RightsRequest(**d)
