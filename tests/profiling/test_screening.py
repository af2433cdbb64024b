"""Hostile or broken partner updates do not corrupt the model, and every rejection is reported."""

from __future__ import annotations

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Message, MessageType, MetricRecord, RecordDict
from profiling_helpers import spec_text

from omniguard.profiling import models
from omniguard.profiling.federated import screening
from omniguard.profiling.federated.spec import parse_spec
from omniguard.profiling.federated.strategies import FederatedKMeans, ScreenedFedAvg

SPEC = parse_spec(spec_text(partners=("a", "b", "c", "d"), extra="min_partners = 2\nmax_rows_per_partner = 5000\n"))
D = SPEC.dimension + 1


def _honest(seed):
    rng = np.random.default_rng(seed)
    X, y = rng.random((400, SPEC.dimension)), (rng.random(400) < 0.2).astype(float)
    cfg = models.SGDConfig(epochs=1, batch_size=64, clip=SPEC.clip, noise_multiplier=1.0)
    return models.dp_sgd(np.zeros(D), X, y, cfg, rng)[0]


def _reply(partner, arrays, rows=400.0, z=1.0):
    ask = Message(RecordDict({"config": ConfigRecord({})}), dst_node_id=hash(partner) % 1000,
                  message_type=MessageType.TRAIN)
    content = RecordDict({"arrays": ArrayRecord([np.asarray(a) for a in arrays]),
                          "metrics": MetricRecord({"num-examples": rows}),
                          "partner": ConfigRecord({"id": partner, "noise-multiplier": z})})
    return Message(content, reply_to=ask)


def test_honest_updates_pass_unchanged_and_hostile_ones_are_rejected():
    honest = [_honest(1), _honest(2)]
    updates = [screening.Update("a", [honest[0]], 400, 1.0), screening.Update("b", [honest[1]], 400, 1.0),
               screening.Update("c", [np.full(D, np.nan)], 400, 1.0), screening.Update("d", [np.ones(3)], 400, 1.0),
               screening.Update("a", [honest[0]], 400, 1.0), screening.Update("mallory", [honest[0]], 400, 1.0)]
    out = screening.screen_propensity(updates, np.zeros(D), SPEC)
    assert [u.partner for u in out.accepted] == ["a", "b"]
    assert all(np.array_equal(u.arrays[0], h) for u, h in zip(out.accepted, honest, strict=True))
    reasons = dict(out.rejected[:2])
    assert reasons == {"c": "NaN or infinite values", "d": "arrays of the wrong shape"}
    assert [r for _, r in out.rejected[2:]] == ["a second update from the same partner in one round",
                                                "not a partner of this job"]
    huge = screening.screen_propensity([screening.Update("c", [np.full(D, 1e9)], 400, 1.0),
                                        screening.Update("d", [np.full(D, 1.0)], 1e12, 1.0)], np.zeros(D), SPEC)
    assert not huge.accepted and "honest bound" in huge.rejected[0][1] and "row count" in huge.rejected[1][1]


def test_a_hostile_partner_is_clipped_or_rejected_in_the_fedavg_strategy(task_identity):
    events = []
    strategy = ScreenedFedAvg(SPEC, lambda kind, info: events.append((kind, info)))
    strategy.current = np.zeros(D)
    honest = [_honest(1), _honest(2), _honest(3)]
    bound = screening.update_norm_bound(SPEC, 400, 1.0, 0.0)
    sneaky = np.full(D, 2.0 * bound / np.sqrt(D))  # twice the honest bound: clipped, not rejected
    replies = [_reply("a", [honest[0]]), _reply("b", [honest[1]]), _reply("c", [honest[2]]),
               _reply("d", [sneaky])]
    arrays, _ = strategy.aggregate_train(1, replies)
    w = arrays.to_numpy_ndarrays()[0]
    assert np.isfinite(w).all()
    clean = models.fedavg(honest, [400] * 3)
    # the clipped partner moves the average by at most a quarter of the honest bound
    assert np.linalg.norm(w - clean) <= bound / 4 + np.linalg.norm(clean) / 4 + 1e-9
    assert [k for k, _ in events] == ["clipped", "round"] and events[-1][1]["accepted"] == ["a", "b", "c", "d"]
    events.clear()
    arrays, _ = strategy.aggregate_train(2, [_reply("a", [honest[0]]), _reply("b", [np.full(D, np.inf)]),
                                             _reply("c", [honest[2]]), _reply("d", [np.full(D, 1e6)])])
    assert np.allclose(arrays.to_numpy_ndarrays()[0], models.fedavg([honest[0], honest[2]], [400, 400]))
    assert [k for k, _ in events] == ["rejected", "rejected", "round"]


def test_too_few_honest_partners_leave_the_model_unchanged(task_identity):
    strategy = ScreenedFedAvg(SPEC, lambda *_: None)
    strategy.current = np.zeros(D)
    arrays, _ = strategy.aggregate_train(1, [_reply("a", [_honest(1)]), _reply("b", [np.full(D, np.nan)])])
    assert arrays is None and strategy.rounds_done == 0


def test_kmeans_statistics_cannot_drag_centroids_out_of_the_box(task_identity):
    spec = parse_spec(spec_text(task="segments", partners=("a", "b", "c"),
                                extra="max_rows_per_partner = 1000\n"))
    rng = np.random.default_rng(0)
    centroids = rng.random((spec.k, spec.dimension))
    X = rng.random((300, spec.dimension))
    honest = models.cluster_stats(X, centroids, clip=spec.clip, noise_multiplier=0.0, rng=rng)
    events = []
    strategy = FederatedKMeans(spec, lambda kind, info: events.append(kind))
    strategy.current = centroids
    hostile = (np.full_like(honest[0], 1e9), np.full_like(honest[1], 1e9))
    arrays, _ = strategy.aggregate_train(2, [_reply("a", honest, z=0.0), _reply("b", honest, z=0.0),
                                             _reply("c", hostile, z=0.0)])
    new = arrays.to_numpy_ndarrays()[0]
    assert ((new >= 0) & (new <= 1)).all()
    assert events == ["clipped", "round"]
    shape = strategy.aggregate_train(3, [_reply("a", honest, z=0.0), _reply("b", [honest[0][:2], honest[1]], z=0.0)])
    assert shape == (None, None)
