"""Keyring tables. Only wrapped keys are stored: every key column holds SM4-GCM ciphertext under a
key-encryption key derived from the master key, which itself never enters the database."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String, Table, Text

from omniguard.store import Migration, create_tables, metadata

_KEY_ID = BigInteger().with_variant(Integer, "sqlite")  # unsigned 32-bit ids do not fit a PG integer

crypto_kek = Table(
    "crypto_kek",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),  # KEK = HKDF(master, crypto/kek/<v>)
    Column("created_at", String(32), nullable=False),
)

crypto_keysets = Table(
    "crypto_keysets",
    metadata,
    Column("key_id", _KEY_ID, primary_key=True, autoincrement=False),  # random, written into every ciphertext
    Column("name", String(600), nullable=False),  # shown and typed: <dataset>/<column> or token:<domain>
    Column("kind", String(16), nullable=False),  # column | token
    Column("dataset", Text),
    Column("column_name", Text),
    Column("domain", String(160)),
    Column("subject_column", Text),  # the subject id column used for per-subject cells, if any
    Column("primary_version", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
)

crypto_keys = Table(
    "crypto_keys",
    metadata,
    Column("key_id", _KEY_ID, ForeignKey("crypto_keysets.key_id"), primary_key=True, autoincrement=False),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("wrapped", LargeBinary),  # nonce || SM4-GCM(KEK, key) || tag; NULL once destroyed
    Column("kek_version", Integer, nullable=False),
    Column("origin", String(16), nullable=False),  # generated | imported
    Column("created_at", String(32), nullable=False),
    Column("destroyed_at", String(32)),
)

crypto_subject_keys = Table(
    "crypto_subject_keys",
    metadata,
    Column("subject_index", String(64), primary_key=True),  # HMAC-SM3 of the subject id, never the id
    Column("wrapped", LargeBinary, nullable=False),
    Column("kek_version", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
)

MIGRATIONS = [
    Migration(1, "keyring: KEK generations, keysets, wrapped data and token keys, per-subject keys",
              create_tables(crypto_kek, crypto_keysets, crypto_keys, crypto_subject_keys)),
]
