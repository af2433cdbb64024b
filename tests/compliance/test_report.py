"""The compliance report: every figure agrees with the source it summarises; the CLI; and both
pages (report and impact assessment, zh and en) render in headless Chromium without errors."""

from __future__ import annotations

import collections
import html as htmllib
import re

import pytest

from omniguard.compliance import pia, report
from omniguard.compliance.report_render import render


@pytest.fixture(scope="module")
def data(shared_populated):
    return report.build(shared_populated)


def test_consent_figures_agree_with_the_registry(shared_populated, data):
    from omniguard.consent import reports

    ws = shared_populated
    st = reports.stats(ws)
    c = data["consent"]
    assert c["known_subjects"] == st["known_subjects"]
    for p in st["purposes"]:
        if p["coverage"] is not None:  # the month running now ends at "now": the registry's current answer
            assert c["coverage_over_time"][p["purpose"]][-1] == p["coverage"]
    assert set(c["coverage_over_time"]) == {p["purpose"] for p in st["purposes"] if p["legal_basis"] == "consent"}
    assert all(0 <= v <= 1 for series in c["coverage_over_time"].values() for v in series)
    hist = reports.history_frame(ws, action="withdraw", since=data["since"])
    expected = hist.groupby("purpose").size().to_dict()
    assert {p: sum(v) for p, v in c["withdrawals_over_time"].items()} == expected and expected
    per_month = hist.assign(m=hist["ts"].str[:7]).groupby("m").size()
    for m, n in per_month.items():
        assert sum(v[c["months"].index(m)] for v in c["withdrawals_over_time"].values()) == n


def test_access_denials_inventory_and_checks_agree_with_their_sources(shared_populated, data):
    from omniguard.compliance.checks import run_checks

    ws = shared_populated
    until = data["generated_at"]
    reads = [e for e in ws.audit.query(since=data["since"], until=until)
             if e["action"] in ("read", "dp.release") and e["decision"] in ("allow", "partial")]
    expected = collections.Counter((e["purpose"], e.get("role") or "-") for e in reads)
    assert {(r["purpose"], r["role"]): r["events"] for r in data["access"]["by_purpose_role"]} == expected
    assert data["access"]["total"] == len(reads) == 4  # three guarded reads and the DP release
    denied = [e for e in ws.audit.query(decision="deny", since=data["since"], until=until)
              if not e["action"].startswith("compliance.")]
    assert data["denials"]["total"] == len(denied) == 2
    assert {d["reason"] for d in data["denials"]["latest"]} == {e["reason"] for e in denied}
    cols = collections.Counter(c["grade"] for d in ws.inventory.datasets()
                               for c in ws.inventory.get(d["dataset"])["columns"])
    assert data["inventory"]["columns_by_grade"] == {g: cols.get(g, 0) for g in ("public", "internal", "sensitive",
                                                                                 "highly_sensitive")}
    assert data["checks"]["failed"] == [r.rule for r in run_checks(ws) if r.status == "fail"]
    budgets = {b["dataset"]: b for b in data["privacy"]["datasets"]}
    assert set(budgets) == {s.dataset for s in ws.ledger.datasets()} == {"crm/customers"}
    for s in ws.ledger.datasets():
        row = budgets[s.dataset]
        assert (row["budget_epsilon"], row["budget_delta"]) == (s.epsilon, s.delta)
        assert row["spent_epsilon"] == round(s.spent_epsilon, 6) and row["spent_delta"] == s.spent_delta
        assert row["unit"] == ", ".join(sorted({e["unit"] for e in ws.ledger.entries(s.dataset)}))
    assert {r["purpose"] for r in data["pias"]["required"] if not r["current"]} >= {"joint_profiling"}


