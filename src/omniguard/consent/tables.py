"""Consent and data-subject-rights tables (component "consent").

``consent_events`` is the append-only history; ``consent_state`` is the current state derived from
it (last event per subject, purpose and facet), kept in step in the same transaction as every
append. Timestamps are ISO-8601 UTC text of fixed width (``iso_utc``), so they compare correctly as
strings on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)

from omniguard.store import Migration, create_tables, metadata

_SEQ = BigInteger().with_variant(Integer, "sqlite")  # INTEGER PRIMARY KEY = SQLite's rowid

SUBJECT_LEN = 128
TS = 32

# One row per write (a single grant, an import file): who recorded it, when, from what source.
consent_batches = Table(
    "consent_batches",
    metadata,
    Column("batch", _SEQ, primary_key=True, autoincrement=True),
    Column("recorded_at", String(TS), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("source", String(200), nullable=False),  # "api", "cli", or "import:<file name>"
    Column("events", Integer, nullable=False),
)

# Notice versions as they were when first used: the SM3 of the text the person was shown.
consent_notices = Table(
    "consent_notices",
    metadata,
    Column("notice_id", String(64), primary_key=True),
    Column("notice_version", Integer, primary_key=True),
    Column("text_sm3", String(64), nullable=False),
    Column("title", String(300), nullable=False),
    Column("published", String(10), nullable=False),
    Column("first_used", String(TS), nullable=False),
)

consent_events = Table(
    "consent_events",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("batch", BigInteger, nullable=False),
    Column("subject_id", String(SUBJECT_LEN), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("action", String(16), nullable=False),  # grant | withdraw | expire | opt_out | opt_in
    Column("ts", String(TS), nullable=False),
    Column("notice_id", String(64)),
    Column("notice_version", Integer),
    Column("separate", Boolean, nullable=False, server_default=false()),
    Column("guardian_ref", String(SUBJECT_LEN)),
    Column("channel", String(32), nullable=False),
    Column("expires_at", String(TS)),
    Column("birth_date", String(10)),
    Column("age", Integer),
    Column("evidence", Text),
)
Index("ix_consent_events_subject", consent_events.c.subject_id)

# Current state per (purpose, subject): the consent facet (last grant / withdraw / expire) and the
# Art. 24 facet (last opt_out / opt_in), each with the event that set it.
consent_state = Table(
    "consent_state",
    metadata,
    Column("purpose", String(64), primary_key=True),
    Column("subject_id", String(SUBJECT_LEN), primary_key=True),
    Column("status", String(16)),  # granted | withdrawn | expired | NULL (only an opt facet)
    Column("event_id", String(64)),
    Column("ts", String(TS)),
    Column("notice_id", String(64)),
    Column("notice_version", Integer),
    Column("separate", Boolean, nullable=False, server_default=false()),
    Column("guardian_ref", String(SUBJECT_LEN)),
    Column("channel", String(32)),
    Column("expires_at", String(TS)),
    Column("opted_out", Boolean, nullable=False, server_default=false()),
    Column("opt_event_id", String(64)),
    Column("opt_ts", String(TS)),
)
# No index on subject_id alone: one subject's rows are found through the primary key with the
# (few) purposes, and a second random-order index would double the cost of every bulk import.

# What we know of a subject's age (Art. 31): the date from which consent of their own counts.
consent_subjects = Table(
    "consent_subjects",
    metadata,
    Column("subject_id", String(SUBJECT_LEN), primary_key=True),
    Column("birth_date", String(10)),  # as stated; NULL when only an age was stated
    Column("adult_from", String(TS), nullable=False),  # UTC instant of the 14th birthday (Beijing time)
    Column("source", String(16), nullable=False),  # birth_date | age | correction
    Column("updated_at", String(TS), nullable=False),
)

consent_receipts = Table(
    "consent_receipts",
    metadata,
    Column("receipt_id", String(64), primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("subject_id", String(SUBJECT_LEN), nullable=False),
    Column("body", Text, nullable=False),  # the signed document, canonical JSON
    Column("signed_at", String(TS), nullable=False),
)
Index("ix_consent_receipts_subject", consent_receipts.c.subject_id)

# Erased subjects. No raw id is kept: ``subject_ref`` is the audit log's keyed reference and
# ``tag`` a keyed 64-bit tag for fast bulk membership tests.
consent_tombstones = Table(
    "consent_tombstones",
    metadata,
    Column("subject_ref", String(40), primary_key=True),
    Column("tag", String(16), nullable=False, index=True),
    Column("erased_at", String(TS), nullable=False),
    Column("request_id", String(40), nullable=False),
    # Set when the person came back and new consent was accepted knowingly (--readmit-erased).
    Column("readmitted_at", String(TS)),
)

# A counter bumped in every transaction that changes what allowed() answers, so a process can
# keep a purpose's valid-subject set in memory and know when it went out of date.
consent_meta = Table(
    "consent_meta",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

rights_requests = Table(
    "rights_requests",
    metadata,
    Column("request_id", String(40), primary_key=True),
    Column("kind", String(16), nullable=False),  # access | erase | correct
    Column("subject_ref", String(40), nullable=False),  # keyed reference, never the raw id
    Column("status", String(16), nullable=False),  # open | completed | rejected
    Column("received_at", String(TS), nullable=False),
    Column("due", String(10), nullable=False),
    Column("closed_at", String(TS)),
    Column("actor", String(200), nullable=False),
    Column("note", Text),
    Column("outcome", Text),  # JSON summary: counts, file names, key shredded
)


def _seed_meta(conn: Connection) -> None:
    create_tables(
        consent_batches, consent_notices, consent_events, consent_state, consent_subjects,
        consent_receipts, consent_tombstones, consent_meta, rights_requests,
    )(conn)
    conn.execute(consent_meta.insert().values(name="state", value=0))


MIGRATIONS = [Migration(1, "consent events, current state, receipts, tombstones, rights requests", _seed_meta)]
