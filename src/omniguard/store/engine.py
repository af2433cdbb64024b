"""The SQLAlchemy engine behind a workspace: SQLite (WAL, foreign keys) by default, PostgreSQL by URL.

Writers serialise on one lock so the audit chain stays gap-free: SQLite takes the database write
lock at ``BEGIN IMMEDIATE``, PostgreSQL a transaction-scoped advisory lock. Readers never wait
for writers (WAL / MVCC).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from omniguard.errors import StoreError

metadata = MetaData()

# An arbitrary constant naming omniguard's writer lock among a database's advisory locks.
PG_WRITE_LOCK = 0x6F6D6E69


def _redact(url: str) -> str:
    """Never show a password from a URL in an error."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        user = cred.split(":", 1)[0]
        return f"{scheme}://{user}@{host}" if ":" in cred else url
    return url


class Store:
    def __init__(self, url: str, *, busy_timeout_s: float = 60.0):
        self.url = url
        try:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"timeout": busy_timeout_s})
                _sqlite_setup(engine)
            elif url.startswith("postgresql"):
                if url.startswith("postgresql://"):
                    url = "postgresql+psycopg://" + url[len("postgresql://"):]
                engine = create_engine(url, pool_pre_ping=True)
            else:
                raise StoreError(f"unsupported store URL {_redact(url)!r} (use sqlite:/// or postgresql://)")
        except (ArgumentError, NoSuchModuleError) as e:
            raise StoreError(f"bad store URL {_redact(url)!r}: {e}") from None
        self.engine: Engine = engine
        self.dialect: str = engine.dialect.name
        self._writer = engine.execution_options(omniguard_write=True)

    def __repr__(self) -> str:
        return f"Store({_redact(self.url)!r})"

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction holding omniguard's writer lock until commit or rollback."""
        try:
            with self._writer.begin() as conn:
                if self.dialect == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (PG_WRITE_LOCK,))
                yield conn
        except OperationalError as e:
            raise StoreError(f"store {_redact(self.url)}: {_short(e)}") from None

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as e:
            raise StoreError(f"store {_redact(self.url)}: {_short(e)}") from None

    def placeholders(self, n: int) -> str:
        mark = "?" if self.dialect == "sqlite" else "%s"
        return ", ".join([mark] * n)

    def insert_rows(self, conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Bulk insert through the driver's executemany: no per-row SQLAlchemy overhead."""
        if not rows:
            return
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({self.placeholders(len(columns))})"
        conn.exec_driver_sql(sql, list(rows))

    def dispose(self) -> None:
        self.engine.dispose()


def _short(e: SQLAlchemyError) -> str:
    orig = getattr(e, "orig", None)
    text = str(orig if orig is not None else e).strip().splitlines()
    return text[0] if text else e.__class__.__name__


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (SQLAlchemy's pysqlite recipe)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        # WAL + NORMAL: a killed process never loses a committed transaction; only a power cut
        # may lose the last ones, never corrupt the file.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("omniguard_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
