"""The consent registry (``ws.consent``): record consent acts, answer "may we?", explain why.

Every act (grant, withdraw, expire, opt-out, opt-in) is an appended event; the current state is
derived from the events in the same transaction, and so is the act's audit event. Withdrawal takes
exactly the arguments a grant takes minus the notice: it is as easy (PIPL Art. 15).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from omniguard.config import iso_utc
from omniguard.consent import receipts
from omniguard.consent.checks import Checker, Decision, as_arrow, as_series
from omniguard.consent.model import CONSENT_ACTIONS, check_subject
from omniguard.consent.notices import remember_notices
from omniguard.consent.tables import (
    consent_events,
    consent_notices,
    consent_receipts,
    consent_state,
    consent_tombstones,
)
from omniguard.consent.validate import Validated, validate
from omniguard.consent.writer import BatchWritten, write_events
from omniguard.errors import InputError


class EventIdsExist(InputError):
    """An append hit event ids already in the store (the whole transaction was rolled back)."""


@dataclass(frozen=True)
class Recorded:
    """One recorded consent act, with its receipt (signed when asked) for grants and withdrawals."""

    event_id: str
    subject_id: str
    purpose: str
    action: str
    ts: str
    audit_seq: int
    receipt: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ConsentRegistry:
    def __init__(self, ws: Any):
        self.ws = ws
        self.checker = Checker(ws)

    def __repr__(self) -> str:
        return f"ConsentRegistry({self.ws!r})"

    # --- checks -----------------------------------------------------------------------------

    def allowed(self, subject_ids: Any, purpose: str, at: Any = None, *, record: bool = True,
                actor: str | None = None) -> np.ndarray:
        """Boolean mask aligned with ``subject_ids`` (list, numpy array or pandas Series): may each
        subject's data be used for ``purpose`` now (or at ``at``)? Raises ``UnknownPurpose``.

        The check is audited (``consent.check``: count and keyed digest of the ids, how many were
        allowed). ``record=False`` is for callers that write one audit event covering the check
        themselves, as the guard does for the read it gates."""
        arr = as_arrow(subject_ids)
        mask = self.checker.allowed(arr, purpose, at)
        if record:
            n_ok = int(mask.sum())
            p = self.ws.policy.purpose(purpose)
            self.ws.audit.record(
                "consent.check", actor=actor, purpose=p.id, legal_basis=p.legal_basis.value,
                subjects=as_series(arr), rows=len(mask),
                decision="allow" if n_ok == len(mask) else "deny" if n_ok == 0 else "partial",
                details={"allowed": n_ok, **({"at": str(at)} if at is not None else {})})
        return mask

    def explain(self, subject_id: str, purpose: str, at: Any = None, *, record: bool = True,
                actor: str | None = None) -> Decision:
        """Whether one subject may be used for ``purpose`` and why: which event, which notice
        version, stale or not, separate or bundled, guardian, opt-out, expiry, erasure."""
        d = self.checker.explain(subject_id, purpose, at)
        if record:
            self.ws.audit.record("consent.explain", actor=actor, purpose=d.purpose, legal_basis=d.legal_basis,
                                 subjects=d.subject_id, decision="allow" if d.allowed else "deny", reason=d.code)
        return d

    # --- acts -------------------------------------------------------------------------------

    def grant(self, subject_id: str, purpose: str, *, notice: str, separate: bool = False, channel: str = "api",
              guardian: str | None = None, birth_date: str | dt.date | None = None, age: int | None = None,
              evidence: Any = None, expires_at: Any = None, at: Any = None, readmit_erased: bool = False,
              sign: bool = False, actor: str | None = None) -> Recorded:
        """Record consent to ``purpose`` under ``notice`` (``ID@VERSION``). ``separate=True`` when
        the person consented to this purpose by its own act (单独同意). For a child under 14 pass
        the guardian's reference, and the birth date or age when known. The consent ends after
        the retention the notice states for the purpose unless ``expires_at`` says otherwise."""
        return self._act("grant", subject_id, purpose, notice=notice, separate=separate, channel=channel,
                         guardian=guardian, birth_date=birth_date, age=age, evidence=evidence,
                         expires_at=expires_at, at=at, readmit_erased=readmit_erased, sign=sign, actor=actor)

    def withdraw(self, subject_id: str, purpose: str, *, channel: str = "api", evidence: Any = None, at: Any = None,
                 sign: bool = False, actor: str | None = None) -> Recorded:
        """Withdraw consent; effective for all processing checked from now on (Art. 15)."""
        return self._act("withdraw", subject_id, purpose, channel=channel, evidence=evidence, at=at, sign=sign,
                         actor=actor)

    def expire(self, subject_id: str, purpose: str, *, at: Any = None, actor: str | None = None) -> Recorded:
        return self._act("expire", subject_id, purpose, channel="api", at=at, actor=actor)

    def opt_out(self, subject_id: str, purpose: str, *, channel: str = "api", evidence: Any = None, at: Any = None,
                actor: str | None = None) -> Recorded:
        """Refuse personalised push / automated decisions for ``purpose`` (Art. 24). It holds until
        an explicit :meth:`opt_in`; a later grant does not lift it."""
        return self._act("opt_out", subject_id, purpose, channel=channel, evidence=evidence, at=at, actor=actor)

    def opt_in(self, subject_id: str, purpose: str, *, channel: str = "api", evidence: Any = None, at: Any = None,
               actor: str | None = None) -> Recorded:
        return self._act("opt_in", subject_id, purpose, channel=channel, evidence=evidence, at=at, actor=actor)

    def _act(self, action: str, subject_id: str, purpose: str, *, channel: str, at: Any, actor: str | None,
             notice: str | None = None, separate: bool = False, guardian: str | None = None,
             birth_date: Any = None, age: int | None = None, evidence: Any = None, expires_at: Any = None,
             readmit_erased: bool = False, sign: bool = False) -> Recorded:
        check_subject(subject_id)
        self.ws.policy.purpose(purpose)
        row = {
            "subject_id": subject_id, "purpose": purpose, "action": action,
            "ts": _text_time(at) if at is not None else iso_utc(), "notice": notice,
            "separate": "true" if separate else "false", "channel": channel, "guardian_ref": guardian,
            "birth_date": str(birth_date) if birth_date is not None else None,
            "age": str(age) if age is not None else None,
            "evidence": evidence if evidence is None or isinstance(evidence, str) else _json(evidence),
            "expires_at": _text_time(expires_at) if expires_at is not None else None,
        }
        v = validate(self.ws, pd.DataFrame([row]), default_channel=channel, readmit_erased=readmit_erased,
                     derive_ids=False)
        if v.problems:
            raise InputError(v.problems[0][1])
        ev = v.events.iloc[0]
        with self.ws.store.write() as conn:
            self.append(conn, v, source="api", actor=actor)
            rec = self.ws.audit.record(
                f"consent.{action}", conn=conn, actor=actor, purpose=purpose,
                legal_basis=self.ws.policy.purpose(purpose).legal_basis.value, consent_ref=ev["event_id"],
                subjects=subject_id, details=_act_details(ev))
        receipt = self.receipt(ev["event_id"], sign=sign, actor=actor) if action in ("grant", "withdraw") else None
        return Recorded(ev["event_id"], subject_id, purpose, action, ev["ts"], rec.seq, receipt)

    def append(self, conn: Any, v: Validated, *, source: str, actor: str | None) -> BatchWritten:
        """Append validated events in the caller's transaction (imports call this too)."""
        ev = v.events
        refs = {(str(a), int(b)) for a, b in ev.loc[ev["notice_id"].notna(), ["notice_id", "notice_version"]]
                .drop_duplicates().itertuples(index=False, name=None)}
        remember_notices(conn, self.ws.policy, refs)
        if v.readmitted:
            conn.execute(update(consent_tombstones).where(consent_tombstones.c.subject_ref.in_(v.readmitted))
                         .values(readmitted_at=iso_utc()))
        try:
            return write_events(self.ws.store, conn, ev, actor=actor or self.ws.audit.actor, source=source)
        except IntegrityError:
            raise EventIdsExist("some event ids are already stored; nothing was recorded") from None

    def expire_due(self, at: Any = None, *, actor: str | None = None) -> int:
        """Record an ``expire`` event for every granted consent whose term has ended."""
        when = _text_time(at) if at is not None else iso_utc()
        st = consent_state
        with self.ws.store.read() as conn:
            due = pd.DataFrame(conn.execute(
                select(st.c.subject_id, st.c.purpose, st.c.expires_at)
                .where(st.c.status == "granted", st.c.expires_at.is_not(None), st.c.expires_at <= when)).all(),
                columns=["subject_id", "purpose", "ts"])
        if due.empty:
            return 0
        due = due.assign(action="expire", channel="api", evidence='{"reason":"end of consent term"}')
        v = validate(self.ws, due, default_channel="api", derive_ids=True)
        if v.problems:
            raise InputError(f"expiry sweep: {v.problems[0][1]}")
        with self.ws.store.write() as conn:
            written = self.append(conn, v, source="expire-due", actor=actor)
            self.ws.audit.record("consent.expire", conn=conn, actor=actor, subjects=due["subject_id"].to_numpy(),
                                 rows=len(due), decision="info",
                                 details={"batch": written.batch, "purposes": sorted(due["purpose"].unique())})
        return len(due)

    # --- reading ----------------------------------------------------------------------------

    def history(self, subject_id: str, purpose: str | None = None) -> list[dict[str, Any]]:
        """Every event of one subject, oldest first (not audited: callers that show it do)."""
        check_subject(subject_id)
        ev = consent_events
        q = select(ev).where(ev.c.subject_id == subject_id).order_by(ev.c.ts, ev.c.seq)
        if purpose:
            q = q.where(ev.c.purpose == self.ws.policy.purpose(purpose).id)
        with self.ws.store.read() as conn:
            return [_plain(dict(r)) for r in conn.execute(q).mappings()]

    def state(self, subject_id: str) -> list[dict[str, Any]]:
        check_subject(subject_id)
        with self.ws.store.read() as conn:
            rows = conn.execute(select(consent_state).where(consent_state.c.purpose.in_(list(self.ws.policy.purposes)),
                                                            consent_state.c.subject_id == subject_id)
                                .order_by(consent_state.c.purpose)).mappings()
            return [_plain(dict(r)) for r in rows]

    def receipt(self, event_id: str, *, sign: bool = False, actor: str | None = None) -> dict[str, Any]:
        """The consent receipt of a grant or withdrawal; ``sign=True`` signs it with the workspace
        SM2 key and stores the issued document."""
        with self.ws.store.read() as conn:
            row = conn.execute(select(consent_events).where(consent_events.c.event_id == event_id)).mappings().first()
            if row is None or row["action"] not in CONSENT_ACTIONS:
                raise InputError("no grant, withdrawal or expiry with that event id")
            sm3 = None
            if row["notice_id"]:
                sm3 = conn.execute(select(consent_notices.c.text_sm3).where(
                    consent_notices.c.notice_id == row["notice_id"],
                    consent_notices.c.notice_version == row["notice_version"])).scalar()
        body = receipts.render(self.ws.policy, self.ws.config.workspace_id, dict(row), sm3)
        if not sign:
            return body
        doc = receipts.sign(body, self.ws.signer)
        with self.ws.store.write() as conn:
            conn.execute(consent_receipts.insert().values(
                receipt_id=f"{body['consentReceiptID']}/{iso_utc()}", event_id=event_id,
                subject_id=row["subject_id"], body=_json(doc), signed_at=iso_utc()))
            self.ws.audit.record("consent.receipt", conn=conn, actor=actor, purpose=row["purpose"],
                                 consent_ref=event_id, subjects=row["subject_id"], decision="info",
                                 details={"signed": True, "key": self.ws.signer.fingerprint()})
        return doc

    def import_file(self, path: str | os.PathLike[str], **options: Any) -> Any:
        """Bulk import (see :func:`omniguard.consent.importer.import_events`)."""
        from omniguard.consent.importer import import_events

        return import_events(self.ws, path, **options)

    def state_version(self) -> int:
        with self.ws.store.read() as conn:
            return int(conn.execute(text("SELECT value FROM consent_meta WHERE name = 'state'")).scalar_one())


def _act_details(ev: pd.Series) -> dict[str, Any]:
    out: dict[str, Any] = {"channel": ev["channel"], "event": ev["event_id"]}
    if isinstance(ev["notice_id"], str):
        out["notice"] = f"{ev['notice_id']}@{int(ev['notice_version'])}"
    if ev["action"] == "grant":
        out["separate"] = bool(ev["separate"])
        out["guardian"] = isinstance(ev["guardian_ref"], str)
    return out


def _text_time(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.isoformat()
        return iso_utc(value)
    return str(value)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (bool(v) if k in ("separate", "opted_out") and v is not None else v) for k, v in row.items()}
