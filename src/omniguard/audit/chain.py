"""The hash chain: ``hash = SM3(prev_hash || canonical_json(event))``, ``prev_hash`` of seq 1 = 32 zero bytes.

Canonical JSON: keys sorted, no whitespace, UTF-8 (no ``\\u`` escapes for non-ASCII), no NaN or
infinity, absent fields omitted rather than null. ``docs/formats/audit.md`` specifies it for
independent verifiers. It is written by orjson (about ten times faster than the standard library
encoder, which matters on every append); for everything but floats the bytes are exactly what
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` gives, and a property
test holds the two to that. A verifier never re-encodes: it hashes the stored body.
"""

from __future__ import annotations

from typing import Any

import orjson

from omniguard.crypto.sm3 import sm3_hasher

GENESIS = bytes(32)
FORMAT_VERSION = 1


def canonical(event: dict[str, Any]) -> bytes:
    """Canonical JSON bytes. NaN and infinity are refused: orjson writes them as null, so only an
    output holding a null needs the walk that tells a real None from a non-finite number."""
    out = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
    if b"null" in out:
        _refuse_non_finite(event)
    return out


def _refuse_non_finite(value: Any) -> None:
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("canonical JSON has no NaN or infinity")
    elif isinstance(value, dict):
        for v in value.values():
            _refuse_non_finite(v)
    elif isinstance(value, list | tuple):
        for v in value:
            _refuse_non_finite(v)


def link(prev_hash: bytes, body: bytes) -> bytes:
    return sm3_hasher(prev_hash + body)
