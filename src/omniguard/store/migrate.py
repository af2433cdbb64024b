"""Versioned schema, one migration list per component.

Each component (``audit``, ``consent``, ...) owns its tables in ``omniguard/<component>/tables.py``
with a ``MIGRATIONS`` list; versions count per component, so parts of omniguard evolve without
renumbering each other. Opening an older store upgrades it in one locked transaction; a store
written by a newer omniguard is refused before anything is touched.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, Connection, Integer, String, Table, select

from omniguard.config import iso_utc
from omniguard.errors import StoreError
from omniguard.store.engine import Store, metadata

COMPONENTS = ("audit", "consent", "classify", "crypto", "profiling", "compliance", "guard")

schema_versions = Table(
    "omniguard_schema",
    metadata,
    Column("component", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("applied_at", String(32), nullable=False),
)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    upgrade: Callable[[Connection], None]


def create_tables(*tables: Table) -> Callable[[Connection], None]:
    """The usual first migration of a component: create its tables as defined today."""

    def upgrade(conn: Connection) -> None:
        metadata.create_all(conn, tables=list(tables))

    return upgrade


def known_migrations() -> dict[str, list[Migration]]:
    out: dict[str, list[Migration]] = {}
    for comp in COMPONENTS:
        name = f"omniguard.{comp}.tables"
        if importlib.util.find_spec(f"omniguard.{comp}") is None or importlib.util.find_spec(name) is None:
            continue
        migrations = list(getattr(importlib.import_module(name), "MIGRATIONS", []))
        versions = [m.version for m in migrations]
        if versions != list(range(1, len(versions) + 1)):
            raise StoreError(f"{name}: migrations must be numbered 1, 2, 3, ... without gaps")
        out[comp] = migrations
    return out


def current_versions(conn: Connection) -> dict[str, int]:
    if not conn.dialect.has_table(conn, schema_versions.name):
        return {}
    return {c: v for c, v in conn.execute(select(schema_versions.c.component, schema_versions.c.version))}


def migrate(store: Store) -> dict[str, tuple[int, int]]:
    """Bring the store up to date. Returns {component: (from_version, to_version)} for changes."""
    known = known_migrations()
    with store.read() as conn:
        _refuse_newer(current_versions(conn), known)
        if all(current_versions(conn).get(c, 0) == len(m) for c, m in known.items()):
            return {}
    changed: dict[str, tuple[int, int]] = {}
    with store.write() as conn:
        metadata.create_all(conn, tables=[schema_versions])
        have = current_versions(conn)  # re-read under the lock: another process may have migrated
        _refuse_newer(have, known)
        for comp, migrations in known.items():
            start = have.get(comp, 0)
            for m in migrations[start:]:
                m.upgrade(conn)
            if len(migrations) > start:
                if start == 0:
                    conn.execute(schema_versions.insert().values(component=comp, version=len(migrations),
                                                                 applied_at=iso_utc()))
                else:
                    conn.execute(schema_versions.update().where(schema_versions.c.component == comp)
                                 .values(version=len(migrations), applied_at=iso_utc()))
                changed[comp] = (start, len(migrations))
    return changed


def _refuse_newer(have: dict[str, int], known: dict[str, list[Migration]]) -> None:
    for comp, version in sorted(have.items()):
        latest = len(known.get(comp, []))
        if comp not in known or version > latest:
            raise StoreError(
                f"the store was written by a newer omniguard ({comp} schema v{version}, this version "
                f"knows v{latest}); upgrade omniguard before opening it"
            )
