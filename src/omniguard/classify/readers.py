"""Where ``scan`` gets a table from: files (CSV with encoding detection, Parquet, JSON lines) or a
SQL table, whose row sample is drawn by the database (``ORDER BY random() LIMIT n``, or
``TABLESAMPLE SYSTEM`` on a large PostgreSQL table) so only the sample crosses the wire.

A SQL source is written ``URL#table`` (``sqlite:///shop.db#customers``,
``postgresql://user@host/db#crm.members``); its dataset name is the URL without a password.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from omniguard.errors import InputError

SQL_PREFIXES = ("sqlite:", "postgresql:", "postgresql+psycopg:", "mysql:")


@dataclass(frozen=True)
class Source:
    dataset: str  # the inventory name
    kind: str  # csv, parquet, jsonl, sql
    total_rows: int
    sampled: bool  # True when the frame is a sample of the source


def is_sql(spec: str) -> bool:
    return spec.startswith(SQL_PREFIXES) and "#" in spec


def dataset_name(spec: str) -> str:
    """A stable inventory name: the path as given (posix, no leading ./), or the redacted URL."""
    if is_sql(spec):
        from omniguard.store.engine import _redact

        url, table = spec.rsplit("#", 1)
        return f"{_redact(url)}#{table}"
    return Path(spec).as_posix().removeprefix("./")


def read_source(spec: str | os.PathLike[str], *, sample_rows: int = 20_000) -> tuple[pd.DataFrame, Source]:
    spec = str(spec)
    if is_sql(spec):
        url, table = spec.rsplit("#", 1)
        df, total = read_sql_sample(url, table, sample_rows)
        return df, Source(dataset_name(spec), "sql", total, len(df) < total)
    from omniguard.tabular import read_table

    path = Path(spec)
    if path.is_dir():
        raise InputError(f"{path.name}: is a folder, not a file")
    df = read_table(path)
    kind = {".parquet": "parquet", ".jsonl": "jsonl"}.get(path.suffix.lower(), "csv")
    return df, Source(dataset_name(spec), kind, len(df), False)


def read_sql_sample(url: str, table: str, n: int) -> tuple[pd.DataFrame, int]:
    """(up to ``n`` random rows, the table's row count). Only the sample leaves the database."""
    from sqlalchemy import MetaData, Table, create_engine, func, select
    from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

    from omniguard.store.engine import _redact

    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    schema, _, name = table.rpartition(".")
    try:
        engine = create_engine(url)
    except Exception:
        raise InputError(f"bad database URL {_redact(url)!r}") from None
    try:
        with engine.connect() as conn:
            t = Table(name, MetaData(), schema=schema or None, autoload_with=conn)
            total = int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            query = select(t).order_by(func.random()).limit(n)
            if engine.dialect.name == "postgresql" and total > 10 * n:
                pct = min(100.0, 100.0 * 3 * n / total)  # ~3n rows by page sampling, then n at random
                sampled = t.tablesample(func.system(pct))
                query = select(sampled).order_by(func.random()).limit(n)
            result = conn.execute(query)
            df = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    except NoSuchTableError:
        raise InputError(f"{_redact(url)}: no table {table!r}") from None
    except SQLAlchemyError as e:
        first = str(getattr(e, "orig", e)).strip().splitlines()[:1]
        raise InputError(f"{_redact(url)}: cannot read table {table!r} ({first[0] if first else type(e).__name__})"
                         ) from None
    finally:
        engine.dispose()
    for c in df.columns:  # text stays text; numbers keep their dtype (numbers_as_text handles them)
        if df[c].dtype == object:
            df[c] = df[c].astype("str").where(df[c].notna())
    return df, total
