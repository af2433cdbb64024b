"""A workspace: one folder with omniguard.toml, a policy pack, a store and a master key.

Everything else (consent registry, keyring, inventory, guard, ...) hangs off a
:class:`Workspace`, built lazily on first use so that ``audit verify`` does not pay for Presidio.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from omniguard.audit import AuditLog, Checkpoint, VerifyReport, create_checkpoint, verify_log
from omniguard.config import CONFIG_NAME, Config, default_actor, iso_utc
from omniguard.crypto.providers import ENV_VAR, FileKeyProvider, MasterKey, provider_from_config
from omniguard.crypto.sm2 import SM2KeyPair
from omniguard.errors import KeyMaterialError, WorkspaceExists, WorkspaceNotFound
from omniguard.policy import PolicyPack, default_pack_dir, load_pack
from omniguard.store import Store, migrate

ENV_WORKSPACE = "OMNIGUARD_WORKSPACE"
PUBLIC_KEY_FILE = "audit-signing.pub"

# Components built on first attribute access: name -> (module, class). Each takes the workspace.
_COMPONENTS: dict[str, tuple[str, str]] = {
    "consent": ("omniguard.consent", "ConsentRegistry"),
    "rights": ("omniguard.consent.rights", "RightsDesk"),
    "keyring": ("omniguard.crypto.keyring", "Keyring"),
    "inventory": ("omniguard.classify.inventory", "Inventory"),
    "ledger": ("omniguard.profiling.dp.ledger", "BudgetLedger"),
    "guard": ("omniguard.guard", "Guard"),
}


def find_workspace(explicit: str | os.PathLike[str] | None = None, *, start: Path | None = None) -> Path:
    """``--workspace``, then ``$OMNIGUARD_WORKSPACE``, then the nearest folder upwards holding
    omniguard.toml."""
    for given, source in ((explicit, "--workspace"), (os.environ.get(ENV_WORKSPACE), f"${ENV_WORKSPACE}")):
        if given:
            p = Path(given).expanduser()
            if (p / CONFIG_NAME).is_file():
                return p.resolve()
            raise WorkspaceNotFound(f"{source} {p}: no {CONFIG_NAME} there", hint="create one with: omniguard init DIR")
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / CONFIG_NAME).is_file():
            return d
    raise WorkspaceNotFound(
        f"no omniguard workspace here or in any parent folder ({CONFIG_NAME} not found)",
        hint="create one with `omniguard init DIR`, or pass --workspace / set OMNIGUARD_WORKSPACE",
    )


class Workspace:
    def __init__(self, config: Config, policy: PolicyPack, master_key: MasterKey, store: Store):
        self.config = config
        self.root = config.root
        self.policy = policy
        self._master_key = master_key
        self.store = store
        self.signer = SM2KeyPair.derive(master_key.secret_for("audit-signing"), b"audit/1")
        self.audit = AuditLog(
            store,
            digest_key=master_key.derive("audit/subject-digest"),
            actor=config.actor,
            role=config.role,
            policy_version=policy.version,
            checkpointer=self.checkpoint,
            checkpoint_every=config.checkpoint_every,
        )

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def __getattr__(self, name: str) -> Any:
        spec = _COMPONENTS.get(name)
        if spec is None:
            raise AttributeError(name)
        component = getattr(importlib.import_module(spec[0]), spec[1])(self)
        self.__dict__[name] = component
        return component

    # --- opening and creating ----------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        """Open (and, if needed, upgrade) the workspace at ``path`` or found by discovery."""
        root = find_workspace(path)
        config = Config.load(root)
        policy = load_pack(root / "policies")
        master = _load_master_key(config)
        store = Store(config.resolved_store_url())
        migrate(store)
        ws = cls(config, policy, master, store)
        if config.audit_public_key and config.audit_public_key != ws.signer.public_key.hex():
            raise KeyMaterialError("the audit signing key derived from this master key does not match omniguard.toml")
        return ws

    @classmethod
    def init(
        cls,
        path: str | os.PathLike[str] = ".",
        *,
        force: bool = False,
        store_url: str | None = None,
        key_provider: str | None = None,
        actor: str | None = None,
        policies: str | os.PathLike[str] | None = None,
    ) -> Workspace:
        """Create a workspace. Refuses an existing one unless ``force``; never overwrites a key."""
        root = Path(path).expanduser().resolve()
        old: Config | None = None
        if (root / CONFIG_NAME).exists():
            if not force:
                raise WorkspaceExists(
                    f"{root}: already a workspace ({CONFIG_NAME} exists)",
                    hint="--force rewrites its configuration and policies; keys are never overwritten",
                )
            old = Config.load(root)
        source_pack = Path(policies) if policies else default_pack_dir()
        load_pack(source_pack, shown_prefix=str(source_pack))  # refuse a broken pack before touching anything
        created: list[Path] = []
        try:
            if not root.exists():
                root.mkdir(parents=True)
                created.append(root)
            provider_name = key_provider or ("env" if os.environ.get(ENV_VAR) else "file")
            keys_cfg = dict(old.keys) if old else (
                {"provider": "env", "var": ENV_VAR} if provider_name == "env"
                else {"provider": provider_name, "path": "keys/master.key"}
            )
            provider = provider_from_config(keys_cfg, root)
            if isinstance(provider, FileKeyProvider) and provider.create():
                created.append(provider.path)
            master = provider.load()
            if old and old.key_check and not master.matches(old.key_check):
                raise KeyMaterialError("the master key does not match this workspace (key check value differs)")
            config = Config(
                root=root,
                workspace_id=old.workspace_id if old else str(uuid.uuid4()),
                created=old.created if old else iso_utc(),
                store_url=store_url or (old.store_url if old else "sqlite:///omniguard.db"),
                keys=keys_cfg,
                key_check=master.check_value(),
                checkpoint_every=old.checkpoint_every if old else 10000,
                actor=actor or (old.actor if old else default_actor()),
                role=old.role if old else None,
            )
            store = Store(config.resolved_store_url())
            migrate(store)
            pack_dir = root / "policies"
            if pack_dir.exists():
                backup = root / f"policies.bak-{dt.datetime.now().strftime('%Y%m%d%H%M%S')}"
                pack_dir.rename(backup)
            shutil.copytree(source_pack, pack_dir, symlinks=False)
            created.append(pack_dir)
            signer = SM2KeyPair.derive(master.secret_for("audit-signing"), b"audit/1")
            config.audit_public_key = signer.public_key.hex()
            (root / PUBLIC_KEY_FILE).write_text(f"sm2:{signer.public_key.hex()}\n", encoding="ascii")
            config.save()
        except BaseException:
            for p in reversed(created):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
            raise
        ws = cls(config, load_pack(pack_dir), master, store)
        ws.audit.record("workspace.init", decision="info",
                        details={"forced": bool(old), "store": store.dialect, "key_provider": keys_cfg["provider"]})
        return ws

    # --- audit shortcuts ---------------------------------------------------------------------

    def checkpoint(self) -> Checkpoint:
        return create_checkpoint(self.store, self.signer, self.config.workspace_id)

    def verify(self, external: list[Checkpoint] | tuple[Checkpoint, ...] = (), *, all_signatures: bool = False,
               progress: Any = None) -> VerifyReport:
        return verify_log(self.store, workspace_id=self.config.workspace_id, public_key=self.signer.public_key,
                          external=external, all_signatures=all_signatures, progress=progress)

    def derive_key(self, label: str, length: int = 32) -> bytes:
        """A sub-key of the master key for one named purpose (for omniguard's own components)."""
        return self._master_key.derive(label, length)

    def close(self) -> None:
        self.store.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _load_master_key(config: Config) -> MasterKey:
    master = provider_from_config(config.keys, config.root).load()
    if config.key_check and not master.matches(config.key_check):
        raise KeyMaterialError(f"{master.source}: wrong master key for this workspace (key check value differs)")
    return master


def open_workspace(path: str | os.PathLike[str] | None = None) -> Workspace:
    return Workspace.open(path)
