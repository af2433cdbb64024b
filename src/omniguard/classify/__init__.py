"""Data classification and grading: which columns hold personal information, of which category,
at which grade.

Library entry points (stable; see docs/classification.md):

* ``classify_frame(df, policy, name_hints=True, sample=100)`` -> :class:`TableResult`
* ``ws.inventory`` (:class:`omniguard.classify.inventory.Inventory`): ``get``, ``save``,
  ``set_override``
* ``get_analyzer()``: the Presidio analyzer with the Chinese pack and no model download.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FREE_TEXT", "ColumnResult", "TableResult", "classify_frame", "classify_series", "get_analyzer"]


def __getattr__(name: str) -> Any:  # lazy: importing omniguard.classify must not load spaCy
    if name in ("classify_frame", "classify_series", "TableResult"):
        from omniguard.classify import table

        return getattr(table, name)
    if name in ("ColumnResult", "FREE_TEXT"):
        from omniguard.classify import columns

        return getattr(columns, name)
    if name == "get_analyzer":
        from omniguard.classify.engine import get_analyzer

        return get_analyzer
    raise AttributeError(name)
