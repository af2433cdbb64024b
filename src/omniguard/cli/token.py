"""`omniguard token file|value|join-key`: keyed deterministic tokens (HMAC-SM3)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click

from omniguard.cli.common import common_options, console, emit, progress, state
from omniguard.errors import InputError

_domain = click.option("--domain", default="org", show_default=True,
                       help="org, partner:<name> (tokens only that partner can join) or join:<name> (a shared key).")


@click.group("token")
def token_group() -> None:
    """Tokens for joins and pseudonymous ids: same value, same token, within one key domain."""


@token_group.command("file")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--columns", metavar="C1,C2", required=True, help="Columns to replace by their tokens.")
@_domain
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="File to write, atomically.")
@common_options
def file_cmd(file, columns, domain, output) -> None:
    """Replace columns of a table by their tokens."""
    from omniguard.tabular import read_table, write_table

    ws = state().open_workspace()
    tok = ws.keyring.tokenizer(domain)
    df = read_table(file)
    cols = [c.strip() for c in columns.split(",") if c.strip()]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"no column named {missing[0]!r}")
    cells = 0
    with progress(len(cols), "tokenizing") as update:
        for i, c in enumerate(cols):
            cells += int(df[c].notna().sum())
            df[c] = tok.tokenize(df[c])
            update(i + 1)
    write_table(df, output)
    ws.audit.record("tokenize", dataset=Path(file).name, columns=cols, rows=len(df),
                    details={"cells": cells, "domain": domain, "key_version": tok.version})
    emit({"columns": cols, "cells": cells, "domain": domain, "file": output},
         lambda d: console.print(f"tokenized {d['cells']} cells in {', '.join(d['columns'])} ({domain}) -> {output}"))


@token_group.command("value")
@_domain
@common_options
def value_cmd(domain) -> None:
    """Token of each line on standard input (values stay out of shell history and the log)."""
    ws = state().open_workspace()
    tok = ws.keyring.tokenizer(domain)
    values = [line.rstrip("\r\n") for line in sys.stdin if line.strip()]
    tokens = [tok.token(v) for v in values]
    ws.audit.record("tokenize", details={"cells": len(values), "domain": domain, "source": "stdin"})
    emit({"domain": domain, "tokens": tokens}, lambda d: [click.echo(t) for t in d["tokens"]])


@token_group.group("join-key")
def join_key_group() -> None:
    """A join key shared with one partner: both sides' tokens then match."""


@join_key_group.command("new")
@click.option("--domain", required=True, help="join:<partner>")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Secret file for the partner (mode 0600); hand it over securely, then delete it.")
@common_options
def join_new_cmd(domain, output) -> None:
    """Create a shared join key, keep it (wrapped) here and write it for the partner to import."""
    from omniguard.crypto.tokens import check_domain
    from omniguard.fileio import atomic_write_text

    if not check_domain(domain).startswith("join:"):
        raise InputError("join keys live in join:<name> domains")
    ws = state().open_workspace()
    secret = secrets.token_bytes(32)
    ws.keyring.token_keyset(domain, material=secret)
    atomic_write_text(output, secret.hex() + "\n", perms=0o600)
    emit({"domain": domain, "file": output},
         lambda d: console.print(f"join key for {domain} created; give {output} to the partner over a secure channel"))


@join_key_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--domain", required=True, help="join:<partner>")
@common_options
def join_import_cmd(file, domain) -> None:
    """Import a partner's shared join key (64 hex digits) into this keyring."""
    from omniguard.crypto.tokens import check_domain

    if not check_domain(domain).startswith("join:"):
        raise InputError("join keys live in join:<name> domains")
    mode = os.stat(file).st_mode & 0o077
    try:
        secret = bytes.fromhex(Path(file).read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{Path(file).name}: not a join key (64 hex digits)") from None
    if len(secret) != 32:
        raise InputError(f"{Path(file).name}: not a join key (64 hex digits)")
    ws = state().open_workspace()
    ws.keyring.token_keyset(domain, material=secret)
    emit({"domain": domain, "imported": True, "file_permissions_too_open": bool(mode)},
         lambda d: console.print(f"join key for {domain} imported; delete {file} now"))


COMMANDS = [token_group]
