"""National cryptography (SM3, SM2, SM4) behind small safe recipes.

Nothing outside this package touches modes, nonces or raw curve arithmetic: SM3 hashing, HMAC and
HKDF (sm3), SM2 signatures (sm2), master-key providers (providers), the SM4-GCM recipe (sm4) and
its batch engine (gcm, codec), the field ciphertext format (ciphertext), the keyring with
rotation and per-subject keys (keyring, column, frame) and keyed tokens (tokens).
"""

from omniguard.crypto.providers import (
    EnvKeyProvider,
    FileKeyProvider,
    KeyProvider,
    MasterKey,
    provider_from_config,
    register_provider,
)
from omniguard.crypto.sm2 import SM2KeyPair, sm2_verify
from omniguard.crypto.sm3 import hkdf_sm3, hmac_sm3, sm3, sm3_hasher
from omniguard.crypto.sm4 import SM4GCM, DecryptionError

_LAZY = {  # numpy/pyarrow-backed helpers, imported on first use so `omniguard --help` stays fast
    "looks_like_ciphertext": "omniguard.crypto.ciphertext",
    "Keyring": "omniguard.crypto.keyring",
    "Tokenizer": "omniguard.crypto.tokens",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


__all__ = [
    "SM4GCM",
    "DecryptionError",
    "EnvKeyProvider",
    "FileKeyProvider",
    "KeyProvider",
    "Keyring",
    "MasterKey",
    "SM2KeyPair",
    "Tokenizer",
    "hkdf_sm3",
    "hmac_sm3",
    "looks_like_ciphertext",
    "provider_from_config",
    "register_provider",
    "sm2_verify",
    "sm3",
    "sm3_hasher",
]
