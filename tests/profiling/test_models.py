"""The numpy training loops and metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from omniguard.profiling import datasets, metrics, models


def _data(n=400, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    w = np.array([-1.0, 2.0, -1.5, 1.0, 0.5, -0.5])[: d + 1]
    y = (rng.random(n) < models.predict_proba(w, X)).astype(float)
    return X, y


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(1, 6)),
              elements=st.floats(-1e6, 1e6, allow_nan=False)), st.floats(0.01, 100))
def test_clip_rows_bounds_every_norm_and_keeps_short_rows(X, c):
    out = models.clip_rows(X, c)
    norms = np.linalg.norm(out, axis=1)
    assert (norms <= c * (1 + 1e-9)).all()
    short = np.linalg.norm(X, axis=1) <= c
    assert np.allclose(out[short], X[short])


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 20), st.just(3)), elements=st.floats(-1e3, 1e3, allow_nan=False)))
def test_scale_to_box_lands_in_unit_box(X):
    out = models.scale_to_box(X, [-10, 0, 5], [10, 1, 6])
    assert ((out >= 0) & (out <= 1)).all()


def test_dp_sgd_is_deterministic_for_a_seed_and_noise_changes_it():
    X, y = _data()
    cfg = models.SGDConfig(epochs=2, batch_size=32, clip=1.0, noise_multiplier=0.0)
    a, steps = models.dp_sgd(np.zeros(6), X, y, cfg, models.partner_rng(5, 0, 1))
    b, _ = models.dp_sgd(np.zeros(6), X, y, cfg, models.partner_rng(5, 0, 1))
    assert steps == math.ceil(2 / (32 / 400))
    assert np.array_equal(a, b)
    noisy, _ = models.dp_sgd(np.zeros(6), X, y, models.SGDConfig(epochs=2, batch_size=32, clip=1.0,
                                                                  noise_multiplier=1.0), models.partner_rng(5, 0, 1))
    assert not np.allclose(a, noisy)


def test_dp_sgd_learns_the_planted_direction():
    X, y = _data(n=3000)
    w, _ = models.dp_sgd(np.zeros(6), X, y, models.SGDConfig(epochs=5, batch_size=64, learning_rate=1.0, clip=None),
                         models.partner_rng(1, 0, 1))
    truth = np.array([-1.0, 2.0, -1.5, 1.0, 0.5, -0.5])
    assert metrics.roc_auc(y, models.predict_proba(w, X)) > metrics.roc_auc(y, models.predict_proba(truth, X)) - 0.01
    assert np.linalg.norm(w - truth) < 0.5


def test_clipping_bounds_one_records_influence():
    """With clipping, changing one record moves one step by at most lr * 2C / (q n) (no noise)."""
    X, y = _data(n=200)
    cfg = models.SGDConfig(epochs=1, batch_size=200, learning_rate=1.0, l2=0.0, clip=0.05)
    a, _ = models.dp_sgd(np.zeros(6), X, y, cfg, models.partner_rng(1, 0, 1), steps=1)
    X2 = X.copy()
    X2[0] = 1e6
    b, _ = models.dp_sgd(np.zeros(6), X2, y, cfg, models.partner_rng(1, 0, 1), steps=1)
    assert np.linalg.norm(a - b) <= 2 * 0.05 / 200 + 1e-12


def test_one_partner_fedavg_is_central_training_and_fedavg_weights_by_rows():
    X, y = _data()
    cfg = models.SGDConfig(epochs=1, batch_size=50, clip=None)
    fed = models.train_federated_propensity([(X, y)], [cfg], 3, seeds=[4])
    w = np.zeros(6)
    for r in (1, 2, 3):
        w, _ = models.dp_sgd(w, X, y, cfg, models.partner_rng(4, 0, r))
    assert np.array_equal(fed, w)
    assert np.allclose(models.fedavg([np.ones(2), np.zeros(2)], [3, 1]), [0.75, 0.75])


def test_federated_kmeans_without_noise_equals_pooled_lloyd():
    frames = datasets.retail_customers(datasets.RetailPlan(partners=3, customers=400, seed=3))
    lo = np.array([b[0] for b in datasets.RETAIL_FEATURES.values()])
    hi = np.array([b[1] for b in datasets.RETAIL_FEATURES.values()])
    parts = [models.scale_to_box(f[list(datasets.RETAIL_FEATURES)].to_numpy(float), lo, hi) for f in frames]
    clip = math.sqrt(parts[0].shape[1])
    fed = models.train_federated_kmeans(parts, 5, 6, clip=clip, noise_multipliers=[0] * 3, seeds=[1, 2, 3])
    pooled = models.train_federated_kmeans([np.vstack(parts)], 5, 6, clip=clip, noise_multipliers=[0], seeds=[1])
    assert np.allclose(fed, pooled, atol=1e-12)
    noisy = models.train_federated_kmeans(parts, 5, 6, clip=clip, noise_multipliers=[3] * 3, seeds=[1, 2, 3])
    labels = models.assign(np.vstack(parts), pooled)
    assert metrics.adjusted_rand_index(labels, models.assign(np.vstack(parts), noisy)) < 1.0


def test_cluster_stats_noise_has_the_stated_scale():
    X = np.random.default_rng(0).random((50, 4))
    rng = np.random.default_rng(1)
    draws = [models.cluster_stats(X, X[:2], clip=2.0, noise_multiplier=1.5, rng=rng) for _ in range(400)]
    exact = models.cluster_stats(X, X[:2], clip=2.0, noise_multiplier=0.0, rng=rng)
    count_noise = np.array([d[1] - exact[1] for d in draws]).ravel()
    sum_noise = np.array([d[0] - exact[0] for d in draws]).ravel()
    assert count_noise.std() == pytest.approx(1.5 * math.sqrt(2), rel=0.1)
    assert sum_noise.std() == pytest.approx(1.5 * math.sqrt(2) * 2.0, rel=0.1)


def test_metrics_agree_with_scikit_learn():
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.random(500) + 0.3 * y, 2)  # ties on purpose
    assert metrics.roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    a, b = rng.integers(0, 4, 300), rng.integers(0, 5, 300)
    assert metrics.adjusted_rand_index(a, b) == pytest.approx(skm.adjusted_rand_score(a, b), abs=1e-12)
    assert metrics.adjusted_rand_index(a, (a + 1) % 4) == 1.0
    order = np.argsort(-s, kind="stable")[:100]
    assert metrics.top_share_conversion(y, s, 0.2) == pytest.approx(y[order].mean())
