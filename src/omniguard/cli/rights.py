"""`omniguard rights export|erase|correct|open|reject|list`: data-subject requests (PIPL Art. 44-47)."""

from __future__ import annotations

import json
import sys

import click

from omniguard.cli.common import common_options, console, emit, state, table
from omniguard.errors import InputError, VerificationFailed


@click.group("rights")
def rights_group() -> None:
    """Data-subject requests: access/portability, correction, erasure, and their due dates."""


def _request_id(_ctx: click.Context, _p: click.Parameter, value: str | None) -> str | None:
    """Checked while parsing, so `--request --yes` (a forgotten id) is named as such rather than
    taken for a missing confirmation."""
    from omniguard.consent.rights import check_request_id

    return None if value is None else check_request_id(value)


def _request_options(f):
    f = click.option("--received", metavar="TIME", help="When the request arrived (default now); sets the due date.")(f)
    f = click.option("--request", "request_id", metavar="ID", callback=_request_id,
                     help="Complete this open request.")(f)
    f = click.option("--dataset", "datasets", multiple=True, metavar="PATH:COLUMN",
                     help="A dataset holding the subject, and its subject id column (repeatable).")(f)
    return f


def _done(d: dict) -> None:
    r = d["request"]
    console.print(f"request {r['request_id']} ({r['kind']}) {r['status']}; due {r['due']}"
                  + (" [bold red](late)[/]" if r["late"] else ""))


@rights_group.command("export")
@click.argument("subject")
@_request_options
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the JSON document here.")
@click.option("--role", default="dpo", show_default=True,
              help="Role that decrypts the person's encrypted cells for their copy (needs decrypt: true).")
@common_options
def export_cmd(subject, datasets, request_id, received, output, role) -> None:
    """Everything held about SUBJECT as JSON (access and portability, PIPL Article 45); encrypted cells are
    decrypted for the person's copy when the role may decrypt."""
    ws = state().open_workspace()
    doc = ws.rights.export(subject, datasets=datasets, request_id=request_id, received=received, role=role)
    text = json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n"
    if output:
        from omniguard.fileio import atomic_write_text

        atomic_write_text(output, text)
        emit({"file": output, "request": doc["request"], "events": len(doc["consent"]["history"]),
              "datasets": {x["dataset"]: len(x["rows"]) for x in doc["datasets"]}},
             lambda d: (_done(d), console.print(f"export written to {d['file']}")))
    else:
        click.echo(text, nl=False)


@rights_group.command("erase")
@click.argument("subject")
@_request_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@common_options
def erase_cmd(subject, datasets, request_id, received, yes) -> None:
    """Erase SUBJECT (PIPL Article 47): delete consent records and dataset rows, shred their key, leave a tombstone."""
    if not yes:
        if not sys.stdin.isatty():
            raise InputError("erasure cannot be undone: add --yes to confirm")
        click.confirm(f"Erase every record of this subject{' and their rows in ' + ', '.join(datasets) if datasets else ''}?",
                      abort=True)
    ws = state().open_workspace()
    res = ws.rights.erase(subject, datasets=datasets, request_id=request_id, received=received)

    def human(d):
        _done(d)
        console.print(f"deleted: {', '.join(f'{k} {v}' for k, v in d['deleted'].items())}")
        for name, n in d["datasets"].items():
            console.print(f"  {name}: {n} rows removed")
        shred = {True: "subject key destroyed", False: "no subject key to destroy", None: "no keyring"}
        console.print(f"crypto-shredding: {shred[d['key_shredded']]}; tombstone recorded")

    emit(res, human)


@rights_group.command("correct")
@click.argument("subject")
@_request_options
@click.option("--birth-date", metavar="YYYY-MM-DD", help="The correct birth date (decides who was under 14).")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help="Set a field of the subject's rows "
              "in the --dataset files (repeatable).")
@common_options
def correct_cmd(subject, datasets, request_id, received, birth_date, sets) -> None:
    """Correct what is held about SUBJECT (PIPL Article 46)."""
    values = {}
    for s in sets:
        field, sep, value = s.partition("=")
        if not sep or not field.strip():
            raise InputError("--set: expected FIELD=VALUE")
        values[field.strip()] = value
    ws = state().open_workspace()
    res = ws.rights.correct(subject, birth_date=birth_date, datasets=datasets, values=values,
                            request_id=request_id, received=received)
    emit(res, lambda d: (_done(d), [console.print(f"  {k}: {v} rows corrected") for k, v in d["datasets"].items()]))


@rights_group.command("open")
@click.argument("kind", type=click.Choice(["access", "erase", "correct"]))
@click.argument("subject")
@click.option("--received", metavar="TIME", help="When the request arrived (default now).")
@click.option("--note", help="A note for whoever completes it (no personal data).")
@common_options
def open_cmd(kind, subject, received, note) -> None:
    """Log a request to complete later (e.g. once identity is verified)."""
    ws = state().open_workspace()
    req = ws.rights.open(kind, subject, received=received, note=note)
    emit(req.to_dict(), lambda d: console.print(f"opened request {d['request_id']} ({d['kind']}), due {d['due']}"))


@rights_group.command("reject")
@click.argument("request_id", callback=_request_id)
@click.option("--reason", required=True, help="Why (kept with the request).")
@common_options
def reject_cmd(request_id, reason) -> None:
    """Close a request without acting on it."""
    ws = state().open_workspace()
    req = ws.rights.reject(request_id, reason)
    emit(req.to_dict(), lambda d: console.print(f"request {d['request_id']} rejected"))


@rights_group.command("list")
@click.option("--overdue", is_flag=True, help="Only open requests past their due date (exit 1 if any).")
@click.option("--status", type=click.Choice(["open", "completed", "rejected"]))
@click.option("--kind", type=click.Choice(["access", "erase", "correct"]))
@common_options
def list_cmd(overdue, status, kind) -> None:
    """Rights requests with status and due date."""
    ws = state().open_workspace()
    reqs = [r.to_dict() for r in ws.rights.list(status=status, kind=kind, overdue=overdue)]
    emit(reqs, lambda rs: table(
        ["request", "kind", "status", "received (UTC)", "due", "closed (UTC)", "overdue", "late"],
        [[r["request_id"], r["kind"], r["status"], r["received_at"][:16], r["due"], (r["closed_at"] or "")[:16],
          "yes" if r["overdue"] else "", "yes" if r["late"] else ""] for r in rs], title="rights requests"))
    if overdue and reqs:
        raise VerificationFailed(f"{len(reqs)} rights request{'s' if len(reqs) != 1 else ''} overdue")


COMMANDS = [rights_group]
