"""omniguard.toml: where the store is, where the master key comes from, audit settings, identity."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omniguard.errors import ConfigError
from omniguard.fileio import atomic_write_text

CONFIG_NAME = "omniguard.toml"
FORMAT = 1


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass
class Config:
    root: Path
    workspace_id: str
    created: str
    store_url: str = "sqlite:///omniguard.db"
    keys: dict[str, Any] = field(default_factory=lambda: {"provider": "file", "path": "keys/master.key"})
    key_check: str = ""
    audit_public_key: str = ""
    checkpoint_every: int = 10000
    actor: str = field(default_factory=default_actor)
    role: str | None = None
    rights_due_working_days: int = 15

    @property
    def path(self) -> Path:
        return self.root / CONFIG_NAME

    def resolved_store_url(self) -> str:
        """sqlite:/// URLs with a relative path are relative to the workspace folder."""
        url = os.environ.get("OMNIGUARD_STORE_URL") or self.store_url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
            return prefix + str((self.root / url[len(prefix):]).resolve())
        return url

    @classmethod
    def load(cls, root: Path) -> Config:
        path = root / CONFIG_NAME
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{CONFIG_NAME}: not valid TOML ({e})") from None

        def get(section: str, key: str, typ: type, default: Any = ...) -> Any:
            value = data.get(section, {}).get(key, default)
            if value is ...:
                raise ConfigError(f"{CONFIG_NAME}: {section}.{key}: required, but missing")
            if value is not None and not isinstance(value, typ):
                raise ConfigError(f"{CONFIG_NAME}: {section}.{key}: expected {typ.__name__}")
            return value

        fmt = get("workspace", "format", int, FORMAT)
        if fmt > FORMAT:
            raise ConfigError(f"{CONFIG_NAME}: workspace format {fmt} is newer than this omniguard ({FORMAT})")
        return cls(
            root=root,
            workspace_id=get("workspace", "id", str),
            created=get("workspace", "created", str, ""),
            store_url=get("store", "url", str, "sqlite:///omniguard.db"),
            keys=dict(data.get("keys", {"provider": "file", "path": "keys/master.key"})),
            key_check=get("keys", "check", str, ""),
            audit_public_key=get("audit", "public_key", str, ""),
            checkpoint_every=get("audit", "checkpoint_every", int, 10000),
            actor=get("actor", "name", str, default_actor()),
            role=get("actor", "role", str, None),
            rights_due_working_days=get("rights", "due_working_days", int, 15),
        )

    def save(self) -> None:
        keys = {k: v for k, v in self.keys.items() if k != "check"}
        keys["check"] = self.key_check
        lines = [
            "# omniguard workspace configuration",
            "[workspace]",
            f"id = {_toml(self.workspace_id)}",
            f"created = {_toml(self.created)}",
            f"format = {FORMAT}",
            "",
            "[store]",
            "# sqlite:///relative/path is relative to this folder; postgresql://user@host/db for many writers",
            f"url = {_toml(self.store_url)}",
            "",
            "[keys]",
            "# provider: file (path, mode 0600) or env (var, default OMNIGUARD_MASTER_KEY)",
            *(f"{k} = {_toml(v)}" for k, v in keys.items()),
            "",
            "[audit]",
            "# SM2 public key that verifies this workspace's audit checkpoints (04 || x || y, hex)",
            f"public_key = {_toml(self.audit_public_key)}",
            "# sign a checkpoint automatically after this many events (0 = only on request)",
            f"checkpoint_every = {self.checkpoint_every}",
            "",
            "[actor]",
            f"name = {_toml(self.actor)}",
            *([f"role = {_toml(self.role)}"] if self.role else []),
            "",
            "[rights]",
            "# data-subject requests are due this many working days after they arrive",
            f"due_working_days = {self.rights_due_working_days}",
            "",
        ]
        atomic_write_text(self.path, "\n".join(lines))


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso_utc(t: dt.datetime | None = None) -> str:
    """UTC timestamps as ``2026-11-22T00:16:29.123456Z`` everywhere (fixed width, sortable)."""
    t = (t or now_utc()).astimezone(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
