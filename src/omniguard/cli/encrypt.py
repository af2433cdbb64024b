"""`omniguard encrypt|decrypt|reencrypt FILE -o OUT`: SM4-GCM field encryption of table files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from omniguard.cli.common import common_options, console, emit, progress, state
from omniguard.errors import InputError

_out = click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
                    help="File to write (CSV, Parquet or JSON lines by suffix), atomically.")
_dataset = click.option("--dataset", metavar="NAME",
                        help="Dataset name the cells are bound to (default: the input file's name).")


def _columns_at_grade(ws: Any, df: Any, dataset: str, grade: str, scan_report: str | None,
                      scanned_as: str | None = None) -> list[str]:
    """Columns graded at least ``grade``: from a scan report (`omniguard scan --json`), or from the
    workspace inventory when the classification component provides ``column_grades(dataset)``."""
    from omniguard.policy.models import Grade

    grades: dict[str, str] = {}
    if scan_report:
        try:
            doc = json.loads(Path(scan_report).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError(f"--scan-report {Path(scan_report).name}: not a readable JSON file") from None
        files = doc.get("datasets", doc.get("files", [doc])) if isinstance(doc, dict) else doc
        entries = [f for f in files if isinstance(f, dict) and isinstance(f.get("columns"), list)]
        named = [f for f in entries if Path(str(f.get("file", f.get("dataset", "")))).name == dataset]
        chosen = named or (entries if len(entries) == 1 else [])
        if not chosen:
            raise InputError(f"--scan-report: no scan of {dataset} in it")
        grades = {str(c["name"]): str(c.get("grade") or "public") for c in chosen[0]["columns"] if "name" in c}
    else:
        try:
            lookup = getattr(ws.inventory, "column_grades", None)
        except (ImportError, AttributeError):
            lookup = None
        found = None
        for name in dict.fromkeys(n for n in (dataset, scanned_as) if n):  # `scan` names a file by its path
            found = found or (lookup(name) if lookup else None)
        if not found:
            raise InputError(f"--grade: no saved scan of {dataset} in the inventory",
                             hint="run `omniguard scan FILE --json > scan.json` and pass --scan-report scan.json, "
                                  "or name the columns with --columns")
        grades = {str(k): str(v) for k, v in found.items()}
    try:
        floor = Grade(grade)
        return [c for c in map(str, df.columns) if c in grades and Grade(grades[c]) >= floor]
    except ValueError:
        raise InputError("--scan-report: unknown grade in the scan") from None


@click.command("encrypt")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--columns", metavar="C1,C2", help="Columns to encrypt.")
@click.option("--grade", type=click.Choice(["internal", "sensitive", "highly_sensitive"]),
              help="Encrypt every column graded at least this (from the inventory or --scan-report).")
@click.option("--scan-report", type=click.Path(dir_okay=False), help="JSON of `omniguard scan FILE --json`.")
@click.option("--subject-column", metavar="COL",
              help="Encrypt each cell under its subject's own key (crypto-shredding); COL holds the subject ids.")
@_dataset
@_out
@common_options
def encrypt_cmd(file, columns, grade, scan_report, subject_column, dataset, output) -> None:
    """Encrypt columns with SM4-GCM; encrypted cells become base64 text, other columns are kept."""
    from omniguard.classify.readers import dataset_name
    from omniguard.crypto.frame import encrypt_frame
    from omniguard.tabular import read_table, write_table

    if bool(columns) == bool(grade):
        raise InputError("give exactly one of --columns C1,C2 or --grade G")
    ws = state().open_workspace()
    df = read_table(file)
    dataset = dataset or Path(file).name
    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else \
        _columns_at_grade(ws, df, dataset, grade, scan_report, scanned_as=dataset_name(file))
    if not cols:
        raise InputError(f"no column of {dataset} is graded {grade} or above; nothing to encrypt")
    with progress(len(cols), "encrypting") as update:
        res = encrypt_frame(ws, df, cols, dataset=dataset, subject_column=subject_column, progress=update)
    write_table(res.frame, output)
    emit(res.summary(file=str(output), dataset=dataset, per_subject=bool(subject_column)),
         lambda d: console.print(f"encrypted {d['cells']} cells in {len(d['columns'])} columns "
                                 f"({', '.join(d['columns'])}) -> {d['file']}"
                                 + (f"; {d['skipped']} cells were already encrypted" if d["skipped"] else "")))


@click.command("decrypt")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--role", metavar="ROLE", help="Your role (needs decrypt: true in roles.yaml; default: the workspace's).")
@click.option("--purpose", metavar="ID", help="Purpose recorded in the audit event.")
@click.option("--columns", metavar="C1,C2", help="Only these columns (default: every cell that is ciphertext).")
@click.option("--subject-column", metavar="COL", help="Subject ids for cells encrypted per subject.")
@_dataset
@_out
@common_options
def decrypt_cmd(file, role, purpose, columns, subject_column, dataset, output) -> None:
    """Decrypt every encrypted cell (found by its format). Denied roles are audited, exit 1."""
    from omniguard.crypto.frame import decrypt_frame
    from omniguard.tabular import read_table, write_table

    ws = state().open_workspace()
    if purpose:
        ws.policy.purpose(purpose)
    dataset = dataset or Path(file).name
    role = role or ws.config.role
    ws.policy.role(role)  # unknown role: exit 2 before reading anything
    df = read_table(file)
    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    with progress(len(cols or df.columns), "decrypting") as update:
        res = decrypt_frame(ws, df, dataset=dataset, role=role, purpose=purpose, columns=cols,
                            subject_column=subject_column, progress=update)
    write_table(res.frame, output)
    emit(res.summary(file=str(output), dataset=dataset),
         lambda d: console.print(f"decrypted {d['cells']} cells in {len(d['columns'])} columns -> {d['file']}"))


@click.command("reencrypt")
@click.argument("file", type=click.Path(dir_okay=False))
@_dataset
@_out
@common_options
def reencrypt_cmd(file, dataset, output) -> None:
    """Re-encrypt cells under their keyset's primary version (after `keys rotate`)."""
    from omniguard.crypto.frame import reencrypt_frame
    from omniguard.tabular import read_table, write_table

    ws = state().open_workspace()
    df = read_table(file)
    with progress(len(df.columns), "re-encrypting") as update:
        res = reencrypt_frame(ws, df, dataset=dataset or Path(file).name, progress=update)
    write_table(res.frame, output)
    emit(res.summary(file=str(output)),
         lambda d: console.print(f"re-encrypted {d['cells']} cells ({d['skipped']} already current) -> {d['file']}"))


COMMANDS = [encrypt_cmd, decrypt_cmd, reencrypt_cmd]
