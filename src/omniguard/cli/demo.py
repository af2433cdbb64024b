"""`omniguard demo`: the end-to-end retail scenario on the embedded SQLite default."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import click

from omniguard.cli.common import common_options, console, emit, state


@click.command("demo")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="Run in this folder (default: a new temporary folder, kept afterwards).")
@common_options
def demo_cmd(directory: str | None) -> None:
    """Run the retail scenario end to end and print where the reports are."""
    from omniguard.demo import run_demo

    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="omniguard-demo-"))
    if directory and root.exists() and any(root.iterdir()):
        from omniguard.errors import InputError

        raise InputError(f"{root}: folder is not empty; give a new or empty folder")
    root.mkdir(parents=True, exist_ok=True)
    steps: list[dict] = []
    t0 = time.perf_counter()

    def on_step(step, summary, seconds):
        steps.append({"step": step.title, "seconds": round(seconds, 2), **summary})
        if not state().json:
            console.print(f"[bold cyan]▶ {step.title}[/] [dim]({seconds:.1f} s)[/]")
            for k, v in summary.items():
                console.print(f"    {k}: {v}")

    ctx = run_demo(root, on_step)
    result = {"directory": str(root), "seconds": round(time.perf_counter() - t0, 1), "steps": steps,
              "reports": ctx.reports}

    def human(d):
        console.print(f"\n[bold green]demo finished[/] in {d['seconds']} s; everything is in {d['directory']}")
        for name, path in d["reports"].items():
            console.print(f"  {name}: {path}")

    emit(result, human)
    if ctx.ws is not None:
        ctx.ws.close()


COMMANDS = [demo_cmd]
