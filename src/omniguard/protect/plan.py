"""A protection plan: one operator per column, from the column's grade and the actor's role.

The role (``policies/roles.yaml``) says how each grade reaches it (``marketing``: internal ->
mask, sensitive -> tokenize, highly_sensitive -> drop). Non-personal categories (order numbers, USCC of a
company) keep their category's ``default_protection`` unless the role drops their grade; a free-
text column is anonymised inside, each entity by its own grade; ``generalize`` on an entity with
no coarser form falls back to ``mask``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from omniguard.classify.columns import FREE_TEXT
from omniguard.errors import InputError
from omniguard.policy.models import Grade
from omniguard.protect.generalize import GENERALISABLE
from omniguard.protect.operators import ProtectionContext, get_operator


@dataclass(frozen=True)
class ColumnAction:
    column: str
    operator: str
    grade: str
    entity: str | None = None
    category: str | None = None
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "operator": self.operator, "grade": self.grade, "entity": self.entity,
                "category": self.category, "reason": self.reason,
                "params": {k: v for k, v in self.params.items() if k != "entity_ops"}}


@dataclass
class ProtectionPlan:
    role: str
    actions: list[ColumnAction]
    dataset: str | None = None

    def action(self, column: str) -> ColumnAction:
        for a in self.actions:
            if a.column == column:
                return a
        raise KeyError(column)

    @property
    def keyed(self) -> bool:
        return any(get_operator(a.operator).keyed for a in self.actions)

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "dataset": self.dataset, "actions": [a.to_dict() for a in self.actions]}

    def apply(self, df: pd.DataFrame, ctx: ProtectionContext | None = None, *, unplanned: str = "drop") -> pd.DataFrame:
        """The protected copy of ``df``. Columns the plan does not know are dropped (fail closed),
        kept (``unplanned="keep"``) or refused (``"error"``)."""
        planned = {a.column: a for a in self.actions}
        extra = [c for c in df.columns if c not in planned]
        if extra and unplanned == "error":
            raise InputError(f"column {extra[0]!r} is not in the protection plan (scan the dataset first)")
        out: dict[str, pd.Series] = {}
        for col in df.columns:
            a = planned.get(col)
            if a is None:
                if unplanned == "keep":
                    out[col] = df[col]
                continue
            res = get_operator(a.operator).apply(df[col], entity=a.entity, column=col, ctx=ctx, **a.params)
            if res is not None:
                out[col] = res
        return pd.DataFrame(out, index=df.index)


def _text_ops(policy: Any, role: Any) -> dict[str, str]:
    ops = {}
    for entity, cat_id in policy.entity_categories.items():
        cat = policy.category(cat_id)
        op = role.protection.for_grade(cat.grade) if cat.personal else cat.default_protection
        ops[entity] = "mask" if op == "generalize" and entity not in GENERALISABLE else op
    return ops


def build_plan(record: Any, policy: Any, role: Any = None) -> ProtectionPlan:
    """Plan for a classification record (``ws.inventory.get(...)``, a TableResult or its dict)
    and a role (an id, a Role, or None for the pack's default role)."""
    rec = record.to_dict() if hasattr(record, "to_dict") else record
    role_obj = policy.role(role) if role is None or isinstance(role, str) else role
    actions = []
    for c in rec["columns"]:
        grade = Grade(c["grade"])
        op = role_obj.protection.for_grade(grade)
        reason = f"role {role_obj.id}: {grade.value} -> {op}"
        cat = policy.categories.get(c.get("category") or "")
        params: dict[str, Any] = {}
        if c.get("entity") == FREE_TEXT and op not in ("clear", "drop", "redact"):
            params = {"entity_ops": _text_ops(policy, role_obj), "default": op}
            op, reason = "anonymize_text", reason + " (free text: each entity by its own grade)"
        elif cat is not None and not cat.personal and op != "drop":
            op, reason = cat.default_protection, f"category {cat.id} is not personal: {cat.default_protection}"
        elif op == "generalize" and c.get("entity") not in GENERALISABLE:
            op, reason = "mask", reason + f" ({c.get('entity')} has no coarser form: mask)"
        actions.append(ColumnAction(column=c["name"], operator=op, grade=grade.value, entity=c.get("entity"),
                                    category=c.get("category"), reason=reason, params=params))
    return ProtectionPlan(role=role_obj.id, actions=actions, dataset=rec.get("dataset"))
