"""Data-subject rights: access/portability export, erasure with tombstone and crypto-shredding,
correction, request status and due dates."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json

import pytest

from omniguard.errors import InputError

PN1 = "privacy-notice@1"


@pytest.fixture
def crm(tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text("member_id,name,city\nM1,张三,上海\nM2,李四,北京\nM1,张三,杭州\n", encoding="utf-8")
    return path


def test_export_holds_everything_about_the_subject(any_workspace, crm):
    ws = any_workspace
    ws.consent.grant("M1", "analytics", notice=PN1, birth_date="1990-02-03")
    ws.consent.grant("M1", "joint_profiling", notice="joint-profiling-consent@1", separate=True, sign=True)
    ws.consent.withdraw("M1", "analytics")
    ws.consent.grant("M2", "analytics", notice=PN1)
    doc = ws.rights.export("M1", datasets=[f"{crm}:member_id"])
    assert doc["format"] == "omniguard-subject-export/1" and doc["subject_id"] == "M1"
    assert [e["action"] for e in doc["consent"]["history"]] == ["grant", "grant", "withdraw"]
    assert {e["subject_id"] for e in doc["consent"]["history"]} == {"M1"}
    assert len(doc["consent"]["receipts"]) == 3 and len(doc["consent"]["signed_receipts"]) == 1
    decisions = {d["purpose"]: d["code"] for d in doc["consent"]["decisions"]}
    assert decisions["analytics"] == "withdrawn" and decisions["joint_profiling"] == "ok"
    assert doc["age_record"]["birth_date"] == "1990-02-03"
    assert {e["action"] for e in doc["audit_events"]} >= {"consent.grant", "consent.withdraw"}
    assert doc["datasets"] == [{"dataset": "crm.csv", "column": "member_id", "rows": [
        {"member_id": "M1", "name": "张三", "city": "上海"}, {"member_id": "M1", "name": "张三", "city": "杭州"}]}]
    assert doc["request"]["status"] == "completed" and doc["request"]["kind"] == "access"
    json.dumps(doc)  # JSON-ready
    read = next(ws.audit.query(action="read"))
    assert read["resource"]["dataset"] == "crm.csv" and read["rows"] == 2
    assert next(ws.audit.query(action="rights.export"))["subject_ref"] == ws.audit.subject_ref("M1")


def test_erase_deletes_tombstones_and_leaves_no_raw_id(any_workspace, crm):
    ws = any_workspace
    ws.consent.grant("M1", "analytics", notice=PN1, birth_date="1990-02-03", sign=True)
    ws.consent.grant("M2", "analytics", notice=PN1)
    res = ws.rights.erase("M1", datasets=[(crm, "member_id")])
    assert res["deleted"] == {"events": 1, "state": 1, "receipts": 1, "age_record": 1}
    assert res["datasets"] == {"crm.csv": 2}
    assert crm.read_text(encoding="utf-8").splitlines() == ["member_id,name,city", "M2,李四,北京"]
    expected = None if importlib.util.find_spec("omniguard.crypto.keyring") is None else False
    assert res["key_shredded"] is expected
    assert ws.consent.history("M1") == [] and ws.consent.state("M1") == []
    assert ws.consent.allowed(["M1", "M2"], "analytics").tolist() == [False, True]
    assert ws.consent.allowed(["M1", "M2"], "membership").tolist() == [False, True]
    with ws.store.read() as conn:
        for table in ("consent_tombstones", "rights_requests", "audit_events"):
            text = json.dumps([list(map(str, r)) for r in conn.exec_driver_sql(f"SELECT * FROM {table}")])
            assert "M1" not in text.replace(ws.audit.subject_ref("M1"), ""), table
    with pytest.raises(InputError, match="erased"):
        ws.consent.grant("M1", "analytics", notice=PN1)
    assert ws.verify().ok


@pytest.mark.skipif(importlib.util.find_spec("omniguard.crypto.keyring") is None,
                    reason="the keyring (crypto issue) is not in this branch yet")
def test_erase_crypto_shreds_the_subject_key(workspace):
    ws = workspace
    assert ws.keyring.subject_keys(["M7"], create=True)[0] is not None
    res = ws.rights.erase("M7")
    assert res["key_shredded"] is True
    assert ws.keyring.subject_keys(["M7"]) == [None]
    assert next(ws.audit.query(action="rights.erase"))["details"]["key_shredded"] is True


def test_correct_birth_date_changes_the_under_14_decision(workspace, tmp_path, crm):
    ws = workspace
    ws.consent.grant("M1", "analytics", notice=PN1, birth_date="2015-01-01")
    assert ws.consent.explain("M1", "analytics").code == "minor_without_guardian"
    res = ws.rights.correct("M1", birth_date="1995-01-01", datasets=[f"{crm}:member_id"], values={"city": "苏州"})
    assert res["birth_date"] and res["datasets"] == {"crm.csv": 2}
    assert ws.consent.explain("M1", "analytics").allowed
    assert crm.read_text(encoding="utf-8").count("苏州") == 2
    # A later import of the old (wrong) birth date does not undo a correction.
    ws.consent.grant("M1", "personalised_marketing", notice=PN1, birth_date="2015-01-01")
    assert ws.consent.explain("M1", "analytics").allowed
    with pytest.raises(InputError, match="subject id column"):
        ws.rights.correct("M1", datasets=[f"{crm}:member_id"], values={"member_id": "M9"})
    with pytest.raises(InputError, match="nothing to correct"):
        ws.rights.correct("M1")


def test_requests_due_dates_and_overdue(workspace):
    ws = workspace
    # Received Friday 2026-01-02: 15 working days later, weekends skipped, is Friday 2026-01-23.
    req = ws.rights.open("access", "M1", received="2026-01-02T10:00:00+08:00")
    assert req.due == "2026-01-23" and req.status == "open" and req.overdue(dt.date(2026, 1, 26))
    assert not req.overdue(dt.date(2026, 1, 23))
    assert [r.request_id for r in ws.rights.list(overdue=True)] == [req.request_id]
    with pytest.raises(InputError, match="not an open access request for this subject"):
        ws.rights.export("M2", request_id=req.request_id)
    doc = ws.rights.export("M1", request_id=req.request_id)
    assert doc["request"]["status"] == "completed" and doc["request"]["late"]
    assert ws.rights.list(overdue=True) == []
    other = ws.rights.open("erase", "M3")
    assert ws.rights.reject(other.request_id, "identity not verified").status == "rejected"
    with pytest.raises(InputError, match="already rejected"):
        ws.rights.reject(other.request_id, "again")
    assert {r.kind: r.status for r in ws.rights.list()} == {"access": "completed", "erase": "rejected"}
