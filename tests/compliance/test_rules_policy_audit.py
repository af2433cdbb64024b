"""Each rule over the policy pack and the audit log, with a passing and a failing fixture."""

from __future__ import annotations

import datetime as dt

from omniguard.compliance.checks import run_checks


def purpose(doc, pid):
    return next(p for p in doc["purposes"] if p["id"] == pid)


def _status(ws, rule_id, **kw):
    (res,) = run_checks(ws, only=[rule_id], **kw)
    return res


def test_art29_sensitive_categories_need_separate_consent(workspace, edit_policy):
    assert _status(workspace, "art29-sensitive-separate-consent").status == "pass"

    def drop_separate(doc):
        purpose(doc, "health_services")["separate_consent"] = False

    ws = edit_policy(workspace, drop_separate)
    res = _status(ws, "art29-sensitive-separate-consent")
    assert res.status == "fail"
    assert [f.target for f in res.findings] == ["purpose:health_services"]
    assert "health" in res.findings[0].message and "identity_document" in res.findings[0].message


def test_art23_partners_need_separate_consent(workspace, edit_policy):
    assert _status(workspace, "art23-partner-separate-consent").status == "pass"

    def share(doc):
        purpose(doc, "personalised_marketing")["third_parties"] = [{"name": "ad network", "role": "handler"}]

    res = _status(edit_policy(workspace, share), "art23-partner-separate-consent")
    assert res.status == "fail" and res.findings[0].target == "purpose:personalised_marketing"


def test_art38_cross_border_needs_mechanism(workspace, edit_policy):
    res = _status(workspace, "art38-cross-border-mechanism")  # the default pack has none recorded yet
    assert res.status == "fail" and res.findings[0].target == "purpose:cross_border_service"

    def record(doc):
        purpose(doc, "cross_border_service")["cross_border"].update(
            mechanism="standard_contract", reference="SCC-2026-007", recorded="2026-03-01")

    assert _status(edit_policy(workspace, record), "art38-cross-border-mechanism").status == "pass"


def test_audit_chain_rule(workspace):
    assert _status(workspace, "art54-audit-chain-intact").status == "pass"
    with workspace.store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_events WHERE seq = 1")
    res = _status(workspace, "art54-audit-chain-intact")
    assert res.status == "fail" and "deleted at seq 1" in res.findings[0].message


def test_unexpected_decrypts_and_exports(workspace):
    a = workspace.audit
    a.record("decrypt", actor="dpo@x", role="dpo", dataset="crm", rows=5)
    a.record("export", actor="mk@x", role="marketing", dataset="crm", rows=10)
    a.record("decrypt", actor="ana@x", role="analyst", dataset="crm", rows=5, decision="deny")  # denied: fine
    assert _status(workspace, "audit-unexpected-decrypt").status == "pass"
    assert _status(workspace, "audit-unexpected-export").status == "pass"
    a.record("decrypt", actor="ana@x", role="analyst", dataset="crm", rows=5)
    a.record("export", actor="eng@x", role="data_engineer", dataset="crm", rows=10)
    res = _status(workspace, "audit-unexpected-decrypt")
    assert res.status == "fail" and res.findings[0].target == "actor:ana@x"
    res = _status(workspace, "audit-unexpected-export")
    assert res.status == "fail" and res.findings[0].target == "actor:eng@x"


def test_bulk_exports(workspace):
    workspace.audit.record("export", actor="mk@x", role="marketing", rows=999)
    assert _status(workspace, "audit-bulk-export", bulk_export_rows=1000).status == "pass"
    workspace.audit.record("export", actor="mk@x", role="marketing", rows=1000)
    res = _status(workspace, "audit-bulk-export", bulk_export_rows=1000)
    assert res.status == "fail" and "1000 rows" in res.findings[0].message


def test_access_outside_working_hours(workspace, monkeypatch):
    import omniguard.audit.log as log_mod

    def at(hour_shanghai):
        t = dt.datetime(2026, 11, 20, hour_shanghai, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        monkeypatch.setattr(log_mod, "iso_utc", lambda: t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    at(10)
    workspace.audit.record("read", actor="ana@x", role="analyst", purpose="analytics")
    now = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    assert _status(workspace, "audit-outside-hours", now=now).status == "pass"
    at(3)  # analysts work 8-20 Beijing time
    workspace.audit.record("read", actor="ana@x", role="analyst", purpose="analytics")
    res = _status(workspace, "audit-outside-hours", now=now)
    assert res.status == "fail" and res.findings[0].target == "actor:ana@x"
    # 03:30 in Beijing is 11:30 the day before in Los Angeles: within hours there
    assert _status(workspace, "audit-outside-hours", now=now, timezone="America/Los_Angeles").status == "pass"


def test_check_cli_exit_codes(cli, workspace):
    r = cli(f"-w {workspace.root} check --json")
    assert r.exit_code == 1 and r.json()["ok"] is False
    assert "art38-cross-border-mechanism" in r.stderr
    r = cli(f"-w {workspace.root} check --rule art29-sensitive-separate-consent --json")
    assert r.exit_code == 0 and r.json()["ok"] is True
    r = cli(f"-w {workspace.root} check --rule nope")
    assert r.exit_code == 2 and "unknown rule" in r.stderr
    ev = list(workspace.audit.query(action="compliance.check"))
    assert len(ev) == 2 and ev[0]["decision"] == "deny"
