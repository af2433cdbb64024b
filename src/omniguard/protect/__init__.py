"""Protection operators (redact, mask, generalize, tokenize, encrypt, drop, anonymize_text) and
protection plans (an operator per column from its grade and the actor's role)."""

from __future__ import annotations

from omniguard.protect import text as _text  # noqa: F401  (registers anonymize_text)
from omniguard.protect.operators import OPERATORS, Operator, ProtectionContext, get_operator, register
from omniguard.protect.plan import ColumnAction, ProtectionPlan, build_plan

__all__ = ["OPERATORS", "ColumnAction", "Operator", "ProtectionContext", "ProtectionPlan", "build_plan",
           "get_operator", "register"]
