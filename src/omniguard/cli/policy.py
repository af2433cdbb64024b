"""`omniguard policy validate|show`: check a policy pack and read it."""

from __future__ import annotations

import click

from omniguard.cli.common import common_options, console, emit, state, table
from omniguard.errors import PolicyError


@click.group("policy")
def policy_group() -> None:
    """Validate and show the policy pack (taxonomy, purposes, roles, notices)."""


@policy_group.command("validate")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@common_options
def validate_cmd(directory: str | None) -> None:
    """Validate a pack folder (default: the workspace's). Exit 2 with every problem listed."""
    from omniguard.policy import load_pack
    from omniguard.workspace import find_workspace

    folder = directory or str(find_workspace(state().workspace) / "policies")
    try:
        pack = load_pack(folder, shown_prefix=folder.rstrip("/"))
    except PolicyError as e:
        if state().json:
            emit({"ok": False, "problems": e.problems})
        else:
            for p in e.problems[1:]:
                click.echo(f"  {p}", err=True)
        raise
    emit({"ok": True, "version": pack.version, "categories": len(pack.categories), "purposes": len(pack.purposes),
          "roles": len(pack.roles), "notices": len(pack.notices)},
         lambda d: console.print(f"[green]valid[/] {folder}: {d['categories']} categories, {d['purposes']} purposes, "
                                 f"{d['roles']} roles, {d['notices']} notice versions ({d['version']})"))


@policy_group.command("show")
@click.argument("what", type=click.Choice(["categories", "purposes", "roles", "notices"]), default="purposes")
@common_options
def show_cmd(what: str) -> None:
    """Show one part of the workspace's policy pack."""
    ws = state().open_workspace()
    pack = ws.policy
    if what == "categories":
        data = [c.model_dump(mode="json") for c in pack.taxonomy.categories]
        emit(data, lambda d: table(["id", "name", "grade", "PIPL sensitive", "protection"],
                                   [[c["id"], c["name_zh"] + " " + c["name"], c["grade"], c["pipl_sensitive"],
                                     c["default_protection"]] for c in d]))
    elif what == "purposes":
        data = [p.model_dump(mode="json") for p in pack.purposes.values()]
        emit(data, lambda d: table(["id", "name", "legal basis", "separate consent", "retention (days)", "categories"],
                                   [[p["id"], p["name_zh"] + " " + p["name"], p["legal_basis"], p["separate_consent"],
                                     p["retention_days"], ", ".join(p["categories"])] for p in d]))
    elif what == "roles":
        data = [r.model_dump(mode="json") for r in pack.roles.values()]
        emit(data, lambda d: table(["id", "purposes", "public", "internal", "sensitive", "highly sensitive", "decrypt"],
                                   [[r["id"], ", ".join(r["purposes"]), *r["protection"].values(), r["decrypt"]]
                                    for r in d]))
    else:
        data = [n.model_dump(mode="json") for n in pack.notices]
        emit(data, lambda d: table(["notice", "version", "language", "published", "purposes"],
                                   [[n["id"], n["version"], n["language"], n["published"],
                                     ", ".join(p["purpose"] for p in n["purposes"])] for n in d]))


COMMANDS = [policy_group]
