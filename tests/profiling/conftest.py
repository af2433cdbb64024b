"""Fixtures for joint profiling: partner workspaces with synthetic customers, consent and budgets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from omniguard.profiling import datasets

# Test modules import the shared helpers as a plain module, also under --import-mode=importlib.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def partner_factory(tmp_path):
    """``make(name, frame, consent=True, budget=(10, 1e-4))`` -> (workspace, data path)."""
    from profiling_helpers import grant

    from omniguard.workspace import Workspace

    opened = []

    def make(name: str, frame, *, consent: bool = True, budget: tuple[float, float] | None = (10.0, 1e-4),
             store_url: str | None = None):
        ws = Workspace.init(tmp_path / name, actor=f"dpo@{name}", store_url=store_url)
        opened.append(ws)
        data = tmp_path / f"{name}.csv"
        frame.drop(columns=["segment"], errors="ignore").to_csv(data, index=False)
        if consent:
            grant(ws, frame["member_id"])
        if budget:
            ws.ledger.set_budget(data.name, *budget)
        return ws, data

    yield make
    for ws in opened:
        ws.close()


@pytest.fixture(scope="session")
def small_frames():
    """Three partners of 300 synthetic customers each."""
    return datasets.retail_customers(datasets.RetailPlan(partners=3, customers=300, seed=11))


@pytest.fixture
def task_identity(monkeypatch):
    """Lets tests build Flower messages outside a running ClientApp or ServerApp."""
    from flwr.supercore.task_identity import TaskIdentity

    for attr, value in (("_run_id", 1), ("_node_id", 0), ("_task_id", 1)):
        monkeypatch.setattr(TaskIdentity, attr, value)
