"""Export of consent history and current state, and consent statistics.

The state export carries, per row, the same reason code ``allowed()`` and ``explain()`` compute
(the SQL of :mod:`omniguard.consent.rules`), so a spreadsheet built from it agrees with the checks.
Statistics are counts only: coverage per purpose, reasons for refusals, stale consents, and
withdrawals, expiries and opt-outs per month.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Select, case, func, literal, select, true

from omniguard.config import iso_utc
from omniguard.consent import notices, rules
from omniguard.consent.tables import consent_events, consent_state
from omniguard.errors import InputError
from omniguard.policy import LegalBasis, Purpose

HISTORY_COLUMNS = ("seq", "event_id", "subject_id", "purpose", "action", "ts", "notice_id", "notice_version",
                   "separate", "guardian_ref", "channel", "expires_at", "birth_date", "age", "evidence", "batch")


def _state_query(purpose: Purpose, pack: Any, now: str) -> Select:
    src = rules.current_source(purpose.id)
    cols = [literal(purpose.id).label("purpose"), *src.c]
    if purpose.legal_basis is LegalBasis.consent:
        return rules.decided(src, purpose, notices.fresh_from(pack, purpose.id, now), now, *cols)
    reason = (case((src.c.opted_out == true(), "opted_out"), else_="not_required") if purpose.automated_decision
              else literal("not_required"))
    return select(*cols, reason.label("reason"))


def state_frame(ws: Any, purpose: str | None = None) -> pd.DataFrame:
    """Current state rows with ``reason`` (``ok`` = allowed now) and ``allowed``."""
    now = iso_utc()
    pack = ws.policy
    chosen = [pack.purpose(purpose)] if purpose else [pack.purposes[p] for p in sorted(pack.purposes)]
    frames = []
    with ws.store.read() as conn:
        for p in chosen:
            q = _state_query(p, pack, now)
            rows = conn.execute(q).all()
            frames.append(pd.DataFrame(rows, columns=[c.key for c in q.selected_columns]))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if not out.empty:
        out["allowed"] = out["reason"].isin(["ok", "not_required"])
        out["separate"] = out["separate"].astype(bool)
        out["opted_out"] = out["opted_out"].astype(bool)
        out["notice_version"] = out["notice_version"].astype("Int64")
    return out


def history_frame(ws: Any, *, purpose: str | None = None, action: str | None = None, since: str | None = None,
                  until: str | None = None) -> pd.DataFrame:
    ev = consent_events
    q = select(*(ev.c[c] for c in HISTORY_COLUMNS)).order_by(ev.c.ts, ev.c.seq)
    if purpose:
        q = q.where(ev.c.purpose == ws.policy.purpose(purpose).id)
    if action:
        q = q.where(ev.c.action == action)
    if since:
        q = q.where(ev.c.ts >= since)
    if until:
        q = q.where(ev.c.ts < until)
    with ws.store.read() as conn:
        out = pd.DataFrame(conn.execute(q).all(), columns=list(HISTORY_COLUMNS))
    out["separate"] = out["separate"].astype(bool)
    for c in ("notice_version", "age"):
        out[c] = out[c].astype("Int64")
    return out


def export(ws: Any, path: str | os.PathLike[str], *, history: bool = False, purpose: str | None = None,
           action: str | None = None, since: str | None = None, until: str | None = None,
           actor: str | None = None) -> dict[str, Any]:
    """Write history or current state to CSV / JSON lines (by suffix), atomically; audited."""
    from omniguard.tabular import write_table

    path = Path(path)
    if path.suffix.lower() not in (".csv", ".jsonl", ".parquet"):
        raise InputError(f"{path.name}: export to .csv, .jsonl or .parquet")
    frame = (history_frame(ws, purpose=purpose, action=action, since=since, until=until) if history
             else state_frame(ws, purpose))
    write_table(frame, path)
    filters = {k: v for k, v in {"purpose": purpose, "action": action, "since": since, "until": until}.items() if v}
    ids = frame["subject_id"] if len(frame) else []
    ws.audit.record("consent.export", actor=actor, purpose=purpose, dataset=path.name, rows=len(frame), subjects=ids,
                    details={"what": "history" if history else "state", "filters": filters})
    return {"file": str(path), "what": "history" if history else "state", "rows": len(frame),
            "subjects": int(frame["subject_id"].nunique()) if len(frame) else 0, "filters": filters}


def stats(ws: Any, *, purpose: str | None = None, since: str | None = None, actor: str | None = None) -> dict[str, Any]:
    """Coverage, refusal reasons and stale consents per purpose; acts per month."""
    now = iso_utc()
    pack = ws.policy
    chosen = [pack.purpose(purpose)] if purpose else [pack.purposes[p] for p in sorted(pack.purposes)]
    st, ev = consent_state, consent_events
    per_purpose = []
    with ws.store.read() as conn:
        known = int(conn.execute(select(func.count(func.distinct(st.c.subject_id)))).scalar_one())
        for p in chosen:
            q = _state_query(p, pack, now).subquery()
            counts = dict(conn.execute(select(q.c.reason, func.count()).group_by(q.c.reason)).all())
            allowed = counts.get("ok", 0) if p.legal_basis is LegalBasis.consent else None
            per_purpose.append({
                "purpose": p.id, "legal_basis": p.legal_basis.value, "separate_consent": p.separate_consent,
                "subjects_with_records": sum(counts.values()), "allowed": allowed,
                "coverage": round(allowed / known, 4) if allowed is not None and known else None,
                "stale": counts.get("stale", 0), "reasons": {k: int(v) for k, v in sorted(counts.items())},
            })
        month = func.substr(ev.c.ts, 1, 7)
        q = (select(month.label("month"), ev.c.purpose, ev.c.action, func.count())
             .where(ev.c.action.in_(("withdraw", "expire", "opt_out"))).group_by(month, ev.c.purpose, ev.c.action)
             .order_by(month, ev.c.purpose, ev.c.action))
        if purpose:
            q = q.where(ev.c.purpose == chosen[0].id)
        if since:
            q = q.where(ev.c.ts >= since)
        over_time = [{"month": m, "purpose": pu, "action": a, "events": int(n)} for m, pu, a, n in conn.execute(q)]
    out = {"at": now, "known_subjects": known, "purposes": per_purpose, "withdrawals_over_time": over_time}
    ws.audit.record("consent.stats", actor=actor, purpose=purpose, decision="info",
                    details={"known_subjects": known, "purposes": len(per_purpose)})
    return out
