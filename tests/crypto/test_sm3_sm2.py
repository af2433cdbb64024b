from __future__ import annotations

import os

from gmssl import func as gm_func
from gmssl import sm3 as gm_sm3
from hypothesis import given, settings
from hypothesis import strategies as st

from omniguard.crypto.sm2 import SM2KeyPair, sm2_verify
from omniguard.crypto.sm3 import _crypto_sm3, hmac_sm3, sm3


def test_sm3_standard_vector():
    # GB/T 32905-2016 Appendix A, example 1
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_sm3_agrees_with_cryptography_and_gmssl(data):
    assert sm3(data) == _crypto_sm3(data) == bytes.fromhex(gm_sm3.sm3_hash(gm_func.bytes_to_list(data)))


def test_hmac_sm3_is_keyed():
    assert hmac_sm3(b"k1", b"x") != hmac_sm3(b"k2", b"x")
    assert len(hmac_sm3(b"k1", b"x")) == 32


def test_sm2_sign_verify_and_reject():
    k = SM2KeyPair.generate()
    sig = k.sign(b"checkpoint")
    assert len(sig) == 64 and sm2_verify(k.public_key, b"checkpoint", sig)
    assert not sm2_verify(k.public_key, b"checkpoinT", sig)
    assert not sm2_verify(SM2KeyPair.generate().public_key, b"checkpoint", sig)
    bad = bytearray(sig)
    bad[5] ^= 1
    assert not sm2_verify(k.public_key, b"checkpoint", bytes(bad))
    assert not sm2_verify(k.public_key, b"checkpoint", b"\x00" * 64)
    assert not sm2_verify(b"\x04" + os.urandom(64), b"checkpoint", sig)  # a point off the curve
    assert not sm2_verify(k.public_key[:10], b"checkpoint", sig)


def test_sm2_key_whose_x_starts_with_04():
    # gmssl's constructor lstrip("04")s the public key; d = 11 gives x = 04b3...: must still verify
    k = SM2KeyPair.from_private_bytes((11).to_bytes(32, "big"))
    assert k.public_key[1:].hex().startswith("04")
    assert sm2_verify(k.public_key, b"m", k.sign(b"m"))


def test_sm2_signatures_use_fresh_nonces():
    k = SM2KeyPair.generate()
    assert k.sign(b"same") != k.sign(b"same")


def test_derived_pair_is_stable_and_label_bound():
    a = SM2KeyPair.derive(b"s" * 32, b"audit/1")
    assert a.public_key == SM2KeyPair.derive(b"s" * 32, b"audit/1").public_key
    assert a.public_key != SM2KeyPair.derive(b"s" * 32, b"audit/2").public_key
    assert "private" not in repr(a) and str(a._d) not in repr(a)
