"""Helpers for the joint-profiling tests: consent, and job specs written as a partner receives them."""

from __future__ import annotations

from pathlib import Path

from omniguard.profiling import datasets

PURPOSE = "joint_profiling"


def grant(ws, subject_ids, purpose: str = PURPOSE) -> None:
    """Record separate consent to ``purpose`` for every id (the consent registry's bulk import)."""
    datasets.record_consent(ws, subject_ids, purpose, "grant")


def withdraw(ws, subject_ids, purpose: str = PURPOSE) -> None:
    datasets.record_consent(ws, subject_ids, purpose, "withdraw")


def feature_block(features: dict[str, tuple[float, float]] | None = None, category: str = "transaction") -> str:
    features = features or datasets.RETAIL_FEATURES
    return "".join(f'[[features]]\ncolumn = "{c}"\ncategory = "{category}"\nlower = {lo}\nupper = {hi}\n\n'
                   for c, (lo, hi) in features.items())


def spec_text(job_id: str = "job-1", *, task: str = "propensity", partners=("brand", "retailer"),
              rounds: int = 2, privacy: str = "epsilon = 3.0\ndelta = 1e-5", purpose: str = PURPOSE,
              features: str | None = None, coordinator_key: str = "", extra: str = "") -> str:
    label = ('[label]\ncolumn = "bought_new"\ncategory = "transaction"\nlower = 0\nupper = 1\n'
             if task == "propensity" else "")
    coord = f'[coordinator]\nname = "coordinator"\npublic_key = "{coordinator_key}"\n' if coordinator_key else ""
    return (f'[job]\nid = "{job_id}"\ntask = "{task}"\npurpose = "{purpose}"\nsubject_column = "member_id"\n'
            f"rounds = {rounds}\n\n{coord}"
            + "".join(f'[[partners]]\nid = "{p}"\n' for p in partners)
            + "\n" + (features if features is not None else feature_block()) + label
            + f"\n[privacy]\n{privacy}\n\n[aggregation]\nshare_metrics = true\n{extra}")


def write_spec(folder: Path, **kwargs) -> Path:
    path = folder / f"{kwargs.get('job_id', 'job-1')}.toml"
    path.write_text(spec_text(**kwargs), encoding="utf-8")
    return path
