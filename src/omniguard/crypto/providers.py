"""Master-key providers: where the workspace's master key comes from.

The master key only ever wraps or derives other keys (audit digests, the audit signing pair, data
keys). Providers are pluggable like Presidio's recognizers: ``file`` (a 0600 file in the
workspace), ``env`` (``OMNIGUARD_MASTER_KEY``), and anything registered with
:func:`register_provider`, such as a KMS client.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from omniguard.crypto.sm3 import constant_time_equal, hkdf_sm3
from omniguard.errors import KeyMaterialError

MASTER_KEY_BYTES = 32
ENV_VAR = "OMNIGUARD_MASTER_KEY"


class MasterKey:
    """The master key bytes plus what may be derived from them. Never printed."""

    __slots__ = ("_key", "source")

    def __init__(self, key: bytes, source: str):
        if len(key) != MASTER_KEY_BYTES:
            raise KeyMaterialError(f"{source}: a master key is {MASTER_KEY_BYTES} bytes")
        self._key = key
        self.source = source

    def __repr__(self) -> str:
        return f"MasterKey(source={self.source!r})"

    def derive(self, label: str, length: int = 32) -> bytes:
        """An independent sub-key for one purpose (HKDF-SM3, ``info = omniguard/<label>``)."""
        return hkdf_sm3(self._key, b"omniguard/" + label.encode(), length=length)

    def check_value(self) -> str:
        """A key check value: lets the workspace tell a wrong key from a right one without
        storing anything that helps recover the key."""
        return self.derive("key-check", 8).hex()

    def matches(self, check_value: str) -> bool:
        return constant_time_equal(self.check_value().encode(), check_value.encode())

    def secret_for(self, label: str) -> bytes:
        """Raw derived secret for recipes inside ``omniguard.crypto`` (e.g. SM2 derivation)."""
        return self.derive(label, 32)


def decode_key_text(text: str, source: str) -> bytes:
    """Accept base64 (the format omniguard writes) or 64 hex digits."""
    text = text.strip()
    if not text:
        raise KeyMaterialError(f"{source}: empty master key")
    raw: bytes | None = None
    if len(text) == 2 * MASTER_KEY_BYTES:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = None
    if raw is None:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise KeyMaterialError(f"{source}: not a base64 or hex master key") from None
    if len(raw) != MASTER_KEY_BYTES:
        raise KeyMaterialError(f"{source}: a master key is {MASTER_KEY_BYTES} bytes, this one is {len(raw)}")
    return raw


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(MASTER_KEY_BYTES)).decode()


class KeyProvider(Protocol):
    name: str

    def load(self) -> MasterKey: ...

    def create(self) -> bool:
        """Create the key if the provider can and it does not exist; True when created."""
        ...

    def config(self) -> dict[str, Any]:
        """What goes into omniguard.toml ``[keys]`` to find this key again (never the key)."""
        ...


_REGISTRY: dict[str, Callable[..., KeyProvider]] = {}


def register_provider(name: str) -> Callable[[Callable[..., KeyProvider]], Callable[..., KeyProvider]]:
    def deco(factory: Callable[..., KeyProvider]) -> Callable[..., KeyProvider]:
        _REGISTRY[name] = factory
        return factory

    return deco


@register_provider("file")
class FileKeyProvider:
    """A base64 key in a file readable by its owner only (mode 0600), like an SSH private key."""

    name = "file"

    def __init__(self, path: str | os.PathLike[str], root: Path | None = None, **_: Any):
        p = Path(path)
        self.path = p if p.is_absolute() or root is None else root / p
        self._configured = str(path)

    def load(self) -> MasterKey:
        where = str(self.path)
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise KeyMaterialError(f"{where}: master key file not found") from None
        except OSError as e:
            raise KeyMaterialError(f"{where}: cannot read master key file ({e.strerror})") from None
        if not stat.S_ISREG(st.st_mode):
            raise KeyMaterialError(f"{where}: master key path is not a regular file")
        if st.st_mode & 0o077:
            raise KeyMaterialError(
                f"{where}: permissions {stat.S_IMODE(st.st_mode):04o} are too open; expected 0600",
                hint=f"chmod 600 {where}",
            )
        try:
            text = self.path.read_text(encoding="ascii")
        except UnicodeDecodeError:
            raise KeyMaterialError(f"{where}: not a base64 or hex master key") from None
        except OSError as e:
            raise KeyMaterialError(f"{where}: cannot read master key file ({e.strerror})") from None
        return MasterKey(decode_key_text(text, where), where)

    def create(self) -> bool:
        if self.path.exists():
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(new_key_text() + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, self.path)  # fails if someone created the key meanwhile: never overwrite
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def config(self) -> dict[str, Any]:
        return {"provider": "file", "path": self._configured}


@register_provider("env")
class EnvKeyProvider:
    """The key in an environment variable (base64 or hex), for containers and CI secrets."""

    name = "env"

    def __init__(self, var: str = ENV_VAR, **_: Any):
        self.var = var

    def load(self) -> MasterKey:
        text = os.environ.get(self.var)
        if text is None:
            raise KeyMaterialError(f"${self.var} is not set (this workspace takes its master key from it)")
        return MasterKey(decode_key_text(text, f"${self.var}"), f"${self.var}")

    def create(self) -> bool:
        return False

    def config(self) -> dict[str, Any]:
        return {"provider": "env", "var": self.var}


def provider_from_config(cfg: dict[str, Any], root: Path) -> KeyProvider:
    name = cfg.get("provider", "file")
    factory = _REGISTRY.get(name)
    if factory is None:
        raise KeyMaterialError(f"omniguard.toml: keys.provider: unknown key provider {name!r}")
    args = {k: v for k, v in cfg.items() if k not in ("provider", "check")}
    return factory(root=root, **args)
