from __future__ import annotations

import datetime as dt

from omniguard.compliance.checks import run_checks


def _one(ws, rule_id, **kw):
    (res,) = run_checks(ws, only=[rule_id], **kw)
    return res


def test_art19_consents_past_their_term(workspace, edit_policy):
    assert _one(workspace, "art19-retention-term-ended").status == "n/a"

    def short_retention(doc):
        next(p for p in doc["purposes"] if p["id"] == "analytics")["retention_days"] = 30

    ws = edit_policy(workspace, short_retention)
    now = dt.datetime.now(dt.UTC)
    ws.consent.grant("S0001", "analytics", notice="privacy-notice@1", at=now - dt.timedelta(days=5))
    assert _one(ws, "art19-retention-term-ended").status == "pass"
    ws.consent.grant("S0002", "analytics", notice="privacy-notice@1", at=now - dt.timedelta(days=40))
    res = _one(ws, "art19-retention-term-ended")
    assert res.status == "fail" and res.findings[0].target == "purpose:analytics" and "1 consent" in res.findings[0].message
    assert ws.consent.expire_due() == 1
    assert _one(ws, "art19-retention-term-ended").status == "pass"


def test_art31_children_without_guardian(workspace):
    c = workspace.consent
    c.grant("KID1", "personalised_marketing", notice="privacy-notice@1", guardian="G-KID1", age=10)
    c.grant("ADULT", "personalised_marketing", notice="privacy-notice@1", age=30)
    assert _one(workspace, "art31-minors-guardian-consent").status == "pass"
    c.grant("KID2", "personalised_marketing", notice="privacy-notice@1", age=9)
    res = _one(workspace, "art31-minors-guardian-consent")
    assert res.status == "fail" and res.findings[0].target == "purpose:personalised_marketing"
    assert "1 child" in res.findings[0].message and "KID2" not in res.findings[0].message
