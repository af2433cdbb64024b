"""Storage: one SQLAlchemy engine per workspace, versioned schema per component."""

from omniguard.store.engine import Store, metadata
from omniguard.store.migrate import Migration, create_tables, migrate

__all__ = ["Migration", "Store", "create_tables", "metadata", "migrate"]
