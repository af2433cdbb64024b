"""`omniguard keys init|list|rotate|destroy|shred|public`: the keyring."""

from __future__ import annotations

from pathlib import Path

import click

from omniguard.cli.common import common_options, console, emit, state, table
from omniguard.errors import InputError


@click.group("keys")
def keys_group() -> None:
    """The keyring: data keys per column, token keys, per-subject keys, rotation, shredding."""


@keys_group.command("init")
@click.option("--dataset", metavar="NAME", help="Also create the keysets of these columns of this dataset.")
@click.option("--columns", metavar="C1,C2", help="Columns of --dataset.")
@common_options
def init_cmd(dataset, columns) -> None:
    """Create the keyring (KEK generation 1, the organisation's token key); idempotent."""
    if bool(dataset) != bool(columns):
        raise InputError("--dataset and --columns go together")
    ws = state().open_workspace()
    info = ws.keyring.init()
    created = []
    for col in [c.strip() for c in (columns or "").split(",") if c.strip()]:
        ks = ws.keyring.column_keyset(dataset, col)
        created.append({"keyset": ks.name, "key_id": f"{ks.key_id:08x}"})
    info["keysets"] = created
    emit(info, lambda d: console.print(f"keyring ready: KEK generation {d['kek_version']}, org token key "
                                       f"{d['token_key_id']}" + (f", {len(created)} column keysets" if created else "")))


@keys_group.command("list")
@common_options
def list_cmd() -> None:
    """Keysets with their key ids and versions (never key material)."""
    ws = state().open_workspace()
    kr = ws.keyring
    rows = []
    for ks in kr.keysets():
        versions = kr.versions(ks)
        rows.append({"name": ks.name, "kind": ks.kind, "key_id": f"{ks.key_id:08x}", "primary": ks.primary_version,
                     "versions": len(versions), "destroyed": sum(1 for v in versions if v["destroyed"]),
                     "subject_column": ks.subject_column, "created": ks.created_at})
    data = {"kek_version": kr.kek_version(), "subject_keys": kr.subject_key_count(), "keysets": rows}

    def human(d: dict) -> None:
        table(["keyset", "kind", "key id", "primary", "versions", "destroyed", "subject column", "created (UTC)"],
              [[r["name"], r["kind"], r["key_id"], f"v{r['primary']}", r["versions"], r["destroyed"],
                r["subject_column"], r["created"][:19]] for r in d["keysets"]])
        console.print(f"KEK generation {d['kek_version']}; {d['subject_keys']} per-subject keys")

    emit(data, human)


@keys_group.command("rotate")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Rotate every column keyset (token keys only by name: "
              "rotating one changes every token).")
@click.option("--rewrap", is_flag=True, help="Re-wrap every stored key under a new KEK generation (data untouched).")
@common_options
def rotate_cmd(names, all_, rewrap) -> None:
    """New primary versions for keysets (old ones still decrypt), and/or re-wrap all keys."""
    if not (names or all_ or rewrap):
        raise InputError("name keysets to rotate, or give --all or --rewrap")
    ws = state().open_workspace()
    kr = ws.keyring
    targets = [k for k in kr.keysets() if k.kind == "column"] if all_ else [kr.by_name(n) for n in names]
    rotated = [{"keyset": ks.name, "key_id": f"{ks.key_id:08x}", "version": kr.rotate(ks)} for ks in targets]
    data = {"rotated": rotated, "rewrap": kr.rewrap() if rewrap else None}

    def human(d: dict) -> None:
        for r in d["rotated"]:
            console.print(f"{r['keyset']} ({r['key_id']}): new primary v{r['version']}")
        if d["rewrap"]:
            w = d["rewrap"]
            console.print(f"re-wrapped {w['keys']} keys and {w['subject_keys']} subject keys under KEK "
                          f"generation {w['kek_version']}")

    emit(data, human)


@keys_group.command("destroy")
@click.argument("name")
@click.option("--version", "version", type=click.IntRange(min=1), required=True, help="Version to destroy.")
@click.option("--yes", is_flag=True, help="Confirm: cells still under this version become unreadable.")
@common_options
def destroy_cmd(name, version, yes) -> None:
    """Destroy an old key version (after `reencrypt`): its cells become unreadable for good."""
    if not yes:
        raise InputError("destroying a key version is irreversible; add --yes to confirm")
    ws = state().open_workspace()
    ks = ws.keyring.by_name(name)
    ws.keyring.destroy_version(ks, version)
    emit({"keyset": ks.name, "destroyed_version": version},
         lambda d: console.print(f"{d['keyset']}: version {d['destroyed_version']} destroyed"))


@keys_group.command("shred")
@click.argument("subjects", nargs=-1)
@click.option("--from-file", type=click.Path(exists=True, dir_okay=False),
              help="Subject ids, one per line (keeps them out of shell history).")
@common_options
def shred_cmd(subjects, from_file) -> None:
    """Destroy subjects' own keys: their per-subject cells become unreadable everywhere."""
    ids = list(subjects)
    if from_file:
        ids += [line.strip() for line in Path(from_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not ids:
        raise InputError("name the subjects to shred, or give --from-file")
    ws = state().open_workspace()
    destroyed = sum(ws.keyring.shred_subject(s) for s in ids)
    emit({"subjects": len(ids), "keys_destroyed": destroyed, "without_key": len(ids) - destroyed},
         lambda d: console.print(f"destroyed {d['keys_destroyed']} subject keys"
                                 + (f"; {d['without_key']} subjects had none" if d["without_key"] else "")))


@keys_group.command("public")
@click.option("--format", "fmt", type=click.Choice(["pem", "hex"]), default="pem", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the key to this file.")
@common_options
def public_cmd(fmt, output) -> None:
    """The workspace's SM2 public key (signs audit checkpoints and receipts), as PEM or hex."""
    from omniguard.crypto.sm2 import public_key_fingerprint, public_key_pem

    ws = state().open_workspace()
    key = ws.signer.public_key
    text = public_key_pem(key) if fmt == "pem" else key.hex() + "\n"
    if output:
        from omniguard.fileio import atomic_write_text

        atomic_write_text(output, text)
    emit({"format": fmt, "public_key": text.strip(), "fingerprint": public_key_fingerprint(key), "file": output},
         lambda d: console.print(d["public_key"] if not output else f"written to {output} ({d['fingerprint']})"))


COMMANDS = [keys_group]
