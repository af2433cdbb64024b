"""Tables of the "profiling" component: the per-dataset privacy budgets and the ledger of every
differentially private job or release charged against them."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from omniguard.store import Migration, create_tables, metadata

dp_budgets = Table(
    "dp_budgets",
    metadata,
    Column("dataset", String(200), primary_key=True),
    Column("epsilon", Float, nullable=False),
    Column("delta", Float, nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("updated_by", String(200), nullable=False),
)

dp_ledger = Table(
    "dp_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", String(32), nullable=False),
    Column("dataset", String(200), nullable=False),
    Column("kind", String(32), nullable=False),  # "federated-job" | "release"
    Column("ref", String(200), nullable=False),  # job id or release id
    Column("epsilon", Float, nullable=False),
    Column("delta", Float, nullable=False),
    Column("unit", String(200), nullable=False),
    Column("status", String(16), nullable=False),  # "charged" (planned) | "settled" (what ran)
    Column("details", Text, nullable=False),  # JSON: mechanism, accountant, counts; never data values
    Index("ix_dp_ledger_dataset", "dataset"),
)

MIGRATIONS = [Migration(1, "privacy budgets and the DP ledger", create_tables(dp_budgets, dp_ledger))]
