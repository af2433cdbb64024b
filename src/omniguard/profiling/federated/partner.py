"""The partner's side of a job: approve the spec against the partner's own policy and privacy
budget, then load training rows through the consent gate.

Three gates, in order, each audited in the partner's workspace:

1. policy: the purpose is a joint-profiling purpose that needs separate consent (PIPL Art. 23),
   the partner-node role may use it, and every feature's category is allowed for the purpose at
   a grade the role sees in clear (a sensitive or highly sensitive feature is refused, not dropped);
2. budget: the job's per-customer (epsilon, delta), computed before the job from the spec and the
   partner's row count, fits the dataset's budget in the ledger;
3. consent: each time data is loaded, only subjects whose consent for the purpose is valid *now*
   are kept, so a withdrawal takes effect at the next round.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from omniguard.config import iso_utc
from omniguard.errors import AccessDenied, InputError, OmniguardError, PolicyError, UnknownPurpose
from omniguard.profiling.federated import jobs
from omniguard.profiling.federated.spec import Feature, JobSpec, load_spec
from omniguard.profiling.gate import consent_mask
from omniguard.profiling.models import SGDConfig, scale_to_box
from omniguard.tabular import read_table

if TYPE_CHECKING:
    from omniguard.profiling.dp.accounting import PrivacyGuarantee

PARTNER_ROLE = "partner_node"
APPROVAL = "approval.json"
ROUNDS = "rounds.jsonl"


@dataclass(frozen=True)
class Approval:
    """What a partner agreed to; the ClientApp trains only under a matching approval."""

    job_id: str
    partner: str
    spec_digest: str
    dataset: str
    data_path: str
    rows: int
    noise_multiplier: float  # 0 when the job runs without DP
    sampling_rate: float
    steps_per_round: int
    releases: int  # DP-SGD steps or Gaussian releases in the whole job
    privacy: dict[str, Any] | None
    ledger_entry: int | None
    coordinator_key: str
    approved_at: str
    seed: int | None = None  # the partner's own seed (tests); None = fresh OS entropy each round

    def save(self, folder: Path) -> None:
        jobs.write_json(folder / APPROVAL, dataclasses.asdict(self))

    @classmethod
    def load(cls, folder: Path) -> Approval:
        data = jobs.read_json(folder / APPROVAL)
        if not data:
            raise AccessDenied(f"job {folder.parent.name}: this partner has not approved it")
        return cls(**data)


@dataclass(frozen=True)
class PartnerData:
    X: np.ndarray  # features scaled into the unit box with the spec's bounds
    y: np.ndarray | None
    rows: int
    rows_in_file: int
    subjects_digest: str


def _deny(ws: Any, spec: JobSpec, reason: str) -> AccessDenied:
    ws.audit.record("federation.job_refused", role=PARTNER_ROLE, purpose=spec.purpose, decision="deny",
                    reason=reason, details={"job": spec.job_id, "spec": spec.digest()[:16]})
    return AccessDenied(f"job {spec.job_id} refused: {reason}")


def check_policy(ws: Any, spec: JobSpec) -> None:
    """Refuse (and audit) a spec this workspace's policy does not allow."""
    try:
        purpose = ws.policy.purpose(spec.purpose)
    except UnknownPurpose:
        raise _deny(ws, spec, f"purpose {spec.purpose!r} is not in this partner's policy") from None
    if not purpose.joint_profiling:
        raise _deny(ws, spec, f"purpose {purpose.id!r} is not a joint-profiling purpose")
    if not purpose.separate_consent:
        raise _deny(ws, spec, f"purpose {purpose.id!r} does not require separate consent (PIPL Art. 23)")
    role = ws.policy.roles.get(PARTNER_ROLE)
    if role is None or not role.may_use(purpose.id):
        raise _deny(ws, spec, f"role {PARTNER_ROLE!r} may not use purpose {purpose.id!r}")
    for f in (*spec.features, *([spec.label] if spec.label else [])):
        try:
            grade = ws.policy.grade_of(f.category)
        except PolicyError:
            raise _deny(ws, spec, f"column {f.column!r}: unknown data category {f.category!r}") from None
        if f.category not in purpose.categories:
            raise _deny(ws, spec, f"column {f.column!r}: category {f.category!r} is not allowed for {purpose.id!r}")
        if grade > purpose.max_grade:
            raise _deny(ws, spec, f"column {f.column!r}: grade {grade.value} is above the maximum grade "
                                  f"{purpose.max_grade.value} of purpose {purpose.id!r}")
        if role.protection.for_grade(grade) != "clear":
            raise _deny(ws, spec, f"column {f.column!r}: grade {grade.value} is not available in clear "
                                  f"to role {PARTNER_ROLE!r}")


def sgd_config(spec: JobSpec, noise_multiplier: float) -> SGDConfig:
    dp = spec.privacy.enabled
    return SGDConfig(epochs=spec.local_epochs, batch_size=spec.batch_size, learning_rate=spec.learning_rate,
                     l2=spec.l2, clip=spec.clip if dp else None, noise_multiplier=noise_multiplier if dp else 0.0)