def test_report_cli(cli, shared_populated, tmp_path):
    ws = shared_populated
    out = tmp_path / "report.zh.html"
    before = len(list(ws.audit.query(action="compliance.report")))
    r = cli(f"-w {ws.root} report -o {out} --lang zh --since 2026-06-01 --json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["file"] == str(out) and doc["consent"]["months"][0] == "2026-06" and out.exists()
    assert "个人信息保护合规报告" in out.read_text(encoding="utf-8")
    assert len(list(ws.audit.query(action="compliance.report"))) == before + 1
    for args, message in (("--since yesterday", "--since"), ("--since 2099-01-01", "future"),
                          ("--since 1990-01-01", "at most"), ("--lang fr", "fr")):
        r = cli(f"-w {ws.root} report -o {tmp_path / 'x.html'} {args}")
        assert r.exit_code == 2 and message in r.stderr
        assert not (tmp_path / "x.html").exists()


def _shown(chromium, tmp_path, name: str, page: str) -> str:
    path = tmp_path / name
    path.write_text(page, encoding="utf-8")
    dom = chromium(path)
    tag = re.search(r"<html[^>]*>", dom).group(0)
    charts = page.count('<svg class="chart"')
    assert charts > 0 and f'data-rendered="{charts}"' in tag, tag
    assert "data-error" not in tag
    return htmllib.unescape(dom)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_compliance_report_renders_in_chromium(chromium, tmp_path, data, lang):
    from omniguard.compliance.report_render import TEXT

    page = render(data, lang)
    assert page.count('<svg class="chart"') == 6  # coverage, withdrawals, accesses, denials, grades, budget
    dom = _shown(chromium, tmp_path, f"report.{lang}.html", page)
    for key in ("title", "coverage", "withdrawals", "access", "denials", "grades", "budget", "checks", "pias"):
        assert TEXT[key][lang] in dom
    for p in data["consent"]["current"]:
        if p["coverage"] is not None:
            assert f"{p['coverage']:.1%}" in dom
    assert f"<td>{data['denials']['total']}</td>" in dom and f"<td>{data['consent']['known_subjects']}</td>" in dom
    for b in data["privacy"]["datasets"]:
        assert f"<td>{b['dataset']}</td><td>{b['budget_epsilon']:.4g}</td>" in dom and b["unit"] in dom
    for rule in data["checks"]["failed"]:
        assert rule in dom


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_impact_assessment_renders_in_chromium(chromium, tmp_path, shared_populated, lang):
    from omniguard.compliance.pia_render import TEXT
    from omniguard.compliance.pia_render import render as render_pia

    rec = pia.create(shared_populated, purpose="personalised_marketing")
    f = rec.document["facts"]
    dom = _shown(chromium, tmp_path, f"pia.{lang}.html", render_pia(rec, lang))
    for key in ("title", "why", "purpose", "categories", "datasets", "protection", "privacy", "risks", "questions"):
        assert TEXT[key][lang] in dom
    assert rec.id in dom and rec.content_sm3 in dom
    assert f"{f['consent']['coverage']:.1%}" in dom and f"<td>{f['consent']['allowed']}</td>" in dom
    for c in f["categories"]:
        assert c["id"] in dom
    for r in rec.document["risks"]:
        assert r[lang] in dom


def test_report_and_assessment_on_both_stores(any_workspace):
    """The month-end replay, the audit summaries and the assessment records on SQLite and PostgreSQL."""
    from omniguard.consent import reports

    ws = any_workspace
    for i in range(12):
        ws.consent.grant(f"M{i:05d}", "analytics", notice="privacy-notice@1", at=f"2026-0{1 + i % 6}-10T08:00:00Z")
    for i in range(3):
        ws.consent.withdraw(f"M{i:05d}", "analytics", at="2026-07-02T08:00:00Z")
    ws.audit.record("read", actor="a@x", role="analyst", purpose="analytics", rows=9)
    ws.audit.record("read", actor="a@x", role="marketing", purpose="joint_profiling", decision="deny", reason="role")
    data = report.build(ws, since="2026-01-01")
    cov = data["consent"]["coverage_over_time"]["analytics"]
    months = data["consent"]["months"]
    assert cov[months.index("2026-06")] == 1.0 and cov[months.index("2026-07")] == 0.75
    assert cov[-1] == next(p["coverage"] for p in reports.stats(ws)["purposes"] if p["purpose"] == "analytics")
    assert data["consent"]["withdrawals_over_time"] == {"analytics": [3 if m == "2026-07" else 0 for m in months]}
    assert data["access"]["by_purpose_role"] == [{"purpose": "analytics", "role": "analyst", "events": 1, "rows": 9}]
    assert data["denials"]["total"] == 1
    rec = pia.create(ws, purpose="personalised_marketing")
    assert pia.verify_ref(ws, rec.id)["ok"] and [r.id for r in pia.list_records(ws)] == [rec.id]
