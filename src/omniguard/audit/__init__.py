"""The tamper-evident audit log: SM3 hash chain, SM2-signed checkpoints, verification, reports."""

from omniguard.audit.chain import GENESIS, canonical, link
from omniguard.audit.checkpoint import Checkpoint, create_checkpoint, stored_checkpoints
from omniguard.audit.log import AuditLog, AuditRecord
from omniguard.audit.verify import Damage, VerifyReport, verify_log

__all__ = [
    "GENESIS",
    "AuditLog",
    "AuditRecord",
    "Checkpoint",
    "Damage",
    "VerifyReport",
    "canonical",
    "create_checkpoint",
    "link",
    "stored_checkpoints",
    "verify_log",
]
