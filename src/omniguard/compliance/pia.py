"""Personal-information impact assessments (PIPL Art. 55-56): create, list, show, verify, purge.

An assessment covers a purpose (``purpose:<id>``) or a federated job (``job:<id>``). It is the
facts the workspace knows (:mod:`.pia_facts`), the residual risks derived from them
(:mod:`.pia_risks`) and the officer's answers (:mod:`.pia_questions`), frozen into one record:

* versioned per subject: ``purpose:joint_profiling@v3`` is the third assessment of that purpose;
* kept at least three years (Art. 56): ``retain_until`` is fixed at creation and the store refuses
  any update, and any delete before that time (see :mod:`.tables`);
* tamper-evident: the canonical JSON body is SM3-hashed and SM2-signed with the workspace key, and
  the hash also goes into the ``pia.create`` audit event, so an edited or removed record is found
  by :func:`verify` / :func:`verify_all`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError

from omniguard.audit.chain import canonical
from omniguard.compliance import pia_facts, pia_questions, pia_risks
from omniguard.compliance.tables import compliance_pias
from omniguard.config import iso_utc
from omniguard.crypto.sm2 import sm2_verify
from omniguard.crypto.sm3 import constant_time_equal, sm3
from omniguard.errors import InputError, StoreError

FORMAT = 1
RETAIN_YEARS = 3
KINDS = ("purpose", "job")
_REF = re.compile(r"^(purpose|job):([a-z0-9][a-z0-9_.\-]{0,63})(?:@v([1-9][0-9]{0,5}))?$")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _years_later(t: dt.datetime, years: int) -> dt.datetime:
    try:
        return t.replace(year=t.year + years)
    except ValueError:  # 29 February
        return t.replace(year=t.year + years, day=28)


@dataclass(frozen=True)
class PiaRecord:
    id: str
    kind: str
    subject: str
    version: int
    purpose: str
    status: str
    created_at: str
    created_by: str
    retain_until: str
    body: str
    content_sm3: str
    signature: str
    public_key: str

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.body)

    def summary(self) -> dict[str, Any]:
        doc = self.document
        return {"id": self.id, "kind": self.kind, "subject": self.subject, "version": self.version,
                "purpose": self.purpose, "status": self.status, "created_at": self.created_at,
                "created_by": self.created_by, "retain_until": self.retain_until, "open_questions": len(doc["open"]),
                "risks": {lvl: sum(r["level"] == lvl for r in doc["risks"]) for lvl in pia_risks.LEVELS},
                "content_sm3": self.content_sm3}

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "signature": {"alg": "SM2-with-SM3", "value": self.signature,
                                                "public_key": self.public_key}, "assessment": self.document}


def parse_ref(ref: str) -> tuple[str, str, int | None]:
    """``purpose:ID``, ``job:ID`` (the latest version) or ``...@vN``."""
    m = _REF.match(ref.strip()) if isinstance(ref, str) else None
    if m is None:
        raise InputError("an assessment id looks like purpose:<purpose>@v<N> or job:<job>@v<N> "
                         "(without @v<N>: the latest)")
    return m.group(1), m.group(2), int(m.group(3)) if m.group(3) else None


def _subject(ws: Any, purpose: str | None, job: Any) -> tuple[str, str, Any, Any]:
    if (purpose is None) == (job is None):
        raise InputError("assess either a purpose or a federated job spec")
    if purpose is not None:
        p = ws.policy.purpose(purpose)
        return "purpose", p.id, p, None
    if isinstance(job, str | Path):
        from omniguard.profiling.federated.spec import load_spec

        job = load_spec(job)
    return "job", job.job_id, ws.policy.purpose(job.purpose), job


def assess(ws: Any, *, purpose: str | None = None, job: Any = None, answers: dict[str, str] | None = None,
           now: dt.datetime | None = None) -> dict[str, Any]:
    """The assessment document without its record fields (nothing is written)."""
    kind, subject, p, spec = _subject(ws, purpose, job)
    facts = pia_facts.gather(ws, p, job=spec, now=now)
    sheet = pia_questions.question_sheet(facts, pia_questions.check_answers(answers or {}))
    return {"format": FORMAT, "kind": kind, "subject": subject, "purpose": p.id, "status": sheet["status"],
            "policy_version": ws.policy.version, "workspace_id": ws.config.workspace_id,
            "facts": facts, "risks": pia_risks.derive(facts), "questions": sheet["questions"],
            "open": sheet["open"]}


def create(ws: Any, *, purpose: str | None = None, job: Any = None, answers: dict[str, str] | None = None,
           actor: str | None = None, retain_years: int = RETAIN_YEARS) -> PiaRecord:
    """Assess, then append the signed record and its audit event in one transaction."""
    if not isinstance(retain_years, int) or retain_years < RETAIN_YEARS:
        raise InputError(f"an impact assessment is kept at least {RETAIN_YEARS} years (PIPL Art. 56)")
    now = _now()
    doc = assess(ws, purpose=purpose, job=job, answers=answers, now=now)
    who = (actor or ws.audit.actor)[:200]
    pub = ws.signer.public_key.hex()
    with ws.store.write() as conn:
        t = compliance_pias
        last = conn.execute(select(func.max(t.c.version)).where(t.c.kind == doc["kind"],
                                                                 t.c.subject == doc["subject"])).scalar()
        version = int(last or 0) + 1
        rid = f"{doc['kind']}:{doc['subject']}@v{version}"
        doc.update(id=rid, version=version, created_at=iso_utc(now), created_by=who,
                   retain_until=iso_utc(_years_later(now, retain_years)))
        body = canonical(doc)
        digest = sm3(body).hex()
        rec = PiaRecord(rid, doc["kind"], doc["subject"], version, doc["purpose"], doc["status"], doc["created_at"],
                        who, doc["retain_until"], body.decode(), digest, ws.signer.sign(body).hex(), pub)
        conn.execute(t.insert().values(**rec.__dict__))
        ws.audit.record("pia.create", conn=conn, actor=who, purpose=rec.purpose, decision="info",
                        details={"id": rid, "status": rec.status, "open_questions": len(doc["open"]),
                                 "risks": len(doc["risks"]), "sm3": digest, "retain_until": rec.retain_until})
    return rec


def _row(r: Any) -> PiaRecord:
    return PiaRecord(**{c: r._mapping[c] for c in PiaRecord.__dataclass_fields__})


def list_records(ws: Any, *, kind: str | None = None, subject: str | None = None) -> list[PiaRecord]:
    t = compliance_pias
    q = select(t).order_by(t.c.kind, t.c.subject, t.c.version)
    if kind:
        q = q.where(t.c.kind == kind)
    if subject:
        q = q.where(t.c.subject == subject)
    with ws.store.read() as conn:
        return [_row(r) for r in conn.execute(q)]


def get(ws: Any, ref: str) -> PiaRecord:
    kind, subject, version = parse_ref(ref)
    found = list_records(ws, kind=kind, subject=subject)
    if version is not None:
        found = [r for r in found if r.version == version]
    if not found:
        raise InputError(f"no impact assessment {ref.strip()} in this workspace (see `omniguard pia list`)")
    return found[-1]


def show(ws: Any, ref: str, *, actor: str | None = None) -> PiaRecord:
    rec = get(ws, ref)
    ws.audit.record("pia.show", actor=actor, purpose=rec.purpose, decision="info", details={"id": rec.id})
    return rec


def current(ws: Any, purpose_id: str) -> tuple[PiaRecord | None, str | None]:
    """The latest assessment of a purpose and, when it does not count as current, why not."""
    found = list_records(ws, kind="purpose", subject=purpose_id)
    if not found:
        return None, "no impact assessment recorded"
    rec = found[-1]
    if rec.status != "complete":
        return rec, f"{rec.id} is a draft ({rec.summary()['open_questions']} open question(s))"
    p = ws.policy.purpose(purpose_id)
    if rec.document["facts"]["purpose"]["digest"] != pia_facts.purpose_digest(ws.policy, p):
        return rec, f"the purpose changed in the policy since {rec.id}"
    return rec, None


def verify(ws: Any, rec: PiaRecord, *, audit_hash: str | None = None) -> dict[str, Any]:
    """Content hash, signature under this workspace's key, and stored columns against the body."""
    body = rec.body.encode()
    problems = []
    if not constant_time_equal(sm3(body).hex().encode(), rec.content_sm3.encode()):
        problems.append("content hash does not match the stored body")
    try:
        sig = bytes.fromhex(rec.signature)
    except ValueError:
        sig = b""
    if rec.public_key != ws.signer.public_key.hex():
        problems.append("signed with a key that is not this workspace's")
    elif not sm2_verify(ws.signer.public_key, body, sig):
        problems.append("SM2 signature does not verify")
    try:
        doc = json.loads(body)
        fields = {k: doc.get(k) for k in ("id", "kind", "subject", "version", "purpose", "status", "created_at",
                                          "created_by", "retain_until")}
        if fields != {k: getattr(rec, k) for k in fields}:
            problems.append("stored fields differ from the signed body")
    except ValueError:
        problems.append("body is not JSON")
    if audit_hash is not None and not constant_time_equal(audit_hash.encode(), rec.content_sm3.encode()):
        problems.append("content hash differs from the one in the pia.create audit event")
    return {"id": rec.id, "ok": not problems, "problems": problems, "content_sm3": rec.content_sm3}


