"""The two joint-profiling models, as plain numpy functions.

* Segments: k-means whose only inputs from a partner are per-cluster sums and counts. A partner
  adds Gaussian noise to them before they leave (record-level DP for its own customers), and the
  coordinator runs Lloyd's update on the totals.
* Propensity: logistic regression trained inside each partner with DP-SGD (Poisson sampling,
  per-example clipping, Gaussian noise) and averaged across partners (FedAvg).

The same functions run in-process (benchmarks and sweeps, where Ray's start-up would dominate)
and inside the Flower apps (real jobs); ``tests/profiling/test_flower_equivalence.py`` checks both
paths give the same model for the same seeds. Features are scaled into the unit box with bounds
fixed in the job spec, never from the data: data-dependent scaling would leak outside the
accounting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# --- features -----------------------------------------------------------------------------------


def scale_to_box(X: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Map each column from its declared [lower, upper] into [0, 1], clipping outliers."""
    lower = np.asarray(lower, dtype=np.float64)
    span = np.asarray(upper, dtype=np.float64) - lower
    return np.clip((np.asarray(X, dtype=np.float64) - lower) / span, 0.0, 1.0)


def clip_rows(X: np.ndarray, max_norm: float) -> np.ndarray:
    """Scale down each row whose L2 norm exceeds ``max_norm`` (bounds one record's influence)."""
    norms = np.linalg.norm(X, axis=1)
    factor = np.minimum(1.0, max_norm / np.maximum(norms, 1e-300))
    return X * factor[:, None]


def partner_rng(seed: int | None, partner_index: int, server_round: int) -> np.random.Generator:
    """The random stream of one partner in one round. ``seed=None`` draws fresh OS entropy: real
    jobs must never let the coordinator know the seed, or it could subtract the DP noise."""
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(partner_index), int(server_round)]))


# --- logistic regression with DP-SGD --------------------------------------------------------------


@dataclass(frozen=True)
class SGDConfig:
    """Local training settings. ``clip=None`` and ``noise_multiplier=0`` give plain minibatch SGD
    with the same sampling, so private and non-private arms differ only in the privacy steps."""

    epochs: float = 1.0
    batch_size: int = 64  # expected batch size; the Poisson sampling rate is batch_size / n
    learning_rate: float = 0.5
    l2: float = 1e-4
    clip: float | None = 1.0
    noise_multiplier: float = 0.0

    def sampling_rate(self, n: int) -> float:
        return min(1.0, self.batch_size / max(n, 1))

    def steps(self, n: int) -> int:
        return max(1, math.ceil(self.epochs / self.sampling_rate(n)))


def predict_proba(weights: np.ndarray, X: np.ndarray) -> np.ndarray:
    """P(y=1 | x) for weights ``[bias, coef...]`` (a numerically stable sigmoid)."""
    z = weights[0] + X @ weights[1:]
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def dp_sgd(weights: np.ndarray, X: np.ndarray, y: np.ndarray, config: SGDConfig,
           rng: np.random.Generator, *, sampling_rate: float | None = None,
           steps: int | None = None) -> tuple[np.ndarray, int]:
    """Train from ``weights`` on one partner's rows; returns (new weights, steps taken).

    ``sampling_rate`` and ``steps`` default to what ``config`` gives for ``len(X)``; a job fixes
    them when the partner approves it, so a later withdrawal of consent (fewer rows) can only
    lower the privacy loss the partner approved.

    Each step samples every record independently with rate q (Poisson sampling, which is what the
    accountant assumes), clips each per-example gradient to ``clip``, adds N(0, (z * clip)^2) to
    the sum, and divides by the expected batch size q * n (a fixed denominator, so the noisy
    average stays unbiased). The L2 penalty does not touch the data and costs no privacy."""
    n = len(X)
    q = config.sampling_rate(n) if sampling_rate is None else sampling_rate
    steps = config.steps(n) if steps is None else steps
    denominator = max(q * n, 1.0)
    w = np.asarray(weights, dtype=np.float64).copy()
    noisy = config.noise_multiplier > 0
    if noisy and config.clip is None:
        raise ValueError("DP-SGD noise needs a clipping norm")
    for _ in range(steps):
        take = rng.random(n) < q
        Xb, yb = X[take], y[take]
        err = predict_proba(w, Xb) - yb
        grads = np.empty((len(Xb), w.size))
        grads[:, 0] = err
        grads[:, 1:] = err[:, None] * Xb
        if config.clip is not None:
            grads = clip_rows(grads, config.clip)
        g = grads.sum(axis=0)
        if noisy:
            g += rng.normal(0.0, config.noise_multiplier * config.clip, size=g.shape)
        w -= config.learning_rate * (g / denominator + config.l2 * w)
    return w, steps


