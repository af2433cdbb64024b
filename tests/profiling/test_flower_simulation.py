"""A whole job in Flower's simulation engine (Ray): the Flower apps give the same model as the
in-process loop for the same seeds and no noise, and every party audits its steps."""

from __future__ import annotations

import json

import numpy as np
import pytest
from profiling_helpers import withdraw, write_spec

from omniguard.profiling import models
from omniguard.profiling.federated.model import verify_model
from omniguard.profiling.federated.partner import load_partner_data, sgd_config
from omniguard.profiling.federated.simulation import Site, simulate
from omniguard.profiling.federated.spec import load_spec

pytestmark = [pytest.mark.federation]


def test_simulated_job_matches_the_in_process_loop(partner_factory, small_frames, tmp_path):
    coordinator, _ = partner_factory("coordinator", small_frames[2].iloc[:5], consent=False, budget=None)
    sites = []
    for name, frame in zip(("brand", "retailer"), small_frames[:2], strict=True):
        ws, data = partner_factory(name, frame)
        withdraw(ws, frame["member_id"].iloc[:7])
        sites.append((name, ws, data))
    # Poisson-sampled minibatches drawn from each partner's own seed (tests only: real partners use
    # OS entropy, so that the coordinator never knows their noise), and no DP noise.
    spec_path = write_spec(tmp_path, rounds=2, privacy='mode = "none"',
                           extra="\n[propensity]\nbatch_size = 32\nlocal_epochs = 2\nlearning_rate = 1.0\n")
    seeds = [11, 12]
    report = simulate(coordinator, spec_path, [Site(n, str(ws.root), str(d), seed=s)
                                               for (n, ws, d), s in zip(sites, seeds, strict=True)], allow_no_dp=True)
    assert report["rounds"] == 2 and [p["rows"] for p in report["partners"]] == [293, 293]
    assert all(p["received_model"] and 0 <= p["metrics"]["auc"] <= 1 for p in report["partners"])
    assert report["bytes_sent"] > 0 and report["bytes_received"] > 0 and report["privacy"]["mode"] == "none"

    spec = load_spec(spec_path)
    doc = json.loads((coordinator.root / "federation" / spec.job_id / "coordinator" / "model.json").read_text())
    flower = np.asarray(verify_model(doc, coordinator.signer.public_key)["weights"])
    data = [load_partner_data(ws, spec, d, dataset=d.name) for _, ws, d in sites]
    local = models.train_federated_propensity([(p.X, p.y) for p in data], [sgd_config(spec, 0.0)] * 2, 2,
                                              seeds=seeds)
    other = models.train_federated_propensity([(p.X, p.y) for p in data], [sgd_config(spec, 0.0)] * 2, 2,
                                              seeds=[11, 13])
    assert not np.allclose(flower, other)  # the seeds matter, so the equality below is not luck
    assert np.allclose(flower, local, rtol=0, atol=1e-12)

    for _name, ws, _ in sites:
        received = json.loads((ws.root / "federation" / spec.job_id / "partner" / "model.json").read_text())
        assert received == doc
        actions = [e["action"] for e in ws.audit.query(action="federation.*")]
        assert actions.count("federation.round") == 2 and "federation.model_received" in actions
        assert actions[actions.index("federation.job_approved") - 1] == "federation.data_loaded"
        approved = next(ws.audit.query(action="federation.job_approved"))
        assert approved["decision"] == "partial" and "no differential privacy" in approved["reason"]
        assert ws.ledger.entries() == []  # nothing to charge without DP; the approval says so
    coord = [e["action"] for e in coordinator.audit.query(action="federation.*")]
    assert coord[:3] == ["federation.job_created", "federation.job_started", "federation.partners_online"]
    assert coord.count("federation.round") == 2 and coord[-2:] == ["federation.job_finished", "federation.report"]
    html = (coordinator.root / "federation" / spec.job_id / "coordinator" / "report.html").read_text()
    assert "no differential privacy" in html and "brand" in html
