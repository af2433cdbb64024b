"""The guard: a protected export of the customer table for personalised marketing, and denials."""

from __future__ import annotations

from typing import Any

from omniguard.demo import DemoContext, Step
from omniguard.errors import AccessDenied


def marketing_export(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.tabular import read_table, write_table

    df = read_table(ctx.data["customers_path"])
    members = ctx.data["consent_members"]
    df.insert(0, "member_id", [members[i % len(members)] for i in range(len(df))])
    res = ctx.ws.guard.run(df, purpose="personalised_marketing", actor="crm-campaign@retailer", role="marketing",
                           subject_column="member_id", dataset=ctx.data["customers_dataset"])
    path = ctx.directory / "marketing_export.csv"
    write_table(res.frame, path)
    ctx.data["marketing_export"] = path
    ops: dict[str, int] = {}
    for op in res.operators.values():
        ops[op] = ops.get(op, 0) + 1
    return {"rows": f"{res.rows_out} of {res.rows_in} (others lack valid consent)",
            "columns_released": len(res.columns_out), "columns_dropped": len(res.dropped_columns),
            "protection": ops, "file": str(path)}


def denials(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.tabular import read_table

    df = read_table(ctx.data["customers_path"]).head(100)
    out = {}
    for label, kw in (("analyst asks for joint profiling", {"purpose": "joint_profiling", "role": "analyst"}),
                      ("DPO asks for the cross-border purpose", {"purpose": "cross_border_service", "role": "dpo"})):
        try:
            ctx.ws.guard(df, actor="demo@retailer", dataset=ctx.data["customers_dataset"], **kw)
            out[label] = "allowed (unexpected)"
        except AccessDenied as e:
            out[label] = e.message.removeprefix("access denied: ")
    return out


STEPS = [
    Step(400, "The guard: release the customer table for personalised marketing (consent rows, minimum "
              "necessary columns, protection by grade and role, one audit event)", marketing_export),
    Step(410, "The guard refuses: a role outside its purposes, a cross-border purpose with no assessment", denials),
]
