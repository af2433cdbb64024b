"""The job report a partner or a regulator reads: who took part, how many rows each used (counts
only), the rounds, the privacy guarantee with its unit and delta, utility, wall time and traffic.
JSON for machines, HTML for people; both written atomically next to the job's other files."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from omniguard.fileio import atomic_write_text
from omniguard.profiling.federated.spec import JobSpec


def build_report(spec: JobSpec, outcome: dict[str, Any], *, engine: str, wall_seconds: float,
                 coordinator_key: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    partners = []
    for pid in spec.partners:
        info = outcome.get("partners", {}).get(pid, {})
        partners.append({
            "id": pid, "rows": info.get("rows"),
            "epsilon": outcome.get("privacy", {}).get("per_partner", {}).get(pid, {}).get("epsilon"),
            "received_model": pid in outcome.get("partner_metrics", {}),
            "metrics": {k: v for k, v in outcome.get("partner_metrics", {}).get(pid, {}).items() if k != "verified"},
        })
    return {
        "job": spec.job_id, "description": spec.description, "task": spec.task, "purpose": spec.purpose,
        "engine": engine, "spec_digest": spec.digest(), "coordinator": spec.coordinator,
        "coordinator_key": coordinator_key, "features": [f.column for f in spec.features],
        "label": spec.label.column if spec.label else None, "rounds": outcome.get("rounds"),
        "partners": partners, "rows_total": sum(p["rows"] or 0 for p in partners),
        "privacy": outcome.get("privacy"),
        "utility_note": ("metrics computed by each partner on its own consenting customers with the final model; "
                         "not covered by the DP guarantee" if spec.share_metrics else
                         "partners keep their utility metrics (share_metrics = false)"),
        "screening": outcome.get("events", []),
        "wall_seconds": round(wall_seconds, 2), "serverapp_seconds": outcome.get("serverapp_seconds"),
        "bytes_sent": outcome.get("bytes_sent"), "bytes_received": outcome.get("bytes_received"),
        "model": outcome.get("model"), "finished": outcome.get("finished"), **(extra or {}),
    }


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if v is None:
        return "–"
    return str(v)


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    priv = report.get("privacy") or {}
    if priv.get("mode") == "record":
        headline = (f"ε = {_fmt(priv.get('epsilon'))} at δ = {_fmt(priv.get('delta'))} per {e(str(priv.get('unit')))}"
                    f" ({e(str(priv.get('accountant')))})")
        if "epsilon_customer_of_all_partners" in priv:
            headline += (f"; a person who is a customer of every partner: ε = "
                         f"{_fmt(priv['epsilon_customer_of_all_partners'])}")
    else:
        headline = "no differential privacy"
    metric_keys = sorted({k for p in report["partners"] for k in p["metrics"]})
    rows = "".join(
        "<tr>" + "".join(f"<td>{e(_fmt(v))}</td>" for v in
                         [p["id"], p["rows"], p["epsilon"], "yes" if p["received_model"] else "no",
                          *[p["metrics"].get(k) for k in metric_keys]]) + "</tr>"
        for p in report["partners"])
    head = "".join(f"<th>{e(h)}</th>" for h in ["partner", "rows used", "ε (per customer)", "model received", *metric_keys])
    events = "".join(f"<li>{e(str(ev.get('kind')))} – round {e(str(ev.get('round')))}, {e(str(ev.get('partner', ev.get('node', ''))))}: "
                     f"{e(str(ev.get('reason', '')))}</li>" for ev in report.get("screening", []))
    facts = [("job", report["job"]), ("task", report["task"]), ("purpose", report["purpose"]),
             ("engine", report["engine"]), ("rounds", report["rounds"]), ("features", ", ".join(report["features"])),
             ("label", report["label"]), ("rows used (all partners)", report["rows_total"]),
             ("wall time (s)", report["wall_seconds"]), ("ServerApp time (s)", report["serverapp_seconds"]),
             ("payload bytes sent / received", f"{report['bytes_sent']} / {report['bytes_received']}"),
             ("spec digest (SM3)", report["spec_digest"]), ("model signed by", report["coordinator_key"][:24] + "…")]
    facts_html = "".join(f"<tr><th>{e(k)}</th><td>{e(_fmt(v))}</td></tr>" for k, v in facts)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>omniguard job report: {e(report['job'])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse;margin:1em 0}}
th,td{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}.priv{{background:#eef6ee;padding:.8em;border-left:4px solid #393}}</style>
</head><body>
<h1>Federated job report: {e(report['job'])}</h1>
<p>{e(report.get('description') or '')}</p>
<p class="priv"><strong>Privacy:</strong> {headline}</p>
<table>{facts_html}</table>
<h2>Partners</h2><table><tr>{head}</tr>{rows}</table>
<p><em>{e(report['utility_note'])}</em></p>
<h2>Screening of partner updates</h2><ul>{events or '<li>every update was accepted unchanged</li>'}</ul>
<p>Raw rows never left a partner; only model updates (propensity) or noisy per-segment sums and counts (segments) did.</p>
</body></html>
"""


def write_report(folder: Path, report: dict[str, Any]) -> tuple[Path, Path]:
    json_path, html_path = folder / "report.json", folder / "report.html"
    atomic_write_text(json_path, json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    atomic_write_text(html_path, render_html(report))
    return json_path, html_path
