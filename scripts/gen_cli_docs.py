"""Write docs/cli.md from the click commands themselves (so the reference cannot drift).

    .venv/bin/python scripts/gen_cli_docs.py            # rewrite docs/cli.md
    .venv/bin/python scripts/gen_cli_docs.py --check    # exit 1 if docs/cli.md is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from omniguard.cli import main

OUT = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def _walk(cmd: click.Command, path: list[str]):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            yield from _walk(cmd.commands[name], [*path, name])


def render() -> str:
    out = ["# omniguard command reference", "",
           "Generated from the commands by `scripts/gen_cli_docs.py`; do not edit by hand.", "",
           "Every command takes `--json` (one JSON document on stdout) and `--workspace/-w DIR`. Exit codes: "
           "0 success, 1 the command ran and found a problem (verification or a check failed, access denied), "
           "2 bad usage or bad input (one line on stderr, nothing written), 3 an internal error.", ""]
    for path, cmd in _walk(main, ["omniguard"]):
        name = " ".join(path)
        ctx = click.Context(cmd, info_name=name, terminal_width=100, max_content_width=100)
        out.append(f"{'#' * min(len(path) + 1, 4)} `{name}`")
        out.append("")
        out.append("```")
        out.append(cmd.get_help(ctx).replace(ctx.command_path, name))
        out.append("```")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print("docs/cli.md is stale: run .venv/bin/python scripts/gen_cli_docs.py", file=sys.stderr)
            sys.exit(1)
        sys.exit(0)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
