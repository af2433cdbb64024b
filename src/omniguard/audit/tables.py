"""Audit tables. An event row is its canonical body plus the chain links; nothing else is stored,
so there is no second copy of a field that could be edited to disagree with the hashed one."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, String, Table, Text

from omniguard.store import Migration, create_tables, metadata

_SEQ = BigInteger().with_variant(Integer, "sqlite")  # INTEGER PRIMARY KEY = SQLite's rowid: clustered

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),  # canonical JSON of the event, exactly the bytes hashed
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("public_key", String(130), nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
)

MIGRATIONS = [Migration(1, "audit events and signed checkpoints", create_tables(audit_events, audit_checkpoints))]
