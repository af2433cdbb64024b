"""Classify a whole table in memory: ``classify_frame(df, policy)``.

This is the library entry point the guard calls on a DataFrame it is about to release, and what
``omniguard scan`` runs after reading a file. Cost is independent of the row count beyond one
random row sample (``scan_rows``) and one distinct count of the strongest identifier column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from omniguard.classify import columns as colmod
from omniguard.classify.hints import NameHint, hint_for
from omniguard.policy.models import Grade

DEFAULT_SAMPLE = 100
DEFAULT_SCAN_ROWS = 20_000
NON_PERSONAL_CATEGORY = "internal_business"
# Strongest first: the column whose distinct count best estimates the number of individuals.
_SUBJECT_KEYS = ("CN_RESIDENT_ID", "CN_MOBILE", "WECHAT_OPENID", "EMAIL_ADDRESS", "BANK_CARD", "CN_PASSPORT",
                 "HK_ID", "TW_ID")
SENSITIVE_VOLUME = 10_000  # sensitive PI of >= 10,000 individuals (2024 cross-border provisions)
PI_VOLUME = 1_000_000  # PI of >= 1,000,000 individuals (same provisions)
IMPORTANT_VOLUME = 10_000_000  # PI of >= 10 million (network data regulations, important-data duties)


@dataclass
class TableResult:
    dataset: str | None
    rows: int
    columns: list[colmod.ColumnResult]
    grade: str
    flags: dict[str, Any] = field(default_factory=dict)
    individuals: int = 0
    sample: int = DEFAULT_SAMPLE
    policy_version: str = ""

    def column(self, name: str) -> colmod.ColumnResult:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "rows": self.rows, "grade": self.grade, "flags": dict(self.flags),
                "individuals": self.individuals, "sample": self.sample, "policy_version": self.policy_version,
                "columns": [c.to_dict() for c in self.columns]}


def _canonical_context() -> dict[str, tuple[str, ...]]:
    from omniguard.classify.recognizers import recognizers_for

    out: dict[str, tuple[str, ...]] = {}
    for rec in recognizers_for("zh"):
        out[rec.supported_entities[0]] = tuple((rec.context or [])[:3])
    return out


def apply_category(result: colmod.ColumnResult, policy: Any, *, contains: list[str] | None = None) -> None:
    """Set category, grade and ``personal`` from the entity through the policy pack."""
    ent_cat = policy.entity_categories
    if result.entity == colmod.FREE_TEXT:
        cats = [policy.category(ent_cat[e]) for e in (contains or result.contains) if e in ent_cat]
        if cats:
            top = max(cats, key=lambda c: c.grade.rank)
            result.category, result.grade = top.id, top.grade.value
            result.personal = any(c.personal for c in cats)
            return
    cat_id = ent_cat.get(result.entity) if result.entity else None
    if cat_id is None:
        cat_id = NON_PERSONAL_CATEGORY if NON_PERSONAL_CATEGORY in policy.categories else None
        if result.entity:
            result.evidence.append(f"no category in the policy pack for {result.entity}")
    if cat_id is None:
        result.category, result.grade, result.personal = None, Grade.internal.value, False
        return
    cat = policy.category(cat_id)
    result.category, result.grade, result.personal = cat.id, cat.grade.value, cat.personal


def classify_series(name: str, col: pd.Series, policy: Any, *, analyzer: Any = None, name_hints: bool = True,
                    sample: int = DEFAULT_SAMPLE, seed: int = 0,
                    canonical: dict[str, tuple[str, ...]] | None = None) -> colmod.ColumnResult:
    """Classify one column (already row-sampled if it was long)."""
    from omniguard.classify.engine import get_analyzer, get_column_analyzer

    hint = hint_for(name, canonical if canonical is not None else _canonical_context()) if name_hints else NameHint()
    values, non_null, notes = colmod.sample_values(col, sample, seed)
    finding = colmod.decide_special_forms(values, hint)
    if finding is None:
        # Sequential sampling: 30 values first; the rest only if the decision is not yet settled.
        text = colmod.looks_like_text(values)
        chosen = analyzer or (get_analyzer() if text else get_column_analyzer())
        kw = {"text": text, "entities": None if text else _structured_entities(hint)}
        first = values.iloc[:colmod.FIRST_STAGE]
        covers, inside, scores = colmod.analyse_values(chosen, first, list(hint.context), **kw)
        if len(values) > len(first) and not colmod.settled(first, covers, inside, hint):
            more = colmod.analyse_values(chosen, values.iloc[len(first):], list(hint.context), **kw)
            covers, inside = covers + more[0], inside + more[1]
            for k, v in more[2].items():
                scores[k] = [*scores.get(k, []), *v]
        else:
            values = first
        finding = colmod.decide(values, covers, inside, scores, hint)
        if finding.entity in (None, colmod.FREE_TEXT):
            by_name = colmod.decide_by_name(values, hint)
            if by_name is not None:
                by_name.contains = finding.contains
                finding = by_name
    evidence = notes + finding.evidence
    shape = colmod.shapes_evidence(values)
    if shape and finding.entity:
        evidence.append(shape)
    if not len(values):
        evidence.append("no non-empty values")
    result = colmod.ColumnResult(name=name, entity=finding.entity, category=None, grade=Grade.internal.value,
                                 confidence=finding.confidence, prevalence=finding.prevalence, evidence=evidence,
                                 contains=finding.contains, sampled=len(values), non_null=non_null,
                                 protection=finding.protection)
    apply_category(result, policy)
    return result


def _structured_entities(hint: NameHint) -> list[str]:
    """Entities worth looking for in a structured column: context-only ones (WeChat id, passport,
    postcode ...) score below the counting threshold without a name hint, so skip them then."""
    from omniguard.classify.recognizers import CONTEXT_ONLY, STRENGTH

    return sorted(e for e, s in STRENGTH.items() if s != CONTEXT_ONLY or e in hint.entities)


def table_flags(results: list[colmod.ColumnResult], individuals: int) -> dict[str, Any]:
    entities = {c.entity for c in results if c.entity}
    personal = [c for c in results if c.personal]
    sensitive = [c for c in personal if Grade(c.grade) >= Grade.sensitive]
    kit = ("PERSON" in entities and bool(entities & {"CN_RESIDENT_ID", "CN_MOBILE", "CN_PASSPORT", "HK_ID", "TW_ID"})
           and "CN_ADDRESS" in entities)
    return {
        "reidentification_kit": kit,
        "sensitive_volume_10k": bool(sensitive) and individuals >= SENSITIVE_VOLUME,
        "pi_volume_1m": bool(personal) and individuals >= PI_VOLUME,
        "important_data_candidate": bool(personal) and individuals >= IMPORTANT_VOLUME,
        "minors": "MINOR_AGE" in entities,
        "personal_columns": len(personal),
        "sensitive_columns": len(sensitive),
    }


def table_grade(results: list[colmod.ColumnResult]) -> str:
    grades = [Grade(c.grade) for c in results] or [Grade.public]
    return max(grades, key=lambda g: g.rank).value


def estimate_individuals(df: pd.DataFrame, results: list[colmod.ColumnResult], rows: int) -> int:
    """Distinct values of the strongest identifier column; the row count when there is none."""
    by_entity = {c.entity: c.name for c in results if c.entity}
    for entity in _SUBJECT_KEYS:
        if entity in by_entity and len(df) == rows:
            return int(df[by_entity[entity]].nunique(dropna=True))
    return rows


def classify_frame(df: Any, policy: Any, *, name_hints: bool = True, sample: int = DEFAULT_SAMPLE,
                   scan_rows: int = DEFAULT_SCAN_ROWS, seed: int = 0, analyzer: Any = None,
                   dataset: str | None = None, total_rows: int | None = None,
                   progress: Any = None) -> TableResult:
    """Classify every column of a pandas / polars DataFrame or an Arrow table, in memory.

    ``sample`` distinct values per column go through Presidio (k=100 by default; 30 is enough for
    checksum and pattern types); they are drawn from one random sample of ``scan_rows`` rows shared
    by all columns. ``name_hints=False`` ignores column names (the "opaque" benchmark track).
    ``total_rows`` gives the true size when ``df`` is itself a sample (SQL sources). Nothing is
    audited here: callers that read a source record the read (``scan`` does)."""
    rows = total_rows if total_rows is not None else len(df)
    frame = _to_pandas(df, scan_rows, seed)
    sub = frame
    if len(frame) > scan_rows:
        idx = np.sort(np.random.default_rng(seed).choice(len(frame), scan_rows, replace=False))
        sub = frame.iloc[idx]
    canonical = _canonical_context()
    results = []
    for i, name in enumerate(sub.columns):
        results.append(classify_series(str(name), sub[name], policy, analyzer=analyzer, name_hints=name_hints,
                                       sample=sample, seed=seed + i, canonical=canonical))
        if progress:
            progress(i + 1)
    individuals = estimate_individuals(frame, results, rows)
    return TableResult(dataset=dataset, rows=rows, columns=results, grade=table_grade(results),
                       flags=table_flags(results, individuals), individuals=individuals, sample=sample,
                       policy_version=getattr(policy, "version", ""))


def _to_pandas(df: Any, scan_rows: int, seed: int) -> pd.DataFrame:
    if isinstance(df, pd.DataFrame):
        return df
    mod = type(df).__module__
    if mod.startswith("polars"):
        return df.to_pandas() if len(df) <= scan_rows * 50 else df.sample(scan_rows, seed=seed).to_pandas()
    if mod.startswith("pyarrow"):
        return df.to_pandas()
    raise TypeError("classify_frame takes a pandas or polars DataFrame or a pyarrow Table")
