"""SM2 signatures (GB/T 32918) with SM3 and the standard default user id, on gmssl.

gmssl's own ``sign_with_sm3`` draws its nonce from :mod:`random`, which is predictable; a
predictable SM2 nonce gives the private key away. Every signature here takes its nonce from
:mod:`secrets`. Signatures are 64 bytes ``r || s``; public keys are 65 bytes ``04 || x || y``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from gmssl import sm2 as _gm

from omniguard.crypto.sm3 import hkdf_sm3

_N = int(_gm.default_ecc_table["n"], 16)
_G = _gm.default_ecc_table["g"]


def _gm_context(private_hex: str, public_key: bytes | None) -> _gm.CryptSM2:
    """A gmssl context with the public key set as-is. gmssl's constructor "strips" a 04 prefix
    with ``str.lstrip("04")``, which also eats every leading 0 and 4 digit of x: one key in 256
    would fail to verify. Setting the attribute afterwards sidesteps that."""
    ctx = _gm.CryptSM2(private_key=private_hex, public_key="")
    ctx.public_key = public_key[1:].hex() if public_key else ""
    return ctx


def _public_from_private(d: int) -> bytes:
    point_hex = _gm_context(f"{d:064x}", None)._kg(d, _G)
    return b"\x04" + bytes.fromhex(point_hex)


def _check_public(public_key: bytes) -> str:
    if len(public_key) != 65 or public_key[0] != 4:
        raise ValueError("an SM2 public key is 65 bytes: 04 || x || y")
    return public_key[1:].hex()


@dataclass(frozen=True)
class SM2KeyPair:
    """An SM2 key pair. ``repr`` never shows the private scalar."""

    public_key: bytes
    _d: int = field(repr=False)

    @classmethod
    def generate(cls) -> SM2KeyPair:
        d = secrets.randbelow(_N - 2) + 1
        return cls(_public_from_private(d), d)

    @classmethod
    def derive(cls, secret: bytes, label: bytes) -> SM2KeyPair:
        """A key pair derived from a master secret, so it never needs storing: the same master
        key always gives the same pair, and a wrong master key gives a different public key."""
        wide = int.from_bytes(hkdf_sm3(secret, b"omniguard/sm2/" + label, length=64), "big")
        d = wide % (_N - 2) + 1  # 512 bits reduced mod ~2^256: bias below 2^-250
        return cls(_public_from_private(d), d)

    @classmethod
    def from_private_bytes(cls, private: bytes) -> SM2KeyPair:
        d = int.from_bytes(private, "big")
        if not 1 <= d <= _N - 2:
            raise ValueError("SM2 private key out of range")
        return cls(_public_from_private(d), d)

    def private_bytes(self) -> bytes:
        return self._d.to_bytes(32, "big")

    def sign(self, data: bytes) -> bytes:
        signer = _gm_context(f"{self._d:064x}", self.public_key)
        while True:
            k = secrets.randbelow(_N - 1) + 1
            sig = signer.sign_with_sm3(data, f"{k:064x}")
            if sig:  # gmssl returns None for the (negligible) degenerate r or s; draw again
                return bytes.fromhex(sig)

    def fingerprint(self) -> str:
        return public_key_fingerprint(self.public_key)


def public_key_fingerprint(public_key: bytes) -> str:
    """Short, stable name for a public key (first 16 hex digits of its SM3)."""
    from omniguard.crypto.sm3 import sm3

    return sm3(public_key).hex()[:16]


def sm2_verify(public_key: bytes, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid SM2-with-SM3 signature of ``data`` under ``public_key``.
    Malformed keys or signatures are simply invalid, never an exception."""
    try:
        _check_public(public_key)
    except ValueError:
        return False
    if len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (1 <= r < _N and 1 <= s < _N):
        return False
    try:
        return bool(_gm_context("", public_key).verify_with_sm3(signature.hex(), data))
    except Exception:  # gmssl raises on points off the curve and similar garbage
        return False


# --- export and import: hex and PEM (SubjectPublicKeyInfo / PKCS#8 with the SM2 curve OID) -----

_OID_EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")  # 1.2.840.10045.2.1
_OID_SM2 = bytes.fromhex("06082a811ccf5501822d")  # 1.2.156.10197.1.301 (sm2p256v1)
_ALGORITHM = b"\x30" + bytes([len(_OID_EC_PUBLIC_KEY + _OID_SM2)]) + _OID_EC_PUBLIC_KEY + _OID_SM2


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _der_int(value: int) -> bytes:
    return _der(0x02, value.to_bytes((value.bit_length() + 8) // 8, "big"))  # minimal, sign bit clear


def _pem(label: str, der: bytes) -> str:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def _unpem(text: str, label: str) -> bytes:
    import base64
    import binascii

    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    if begin not in text or end not in text:
        raise ValueError(f"not a PEM {label.lower()}")
    inner = text.split(begin, 1)[1].split(end, 1)[0]
    try:
        return base64.b64decode("".join(inner.split()), validate=True)
    except binascii.Error:
        raise ValueError(f"not a PEM {label.lower()}") from None


def public_key_pem(public_key: bytes) -> str:
    """SubjectPublicKeyInfo PEM, as OpenSSL and GmSSL write SM2 public keys."""
    _check_public(public_key)
    return _pem("PUBLIC KEY", _der(0x30, _ALGORITHM + _der(0x03, b"\x00" + public_key)))


def public_key_from_pem(text: str) -> bytes:
    der = _unpem(text, "PUBLIC KEY")
    prefix = _der(0x30, _ALGORITHM + _der(0x03, b"\x00" + bytes(65)))[: -65]
    if len(der) != len(prefix) + 65 or der[: len(prefix)] != prefix:
        raise ValueError("not an SM2 public key")
    key = der[len(prefix):]
    _check_public(key)
    return key


def private_key_pem(pair: SM2KeyPair) -> str:
    """Unencrypted PKCS#8 PEM of the private key: write it only to a 0600 file."""
    ec_key = _der(0x30, _der_int(1) + _der(0x04, pair.private_bytes())
                  + _der(0xA1, _der(0x03, b"\x00" + pair.public_key)))
    return _pem("PRIVATE KEY", _der(0x30, _der_int(0) + _ALGORITHM + _der(0x04, ec_key)))


def private_key_from_pem(text: str) -> SM2KeyPair:
    der = _unpem(text, "PRIVATE KEY")
    head = _der_int(0) + _ALGORITHM
    # the fixed layout written above (and by OpenSSL for SM2 keys with a public key part)
    idx = der.find(head)
    marker = der.find(b"\x04\x20", idx + len(head) if idx >= 0 else 0)
    if idx < 0 or marker < 0:
        raise ValueError("not an SM2 PKCS#8 private key")
    return SM2KeyPair.from_private_bytes(der[marker + 2: marker + 34])


def signature_der(signature: bytes) -> bytes:
    """A 64-byte r || s signature as DER SEQUENCE{r, s}, the form OpenSSL and GmSSL exchange."""
    if len(signature) != 64:
        raise ValueError("an SM2 signature is 64 bytes r || s")
    return _der(0x30, _der_int(int.from_bytes(signature[:32], "big")) + _der_int(int.from_bytes(signature[32:], "big")))
