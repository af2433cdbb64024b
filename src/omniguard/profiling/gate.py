"""The consent gate every profiling path goes through: only subjects whose consent for the
purpose is valid now may be used. It fails closed: without a consent registry, nobody is used."""

from __future__ import annotations

from typing import Any

import numpy as np

from omniguard.errors import AccessDenied


def consent_mask(ws: Any, subject_ids: np.ndarray, purpose: str) -> np.ndarray:
    """``ws.consent.allowed(ids, purpose)`` as a boolean mask of the same length. The registry's
    own ``consent.check`` event is left out: the caller's event covers the check (row counts and
    the digest of the subjects kept), as the guard does."""
    try:
        registry = ws.consent
    except (ImportError, AttributeError):
        raise AccessDenied("the consent registry is not available here, so no subject may be used") from None
    mask = np.asarray(registry.allowed(subject_ids, purpose, record=False), dtype=bool)
    if mask.shape != (len(subject_ids),):
        raise AccessDenied("the consent registry returned an answer of the wrong size")
    return mask
