"""A differentially private segment report: the retailer publishes customers, spend and
conversion per shared segment, with OpenDP, inside its privacy budget."""

from __future__ import annotations

from typing import Any

from omniguard.demo import DemoContext, Step


def segment_report(ctx: DemoContext) -> dict[str, Any]:
    import pandas as pd

    from omniguard.fileio import atomic_write_text
    from omniguard.profiling.dp.release import Bounded, release_segments, render_html
    from omniguard.tabular import read_table

    customers = read_table(ctx.data["retailer_data"])
    segments = pd.read_csv(ctx.data["retailer_segments"], dtype={"member_id": str})
    frame = customers.merge(segments, on="member_id", how="inner")  # consenting, scored customers
    dataset = ctx.data["retailer_data"].name
    release = release_segments(
        ctx.ws, frame, by=["segment"], epsilon=1.0, dataset=dataset, count=True,
        means=[Bounded("monetary_90d", 0, 5000), Bounded("bought_new", 0, 1)],
        public_keys=[str(k) for k in range(5)], purpose="joint_profiling", shown="retailer customers")
    path = ctx.directory / "dp-segment-report.html"
    atomic_write_text(path, render_html(release, "Retailer: customers, spend and conversion per shared segment"))
    ctx.reports["DP segment report"] = str(path)
    ctx.data["dp_dataset"] = dataset
    t = release.table
    return {"segments": len(t), "epsilon": release.epsilon, "delta": release.delta, "unit": "customer",
            "counts": t["count"].astype(int).tolist(), "budget_left": round(release.remaining_epsilon, 3),
            "report": str(path)}


def over_budget(ctx: DemoContext) -> dict[str, Any]:
    import pandas as pd

    from omniguard.errors import AccessDenied
    from omniguard.profiling.dp.release import release_segments

    frame = pd.read_csv(ctx.data["retailer_segments"], dtype=str)
    try:
        release_segments(ctx.ws, frame, by=["segment"], epsilon=50.0, dataset=ctx.data["dp_dataset"],
                         public_keys=[str(k) for k in range(5)])
    except AccessDenied as e:
        return {"refused": e.message}
    raise AssertionError("an over-budget release was not refused")


STEPS = [
    Step(600, "DP segment report with OpenDP: counts, mean spend and conversion per segment (ε = 1)", segment_report),
    Step(610, "The budget ledger refuses a release that would overspend the dataset's budget", over_budget),
]
