"""Scan one source into a classification record: read, audit the read, classify, optionally save
and apply human overrides. The ``scan`` command is a thin loop over :func:`scan_source`."""

from __future__ import annotations

from typing import Any

from omniguard.errors import InputError


def parse_overrides(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["mobile=contact", "备注=internal_business"]`` -> {column: category}."""
    out: dict[str, str] = {}
    for item in items:
        col, sep, cat = item.rpartition("=")
        if not sep or not col.strip() or not cat.strip():
            raise InputError(f"--set expects COLUMN=CATEGORY, got {item!r}")
        out[col.strip()] = cat.strip()
    return out


def scan_source(ws: Any, spec: str, *, sample: int = 100, save: bool = False, overrides: dict[str, str] | None = None,
                name_hints: bool = True, dataset: str | None = None, progress: Any = None,
                strict_overrides: bool = True) -> dict[str, Any]:
    """Classify ``spec`` (a file path or ``URL#table``) and return its record (the inventory's
    record, overrides applied, when saved). With ``strict_overrides`` an override naming a column
    the source lacks is an error raised before anything is saved; otherwise it is skipped."""
    from omniguard.classify.readers import read_source
    from omniguard.classify.table import DEFAULT_SCAN_ROWS, classify_frame

    if sample < 1:
        raise InputError("--sample must be at least 1")
    df, src = read_source(spec, sample_rows=DEFAULT_SCAN_ROWS)
    name = dataset or src.dataset
    ws.audit.record("scan", dataset=name, columns=[str(c) for c in df.columns], rows=len(df),
                    details={"source": src.kind, "total_rows": src.total_rows, "sample": sample})
    result = classify_frame(df, ws.policy, name_hints=name_hints, sample=sample, dataset=name,
                            total_rows=src.total_rows, progress=progress)
    overrides = overrides or {}
    unknown = [c for c in overrides if c not in {r.name for r in result.columns}]
    if unknown and strict_overrides:
        raise InputError(f"{name}: no column named {unknown[0]!r} (--set)")
    if not (save or overrides):
        rec = result.to_dict()
        rec["saved"] = False
        return rec
    ws.inventory.save(result, dataset=name, source=src.kind)
    for col, cat in overrides.items():
        if col not in unknown:
            ws.inventory.set_override(name, col, cat)
    rec = ws.inventory.get(name)
    rec["saved"] = True
    rec["overrides_applied"] = sorted(c for c in overrides if c not in unknown)
    return rec
