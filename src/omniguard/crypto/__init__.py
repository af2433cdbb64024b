"""National cryptography (SM3, SM2, SM4) behind small safe recipes.

Nothing outside this package touches modes, nonces or raw curve arithmetic. The foundation ships
what the audit log needs (SM3 hashing and HMAC, HKDF-SM3 key derivation, SM2 signatures, the
master-key providers); field encryption and the keyring build on the same pieces.
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

__all__ = [
    "EnvKeyProvider",
    "FileKeyProvider",
    "KeyProvider",
    "MasterKey",
    "SM2KeyPair",
    "hkdf_sm3",
    "hmac_sm3",
    "provider_from_config",
    "register_provider",
    "sm2_verify",
    "sm3",
    "sm3_hasher",
]
