"""SM4-GCM (GB/T 32907 block cipher, NIST SP 800-38D mode) as a safe AEAD recipe on OpenSSL.

The interface mirrors ``cryptography``'s ``AESGCM``: a key object, ``encrypt(nonce, data, aad)``
returning ciphertext || tag, ``decrypt`` raising on any forgery. Above it, :func:`seal` and
:func:`unseal` pick the random nonce themselves, which is how the rest of omniguard encrypts: no
code outside :mod:`omniguard.crypto` handles a nonce or a mode.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from omniguard.errors import InputError

KEY_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionError(InputError):
    """Any failure to decrypt: tampered, truncated, malformed, wrong key, wrong context, key
    destroyed. One class, and messages that say where (row, column) but never why in a way that
    helps an attacker, and never a key or a value."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


class SM4GCM:
    """One SM4 key. ``repr`` never shows it."""

    __slots__ = ("_algorithm",)

    def __init__(self, key: bytes):
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
            raise ValueError(f"an SM4 key is {KEY_BYTES} bytes")
        self._algorithm = algorithms.SM4(bytes(key))

    def __repr__(self) -> str:
        return "SM4GCM(<key>)"

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        if len(nonce) != NONCE_BYTES:
            raise ValueError(f"SM4-GCM nonces are {NONCE_BYTES} bytes here")
        enc = Cipher(self._algorithm, modes.GCM(nonce)).encryptor()
        if associated_data:
            enc.authenticate_additional_data(associated_data)
        out = enc.update(data) + enc.finalize()
        return out + enc.tag

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        if len(nonce) != NONCE_BYTES or len(data) < TAG_BYTES:
            raise DecryptionError("cannot decrypt: ciphertext too short")
        try:
            dec = Cipher(self._algorithm, modes.GCM(nonce, data[-TAG_BYTES:])).decryptor()
            if associated_data:
                dec.authenticate_additional_data(associated_data)
            return dec.update(data[:-TAG_BYTES]) + dec.finalize()
        except InvalidTag:
            raise DecryptionError("cannot decrypt: authentication failed (tampered, wrong key or wrong context)") from None


def seal(key: bytes, plaintext: bytes, associated_data: bytes = b"") -> bytes:
    """nonce || ciphertext || tag under a fresh random nonce (for wrapping keys and blobs)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + SM4GCM(key).encrypt(nonce, plaintext, associated_data)


def unseal(key: bytes, blob: bytes, associated_data: bytes = b"") -> bytes:
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("cannot decrypt: ciphertext too short")
    return SM4GCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)
