"""`omniguard init [DIR]`."""

from __future__ import annotations

import click

from omniguard.cli.common import common_options, console, emit


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Rewrite the configuration and policy pack of an existing workspace (keys are kept).")
@click.option("--store-url", metavar="URL", help="Store URL (default sqlite:///omniguard.db in the workspace).")
@click.option("--key-provider", type=click.Choice(["file", "env"]), help="Where the master key lives (default: file, or env when $OMNIGUARD_MASTER_KEY is set).")
@click.option("--actor", metavar="NAME", help="Default actor recorded in audit events (default user@host).")
@click.option("--policies", type=click.Path(exists=True, file_okay=False), help="Start from this policy pack instead of the default one.")
@common_options
def init_cmd(directory: str, force: bool, store_url: str | None, key_provider: str | None, actor: str | None,
             policies: str | None) -> None:
    """Create a workspace: omniguard.toml, a copy of the policy pack, the store and a master key."""
    from omniguard.workspace import Workspace

    ws = Workspace.init(directory, force=force, store_url=store_url, key_provider=key_provider, actor=actor,
                        policies=policies)
    info = {
        "workspace": str(ws.root),
        "id": ws.config.workspace_id,
        "store": ws.store.dialect,
        "key_provider": ws.config.keys.get("provider"),
        "policy_version": ws.policy.version,
        "audit_public_key": ws.signer.public_key.hex(),
    }

    def human(d: dict) -> None:
        console.print(f"[bold green]workspace ready[/] {d['workspace']}")
        console.print(f"  store: {d['store']}   master key: {d['key_provider']}   policies: {d['policy_version']}")
        console.print(f"  audit public key (give it to your auditor): {ws.root / 'audit-signing.pub'}")

    emit(info, human)
    ws.close()


COMMANDS = [init_cmd]
