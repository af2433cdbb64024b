"""Error classes.

Every error a user can cause is an :class:`OmniguardError` with a one-line message and an exit
code: 2 for bad usage or bad input, 1 for "the command ran and found a problem" (a failed
verification, a denied access). Messages never carry key material, raw identifiers or personal
values: callers describe *where* the problem is (file, line, column, field), never *what* the value was.
"""

from __future__ import annotations


class OmniguardError(Exception):
    """Base class: a clear one-line message and the CLI exit code that goes with it."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class ConfigError(OmniguardError):
    """omniguard.toml is missing a field, malformed or inconsistent."""


class WorkspaceNotFound(OmniguardError):
    """No workspace at the given path, in OMNIGUARD_WORKSPACE or in any parent folder."""


class WorkspaceExists(OmniguardError):
    """`init` found a workspace already and was not told to --force."""


class PolicyError(OmniguardError):
    """The policy pack does not validate. ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        first = self.problems[0] if self.problems else "invalid policy pack"
        more = len(self.problems) - 1
        super().__init__(first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""))


class StoreError(OmniguardError):
    """The database cannot be opened, is of a newer schema, or refused a write."""


class KeyMaterialError(OmniguardError):
    """The master key is missing, unreadable, malformed, too exposed, or not this workspace's key."""


class InputError(OmniguardError):
    """A file or argument the user gave is malformed (encoding, ragged CSV, unknown id, ...)."""


class UnknownPurpose(InputError):
    """A purpose id that the policy pack does not define."""


class AccessDenied(OmniguardError):
    """Policy, role or consent forbids the requested access. The denial itself is audited."""

    exit_code = 1


class VerificationFailed(OmniguardError):
    """A check ran and found damage (audit chain, signature, checkpoint)."""

    exit_code = 1
