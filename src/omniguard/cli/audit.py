"""`omniguard audit log|verify|checkpoint|report|public-key`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from omniguard.cli.common import common_options, console, emit, progress, state, table
from omniguard.errors import InputError, VerificationFailed


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log: query, verify, checkpoint, report."""


def _filters(f):
    for opt in reversed([
        click.option("--actor", help="Only this actor."),
        click.option("--action", help="Only this action; a trailing * matches a prefix (consent.*)."),
        click.option("--purpose", help="Only this purpose."),
        click.option("--dataset", "--resource", "dataset", help="Only this dataset."),
        click.option("--decision", type=click.Choice(["allow", "deny", "partial", "info", "error"])),
        click.option("--since", metavar="TIME", help="From this UTC time (ISO 8601, e.g. 2026-11-01)."),
        click.option("--until", metavar="TIME", help="Before this UTC time."),
    ]):
        f = opt(f)
    return f


def _time(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    import datetime as dt

    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--{name}: expected an ISO 8601 time such as 2026-11-01 or 2026-11-01T08:00:00Z") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    from omniguard.config import iso_utc

    return iso_utc(t)


@audit_group.command("log")
@_filters
@click.option("--limit", type=click.IntRange(min=1), help="At most this many events (the newest with --tail).")
@click.option("--tail", is_flag=True, help="Newest events first.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Export the matching events as JSON lines to this file.")
@common_options
def log_cmd(actor, action, purpose, dataset, decision, since, until, limit, tail, output) -> None:
    """Show or export audit events matching the filters."""
    ws = state().open_workspace()
    q = dict(actor=actor, action=action, purpose=purpose, dataset=dataset, decision=decision,
             since=_time(since, "since"), until=_time(until, "until"), limit=limit, descending=tail)
    events = ws.audit.query(**q)
    if output:
        from omniguard.fileio import atomic_open

        n = 0
        with atomic_open(output, "w") as f:
            for ev in events:
                f.write(json.dumps(ev, ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
        ws.audit.record("audit.export", rows=n, details={"filters": {k: v for k, v in q.items() if v}})
        emit({"exported": n, "file": output}, lambda d: console.print(f"exported {d['exported']} events to {d['file']}"))
        return
    rows = list(events)
    emit(rows, lambda evs: table(
        ["seq", "time (UTC)", "actor", "role", "action", "purpose", "dataset", "rows", "subjects", "decision"],
        [[e["seq"], e["ts"][:19], e["actor"], e.get("role"), e["action"], e.get("purpose"),
          e.get("resource", {}).get("dataset"), e.get("rows"), e.get("subjects"), e["decision"]] for e in evs]))


@audit_group.command("verify")
@click.option("--checkpoint", "checkpoints", multiple=True, type=click.Path(dir_okay=False),
              help="A checkpoint file kept outside the database (repeatable).")
@click.option("--public-key", metavar="HEX|FILE", help="Trust this SM2 public key instead of the workspace's own.")
@click.option("--all-signatures", is_flag=True, help="Verify the signature of every stored checkpoint, not just the newest.")
@common_options
def verify_cmd(checkpoints, public_key, all_signatures) -> None:
    """Verify the hash chain and checkpoints. Exit 1 naming the first damage."""
    from omniguard.audit import Checkpoint, verify_log

    ws = state().open_workspace()
    kept = [Checkpoint.load(p) for p in checkpoints]
    trusted = _public_key(public_key) if public_key else ws.signer.public_key
    head_seq, _ = ws.audit.head()
    with progress(head_seq, "verifying") as update:
        rep = verify_log(ws.store, workspace_id=ws.config.workspace_id, public_key=trusted, external=kept,
                         all_signatures=all_signatures, progress=update)
    data = rep.to_dict()
    ws.audit.record("audit.verify", decision="allow" if rep.ok else "deny",
                    reason="" if rep.ok else f"{rep.first.kind} at seq {rep.first.seq}",
                    details={"events": rep.events, "checkpoints": rep.checkpoints_checked})

    def human(d: dict) -> None:
        if d["ok"]:
            console.print(f"[bold green]intact[/]: {d['events']} events (last seq {d['last_seq']}), "
                          f"{d['checkpoints_checked']} checkpoints, {d['signatures_checked']} signatures checked "
                          f"in {d['seconds']} s")
            for w in d["warnings"]:
                console.print(f"  note: {w}")
        else:
            table(["seq", "damage", "detail"], [[x["seq"], x["kind"], x["detail"]] for x in d["damage"]],
                  title="audit log damage")

    emit(data, human)
    if not rep.ok:
        first = rep.first
        raise VerificationFailed(f"audit log damaged: {first.kind} at seq {first.seq} ({first.detail})")


def _public_key(value: str) -> bytes:
    text = Path(value).read_text(encoding="ascii").strip() if Path(value).is_file() else value.strip()
    text = text.removeprefix("sm2:")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise InputError("--public-key: expected 130 hex digits (04 || x || y) or a file holding them") from None
    if len(key) != 65 or key[0] != 4:
        raise InputError("--public-key: expected 130 hex digits (04 || x || y) or a file holding them")
    return key


@audit_group.command("checkpoint")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Export the signed checkpoint to this file.")
@common_options
def checkpoint_cmd(output) -> None:
    """Sign the current head of the log (SM2); export it for an auditor to keep."""
    ws = state().open_workspace()
    cp = ws.checkpoint()
    if output:
        cp.save(output)
    ws.audit.record("audit.checkpoint", decision="info", details={"seq": cp.seq, "exported": bool(output)})
    emit(cp.to_dict(), lambda d: console.print(
        f"checkpoint at seq {d['seq']} hash {d['hash'][:16]}… signed by {d['key_fingerprint']}"
        + (f", saved to {output}" if output else "")))


@audit_group.command("report")
@_filters
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="HTML file to write.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Report language.")
@common_options
def report_cmd(actor, action, purpose, dataset, decision, since, until, output, lang) -> None:
    """HTML report: accesses per day, who accessed what for which purpose, denials, decrypts."""
    from omniguard.audit.report import render_html, summarise
    from omniguard.fileio import atomic_write_text

    ws = state().open_workspace()
    summary = summarise(ws.audit.query(actor=actor, action=action, purpose=purpose, dataset=dataset,
                                       decision=decision, since=_time(since, "since"), until=_time(until, "until")))
    rep = ws.verify()
    atomic_write_text(output, render_html(summary, verify=rep.to_dict(), lang=lang))
    ws.audit.record("audit.report", rows=summary["events"], details={"file": Path(output).name})
    emit({"events": summary["events"], "file": output, "chain_ok": rep.ok},
         lambda d: console.print(f"report of {d['events']} events written to {d['file']}"))


@audit_group.command("public-key")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the key to this file.")
@common_options
def public_key_cmd(output) -> None:
    """The SM2 public key that verifies this workspace's checkpoints (for auditors)."""
    from omniguard.crypto.sm2 import public_key_fingerprint

    ws = state().open_workspace()
    key = ws.signer.public_key
    if output:
        from omniguard.fileio import atomic_write_text

        atomic_write_text(output, f"sm2:{key.hex()}\n")
    emit({"public_key": key.hex(), "fingerprint": public_key_fingerprint(key)},
         lambda d: console.print(f"sm2:{d['public_key']}  (fingerprint {d['fingerprint']})"))


COMMANDS = [audit_group]
