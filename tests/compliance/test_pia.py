"""Impact assessments: generated figures, answers and status, versions, signatures, the retention
lock, the Art. 55 rule (passing and failing fixtures) and the CLI."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from omniguard.compliance import pia
from omniguard.compliance.checks import run_checks
from omniguard.compliance.pia_questions import QUESTIONS
from omniguard.errors import InputError


def full_answers(doc=None) -> dict[str, str]:
    return {q.key: f"answer to {q.key}" for q in QUESTIONS if q.applies_when != "never"}


def test_assessment_figures_come_from_the_workspace(populated):
    from omniguard.consent import reports

    ws = populated
    rec = pia.create(ws, purpose="personalised_marketing")
    doc = rec.document
    f = doc["facts"]
    p = ws.policy.purpose("personalised_marketing")
    assert [c["id"] for c in f["categories"]] == p.categories
    assert {c["id"]: c["grade"] for c in f["categories"]} == {c: ws.policy.grade_of(c).value for c in p.categories}
    # datasets: exactly the inventory's datasets with a column of the purpose's categories
    inv = {d["dataset"]: ws.inventory.get(d["dataset"]) for d in ws.inventory.datasets()}
    expected = {n for n, r in inv.items() if any(c["category"] in p.categories for c in r["columns"])}
    assert {d["dataset"] for d in f["datasets"]} == expected and expected
    assert f["volume"]["individuals_max"] == max(inv[n]["individuals"] for n in expected)
    # consent: the registry's own statistics
    st = reports.stats(ws, purpose=p.id)["purposes"][0]
    assert f["consent"]["allowed"] == st["allowed"] and f["consent"]["coverage"] == st["coverage"]
    assert f["consent"]["reasons"] == st["reasons"]
    # protection: what each role's policy says for each grade
    for row in f["protection"]["roles"]:
        role = ws.policy.role(row["role"])
        assert role.may_use(p.id)
        assert row["grades"] == {g: role.protection.for_grade(g) for g in row["grades"]}
    assert {r["role"] for r in f["protection"]["roles"]} == {r.id for r in ws.policy.roles.values() if r.may_use(p.id)}
    # differential privacy: the ledger entries charged for this purpose, with epsilon, delta and unit
    entries = ws.ledger.entries()
    assert [e["id"] for e in f["privacy"]["entries"]] == [e["id"] for e in entries] and entries
    (spent,) = f["privacy"]["datasets"]
    state = ws.ledger.state("crm/customers")
    assert spent["epsilon"] == sum(e["epsilon"] for e in entries) == state.spent_epsilon
    assert spent["unit"] == entries[0]["unit"] and spent["remaining_epsilon"] == round(state.remaining_epsilon, 6)
    # triggers and risks
    assert [t["code"] for t in f["triggers"]] == ["automated_decision"]
    auto = next(r for r in doc["risks"] if r["code"] == "automated_decision")
    assert auto["figures"]["opted_out"] == st["reasons"].get("opted_out", 0) > 0
    # no answers: a draft with every required question open
    assert rec.status == "draft"
    assert set(doc["open"]) == {q["key"] for q in doc["questions"] if q["required"]}
    assert "automated_decision_fairness" in doc["open"] and "foreign_recipient_protection" not in doc["open"]


def test_findings_and_cross_border_risk(workspace):
    rec = pia.create(workspace, purpose="cross_border_service")
    doc = rec.document
    rules = {x["rule"] for x in doc["facts"]["findings"]["items"]}
    assert "art38-cross-border-mechanism" in rules  # the default pack records no mechanism
    assert all(x["target"] in ("purpose:cross_border_service", "audit-log") for x in doc["facts"]["findings"]["items"])
    codes = {r["code"]: r for r in doc["risks"]}
    assert codes["cross_border_no_mechanism"]["level"] == "high"
    assert doc["risks"][0]["level"] == "high"  # sorted by level
    assert "foreign_recipient_protection" in doc["open"]


def test_answers_complete_the_assessment_and_versions_count_up(workspace):
    v1 = pia.create(workspace, purpose="joint_profiling", answers={"reviewer": "Wang Fang, DPO"})
    assert v1.status == "draft" and "reviewer" not in v1.document["open"]
    v2 = pia.create(workspace, purpose="joint_profiling", answers=full_answers())
    assert (v1.id, v2.id) == ("purpose:joint_profiling@v1", "purpose:joint_profiling@v2")
    assert v2.status == "complete" and v2.document["open"] == []
    assert pia.get(workspace, "purpose:joint_profiling").id == v2.id
    assert pia.get(workspace, "purpose:joint_profiling@v1").id == v1.id
    created = dt.datetime.fromisoformat(v2.created_at.replace("Z", "+00:00"))
    kept = dt.datetime.fromisoformat(v2.retain_until.replace("Z", "+00:00"))
    assert kept >= created.replace(year=created.year + 3) - dt.timedelta(days=1)
    with pytest.raises(InputError, match="at least 3 years"):
        pia.create(workspace, purpose="joint_profiling", retain_years=2)
    with pytest.raises(InputError, match="unknown question key"):
        pia.create(workspace, purpose="joint_profiling", answers={"reveiwer": "typo"})
    for bad in ("joint_profiling", "purpose:Joint", "purpose:x@v0", "policy:joint_profiling@v1"):
        with pytest.raises(InputError, match="looks like"):
            pia.get(workspace, bad)


def test_art55_rule_failing_and_passing_fixtures(workspace, edit_policy):
    def status(ws):
        (res,) = run_checks(ws, only=["art55-pia-recorded"])
        return res

    needing = ["cross_border_service", "health_services", "joint_profiling", "order_fulfilment",
               "personalised_marketing"]
    res = status(workspace)  # failing fixture: nothing assessed
    assert res.status == "fail" and sorted(f.target for f in res.findings) == [f"purpose:{p}" for p in needing]
    assert all(f.severity == "high" and "no impact assessment" in f.message for f in res.findings)

    pia.create(workspace, purpose="joint_profiling")  # a draft does not count
    draft = next(f for f in status(workspace).findings if f.target == "purpose:joint_profiling")
    assert "draft" in draft.message and draft.severity == "medium"

    for p in needing:  # passing fixture: every purpose that needs one has a complete assessment
        pia.create(workspace, purpose=p, answers=full_answers())
    assert status(workspace).status == "pass"

    def longer(doc):
        next(p for p in doc["purposes"] if p["id"] == "joint_profiling")["retention_days"] = 730

    res = status(edit_policy(workspace, longer))  # the purpose changed: assess again
    assert res.status == "fail" and [f.target for f in res.findings] == ["purpose:joint_profiling"]
    assert "changed in the policy" in res.findings[0].message


def test_signature_hash_and_audit_event_catch_edits_and_removals(workspace):
    rec = pia.create(workspace, purpose="health_services", answers=full_answers())
    assert pia.verify_ref(workspace, rec.id)["ok"]
    ev = [e for e in workspace.audit.query(action="pia.create")]
    assert len(ev) == 1 and ev[0]["details"]["sm3"] == rec.content_sm3 and ev[0]["details"]["id"] == rec.id
    # an insider with database-owner rights drops the lock and edits the answers
    with workspace.store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER compliance_pias_no_update")
        conn.exec_driver_sql("UPDATE compliance_pias SET body = replace(body, 'answer to reviewer', 'nobody')")
    res = pia.verify_ref(workspace, rec.id)
    assert not res["ok"] and "content hash does not match the stored body" in res["problems"]
    with workspace.store.engine.begin() as conn:  # ... and re-hashes it, but cannot re-sign with the workspace key
        from omniguard.crypto.sm3 import sm3

        body = conn.exec_driver_sql("SELECT body FROM compliance_pias").scalar()
        conn.exec_driver_sql("UPDATE compliance_pias SET content_sm3 = ?", (sm3(body.encode()).hex(),))
    problems = pia.verify_ref(workspace, rec.id)["problems"]
    assert "SM2 signature does not verify" in problems
    assert "content hash differs from the one in the pia.create audit event" in problems
    with workspace.store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER compliance_pias_keep")
        conn.exec_driver_sql("DELETE FROM compliance_pias")
    res = pia.verify_all(workspace)
    assert not res["ok"] and res["missing"] == [rec.id]


def test_retention_lock_no_deletion_before_retain_until(any_workspace, cli, monkeypatch):
    """The store refuses UPDATE and early DELETE (SQLite and PostgreSQL); `pia purge` removes only
    records whose retention ended, and a clock running ahead cannot make it remove more."""
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    from omniguard.compliance.tables import compliance_pias as t

    ws = any_workspace
    monkeypatch.setattr(pia, "_now", lambda: dt.datetime(2020, 1, 15, tzinfo=dt.UTC))
    old = pia.create(ws, purpose="joint_profiling")  # kept until 2023: its retention is over
    monkeypatch.undo()
    new = pia.create(ws, purpose="joint_profiling")
    assert old.retain_until.startswith("2023-01-15") and new.version == 2
    for stmt in (delete(t).where(t.c.id == new.id), update(t).where(t.c.id == new.id).values(status="complete"),
                 update(t).where(t.c.id == old.id).values(retain_until="2099-01-01T00:00:00.000000Z")):
        with pytest.raises(DBAPIError, match=r"append-only|retain_until"), ws.store.write() as conn:
            conn.execute(stmt)
    r = cli(f"-w {ws.root} pia purge --dry-run --json")
    assert r.exit_code == 0 and r.json() == {"would_purge": [old.id]}
    monkeypatch.setattr(pia, "_now", lambda: dt.datetime(2031, 1, 1, tzinfo=dt.UTC))  # a clock far ahead
    r = cli(f"-w {ws.root} pia purge")
    assert r.exit_code == 2 and "refused" in r.stderr
    monkeypatch.undo()
    assert [x.id for x in pia.list_records(ws)] == [old.id, new.id]  # nothing went, not even the old one
    r = cli(f"-w {ws.root} pia purge --json")
    assert r.exit_code == 0 and r.json() == {"purged": [old.id]}
    assert [x.id for x in pia.list_records(ws)] == [new.id]
    assert pia.verify_all(ws)["ok"]  # a purge is in the audit log, so the old record is not "missing"


def test_cli_create_list_show_verify(cli, workspace, tmp_path):
    ws = workspace
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(full_answers(), allow_unicode=True), encoding="utf-8")
    page = tmp_path / "pia.zh.html"
    r = cli(f"-w {ws.root} pia create --purpose health_services --answers {answers} -o {page} --lang zh --json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["id"] == "purpose:health_services@v1" and doc["status"] == "complete" and doc["file"] == str(page)
    assert "个人信息保护影响评估" in page.read_text(encoding="utf-8")
    r = cli(f"-w {ws.root} pia list --json")
    assert [x["id"] for x in r.json()] == ["purpose:health_services@v1"]
    r = cli(f"-w {ws.root} pia show purpose:health_services -o {tmp_path / 'again.html'}")
    assert r.exit_code == 0 and (tmp_path / "again.html").exists()
    r = cli(f"-w {ws.root} pia verify purpose:health_services@v1 --json")
    assert r.exit_code == 0 and r.json()["ok"]
    assert len(list(ws.audit.query(action="pia.create"))) == 1
    assert len(list(ws.audit.query(action="pia.show"))) == 1
    with ws.store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER compliance_pias_no_update")
        conn.exec_driver_sql("UPDATE compliance_pias SET status = 'draft'")
    r = cli(f"-w {ws.root} pia verify --all --json")
    assert r.exit_code == 1 and r.json()["records"][0]["problems"] == ["stored fields differ from the signed body"]


@pytest.mark.parametrize("args, message", [
    ("pia create --purpose nope", "nope"),
    ("pia create", "one of them"),
    ("pia create --purpose analytics --job x.toml", "one of them"),
    ("pia create --purpose analytics -o out.pdf", "as .html"),
    ("pia create --purpose analytics --answers missing.yaml", "file not found"),
    ("pia create --purpose analytics --answers bad.yaml", "not valid YAML"),
    ("pia create --purpose analytics --answers gbk.yaml", "UTF-8"),
    ("pia create --purpose analytics --answers list.yaml", "mapping of question key"),
    ("pia create --purpose analytics --answers typo.yaml", "unknown question key 'necesity'"),
    ("pia create --purpose analytics --retain-years 1", "1"),
    ("pia show purpose:analytics@v9", "no impact assessment"),
    ("pia show ../etc", "looks like"),
    ("pia verify", "an assessment ID or --all"),
])
def test_cli_bad_input_exit_2_and_nothing_written(cli, workspace, tmp_path, args, message):
    (tmp_path / "bad.yaml").write_text("reviewer: [unclosed\n", encoding="utf-8")
    (tmp_path / "gbk.yaml").write_bytes("reviewer: 王芳\n".encode("gbk"))
    (tmp_path / "list.yaml").write_text("- reviewer\n", encoding="utf-8")
    (tmp_path / "typo.yaml").write_text("necesity: because\n", encoding="utf-8")
    r = cli(f"-w {workspace.root} {args}", cwd=tmp_path)
    assert r.exit_code == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert pia.list_records(workspace) == [] and not (tmp_path / "out.pdf").exists()


SPEC = """[job]
id = "spring-segments"
task = "segments"
purpose = "joint_profiling"
subject_column = "member_id"
rounds = 3

