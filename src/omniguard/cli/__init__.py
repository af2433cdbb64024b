"""The ``omniguard`` command line.

Command modules in this package are discovered, not listed: each exposes ``COMMANDS`` (click
commands or groups). Errors from the library become one line on stderr with exit code 2 (bad
input) or 1 (a check failed); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

import click

from omniguard import __version__
from omniguard.cli.common import State, common_options, state
from omniguard.errors import OmniguardError

EXIT_INTERNAL = 3


class OmniguardGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OmniguardError as e:
            if state().debug:
                raise
            click.echo(f"error: {e.message}", err=True)
            if e.hint:
                click.echo(f"hint: {e.hint}", err=True)
            ctx.exit(e.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            ctx.exit(0)
        except Exception as e:
            if state().debug:
                raise
            # The message of an unexpected exception may quote data; show only its type.
            click.echo(f"internal error: {type(e).__name__} (a bug in omniguard; rerun with --debug for details)",
                       err=True)
            ctx.exit(EXIT_INTERNAL)


def _set_debug(ctx: click.Context, _p: click.Parameter, value: bool) -> None:
    if value:
        state().debug = True


@click.group(cls=OmniguardGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="omniguard")
@click.option("--debug", is_flag=True, expose_value=False, callback=_set_debug, is_eager=True,
              help="Show tracebacks for errors.")
@common_options
@click.pass_context
def main(ctx: click.Context) -> None:
    """omniguard: PIPL data governance for retail (consent, classification, SM4, federated DP, audit)."""
    if ctx.obj is None:
        ctx.obj = State()


def _register() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name == "common":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for cmd in getattr(module, "COMMANDS", []):
            main.add_command(cmd)


_register()


def run() -> None:
    main(prog_name="omniguard")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
