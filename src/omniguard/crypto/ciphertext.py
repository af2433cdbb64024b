"""The ciphertext of a field: a self-describing, versioned SM4-GCM envelope (docs/formats/ciphertext.md).

    offset  size  field
    0       2     magic 0x48 0xCE (so base64 text of format 1 always starts with "SM4B")
    2       1     format version (1)
    3       1     flags: bit 0 = encrypted under the subject's own key; other bits zero
    4       4     key id (unsigned, big-endian): the keyset of one dataset column
    8       4     key version (unsigned, big-endian)
    12      12    nonce (random)
    24      n     ciphertext (SM4-GCM, same length as the plaintext)
    24+n    16    tag

The associated data is the 12-byte header followed by the context, each part as a 2-byte
big-endian length and its UTF-8 bytes: dataset, column and, when flag bit 0 is set, the subject
id. A value copied to another column, dataset, subject or key therefore fails to decrypt.
Text cells are the standard padded base64 of these bytes.

Column functions here work on Arrow string arrays: cells are grouped by byte length and each
group goes through :class:`~omniguard.crypto.gcm.BatchGCM` and the batch base64 codec at once.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from omniguard.crypto.codec import StringBuilder, StringRows, b64decode_rows, b64encode_rows
from omniguard.crypto.gcm import BatchGCM
from omniguard.crypto.sm4 import NONCE_BYTES, SM4GCM, TAG_BYTES, DecryptionError

MAGIC = b"\x48\xce"
FORMAT_VERSION = 1
FLAG_SUBJECT = 0x01
HEADER_BYTES = 12
OVERHEAD = HEADER_BYTES + NONCE_BYTES + TAG_BYTES  # 40 bytes
TEXT_PREFIX = "SM4B"
MIN_TEXT_CHARS = 56  # base64 of the 40 bytes of an empty value
SMALL_GROUP = 6  # fewer cells of one length than this go through OpenSSL's GCM one by one
MAX_BATCH_BYTES = 4096  # longer values too: their per-cell overhead is negligible
_TEXT_RE = r"^SM4B[A-Za-z0-9+/]*={0,2}$"


@dataclass(frozen=True)
class Header:
    key_id: int
    key_version: int
    subject: bool = False

    def pack(self) -> bytes:
        return MAGIC + bytes([FORMAT_VERSION, FLAG_SUBJECT if self.subject else 0]) + struct.pack(
            ">II", self.key_id, self.key_version)

    @classmethod
    def parse(cls, blob: bytes) -> Header:
        if len(blob) < OVERHEAD:
            raise DecryptionError("cannot decrypt: not an omniguard ciphertext (too short)")
        if blob[:2] != MAGIC:
            raise DecryptionError("cannot decrypt: not an omniguard ciphertext")
        if blob[2] != FORMAT_VERSION:
            raise DecryptionError(f"cannot decrypt: unsupported ciphertext format version {blob[2]}")
        if blob[3] & ~FLAG_SUBJECT:
            raise DecryptionError("cannot decrypt: unknown flags in ciphertext header")
        key_id, version = struct.unpack(">II", blob[4:12])
        return cls(key_id, version, bool(blob[3] & FLAG_SUBJECT))


class KeyHandle:
    """An unwrapped data key with its batch and single-message engines. Never printed."""

    __slots__ = ("_batch", "_key", "single")

    def __init__(self, key: bytes):
        self.single = SM4GCM(key)
        self._key = key
        self._batch: BatchGCM | None = None

    def __repr__(self) -> str:
        return "KeyHandle(<key>)"

    @property
    def batch(self) -> BatchGCM:
        if self._batch is None:
            self._batch = BatchGCM(self._key)
        return self._batch


def _lp(text: str, what: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise ValueError(f"{what} longer than 65535 bytes")
    return struct.pack(">H", len(raw)) + raw


def associated_data(header: bytes, dataset: str, column: str, subject: str | None = None) -> bytes:
    aad = header + _lp(dataset, "dataset name") + _lp(column, "column name")
    return aad + _lp(subject, "subject id") if subject is not None else aad


# --- one value ---------------------------------------------------------------------------------


def encrypt_value(key: KeyHandle, header: Header, plaintext: bytes, dataset: str, column: str,
                  subject: str | None = None) -> bytes:
    if header.subject != (subject is not None):
        raise ValueError("the subject flag and the subject id must go together")
    head = header.pack()
    nonce = secrets.token_bytes(NONCE_BYTES)
    return head + nonce + key.single.encrypt(nonce, plaintext, associated_data(head, dataset, column, subject))


def decrypt_value(key: KeyHandle, blob: bytes, dataset: str, column: str, subject: str | None = None) -> bytes:
    header = Header.parse(blob)
    if header.subject != (subject is not None):
        raise DecryptionError("cannot decrypt: subject id missing or not expected for this ciphertext")
    aad = associated_data(blob[:HEADER_BYTES], dataset, column, subject)
    return key.single.decrypt(blob[HEADER_BYTES: HEADER_BYTES + NONCE_BYTES], blob[HEADER_BYTES + NONCE_BYTES:], aad)


def to_text(blob: bytes) -> str:
    return base64.b64encode(blob).decode("ascii")


def from_text(text: str) -> bytes:
    try:
        blob = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise DecryptionError("cannot decrypt: not valid base64 ciphertext text") from None
    if to_text(blob) != text:  # non-canonical padding bits would let two texts name one value
        raise DecryptionError("cannot decrypt: not canonical base64 ciphertext text")
    return blob


# --- whole columns -----------------------------------------------------------------------------


def as_string_array(values: Sequence[object] | pa.Array | pa.ChunkedArray) -> pa.Array:
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.large_string())
    if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
        raise TypeError("binary cells: encrypt bytes with encrypt_value, columns hold text")
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.large_string())
    return arr


def encrypt_column(values: pa.Array, key: KeyHandle, header: Header, dataset: str, column: str) -> pa.Array:
    """Encrypt every non-null cell under one key; nulls stay null. Returns base64 text cells."""
    rows = StringRows(values)
    out = StringBuilder(rows.n, rows.valid)
    head = header.pack()
    aad = associated_data(head, dataset, column)
    head_chars = b64encode_rows(np.frombuffer(head, dtype=np.uint8)[None, :])[0]
    for length, idx, pt in rows.groups():
        k = len(idx)
        if k < SMALL_GROUP or length > MAX_BATCH_BYTES:
            blobs = [encrypt_value(key, header, bytes(p), dataset, column)[HEADER_BYTES:] for p in pt]
            body = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(k, length + NONCE_BYTES + TAG_BYTES)
        else:
            nonces = np.frombuffer(secrets.token_bytes(NONCE_BYTES * k), dtype=np.uint8).reshape(k, NONCE_BYTES)
            ct, tags = key.batch.seal(nonces, pt, aad)
            body = np.concatenate([nonces, ct, tags], axis=1)
        chars = b64encode_rows(body)
        out.put(idx, np.concatenate([np.broadcast_to(head_chars, (k, head_chars.size)), chars], axis=1))
    return out.finish()


def encrypt_column_per_subject(values: pa.Array, subjects: Sequence[str], keys: Sequence[KeyHandle | None],
                               key_id: int, dataset: str, column: str) -> pa.Array:
    """Each cell under its subject's own key (crypto-shredding); one OpenSSL call per cell.
    The key version field is 0: subject keys have no versions, shredding replaces rotation."""
    cells = values.to_pylist()
    head = Header(key_id, 0, subject=True).pack()
    prefix = associated_data(head, dataset, column)
    nonces = secrets.token_bytes(NONCE_BYTES * len(cells))
    out: list[str | None] = []
    for i, (value, subject, key) in enumerate(zip(cells, subjects, keys, strict=True)):
        if value is None or key is None:
            out.append(None)
            continue
        nonce = nonces[NONCE_BYTES * i: NONCE_BYTES * (i + 1)]
        sealed = key.single.encrypt(nonce, value.encode("utf-8"), prefix + _lp(subject, "subject id"))
        out.append(base64.b64encode(head + nonce + sealed).decode("ascii"))
    return pa.array(out, type=pa.large_string())


class KeySource(Protocol):
    """Where decryption finds keys: a keyring, or a single column's keyset."""

    def context(self, key_id: int) -> tuple[str, str]:
        """(dataset, column) that cells of this key id are bound to; DecryptionError if unknown."""
        ...

    def key(self, key_id: int, version: int) -> KeyHandle:
        """The data key; DecryptionError if unknown or destroyed."""
        ...

    def subject_keys(self, subject_ids: Sequence[str]) -> Sequence[KeyHandle | None]:
        """Each subject's key, None where there is none (never created, or shredded)."""
        ...