[[partners]]
id = "brand"
[[partners]]
id = "retailer"

[[features]]
column = "monetary_90d"
category = "transaction"
lower = 0
upper = 5000

[[features]]
column = "{second}"
category = "{category}"
lower = 0
upper = 1

[privacy]
epsilon = 2.0
delta = 1e-5
"""


def test_job_assessment(cli, workspace, tmp_path):
    ws = workspace
    spec = tmp_path / "job.toml"
    spec.write_text(SPEC.format(second="visits_90d", category="transaction"), encoding="utf-8")
    ws.ledger.set_budget("retailer-customers.csv", 8.0, 1e-4)
    ws.ledger.charge("retailer-customers.csv", 1.7, 1e-5, kind="federated-job", ref="spring-segments",
                     unit="customer", purpose="joint_profiling")
    ws.ledger.charge("retailer-customers.csv", 0.5, 0.0, kind="release", ref="r-other", unit="customer")
    r = cli(f"-w {ws.root} pia create --job {spec} --json -o {tmp_path / 'job.html'}")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["id"] == "job:spring-segments@v1" and doc["purpose"] == "joint_profiling"
    f = doc["assessment"]["facts"]
    assert f["job"]["partners"] == ["brand", "retailer"] and f["job"]["privacy"]["epsilon"] == 2.0
    assert [c["id"] for c in f["categories"]] == ["transaction"]
    assert {r["name"] for r in f["recipients"]} >= {"brand", "retailer"}
    assert [t["code"] for t in f["triggers"]] == ["provision"]
    assert [(e["ref"], e["epsilon"], e["unit"]) for e in f["privacy"]["entries"]] == [
        ("spring-segments", 1.7, "customer")]  # the job's own charge, not the other release
    assert "model_outputs_as_pi" in doc["assessment"]["open"]
    assert not any(x["code"] == "job_out_of_scope" for x in doc["assessment"]["risks"])
    assert "spring-segments" in (tmp_path / "job.html").read_text(encoding="utf-8")

    spec.write_text(SPEC.format(second="allergy_flag", category="health"), encoding="utf-8")
    rec = pia.create(ws, job=spec)
    assert rec.id == "job:spring-segments@v2"
    risk = next(x for x in rec.document["risks"] if x["code"] == "job_out_of_scope")
    assert risk["level"] == "high" and risk["figures"]["categories"] == ["health"]
    assert "sensitive" in [t["code"] for t in rec.document["facts"]["triggers"]]

    spec.write_text(SPEC.format(second="x", category="transaction").replace('"joint_profiling"', '"nope"'),
                    encoding="utf-8")
    r = cli(f"-w {ws.root} pia create --job {spec}")
    assert r.exit_code == 2 and "nope" in r.stderr
    spec.write_text("[job]\nid = 1\n", encoding="utf-8")
    r = cli(f"-w {ws.root} pia create --job {spec}")
    assert r.exit_code == 2 and "job.toml" in r.stderr
    assert [x.id for x in pia.list_records(ws)] == ["job:spring-segments@v1", "job:spring-segments@v2"]


def test_protection_shows_columns_stored_encrypted_as_released_as_stored(workspace):
    """A column stored as SM4 ciphertext leaves the guard as stored: the assessment says so, and a
    role that would see the clear column in clear does not count as seeing sensitive data in clear."""
    from omniguard.classify import classify_frame
    from omniguard.synth.retail import generate_customers

    df = generate_customers(60, seed=4)[["customer_name", "mobile", "amount"]]
    enc = df.copy()
    enc["mobile"] = workspace.keyring.column_cipher("members.csv", "mobile").encrypt(df["mobile"])
    workspace.inventory.save(classify_frame(enc, workspace.policy), dataset="members.csv", source="csv")
    cols = {c["column"]: c for c in pia.assess(workspace, purpose="membership")["facts"]["protection"]["columns"]}
    assert cols["mobile"]["operators"]["customer_service"] == "stored_encrypted"
    assert cols["customer_name"]["operators"]["customer_service"] == "clear"  # the role sees internal in clear