def _logged(ws: Any) -> dict[str, str | None]:
    """Assessment id -> content hash, from the ``pia.create`` audit events."""
    return {ev["details"]["id"]: ev["details"].get("sm3") for ev in ws.audit.query(action="pia.create")
            if isinstance(ev.get("details"), dict) and "id" in ev["details"]}


def verify_ref(ws: Any, ref: str) -> dict[str, Any]:
    """Verify one assessment against its signature and its audit event; audited."""
    rec = get(ws, ref)
    logged = _logged(ws)
    res = verify(ws, rec, audit_hash=logged.get(rec.id))
    if rec.id not in logged:
        res["problems"].append("no pia.create audit event names this record")
        res["ok"] = False
    ws.audit.record("pia.verify", purpose=rec.purpose, decision="allow" if res["ok"] else "deny",
                    details={"id": rec.id, "problems": len(res["problems"])})
    return res


def verify_all(ws: Any) -> dict[str, Any]:
    """Every record, and every assessment the audit log says was created: none missing or altered."""
    created = _logged(ws)
    purged = {i for ev in ws.audit.query(action="pia.purge") for i in (ev.get("details") or {}).get("ids", [])}
    records = {r.id: r for r in list_records(ws)}
    results = [verify(ws, r, audit_hash=created.get(r.id)) for r in records.values()]
    missing = sorted(i for i in created if i not in records and i not in purged)
    unlogged = sorted(i for i in records if i not in created)
    ok = all(r["ok"] for r in results) and not missing and not unlogged
    ws.audit.record("pia.verify", decision="allow" if ok else "deny",
                    details={"records": len(results), "missing": len(missing), "ok": ok})
    return {"ok": ok, "records": results, "missing": missing, "not_in_audit_log": unlogged}


def purge_expired(ws: Any, *, dry_run: bool = False, actor: str | None = None) -> list[str]:
    """Delete the records whose retention ended (and only those), audited."""
    t = compliance_pias
    now = iso_utc(_now())
    try:
        with ws.store.write() as conn:
            ids = [r[0] for r in conn.execute(select(t.c.id).where(t.c.retain_until <= now).order_by(t.c.id))]
            if ids and not dry_run:
                conn.execute(delete(t).where(t.c.id.in_(ids)))
                ws.audit.record("pia.purge", conn=conn, actor=actor, decision="info", details={"ids": ids})
    except DBAPIError:  # the store's retention lock: this clock runs ahead of the database's
        raise StoreError("the store refused to delete an impact assessment before its retain_until") from None
    return ids
