"""The shared model a job produces: a small JSON document signed by the coordinator with SM2, and
the partner-side functions that verify it and score the partner's own customers with it.

A partner pins the coordinator's public key when it approves the job (it is in the spec), so a
model that was altered on the way, or signed by anyone else, is refused before it is used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omniguard.config import iso_utc
from omniguard.crypto.sm2 import public_key_fingerprint, sm2_verify
from omniguard.errors import InputError, VerificationFailed
from omniguard.fileio import atomic_write_text
from omniguard.profiling.federated.spec import JobSpec
from omniguard.profiling.models import assign, predict_proba, scale_to_box

FORMAT = "omniguard-model/1"


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def model_body(spec: JobSpec, params: np.ndarray, *, rounds: int, privacy: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "format": FORMAT, "job_id": spec.job_id, "spec_digest": spec.digest(), "task": spec.task,
        "purpose": spec.purpose, "rounds": rounds, "created": iso_utc(), "privacy": privacy,
        "features": [{"column": f.column, "lower": f.lower, "upper": f.upper} for f in spec.features],
    }
    if spec.task == "propensity":
        body["label"] = spec.label.column if spec.label else None
        body["weights"] = [float(v) for v in np.asarray(params).ravel()]
    else:
        body["centroids"] = [[float(v) for v in row] for row in np.asarray(params)]
    return body


def sign_model(body: dict[str, Any], signer: Any) -> dict[str, Any]:
    return {"body": body, "signer": "sm2:" + signer.public_key.hex(), "signature": signer.sign(canonical(body)).hex()}


def parse_key(key: str | bytes) -> bytes:
    if isinstance(key, bytes):
        return key
    try:
        return bytes.fromhex(key.strip().removeprefix("sm2:"))
    except ValueError:
        raise InputError("an SM2 public key is sm2: followed by 130 hex digits") from None


def verify_model(doc: Any, trusted_key: str | bytes) -> dict[str, Any]:
    """The model body, once its SM2 signature checks out under the pinned key."""
    if not isinstance(doc, dict) or not isinstance(doc.get("body"), dict) or not isinstance(doc.get("signature"), str):
        raise VerificationFailed("not a signed omniguard model")
    key = parse_key(trusted_key)
    try:
        sig = bytes.fromhex(doc["signature"])
        data = canonical(doc["body"])
    except (ValueError, TypeError):
        raise VerificationFailed("model signature or body is malformed") from None
    if not sm2_verify(key, data, sig):
        raise VerificationFailed(f"model signature does not verify under the pinned coordinator key "
                                 f"{public_key_fingerprint(key)}")
    if doc["body"].get("format") != FORMAT:
        raise VerificationFailed("unsupported model format")
    return doc["body"]


def save_model(path: Path, doc: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def load_model(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path.name}: file not found") from None
    except (OSError, ValueError):
        raise InputError(f"{path.name}: not a JSON model file") from None


def score_frame(body: dict[str, Any], df: pd.DataFrame, *, shown: str = "data") -> np.ndarray:
    """Propensity scores or segment numbers of ``df``'s rows under a verified model body."""
    cols = [f["column"] for f in body["features"]]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"{shown}: missing model feature column {missing[0]!r}")
    X = np.empty((len(df), len(cols)))
    for j, c in enumerate(cols):
        col = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(col))
        if len(bad):
            raise InputError(f"{shown}: line {int(bad[0]) + 2}: column {c!r} is not a number")
        X[:, j] = col
    Xs = scale_to_box(X, [f["lower"] for f in body["features"]], [f["upper"] for f in body["features"]])
    if body["task"] == "propensity":
        return predict_proba(np.asarray(body["weights"]), Xs)
    return assign(Xs, np.asarray(body["centroids"]))
