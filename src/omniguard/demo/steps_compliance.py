"""Demo: compliance checks, an impact assessment of joint profiling, and the officer's report
(steps 800-899)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omniguard.demo import DemoContext, Step

ANSWERS = "pia-answers-joint-profiling.yaml"


def _examples() -> Path:
    """The repository's examples/ folder (the demo runs from a checkout: `make demo`)."""
    return Path(__file__).resolve().parents[3] / "examples"


def run_check(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.compliance.checks import run_checks
    from omniguard.fileio import atomic_write_text

    results = run_checks(ctx.ws)
    path = ctx.directory / "compliance-check.json"
    atomic_write_text(path, json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2) + "\n")
    ctx.reports["compliance checks (JSON)"] = str(path)
    ctx.data["check_failed"] = [r.rule for r in results if r.status == "fail"]
    return {"rules": len(results), "passed": sum(r.status == "pass" for r in results),
            "failed (findings to act on)": {r.rule: len(r.findings) for r in results if r.status == "fail"},
            "not applicable yet": [r.rule for r in results if r.status == "n/a"]}


def joint_profiling_pia(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.compliance import pia
    from omniguard.compliance.pia_questions import load_answers
    from omniguard.compliance.pia_render import render
    from omniguard.fileio import atomic_write_text

    answers_file = _examples() / ANSWERS
    answers = load_answers(answers_file) if answers_file.exists() else None
    rec = pia.create(ctx.ws, purpose="joint_profiling", answers=answers)
    for lang in ("zh", "en"):
        path = ctx.directory / f"pia-joint-profiling.{lang}.html"
        atomic_write_text(path, render(rec, lang))
        ctx.reports[f"impact assessment, joint profiling ({lang})"] = str(path)
    json_path = ctx.directory / "pia-joint-profiling.json"
    atomic_write_text(json_path, json.dumps(rec.to_dict(), ensure_ascii=False, indent=2) + "\n")
    ctx.reports["impact assessment, joint profiling (JSON)"] = str(json_path)
    doc = rec.document
    out = {"assessment": rec.id, "status": rec.status, "kept until": rec.retain_until[:10],
           "answers": answers_file.name if answers else "none found (the assessment stays a draft)",
           "signature": "verified" if pia.verify_ref(ctx.ws, rec.id)["ok"] else "NOT VERIFIED",
           "residual risks": [f"{r['level']}: {r['code']}" for r in doc["risks"]]}
    spent = doc["facts"]["privacy"]["datasets"]
    if spent:
        out["DP spent for the purpose"] = {d["dataset"]: f"epsilon {d['epsilon']:g}, delta {d['delta']:g}, "
                                                         f"unit {d['unit']}" for d in spent}
    if ctx.data.get("spec"):  # the federation steps ran: assess their job too
        job = pia.create(ctx.ws, job=ctx.data["spec"], answers=answers)
        path = ctx.directory / f"pia-job-{job.subject}.en.html"
        atomic_write_text(path, render(job, "en"))
        ctx.reports[f"impact assessment, job {job.subject} (en)"] = str(path)
        entries = job.document["facts"]["privacy"]["entries"]
        out["federated job assessment"] = (f"{job.id} ({job.status}); ledger: " + "; ".join(
            f"{e['dataset']} epsilon {e['epsilon']:g}, delta {e['delta']:g}, unit {e['unit']}" for e in entries)
            if entries else f"{job.id} ({job.status})")
    return out


def officer_report(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.compliance.report import build
    from omniguard.compliance.report_render import render
    from omniguard.fileio import atomic_write_text

    data = build(ctx.ws)
    for lang in ("zh", "en"):
        path = ctx.directory / f"compliance-report.{lang}.html"
        atomic_write_text(path, render(data, lang))
        ctx.reports[f"compliance report ({lang})"] = str(path)
    return {"period from": data["since"][:10], "accesses": data["access"]["total"],
            "denials": data["denials"]["total"], "datasets": data["inventory"]["datasets"],
            "failing rules": data["checks"]["failed"],
            "purposes still lacking a current assessment": [r["purpose"] for r in data["pias"]["required"]
                                                            if not r["current"]]}


STEPS = [
    Step(800, "Run the PIPL compliance checks (failing rules are findings to act on, e.g. art38)", run_check),
    Step(810, "Impact assessment of joint profiling (Art. 55-56): generated facts, the DPO's answers, signed",
         joint_profiling_pia),
    Step(820, "The compliance officer's report, in Chinese and English", officer_report),
]
