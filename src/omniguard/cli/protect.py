"""`omniguard protect FILE --purpose P --actor A -o OUT`: the guard on a file."""

from __future__ import annotations

from pathlib import Path

import click

from omniguard.cli.common import common_options, console, emit, state, table


@click.command("protect")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--purpose", required=True, help="Purpose id from the policy pack.")
@click.option("--actor", required=True, help="Who the data is for (recorded in the audit log).")
@click.option("--role", help="Role from the policy pack (default: the pack's default role).")
@click.option("--subject-column", "-s", help="Column holding the data subject's id (rows without consent are dropped).")
@click.option("--dataset", help="Dataset name in the inventory (default: the path as given, as `scan` names it).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Output file (.csv, .parquet or .jsonl), written atomically.")
@common_options
def protect_cmd(file, purpose, actor, role, subject_column, dataset, output) -> None:
    """Release FILE for a purpose: consenting subjects only, minimum necessary columns, each
    protected by its grade and the role. Exit 1 when access is denied."""
    from omniguard.classify.readers import dataset_name
    from omniguard.tabular import read_table, write_table

    ws = state().open_workspace()
    if Path(output).resolve() == Path(file).resolve():
        from omniguard.errors import InputError

        raise InputError("the output must not overwrite the input file")
    df = read_table(file)
    res = ws.guard.run(df, purpose=purpose, actor=actor, role=role, subject_column=subject_column,
                       dataset=dataset or dataset_name(file))
    write_table(res.frame, output)
    data = {**res.to_dict(), "output": output}

    def human(d):
        console.print(f"[bold]{d['decision']}[/]: {d['rows_out']} of {d['rows_in']} rows, "
                      f"{len(d['columns_out'])} columns -> {d['output']}"
                      + ("  (dataset classified on first sight and saved)" if d["scanned_now"] else ""))
        rows = [[c, op] for c, op in d["operators"].items()] + [[c, f"dropped: {why}"] for c, why in
                                                                d["dropped_columns"].items()]
        table(["column", "protection"], rows)

    emit(data, human)


COMMANDS = [protect_cmd]
