"""The keyring: Tink-style keysets under envelope encryption, rotation, and per-subject keys.

* A **keyset** holds the versions of one key: one per dataset column (SM4 data keys) or per token
  domain (HMAC-SM3 keys). It has a random 32-bit key id, written into every ciphertext, and a
  primary version used for new writes; older versions still decrypt until destroyed.
* Every key is stored **wrapped**: SM4-GCM under a key-encryption key (KEK) derived from the
  master key (``crypto/kek/<generation>``), with associated data naming the key it holds.
  ``rewrap`` moves every wrapped key to a new KEK generation without touching any data.
* **Per-subject keys** make crypto-shredding possible: cells encrypted under a subject's key are
  unreadable once that one key is destroyed, wherever copies of the cells went.
"""

from __future__ import annotations

import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, delete, func, insert, select, update

from omniguard.config import iso_utc
from omniguard.crypto.ciphertext import KeyHandle
from omniguard.crypto.gcm import BatchGCM
from omniguard.crypto.sm3 import hmac_sm3_many
from omniguard.crypto.sm4 import KEY_BYTES, NONCE_BYTES, TAG_BYTES, DecryptionError, seal, unseal
from omniguard.crypto.tables import crypto_kek, crypto_keys, crypto_keysets, crypto_subject_keys
from omniguard.errors import InputError, KeyMaterialError

TOKEN_KEY_BYTES = 32
_SUBJECT_WRAP_AAD = b"omniguard/wrap/subject/v1"
_IN_CHUNK = 500


@dataclass(frozen=True)
class Keyset:
    key_id: int
    name: str
    kind: str  # column | token
    dataset: str | None
    column: str | None
    domain: str | None
    subject_column: str | None
    primary_version: int
    created_at: str


def _keyset(row: Any) -> Keyset:
    return Keyset(int(row.key_id), row.name, row.kind, row.dataset, row.column_name, row.domain,
                  row.subject_column, int(row.primary_version), row.created_at)


def _wrap_aad(ks_kind: str, key_id: int, version: int, kek_version: int) -> bytes:
    return b"omniguard/wrap/v1\0" + ks_kind.encode() + struct.pack(">III", key_id, version, kek_version)


