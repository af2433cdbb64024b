from __future__ import annotations

import contextlib

import pytest
import yaml


@pytest.fixture
def edit_policy():
    """Edit a workspace's purposes.yaml (or another file) and reopen the workspace."""

    def edit(ws, fn, file="purposes.yaml"):
        from omniguard.workspace import Workspace

        path = ws.root / "policies" / file
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        fn(doc)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        ws.close()
        return Workspace.open(ws.root)

    return edit



MEMBERS = 400


def populate(ws):
    """A small retailer: a consent history, a scanned customer table, guarded reads and denials, a
    privacy budget and one DP release (OpenDP) charged to personalised marketing. Returns the
    customer frame. (Everything the compliance pages summarise, at test size.)"""
    from omniguard.consent.synthetic import consent_events, member_id
    from omniguard.errors import AccessDenied
    from omniguard.synth.retail import generate_customers

    events = consent_events(2400, MEMBERS, seed=11, start="2026-03-02", end="2026-10-20")
    path = ws.root / "consent-history.csv"
    events.to_csv(path, index=False)
    ws.consent.import_file(path)
    customers = generate_customers(80, seed=3)
    customers.insert(0, "member_id", list(member_id(range(80))))
    for role in ("marketing", "analyst"):
        ws.guard.run(customers, purpose="personalised_marketing", actor=f"{role}@retailer", role=role,
                     subject_column="member_id", dataset="crm/customers")
    ws.guard.run(customers[["member_id", "order_no", "amount"]], purpose="membership", actor="cs@retailer", role="customer_service", subject_column="member_id",
                 dataset="crm/customers-slim")
    from omniguard.profiling.dp.release import release_segments

    ws.ledger.set_budget("crm/customers", 4.0, 1e-5)
    release_segments(ws, customers, by=["status"], epsilon=1.0, dataset="crm/customers", count=True,
                     public_keys=sorted(customers["status"].unique()), purpose="personalised_marketing")
    for purpose, role in (("joint_profiling", "marketing"), ("cross_border_service", "dpo")):
        with contextlib.suppress(AccessDenied):
            ws.guard.run(customers, purpose=purpose, actor="someone@retailer", role=role, subject_column="member_id",
                         dataset="crm/customers")
    return customers


@pytest.fixture
def populated(workspace):
    populate(workspace)
    return workspace


@pytest.fixture(scope="module")
def shared_populated(tmp_path_factory):
    """One populated workspace for a module's read-only tests (classification is the slow part)."""
    from omniguard.workspace import Workspace

    ws = Workspace.init(tmp_path_factory.mktemp("populated") / "ws", actor="tester@test")
    populate(ws)
    yield ws
    ws.close()
