"""Shared CLI plumbing: options every command takes, output, progress, error handling.

Commands stay thin: parse, call a library function, render. The human rendering uses rich on a
terminal; ``--json`` prints exactly one JSON document on stdout.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from omniguard.errors import OmniguardError


@dataclass
class State:
    workspace: str | None = None
    json: bool = False
    debug: bool = False
    _ws: Any = None

    def open_workspace(self) -> Any:
        if self._ws is None:
            from omniguard.workspace import Workspace

            self._ws = Workspace.open(self.workspace)
        return self._ws


def state() -> State:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = State()
    return root.obj


def _set_json(ctx: click.Context, _p: click.Parameter, value: bool) -> None:
    if value:
        state().json = True


def _set_workspace(ctx: click.Context, _p: click.Parameter, value: str | None) -> None:
    if value:
        state().workspace = value


def common_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--json`` and ``--workspace/-w`` on every command (also accepted before the command)."""
    f = click.option("--json", "json_", is_flag=True, expose_value=False, callback=_set_json, is_eager=True,
                     help="Print one JSON document on stdout.")(f)
    f = click.option("--workspace", "-w", metavar="DIR", expose_value=False, callback=_set_workspace,
                     is_eager=True, help="Workspace folder (default: $OMNIGUARD_WORKSPACE, then the nearest parent).")(f)
    return f


def with_workspace(f: Callable[..., Any]) -> Callable[..., Any]:
    """Open the workspace and pass it as the first argument."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return f(state().open_workspace(), *args, **kwargs)

    return wrapper


console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False)


def emit(data: Any, human: Callable[[Any], None] | None = None) -> None:
    """One JSON document with --json, otherwise the human rendering."""
    if state().json or human is None:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        human(data)


def table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    """Title, headers and cells are text, never console markup: ``[/b]`` prints as itself."""
    from rich.text import Text

    t = Table(title=Text(title) if title else None, show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(Text(str(c)), overflow="fold")
    for r in rows:
        t.add_row(*[Text("" if v is None else str(v)) for v in r])
    if console.is_terminal:
        console.print(t)
        return
    # Piped or redirected: no screen to fit, so ids and timestamps stay whole for grep and less.
    from rich.measure import Measurement

    wide = Measurement.get(console, console.options.update_width(10_000), t).maximum
    Console(highlight=False, soft_wrap=True, width=max(wide, console.width)).print(t)


@contextlib.contextmanager
def progress(total: int | None, description: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal (stderr), nothing otherwise. Yields ``update(done)``."""
    if state().json or not sys.stderr.isatty():
        yield lambda _done: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


def fail(exc: OmniguardError) -> None:
    """Print a one-line error (and hint) on stderr and exit with the error's code."""
    click.echo(f"error: {exc.message}", err=True)
    if exc.hint:
        click.echo(f"hint: {exc.hint}", err=True)
    sys.exit(exc.exit_code)
