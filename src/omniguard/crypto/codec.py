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
import itertools
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
    bits before the padding (non-canonical text), so every change of the text is noticed. The
    common all-valid case is one strict :mod:`binascii` call; the per-character check runs only
    when that call refuses the batch, to find the bad rows."""
    n, width = chars.shape
    ok = np.ones(n, dtype=bool)
    if pad:
        ok &= (chars[:, width - pad:] == _PAD).all(axis=1)
        ok &= (_B64_VALUE[chars[:, width - pad - 1]] & (0x0F if pad == 2 else 0x03)) == 0
    clean = np.array(chars, dtype=np.uint8, copy=True)
    if pad:
        clean[:, width - pad:] = ord("A")
    try:
        raw = binascii.a2b_base64(clean.data, strict_mode=True) if n else b""
    except binascii.Error:
        ok &= ~(_B64_VALUE[clean] == 255).any(axis=1)
        clean[~ok] = ord("A")
        raw = binascii.a2b_base64(clean.data, strict_mode=True)
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
    """The UTF-8 bytes of an Arrow string array, grouped by byte length for batch work.

    One Arrow ``take`` (C++) puts the non-null rows in order of length, after which the rows of
    each length are one contiguous slice of the data buffer: a zero-copy (k, length) view."""

    def __init__(self, array: pa.Array):
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        if pa.types.is_string(array.type):
            array = array.cast(pa.large_string())
        elif not pa.types.is_large_string(array.type):
            raise TypeError("expected an Arrow string array")
        self.n = len(array)
        self.valid = ~np.asarray(array.is_null(), dtype=bool) if array.null_count else np.ones(self.n, dtype=bool)
        lengths = np.asarray(pc.binary_length(array).fill_null(-1), dtype=np.int64)
        order = np.argsort(lengths, kind="stable")
        order = order[np.searchsorted(lengths[order], 0):]  # drop the nulls
        self.order = order
        self.sorted_lengths = lengths[order]
        self.lengths = lengths
        taken = array.take(pa.array(order, pa.int64())) if len(order) else pa.array([], pa.large_string())
        bufs = taken.buffers()
        self._offsets = np.frombuffer(bufs[1], dtype=np.int64)[taken.offset: taken.offset + len(taken) + 1]
        self._data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)

    def groups(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(byte length, row indices, (k, length) bytes) for every length among non-null rows."""
        if not len(self.order):
            return
        bounds = [0, *(np.flatnonzero(np.diff(self.sorted_lengths)) + 1).tolist(), len(self.order)]
        for a, b in itertools.pairwise(bounds):
            length = int(self.sorted_lengths[a])
            start = int(self._offsets[a])
            yield length, self.order[a:b], self._data[start: start + (b - a) * length].reshape(b - a, length)


class StringBuilder:
    """Assemble an Arrow large_string array of ``n`` rows from groups of fixed-width rows: the
    groups are laid end to end, then one Arrow ``take`` puts every row back in place."""

    def __init__(self, n: int, valid: np.ndarray):
        self.n = n
        self.valid = valid
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []

    def put(self, idx: np.ndarray, chars: np.ndarray) -> None:
        self._parts.append((idx, chars))

    def finish(self) -> pa.Array:
        parts = [(i, c) for i, c in self._parts if len(i)]
        widths = np.concatenate([np.full(len(i), c.shape[1], np.int64) for i, c in parts]) if parts else \
            np.zeros(0, np.int64)
        offsets = np.zeros(len(widths) + 1, dtype=np.int64)
        np.cumsum(widths, out=offsets[1:])
        data = np.concatenate([np.ascontiguousarray(c).ravel() for _, c in parts]) if parts else np.zeros(0, np.uint8)
        grouped = pa.LargeStringArray.from_buffers(len(widths), pa.py_buffer(offsets), pa.py_buffer(data))
        where = np.full(self.n, -1, dtype=np.int64)
        if parts:
            where[np.concatenate([i for i, _ in parts])] = np.arange(len(widths), dtype=np.int64)
        missing = (where < 0) | ~self.valid
        return grouped.take(pa.array(where, pa.int64(), mask=missing if missing.any() else None))


def fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """(n, W) ASCII rows -> an Arrow large_string array without nulls (zero-copy offsets)."""
    n, width = chars.shape
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars)))
