"""Local scoring: a partner applies the verified shared model to its own customers, on its own
machine, and only to those whose consent for the job's purpose is valid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omniguard.errors import InputError
from omniguard.profiling.federated import jobs
from omniguard.profiling.federated.model import load_model, score_frame, verify_model
from omniguard.profiling.federated.partner import PARTNER_ROLE, Approval
from omniguard.profiling.gate import consent_mask
from omniguard.tabular import read_table, write_table


def _pinned_key(ws: Any, doc: dict[str, Any]) -> str:
    job_id = str(doc.get("body", {}).get("job_id", "")) if isinstance(doc, dict) else ""
    folder = jobs.job_dir(ws, job_id, "partner") if job_id else None
    if folder is None or not (folder / "approval.json").exists():
        raise InputError("this workspace did not approve the model's job: pass --coordinator-key")
    return Approval.load(folder).coordinator_key


def score_customers(ws: Any, model_path: str | Path, data_path: str | Path, *, subject_column: str,
                    output: str | Path, coordinator_key: str | None = None, purpose: str | None = None) -> dict[str, Any]:
    doc = load_model(model_path)
    body = verify_model(doc, coordinator_key or _pinned_key(ws, doc))
    purpose = purpose or body["purpose"]
    ws.policy.purpose(purpose)
    path = Path(data_path)
    df = read_table(path)
    if subject_column not in df.columns:
        raise InputError(f"{path.name}: no column {subject_column!r}")
    ids = df[subject_column].astype("string")
    if ids.isna().any():
        raise InputError(f"{path.name}: empty subject id in column {subject_column!r}")
    keep = consent_mask(ws, ids.to_numpy(dtype=object), purpose)
    kept = df.loc[keep].reset_index(drop=True)
    scores = score_frame(body, kept, shown=path.name)
    column = "propensity" if body["task"] == "propensity" else "segment"
    out = pd.DataFrame({subject_column: kept[subject_column], column: scores})
    write_table(out, output)
    count, digest = ws.audit.subjects_digest(ids[keep].to_numpy(dtype=object))
    ws.audit.record("federation.score", role=PARTNER_ROLE, purpose=purpose, dataset=path.name, rows=count, subjects=count,
                    subjects_digest=digest,
                    details={"job": body["job_id"], "task": body["task"], "rows_without_consent": int((~keep).sum()),
                             "file": Path(output).name})
    summary: dict[str, Any] = {"job": body["job_id"], "task": body["task"], "rows": count, "file": str(output)}
    if column == "segment":
        summary["segment_sizes"] = np.bincount(scores.astype(int), minlength=len(body["centroids"])).tolist()
    return summary
