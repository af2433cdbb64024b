"""What the workspace already knows about a processing activity, gathered for an impact assessment.

Everything here is read, never asked: the policy pack (categories, grades, legal basis, recipients,
cross-border terms, roles), the inventory (datasets, columns, individuals, volume flags), the
consent registry (coverage and refusal reasons), the budget ledger (epsilon and delta spent, per
privacy unit) and the compliance rules' findings. Only counts and omniguard object names go in, never
a personal value, so the assessment can be handed to a regulator as it is.
"""

from __future__ import annotations

from typing import Any

from omniguard.audit.chain import canonical
from omniguard.crypto.sm3 import sm3
from omniguard.policy import Grade, LegalBasis, Purpose

PIA_RULE = "art55-pia-recorded"

# Art. 55 occasions, in the article's order. (code, article, English, Chinese)
TRIGGERS: dict[str, tuple[str, str, str]] = {
    "sensitive": ("PIPL Art. 55(1)", "processes sensitive personal information", "处理敏感个人信息"),
    "automated_decision": ("PIPL Art. 55(2)", "makes automated decisions with personal information",
                           "利用个人信息进行自动化决策"),
    "entrusted": ("PIPL Art. 55(3)", "entrusts processing to another party", "委托处理个人信息"),
    "provision": ("PIPL Art. 55(3)", "provides personal information to other handlers",
                  "向其他个人信息处理者提供个人信息"),
    "cross_border": ("PIPL Art. 55(4)", "provides personal information abroad", "向境外提供个人信息"),
}


def category_ids(purpose: Purpose, job: Any = None) -> list[str]:
    """The categories the activity uses: a job's features (and label), else the purpose's list."""
    if job is None:
        return list(purpose.categories)
    cats = [f.category for f in job.features] + ([job.label.category] if job.label is not None else [])
    return list(dict.fromkeys(cats))


def triggers(policy: Any, purpose: Purpose, job: Any = None) -> list[dict[str, str]]:
    """Why Art. 55 requires an assessment of this activity (empty: none of its occasions)."""
    codes = []
    if any(_category(policy, c).pipl_sensitive for c in category_ids(purpose, job) if _category(policy, c)):
        codes.append("sensitive")
    if purpose.automated_decision:
        codes.append("automated_decision")
    roles = {t.role for t in purpose.third_parties}
    if "entrusted" in roles:
        codes.append("entrusted")
    if roles & {"handler", "joint"} or (job is not None and len(job.partners) > 1):
        codes.append("provision")
    if purpose.cross_border is not None:
        codes.append("cross_border")
    return [{"code": c, "article": TRIGGERS[c][0], "en": TRIGGERS[c][1], "zh": TRIGGERS[c][2]} for c in codes]


def purpose_digest(policy: Any, purpose: Purpose) -> str:
    """SM3 of the purpose as the policy defines it now, with its categories' grades: an
    assessment is current only while this is unchanged."""
    cats = {c: [cat.grade.value, cat.pipl_sensitive] if (cat := _category(policy, c)) else None
            for c in purpose.categories}
    return sm3(canonical({"purpose": purpose.model_dump(mode="json"), "categories": cats})).hex()


def _category(policy: Any, cat_id: str) -> Any:
    return policy.categories.get(cat_id)


def gather(ws: Any, purpose: Purpose, *, job: Any = None, now: Any = None) -> dict[str, Any]:
    """The generated part of an assessment (see the module docstring)."""
    policy = ws.policy
    cats = category_ids(purpose, job)
    datasets = _datasets(ws, cats, _job_columns(job))
    consent = _consent(ws, purpose)
    roles = [r for r in sorted(policy.roles.values(), key=lambda r: r.id) if r.may_use(purpose.id)]
    return {
        "purpose": {**purpose.model_dump(mode="json"), "digest": purpose_digest(policy, purpose)},
        "job": _job(ws, job),
        "triggers": triggers(policy, purpose, job),
        "categories": [_category_row(policy, c) for c in cats],
        "datasets": datasets,
        "volume": _volume(datasets, consent),
        "consent": consent,
        "recipients": _recipients(purpose, job),
        "cross_border": purpose.cross_border.model_dump(mode="json") if purpose.cross_border else None,
        "protection": _protection(policy, purpose, roles, datasets),
        "privacy": _privacy(ws, purpose, job),
        "findings": _findings(ws, purpose, job, datasets, roles, now),
    }


def _category_row(policy: Any, cat_id: str) -> dict[str, Any]:
    cat = _category(policy, cat_id)
    if cat is None:  # a job may name a category this policy does not know; the partner gate refuses it
        return {"id": cat_id, "name": cat_id, "name_zh": cat_id, "grade": None, "personal": True,
                "pipl_sensitive": False, "known": False}
    return {"id": cat.id, "name": cat.name, "name_zh": cat.name_zh, "grade": cat.grade.value,
            "personal": cat.personal, "pipl_sensitive": cat.pipl_sensitive, "known": True}


