"""Whole-table operations behind ``omniguard encrypt|decrypt|reencrypt``: pick columns, run the
column ciphers, check the role, write one audit event per operation."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from omniguard.crypto.ciphertext import Header, decrypt_column, looks_like_ciphertext
from omniguard.crypto.column import ColumnCipher, subject_list, text_array, to_series
from omniguard.errors import AccessDenied, InputError

Progress = Callable[[int], None]


@dataclass
class FrameResult:
    frame: pd.DataFrame
    columns: list[str] = field(default_factory=list)
    cells: int = 0
    skipped: int = 0  # cells already encrypted (encrypt) or re-encrypted not needed
    erased: int = 0  # per-subject cells whose subject key was shredded (decrypt gives null)

    def summary(self, **extra: Any) -> dict[str, Any]:
        return {"columns": self.columns, "cells": self.cells, "rows": len(self.frame), "skipped": self.skipped,
                "erased": self.erased, **extra}


def _check_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{what}: no column named {missing[0]!r} (columns: {', '.join(map(str, df.columns))})")


def encrypt_frame(ws: Any, df: pd.DataFrame, columns: Sequence[str], *, dataset: str,
                  subject_column: str | None = None, actor: str | None = None, role: str | None = None,
                  progress: Progress | None = None) -> FrameResult:
    """Encrypt ``columns`` in place of their values. Cells that already hold omniguard
    ciphertext are left alone, so encrypting twice changes nothing."""
    if not columns:
        raise InputError("no columns to encrypt")
    _check_columns(df, list(columns) + ([subject_column] if subject_column else []), "encrypt")
    if subject_column and subject_column in columns:
        raise InputError("the subject id column cannot be encrypted with per-subject keys it names")
    out = df.copy()
    res = FrameResult(out, list(columns))
    for i, col in enumerate(columns):
        values = df[col]
        done = looks_like_ciphertext(values)
        todo = ~done & values.notna().to_numpy()
        res.skipped += int(done.sum())
        if subject_column:
            cipher = ColumnCipher(ws.keyring, ws.keyring.column_keyset(dataset, str(col), subject_column=subject_column))
        else:
            cipher = ws.keyring.column_cipher(dataset, str(col))
        part = values[todo]
        subjects = df[subject_column][todo] if subject_column else None
        enc = cipher.encrypt(part.astype(str), subjects)
        new = values.astype("str").copy()
        new[todo] = enc.to_numpy()
        out[col] = new
        res.cells += int(todo.sum())
        if progress:
            progress(i + 1)
    ws.audit.record("encrypt", actor=actor, role=role, dataset=dataset, columns=list(columns), rows=len(df),
                    subjects=df[subject_column] if subject_column else None,
                    details={"cells": res.cells, "already_encrypted": res.skipped, "per_subject": bool(subject_column)})
    return res


def require_decrypt(ws: Any, role: str | None, *, actor: str | None, dataset: str, action: str = "decrypt") -> str:
    """The role's id if it may decrypt; otherwise audit the denial and raise AccessDenied."""
    r = ws.policy.role(role)
    if not r.decrypt:
        ws.audit.record(action, actor=actor, role=r.id, dataset=dataset, decision="deny",
                        reason=f"role {r.id} may not decrypt")
        raise AccessDenied(f"role {r.id!r} may not decrypt (roles.yaml: decrypt is false)",
                           hint="use a role with decrypt: true, e.g. --role dpo, if you hold it")
    return r.id


def _subject_column_for(ws: Any, df: pd.DataFrame, given: str | None) -> str | None:
    if given:
        _check_columns(df, [given], "--subject-column")
        return given
    names = {k.subject_column for k in ws.keyring.keysets() if k.kind == "column" and k.subject_column
             and k.column in df.columns}
    present = [n for n in names if n in df.columns]
    return present[0] if len(present) == 1 else None


