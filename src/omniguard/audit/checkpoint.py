"""Signed checkpoints: (seq, hash, time) signed with the workspace's SM2 key.

An auditor keeps an exported checkpoint outside the database; later, ``audit verify --checkpoint``
proves the log still contains that exact prefix (nothing edited, removed or truncated behind it).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from omniguard.audit.chain import canonical
from omniguard.audit.tables import audit_checkpoints, audit_events
from omniguard.config import iso_utc
from omniguard.crypto.sm2 import SM2KeyPair, public_key_fingerprint, sm2_verify
from omniguard.errors import InputError
from omniguard.fileio import atomic_write_text
from omniguard.store import Store

FORMAT = "omniguard-checkpoint/1"


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    workspace: str
    seq: int
    hash: str
    ts: str
    public_key: str
    signature: str

    def payload(self) -> bytes:
        return canonical({"format": FORMAT, "workspace": self.workspace, "seq": self.seq,
                          "hash": self.hash, "ts": self.ts})

    def signature_valid(self, trusted_public_key: bytes | None = None) -> bool:
        """Valid under the trusted key (or, with none given, under the key the file names)."""
        try:
            key = trusted_public_key or bytes.fromhex(self.public_key)
            sig = bytes.fromhex(self.signature)
        except ValueError:
            return False
        if trusted_public_key is not None and self.public_key.lower() != trusted_public_key.hex():
            return False
        return sm2_verify(key, self.payload(), sig)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **dataclasses.asdict(self),
                "key_fingerprint": public_key_fingerprint(bytes.fromhex(self.public_key))}

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Checkpoint:
        shown = Path(path).name
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{shown}: checkpoint file not found") from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InputError(f"{shown}: not a checkpoint file (expected JSON)") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"{shown}: not an {FORMAT} file")
        try:
            cp = cls(workspace=str(data["workspace"]), seq=int(data["seq"]), hash=str(data["hash"]),
                     ts=str(data["ts"]), public_key=str(data["public_key"]), signature=str(data["signature"]))
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{shown}: checkpoint is missing seq, hash, ts, public_key or signature") from None
        return cp


def create_checkpoint(store: Store, signer: SM2KeyPair, workspace_id: str) -> Checkpoint:
    """Sign the current head of the log and keep the checkpoint in the store too."""
    with store.write() as conn:
        row = conn.execute(select(audit_events.c.seq, audit_events.c.hash)
                           .order_by(audit_events.c.seq.desc()).limit(1)).first()
        if row is None:
            raise InputError("the audit log is empty: nothing to checkpoint yet")
        seq, h = int(row[0]), bytes(row[1])
        existing = conn.execute(select(audit_checkpoints).where(audit_checkpoints.c.seq == seq)).first()
        if existing is not None:
            return Checkpoint(workspace_id, seq, bytes(existing.hash).hex(), existing.ts,
                              existing.public_key, bytes(existing.signature).hex())
        unsigned = Checkpoint(workspace_id, seq, h.hex(), iso_utc(), signer.public_key.hex(), "")
        sig = signer.sign(unsigned.payload())
        conn.execute(audit_checkpoints.insert().values(seq=seq, hash=h, ts=unsigned.ts,
                                                       public_key=unsigned.public_key, signature=sig))
    return dataclasses.replace(unsigned, signature=sig.hex())


def stored_checkpoints(store: Store, workspace_id: str) -> list[Checkpoint]:
    with store.read() as conn:
        rows = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.seq)).all()
    return [Checkpoint(workspace_id, int(r.seq), bytes(r.hash).hex(), r.ts, r.public_key,
                       bytes(r.signature).hex()) for r in rows]
