"""`omniguard consent grant|withdraw|opt-out|opt-in|show|check|import|export|stats|notices|receipt|verify-receipt`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape

from omniguard.cli.common import common_options, console, emit, progress, state, table
from omniguard.errors import InputError, VerificationFailed


@click.group("consent")
def consent_group() -> None:
    """Consent registry (PIPL Articles 13-17, 23-31): record consent acts, check them, import, export, report."""


def _receipt_out(ws, rec, receipt_file: str | None, sign: bool) -> dict:
    data = rec.to_dict()
    if receipt_file and rec.receipt is not None:
        from omniguard.fileio import atomic_write_text

        atomic_write_text(receipt_file, json.dumps(rec.receipt, ensure_ascii=False, indent=2) + "\n")
        data["receipt_file"] = receipt_file
    if not state().json:
        data.pop("receipt", None)
    return data


def _recorded(d: dict) -> None:
    console.print(f"recorded {d['action']} of [bold]{d['purpose']}[/] as event {d['event_id']} at {d['ts']}"
                  + (f"; receipt written to {d['receipt_file']}" if d.get("receipt_file") else ""))


@consent_group.command("grant")
@click.argument("subject")
@click.argument("purpose")
@click.option("--notice", required=True, metavar="ID@VERSION", help="The notice the person was shown.")
@click.option("--separate", is_flag=True, help="Separate consent (单独同意): a distinct act for this purpose alone.")
@click.option("--channel", default="cli", show_default=True, help="Where consent was collected (app, mini-program, "
              "web, store, call-centre, paper, ...).")
@click.option("--guardian", metavar="REF", help="Reference of the parent or guardian who consented (under 14s).")
@click.option("--birth-date", metavar="YYYY-MM-DD", help="The person's birth date, when known.")
@click.option("--age", type=int, help="The person's age now, when the birth date is not known.")
@click.option("--evidence", metavar="JSON", help='What was shown and how it was accepted, e.g. {"screen":"...","accepted":"tap"}.')
@click.option("--expires", metavar="TIME", help="End of consent (default: the retention the notice states).")
@click.option("--at", metavar="TIME", help="When consent was given, if not now (naive times are Beijing time).")
@click.option("--readmit-erased", is_flag=True, help="Accept new consent from a subject erased before.")
@click.option("--receipt", "receipt_file", type=click.Path(dir_okay=False), help="Write the consent receipt here.")
@click.option("--sign", is_flag=True, help="Sign the receipt with the workspace SM2 key.")
@common_options
def grant_cmd(subject, purpose, notice, separate, channel, guardian, birth_date, age, evidence, expires, at,
              readmit_erased, receipt_file, sign) -> None:
    """Record that SUBJECT consented to PURPOSE."""
    ws = state().open_workspace()
    rec = ws.consent.grant(subject, purpose, notice=notice, separate=separate, channel=channel, guardian=guardian,
                           birth_date=birth_date, age=age, evidence=evidence, expires_at=expires, at=at,
                           readmit_erased=readmit_erased, sign=sign)
    emit(_receipt_out(ws, rec, receipt_file, sign), _recorded)


@consent_group.command("withdraw")
@click.argument("subject")
@click.argument("purpose")
@click.option("--channel", default="cli", show_default=True, help="Where the withdrawal was received.")
@click.option("--evidence", metavar="JSON", help="How the withdrawal was made.")
@click.option("--at", metavar="TIME", help="When consent was withdrawn, if not now.")
@click.option("--receipt", "receipt_file", type=click.Path(dir_okay=False), help="Write the receipt here.")
@click.option("--sign", is_flag=True, help="Sign the receipt with the workspace SM2 key.")
@common_options
def withdraw_cmd(subject, purpose, channel, evidence, at, receipt_file, sign) -> None:
    """Record that SUBJECT withdrew consent to PURPOSE (effective for every check from now)."""
    ws = state().open_workspace()
    rec = ws.consent.withdraw(subject, purpose, channel=channel, evidence=evidence, at=at, sign=sign)
    emit(_receipt_out(ws, rec, receipt_file, sign), _recorded)


def _opt(name: str, method: str, doc: str):
    @consent_group.command(name, help=doc)
    @click.argument("subject")
    @click.argument("purpose")
    @click.option("--channel", default="cli", show_default=True)
    @click.option("--at", metavar="TIME")
    @common_options
    def cmd(subject, purpose, channel, at) -> None:
        ws = state().open_workspace()
        rec = getattr(ws.consent, method)(subject, purpose, channel=channel, at=at)
        emit(rec.to_dict(), _recorded)

    return cmd


_opt("opt-out", "opt_out", "SUBJECT refuses personalised marketing / automated decisions for PURPOSE (PIPL Article 24).")
_opt("opt-in", "opt_in", "SUBJECT lifts an earlier opt-out of PURPOSE.")


@consent_group.command("show")
@click.argument("subject")
@click.option("--purpose", help="Only this purpose.")
@common_options
def show_cmd(subject, purpose) -> None:
    """SUBJECT's decision per purpose (with reasons) and consent history."""
    ws = state().open_workspace()
    purposes = [ws.policy.purpose(purpose).id] if purpose else sorted(ws.policy.purposes)
    decisions = [ws.consent.checker.explain(subject, p).to_dict() for p in purposes]
    history = ws.consent.history(subject, purpose)
    ws.audit.record("consent.show", subjects=subject, purpose=purpose, decision="info",
                    details={"events": len(history)})
    data = {"subject_id": subject, "decisions": decisions, "history": history}

    def human(d):
        table(["purpose", "allowed", "reason", "notice", "since"],
              [[x["purpose"], "yes" if x["allowed"] else "no", x["code"], x["notice"],
                (x["event"] or {}).get("ts", "")[:19]] for x in d["decisions"]], title=f"consent of {subject}")
        table(["time (UTC)", "purpose", "action", "notice", "separate", "channel", "event"],
              [[e["ts"][:19], e["purpose"], e["action"],
                f"{e['notice_id']}@{e['notice_version']}" if e["notice_id"] else "", e["separate"], e["channel"],
                e["event_id"]] for e in d["history"]], title="history")

    emit(data, human)


