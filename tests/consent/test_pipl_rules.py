"""One test per PIPL rule the registry enforces, each on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omniguard.errors import InputError, UnknownPurpose

PN1 = "privacy-notice@1"
JP1 = "joint-profiling-consent@1"


def codes(ws, subject, purposes):
    return {p: ws.consent.explain(subject, p, record=False).code for p in purposes}


def test_separate_consent_needs_its_own_act(any_workspace):
    """Art. 23/29/39: a bundled grant never satisfies a purpose that needs separate consent."""
    ws = any_workspace
    ws.consent.grant("M1", "joint_profiling", notice=JP1, separate=False)
    d = ws.consent.explain("M1", "joint_profiling")
    assert not d.allowed and d.code == "bundled" and d.separate_required and d.separate is False
    assert ws.consent.allowed(["M1"], "joint_profiling").tolist() == [False]
    ws.consent.grant("M1", "joint_profiling", notice=JP1, separate=True)
    d = ws.consent.explain("M1", "joint_profiling")
    assert d.allowed and d.code == "ok" and d.separate is True
    # A purpose without the requirement is satisfied by a bundled grant.
    ws.consent.grant("M2", "analytics", notice=PN1)
    assert ws.consent.allowed(["M1", "M2"], "analytics").tolist() == [False, True]


def test_under_14_without_guardian_is_denied(any_workspace):
    """Art. 31: a child's own consent does not count; the guardian's does."""
    ws = any_workspace
    ws.consent.grant("K1", "analytics", notice=PN1, birth_date="2016-05-01")
    d = ws.consent.explain("K1", "analytics")
    assert not d.allowed and d.code == "minor_without_guardian" and d.minor_at_grant is True
    ws.consent.grant("K1", "analytics", notice=PN1, guardian="P1")
    d = ws.consent.explain("K1", "analytics")
    assert d.allowed and d.guardian is True
    # An adult (birth date known) needs no guardian; an age stated instead of a birth date works too.
    ws.consent.grant("A1", "analytics", notice=PN1, birth_date="1990-05-01")
    ws.consent.grant("K2", "analytics", notice=PN1, age=9)
    assert ws.consent.allowed(["A1", "K2"], "analytics").tolist() == [True, False]


def test_age_learned_later_applies_to_earlier_grant(workspace):
    ws = workspace
    ws.consent.grant("K3", "analytics", notice=PN1, at="2026-03-01T10:00:00+08:00")
    assert ws.consent.allowed(["K3"], "analytics").tolist() == [True]
    ws.consent.grant("K3", "personalised_marketing", notice=PN1, birth_date="2015-01-01")
    assert ws.consent.explain("K3", "analytics").code == "minor_without_guardian"


def test_withdrawal_stops_use_immediately(any_workspace):
    """Art. 15: withdrawal is one call, like a grant, and counts for the very next check."""
    ws = any_workspace
    ws.consent.grant("M1", "analytics", notice=PN1)
    big = [f"M{i}" for i in range(3000)]  # large enough to take the cached, batch path
    assert ws.consent.allowed(big, "analytics")[1]
    ws.consent.withdraw("M1", "analytics")
    assert not ws.consent.allowed(big, "analytics")[1]
    assert ws.consent.explain("M1", "analytics").code == "withdrawn"
    ws.consent.grant("M1", "analytics", notice=PN1)
    assert ws.consent.allowed(big, "analytics")[1]


def test_stale_after_notice_change(any_v2_workspace):
    """Art. 14: v2 changed analytics' retention, so consent under v1 is stale for analytics only."""
    ws = any_v2_workspace
    ws.consent.grant("M1", "analytics", notice=PN1, at="2026-01-15T09:00:00+08:00")
    ws.consent.grant("M1", "personalised_marketing", notice=PN1, at="2026-01-15T09:00:00+08:00")
    d = ws.consent.explain("M1", "analytics")
    assert not d.allowed and d.code == "stale" and d.stale
    assert "privacy-notice@2" in d.stale_detail and "retention_days" in d.stale_detail
    assert ws.consent.explain("M1", "personalised_marketing").allowed  # terms unchanged: still fresh
    # Before v2 was published the same consent was fresh.
    assert ws.consent.allowed(["M1"], "analytics", at="2026-01-20T00:00:00Z").tolist() == [True]
    ws.consent.grant("M1", "analytics", notice="privacy-notice@2")
    assert ws.consent.explain("M1", "analytics").allowed


