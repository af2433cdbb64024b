"""The worked example in docs/formats/token.md is what the code produces, and what an independent
implementation (hmac + base64 from the standard library) produces from the documented recipe."""

from __future__ import annotations

import base64
import hmac
import re
import unicodedata
from pathlib import Path

from omniguard.crypto.tokens import Tokenizer

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats" / "token.md"


def _recipe(key: bytes, value: str) -> str:
    b32 = lambda b: base64.b32encode(b).decode().lower().rstrip("=")  # noqa: E731
    tag = b32(hmac.digest(key, b"\x00tag", "sm3")[:5])
    v = unicodedata.normalize("NFKC", value).strip().encode("utf-8")
    body = b32(hmac.digest(key, b"\x01" + v, "sm3")[:15])
    return f"tk1_{tag}_{body}"


def test_worked_example_matches_code_and_recipe():
    doc = DOC.read_text(encoding="utf-8")
    key = bytes.fromhex(re.search(r"Key \(a `join:` secret; never use it\) `([0-9a-f]{64})`", doc).group(1))
    rows = dict(re.findall(r"^token\s+(\S+|\"[^\"]+\")\s+(tk1_\S+)$", doc, re.M))
    assert len(rows) == 3
    tok = Tokenizer(key, domain="join:example")
    for shown, expected in rows.items():
        value = shown[1:-1] if shown.startswith('"') else shown
        assert tok.token(value) == expected == _recipe(key, value)
    assert re.search(r"^HMAC-SM3\(K, 00 \"tag\"\)\s+" + hmac.digest(key, b"\x00tag", "sm3").hex() + "$", doc, re.M)
    assert re.search(r"^tag\s+" + tok.prefix[4:12] + "$", doc, re.M)
    # the command-line block shows the same tokens
    cli = re.search(r"omniguard token value --domain join:example\n(tk1_\S+)\n(tk1_\S+)\n", doc)
    assert cli and cli.groups() == (rows["13800138000"], rows["张三"])