@consent_group.command("check")
@click.argument("purpose")
@click.option("--subject", help="One subject: exit 0 if allowed, 1 if not, with the reason.")
@click.option("--subjects", "subjects_file", type=click.Path(dir_okay=False), help="A file of ids, one a line.")
@click.option("--at", metavar="TIME", help="Check as of this time instead of now.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="With --subjects: write the allowed ids here.")
@common_options
def check_cmd(purpose, subject, subjects_file, at, output) -> None:
    """May PURPOSE use the data of --subject S (or of every id in --subjects FILE)?"""
    if bool(subject) == bool(subjects_file):
        raise InputError("give exactly one of --subject S or --subjects FILE")
    ws = state().open_workspace()
    if subject:
        d = ws.consent.explain(subject, purpose, at=at)
        emit(d.to_dict(), lambda x: console.print(
            f"{'[bold green]allowed[/]' if x['allowed'] else '[bold red]not allowed[/]'}: {x['reason']}"))
        if not d.allowed:
            click.get_current_context().exit(1)
        return
    ids = _read_ids(Path(subjects_file))
    with progress(None, "checking"):
        mask = ws.consent.allowed(ids, purpose, at=at)
    allowed = [i for i, ok in zip(ids, mask.tolist(), strict=True) if ok]
    if output:
        from omniguard.fileio import atomic_write_text

        atomic_write_text(output, "".join(f"{i}\n" for i in allowed))
    data = {"purpose": purpose, "checked": len(ids), "allowed_count": len(allowed),
            **({"file": output} if output else {"allowed": allowed})}

    def human(d):
        if output:
            console.print(f"{d['allowed_count']} of {d['checked']} allowed; ids written to {output}")
        else:
            click.echo("\n".join(d["allowed"]))

    emit(data, human)


def _read_ids(path: Path) -> list[str]:
    from omniguard.tabular import detect_encoding

    try:
        raw = path.read_bytes()
    except OSError:
        raise InputError(f"{path.name}: cannot read the file") from None
    try:
        text = raw.decode(detect_encoding(raw))
    except InputError as e:
        raise InputError(f"{path.name}: {e.message}") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


@consent_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--map", "maps", multiple=True, metavar="SOURCE=FIELD", help="Map a column to a field (repeatable), "
              "e.g. --map 会员编号=subject_id.")
