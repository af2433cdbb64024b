"""SM4-GCM over whole batches: OpenSSL's SM4 for the keystream, a table-driven GHASH in numpy.

``cryptography`` has no SM4 counterpart of ``AESGCM``: SM4-GCM is reachable only as
``Cipher(SM4(key), GCM(nonce))``, one OpenSSL context per message, about 14 us per short cell.
For a column of a million phone numbers that per-cell overhead dominates, so this module runs the
GCM construction of NIST SP 800-38D over a whole batch of equal-length messages at once:

* the counter blocks ``nonce || 1`` (the tag mask) and ``nonce || 2..m+1`` of every message go
  through one OpenSSL SM4-ECB call on a reused context (ECB of counter blocks is CTR);
* GHASH is linear, so multiplication by the fixed hash key ``H`` is a XOR of 16 table lookups
  (one 256-entry table per byte position), done for every message at once; the associated data,
  the same for every cell of a column, and the length block fold into one constant per length.

The output is byte-for-byte OpenSSL's SM4-GCM: ``tests/crypto/test_gcm.py`` checks it against
``Cipher(SM4, GCM)`` and gmssl's pure-Python SM4 for random keys, nonces, lengths and data.
Nothing outside :mod:`omniguard.crypto` uses this module directly.
"""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
_R = 0xE1 << 120
_MASK128 = (1 << 128) - 1
CHUNK_ROWS = 1 << 15  # rows per pass: keeps the working set in cache and memory flat


def gf_mul(x: int, y: int) -> int:
    """Multiplication in GF(2^128) with GCM's bit order (SP 800-38D, Algorithm 1)."""
    z, v = 0, y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    return z


class _MulTable:
    """Multiplication by a fixed element h: 16 tables of 256 products, one per byte position."""

    __slots__ = ("_tab",)

    def __init__(self, h: int):
        basis = [0] * 128  # basis[p] = (bit p of the 128-bit big-endian integer) * h
        v = h
        for p in range(127, -1, -1):
            basis[p] = v
            v = (v >> 1) ^ _R if v & 1 else v >> 1
        entries = bytearray()
        for j in range(16):
            shift = 8 * (15 - j)
            t = [0] * 256
            for b in range(1, 256):
                low = b & -b
                t[b] = t[b ^ low] ^ basis[shift + low.bit_length() - 1]
            entries += b"".join(x.to_bytes(16, "big") for x in t)
        self._tab = np.frombuffer(bytes(entries), dtype=np.complex128).reshape(16, 256)

    def mul(self, x: np.ndarray) -> np.ndarray:
        """(n, 16) uint8 blocks -> their products with h, (n, 16) uint8."""
        n = x.shape[0]
        acc = np.zeros((n, 2), dtype=np.uint64)
        buf = np.empty(n, dtype=np.complex128)
        bufw = buf.view(np.uint64).reshape(n, 2)
        for j in range(16):
            np.take(self._tab[j], x[:, j], out=buf)
            acc ^= bufw
        return acc.view(np.uint8).reshape(n, 16)


def _length_block(aad_len: int, ct_len: int) -> int:
    return ((8 * aad_len) << 64) | (8 * ct_len)


