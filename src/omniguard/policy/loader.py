"""Load and validate a policy pack folder; turn every problem into a ``file: path: expected ...`` line."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from omniguard.crypto.sm3 import sm3
from omniguard.errors import PolicyError, UnknownPurpose
from omniguard.policy.models import (
    Category,
    Grade,
    Notice,
    Notices,
    Purpose,
    Purposes,
    Role,
    Roles,
    Taxonomy,
)

FILES: dict[str, type[BaseModel]] = {
    "taxonomy.yaml": Taxonomy,
    "purposes.yaml": Purposes,
    "roles.yaml": Roles,
    "notices.yaml": Notices,
}


def default_pack_dir() -> Path:
    """The pack shipped with omniguard (the repository's top-level ``policies/``)."""
    return Path(__file__).resolve().parent.parent / "policies"


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _describe(err: dict[str, Any]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "greater_than" and ctx.get("gt") == 0:
        return "expected a positive integer"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "expected an integer"
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in ("enum", "literal_error"):
        return f"expected one of {ctx.get('expected', '')}".rstrip()
    if kind in ("bool_parsing", "bool_type"):
        return "expected true or false"
    if kind in ("string_type",):
        return "expected text"
    if kind == "string_pattern_mismatch":
        return "expected a lower-case identifier (a-z, 0-9, _ or -, starting with a letter)"
    if kind in ("list_type",):
        return "expected a list"
    if kind in ("too_short",):
        return "expected a non-empty list"
    if kind in ("date_parsing", "date_type", "date_from_datetime_parsing"):
        return "expected a date (YYYY-MM-DD)"
    if kind in ("model_type", "dict_type"):
        return "expected a mapping"
    return err["msg"][0].lower() + err["msg"][1:]


def _read_yaml(path: Path, shown: str) -> Any:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise PolicyError([f"{shown}: file missing"]) from None
    except UnicodeDecodeError:
        raise PolicyError([f"{shown}: not UTF-8 text"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise PolicyError([f"{shown}: {where}{problem}"]) from None


@dataclass(frozen=True)
class PolicyPack:
    """A validated policy pack with lookups. ``version`` names the exact content (it goes into
    every audit event), so an auditor can tell which rules were in force."""

    directory: Path
    taxonomy: Taxonomy
    purposes_doc: Purposes
    roles_doc: Roles
    notices_doc: Notices
    digest: str
    _categories: dict[str, Category] = field(repr=False)
    _purposes: dict[str, Purpose] = field(repr=False)
    _roles: dict[str, Role] = field(repr=False)

    @property
    def version(self) -> str:
        return f"{self.purposes_doc.version}+sm3:{self.digest[:12]}"

    @property
    def categories(self) -> dict[str, Category]:
        return dict(self._categories)

    @property
    def purposes(self) -> dict[str, Purpose]:
        return dict(self._purposes)

    @property
    def roles(self) -> dict[str, Role]:
        return dict(self._roles)

    @property
    def notices(self) -> list[Notice]:
        return list(self.notices_doc.notices)

    def category(self, category_id: str) -> Category:
        try:
            return self._categories[category_id]
        except KeyError:
            raise PolicyError([f"unknown data category {category_id!r}"]) from None

    def purpose(self, purpose_id: str) -> Purpose:
        try:
            return self._purposes[purpose_id]
        except KeyError:
            known = ", ".join(sorted(self._purposes))
            raise UnknownPurpose(f"unknown purpose {purpose_id!r} (known: {known})") from None

    def role(self, role_id: str | None = None) -> Role:
        rid = role_id or self.roles_doc.default_role
        try:
            return self._roles[rid]
        except KeyError:
            from omniguard.errors import InputError

            raise InputError(f"unknown role {rid!r} (known: {', '.join(sorted(self._roles))})") from None

    def notice(self, notice_id: str, version: int | None = None) -> Notice:
        """A notice version; the latest one when ``version`` is None."""
        from omniguard.errors import InputError

        matches = [n for n in self.notices_doc.notices if n.id == notice_id]
        if not matches:
            raise InputError(f"unknown notice {notice_id!r}")
        if version is None:
            return max(matches, key=lambda n: n.version)
        for n in matches:
            if n.version == version:
                return n
        raise InputError(f"notice {notice_id!r} has no version {version}")

    def grade_of(self, category_id: str) -> Grade:
        return self.category(category_id).grade

    @functools.cached_property
    def entity_categories(self) -> dict[str, str]:
        """Detector entity name -> category id (from ``taxonomy.yaml`` ``entities``)."""
        return {e: c.id for c in self.taxonomy.categories for e in c.entities}


def load_pack(directory: str | Path, *, shown_prefix: str = "policies") -> PolicyPack:
    """Load and validate every file, then the references between them. Raises PolicyError with
    every problem found (the first one is the message)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PolicyError([f"{shown_prefix}: policy folder not found"])
    docs: dict[str, Any] = {}
    problems: list[str] = []
    digest_input = b""
    for name, model in FILES.items():
        shown = f"{shown_prefix}/{name}"
        try:
            raw = _read_yaml(directory / name, shown)
        except PolicyError as e:
            problems.extend(e.problems)
            continue
        digest_input += name.encode() + b"\0" + (directory / name).read_bytes() + b"\0"
        if not isinstance(raw, dict):
            problems.append(f"{shown}: expected a mapping at the top level")
            continue
        try:
            docs[name] = model.model_validate(raw)
        except ValidationError as e:
            problems.extend(f"{shown}: {_loc(err['loc'])}: {_describe(err)}" for err in e.errors())
    if problems:
        raise PolicyError(problems)
    tax: Taxonomy = docs["taxonomy.yaml"]
    pur: Purposes = docs["purposes.yaml"]
    rol: Roles = docs["roles.yaml"]
    nts: Notices = docs["notices.yaml"]
    problems += _cross_check(directory, shown_prefix, tax, pur, rol, nts)
    if problems:
        raise PolicyError(problems)
    nts = _fill_notice_terms(nts, {p.id: p for p in pur.purposes})
    for n in nts.notices:
        digest_input += (directory / n.text).read_bytes() + b"\0"
    return PolicyPack(
        directory=directory,
        taxonomy=tax,
        purposes_doc=pur,
        roles_doc=rol,
        notices_doc=nts,
        digest=sm3(digest_input).hex(),
        _categories={c.id: c for c in tax.categories},
        _purposes={p.id: p for p in pur.purposes},
        _roles={r.id: r for r in rol.roles},
    )


def _dupes(shown: str, key: str, ids: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for i, x in enumerate(ids):
        if x in seen:
            out.append(f"{shown}: {key}[{i}].id: duplicate id {x!r}")
        seen.add(x)
    return out


def _cross_check(d: Path, pre: str, tax: Taxonomy, pur: Purposes, rol: Roles, nts: Notices) -> list[str]:
    problems: list[str] = []
    problems += _dupes(f"{pre}/taxonomy.yaml", "categories", [c.id for c in tax.categories])
    problems += _dupes(f"{pre}/purposes.yaml", "purposes", [p.id for p in pur.purposes])
    problems += _dupes(f"{pre}/roles.yaml", "roles", [r.id for r in rol.roles])
    cats = {c.id for c in tax.categories}
    purposes = {p.id for p in pur.purposes}
    entity_owner: dict[str, str] = {}
    for i, c in enumerate(tax.categories):
        for e in c.entities:
            if e in entity_owner:
                problems.append(
                    f"{pre}/taxonomy.yaml: categories[{i}].entities: {e!r} already belongs to {entity_owner[e]!r}"
                )
            entity_owner[e] = c.id
    for i, p in enumerate(pur.purposes):
        for j, c in enumerate(p.categories):
            if c not in cats:
                problems.append(f"{pre}/purposes.yaml: purposes[{i}].categories[{j}]: unknown category {c!r}")
    for i, r in enumerate(rol.roles):
        for j, p in enumerate(r.purposes):
            if p != "*" and p not in purposes:
                problems.append(f"{pre}/roles.yaml: roles[{i}].purposes[{j}]: unknown purpose {p!r}")
    if rol.default_role not in {r.id for r in rol.roles}:
        problems.append(f"{pre}/roles.yaml: default_role: unknown role {rol.default_role!r}")
    seen_versions: set[tuple[str, int]] = set()
    for i, n in enumerate(nts.notices):
        if (n.id, n.version) in seen_versions:
            problems.append(f"{pre}/notices.yaml: notices[{i}]: duplicate notice {n.id}@{n.version}")
        seen_versions.add((n.id, n.version))
        text = (d / n.text).resolve()
        if not text.is_file() or d.resolve() not in text.parents:
            problems.append(f"{pre}/notices.yaml: notices[{i}].text: file {n.text!r} not found in the pack")
        for j, np_ in enumerate(n.purposes):
            if np_.purpose not in purposes:
                problems.append(
                    f"{pre}/notices.yaml: notices[{i}].purposes[{j}].purpose: unknown purpose {np_.purpose!r}"
                )
            for k, c in enumerate(np_.categories or []):
                if c not in cats:
                    problems.append(
                        f"{pre}/notices.yaml: notices[{i}].purposes[{j}].categories[{k}]: unknown category {c!r}"
                    )
    return problems


def _fill_notice_terms(nts: Notices, purposes: dict[str, Purpose]) -> Notices:
    notices = []
    for n in nts.notices:
        filled = []
        for np_ in n.purposes:
            p = purposes[np_.purpose]
            filled.append(
                np_.model_copy(
                    update={
                        "categories": np_.categories if np_.categories is not None else list(p.categories),
                        "third_parties": np_.third_parties
                        if np_.third_parties is not None
                        else [t.name for t in p.third_parties],
                        "retention_days": np_.retention_days or p.retention_days,
                    }
                )
            )
        notices.append(n.model_copy(update={"purposes": filled}))
    return nts.model_copy(update={"notices": notices})