def decrypt_column(values: pa.Array, source: KeySource, *, column_label: str = "column",
                   subjects: Sequence[str | None] | None = None, stats: dict[str, int] | None = None) -> pa.Array:
    """Decrypt every non-null cell; nulls stay null. Any failure anywhere raises one
    DecryptionError naming how many cells failed and the first row, never a key or a value.

    Cells under a subject key that no longer exists (the subject was erased by crypto-shredding)
    are not a failure: they come back null and are counted in ``stats["erased"]``."""
    rows = StringRows(values)
    valid = rows.valid.copy()
    out = StringBuilder(rows.n, valid)
    erased = 0
    bad = np.zeros(rows.n, dtype=bool)
    per_subject: list[tuple[Header, np.ndarray, np.ndarray]] = []
    reason = ""
    for width, idx, chars in rows.groups():
        if width < MIN_TEXT_CHARS or width % 4:
            bad[idx] = True
            continue
        pads = (chars[:, -1] == ord("=")).astype(np.int8) + (chars[:, -2] == ord("="))
        heads = np.ascontiguousarray(chars[:, :16]).view("S16").ravel()
        for head_text in np.unique(heads):
            same_head = heads == head_text
            for pad in (0, 1, 2):
                sel = same_head & (pads == pad)
                if not sel.any():
                    continue
                sub = idx[sel]
                try:
                    header = Header.parse(base64.b64decode(head_text, validate=True) + bytes(OVERHEAD))
                    if header.pack() != base64.b64decode(head_text):
                        raise DecryptionError("cannot decrypt: malformed header")
                    body, ok = b64decode_rows(chars[sel][:, 16:], pad)
                    bad[sub[~ok]] = True
                    sub, body = sub[ok], body[ok]
                    if header.subject:
                        per_subject.append((header, sub, body))
                        continue
                    dataset, column = source.context(header.key_id)
                    key = source.key(header.key_id, header.key_version)
                except (DecryptionError, binascii.Error, ValueError) as e:
                    bad[sub] = True
                    reason = reason or getattr(e, "message", "")
                    continue
                aad = associated_data(header.pack(), dataset, column)
                pt, ok = key.batch.open(np.ascontiguousarray(body[:, :NONCE_BYTES]),
                                        np.ascontiguousarray(body[:, NONCE_BYTES:-TAG_BYTES]),
                                        np.ascontiguousarray(body[:, -TAG_BYTES:]), aad)
                bad[sub[~ok]] = True
                out.put(sub[ok], pt[ok])
    for header, sub, body in per_subject:
        if subjects is None:
            bad[sub] = True
            reason = reason or "cells encrypted per subject need the subject ids"
            continue
        done = _decrypt_subject_cells(header, sub, body, source, subjects)
        for i, raw in zip(sub.tolist(), done, strict=True):
            if raw is None:
                bad[i] = True
            elif raw is _ERASED:
                valid[i] = False
                erased += 1
            else:
                out.put(np.array([i]), np.frombuffer(raw, dtype=np.uint8)[None, :])
    if bad.any():
        first = int(np.flatnonzero(bad)[0]) + 1
        raise DecryptionError(
            f"cannot decrypt {int(bad.sum())} cell(s) of {column_label} (first at row {first}): "
            + (reason.removeprefix("cannot decrypt: ") or "tampered, truncated, wrong key or wrong context"))
    if stats is not None:
        stats["erased"] = stats.get("erased", 0) + erased
    result = out.finish()
    try:
        result.validate(full=True)
    except pa.ArrowInvalid:
        raise DecryptionError(f"cannot decrypt {column_label}: a decrypted value is not UTF-8 text") from None
    return result


