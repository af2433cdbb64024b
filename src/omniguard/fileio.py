"""Files users hand us and files we write.

Reads fail with one line naming the file (never a traceback); writes are atomic: readers see the
old file or the complete new one, never half of it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from omniguard.errors import InputError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success it replaces ``target`` in one
    rename, on any exception it is removed and ``target`` is untouched."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        yield tmp
        if tmp.exists():
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8",
                newline: str | None = None, perms: int | None = None) -> Iterator[IO]:
    """``open()`` for writing, atomically (see :func:`atomic_path`)."""
    with atomic_path(target) as tmp:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with open(tmp, mode, **kwargs) as f:
            if perms is not None:
                os.chmod(tmp, perms)
            yield f


def atomic_write_text(target: str | os.PathLike[str], text: str, perms: int | None = None) -> None:
    with atomic_open(target, "w", perms=perms) as f:
        f.write(text)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(target, "wb") as f:
        f.write(data)


def read_input(path: str | os.PathLike[str], limit: int = -1) -> bytes:
    """The bytes (the first ``limit`` bytes) of a file the user named; InputError naming the file
    otherwise."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except FileNotFoundError:
        raise InputError(f"{path.name}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path.name}: is a folder, not a file") from None
    except OSError as e:
        raise InputError(f"{path.name}: cannot read ({e.strerror})") from None


def read_utf8(path: str | os.PathLike[str], what: str) -> str:
    """A text file that must be UTF-8 (a BOM is allowed); ``what`` names it in the error, as in
    'a job spec'."""
    try:
        return read_input(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{Path(path).name}: {what} is UTF-8 text") from None
