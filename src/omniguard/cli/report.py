"""`omniguard report`: the compliance officer's report (HTML, Chinese or English; JSON)."""

from __future__ import annotations

from pathlib import Path

import click

from omniguard.cli.common import common_options, console, emit, state
from omniguard.errors import InputError


@click.command("report")
@click.option("-o", "--output", required=True, metavar="FILE.html", help="HTML file to write.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Report language.")
@click.option("--since", metavar="DATE", help="Start of the period (UTC date; default: 12 months back, from the 1st).")
@common_options
def report_cmd(output, lang, since) -> None:
    """Consent coverage and withdrawals over time, accesses and denials, grades, privacy budget,
    compliance checks and impact assessments, on one page."""
    from omniguard.compliance.report import build
    from omniguard.compliance.report_render import render
    from omniguard.fileio import atomic_write_text

    path = Path(output)
    if path.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{path.name}: the report is written as .html")
    if path.is_dir():
        raise InputError(f"{path.name}: is a folder")
    ws = state().open_workspace()
    data = build(ws, since=since)
    atomic_write_text(path, render(data, lang))

    def human(d):
        console.print(f"compliance report ({lang}) written to {d['file']}: {d['access']['total']} accesses, "
                      f"{d['denials']['total']} denials since {d['since'][:10]}; failing rules: "
                      f"{', '.join(d['checks']['failed']) or 'none'}")

    emit({**data, "file": str(path), "lang": lang}, human)


COMMANDS = [report_cmd]
