"""Inventory tables: the last scan of each dataset, its columns, and human overrides.

Overrides live in their own table so a re-scan (which replaces the scan rows) never loses them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Connection, Float, Integer, String, Table, Text, inspect

from omniguard.store import Migration, create_tables, metadata

classify_datasets = Table(
    "classify_datasets",
    metadata,
    Column("dataset", String(512), primary_key=True),
    Column("source", String(32), nullable=False),  # csv, parquet, jsonl, sql, frame
    Column("rows", BigInteger, nullable=False),
    Column("individuals", BigInteger, nullable=False),
    Column("grade", String(16), nullable=False),
    Column("flags", Text, nullable=False),  # JSON object
    Column("sample", Integer, nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("scanned_at", String(32), nullable=False),
    Column("scanned_by", String(256), nullable=False),
)

classify_columns = Table(
    "classify_columns",
    metadata,
    Column("dataset", String(512), primary_key=True),
    Column("name", String(512), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("entity", String(64)),
    Column("category", String(64)),
    Column("grade", String(16), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("prevalence", Float, nullable=False),
    Column("personal", Boolean, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON list of strings (shapes and counts, never values)
    Column("contains", Text, nullable=False),  # JSON list of entities (free text)
    Column("sampled", Integer, nullable=False),
    Column("non_null", BigInteger, nullable=False),
    Column("protection", String(16)),  # encrypted | tokenized | NULL (schema v2)
)

classify_overrides = Table(
    "classify_overrides",
    metadata,
    Column("dataset", String(512), primary_key=True),
    Column("name", String(512), primary_key=True),
    Column("category", String(64), nullable=False),
    Column("set_by", String(256), nullable=False),
    Column("set_at", String(32), nullable=False),
)



def _add_protection(conn: Connection) -> None:
    if "protection" not in {c["name"] for c in inspect(conn).get_columns("classify_columns")}:
        conn.exec_driver_sql("ALTER TABLE classify_columns ADD COLUMN protection VARCHAR(16)")


def _rename_top_grade(conn: Connection) -> None:
    """The top grade was stored as "core" before 0.2 (see omniguard.policy.Grade)."""
    for table in ("classify_datasets", "classify_columns"):
        conn.exec_driver_sql(f"UPDATE {table} SET grade = 'highly_sensitive' WHERE grade = 'core'")


MIGRATIONS = [
    Migration(1, "inventory: scanned datasets, columns, human overrides",
              create_tables(classify_datasets, classify_columns, classify_overrides)),
    Migration(2, "inventory: protected form of each column (encrypted, tokenized)", _add_protection),
    Migration(3, "inventory: the top grade is highly_sensitive (was core)", _rename_top_grade),
]
