"""The field ciphertext format: layout, text form, detection, and every way decryption must fail."""

from __future__ import annotations

import base64
import os

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniguard.crypto import DecryptionError, looks_like_ciphertext
from omniguard.crypto.ciphertext import (
    HEADER_BYTES,
    MIN_TEXT_CHARS,
    OVERHEAD,
    TEXT_PREFIX,
    Header,
    KeyHandle,
    decrypt_column,
    decrypt_value,
    encrypt_column,
    encrypt_value,
    from_text,
    to_text,
)
from omniguard.crypto.codec import b32encode_rows, b64decode_rows, b64encode_rows


class OneKey:
    """A KeySource with one column key."""

    def __init__(self, key_id=0x1234ABCD, version=1, dataset="crm.csv", column="phone"):
        self.key_id, self.version, self.dataset, self.column = key_id, version, dataset, column
        self.handle = KeyHandle(os.urandom(16))

    def context(self, key_id):
        if key_id != self.key_id:
            raise DecryptionError("cannot decrypt: unknown key")
        return self.dataset, self.column

    def key(self, key_id, version):
        if (key_id, version) != (self.key_id, self.version):
            raise DecryptionError("cannot decrypt: unknown key version")
        return self.handle

    def subject_keys(self, ids):
        return [None] * len(ids)

    def encrypt(self, values):
        return encrypt_column(pa.array(values, pa.large_string()), self.handle, Header(self.key_id, self.version),
                              self.dataset, self.column)

    def decrypt(self, arr):
        return decrypt_column(arr, self).to_pylist()


def test_layout_of_a_field_ciphertext():
    src = OneKey()
    blob = encrypt_value(src.handle, Header(src.key_id, 7), b"13800138000", "crm.csv", "phone")
    assert len(blob) == OVERHEAD + 11
    assert blob[:2] == b"\x48\xce" and blob[2] == 1 and blob[3] == 0
    assert blob[4:8] == bytes.fromhex("1234abcd") and blob[8:12] == (7).to_bytes(4, "big")
    text = to_text(blob)
    assert text.startswith(TEXT_PREFIX) and from_text(text) == blob
    assert decrypt_value(src.handle, blob, "crm.csv", "phone") == b"13800138000"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=30))
def test_column_round_trip_any_text_nulls_kept(values):
    src = OneKey()
    enc = src.encrypt(values)
    assert [v is None for v in enc.to_pylist()] == [v is None for v in values]
    assert all(looks_like_ciphertext(pa.array([c])) [0] for c in enc.to_pylist() if c is not None)
    assert src.decrypt(enc) == values


def test_batch_and_single_paths_agree():
    src = OneKey()
    values = [f"1380013{i:04d}" for i in range(50)] + ["x" * 5000, "长地址" * 10]
    enc = src.encrypt(values).to_pylist()
    for text, v in zip(enc, values, strict=True):  # every cell decrypts with OpenSSL's own GCM
        assert decrypt_value(src.handle, from_text(text), "crm.csv", "phone") == v.encode()


def test_every_bit_flip_is_detected():
    src = OneKey()
    blob = encrypt_value(src.handle, Header(src.key_id, 1), b"110101199003071234", "crm.csv", "id")
    for bit in range(8 * len(blob)):
        forged = bytearray(blob)
        forged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DecryptionError):
            decrypt_value(src.handle, bytes(forged), "crm.csv", "id")


def test_every_bit_flip_in_a_column_cell_is_detected():
    src = OneKey()
    text = src.encrypt(["13800138000"]).to_pylist()[0]
    blob = base64.b64decode(text)
    for bit in range(0, 8 * len(blob), 3):
        forged = bytearray(blob)
        forged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DecryptionError):
            src.decrypt(pa.array([base64.b64encode(bytes(forged)).decode()], pa.large_string()))


def test_wrong_context_wrong_version_truncation_all_fail_clearly():
    src = OneKey()
    text = src.encrypt(["13800138000"]).to_pylist()[0]
    other_column = OneKey(src.key_id, 1, "crm.csv", "mobile")
    other_column.handle = src.handle
    cases = {
        "wrong associated data": (other_column, text),
        "wrong key version": (src, to_text(Header(src.key_id, 2).pack() + from_text(text)[HEADER_BYTES:])),
        "truncated base64": (src, text[:-4]),
        "one character short": (src, text[:-1]),
        "not base64": (src, text[:-2] + "!!"),
        "non-canonical padding": (src, text[:-3] + chr(ord(text[-3]) ^ 1) + text[-2:]) if text.endswith("=") else
        (src, text[:20]),
        "other key id": (src, to_text(Header(99, 1).pack() + from_text(text)[HEADER_BYTES:])),
    }
    for name, (source, cell) in cases.items():
        with pytest.raises(DecryptionError) as e:
            decrypt_column(pa.array([cell], pa.large_string()), source)
        assert "row 1" in e.value.message, name
        assert "13800138000" not in e.value.message


def test_error_names_count_and_first_row_only():
    src = OneKey()
    cells = src.encrypt(["a", "b", "c", "d"]).to_pylist()
    cells[2] = cells[2][:-8] + "AAAAAAAA"
    with pytest.raises(DecryptionError, match=r"cannot decrypt 1 cell\(s\) of column \(first at row 3\)"):
        decrypt_column(pa.array(cells, pa.large_string()), src)


def test_looks_like_ciphertext_is_structural():
    src = OneKey()
    enc = src.encrypt(["x", "", "13800138000"]).to_pylist()
    probe = pa.array([*enc, None, "13800138000", "SM4B" + "A" * 60, "SM4B" + "A" * 51, "hello world", ""])
    assert looks_like_ciphertext(probe).tolist() == [True, True, True, False, False, True, False, False, False]
    assert len(enc[1]) == MIN_TEXT_CHARS


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 40), st.integers(1, 6), st.randoms(use_true_random=False))
def test_b64_rows_match_the_standard_library(length, n, rnd):
    rows = np.frombuffer(rnd.randbytes(length * n), np.uint8).reshape(n, length)
    chars = b64encode_rows(rows)
    for i in range(n):
        assert chars[i].tobytes() == base64.b64encode(rows[i].tobytes())
    pad = chars.shape[1] and int((chars[0, -2:] == ord("=")).sum())
    back, ok = b64decode_rows(chars, pad) if chars.shape[1] else (rows, np.ones(n, bool))
    assert ok.all() and np.array_equal(back, rows)


def test_b32_rows_match_the_standard_library():
    rows = np.frombuffer(os.urandom(15 * 4), np.uint8).reshape(4, 15)
    for i, r in enumerate(b32encode_rows(rows)):
        assert r.tobytes().decode() == base64.b32encode(rows[i].tobytes()).decode().lower()