class Keyring:
    def __init__(self, ws: Any):
        self.ws = ws
        self._keys: dict[tuple[int, int], bytes] = {}
        self._handles: dict[tuple[int, int], KeyHandle] = {}
        self._subject_index_key = ws.derive_key("crypto/subject-index")

    def __repr__(self) -> str:
        return f"Keyring({self.ws!r})"

    # --- KEK generations -----------------------------------------------------------------------

    def _kek(self, version: int) -> bytes:
        return self.ws.derive_key(f"crypto/kek/{version}", KEY_BYTES)

    def _kek_version(self, conn: Connection) -> int:
        v = conn.execute(select(func.max(crypto_kek.c.version))).scalar()
        if v is None:
            conn.execute(insert(crypto_kek).values(version=1, created_at=iso_utc()))
            return 1
        return int(v)

    def _wrap(self, material: bytes, kind: str, key_id: int, version: int, kek_version: int) -> bytes:
        return seal(self._kek(kek_version), material, _wrap_aad(kind, key_id, version, kek_version))

    def _unwrap(self, wrapped: bytes, kind: str, key_id: int, version: int, kek_version: int) -> bytes:
        try:
            return unseal(self._kek(kek_version), bytes(wrapped), _wrap_aad(kind, key_id, version, kek_version))
        except DecryptionError:
            raise KeyMaterialError(f"wrapped key {key_id:08x} v{version} does not unwrap with this master key "
                                   "(wrong master key or a damaged keyring)") from None

    # --- keysets -------------------------------------------------------------------------------

    def init(self) -> dict[str, Any]:
        """Make sure the keyring exists: a KEK generation and the organisation's token key."""
        with self.ws.store.write() as conn:
            kek = self._kek_version(conn)
            org = self._ensure(conn, kind="token", name="token:org", domain="org")
        return {"kek_version": kek, "token_key_id": f"{org.key_id:08x}"}

    def keysets(self) -> list[Keyset]:
        with self.ws.store.read() as conn:
            return [_keyset(r) for r in conn.execute(select(crypto_keysets).order_by(crypto_keysets.c.name))]

    def _find(self, conn: Connection, *, kind: str, dataset: str | None = None, column: str | None = None,
              domain: str | None = None) -> Keyset | None:
        q = select(crypto_keysets).where(crypto_keysets.c.kind == kind)
        if kind == "column":
            q = q.where(crypto_keysets.c.dataset == dataset, crypto_keysets.c.column_name == column)
        else:
            q = q.where(crypto_keysets.c.domain == domain)
        row = conn.execute(q).first()
        return _keyset(row) if row else None

    def _ensure(self, conn: Connection, *, kind: str, name: str, dataset: str | None = None,
                column: str | None = None, domain: str | None = None, material: bytes | None = None,
                subject_column: str | None = None) -> Keyset:
        found = self._find(conn, kind=kind, dataset=dataset, column=column, domain=domain)
        if found:
            if subject_column and found.subject_column != subject_column:
                conn.execute(update(crypto_keysets).where(crypto_keysets.c.key_id == found.key_id)
                             .values(subject_column=subject_column))
            return found
        while True:
            key_id = secrets.randbits(32)
            if key_id and conn.execute(select(crypto_keysets.c.key_id).where(crypto_keysets.c.key_id == key_id)
                                       ).first() is None:
                break
        now = iso_utc()
        conn.execute(insert(crypto_keysets).values(
            key_id=key_id, name=name, kind=kind, dataset=dataset, column_name=column, domain=domain,
            subject_column=subject_column, primary_version=1, created_at=now))
        self._add_version(conn, key_id, kind, 1, material, origin="imported" if material else "generated")
        self.ws.audit.record("key.create", conn=conn, decision="info", dataset=dataset,
                             columns=[column] if column else None,
                             details={"keyset": name, "key_id": f"{key_id:08x}", "kind": kind})
        return self._find(conn, kind=kind, dataset=dataset, column=column, domain=domain)  # type: ignore[return-value]

    def _add_version(self, conn: Connection, key_id: int, kind: str, version: int, material: bytes | None,
                     origin: str) -> None:
        if material is None:
            material = secrets.token_bytes(KEY_BYTES if kind == "column" else TOKEN_KEY_BYTES)
        kek = self._kek_version(conn)
        conn.execute(insert(crypto_keys).values(
            key_id=key_id, version=version, wrapped=self._wrap(material, kind, key_id, version, kek),
            kek_version=kek, origin=origin, created_at=iso_utc()))

    def column_keyset(self, dataset: str, column: str, *, subject_column: str | None = None) -> Keyset:
        with self.ws.store.read() as conn:
            found = self._find(conn, kind="column", dataset=dataset, column=column)
        if found and (not subject_column or found.subject_column == subject_column):
            return found
        with self.ws.store.write() as conn:
            return self._ensure(conn, kind="column", name=f"{dataset}/{column}", dataset=dataset, column=column,
                                subject_column=subject_column)

    def token_keyset(self, domain: str, *, create: bool = True, material: bytes | None = None) -> Keyset:
        with self.ws.store.read() as conn:
            found = self._find(conn, kind="token", domain=domain)
        if found and material is None:
            return found
        if found:  # a new shared join key: it becomes the primary version, old tokens keep their tag
            self.rotate(found, material=material)
            return self.by_name(found.name)
        if not create and material is None:
            raise InputError(f"no shared join key for token domain {domain!r}",
                             hint=f"import the shared join key: omniguard token join-key import --domain {domain} FILE")
        with self.ws.store.write() as conn:
            return self._ensure(conn, kind="token", name=f"token:{domain}", domain=domain, material=material)

    def by_name(self, name: str) -> Keyset:
        matches = [k for k in self.keysets() if k.name == name or f"{k.key_id:08x}" == name.lower()]
        if not matches:
            raise InputError(f"no keyset named {name!r}", hint="list them with: omniguard keys list")
        if len(matches) > 1:
            raise InputError(f"{name!r} names {len(matches)} keysets; use the key id instead")
        return matches[0]

    # --- key material --------------------------------------------------------------------------

    def key_bytes(self, key_id: int, version: int) -> bytes:
        cached = self._keys.get((key_id, version))
        if cached is not None:
            return cached
        with self.ws.store.read() as conn:
            row = conn.execute(
                select(crypto_keys.c.wrapped, crypto_keys.c.kek_version, crypto_keysets.c.kind)
                .join(crypto_keysets, crypto_keysets.c.key_id == crypto_keys.c.key_id)
                .where(crypto_keys.c.key_id == key_id, crypto_keys.c.version == version)).first()
        if row is None:
            raise DecryptionError("cannot decrypt: the key named by the ciphertext is not in this keyring")
        if row.wrapped is None:
            raise DecryptionError("cannot decrypt: the key version of these cells was destroyed")
        material = self._unwrap(row.wrapped, row.kind, key_id, version, int(row.kek_version))
        self._keys[(key_id, version)] = material
        return material

    # KeySource protocol (omniguard.crypto.ciphertext): lets decrypt find any column's keys.

    def context(self, key_id: int) -> tuple[str, str]:
        with self.ws.store.read() as conn:
            row = conn.execute(select(crypto_keysets).where(crypto_keysets.c.key_id == key_id)).first()
        if row is None or row.kind != "column":
            raise DecryptionError("cannot decrypt: the key named by the ciphertext is not in this keyring")
        return row.dataset, row.column_name

    def key(self, key_id: int, version: int) -> KeyHandle:
        handle = self._handles.get((key_id, version))
        if handle is None:
            handle = self._handles[(key_id, version)] = KeyHandle(self.key_bytes(key_id, version))
        return handle

    # --- rotation ------------------------------------------------------------------------------

    def rotate(self, keyset: Keyset, *, material: bytes | None = None) -> int:
        """A new primary version: new writes use it, older versions keep decrypting. Shared join
        keys (``token:join:*``) only take ``material`` agreed with the partner."""
        if keyset.domain and keyset.domain.startswith("join:") and material is None:
            raise InputError(f"{keyset.name} is shared with a partner: import the new join key instead",
                             hint=f"omniguard token join-key new --domain {keyset.domain} -o FILE")
        with self.ws.store.write() as conn:
            current = conn.execute(select(func.max(crypto_keys.c.version))
                                   .where(crypto_keys.c.key_id == keyset.key_id)).scalar() or 0
            version = int(current) + 1
            self._add_version(conn, keyset.key_id, keyset.kind, version, material,
                              origin="imported" if material else "generated")
            conn.execute(update(crypto_keysets).where(crypto_keysets.c.key_id == keyset.key_id)
                         .values(primary_version=version))
            self.ws.audit.record("key.rotate", conn=conn, decision="info", dataset=keyset.dataset,
                                 columns=[keyset.column] if keyset.column else None,
                                 details={"keyset": keyset.name, "key_id": f"{keyset.key_id:08x}", "version": version})
        return version

    def destroy_version(self, keyset: Keyset, version: int) -> None:
        """Delete one old version's key material: its cells become unreadable (re-encrypt first)."""
        if version == keyset.primary_version:
            raise InputError("the primary version cannot be destroyed; rotate first")
        with self.ws.store.write() as conn:
            n = conn.execute(update(crypto_keys).where(crypto_keys.c.key_id == keyset.key_id,
                                                       crypto_keys.c.version == version,
                                                       crypto_keys.c.wrapped.is_not(None))
                             .values(wrapped=None, destroyed_at=iso_utc())).rowcount
            if not n:
                raise InputError(f"{keyset.name} has no live version {version}")
            self.ws.audit.record("key.destroy", conn=conn, decision="info", dataset=keyset.dataset,
                                 details={"keyset": keyset.name, "version": version})
        self._keys.pop((keyset.key_id, version), None)
        self._handles.pop((keyset.key_id, version), None)

    def rewrap(self) -> dict[str, int]:
        """Move every wrapped key to a new KEK generation; no ciphertext of data changes."""
        with self.ws.store.write() as conn:
            old = self._kek_version(conn)
            new = old + 1
            conn.execute(insert(crypto_kek).values(version=new, created_at=iso_utc()))
            rows = conn.execute(select(crypto_keys.c.key_id, crypto_keys.c.version, crypto_keys.c.wrapped,
                                       crypto_keys.c.kek_version, crypto_keysets.c.kind)
                                .join(crypto_keysets, crypto_keysets.c.key_id == crypto_keys.c.key_id)
                                .where(crypto_keys.c.wrapped.is_not(None))).all()
            for r in rows:
                material = self._unwrap(r.wrapped, r.kind, int(r.key_id), int(r.version), int(r.kek_version))
                conn.execute(update(crypto_keys).where(crypto_keys.c.key_id == r.key_id,
                                                       crypto_keys.c.version == r.version)
                             .values(wrapped=self._wrap(material, r.kind, int(r.key_id), int(r.version), new),
                                     kek_version=new))
            subjects = self._rewrap_subject_keys(conn, new)
            self.ws.audit.record("key.rewrap", conn=conn, decision="info",
                                 details={"kek_version": new, "keys": len(rows), "subject_keys": subjects})
        return {"kek_version": new, "keys": len(rows), "subject_keys": subjects}

    # --- per-subject keys ----------------------------------------------------------------------

    def subject_index(self, subject_id: str) -> str:
        return self._subject_indexes([str(subject_id)])[0]

    def _subject_indexes(self, subject_ids: Sequence[str]) -> list[str]:
        return [d.hex() for d in hmac_sm3_many(self._subject_index_key, (b"subject\0" + s.encode() for s in subject_ids))]

    def _load_subject_rows(self, conn: Connection, indexes: Sequence[str]) -> dict[str, tuple[bytes, int]]:
        found: dict[str, tuple[bytes, int]] = {}
        unique = list(dict.fromkeys(indexes))
        c = crypto_subject_keys.c
        for a in range(0, len(unique), _IN_CHUNK):
            part = unique[a: a + _IN_CHUNK]
            for r in conn.execute(select(c.subject_index, c.wrapped, c.kek_version).where(c.subject_index.in_(part))):
                found[r.subject_index] = (bytes(r.wrapped), int(r.kek_version))
        return found

    def _unwrap_subject_rows(self, rows: dict[str, tuple[bytes, int]]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        by_kek: dict[int, list[str]] = {}
        for idx, (_, kek) in rows.items():
            by_kek.setdefault(kek, []).append(idx)
        for kek, idxs in by_kek.items():
            blobs = np.frombuffer(b"".join(rows[i][0] for i in idxs), dtype=np.uint8).reshape(len(idxs), -1)
            if blobs.shape[1] != NONCE_BYTES + KEY_BYTES + TAG_BYTES:
                raise KeyMaterialError("a wrapped subject key has the wrong size (damaged keyring)")
            keys, ok = BatchGCM(self._kek(kek)).open(
                np.ascontiguousarray(blobs[:, :NONCE_BYTES]), np.ascontiguousarray(blobs[:, NONCE_BYTES:-TAG_BYTES]),
                np.ascontiguousarray(blobs[:, -TAG_BYTES:]), _SUBJECT_WRAP_AAD + struct.pack(">I", kek))
            if not ok.all():
                raise KeyMaterialError("subject keys do not unwrap with this master key (wrong key or damaged keyring)")
            out.update(zip(idxs, (bytes(k) for k in keys), strict=True))
        return out

    def _wrap_subject_keys(self, keys: np.ndarray, kek: int) -> np.ndarray:
        n = keys.shape[0]
        nonces = np.frombuffer(secrets.token_bytes(NONCE_BYTES * n), dtype=np.uint8).reshape(n, NONCE_BYTES)
        ct, tags = BatchGCM(self._kek(kek)).seal(nonces, keys, _SUBJECT_WRAP_AAD + struct.pack(">I", kek))
        return np.concatenate([nonces, ct, tags], axis=1)

    def subject_keys(self, subject_ids: Sequence[str], *, create: bool = False) -> list[KeyHandle | None]:
        """Each subject's key (None if it has none); ``create`` makes the missing ones."""
        indexes = self._subject_indexes(subject_ids)
        with self.ws.store.read() as conn:
            rows = self._load_subject_rows(conn, indexes)
        missing = [i for i in dict.fromkeys(indexes) if i not in rows]
        if create and missing:
            with self.ws.store.write() as conn:
                rows.update(self._load_subject_rows(conn, missing))  # another process may have made some
                missing = [i for i in missing if i not in rows]
                if missing:
                    kek = self._kek_version(conn)
                    fresh = np.frombuffer(secrets.token_bytes(KEY_BYTES * len(missing)), np.uint8).reshape(-1, KEY_BYTES)
                    wrapped = self._wrap_subject_keys(fresh, kek)
                    now = iso_utc()
                    self.ws.store.insert_rows(conn, "crypto_subject_keys",
                                              ("subject_index", "wrapped", "kek_version", "created_at"),
                                              [(i, w.tobytes(), kek, now) for i, w in zip(missing, wrapped, strict=True)])
                    rows.update({i: (w.tobytes(), kek) for i, w in zip(missing, wrapped, strict=True)})
                    self.ws.audit.record("key.create", conn=conn, decision="info",
                                         details={"kind": "subject", "subject_keys": len(missing)})
        plain = self._unwrap_subject_rows(rows)
        handles = {i: KeyHandle(k) for i, k in plain.items()}
        return [handles.get(i) for i in indexes]

    def _rewrap_subject_keys(self, conn: Connection, new: int) -> int:
        c = crypto_subject_keys.c
        rows = {r.subject_index: (bytes(r.wrapped), int(r.kek_version))
                for r in conn.execute(select(c.subject_index, c.wrapped, c.kek_version))}
        if not rows:
            return 0
        plain = self._unwrap_subject_rows(rows)
        idxs = list(plain)
        wrapped = self._wrap_subject_keys(np.frombuffer(b"".join(plain[i] for i in idxs), np.uint8)
                                          .reshape(-1, KEY_BYTES), new)
        mark = "?" if self.ws.store.dialect == "sqlite" else "%s"
        conn.exec_driver_sql(
            f"UPDATE crypto_subject_keys SET wrapped = {mark}, kek_version = {mark} WHERE subject_index = {mark}",
            [(w.tobytes(), new, i) for i, w in zip(idxs, wrapped, strict=True)])
        return len(idxs)

    def shred_subject(self, subject_id: str) -> bool:
        """Destroy a subject's key: every cell encrypted under it becomes unreadable, in this
        store and in every copy of the data. True when a key existed. Audited either way."""
        index = self.subject_index(subject_id)
        with self.ws.store.write() as conn:
            if self.ws.store.dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA secure_delete = ON")  # overwrite the freed page content
            n = conn.execute(delete(crypto_subject_keys).where(crypto_subject_keys.c.subject_index == index)).rowcount
            self.ws.audit.record("key.shred", conn=conn, subjects=str(subject_id), decision="allow" if n else "info",
                                 reason="" if n else "no per-subject key", details={"destroyed": bool(n)})
        if n and self.ws.store.dialect == "sqlite":
            with self.ws.store.read() as conn:  # move the deletion out of the WAL into the main file
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return bool(n)

    def subject_key_count(self) -> int:
        with self.ws.store.read() as conn:
            return int(conn.execute(select(func.count()).select_from(crypto_subject_keys)).scalar() or 0)

    # --- the contracts other components use ---------------------------------------------------

    def column_cipher(self, dataset: str, column: str) -> Any:
        from omniguard.crypto.column import ColumnCipher

        return ColumnCipher(self, self.column_keyset(dataset, column))

    def tokenizer(self, domain: str = "org") -> Any:
        from omniguard.crypto.tokens import Tokenizer, check_domain

        check_domain(domain)
        ks = self.token_keyset(domain, create=not domain.startswith("join:"))
        return Tokenizer(self.key_bytes(ks.key_id, ks.primary_version), domain=domain, version=ks.primary_version)

    def versions(self, keyset: Keyset) -> list[dict[str, Any]]:
        with self.ws.store.read() as conn:
            rows = conn.execute(select(crypto_keys.c.version, crypto_keys.c.created_at, crypto_keys.c.destroyed_at,
                                       crypto_keys.c.kek_version, crypto_keys.c.origin)
                                .where(crypto_keys.c.key_id == keyset.key_id).order_by(crypto_keys.c.version)).all()
        return [{"version": r.version, "created": r.created_at, "destroyed": r.destroyed_at,
                 "kek_version": r.kek_version, "origin": r.origin, "primary": r.version == keyset.primary_version}
                for r in rows]

    def kek_version(self) -> int:
        with self.ws.store.read() as conn:
            return int(conn.execute(select(func.max(crypto_kek.c.version))).scalar() or 0)
