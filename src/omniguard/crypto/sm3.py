"""SM3 hashing, HMAC-SM3 and HKDF-SM3 (GB/T 32905), all on OpenSSL.

The audit chain hashes every event, so the per-call overhead matters: when the Python build's
OpenSSL exposes ``sm3`` through :mod:`hashlib` we use that constructor (the same OpenSSL SM3 that
``cryptography`` wraps, at about half the per-call cost); otherwise ``cryptography``'s
``hashes.SM3``. ``tests/crypto/test_sm3.py`` checks both paths against gmssl's independent
pure-Python SM3.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac
from collections.abc import Callable, Iterable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _c_hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DIGEST_SIZE = 32


def _crypto_sm3(data: bytes = b"") -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def _pick_hasher() -> Callable[[bytes], bytes]:
    try:
        probe = hashlib.new("sm3", b"abc").digest()
    except (ValueError, TypeError):
        return _crypto_sm3
    if probe != _crypto_sm3(b"abc"):  # never trust a surprising provider
        return _crypto_sm3

    empty = hashlib.new("sm3")  # copying a hasher skips OpenSSL's lookup of "sm3" by name

    def _hashlib_sm3(data: bytes = b"") -> bytes:
        h = empty.copy()
        h.update(data)
        return h.digest()

    return _hashlib_sm3


sm3_hasher: Callable[[bytes], bytes] = _pick_hasher()


def sm3(data: bytes) -> bytes:
    """SM3 digest of ``data`` (32 bytes)."""
    return sm3_hasher(data)


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC-SM3 (32 bytes). Keyed digests of identifiers go through here, never a bare hash."""
    if sm3_hasher is not _crypto_sm3:
        return _hmac.new(key, data, "sm3").digest()
    h = _c_hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize()


def hkdf_sm3(key: bytes, info: bytes, length: int = 32, salt: bytes | None = None) -> bytes:
    """HKDF (RFC 5869) with SM3: one master key, independent sub-keys per purpose label."""
    return HKDF(algorithm=hashes.SM3(), length=length, salt=salt, info=info).derive(key)


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare tags, digests and tokens without leaking where they differ."""
    return _hmac.compare_digest(a, b)


def hmac_sm3_many(key: bytes, messages: Iterable[bytes]) -> list[bytes]:
    """HMAC-SM3 of many messages under one key (RFC 2104 with the key's inner and outer states
    computed once and copied per message: about three times faster than one-shot HMAC calls).
    ``tests/crypto/test_tokens.py`` checks it against :func:`hmac_sm3`."""
    if sm3_hasher is _crypto_sm3:
        return [hmac_sm3(key, m) for m in messages]
    block = 64
    if len(key) > block:
        key = hashlib.new("sm3", key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.new("sm3", bytes(b ^ 0x36 for b in key))
    outer = hashlib.new("sm3", bytes(b ^ 0x5C for b in key))
    out = []
    for m in messages:
        i = inner.copy()
        i.update(m)
        o = outer.copy()
        o.update(i.digest())
        out.append(o.digest())
    return out