def decrypt_frame(ws: Any, df: pd.DataFrame, *, dataset: str, role: str | None = None, actor: str | None = None,
                  purpose: str | None = None, columns: Sequence[str] | None = None,
                  subject_column: str | None = None, progress: Progress | None = None) -> FrameResult:
    """Decrypt every ciphertext cell (found by its format) of ``columns`` (default: all).
    Needs a role with ``decrypt: true``; one audit event with the number of cells."""
    role_id = require_decrypt(ws, role, actor=actor, dataset=dataset)
    cols = list(columns) if columns else [str(c) for c in df.columns]
    _check_columns(df, cols, "decrypt")
    subj_col = _subject_column_for(ws, df, subject_column)
    ids = subject_list(df[subj_col], len(df), subj_col) if subj_col else None
    out = df.copy()
    res = FrameResult(out)
    try:
        for i, col in enumerate(cols):
            mask = looks_like_ciphertext(df[col])
            if mask.any():
                sub_ids = [ids[j] for j in np.flatnonzero(mask)] if ids is not None else None
                arr = text_array(df[col][mask], f"column {col!r}")
                stats: dict[str, int] = {}
                plain = to_series(decrypt_column(arr, ws.keyring, column_label=f"column {col!r}", subjects=sub_ids,
                                                 stats=stats), df[col][mask])
                res.erased += stats.get("erased", 0)
                new = df[col].astype("str").copy()
                new[mask] = plain.to_numpy()
                out[col] = new
                res.columns.append(col)
                res.cells += int(mask.sum())
            if progress:
                progress(i + 1)
    except InputError as e:
        ws.audit.record("decrypt", actor=actor, role=role_id, purpose=purpose, dataset=dataset, columns=cols,
                        decision="error", reason=e.message, details={"cells_decrypted": res.cells})
        raise
    ws.audit.record("decrypt", actor=actor, role=role_id, purpose=purpose, dataset=dataset, columns=res.columns,
                    rows=len(df), subjects=df[subj_col] if subj_col else None,
                    details={"cells": res.cells, "erased_cells": res.erased})
    return res


def _key_ids(texts: pd.Series) -> np.ndarray:
    """Key id of each ciphertext cell, -1 for per-subject cells (read from the header text)."""
    heads = texts.str.slice(0, 16)
    ids = np.empty(len(heads), dtype=np.int64)
    for head in heads.unique():
        h = Header.parse(base64.b64decode(head) + bytes(40))
        ids[(heads == head).to_numpy()] = -1 if h.subject else (h.key_id << 16) | min(h.key_version, 0xFFFF)
    return ids


def reencrypt_frame(ws: Any, df: pd.DataFrame, *, dataset: str, actor: str | None = None,
                    progress: Progress | None = None) -> FrameResult:
    """Move every ciphertext cell to its keyset's primary version (after ``keys rotate``), so old
    versions can be destroyed. Per-subject cells are left as they are (subject keys have no
    versions). Plain values never leave this function."""
    out = df.copy()
    res = FrameResult(out)
    by_id = {k.key_id: k for k in ws.keyring.keysets() if k.kind == "column"}
    for i, col in enumerate(df.columns):
        pos = np.flatnonzero(looks_like_ciphertext(df[col]))
        if len(pos):
            texts = df[col].iloc[pos].astype(str)
            codes = _key_ids(texts)
            new = df[col].astype("str").copy()
            for code in np.unique(codes):
                key_id, version = int(code) >> 16, int(code) & 0xFFFF
                ks = by_id.get(key_id)
                if code < 0 or ks is None or version == ks.primary_version:
                    res.skipped += int((codes == code).sum())
                    continue
                sel = texts.iloc[np.flatnonzero(codes == code)]
                plain = to_series(decrypt_column(text_array(sel, f"column {col!r}"), ws.keyring,
                                                 column_label=f"column {col!r}"), sel)
                cipher = ws.keyring.column_cipher(ks.dataset, ks.column)
                new.iloc[pos[codes == code]] = cipher.encrypt(plain).to_numpy()
                res.cells += len(sel)
            out[col] = new
            res.columns.append(str(col))
        if progress:
            progress(i + 1)
    ws.audit.record("key.reencrypt", actor=actor, dataset=dataset, columns=res.columns, rows=len(df),
                    details={"cells": res.cells, "unchanged": res.skipped})
    return res
