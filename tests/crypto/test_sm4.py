"""SM4 and SM4-GCM: GB/T 32907 known answers, gmssl cross-checks, round trips, forgeries."""

from __future__ import annotations

import os

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl.sm4 import SM4_ENCRYPT, CryptSM4
from hypothesis import given, settings
from hypothesis import strategies as st

from omniguard.crypto.gcm import BatchGCM
from omniguard.crypto.sm4 import SM4GCM, DecryptionError, seal, unseal

GBT_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


def _gmssl_block(key: bytes, block: bytes) -> bytes:
    c = CryptSM4()
    c.set_key(key, SM4_ENCRYPT)
    return c.crypt_ecb(block)[:16]  # gmssl pads with PKCS#7; the first block is the block


def test_gbt32907_example_vector():
    enc = Cipher(algorithms.SM4(GBT_KEY), modes.ECB()).encryptor()
    assert enc.update(GBT_KEY) == bytes.fromhex("681edf34d206965e86b3e94f536e4246")
    assert _gmssl_block(GBT_KEY, GBT_KEY).hex() == "681edf34d206965e86b3e94f536e4246"


def test_gbt32907_one_million_iterations():
    """The standard's second example: encrypt the block 1,000,000 times under the same key."""
    update = Cipher(algorithms.SM4(GBT_KEY), modes.ECB()).encryptor().update
    block = GBT_KEY
    for _ in range(1_000_000):
        block = update(block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.binary(min_size=16, max_size=16))
def test_openssl_sm4_matches_gmssl_pure_python(key, block):
    assert Cipher(algorithms.SM4(key), modes.ECB()).encryptor().update(block) == _gmssl_block(key, block)


# An independent SM4-GCM: gmssl's pure-Python SM4 and the textbook GF(2^128) multiply of SP 800-38D.

def _gf_mul_reference(x: int, y: int) -> int:
    r = 0xE1 << 120
    z, v = 0, y
    for i in range(128):
        if (x >> (127 - i)) & 1:
            z ^= v
        v = (v >> 1) ^ r if v & 1 else v >> 1
    return z


def _reference_gcm(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    e = CryptSM4()
    e.set_key(key, SM4_ENCRYPT)

    def block(b: bytes) -> bytes:
        return e.crypt_ecb(b)[:16]

    h = int.from_bytes(block(bytes(16)), "big")
    ct = bytearray()
    for i in range(0, len(data), 16):
        ks = block(nonce + (2 + i // 16).to_bytes(4, "big"))
        ct += bytes(a ^ b for a, b in zip(data[i:i + 16], ks, strict=False))
    y = 0
    for part in (aad, bytes(ct)):
        padded = part + bytes(-len(part) % 16)
        for i in range(0, len(padded), 16):
            y = _gf_mul_reference(y ^ int.from_bytes(padded[i:i + 16], "big"), h)
    y = _gf_mul_reference(y ^ ((8 * len(aad)) << 64 | 8 * len(ct)), h)
    tag = y ^ int.from_bytes(block(nonce + b"\x00\x00\x00\x01"), "big")
    return bytes(ct) + tag.to_bytes(16, "big")


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.binary(min_size=12, max_size=12), st.binary(max_size=70),
       st.binary(max_size=40))
def test_sm4_gcm_matches_independent_reference(key, nonce, data, aad):
    assert SM4GCM(key).encrypt(nonce, data, aad) == _reference_gcm(key, nonce, data, aad)


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.integers(0, 300), st.integers(1, 9), st.binary(max_size=50),
       st.randoms(use_true_random=False))
def test_batch_engine_is_byte_identical_to_openssl(key, length, n, aad, rnd):
    nonces = np.frombuffer(rnd.randbytes(12 * n), np.uint8).reshape(n, 12)
    pt = np.frombuffer(rnd.randbytes(length * n), np.uint8).reshape(n, length)
    batch = BatchGCM(key)
    ct, tags = batch.seal(nonces, pt, aad)
    single = SM4GCM(key)
    for i in range(n):
        assert ct[i].tobytes() + tags[i].tobytes() == single.encrypt(nonces[i].tobytes(), pt[i].tobytes(), aad)
    back, ok = batch.open(nonces, ct, tags, aad)
    assert ok.all() and np.array_equal(back, pt)


def test_batch_engine_rejects_each_forged_row_only():
    key = os.urandom(16)
    n = 7
    nonces = np.frombuffer(os.urandom(12 * n), np.uint8).reshape(n, 12)
    pt = np.frombuffer(os.urandom(20 * n), np.uint8).reshape(n, 20)
    batch = BatchGCM(key)
    ct, tags = batch.seal(nonces, pt, b"ctx")
    ct2 = ct.copy()
    ct2[3, 19] ^= 0x80
    back, ok = batch.open(nonces, ct2, tags, b"ctx")
    assert ok.tolist() == [True, True, True, False, True, True, True]
    assert not back[3].any()  # a forged row never yields plaintext
    _, ok = batch.open(nonces, ct, tags, b"other ctx")
    assert not ok.any()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200), st.binary(max_size=64))
def test_seal_round_trip_any_bytes(data, aad):
    key = os.urandom(16)
    assert unseal(key, seal(key, data, aad), aad) == data


def test_unseal_failures_are_one_error_class():
    key = os.urandom(16)
    blob = seal(key, b"secret", b"ctx")
    for bad in (blob[:-1], blob[:10], b"", blob[:-1] + bytes([blob[-1] ^ 1])):
        with pytest.raises(DecryptionError):
            unseal(key, bad, b"ctx")
    with pytest.raises(DecryptionError):
        unseal(os.urandom(16), blob, b"ctx")
    with pytest.raises(DecryptionError):
        unseal(key, blob, b"other")


def test_key_object_never_shows_the_key():
    key = os.urandom(16)
    assert key.hex() not in repr(SM4GCM(key)) and str(key) not in repr(SM4GCM(key))