def fedavg(updates: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted average of partner models (FedAvg), in a fixed order so that the in-process loop
    and the ServerApp agree to the last bit."""
    total = float(sum(weights))
    out = np.zeros_like(np.asarray(updates[0], dtype=np.float64))
    for u, wt in zip(updates, weights, strict=True):
        out += (float(wt) / total) * np.asarray(u, dtype=np.float64)
    return out


def train_federated_propensity(
    partners: Sequence[tuple[np.ndarray, np.ndarray]],
    configs: Sequence[SGDConfig],
    rounds: int,
    *,
    seeds: Sequence[int | None],
    initial: np.ndarray | None = None,
) -> np.ndarray:
    """FedAvg over partners, each running :func:`dp_sgd` locally: the in-process twin of a job.
    A single partner with one round is centralised training."""
    d = partners[0][0].shape[1]
    w = np.zeros(d + 1) if initial is None else np.asarray(initial, dtype=np.float64)
    for r in range(1, rounds + 1):
        new = [dp_sgd(w, X, y, cfg, partner_rng(seed, i, r))[0]
               for i, ((X, y), cfg, seed) in enumerate(zip(partners, configs, seeds, strict=True))]
        w = fedavg(new, [len(X) for X, _ in partners])
    return w


# --- k-means on (noisy) cluster statistics ---------------------------------------------------------


def assign(X: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of each row."""
    d2 = (X * X).sum(axis=1)[:, None] - 2.0 * X @ centroids.T + (centroids * centroids).sum(axis=1)[None, :]
    return np.argmin(d2, axis=1)


def cluster_stats(X: np.ndarray, centroids: np.ndarray, *, clip: float, noise_multiplier: float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster (sums, counts) of one partner's rows, with Gaussian noise when asked.

    One record adds the vector (x, clip * e_j) for its cluster j; with x clipped to ``clip`` that
    vector has L2 norm <= clip * sqrt(2), the sensitivity under adding or removing a record. Noise
    N(0, (z * clip * sqrt(2))^2) on every coordinate is one Gaussian mechanism with noise
    multiplier z; on the counts it is N(0, (z * sqrt(2))^2) once divided by ``clip``."""
    k = len(centroids)
    Xc = clip_rows(X, clip)
    labels = assign(Xc, centroids)
    onehot = np.zeros((len(Xc), k))
    onehot[np.arange(len(Xc)), labels] = 1.0
    sums = onehot.T @ Xc
    counts = onehot.sum(axis=0)
    if noise_multiplier > 0:
        sigma = noise_multiplier * math.sqrt(2.0)
        sums = sums + rng.normal(0.0, sigma * clip, size=sums.shape)
        counts = counts + rng.normal(0.0, sigma, size=counts.shape)
    return sums, counts


def update_centroids(sums: np.ndarray, counts: np.ndarray, previous: np.ndarray, *,
                     min_count: float = 1.0) -> np.ndarray:
    """Lloyd's update on the summed statistics; a cluster whose (noisy) count is below
    ``min_count`` keeps its centroid. Results stay in the unit box (post-processing)."""
    new = np.asarray(previous, dtype=np.float64).copy()
    ok = counts >= min_count
    new[ok] = sums[ok] / counts[ok, None]
    return np.clip(new, 0.0, 1.0)


def initial_centroids(mean: np.ndarray, k: int, spread: float, seed: int) -> np.ndarray:
    """k starting points scattered around the (DP) global mean. The seed is public: the
    coordinator chooses it, and it touches no data."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EED]))
    return np.clip(mean[None, :] + spread * rng.standard_normal((k, mean.size)), 0.0, 1.0)


def train_federated_kmeans(
    partners: Sequence[np.ndarray],
    k: int,
    rounds: int,
    *,
    clip: float,
    noise_multipliers: Sequence[float],
    seeds: Sequence[int | None],
    init_seed: int = 0,
    spread: float = 0.1,
) -> np.ndarray:
    """Round 0 releases one cluster's statistics (the global mean), which seeds the centroids;
    rounds 1..R are Lloyd iterations. The in-process twin of a segments job."""
    d = partners[0].shape[1]
    centroids = np.full((1, d), 0.5)
    for r in range(0, rounds + 1):
        total_s, total_c = np.zeros_like(centroids), np.zeros(len(centroids))
        for i, (X, z, seed) in enumerate(zip(partners, noise_multipliers, seeds, strict=True)):
            s, c = cluster_stats(X, centroids, clip=clip, noise_multiplier=z, rng=partner_rng(seed, i, r))
            total_s += s
            total_c += c
        if r == 0:
            mean = update_centroids(total_s, total_c, centroids)[0]
            centroids = initial_centroids(mean, k, spread, init_seed)
        else:
            centroids = update_centroids(total_s, total_c, centroids)
    return centroids


def inertia(X: np.ndarray, centroids: np.ndarray) -> float:
    """Sum of squared distances to the nearest centroid."""
    labels = assign(X, centroids)
    return float(((X - centroids[labels]) ** 2).sum())
