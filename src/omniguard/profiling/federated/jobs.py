"""Where a federated job keeps its files in a workspace, and its status.

``<workspace>/federation/<job-id>/coordinator/`` holds the coordinator's copy of the spec, the
status, the signed model and the job report; ``.../partner/`` holds a partner's approval, its
rounds and the model it received. One workspace may play both roles in the same job.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from omniguard.config import iso_utc
from omniguard.errors import InputError
from omniguard.fileio import atomic_write_text
from omniguard.profiling.federated.spec import JobSpec, load_spec

ROLES = ("coordinator", "partner")
SPEC = "spec.toml"
STATUS = "status.json"


def job_dir(ws: Any, job_id: str, role: str) -> Path:
    if role not in ROLES:
        raise ValueError(role)
    return Path(ws.root) / "federation" / job_id / role


def install_spec(ws: Any, spec_path: str | Path, role: str) -> tuple[JobSpec, Path]:
    """Validate a spec and keep this party's own copy of it: later steps read the copy, so an
    edit to the original after approval changes nothing."""
    spec = load_spec(spec_path)
    folder = job_dir(ws, spec.job_id, role)
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / SPEC
    if copy.exists() and load_spec(copy).digest() != spec.digest():
        raise InputError(f"job {spec.job_id} already exists here with a different spec; use a new job id")
    if not copy.exists() or Path(spec_path).resolve() != copy.resolve():
        tmp = folder / f".{SPEC}.part"
        shutil.copyfile(spec_path, tmp)
        tmp.replace(copy)
    return spec, folder


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise InputError(f"{path.name}: unreadable or not JSON") from None


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n")


def set_status(folder: Path, state: str, **fields: Any) -> dict[str, Any]:
    status = read_json(folder / STATUS)
    status.update(fields, state=state, updated=iso_utc())
    status.setdefault("history", []).append({"state": state, "at": status["updated"]})
    write_json(folder / STATUS, status)
    return status


def list_jobs(ws: Any, job_id: str | None = None) -> list[dict[str, Any]]:
    """Status of every job (or one) this workspace knows, for ``federation status``."""
    root = Path(ws.root) / "federation"
    out = []
    for folder in sorted(root.glob("*/*")) if root.is_dir() else []:
        if folder.name not in ROLES or (job_id and folder.parent.name != job_id):
            continue
        status = read_json(folder / STATUS)
        status.pop("history", None)
        out.append({"job": folder.parent.name, "role": folder.name, **status})
    return out
