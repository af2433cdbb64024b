"""Encrypt and decrypt one dataset column (pandas) with its keyset: the contract the guard, the
protection operators and the CLI use (``ws.keyring.column_cipher(dataset, column)``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from omniguard.crypto.ciphertext import (
    Header,
    KeyHandle,
    as_string_array,
    decrypt_column,
    encrypt_column,
    encrypt_column_per_subject,
)
from omniguard.crypto.sm4 import DecryptionError
from omniguard.errors import InputError

if TYPE_CHECKING:
    from omniguard.crypto.keyring import Keyring, Keyset


def to_series(arr: pa.Array, like: pd.Series) -> pd.Series:
    """An Arrow string array as a pandas ``str`` Series (Arrow-backed, no copy per cell) with the
    index and name of ``like``; nulls become pandas' missing value for ``str``."""
    out = arr.to_pandas()
    out.index, out.name = like.index, like.name
    return out


def text_array(values: pd.Series, what: str) -> pa.Array:
    try:
        return as_string_array(values.array if isinstance(values, pd.Series) else values)
    except TypeError as e:
        raise InputError(f"{what}: {e}") from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        raise InputError(f"{what}: cells must be text or numbers") from None


def subject_list(subject_ids: Any, n: int, what: str) -> list[str | None]:
    ids = list(subject_ids) if not isinstance(subject_ids, pd.Series) else subject_ids.tolist()
    if len(ids) != n:
        raise InputError(f"{what}: {len(ids)} subject ids for {n} cells")
    return [None if (s is None or (isinstance(s, float) and s != s)) else str(s) for s in ids]


class ColumnCipher:
    """SM4-GCM for the cells of one column, bound to (dataset, column[, subject])."""

    def __init__(self, keyring: Keyring, keyset: Keyset):
        self._keyring = keyring
        self.keyset = keyset
        self.dataset = keyset.dataset or ""
        self.column = keyset.column or ""
        self.key_id = keyset.key_id
        self.version = keyset.primary_version

    def __repr__(self) -> str:
        return f"ColumnCipher({self.dataset!r}, {self.column!r}, key {self.key_id:08x} v{self.version})"

    @property
    def _label(self) -> str:
        return f"column {self.column!r}"

    # KeySource protocol: cells of this column only.
    def context(self, key_id: int) -> tuple[str, str]:
        if key_id != self.key_id:
            raise DecryptionError("cannot decrypt: cells were encrypted for another column")
        return self.dataset, self.column

    def key(self, key_id: int, version: int) -> KeyHandle:
        return self._keyring.key(key_id, version)

    def subject_keys(self, subject_ids: Sequence[str]) -> Sequence[KeyHandle | None]:
        return self._keyring.subject_keys(subject_ids)

    def encrypt(self, values: pd.Series, subject_ids: pd.Series | None = None) -> pd.Series:
        """Base64 text cells; nulls stay null. With ``subject_ids`` each cell is encrypted under
        its subject's key (created when missing), so ``shred_subject`` can erase it."""
        values = values if isinstance(values, pd.Series) else pd.Series(values)
        arr = text_array(values, self._label)
        if subject_ids is None:
            out = encrypt_column(arr, self.key(self.key_id, self.version), Header(self.key_id, self.version),
                                 self.dataset, self.column)
            return to_series(out, values)
        ids = subject_list(subject_ids, len(values), self._label)
        valid = ~np.asarray(arr.is_null(), dtype=bool)
        missing = [i for i, (s, v) in enumerate(zip(ids, valid, strict=True)) if v and s is None]
        if missing:
            raise InputError(f"{self._label}: row {missing[0] + 1} has a value but no subject id")
        rows = np.flatnonzero(valid)
        found = self._keyring.subject_keys([ids[i] for i in rows], create=True)  # keys only where a value is
        keys: list[KeyHandle | None] = [None] * len(ids)
        for i, k in zip(rows.tolist(), found, strict=True):
            keys[i] = k
        out = encrypt_column_per_subject(arr, [s or "" for s in ids], keys, self.key_id, self.dataset, self.column)
        return to_series(out, values)

    def decrypt(self, values: pd.Series, subject_ids: pd.Series | None = None, *, audit: bool = True,
                actor: str | None = None, role: str | None = None, purpose: str | None = None) -> pd.Series:
        """Plain text cells; nulls stay null, and so do cells of shredded subjects. Any failure
        raises :class:`DecryptionError`.

        Audited (action ``decrypt``, with the number of cells) unless ``audit=False``, which is
        for callers that write one event for a larger operation. Callers check that the role may
        decrypt (``Keyring``-level code does not know who is asking)."""
        values = values if isinstance(values, pd.Series) else pd.Series(values)
        arr = text_array(values, self._label)
        ids = subject_list(subject_ids, len(values), self._label) if subject_ids is not None else None
        cells = len(arr) - arr.null_count
        try:
            stats: dict[str, int] = {}
            out = decrypt_column(arr, self, column_label=self._label, subjects=ids, stats=stats)
        except DecryptionError as e:
            if audit:
                self._audit(cells, ids, "error", e.message, actor, role, purpose)
            raise
        if audit:
            self._audit(cells, ids, "allow", "", actor, role, purpose, erased=stats.get("erased", 0))
        return to_series(out, values)

    def _audit(self, cells: int, ids: list[str | None] | None, decision: str, reason: str, actor: str | None,
               role: str | None, purpose: str | None, erased: int = 0) -> None:
        self._keyring.ws.audit.record(
            "decrypt", actor=actor, role=role, purpose=purpose, dataset=self.dataset, columns=[self.column],
            rows=cells, subjects=[s for s in ids if s is not None] if ids is not None else None,
            decision=decision, reason=reason, details={"cells": cells, "erased_cells": erased, "key_id": f"{self.key_id:08x}"})