_ERASED = b"\x00erased"  # marker object: compared by identity, never a decrypted value


def _decrypt_subject_cells(header: Header, idx: np.ndarray, body: np.ndarray, source: KeySource,
                           subjects: Sequence[str | None]) -> list[bytes | None]:
    ids = [subjects[i] for i in idx.tolist()]
    try:
        dataset, column = source.context(header.key_id)
    except DecryptionError:
        return [None] * len(ids)
    keys = source.subject_keys([s if s is not None else "" for s in ids])
    head = header.pack()
    out: list[bytes | None] = []
    for subject, key, raw in zip(ids, keys, body, strict=True):
        if subject is None:
            out.append(None)
            continue
        if key is None:
            out.append(_ERASED)
            continue
        try:
            out.append(decrypt_value(key, head + raw.tobytes(), dataset, column, subject))
        except DecryptionError:
            out.append(None)
    return out


def looks_like_ciphertext(values: object) -> np.ndarray:
    """True for cells shaped like omniguard field ciphertext text (prefix, base64, length).

    Structural only: it needs no key, so compliance checks can find unencrypted sensitive columns
    and ``decrypt`` can find the cells to decrypt in a file."""
    try:
        arr = as_string_array(values.array if hasattr(values, "array") else values)  # type: ignore[attr-defined]
    except (TypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.zeros(len(values), dtype=bool)  # type: ignore[arg-type]
    lengths = pc.utf8_length(arr)
    mask = pc.and_(pc.and_(pc.match_substring_regex(arr, _TEXT_RE), pc.greater_equal(lengths, MIN_TEXT_CHARS)),
                   pc.equal(pc.bit_wise_and(lengths, 3), 0))
    return np.asarray(mask.fill_null(False), dtype=bool)