class BatchGCM:
    """SM4-GCM with one key for many messages of one length and one associated data.

    Callers supply fresh random 96-bit nonces; this class never chooses them."""

    def __init__(self, key: bytes):
        self._ecb = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
        self._h = int.from_bytes(self._ecb.update(bytes(BLOCK)), "big")
        self._powers = [1, self._h]  # h^0, h^1, ...
        self._tab_h = _MulTable(self._h)
        self._tab_h2 = _MulTable(self._power(2))
        self._aad_cache: dict[bytes, int] = {}

    def _power(self, k: int) -> int:
        while len(self._powers) <= k:
            self._powers.append(gf_mul(self._powers[-1], self._h))
        return self._powers[k]

    def _aad_state(self, aad: bytes) -> int:
        x = self._aad_cache.get(aad)
        if x is None:
            x = 0
            padded = aad + bytes(-len(aad) % BLOCK)
            for i in range(0, len(padded), BLOCK):
                x = gf_mul(x ^ int.from_bytes(padded[i: i + BLOCK], "big"), self._h)
            if len(self._aad_cache) < 64:
                self._aad_cache[aad] = x
        return x

    def _keystream(self, nonces: np.ndarray, m: int) -> np.ndarray:
        """E(nonce || i) for i = 1..m+1 of every nonce: (n, m+1, 16)."""
        n = nonces.shape[0]
        ctr = np.zeros((n, m + 1, BLOCK), dtype=np.uint8)
        ctr[:, :, :12] = nonces[:, None, :]
        ctr[:, :, 12:] = np.arange(1, m + 2, dtype=">u4").view(np.uint8).reshape(m + 1, 4)
        out = np.empty(ctr.size + BLOCK - 1, dtype=np.uint8)
        self._ecb.update_into(ctr.data, out)
        return out[: ctr.size].reshape(n, m + 1, BLOCK)

    def _tags(self, ct: np.ndarray, mask: np.ndarray, aad: bytes) -> np.ndarray:
        """GCM tags of (n, L) ciphertexts given the tag masks E(J0), (n, 16)."""
        n, length = ct.shape
        m = -(-length // BLOCK)
        const = gf_mul(self._aad_state(aad), self._power(m + 1)) ^ gf_mul(_length_block(len(aad), length), self._h)
        s = np.empty((n, BLOCK), dtype=np.uint8)
        if m == 0:
            s[:] = np.frombuffer(const.to_bytes(16, "big"), dtype=np.uint8)
        else:
            blocks = np.zeros((n, m * BLOCK), dtype=np.uint8)
            blocks[:, :length] = ct
            blocks = blocks.reshape(n, m, BLOCK)
            w = np.ascontiguousarray(blocks[:, 0])
            for j in range(1, m):
                w = self._tab_h.mul(w)
                w ^= blocks[:, j]
            s = self._tab_h2.mul(w)
            s ^= np.frombuffer(const.to_bytes(16, "big"), dtype=np.uint8)
        s ^= mask
        return s

    def seal(self, nonces: np.ndarray, plaintext: np.ndarray, aad: bytes) -> tuple[np.ndarray, np.ndarray]:
        """(n, 12) nonces and (n, L) plaintexts -> ((n, L) ciphertexts, (n, 16) tags)."""
        n, length = plaintext.shape
        ct = np.empty_like(plaintext)
        tags = np.empty((n, BLOCK), dtype=np.uint8)
        m = -(-length // BLOCK)
        for a in range(0, n, CHUNK_ROWS):
            b = min(n, a + CHUNK_ROWS)
            ks = self._keystream(nonces[a:b], m)
            np.bitwise_xor(plaintext[a:b], ks[:, 1:].reshape(b - a, m * BLOCK)[:, :length], out=ct[a:b])
            tags[a:b] = self._tags(ct[a:b], ks[:, 0], aad)
        return ct, tags

    def open(self, nonces: np.ndarray, ciphertext: np.ndarray, tags: np.ndarray, aad: bytes
             ) -> tuple[np.ndarray, np.ndarray]:
        """-> ((n, L) plaintexts, (n,) bool: tag verified). Rows that fail must not be used.

        Every row's tag is compared in full (XOR, then OR over all 16 bytes), so the time taken
        does not depend on where a forged tag differs."""
        n, length = ciphertext.shape
        pt = np.empty_like(ciphertext)
        ok = np.empty(n, dtype=bool)
        m = -(-length // BLOCK)
        for a in range(0, n, CHUNK_ROWS):
            b = min(n, a + CHUNK_ROWS)
            ks = self._keystream(nonces[a:b], m)
            expected = self._tags(ciphertext[a:b], ks[:, 0], aad)
            diff = (expected ^ tags[a:b]).view(np.uint64)
            ok[a:b] = (diff[:, 0] | diff[:, 1]) == 0
            np.bitwise_xor(ciphertext[a:b], ks[:, 1:].reshape(b - a, m * BLOCK)[:, :length], out=pt[a:b])
        pt[~ok] = 0
        return pt, ok