def plan_privacy(spec: JobSpec, rows: int, *, rounds: int | None = None,
                 noise_multiplier: float | None = None) -> tuple[float, float, int, PrivacyGuarantee | None]:
    """(noise multiplier, sampling rate, steps per round, guarantee) for a partner with ``rows``
    customers. The noise is calibrated to the spec's target epsilon unless given or fixed."""
    from omniguard.profiling.dp import accounting  # dp-accounting pulls in scipy: only when planning

    rounds = spec.rounds if rounds is None else rounds
    if rows < 1:
        raise InputError("no rows to plan for")
    if spec.task == "propensity":
        cfg = SGDConfig(epochs=spec.local_epochs, batch_size=spec.batch_size)
        q, per_round = cfg.sampling_rate(rows), cfg.steps(rows)
    else:
        q, per_round = 1.0, 1
    releases = per_round * (rounds + (1 if spec.task == "segments" else 0))
    if not spec.privacy.enabled:
        return 0.0, q, per_round, None
    z = noise_multiplier or spec.privacy.noise_multiplier
    if spec.task == "propensity":
        if z is None:
            z = accounting.calibrate_noise(spec.privacy.epsilon, spec.privacy.delta,
                                           lambda s: accounting.dpsgd_event(q, s, releases))
        return z, q, per_round, accounting.dpsgd_guarantee(q, z, releases, spec.privacy.delta)
    if z is None:
        z = accounting.calibrate_noise(spec.privacy.epsilon, spec.privacy.delta,
                                       lambda s: accounting.gaussian_event(s, releases))
    return z, q, per_round, accounting.gaussian_guarantee(z, releases, spec.privacy.delta)


def load_partner_data(ws: Any, spec: JobSpec, data_path: str | Path, *, dataset: str,
                      server_round: int | None = None) -> PartnerData:
    """Read the partner's table, keep consenting subjects only, check and scale the features.
    Audits the load with the row count and a keyed digest of the subjects used (never ids)."""
    path = Path(data_path)
    df = read_table(path)
    cols = [spec.subject_column, *(f.column for f in spec.features), *([spec.label.column] if spec.label else [])]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"{path.name}: missing column {missing[0]!r} named in job {spec.job_id}")
    ids = df[spec.subject_column].astype("string")
    if ids.isna().any() or (ids.str.strip() == "").any():
        raise InputError(f"{path.name}: line {int(np.flatnonzero(ids.isna() | (ids.str.strip() == ''))[0]) + 2}: "
                         f"empty subject id in column {spec.subject_column!r}")
    if ids.duplicated().any():
        raise InputError(f"{path.name}: column {spec.subject_column!r} repeats a subject id; the privacy unit "
                         "is a customer, so give one row per customer")
    keep = consent_mask(ws, ids.to_numpy(dtype=object), spec.purpose)
    kept = df.loc[keep]
    X = _numeric(kept, spec.features, path, keep)
    y = None
    if spec.label is not None:
        y = _numeric(kept, (spec.label,), path, keep)[:, 0]
        if not np.isin(y, (spec.label.lower, spec.label.upper)).all():
            raise InputError(f"{path.name}: label {spec.label.column!r} must hold only "
                             f"{spec.label.lower:g} or {spec.label.upper:g}")
        y = (y == spec.label.upper).astype(np.float64)
    lower = np.array([f.lower for f in spec.features])
    upper = np.array([f.upper for f in spec.features])
    count, digest = ws.audit.subjects_digest(ids[keep].to_numpy(dtype=object))
    ws.audit.record(
        "federation.data_loaded", role=PARTNER_ROLE, purpose=spec.purpose, dataset=dataset,
        columns=[f.column for f in spec.features], rows=count, subjects=count, subjects_digest=digest,
        details={"job": spec.job_id, "round": server_round, "rows_in_file": len(df),
                 "rows_without_consent": int((~keep).sum())})
    return PartnerData(scale_to_box(X, lower, upper), y, count, len(df), digest)


