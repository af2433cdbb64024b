"""Columnar text codecs: base64 and base32 over whole batches, and Arrow string arrays from rows.

Column encryption produces millions of short cells; encoding each with :mod:`base64` would cost a
Python call per cell. Here every cell of one byte length forms a row of a 2-D ``uint8`` array,
and a group of equal-length rows is encoded with one :mod:`binascii` call (a row padded with zero
bytes to a multiple of 3 encodes to exactly its own base64 text, after which the last one or two
characters become ``=``). Results are assembled straight into Arrow buffers, so pandas gets an
Arrow-backed string column without ever creating a Python ``str`` per cell.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
B32_ALPHABET = b"abcdefghijklmnopqrstuvwxyz234567"

_B64_VALUE = np.full(256, 255, dtype=np.uint8)
_B64_VALUE[np.frombuffer(B64_ALPHABET, dtype=np.uint8)] = np.arange(64, dtype=np.uint8)
_B32_CHARS = np.frombuffer(B32_ALPHABET, dtype=np.uint8)
_PAD = ord("=")


def b64_width(n_bytes: int) -> int:
    return 4 * (-(-n_bytes // 3))


def b64encode_rows(rows: np.ndarray) -> np.ndarray:
    """(n, L) bytes -> (n, W) ASCII base64 characters (standard alphabet, padded)."""
    n, length = rows.shape
    padded_len = 3 * (-(-length // 3))
    if padded_len != length:
        padded = np.zeros((n, padded_len), dtype=np.uint8)
        padded[:, :length] = rows
    else:
        padded = np.ascontiguousarray(rows)
    text = binascii.b2a_base64(padded.data, newline=False) if n else b""
    out = np.frombuffer(text, dtype=np.uint8).reshape(n, 4 * padded_len // 3).copy()
    pad = padded_len - length
    if pad:
        out[:, -pad:] = _PAD
    return out


def b64decode_rows(chars: np.ndarray, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, W) base64 characters whose last ``pad`` characters are ``=`` -> ((n, L) bytes, ok).

    ``ok[i]`` is False for a row with a character outside the alphabet or with non-zero unused
    bits before the padding (non-canonical text), so every change of the text is noticed."""
    n, width = chars.shape
    values = _B64_VALUE[chars[:, : width - pad]] if pad else _B64_VALUE[chars]
    ok = ~(values == 255).any(axis=1)
    if pad:
        ok &= (chars[:, width - pad:] == _PAD).all(axis=1)
        last = values[:, -1]
        ok &= (last & (0x0F if pad == 2 else 0x03)) == 0
    clean = np.where(ok[:, None], chars, ord("A")).astype(np.uint8)
    if pad:
        clean[:, width - pad:] = ord("A")
    raw = binascii.a2b_base64(clean.data) if n else b""
    out = np.frombuffer(raw, dtype=np.uint8).reshape(n, 3 * width // 4)
    return out[:, : 3 * width // 4 - pad], ok


def b32encode_rows(rows: np.ndarray) -> np.ndarray:
    """(n, 5k) bytes -> (n, 8k) lowercase RFC 4648 base32 characters (no padding needed)."""
    n, length = rows.shape
    if length % 5:
        raise ValueError("base32 rows must be a multiple of 5 bytes")
    groups = rows.reshape(n, length // 5, 5).astype(np.uint64)
    packed = np.zeros(groups.shape[:2], dtype=np.uint64)
    for i in range(5):
        packed = (packed << np.uint64(8)) | groups[:, :, i]
    shifts = np.arange(35, -1, -5, dtype=np.uint64)
    idx = (packed[:, :, None] >> shifts) & np.uint64(31)
    return _B32_CHARS[idx].reshape(n, 8 * length // 5)


# --- Arrow strings <-> rows of bytes ----------------------------------------------------------


class StringRows:
    """The UTF-8 bytes of an Arrow string array, grouped by byte length for batch work."""

    def __init__(self, array: pa.Array):
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            array = array.cast(pa.large_string()) if pa.types.is_string(array.type) else array
        else:
            raise TypeError("expected an Arrow string array")
        self.n = len(array)
        self.valid = ~np.asarray(array.is_null(), dtype=bool) if array.null_count else np.ones(self.n, dtype=bool)
        bufs = array.buffers()
        offsets = np.frombuffer(bufs[1], dtype=np.int64)[array.offset: array.offset + self.n + 1]
        self.data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
        self.starts = offsets[:-1]
        self.lengths = np.diff(offsets)
        self.lengths[~self.valid] = -1

    def groups(self) -> Iterator[tuple[int, np.ndarray]]:
        """(byte length, row indices) for every length present among the non-null rows."""
        order = np.argsort(self.lengths, kind="stable")
        sorted_len = self.lengths[order]
        first_valid = np.searchsorted(sorted_len, 0)
        order, sorted_len = order[first_valid:], sorted_len[first_valid:]
        if not len(order):
            return
        bounds = np.flatnonzero(np.diff(sorted_len)) + 1
        for chunk in np.split(order, bounds):
            yield int(self.lengths[chunk[0]]), chunk

    def rows(self, idx: np.ndarray, length: int) -> np.ndarray:
        """The bytes of rows ``idx`` (all of byte length ``length``) as an (n, length) array."""
        if length == 0:
            return np.zeros((len(idx), 0), dtype=np.uint8)
        pos = self.starts[idx][:, None] + np.arange(length, dtype=np.int64)
        return self.data[pos]


class StringBuilder:
    """Assemble an Arrow large_string array of ``n`` rows from groups of fixed-width rows."""

    def __init__(self, n: int, valid: np.ndarray):
        self.n = n
        self.valid = valid
        self.widths = np.zeros(n, dtype=np.int64)
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []

    def put(self, idx: np.ndarray, chars: np.ndarray) -> None:
        self.widths[idx] = chars.shape[1]
        self._parts.append((idx, chars))

    def finish(self) -> pa.Array:
        offsets = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(self.widths, out=offsets[1:])
        data = np.empty(int(offsets[-1]), dtype=np.uint8)
        for idx, chars in self._parts:
            if chars.shape[1]:
                pos = offsets[idx][:, None] + np.arange(chars.shape[1], dtype=np.int64)
                data[pos] = chars
        validity = None
        null_count = int(self.n - self.valid.sum())
        if null_count:
            validity = pa.py_buffer(np.packbits(self.valid, bitorder="little"))
        return pa.LargeStringArray.from_buffers(self.n, pa.py_buffer(offsets), pa.py_buffer(data), validity,
                                                null_count)


def fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """(n, W) ASCII rows -> an Arrow large_string array without nulls (zero-copy offsets)."""
    n, width = chars.shape
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars)))
