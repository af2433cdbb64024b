"""`omniguard check`: run the PIPL compliance rules; exit 1 when any rule fails."""

from __future__ import annotations

import click

from omniguard.cli.common import common_options, console, emit, state, table
from omniguard.errors import VerificationFailed


@click.command("check")
@click.option("--rule", "only", multiple=True, metavar="ID", help="Run only this rule (repeatable).")
@click.option("--list", "list_rules", is_flag=True, help="List the rules and the articles they enforce.")
@click.option("--since-days", type=click.IntRange(min=1), default=90, show_default=True,
              help="How far back the audit-log rules look.")
@click.option("--timezone", default="Asia/Shanghai", show_default=True, help="Local time for working-hours rules.")
@click.option("--bulk-rows", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="An export of at least this many rows is a bulk export.")
@common_options
def check_cmd(only, list_rules, since_days, timezone, bulk_rows) -> None:
    """Run the compliance rules over the policy pack, inventory, consent registry and audit log."""
    from omniguard.compliance.checks import all_rules, run_checks

    if list_rules:
        rules = all_rules()
        emit([{"rule": r.id, "article": r.article, "title": r.title, "title_zh": r.title_zh}
              for r in sorted(rules.values(), key=lambda r: r.id)],
             lambda d: table(["rule", "article", "checks that"], [[x["rule"], x["article"], x["title"]] for x in d]))
        return
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        from omniguard.errors import InputError

        raise InputError(f"--timezone: unknown time zone {timezone!r}") from None
    ws = state().open_workspace()
    results = run_checks(ws, only=list(only) or None, since_days=since_days, timezone=timezone,
                         bulk_export_rows=bulk_rows)
    data = {"ok": all(r.status != "fail" for r in results), "results": [r.to_dict() for r in results]}

    def human(d):
        table(["rule", "article", "status", "findings"],
              [[r["rule"], r["article"], r["status"], len(r["findings"])] for r in d["results"]], title="compliance checks")
        rows = [[f["severity"], f["article"], f["target"], f["message"]] for r in d["results"] for f in r["findings"]]
        if rows:
            table(["severity", "article", "about", "finding"], rows, title="findings")
        console.print("[bold green]all rules pass[/]" if d["ok"] else "[bold red]some rules fail[/]")

    emit(data, human)
    failed = [r for r in results if r.status == "fail"]
    if failed:
        raise VerificationFailed(f"{len(failed)} compliance rule(s) failed: {', '.join(r.rule for r in failed)}")


COMMANDS = [check_cmd]
