"""The federation demo steps up to the job itself (the simulated job is covered by
test_flower_simulation.py; `make demo` runs the rest)."""

from __future__ import annotations

from omniguard.demo import DemoContext
from omniguard.demo.steps_federation import STEPS


def test_partners_plan_and_refusal(tmp_path):
    from omniguard.workspace import Workspace

    ctx = DemoContext(directory=tmp_path)
    ctx.ws = Workspace.init(tmp_path / "retailer", actor="demo-dpo@retailer")
    steps = {s.order: s for s in STEPS}
    made = steps[500].run(ctx)
    assert made["retailer"] == {"customers": 2000, "consenting": 1775}
    planned = steps[510].run(ctx)
    assert planned["retailer_policy"] == "allowed" and "per customer" in planned["planned"]
    assert "authentication" in steps[520].run(ctx)["refused"]
    assert int(ctx.ws.consent.allowed(["P1-0000000", "P1-0001999"], "joint_profiling", record=False).sum()) == 0
    assert ctx.ws.consent.allowed(["P1-0000100"], "joint_profiling", record=False).all()
    ctx.data["brand_ws"].close()
    ctx.ws.close()
