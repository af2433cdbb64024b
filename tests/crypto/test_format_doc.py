"""The worked example in docs/formats/ciphertext.md is what the code produces and decrypts."""

from __future__ import annotations

import re
from pathlib import Path

from omniguard.crypto.ciphertext import Header, KeyHandle, associated_data, decrypt_value, from_text, to_text
from omniguard.crypto.sm4 import SM4GCM

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats" / "ciphertext.md"
KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
NONCE = bytes.fromhex("000102030405060708090a0b")


def test_worked_examples_match_the_implementation():
    doc = DOC.read_text(encoding="utf-8")
    texts = re.findall(r"^text\s+(\S+)$", doc, re.M)
    head = Header(0x1234ABCD, 1).pack()
    aad = associated_data(head, "crm/members.csv", "phone")
    blob = head + NONCE + SM4GCM(KEY).encrypt(NONCE, b"13800138000", aad)
    assert texts[0] == to_text(blob)
    assert re.search(r"^bytes\s+" + blob.hex() + "$", doc, re.M)
    assert decrypt_value(KeyHandle(KEY), from_text(texts[0]), "crm/members.csv", "phone") == b"13800138000"
    got = decrypt_value(KeyHandle(KEY), from_text(texts[1]), "crm/members.csv", "name", "M000042")
    assert got.decode() == "张三"
