"""Finding, exporting, correcting and deleting one subject's rows in datasets the user names.

omniguard does not know where a retailer keeps customer rows; a rights request says where to look
(``PATH:COLUMN``, the column holding the subject id). Reads and rewrites go through
:mod:`omniguard.tabular` (strict encodings, atomic writes), one file at a time, and every file is
read and checked before any is rewritten.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from omniguard.errors import InputError


@dataclass(frozen=True)
class DatasetRef:
    path: Path
    column: str

    @property
    def name(self) -> str:
        return self.path.name

    @classmethod
    def parse(cls, spec: str | tuple[str | os.PathLike[str], str] | DatasetRef) -> DatasetRef:
        """``"crm/members.csv:member_id"`` or ``(path, column)``."""
        if isinstance(spec, DatasetRef):
            return spec
        if isinstance(spec, tuple):
            return cls(Path(spec[0]), str(spec[1]))
        path, sep, column = str(spec).rpartition(":")
        if not sep or not path or not column:
            raise InputError("a dataset is given as PATH:COLUMN, the column holding the subject id")
        return cls(Path(path), column)


@dataclass
class Located:
    ref: DatasetRef
    frame: pd.DataFrame
    hits: pd.Series  # boolean mask of the subject's rows
    still_encrypted: bool = False  # encrypted cells the exporting role could not decrypt

    @property
    def count(self) -> int:
        return int(self.hits.sum())


def locate(refs: list[DatasetRef], subject_id: str) -> list[Located]:
    """Read every dataset and mark the subject's rows (exact match on the id column)."""
    from omniguard.tabular import read_table

    out = []
    for ref in refs:
        frame = read_table(ref.path)
        if ref.column not in frame.columns:
            raise InputError(f"{ref.name}: no column {ref.column!r}")
        ids = frame[ref.column].astype("str").str.strip()
        out.append(Located(ref, frame, (ids == subject_id).fillna(False)))
    return out


def rows_of(found: Located) -> list[dict[str, Any]]:
    """The subject's rows as JSON-ready records (every value as text, as read)."""
    sub = found.frame[found.hits]
    return [{str(k): (None if pd.isna(v) else str(v)) for k, v in row.items()} for row in sub.to_dict("records")]


def delete_rows(found: list[Located]) -> dict[str, int]:
    from omniguard.tabular import write_table

    removed = {}
    for f in found:
        if f.count:
            write_table(f.frame[~f.hits].reset_index(drop=True), f.ref.path)
        removed[f.ref.name] = f.count
    return removed


def correct_rows(found: list[Located], values: dict[str, str]) -> dict[str, int]:
    from omniguard.tabular import write_table

    for f in found:
        unknown = [c for c in values if c not in f.frame.columns]
        if unknown:
            raise InputError(f"{f.ref.name}: no column {unknown[0]!r} to correct")
        if f.ref.column in values:
            raise InputError(f"{f.ref.name}: the subject id column cannot be corrected here")
    changed = {}
    for f in found:
        if f.count:
            frame = f.frame.copy()
            for col, value in values.items():
                frame[col] = frame[col].astype(object)
                frame.loc[f.hits, col] = value
            write_table(frame, f.ref.path)
        changed[f.ref.name] = f.count
    return changed