def _numeric(df: pd.DataFrame, features: tuple[Feature, ...], path: Path, keep: np.ndarray) -> np.ndarray:
    out = np.empty((len(df), len(features)))
    lines = np.flatnonzero(keep) + 2  # file line numbers of the kept rows (header is line 1)
    for j, f in enumerate(features):
        col = pd.to_numeric(df[f.column], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(col)
        if bad.any():
            raise InputError(f"{path.name}: line {int(lines[np.flatnonzero(bad)[0]])}: column {f.column!r} "
                             "is not a number")
        out[:, j] = col
    return out


def approve(ws: Any, spec_path: str | Path, data_path: str | Path, *, partner: str, dataset: str | None = None,
            allow_no_dp: bool = False, seed: int | None = None, coordinator_key: str | None = None) -> Approval:
    """Check a job against policy and budget, charge the budget, and record the approval.
    ``coordinator_key`` pins the key the model must be signed with when the spec names none."""
    spec, folder = jobs.install_spec(ws, spec_path, "partner")
    spec.partner_index(partner)
    dataset = dataset or Path(data_path).name
    if spec.coordinator_key and coordinator_key and spec.coordinator_key != coordinator_key:
        raise InputError(f"job {spec.job_id}: the spec names a different coordinator key")
    key = spec.coordinator_key or coordinator_key
    if not key:
        raise InputError(f"job {spec.job_id}: no coordinator key to verify the model with; add [coordinator] "
                         "public_key to the spec or pass the coordinator's key")
    check_policy(ws, spec)
    if not spec.privacy.enabled and not allow_no_dp:
        raise _deny(ws, spec, "the job runs without differential privacy and this partner did not allow that")
    data = load_partner_data(ws, spec, data_path, dataset=dataset)
    if data.rows == 0:
        raise _deny(ws, spec, "no subject in the data has consent for the purpose")
    if data.rows > spec.max_rows_per_partner:
        raise _deny(ws, spec, f"{data.rows} rows exceed the job's max_rows_per_partner")
    try:
        z, q, per_round, guarantee = plan_privacy(spec, data.rows)
    except InputError as e:
        raise _deny(ws, spec, e.message) from None
    entry = None
    if guarantee is not None:
        entry = ws.ledger.charge(dataset, guarantee.epsilon, guarantee.delta, kind="federated-job", ref=spec.job_id,
                                 unit=guarantee.unit, purpose=spec.purpose,
                                 details={"mechanism": guarantee.mechanism, "epsilon_rdp": guarantee.epsilon_rdp})
    releases = per_round * (spec.rounds + (1 if spec.task == "segments" else 0))
    approval = Approval(
        job_id=spec.job_id, partner=partner, spec_digest=spec.digest(), dataset=dataset,
        data_path=str(Path(data_path).resolve()), rows=data.rows, noise_multiplier=z, sampling_rate=q,
        steps_per_round=per_round, releases=releases, privacy=guarantee.to_dict() if guarantee else None,
        ledger_entry=entry, coordinator_key=key, approved_at=iso_utc(), seed=seed)
    approval.save(folder)
    (folder / ROUNDS).unlink(missing_ok=True)
    ws.audit.record("federation.job_approved", role=PARTNER_ROLE, purpose=spec.purpose, dataset=dataset,
                    rows=data.rows, subjects=data.rows, subjects_digest=data.subjects_digest,
                    decision="allow" if guarantee else "partial",
                    reason=None if guarantee else "no differential privacy (allowed by this partner)",
                    details={"job": spec.job_id, "spec": spec.digest()[:16], "partner": partner,
                             "privacy": guarantee.line() if guarantee else "none"})
    jobs.set_status(folder, "approved", job=spec.job_id, partner=partner, rows=data.rows,
                    privacy=approval.privacy)
    return approval


def settle(ws: Any, job_id: str) -> dict[str, Any]:
    """After a job: account for the rounds that actually ran and settle the ledger entry."""
    folder = jobs.job_dir(ws, job_id, "partner")
    approval = Approval.load(folder)
    spec = load_spec(folder / jobs.SPEC)
    ran = _rounds_ran(folder)
    rounds_done = len({r for r, phase in ran if phase != "mean"})
    out: dict[str, Any] = {"job": job_id, "rounds": rounds_done, "privacy": None}
    if approval.privacy is not None and approval.ledger_entry is not None:
        try:
            g = _actual_guarantee(spec, approval, ran)
        except OmniguardError:
            g = None
        eps, delta = (g.epsilon, g.delta) if g else (0.0, 0.0)
        ws.ledger.settle(approval.ledger_entry, min(eps, approval.privacy["epsilon"]),
                         min(delta, approval.privacy["delta"]))
        out["privacy"] = g.to_dict() if g else {"epsilon": 0.0, "delta": 0.0, "note": "no round ran"}
    jobs.set_status(folder, "finished", privacy_actual=out["privacy"], rounds_ran=rounds_done)
    return out


def _rounds_ran(folder: Path) -> list[tuple[int, str]]:
    import json

    path = folder / ROUNDS
    if not path.exists():
        return []
    return [(int(r["round"]), str(r["phase"])) for r in map(json.loads, path.read_text().splitlines()) if r]


def _actual_guarantee(spec: JobSpec, approval: Approval, ran: list[tuple[int, str]]) -> PrivacyGuarantee | None:
    from omniguard.profiling.dp import accounting

    releases = len(ran) * approval.steps_per_round
    if releases == 0:
        return None
    delta = spec.privacy.delta
    if spec.task == "propensity":
        return accounting.dpsgd_guarantee(approval.sampling_rate, approval.noise_multiplier, releases, delta)
    return accounting.gaussian_guarantee(approval.noise_multiplier, releases, delta)
