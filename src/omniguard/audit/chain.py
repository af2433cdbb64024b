"""The hash chain: ``hash = SM3(prev_hash || canonical_json(event))``, ``prev_hash`` of seq 1 = 32 zero bytes.

Canonical JSON: keys sorted, no whitespace, UTF-8 (no ``\\u`` escapes for non-ASCII), no NaN or
infinity, absent fields omitted rather than null. ``docs/formats/audit.md`` specifies it for
independent verifiers.
"""

from __future__ import annotations

import json
from typing import Any

from omniguard.crypto.sm3 import sm3_hasher

GENESIS = bytes(32)
FORMAT_VERSION = 1


# One encoder for every event: json.dumps() with non-default options builds a new one per call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical(event: dict[str, Any]) -> bytes:
    return _ENCODER.encode(event).encode()


def link(prev_hash: bytes, body: bytes) -> bytes:
    return sm3_hasher(prev_hash + body)
