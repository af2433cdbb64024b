"""`omniguard dp release|budget`: differentially private segment statistics and the privacy
budget ledger."""

from __future__ import annotations

import click

from omniguard.cli.common import common_options, console, emit, state, table
from omniguard.errors import InputError


@click.group("dp")
def dp_group() -> None:
    """Differential privacy: segment releases with OpenDP and per-dataset privacy budgets."""


def _bounded(spec: str, option: str):
    from omniguard.profiling.dp.release import Bounded

    parts = spec.rsplit(":", 2)
    if len(parts) != 3:
        raise InputError(f"{option} {spec!r}: expected COLUMN:LOWER:UPPER, e.g. spend_90d:0:5000")
    try:
        return Bounded(parts[0], float(parts[1]), float(parts[2]))
    except ValueError:
        raise InputError(f"{option}: LOWER and UPPER must be numbers") from None


@dp_group.command("release")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--by", "by", multiple=True, required=True, help="Segment column (repeatable).")
@click.option("--count", is_flag=True, help="Release the number of customers per segment.")
@click.option("--sum", "sums", multiple=True, metavar="COL:LO:HI", help="Release a bounded sum (repeatable).")
@click.option("--mean", "means", multiple=True, metavar="COL:LO:HI", help="Release a bounded mean (repeatable).")
@click.option("--epsilon", type=float, required=True, help="Privacy loss of this release (per customer).")
@click.option("--delta", type=float, default=0.0, show_default=True,
              help="Needed when segment keys are private (they are then thresholded).")
@click.option("--keys", help="Comma-separated public list of segments (no thresholding, no delta needed).")
@click.option("--alpha", type=float, default=0.05, show_default=True, help="1 - confidence of the intervals.")
@click.option("--dataset", help="Name of the dataset in the budget ledger (default: the file name).")
@click.option("--purpose", help="Keep only subjects consenting to this purpose (needs --subject-column).")
@click.option("--subject-column", help="Customer id column: one row per customer is enforced.")
@click.option("--max-groups", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Public upper bound on the number of segments.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the released table (CSV/Parquet/JSONL).")
@common_options
def release_cmd(file, by, count, sums, means, epsilon, delta, keys, alpha, dataset, purpose, subject_column,
                max_groups, output) -> None:
    """Release per-segment counts, sums and means of FILE with differential privacy."""
    from pathlib import Path

    from omniguard.profiling.dp.release import release_segments
    from omniguard.tabular import read_table, write_table

    ws = state().open_workspace()
    path = Path(file)
    frame = read_table(path)
    if purpose and not subject_column:
        raise InputError("--purpose needs --subject-column to check consent")
    if subject_column:
        frame = _one_row_per_customer(ws, frame, subject_column, purpose, path.name)
    result = release_segments(
        ws, frame, by=list(by), epsilon=epsilon, delta=delta, dataset=dataset or path.name, count=count,
        sums=[_bounded(s, "--sum") for s in sums], means=[_bounded(m, "--mean") for m in means],
        public_keys=[k.strip() for k in keys.split(",")] if keys else None, alpha=alpha, max_groups=max_groups,
        purpose=purpose, shown=path.name)
    if output:
        write_table(result.table, output)
    data = result.to_dict()
    if output:
        data["file"] = output

    def human(d: dict) -> None:
        t = result.table
        values = [c for c in t.columns if c not in result.by and not c.endswith(("_ci_low", "_ci_high"))]
        table([*result.by, *values],
              [[*(row[c] for c in result.by),
                *(f"{_fmt(row[c])} [{_fmt(row[c + '_ci_low'])}, {_fmt(row[c + '_ci_high'])}]" for c in values)]
               for _, row in t.iterrows()], title=f"DP release {d['release']} of {d['dataset']}")
        priv = f"epsilon {d['epsilon']:g}" + (f", delta {d['delta']:g}" if d["delta"] else "")
        console.print(f"{priv} per {d['unit']}; {int(d['confidence'] * 100)}% intervals; "
                      + ("public segment keys" if d["keys_public"] else f"segments below a noisy count of "
                         f"{d['threshold']} suppressed")
                      + f"; budget left: epsilon {d['remaining_epsilon']:.4g}")

    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    emit(data, human)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _one_row_per_customer(ws, frame, column: str, purpose: str | None, shown: str):
    import numpy as np

    from omniguard.profiling.gate import consent_mask

    if column not in frame.columns:
        raise InputError(f"{shown}: no column {column!r}")
    ids = frame[column].astype("string")
    if ids.isna().any() or ids.duplicated().any():
        raise InputError(f"{shown}: column {column!r} must hold one non-empty id per row (one row per customer)")
    if not purpose:
        return frame
    ws.policy.purpose(purpose)
    keep = consent_mask(ws, ids.to_numpy(dtype=object), purpose)
    ws.audit.record("read", purpose=purpose, dataset=shown, rows=int(np.sum(keep)),
                    subjects=ids[keep].to_numpy(dtype=object),
                    details={"for": "dp.release", "rows_without_consent": int((~keep).sum())})
    return frame.loc[keep].reset_index(drop=True)


@dp_group.group("budget")
def budget_group() -> None:
    """Per-dataset privacy budgets and what has been spent."""


@budget_group.command("set")
@click.argument("dataset")
@click.option("--epsilon", type=float, required=True, help="Total epsilon the dataset may ever spend.")
@click.option("--delta", type=float, required=True, help="Total delta the dataset may ever spend.")
@common_options
def budget_set_cmd(dataset, epsilon, delta) -> None:
    """Set the total privacy budget of DATASET."""
    ws = state().open_workspace()
    st = ws.ledger.set_budget(dataset, epsilon, delta)
    emit(st.to_dict(), lambda d: console.print(
        f"{d['dataset']}: budget epsilon {d['budget_epsilon']:g}, delta {d['budget_delta']:g}; "
        f"spent epsilon {d['spent_epsilon']:g}"))


@budget_group.command("show")
@click.argument("dataset", required=False)
@click.option("--entries", is_flag=True, help="List every charge, not just the totals.")
@common_options
def budget_show_cmd(dataset, entries) -> None:
    """Budgets, spending (basic composition) and, with --entries, every charge."""
    ws = state().open_workspace()
    states = [ws.ledger.state(dataset)] if dataset else ws.ledger.datasets()
    data = {"datasets": [s.to_dict() for s in states]}
    if entries:
        data["entries"] = ws.ledger.entries(dataset)

    def human(d: dict) -> None:
        table(["dataset", "budget ε", "budget δ", "spent ε", "spent δ", "left ε"],
              [[s["dataset"], s["budget_epsilon"], s["budget_delta"], _fmt(s["spent_epsilon"]), s["spent_delta"],
                _fmt(s["remaining_epsilon"])] for s in d["datasets"]], title="privacy budgets")
        if entries:
            table(["id", "time", "dataset", "kind", "ref", "ε", "δ", "status"],
                  [[e["id"], e["ts"][:19], e["dataset"], e["kind"], e["ref"], _fmt(e["epsilon"]), e["delta"],
                    e["status"]] for e in d["entries"]], title="ledger")

    emit(data, human)


COMMANDS = [dp_group]
