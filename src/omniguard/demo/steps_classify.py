"""Classification: a retailer's customer table (Faker zh_CN plus look-alike decoys) is scanned,
graded and saved to the inventory; a person confirms one column; an HTML report is written."""

from __future__ import annotations

from typing import Any

from omniguard.demo import DemoContext, Step

DEMO_ROWS = 5_000


def generate_table(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.synth.retail import generate_customers

    path = ctx.directory / "crm_customers.csv"
    df = generate_customers(DEMO_ROWS, seed=ctx.seed)
    df.to_csv(path, index=False)
    ctx.data["customers_path"] = path
    ctx.data["customers_dataset"] = "crm_customers.csv"
    return {"file": str(path), "rows": len(df), "columns": df.shape[1], "decoy_columns": 11}


def scan_and_save(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.classify.report import render_html
    from omniguard.classify.scan import scan_source
    from omniguard.fileio import atomic_write_text

    rec = scan_source(ctx.ws, str(ctx.data["customers_path"]), save=True,
                      dataset=ctx.data["customers_dataset"])
    # the DPO confirms that member numbers are internal business data, not an online identifier
    rec = ctx.ws.inventory.set_override(rec["dataset"], "member_no", "internal_business", actor="demo-dpo@retailer")
    path = ctx.directory / "inventory-report.html"
    atomic_write_text(path, render_html([rec], title="omniguard demo: data inventory"))
    ctx.reports["inventory report"] = str(path)
    personal = [c for c in rec["columns"] if c["personal"]]
    return {"dataset": rec["dataset"], "grade": rec["grade"], "personal_columns": len(personal),
            "sensitive_columns": sum(c["grade"] in ("sensitive", "highly_sensitive") for c in personal),
            "flags": [k for k, v in rec["flags"].items() if v is True], "report": str(path)}


STEPS = [
    Step(200, "Generate a retailer customer table (Faker zh_CN, 14 personal columns, 11 decoys)", generate_table),
    Step(210, "Scan, grade and save it to the inventory; confirm a column; write the inventory report",
         scan_and_save),
]
