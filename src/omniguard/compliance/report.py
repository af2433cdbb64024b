"""The compliance officer's report: what the registry, the audit log, the inventory, the budget
ledger, the rules and the impact assessments say, over a period, as one JSON document that
:mod:`.report_render` turns into a page (Chinese or English).

Figures are counts: consent coverage at the end of each month is computed by the registry's own
decision SQL evaluated as of that instant (:func:`omniguard.consent.rules.as_of_source`), so the
last point agrees with ``consent stats``; accesses and denials come from ``ws.audit.query``. The
as-of query replays the purpose's events, one query per purpose and month: about 0.1 s each on
SQLite with 17,000 events (the demo), so a year of five consent purposes costs seconds.
"""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

from sqlalchemy import func, select

from omniguard.compliance.labels import GRADE_NAMES
from omniguard.config import iso_utc
from omniguard.errors import InputError
from omniguard.policy import LegalBasis

MAX_MONTHS = 120
LATEST_DENIALS = 50
_ACCESS = ("read", "export", "decrypt", "dp.release", "federation.data_loaded")
_EVALUATIONS = ("compliance.", "pia.", "audit.")  # their "deny" is a finding, not a refused request


def is_access(action: str) -> bool:
    """Data accesses, as opposed to administration (consent acts, key work, checks, reports)."""
    return not action.startswith("audit.") and (action in _ACCESS or action.endswith((".read", ".export", ".decrypt")))


def is_refusal(event: dict[str, Any]) -> bool:
    """A refused request (access, consent check, budget charge, ...), not a failed check or verification."""
    return event["decision"] == "deny" and not event["action"].startswith(_EVALUATIONS)


def default_since(now: dt.datetime) -> dt.datetime:
    """The first day of the month twelve months back."""
    y, m = (now.year - 1, now.month) if now.month < 12 else (now.year, 1)
    return dt.datetime(y, m, 1, tzinfo=dt.UTC)


def parse_since(value: str | None, now: dt.datetime) -> dt.datetime:
    if value is None:
        return default_since(now)
    try:
        t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError("--since: expected a date such as 2026-01-01") from None
    t = t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)
    if t > now:
        raise InputError("--since is in the future")
    return t


def month_ends(since: dt.datetime, now: dt.datetime) -> list[tuple[str, str]]:
    """(label "YYYY-MM", instant) for each month from ``since`` to now: the first instant of the
    next month, or now for the running month."""
    out = []
    y, m = since.year, since.month
    while (y, m) <= (now.year, now.month):
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        out.append((f"{y:04d}-{m:02d}", iso_utc(min(dt.datetime(ny, nm, 1, tzinfo=dt.UTC), now))))
        y, m = ny, nm
    if len(out) > MAX_MONTHS:
        raise InputError(f"--since: at most {MAX_MONTHS} months back")
    return out


