"""Free text (备注, chat logs, reviews): find entities with the analyzer, then replace each one
through presidio-anonymizer using omniguard's own operators, so ``请联系王斌，电话16577855754``
becomes ``请联系王*，电话165****5754`` under the same mask shapes as the columns.

This is the one per-cell path: each distinct text goes through Presidio once (duplicates are
analysed once). Offsets stay valid because normalisation (full-width -> ASCII) keeps lengths.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from omniguard.protect.operators import OPERATORS, Operator, ProtectionContext, register

TEXT_SCORE = 0.4


def _single(op: str, entity: str, column: str, ctx: ProtectionContext | None, params: dict[str, Any]):
    def run(text: str) -> str:
        out = OPERATORS[op].apply(pd.Series([text], dtype="str"), entity=entity, column=column, ctx=ctx, **params)
        return "" if out is None or pd.isna(out.iloc[0]) else str(out.iloc[0])

    return run


def operator_configs(entity_ops: dict[str, str], default: str, column: str, ctx: ProtectionContext | None,
                     entities: list[str]) -> dict[str, Any]:
    """Presidio OperatorConfig per entity from omniguard operator names."""
    from presidio_anonymizer.entities import OperatorConfig

    configs = {}
    for entity in entities:
        op = entity_ops.get(entity, default)
        if op == "clear":
            configs[entity] = OperatorConfig("keep")
        elif op == "drop":
            configs[entity] = OperatorConfig("redact")
        elif op == "redact":
            configs[entity] = OperatorConfig("replace", {"new_value": f"<{entity}>"})
        else:
            configs[entity] = OperatorConfig("custom", {"lambda": _single(op, entity, column, ctx, {})})
    return configs


def anonymize_texts(values: pd.Series, *, entity_ops: dict[str, str], default: str = "mask", column: str = "",
                    ctx: ProtectionContext | None = None, analyzer: Any = None, language: str = "zh") -> pd.Series:
    from presidio_anonymizer import AnonymizerEngine

    from omniguard.classify.engine import get_analyzer
    from omniguard.classify.recognizers import supported_entities
    from omniguard.classify.recognizers.validators import normalise_text

    analyzer = analyzer or get_analyzer()
    engine = AnonymizerEngine()
    configs = operator_configs(entity_ops, default, column, ctx, supported_entities())
    distinct = values.dropna().astype("str").unique()
    out: dict[str, str] = {}
    for text in distinct:
        found = [r for r in analyzer.analyze(text=normalise_text(text), language=language) if r.score >= TEXT_SCORE]
        out[text] = engine.anonymize(text=text, analyzer_results=found, operators=configs).text if found else text
    return values.map(out, na_action="ignore").astype("str").where(values.notna())


@register
class AnonymizeText(Operator):
    """Free-text columns: each entity found inside is protected by the operator ``entity_ops``
    names for it (``default`` otherwise)."""

    name = "anonymize_text"

    def apply(self, values, *, entity=None, column="", ctx=None, entity_ops: dict[str, str] | None = None,
              default: str = "mask", **_):
        return anonymize_texts(values, entity_ops=entity_ops or {}, default=default, column=column, ctx=ctx)
