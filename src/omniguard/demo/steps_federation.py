"""Joint profiling between a brand and a retailer: a federated segmentation job in Flower's
simulation engine, with record-level DP at each partner, then local scoring.

Each party has its own workspace (policy, consent, budget, audit log); the brand coordinates and
also takes part. Raw rows never leave a workspace: only noisy per-segment sums and counts do.
"""

from __future__ import annotations

from typing import Any

from omniguard.demo import DemoContext, Step
from omniguard.profiling import datasets

PURPOSE = "joint_profiling"
PARTNERS = ("brand", "retailer")


def _spec(key: str, features: str) -> str:
    return f"""# A federated segmentation job between a brand and a retailer (omniguard job spec, format 1)
[job]
id = "spring-segments"
task = "segments"
purpose = "{PURPOSE}"
subject_column = "member_id"
rounds = 4
description = "Shared RFM and category-mix segments, without pooling customer data"

[coordinator]
name = "brand"
public_key = "{key}"

[[partners]]
id = "brand"
[[partners]]
id = "retailer"

{features}
[segments]
k = 5

[privacy]
epsilon = 3.0
delta = 1e-5

[aggregation]
share_metrics = true
"""


def partners_and_data(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.workspace import Workspace

    ctx.data["brand_ws"] = Workspace.init(ctx.directory / "brand", actor="demo-dpo@brand")
    frames = datasets.retail_customers(datasets.RetailPlan(partners=2, customers=2000, seed=ctx.seed))
    out = {}
    for name, frame in zip(PARTNERS, frames, strict=True):
        ws = ctx.data["brand_ws"] if name == "brand" else ctx.ws
        path = ctx.directory / f"{name}-customers.csv"
        frame.drop(columns=["segment"]).to_csv(path, index=False)
        ids = frame["member_id"].tolist()
        consenting = ids[: int(len(ids) * 0.9)]  # one in ten never gave separate consent
        datasets.record_consent(ws, consenting, PURPOSE, "grant")
        datasets.record_consent(ws, consenting[:25], PURPOSE, "withdraw")  # some changed their mind
        ws.ledger.set_budget(path.name, 8.0, 1e-4)
        ctx.data[f"{name}_data"] = path
        out[name] = {"customers": len(ids), "consenting": len(consenting) - 25}
    ctx.data["retailer_consenting"] = out["retailer"]["consenting"]
    return out


def plan_job(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.profiling.federated.partner import check_policy, plan_privacy
    from omniguard.profiling.federated.spec import load_spec

    brand = ctx.data["brand_ws"]
    features = "".join(f'[[features]]\ncolumn = "{c}"\ncategory = "transaction"\nlower = {lo}\nupper = {hi}\n\n'
                       for c, (lo, hi) in datasets.RETAIL_FEATURES.items())
    path = ctx.directory / "spring-segments.toml"
    path.write_text(_spec("sm2:" + brand.signer.public_key.hex(), features), encoding="utf-8")
    spec = load_spec(path)
    check_policy(ctx.ws, spec)  # the retailer's own policy allows it
    _, _, _, g = plan_privacy(spec, ctx.data["retailer_consenting"])
    ctx.data["spec"] = path
    return {"spec": str(path), "retailer_policy": "allowed", "planned": g.line()}


def refused_spec(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.errors import AccessDenied
    from omniguard.profiling.federated.partner import check_policy
    from omniguard.profiling.federated.spec import parse_spec

    text = ctx.data["spec"].read_text(encoding="utf-8").replace(
        '[segments]', '[[features]]\ncolumn = "payment_pin_hash"\ncategory = "authentication"\nlower = 0\nupper = 1\n\n'
        '[segments]')
    try:
        check_policy(ctx.ws, parse_spec(text, "greedy.toml"))
    except AccessDenied as e:
        return {"refused": e.message}
    raise AssertionError("a highly sensitive feature was not refused")


def run_job(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.profiling.federated.simulation import Site, simulate

    sites = [Site(name, str((ctx.data["brand_ws"] if name == "brand" else ctx.ws).root),
                  str(ctx.data[f"{name}_data"])) for name in PARTNERS]
    report = simulate(ctx.data["brand_ws"], ctx.data["spec"], sites)
    ctx.reports["federated job report"] = report["files"]["html"]
    ctx.data["job_report"] = report
    return {"rounds": report["rounds"], "rows": {p["id"]: p["rows"] for p in report["partners"]},
            "epsilon": report["privacy"]["epsilon"], "delta": report["privacy"]["delta"],
            "unit": "customer", "wall_seconds": report["wall_seconds"], "report": report["files"]["html"]}


def score_locally(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.profiling.federated.scoring import score_customers

    model = ctx.ws.root / "federation" / "spring-segments" / "partner" / "model.json"
    out = ctx.directory / "retailer-segments.csv"
    summary = score_customers(ctx.ws, model, ctx.data["retailer_data"], subject_column="member_id", output=out)
    ctx.data["retailer_segments"] = out
    return {"scored": summary["rows"], "segment_sizes": summary["segment_sizes"], "file": str(out)}


STEPS = [
    Step(500, "Brand and retailer: separate workspaces, customers, separate consent to joint profiling",
         partners_and_data),
    Step(510, "Plan a federated segmentation job; the retailer's policy and the privacy budget allow it", plan_job),
    Step(520, "A spec asking for a highly sensitive feature is refused by the retailer", refused_spec),
    Step(530, "Run the job in Flower's simulation engine (DP noise at each partner, signed model)", run_job),
    Step(540, "The retailer verifies the model and scores its own consenting customers", score_locally),
]