def _job_columns(job: Any) -> set[str] | None:
    if job is None:
        return None
    return {job.subject_column, *(f.column for f in job.features), *([job.label.column] if job.label else [])}


def _job(ws: Any, job: Any) -> dict[str, Any] | None:
    """The spec's terms, and what this workspace did in the job so far (its status files)."""
    if job is None:
        return None
    from omniguard.profiling.federated.jobs import list_jobs

    here = [{"role": s["role"], "state": s.get("state"), "rows": s.get("rows"),
             "rounds": s.get("rounds_ran", s.get("rounds"))} for s in list_jobs(ws, job.job_id)]
    p = job.privacy
    return {"job_id": job.job_id, "task": job.task, "partners": list(job.partners), "coordinator": job.coordinator,
            "rounds": job.rounds, "subject_column": job.subject_column, "spec_digest": job.digest(), "here": here,
            "features": [{"column": f.column, "category": f.category} for f in job.features],
            "label": {"column": job.label.column, "category": job.label.category} if job.label else None,
            "privacy": {"mode": p.mode, "unit": p.unit, "epsilon": p.epsilon, "noise_multiplier": p.noise_multiplier,
                        "delta": p.delta, "clip": p.clip}}


def _datasets(ws: Any, cats: list[str], columns: set[str] | None = None) -> list[dict[str, Any]]:
    """Inventory datasets with at least one column of the activity's categories (for a job: one of
    the spec's columns, by name, since a job reads only those)."""
    wanted = set(cats)
    out = []
    for head in ws.inventory.datasets():
        rec = ws.inventory.get(head["dataset"])
        if rec is None:
            continue
        cols = [{"name": c["name"], "category": c["category"], "grade": c["grade"], "entity": c.get("entity"),
                 "protection": c.get("protection")}
                for c in rec["columns"] if c.get("category") in wanted and (columns is None or c["name"] in columns)]
        if cols:
            flags = {k: v for k, v in rec["flags"].items() if isinstance(v, bool)}
            out.append({"dataset": rec["dataset"], "rows": rec["rows"], "individuals": rec["individuals"],
                        "grade": rec["grade"], "scanned_at": rec["scanned_at"], "columns": cols, "flags": flags})
    return out


def _consent(ws: Any, purpose: Purpose) -> dict[str, Any]:
    from omniguard.consent import reports

    st = reports.stats(ws, purpose=purpose.id)
    row = st["purposes"][0]
    separate_why = []
    if purpose.legal_basis is LegalBasis.consent and any(
            (c := _category(ws.policy, x)) is not None and c.pipl_sensitive for x in purpose.categories):
        separate_why.append("PIPL Art. 29")
    if any(t.role == "handler" for t in purpose.third_parties):
        separate_why.append("PIPL Art. 23")
    if purpose.cross_border is not None:
        separate_why.append("PIPL Art. 39")
    return {"legal_basis": purpose.legal_basis.value, "consent_required": purpose.legal_basis is LegalBasis.consent,
            "separate_consent": purpose.separate_consent, "separate_required_by": separate_why,
            "known_subjects": st["known_subjects"], "subjects_with_records": row["subjects_with_records"],
            "allowed": row["allowed"], "coverage": row["coverage"], "stale": row["stale"], "reasons": row["reasons"],
            "at": st["at"]}


def _volume(datasets: list[dict[str, Any]], consent: dict[str, Any]) -> dict[str, Any]:
    """Individuals: the largest dataset's count (datasets overlap, so a sum overstates), and the
    subjects the registry lets the purpose use now."""
    sens = [d["individuals"] for d in datasets if any(Grade(c["grade"]) >= Grade.sensitive for c in d["columns"])]
    flags = sorted({k for d in datasets for k, v in d["flags"].items() if v})
    return {"datasets": len(datasets), "rows": sum(d["rows"] for d in datasets),
            "individuals_max": max((d["individuals"] for d in datasets), default=0),
            "sensitive_individuals_max": max(sens, default=0), "consenting_subjects": consent["allowed"],
            "flags": flags}


def _recipients(purpose: Purpose, job: Any) -> list[dict[str, Any]]:
    out = [{"name": t.name, "role": t.role, "country": t.country, "source": "policy"} for t in purpose.third_parties]
    if job is not None:
        out += [{"name": p, "role": "joint", "country": None, "source": f"job {job.job_id}"} for p in job.partners]
    return out