@click.option("--mapping", type=click.Path(dir_okay=False), help="A YAML/JSON file of SOURCE: FIELD pairs.")
@click.option("--channel", default="import", show_default=True, help="Channel for lines that name none.")
@click.option("--encoding", type=click.Choice(["utf-8", "utf-8-sig", "gb18030", "gbk"]), help="Skip detection.")
@click.option("--readmit-erased", is_flag=True, help="Accept new consent from subjects erased before.")
@click.option("--dry-run", is_flag=True, help="Check every line; write nothing.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False), help="Write the full report (JSON) here.")
@common_options
def import_cmd(file, maps, mapping, channel, encoding, readmit_erased, dry_run, report_file) -> None:
    """Import consent events from CSV or JSON lines; all or nothing per file."""
    from omniguard.consent.importer import ImportRejected
    from omniguard.fileio import atomic_write_text

    ws = state().open_workspace()
    columns = _mapping(maps, mapping)
    try:
        with progress(3, "importing") as update:
            rep = ws.consent.import_file(file, mapping=columns, default_channel=channel, encoding=encoding,
                                         readmit_erased=readmit_erased, dry_run=dry_run, progress=update)
    except ImportRejected as e:
        if report_file:
            atomic_write_text(report_file, json.dumps(e.report.to_dict(), ensure_ascii=False, indent=2) + "\n")
        if state().json:
            click.echo(json.dumps(e.report.to_dict(limit=1000), ensure_ascii=False, indent=2))
        else:
            for line in e.report.lines()[:20]:
                click.echo(line, err=True)
            if len(e.report.rejected) > 20:
                click.echo(f"... {len(e.report.rejected) - 20} more problems"
                           + (f" in {report_file}" if report_file else " (use --report FILE)"), err=True)
        raise
    if report_file:
        atomic_write_text(report_file, json.dumps(rep.to_dict(), ensure_ascii=False, indent=2) + "\n")
    emit(rep.to_dict(), lambda d: console.print(
        f"{'checked' if d['dry_run'] else 'imported'} {d['rows'] if d['dry_run'] else d['imported']} events "
        f"({', '.join(f'{k} {v}' for k, v in d['by_action'].items())}) of {d['subjects']} subjects from {escape(d['file'])} "
        f"\\[{d['encoding']}] in {d['seconds']} s"
        + (f"; ignored columns: {', '.join(d['ignored_columns'])}" if d["ignored_columns"] else "")))


def _mapping(maps: tuple[str, ...], mapping_file: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if mapping_file:
        import yaml

        try:
            data = yaml.safe_load(Path(mapping_file).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            raise InputError(f"{Path(mapping_file).name}: not a readable YAML/JSON mapping") from None
        if not isinstance(data, dict):
            raise InputError(f"{Path(mapping_file).name}: expected SOURCE: FIELD pairs")
        out.update({str(k): str(v) for k, v in data.items()})
    for m in maps:
        src, sep, dst = m.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise InputError("--map: expected SOURCE=FIELD, e.g. --map 会员编号=subject_id")
        out[src.strip()] = dst.strip()
    return out


@consent_group.command("export")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help=".csv, .jsonl or .parquet")
@click.option("--history", is_flag=True, help="Export the event history instead of the current state.")
@click.option("--purpose", help="Only this purpose.")
@click.option("--action", type=click.Choice(["grant", "withdraw", "expire", "opt_out", "opt_in"]), help="History: only this act.")
@click.option("--since", metavar="TIME", help="History: from this time.")
@click.option("--until", metavar="TIME", help="History: before this time.")
@common_options
def export_cmd(output, history, purpose, action, since, until) -> None:
    """Export current state (with the reason each row is allowed or not) or the history."""
    from omniguard.consent import reports
    from omniguard.consent.model import to_utc

    ws = state().open_workspace()
    res = reports.export(ws, output, history=history, purpose=purpose, action=action,
                         since=to_utc(since, what="--since") if since else None,
                         until=to_utc(until, what="--until") if until else None)
    emit(res, lambda d: console.print(f"exported {d['rows']} {d['what']} rows ({d['subjects']} subjects) to {d['file']}"))


@consent_group.command("stats")
@click.option("--purpose", help="Only this purpose.")
@click.option("--since", metavar="TIME", help="Acts per month from this time.")
@common_options
def stats_cmd(purpose, since) -> None:
    """Coverage per purpose, why the rest are refused, stale consents, withdrawals over time."""
    from omniguard.consent import reports
    from omniguard.consent.model import to_utc

    ws = state().open_workspace()
    data = reports.stats(ws, purpose=purpose, since=to_utc(since, what="--since") if since else None)

    def human(d):
        table(["purpose", "basis", "separate", "with records", "allowed", "coverage", "stale", "other refusals"],
              [[p["purpose"], p["legal_basis"], "yes" if p["separate_consent"] else "", p["subjects_with_records"],
                p["allowed"] if p["allowed"] is not None else "n/a",
                f"{p['coverage']:.1%}" if p["coverage"] is not None else "", p["stale"],
                ", ".join(f"{k} {v}" for k, v in p["reasons"].items() if k not in ("ok", "stale", "not_required"))]
               for p in d["purposes"]], title=f"consent coverage of {d['known_subjects']} known subjects")
        if d["withdrawals_over_time"]:
            table(["month", "purpose", "act", "events"],
                  [[r["month"], r["purpose"], r["action"], r["events"]] for r in d["withdrawals_over_time"]],
                  title="withdrawals, expiries and opt-outs per month")

    emit(data, human)


@consent_group.command("notices")
@common_options
def notices_cmd() -> None:
    """Notice versions, their purposes, and which purposes each version changed (making consent stale)."""
    from omniguard.consent.notices import notice_table

    ws = state().open_workspace()
    rows = notice_table(ws.policy)
    emit(rows, lambda rs: table(["notice", "published", "purposes", "changed (consent under older versions stale)"],
                                [[r["notice"], r["published"], ", ".join(r["purposes"]),
                                  "; ".join(f"{p}: {', '.join(c)}" for p, c in r["changed"].items())] for r in rs]))


@consent_group.command("receipt")
@click.argument("event_id")
@click.option("--sign", is_flag=True, help="Sign with the workspace SM2 key (the issued receipt is kept).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the receipt here.")
@common_options
def receipt_cmd(event_id, sign, output) -> None:
    """The consent receipt (Kantara CR v1.1 / ISO/IEC TS 27560) of a grant or withdrawal event."""
    ws = state().open_workspace()
    doc = ws.consent.receipt(event_id, sign=sign)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if output:
        from omniguard.fileio import atomic_write_text

        atomic_write_text(output, text)
        emit({"file": output, "signed": sign}, lambda d: console.print(f"receipt written to {d['file']}"))
    else:
        click.echo(text, nl=False)


@consent_group.command("verify-receipt")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--public-key", metavar="HEX|FILE", help="The controller's SM2 public key (default: this workspace's, "
              "else the key inside the receipt).")
@common_options
def verify_receipt_cmd(file, public_key) -> None:
    """Verify a signed consent receipt offline. Exit 1 if the signature does not verify."""
    from omniguard.cli.audit import _public_key
    from omniguard.consent import receipts

    try:
        doc = json.loads(Path(file).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise InputError(f"{Path(file).name}: not a readable JSON receipt") from None
    key = _public_key(public_key) if public_key else _workspace_key()
    ok, fingerprint = receipts.verify(doc, key)
    data = {"file": file, "valid": ok, "key_fingerprint": fingerprint, "trusted_key": key is not None}
    emit(data, lambda d: console.print(
        ("[bold green]valid[/]" if d["valid"] else "[bold red]INVALID[/]") + f" under key {d['key_fingerprint']}"
        + ("" if d["trusted_key"] else " (the key inside the receipt: compare it with the controller's published key)")))
    if not ok:
        raise VerificationFailed(f"{Path(file).name}: the receipt signature does not verify")


def _workspace_key() -> bytes | None:
    from omniguard.errors import WorkspaceNotFound

    try:
        return state().open_workspace().signer.public_key
    except WorkspaceNotFound:
        return None


@consent_group.command("expire-due")
@common_options
def expire_due_cmd() -> None:
    """Record an expire event for every consent whose term has ended."""
    ws = state().open_workspace()
    n = ws.consent.expire_due()
    emit({"expired": n}, lambda d: console.print(f"{d['expired']} consents expired"))


COMMANDS = [consent_group]
