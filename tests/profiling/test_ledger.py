"""The privacy budget ledger on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from omniguard.errors import AccessDenied, InputError


def test_charges_within_budget_and_refuses_overspending(any_workspace):
    ledger = any_workspace.ledger
    with pytest.raises(AccessDenied, match="no budget"):
        ledger.charge("crm.csv", 0.5, 0.0, kind="release", ref="r1", unit="customer")
    ledger.set_budget("crm.csv", 3.0, 1e-5)
    first = ledger.charge("crm.csv", 2.0, 5e-6, kind="federated-job", ref="job-a", unit="customer")
    ledger.charge("crm.csv", 1.0, 0.0, kind="release", ref="r2", unit="customer")  # exactly at the budget
    with pytest.raises(AccessDenied, match=r"epsilon 0\.01 requested, 0 of 3 left"):
        ledger.charge("crm.csv", 0.01, 0.0, kind="release", ref="r3", unit="customer")
    st = ledger.state("crm.csv")
    assert st.spent_epsilon == pytest.approx(3.0) and st.remaining_epsilon == pytest.approx(0.0)
    ledger.settle(first, 1.5, 5e-6)  # the job ran fewer rounds than approved
    assert ledger.state("crm.csv").remaining_epsilon == pytest.approx(0.5)
    with pytest.raises(InputError, match="cannot exceed"):
        ledger.settle(first, 2.5, 5e-6)
    denials = list(any_workspace.audit.query(action="dp.charge", decision="deny"))
    assert len(denials) == 2 and all(d["resource"]["dataset"] == "crm.csv" for d in denials)
    assert [e["status"] for e in ledger.entries("crm.csv")] == ["settled", "charged"]


def test_delta_budget_is_enforced_too(workspace):
    workspace.ledger.set_budget("d", 10.0, 1e-6)
    with pytest.raises(AccessDenied, match="delta"):
        workspace.ledger.charge("d", 0.1, 1e-5, kind="release", ref="r", unit="customer")


@pytest.mark.parametrize(("eps", "delta"), [(-1.0, 0.0), (float("nan"), 0.0), (1.0, 1.0), (float("inf"), 0.0)])
def test_malformed_losses_are_input_errors(workspace, eps, delta):
    with pytest.raises(InputError):
        workspace.ledger.set_budget("d", eps, delta)