def _protection(policy: Any, purpose: Purpose, roles: list[Any], datasets: list[dict[str, Any]]) -> dict[str, Any]:
    """How each grade and each column reaches each role that may use the purpose: the guard's
    plan (build_plan), with columns above the purpose's grade ceiling dropped and columns stored
    as SM4 ciphertexts or keyed tokens released as stored, as the guard does."""
    from omniguard.protect import build_plan

    grades = sorted({Grade(c["grade"]) for d in datasets for c in d["columns"]}
                    | {cat.grade for x in purpose.categories if (cat := _category(policy, x)) is not None})
    role_rows = [{"role": r.id, "decrypt": r.decrypt, "export": r.export,
                  "grades": {g.value: ("drop" if g > purpose.max_grade else r.protection.for_grade(g)) for g in grades}}
                 for r in roles]
    columns = []
    for d in datasets:
        plans = {r.id: build_plan({"dataset": d["dataset"], "columns": d["columns"]}, policy, r) for r in roles}
        for c in d["columns"]:
            above = Grade(c["grade"]) > purpose.max_grade

            def operator(plan: Any, c: dict[str, Any] = c, above: bool = above) -> str:
                op = "drop" if above else plan.action(c["name"]).operator
                stored = c.get("protection")
                return f"stored_{stored}" if stored in ("encrypted", "tokenized") and op != "drop" else op

            columns.append({"dataset": d["dataset"], "column": c["name"], "category": c["category"],
                            "grade": c["grade"], "operators": {rid: operator(plan) for rid, plan in plans.items()}})
    return {"max_grade": purpose.max_grade.value, "roles": role_rows, "columns": columns}


def _privacy(ws: Any, purpose: Purpose, job: Any) -> dict[str, Any]:
    """Ledger entries charged for this purpose (or this job), and the budgets of their datasets."""
    ledger = ws.ledger
    if job is not None:
        entries = [e for e in ledger.entries() if e["ref"] == job.job_id]
    else:
        ids = {int(ev["details"]["entry"]) for ev in ws.audit.query(action="dp.charge", purpose=purpose.id)
               if ev["decision"] == "allow" and isinstance(ev.get("details", {}).get("entry"), int)}
        entries = [e for e in ledger.entries() if int(e["id"]) in ids]
    rows = [{"id": int(e["id"]), "ts": e["ts"], "dataset": e["dataset"], "kind": e["kind"], "ref": e["ref"],
             "epsilon": float(e["epsilon"]), "delta": float(e["delta"]), "unit": e["unit"], "status": e["status"]}
            for e in entries]
    per_dataset: dict[str, dict[str, Any]] = {}
    for e in rows:
        d = per_dataset.setdefault(e["dataset"], {"dataset": e["dataset"], "epsilon": 0.0, "delta": 0.0, "units": set()})
        d["epsilon"] += e["epsilon"]
        d["delta"] += e["delta"]
        d["units"].add(e["unit"])
    spent = []
    for name, d in sorted(per_dataset.items()):
        st = ledger.state(name).to_dict()
        spent.append({"dataset": name, "epsilon": round(d["epsilon"], 6), "delta": d["delta"],
                      "unit": ", ".join(sorted(d["units"])), "budget_epsilon": st["budget_epsilon"],
                      "budget_delta": st["budget_delta"], "spent_epsilon_all": st["spent_epsilon"],
                      "remaining_epsilon": st["remaining_epsilon"]})
    return {"entries": rows, "datasets": spent, "composition": "basic (epsilons and deltas add up)"}


def _findings(ws: Any, purpose: Purpose, job: Any, datasets: list[dict[str, Any]], roles: list[Any],
              now: Any) -> dict[str, Any]:
    """Failing compliance findings about this purpose, its datasets, categories and roles, or the
    audit log."""
    from omniguard.compliance.checks import all_rules, run_checks

    only = sorted(r for r in all_rules() if r != PIA_RULE)  # the assessment being written cannot judge itself
    results = run_checks(ws, only=only, now=now)
    names = {d["dataset"] for d in datasets}
    cats = set(category_ids(purpose, job))
    role_ids = {r.id for r in roles}

    def concerns(target: str) -> bool:
        kind, _, rest = target.partition(":")
        if kind == "purpose":
            return rest == purpose.id
        if kind == "dataset":
            return rest.split("#", 1)[0] in names
        if kind == "role":
            return rest in role_ids
        if kind == "category":
            return rest in cats
        return target == "audit-log"

    found = [{"rule": f.rule, "article": f.article, "severity": f.severity, "target": f.target, "message": f.message}
             for r in results for f in r.findings if r.status == "fail" and concerns(f.target)]
    return {"rules_run": len(results), "failed_rules": sorted({f["rule"] for f in found}), "items": found}
