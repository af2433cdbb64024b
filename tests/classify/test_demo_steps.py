"""The classification demo steps run on a fresh workspace and leave an inventory record."""

from __future__ import annotations


def test_demo_steps(tmp_path):
    from omniguard.demo import DemoContext
    from omniguard.demo.steps_classify import STEPS
    from omniguard.demo.steps_foundation import create_workspace

    ctx = DemoContext(directory=tmp_path)
    create_workspace(ctx)
    summaries = [s.run(ctx) for s in sorted(STEPS, key=lambda s: s.order)]
    assert summaries[0]["rows"] == 5000
    assert summaries[1]["grade"] == "sensitive" and "reidentification_kit" in summaries[1]["flags"]
    assert summaries[1]["personal_columns"] == 13
    rec = ctx.ws.inventory.get("crm_customers.csv")
    assert next(c for c in rec["columns"] if c["name"] == "member_no")["overridden"]
    assert "<table>" in (tmp_path / "inventory-report.html").read_text(encoding="utf-8")
    ctx.ws.close()
