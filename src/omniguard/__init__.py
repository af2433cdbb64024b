"""omniguard: PIPL data governance for retail.

Consent registry, classification and grading, SM4/SM3/SM2 protection, federated profiling with
differential privacy, and a tamper-evident audit log of every data access.
"""

__version__ = "0.1.0"

from omniguard.errors import (
    AccessDenied,
    ConfigError,
    InputError,
    KeyMaterialError,
    OmniguardError,
    PolicyError,
    StoreError,
    UnknownPurpose,
    VerificationFailed,
    WorkspaceExists,
    WorkspaceNotFound,
)
from omniguard.workspace import Workspace, open_workspace

__all__ = [
    "AccessDenied",
    "ConfigError",
    "InputError",
    "KeyMaterialError",
    "OmniguardError",
    "PolicyError",
    "StoreError",
    "UnknownPurpose",
    "VerificationFailed",
    "Workspace",
    "WorkspaceExists",
    "WorkspaceNotFound",
    "__version__",
    "open_workspace",
]
