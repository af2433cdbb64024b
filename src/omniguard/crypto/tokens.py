"""Keyed deterministic tokens (HMAC-SM3) for joins and pseudonymous ids.

Format (version 1), 37 ASCII characters::

    tk1_<tag>_<body>
    tag  = base32(HMAC-SM3(K, 0x00 || "tag")[:5])          8 chars: names the key, not the value
    body = base32(HMAC-SM3(K, 0x01 || NFKC(trim(value)))[:15])   24 chars (120 bits)

base32 is RFC 4648, lowercase, no padding. The same value gives the same token everywhere one
key is used; a **domain** picks the key: ``org`` for the organisation's own tables,
``partner:<name>`` for data given to one partner (its tokens join with nothing else), and
``join:<name>`` for a join key shared with a partner (both sides import the same secret).
Without the key a token cannot be reversed, and guessing a phone number needs the key too.
"""

from __future__ import annotations

import hmac
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omniguard.crypto.codec import b32encode_rows, fixed_width_strings
from omniguard.crypto.sm3 import constant_time_equal, hmac_sm3_many
from omniguard.errors import InputError

TOKEN_PREFIX = "tk1_"
TOKEN_CHARS = 37
BODY_BYTES = 15
_DOMAIN_RE = re.compile(r"^(org|(partner|join):[a-z0-9][a-z0-9_.\-]{0,63})$")
_TOKEN_RE = r"^tk1_[a-z2-7]{8}_[a-z2-7]{24}$"


def check_domain(domain: str) -> str:
    if not isinstance(domain, str) or not _DOMAIN_RE.match(domain):
        raise InputError("a token domain is 'org', 'partner:<name>' or 'join:<name>' "
                         "(name: lowercase letters, digits, '.', '_' or '-')")
    return domain


def normalise(value: str) -> str:
    """What tokens see: NFKC (full-width digits and letters become ASCII) and trimmed."""
    import unicodedata

    return unicodedata.normalize("NFKC", value).strip()


class Tokenizer:
    """Tokens under one key. ``repr`` never shows it."""

    __slots__ = ("_key", "domain", "prefix", "version")

    def __init__(self, key: bytes, *, domain: str = "org", version: int = 1):
        if len(key) < 16:
            raise ValueError("token keys are at least 16 bytes")
        self._key = key
        self.domain = domain
        self.version = version
        tag = b32encode_rows(np.frombuffer(hmac.digest(key, b"\x00tag", "sm3")[:5], np.uint8)[None, :])
        self.prefix = TOKEN_PREFIX + tag.tobytes().decode() + "_"

    def __repr__(self) -> str:
        return f"Tokenizer(domain={self.domain!r}, key tag {self.prefix[4:12]})"

    def token(self, value: str) -> str:
        body = hmac.digest(self._key, b"\x01" + normalise(str(value)).encode("utf-8"), "sm3")[:BODY_BYTES]
        return self.prefix + b32encode_rows(np.frombuffer(body, np.uint8)[None, :]).tobytes().decode()

    def tokenize(self, values: pd.Series) -> pd.Series:
        """Tokens of a column; nulls stay null. Each distinct value is hashed once."""
        values = values if isinstance(values, pd.Series) else pd.Series(values)
        try:
            arr = pa.array(values.array, from_pandas=True) if len(values) else pa.array([], pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed Python objects: tokenize their text
            arr = pa.array(values.astype("str").array, from_pandas=True)
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            try:
                arr = pc.cast(arr, pa.large_string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise InputError("tokenize: cells must be text or numbers") from None
        norm = pc.utf8_trim_whitespace(pc.utf8_normalize(arr, "NFKC"))
        encoded = pc.dictionary_encode(norm).combine_chunks() if isinstance(norm, pa.ChunkedArray) \
            else pc.dictionary_encode(norm)
        uniques = encoded.dictionary.to_pylist()
        digests = b"".join(d[:BODY_BYTES] for d in hmac_sm3_many(self._key, (b"\x01" + u.encode("utf-8")
                                                                                    for u in uniques)))
        bodies = b32encode_rows(np.frombuffer(digests, np.uint8).reshape(len(uniques), BODY_BYTES))
        prefix = np.frombuffer(self.prefix.encode(), np.uint8)
        rows = np.concatenate([np.broadcast_to(prefix, (len(uniques), prefix.size)), bodies], axis=1)
        tokens = pc.take(fixed_width_strings(rows), encoded.indices)
        out = tokens.to_pandas()
        out.index, out.name = values.index, values.name
        return out

    def matches(self, value: str, token: str) -> bool:
        """Does ``token`` belong to ``value`` under this key? Constant-time comparison."""
        return constant_time_equal(self.token(value).encode(), str(token).encode())


def looks_like_token(values: pd.Series) -> np.ndarray:
    arr = pa.array(values.array, from_pandas=True)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return np.zeros(len(values), dtype=bool)
    return np.asarray(pc.match_substring_regex(arr, _TOKEN_RE).fill_null(False), dtype=bool)