def test_opt_out_of_personalised_marketing(any_workspace):
    """Art. 24: opting out beats consent until an explicit opt-in; a new grant does not lift it."""
    ws = any_workspace
    ws.consent.grant("M1", "personalised_marketing", notice=PN1)
    ws.consent.opt_out("M1", "personalised_marketing")
    assert ws.consent.explain("M1", "personalised_marketing").code == "opted_out"
    ws.consent.grant("M1", "personalised_marketing", notice=PN1)
    assert ws.consent.allowed(["M1"], "personalised_marketing").tolist() == [False]
    ws.consent.opt_in("M1", "personalised_marketing")
    assert ws.consent.allowed(["M1"], "personalised_marketing").tolist() == [True]
    with pytest.raises(InputError, match=r"Art\. 24"):
        ws.consent.opt_out("M1", "analytics")


def test_non_consent_basis_needs_no_consent_but_honours_erasure(workspace):
    ws = workspace
    d = ws.consent.explain("M9", "order_fulfilment")
    assert d.allowed and d.code == "not_required" and "contract" in d.reason
    with pytest.raises(InputError, match="legal basis"):
        ws.consent.grant("M9", "order_fulfilment", notice=PN1)
    ws.rights.erase("M9")
    assert ws.consent.allowed(["M9", "M8"], "order_fulfilment").tolist() == [False, True]
    assert ws.consent.explain("M9", "order_fulfilment").code == "erased"


def test_expiry(workspace):
    ws = workspace
    ws.consent.grant("M1", "analytics", notice=PN1, at="2026-03-01T00:00:00Z", expires_at="2026-04-01T00:00:00Z")
    ws.consent.grant("M2", "analytics", notice=PN1, at="2026-03-01T00:00:00Z")
    assert ws.consent.allowed(["M1", "M2"], "analytics").tolist() == [False, True]
    assert ws.consent.allowed(["M1"], "analytics", at="2026-03-15T00:00:00Z").tolist() == [True]
    assert ws.consent.explain("M1", "analytics").code == "expired"
    # The default term is the retention the notice states (analytics: 365 days).
    assert ws.consent.explain("M2", "analytics").expires_at.startswith("2027-03-01")
    assert ws.consent.expire_due() == 1
    assert [e["action"] for e in ws.consent.history("M1")] == ["grant", "expire"]


def test_inputs_and_bad_arguments(workspace):
    ws = workspace
    ws.consent.grant("M1", "analytics", notice=PN1)
    ids = ["M0", "M1", None, "M1"]
    want = [False, True, False, True]
    for given in (ids, np.array(ids, dtype=object), pd.Series(ids), pd.Series(ids, dtype="string")):
        assert ws.consent.allowed(given, "analytics").tolist() == want
    assert ws.consent.allowed([], "analytics").tolist() == []
    with pytest.raises(UnknownPurpose):
        ws.consent.allowed(["M1"], "spying")
    with pytest.raises(InputError, match="malformed subject id"):
        ws.consent.grant("bad id", "analytics", notice=PN1)
    with pytest.raises(InputError, match="does not cover"):
        ws.consent.grant("M1", "joint_profiling", notice=PN1)
    with pytest.raises(InputError, match="future"):
        ws.consent.grant("M1", "analytics", notice=PN1, at="2999-01-01T00:00:00Z")
    with pytest.raises(InputError, match="unknown notice"):
        ws.consent.grant("M1", "analytics", notice="privacy-notice@9")


def test_every_act_and_batch_check_is_audited_without_raw_ids(workspace):
    ws = workspace
    ws.consent.grant("MEMBER-77", "analytics", notice=PN1)
    ws.consent.withdraw("MEMBER-77", "analytics")
    ws.consent.allowed(["MEMBER-77", "MEMBER-78"], "analytics")
    actions = [e["action"] for e in ws.audit.query(action="consent.*")]
    assert actions == ["consent.grant", "consent.withdraw", "consent.check"]
    check = next(ws.audit.query(action="consent.check"))
    assert check["subjects"] == 2 and check["decision"] == "deny" and check["details"]["allowed"] == 0
    with ws.store.read() as conn:
        bodies = [b for (b,) in conn.exec_driver_sql("SELECT body FROM audit_events")]
    assert not any("MEMBER-7" in b for b in bodies)
    grant = next(ws.audit.query(action="consent.grant"))
    assert grant["subject_ref"] == ws.audit.subject_ref("MEMBER-77")
