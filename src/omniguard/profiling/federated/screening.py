"""Screening of partner updates before aggregation: a broken or hostile partner must not be able
to corrupt the shared model.

An update is *rejected* when it cannot be honest at all (wrong shape, NaN or inf, an impossible
row count, a norm more than ``REJECT_FACTOR`` times what honest DP-SGD could produce) and
*clipped* when it is merely larger than honest training could make it. Honest updates are never
changed, so screening does not alter a job's result (a test checks the Flower run against the
in-process loop). Every rejection and clip is reported to the caller, which audits it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from omniguard.profiling.federated.spec import JobSpec
from omniguard.profiling.models import SGDConfig

REJECT_FACTOR = 10.0
MAX_NOISE_MULTIPLIER = 50.0  # bounds the noise allowance a partner may claim


@dataclass
class Update:
    partner: str
    arrays: list[np.ndarray]
    rows: float
    noise_multiplier: float = 0.0


@dataclass
class Screened:
    accepted: list[Update] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (partner, reason)
    clipped: list[tuple[str, str]] = field(default_factory=list)


def _basic(u: Update, shapes: Sequence[tuple[int, ...]], spec: JobSpec, seen: set[str]) -> str | None:
    if u.partner not in spec.partners:
        return "not a partner of this job"
    if u.partner in seen:
        return "a second update from the same partner in one round"
    if len(u.arrays) != len(shapes) or any(a.shape != s for a, s in zip(u.arrays, shapes, strict=False)):
        return "arrays of the wrong shape"
    if any(not np.isfinite(a).all() for a in u.arrays):
        return "NaN or infinite values"
    if not (math.isfinite(u.rows) and 1 <= u.rows <= spec.max_rows_per_partner):
        return "an impossible row count"
    if not (math.isfinite(u.noise_multiplier) and u.noise_multiplier >= 0):
        return "an impossible noise multiplier"
    return None


def update_norm_bound(spec: JobSpec, rows: float, noise_multiplier: float, weights_norm: float) -> float:
    """The largest distance from the global model that honest local DP-SGD can travel (with
    overwhelming probability): steps x learning rate x (clipped gradient mean + noise + L2 pull)."""
    cfg = SGDConfig(epochs=spec.local_epochs, batch_size=spec.batch_size)
    n = max(int(rows), 1)
    q, steps = cfg.sampling_rate(n), cfg.steps(n)
    expected = q * n
    clip = spec.clip
    d = spec.dimension + 1
    batch = expected + 8.0 * math.sqrt(expected) + 8.0  # a Binomial(n, q) batch, far in the tail
    z = min(noise_multiplier, MAX_NOISE_MULTIPLIER)
    noise = z * clip * (math.sqrt(d) + 8.0)
    per_step = (clip * batch + noise) / max(expected, 1.0) + spec.l2 * (weights_norm + 1.0)
    return 1.5 * spec.learning_rate * steps * per_step


def screen_propensity(updates: Sequence[Update], global_weights: np.ndarray, spec: JobSpec) -> Screened:
    out = Screened()
    seen: set[str] = set()
    gnorm = float(np.linalg.norm(global_weights))
    for u in updates:
        reason = _basic(u, [global_weights.shape], spec, seen)
        if reason is None:
            step = u.arrays[0] - global_weights
            norm = float(np.linalg.norm(step))
            bound = update_norm_bound(spec, u.rows, u.noise_multiplier, gnorm)
            if norm > REJECT_FACTOR * bound:
                reason = f"update norm {norm:.3g} is over {REJECT_FACTOR:g}x the honest bound {bound:.3g}"
            elif norm > bound:
                u = Update(u.partner, [global_weights + step * (bound / norm)], u.rows, u.noise_multiplier)
                out.clipped.append((u.partner, f"update norm {norm:.3g} clipped to {bound:.3g}"))
        if reason is not None:
            out.rejected.append((u.partner, reason))
            continue
        seen.add(u.partner)
        out.accepted.append(u)
    return out


def screen_kmeans(updates: Sequence[Update], k: int, spec: JobSpec) -> Screened:
    """Per-cluster (sums, counts). Counts are kept below the job's row cap; each sum is kept where
    the cluster's mean stays in the unit box; both up to the noise an honest partner adds (6 sigma)."""
    out = Screened()
    seen: set[str] = set()
    d = spec.dimension
    for u in updates:
        reason = _basic(u, [(k, d), (k,)], spec, seen)
        if reason is not None:
            out.rejected.append((u.partner, reason))
            continue
        seen.add(u.partner)
        sums, counts = u.arrays
        sigma = min(u.noise_multiplier, MAX_NOISE_MULTIPLIER) * math.sqrt(2.0)
        count_slack = 6.0 * sigma  # honest noisy counts may dip below zero
        new_counts = np.clip(counts, -count_slack, float(spec.max_rows_per_partner))
        # every coordinate of a record lies in [0, 1], so a cluster's sum is at most its count
        slack = 6.0 * sigma * spec.clip
        top = np.maximum(new_counts + count_slack, 0.0)[:, None] + slack
        new_sums = np.clip(sums, -slack, top)
        if not (np.array_equal(new_counts, counts) and np.array_equal(new_sums, sums)):
            changed = int((new_sums != sums).sum() + (new_counts != counts).sum())
            out.clipped.append((u.partner, f"{changed} statistics outside what honest data can produce were clipped"))
        out.accepted.append(Update(u.partner, [new_sums, new_counts], u.rows, u.noise_multiplier))
    return out
