"""`omniguard pia create|list|show|verify|purge|questions`: personal-information impact assessments."""

from __future__ import annotations

from pathlib import Path

import click

from omniguard.cli.common import common_options, console, emit, state, table
from omniguard.errors import InputError, VerificationFailed


@click.group("pia")
def pia_group() -> None:
    """Personal-information impact assessments (PIPL Articles 55-56), kept at least 3 years, signed."""


def _html_target(output: str | None) -> Path | None:
    if output is None:
        return None
    path = Path(output)
    if path.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{path.name}: the assessment page is written as .html")
    if path.is_dir():
        raise InputError(f"{path.name}: is a folder")
    return path


def _write_html(rec, path: Path | None, lang: str) -> None:
    if path is None:
        return
    from omniguard.compliance.pia_render import render
    from omniguard.fileio import atomic_write_text

    atomic_write_text(path, render(rec, lang))


def _human(d: dict) -> None:
    table(["assessment", "status", "created (UTC)", "kept until", "open questions", "risks high/medium/low"],
          [[d["id"], d["status"], d["created_at"][:19], d["retain_until"][:10], d["open_questions"],
            "/".join(str(d["risks"][k]) for k in ("high", "medium", "low"))]])
    doc = d.get("assessment")
    if doc:
        risks = [[r["level"], r["article"], r["en"]] for r in doc["risks"]]
        if risks:
            table(["level", "article", "residual risk"], risks, title="residual risks")
        if doc["open"]:
            console.print("open questions (answer them in an answers file, see `omniguard pia questions`): "
                          + ", ".join(doc["open"]))
    if d.get("file"):
        console.print(f"assessment page written to {d['file']}")


@pia_group.command("create")
@click.option("--purpose", metavar="P", help="Assess this purpose of the policy pack.")
@click.option("--job", "job", metavar="FILE", type=click.Path(dir_okay=False), help="Assess this federated job spec.")
@click.option("--answers", metavar="FILE", type=click.Path(dir_okay=False),
              help="YAML answers of the officer (question keys: `omniguard pia questions`).")
@click.option("-o", "--output", metavar="FILE.html", help="Also write the assessment page.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Page language.")
@click.option("--retain-years", type=click.IntRange(min=3), default=3, show_default=True,
              help="Keep the record at least this long (PIPL Art. 56: 3 years or more).")
@common_options
def create_cmd(purpose, job, answers, output, lang, retain_years) -> None:
    """Assess a purpose or a federated job from what the workspace knows, plus the officer's answers."""
    from omniguard.compliance import pia
    from omniguard.compliance.pia_questions import load_answers

    if (purpose is None) == (job is None):
        raise InputError("give --purpose P or --job FILE (one of them)")
    target = _html_target(output)
    given = load_answers(answers) if answers else None
    ws = state().open_workspace()
    rec = pia.create(ws, purpose=purpose, job=job, answers=given, retain_years=retain_years)
    _write_html(rec, target, lang)
    emit({**rec.to_dict(), "file": str(target) if target else None}, _human)


@pia_group.command("list")
@click.option("--purpose", metavar="P", help="Only assessments of this purpose.")
@click.option("--job", metavar="JOB", help="Only assessments of this job id.")
@common_options
def list_cmd(purpose, job) -> None:
    """Every assessment kept in this workspace, oldest version first."""
    from omniguard.compliance import pia

    if purpose and job:
        raise InputError("give --purpose or --job, not both")
    ws = state().open_workspace()
    kind, subject = ("purpose", purpose) if purpose else ("job", job) if job else (None, None)
    rows = [r.summary() for r in pia.list_records(ws, kind=kind, subject=subject)]
    emit(rows, lambda d: table(["assessment", "status", "created (UTC)", "by", "kept until", "open"],
                               [[r["id"], r["status"], r["created_at"][:19], r["created_by"], r["retain_until"][:10],
                                 r["open_questions"]] for r in d], title="impact assessments"))


@pia_group.command("show")
@click.argument("ref", metavar="ID")
@click.option("-o", "--output", metavar="FILE.html", help="Write the assessment page.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Page language.")
@common_options
def show_cmd(ref, output, lang) -> None:
    """Show one assessment (ID: purpose:P@vN or job:J@vN; without @vN the latest)."""
    from omniguard.compliance import pia

    target = _html_target(output)
    ws = state().open_workspace()
    rec = pia.show(ws, ref)
    _write_html(rec, target, lang)
    emit({**rec.to_dict(), "file": str(target) if target else None}, _human)


@pia_group.command("verify")
@click.argument("ref", metavar="ID", required=False)
@click.option("--all", "all_", is_flag=True, help="Every record, and none missing from what the audit log recorded.")
@common_options
def verify_cmd(ref, all_) -> None:
    """Check an assessment's content hash and SM2 signature (exit 1 when it does not verify)."""
    from omniguard.compliance import pia

    if bool(ref) == all_:
        raise InputError("give an assessment ID or --all")
    ws = state().open_workspace()
    res = pia.verify_all(ws) if all_ else pia.verify_ref(ws, ref)

    def human(d):
        rows = d.get("records", [d])
        table(["assessment", "verified", "problems"], [[r["id"], "yes" if r["ok"] else "NO", "; ".join(r["problems"])]
                                                       for r in rows])
        for key in ("missing", "not_in_audit_log"):
            if d.get(key):
                console.print(f"{key.replace('_', ' ')}: {', '.join(d[key])}")

    emit(res, human)
    if not res["ok"]:
        raise VerificationFailed("impact assessment verification failed")


@pia_group.command("purge")
@click.option("--dry-run", is_flag=True, help="Only list what would go.")
@common_options
def purge_cmd(dry_run) -> None:
    """Delete assessments whose retention ended; the store refuses any other deletion."""
    from omniguard.compliance import pia

    ws = state().open_workspace()
    ids = pia.purge_expired(ws, dry_run=dry_run)
    emit({"purged" if not dry_run else "would_purge": ids},
         lambda d: console.print(f"{'would purge' if dry_run else 'purged'} {len(ids)} assessment(s) "
                                 f"past their retention{': ' + ', '.join(ids) if ids else ''}"))


@pia_group.command("questions")
@common_options
def questions_cmd() -> None:
    """The question keys an answers file may use, and when each one is required."""
    from omniguard.compliance.pia_questions import QUESTIONS

    emit([{"key": q.key, "article": q.article, "required": q.applies_when, "en": q.en, "zh": q.zh}
          for q in QUESTIONS],
         lambda d: table(["key", "article", "required", "question"],
                         [[q["key"], q["article"], q["required"], q["en"]] for q in d]))


COMMANDS = [pia_group]
