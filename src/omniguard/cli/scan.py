"""`omniguard scan FILE... [--sample N] [--save] [--set col=category] [--report FILE.html]`."""

from __future__ import annotations

import click

from omniguard.cli.common import common_options, console, emit, progress, state, table


@click.command("scan")
@click.argument("sources", nargs=-1, required=True, metavar="FILE...")
@click.option("--sample", type=click.IntRange(min=1, max=10_000), default=100, show_default=True,
              help="Distinct values analysed per column (at most; 30 when the first 30 already settle it).")
@click.option("--save", is_flag=True, help="Store the result in the workspace inventory.")
@click.option("--set", "sets", multiple=True, metavar="COL=CATEGORY",
              help="Confirm or correct a column's category (saved; survives re-scans). Repeatable.")
@click.option("--name", "dataset", metavar="NAME", help="Inventory name of the dataset (one source only).")
@click.option("--no-name-hints", is_flag=True, help="Ignore column names (judge by values only).")
@click.option("--report", "report", type=click.Path(dir_okay=False), metavar="FILE.html",
              help="Write an HTML report of the scanned datasets.")
@common_options
def scan_cmd(sources, sample, save, sets, dataset, no_name_hints, report) -> None:
    """Classify the columns of CSV / Parquet / JSONL files or SQL tables (URL#table) and grade them.

    Each column gets an entity (e.g. CN_MOBILE), a category and a grade from the policy pack, with
    confidence, prevalence and evidence (shapes and counts, never values)."""
    from omniguard.classify.scan import parse_overrides, scan_source
    from omniguard.errors import InputError

    if dataset and len(sources) > 1:
        raise InputError("--name names one dataset; give one source with it")
    overrides = parse_overrides(sets)
    ws = state().open_workspace()
    records = []
    for spec in sources:
        with progress(None, f"scanning {spec}") as update:
            records.append(scan_source(ws, spec, sample=sample, save=save, overrides=overrides,
                                       name_hints=not no_name_hints, dataset=dataset, progress=update,
                                       strict_overrides=len(sources) == 1))
    applied = {c for r in records for c in r.get("overrides_applied", [])}
    missing = sorted(set(overrides) - applied)
    if missing:
        raise InputError(f"--set {missing[0]}: no scanned source has that column (other results were saved)")
    if report:
        from omniguard.classify.report import render_html
        from omniguard.fileio import atomic_write_text

        atomic_write_text(report, render_html(records))
    emit({"datasets": records, "report": report}, _human)


def _human(data: dict) -> None:
    for rec in data["datasets"]:
        flags = [k for k, v in rec["flags"].items() if v is True]
        table(["column", "entity", "category", "grade", "conf", "prev", "evidence"],
              [[c["name"], c["entity"] or "-", (c["category"] or "-") + (" (set)" if c.get("overridden") else ""),
                c["grade"], f"{c['confidence']:.2f}", f"{c['prevalence']:.2f}", (c["evidence"] or [""])[0]]
               for c in rec["columns"]],
              title=f"{rec['dataset']}: {rec['rows']:,} rows, grade {rec['grade']}"
                    + (f", flags: {', '.join(flags)}" if flags else "") + (" [saved]" if rec.get("saved") else ""))
    if data.get("report"):
        console.print(f"report written to {data['report']}")


COMMANDS = [scan_cmd]
