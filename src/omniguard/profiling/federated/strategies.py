"""Coordinator strategies on Flower's Message API: FedAvg for propensity and the k-means
aggregation for segments, both screening every partner update first (:mod:`.screening`).

They subclass Flower's ``FedAvg`` for node sampling and the round loop (``strategy.start``) and
replace aggregation: the averaging is :func:`omniguard.profiling.models.fedavg` and Lloyd's update,
the very functions the in-process loops use. Each round, rejection and clip is passed to
``on_event`` (the ServerApp writes it to the coordinator's audit log).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg

from omniguard.profiling import models
from omniguard.profiling.federated import screening
from omniguard.profiling.federated.spec import JobSpec

EventSink = Callable[[str, dict[str, Any]], None]


def record_bytes(content: Any) -> int:
    """Payload bytes of a message's records (arrays, metrics, configs)."""
    return int(sum(rec.count_bytes() for rec in content.values()))


class _Screened(FedAvg):
    phase_name = "train"

    def __init__(self, spec: JobSpec, on_event: EventSink):
        super().__init__(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=spec.min_partners,
                         min_available_nodes=spec.min_partners)
        self.spec = spec
        self.on_event = on_event
        self.current: np.ndarray | None = None
        self.bytes_sent = 0
        self.bytes_received = 0
        self.rounds_done = 0
        self.partners: dict[str, dict[str, Any]] = {}  # partner -> rows, privacy it reports

    def phase(self, server_round: int) -> str:
        return self.phase_name

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        self.current = arrays.to_numpy_ndarrays()[0]
        config = ConfigRecord({**config, "phase": self.phase(server_round)})
        messages = list(super().configure_train(server_round, arrays, config, grid))
        self.bytes_sent += sum(record_bytes(m.content) for m in messages)
        return messages

    def _updates(self, server_round: int, replies: Iterable[Message]) -> tuple[list[screening.Update], int]:
        updates, failures = [], 0
        for msg in replies:
            if msg.has_error():
                failures += 1
                self.on_event("failure", {"round": server_round, "node": msg.metadata.src_node_id,
                                          "reason": str(msg.error.reason)[:200]})
                continue
            self.bytes_received += record_bytes(msg.content)
            try:
                info = msg.content["partner"]
                arrays = msg.content["arrays"].to_numpy_ndarrays()
                updates.append(screening.Update(
                    partner=str(info["id"]), arrays=[np.asarray(a, dtype=np.float64) for a in arrays],
                    rows=float(msg.content["metrics"]["num-examples"]),
                    noise_multiplier=float(info.get("noise-multiplier", 0.0))))
                self.partners.setdefault(str(info["id"]), {}).update(
                    {k: info[k] for k in ("epsilon", "delta", "sampling-rate", "steps", "noise-multiplier") if k in info})
            except (KeyError, TypeError, ValueError) as e:
                failures += 1
                self.on_event("rejected", {"round": server_round, "partner": f"node {msg.metadata.src_node_id}",
                                           "reason": f"malformed reply ({type(e).__name__})"})
        return updates, failures

    def _report(self, server_round: int, screened: screening.Screened, failures: int) -> None:
        # Spec order, not arrival order: sums then match the in-process loop bit for bit.
        screened.accepted.sort(key=lambda u: self.spec.partner_index(u.partner))
        for partner, reason in screened.rejected:
            self.on_event("rejected", {"round": server_round, "partner": partner, "reason": reason})
        for partner, reason in screened.clipped:
            self.on_event("clipped", {"round": server_round, "partner": partner, "reason": reason})
        for u in screened.accepted:
            self.partners.setdefault(u.partner, {})["rows"] = int(u.rows)
        self.on_event("round", {"round": server_round, "phase": self.phase(server_round),
                                "accepted": sorted(u.partner for u in screened.accepted),
                                "rejected": len(screened.rejected), "clipped": len(screened.clipped),
                                "failures": failures, "rows": int(sum(u.rows for u in screened.accepted)),
                                "bytes_sent": self.bytes_sent, "bytes_received": self.bytes_received})


class ScreenedFedAvg(_Screened):
    """FedAvg of locally DP-trained logistic regressions, weighted by rows."""

    phase_name = "sgd"

    def aggregate_train(self, server_round: int, replies: Iterable[Message]) -> tuple[ArrayRecord | None, MetricRecord | None]:
        updates, failures = self._updates(server_round, replies)
        screened = screening.screen_propensity(updates, self.current, self.spec)
        self._report(server_round, screened, failures)
        if len(screened.accepted) < self.spec.min_partners:
            return None, None  # the global model stays as it was
        self.rounds_done += 1
        w = models.fedavg([u.arrays[0] for u in screened.accepted], [u.rows for u in screened.accepted])
        return ArrayRecord([w]), MetricRecord({"partners": len(screened.accepted)})


class FederatedKMeans(_Screened):
    """Round 1 sums one cluster (the DP global mean, which seeds the centroids); later rounds are
    Lloyd iterations on the summed per-cluster statistics."""

    def phase(self, server_round: int) -> str:
        return "mean" if server_round == 1 else "lloyd"

    def aggregate_train(self, server_round: int, replies: Iterable[Message]) -> tuple[ArrayRecord | None, MetricRecord | None]:
        updates, failures = self._updates(server_round, replies)
        k = len(self.current)
        screened = screening.screen_kmeans(updates, k, self.spec)
        self._report(server_round, screened, failures)
        if len(screened.accepted) < self.spec.min_partners:
            return None, None
        sums = sum(u.arrays[0] for u in screened.accepted)
        counts = sum(u.arrays[1] for u in screened.accepted)
        new = models.update_centroids(sums, counts, self.current)
        if server_round == 1:
            new = models.initial_centroids(new[0], self.spec.k, self.spec.init_spread, self.spec.init_seed)
        else:
            self.rounds_done += 1
        return ArrayRecord([new]), MetricRecord({"partners": len(screened.accepted)})


def make_strategy(spec: JobSpec, on_event: EventSink) -> tuple[_Screened, np.ndarray, int]:
    """(strategy, initial parameters, Flower rounds) for a spec."""
    if spec.task == "propensity":
        return ScreenedFedAvg(spec, on_event), np.zeros(spec.dimension + 1), spec.rounds
    return FederatedKMeans(spec, on_event), np.full((1, spec.dimension), 0.5), spec.rounds + 1