def build(ws: Any, *, since: str | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """Every section's figures (see the module docstring); audited as ``compliance.report``."""
    now = now or dt.datetime.now(dt.UTC)
    start = parse_since(since, now)
    months = month_ends(start, now)
    events = list(ws.audit.query(since=iso_utc(start)))
    data = {
        "generated_at": iso_utc(now), "since": iso_utc(start), "workspace_id": ws.config.workspace_id,
        "policy_version": ws.policy.version,
        "purposes": {pid: {"en": p.name, "zh": p.name_zh} for pid, p in sorted(ws.policy.purposes.items())},
        "consent": _consent(ws, months, iso_utc(start)),
        "access": _access(events, months),
        "denials": _denials(events, months),
        "inventory": _inventory(ws),
        "privacy": _privacy(ws),
        "checks": _checks(ws, events, now),
        "pias": _pias(ws),
    }
    ws.audit.record("compliance.report", decision="info",
                    details={"since": data["since"], "events": len(events), "months": len(months),
                             "failed_rules": len(data["checks"]["failed"])})
    return data


def _consent(ws: Any, months: list[tuple[str, str]], since: str) -> dict[str, Any]:
    from omniguard.consent import notices, reports, rules
    from omniguard.consent.tables import consent_events

    st = reports.stats(ws, since=since)
    pack = ws.policy
    consent_based = [p for _, p in sorted(pack.purposes.items()) if p.legal_basis is LegalBasis.consent]
    coverage: dict[str, list[float]] = {p.id: [] for p in consent_based}
    known_over_time = []
    ev = consent_events
    with ws.store.read() as conn:
        for _, at in months:
            known = int(conn.execute(select(func.count(func.distinct(ev.c.subject_id))).where(ev.c.ts <= at)).scalar())
            known_over_time.append(known)
            for p in consent_based:
                if not known:  # before the first recorded event: nothing to evaluate
                    coverage[p.id].append(0.0)
                    continue
                src = rules.as_of_source(p.id, at)
                q = rules.decided(src, p, notices.fresh_from(pack, p.id, at), at, src.c.subject_id).subquery()
                ok = int(conn.execute(select(func.count()).select_from(q).where(q.c.reason == "ok")).scalar())
                coverage[p.id].append(round(ok / known, 4) if known else 0.0)
    labels = [m for m, _ in months]
    acts: dict[str, dict[str, list[int]]] = collections.defaultdict(lambda: collections.defaultdict(
        lambda: [0] * len(labels)))
    for row in st["withdrawals_over_time"]:
        if row["month"] in labels:
            acts[row["action"]][row["purpose"]][labels.index(row["month"])] += row["events"]
    return {"known_subjects": st["known_subjects"], "current": st["purposes"], "months": labels,
            "known_over_time": known_over_time, "coverage_over_time": coverage,
            "withdrawals_over_time": {p: v for p, v in sorted(acts["withdraw"].items())},
            "acts_over_time": [r for r in st["withdrawals_over_time"] if r["month"] in labels]}


def _month_index(months: list[tuple[str, str]]) -> dict[str, int]:
    return {m: i for i, (m, _) in enumerate(months)}


def _access(events: list[dict[str, Any]], months: list[tuple[str, str]]) -> dict[str, Any]:
    by: collections.Counter[tuple[str, str]] = collections.Counter()
    rows: collections.Counter[tuple[str, str]] = collections.Counter()
    per_month = [0] * len(months)
    idx = _month_index(months)
    for e in events:
        if is_access(e["action"]) and e["decision"] in ("allow", "partial"):
            key = (e.get("purpose") or "-", e.get("role") or "-")
            by[key] += 1
            rows[key] += int(e.get("rows") or 0)
            if e["ts"][:7] in idx:
                per_month[idx[e["ts"][:7]]] += 1
    return {"total": sum(by.values()), "per_month": per_month,
            "by_purpose_role": [{"purpose": p, "role": r, "events": n, "rows": rows[(p, r)]}
                                for (p, r), n in sorted(by.items())]}


def _denials(events: list[dict[str, Any]], months: list[tuple[str, str]]) -> dict[str, Any]:
    denied = [e for e in events if is_refusal(e)]
    idx = _month_index(months)
    per_month = [0] * len(months)
    reasons: collections.Counter[tuple[str, str]] = collections.Counter()
    for e in denied:
        if e["ts"][:7] in idx:
            per_month[idx[e["ts"][:7]]] += 1
        reasons[(e["action"], (e.get("reason") or "-")[:160])] += 1
    latest = [{"seq": e["seq"], "ts": e["ts"], "actor": e["actor"], "role": e.get("role"), "action": e["action"],
               "purpose": e.get("purpose"), "dataset": (e.get("resource") or {}).get("dataset"),
               "reason": e.get("reason")} for e in denied[-LATEST_DENIALS:][::-1]]
    return {"total": len(denied), "per_month": per_month, "latest": latest,
            "by_reason": [{"action": a, "reason": r, "events": n} for (a, r), n in reasons.most_common()]}


def _inventory(ws: Any) -> dict[str, Any]:
    grades = GRADE_NAMES
    columns: collections.Counter[str] = collections.Counter()
    tables: collections.Counter[str] = collections.Counter()
    per_dataset = []
    for head in ws.inventory.datasets():
        rec = ws.inventory.get(head["dataset"])
        if rec is None:
            continue
        counts = collections.Counter(c["grade"] for c in rec["columns"])
        columns.update(counts)
        tables[rec["grade"]] += 1
        per_dataset.append({"dataset": rec["dataset"], "grade": rec["grade"], "rows": rec["rows"],
                            "individuals": rec["individuals"], "scanned_at": rec["scanned_at"],
                            "columns": {g: counts.get(g, 0) for g in grades}})
    return {"datasets": len(per_dataset), "columns_by_grade": {g: columns.get(g, 0) for g in grades},
            "datasets_by_grade": {g: tables.get(g, 0) for g in grades}, "per_dataset": per_dataset}


def _privacy(ws: Any) -> dict[str, Any]:
    ledger = ws.ledger
    units: dict[str, set[str]] = collections.defaultdict(set)
    entries: collections.Counter[str] = collections.Counter()
    for e in ledger.entries():
        units[e["dataset"]].add(e["unit"])
        entries[e["dataset"]] += 1
    rows = [{**s.to_dict(), "unit": ", ".join(sorted(units[s.dataset])) or "-", "entries": entries[s.dataset]}
            for s in ledger.datasets()]
    return {"datasets": rows, "composition": "basic (sums of epsilon and delta)"}


def _checks(ws: Any, events: list[dict[str, Any]], now: dt.datetime) -> dict[str, Any]:
    from omniguard.compliance.checks import run_checks

    results = [r.to_dict() for r in run_checks(ws, now=now)]
    history = [{"seq": e["seq"], "ts": e["ts"], "actor": e["actor"], "decision": e["decision"],
                "failed": (e.get("details") or {}).get("failed", [])}
               for e in events if e["action"] == "compliance.check"]
    return {"at": iso_utc(now), "results": results, "failed": [r["rule"] for r in results if r["status"] == "fail"],
            "history": history[-20:][::-1]}


def _pias(ws: Any) -> dict[str, Any]:
    from omniguard.compliance import pia
    from omniguard.compliance.pia_facts import triggers

    latest: dict[str, Any] = {}
    for rec in pia.list_records(ws):
        latest[f"{rec.kind}:{rec.subject}"] = rec
    required = []
    for pid, p in sorted(ws.policy.purposes.items()):
        why = triggers(ws.policy, p)
        if why:
            rec, problem = pia.current(ws, pid)
            required.append({"purpose": pid, "triggers": [t["code"] for t in why], "latest": rec.id if rec else None,
                             "current": problem is None, "problem": problem})
    return {"latest": [r.summary() for r in latest.values()], "required": required}
