"""Tables of the "compliance" component: personal-information impact assessments (PIPL Art. 55-56).

An assessment is written once and kept at least three years (Art. 56). The store itself enforces
that: a trigger refuses any UPDATE of a record and any DELETE before its ``retain_until`` (SQLite
and PostgreSQL alike), so no omniguard command, and no careless SQL, can shorten the retention.
Someone who drops the trigger with database-owner rights is caught another way: every record is
SM3-hashed and SM2-signed, and its hash is also in the ``pia.create`` audit event, so an edited or
missing record shows in ``omniguard pia verify --all``.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Integer, String, Table, Text, UniqueConstraint

from omniguard.store import Migration, create_tables, metadata

compliance_pias = Table(
    "compliance_pias",
    metadata,
    Column("id", String(140), primary_key=True),  # "<kind>:<subject>@v<version>"
    Column("kind", String(16), nullable=False),  # purpose | job
    Column("subject", String(64), nullable=False),  # purpose id or job id
    Column("version", Integer, nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # draft | complete
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("retain_until", String(32), nullable=False),
    Column("body", Text, nullable=False),  # canonical JSON: exactly the bytes hashed and signed
    Column("content_sm3", String(64), nullable=False),
    Column("signature", String(128), nullable=False),  # SM2 (r || s), hex
    Column("public_key", String(130), nullable=False),
    UniqueConstraint("kind", "subject", "version", name="uq_compliance_pias_version"),
)

_REFUSE_UPDATE = "impact assessments are append-only"
_REFUSE_DELETE = "an impact assessment is kept until its retain_until (PIPL Art. 56)"


def _retention_lock(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "CREATE TRIGGER compliance_pias_no_update BEFORE UPDATE ON compliance_pias "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSE_UPDATE}'); END")
        conn.exec_driver_sql(
            "CREATE TRIGGER compliance_pias_keep BEFORE DELETE ON compliance_pias "
            "WHEN OLD.retain_until > strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSE_DELETE}'); END")
        return
    conn.exec_driver_sql(f"""
        CREATE FUNCTION compliance_pias_lock() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION '{_REFUSE_UPDATE}'; END IF;
          IF OLD.retain_until > to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') THEN
            RAISE EXCEPTION '{_REFUSE_DELETE}';
          END IF;
          RETURN OLD;
        END $$""")
    conn.exec_driver_sql("CREATE TRIGGER compliance_pias_lock BEFORE UPDATE OR DELETE ON compliance_pias "
                         "FOR EACH ROW EXECUTE FUNCTION compliance_pias_lock()")


def _create(conn: Connection) -> None:
    create_tables(compliance_pias)(conn)
    _retention_lock(conn)


MIGRATIONS = [Migration(1, "impact assessments, append-only with a retention lock", _create)]
