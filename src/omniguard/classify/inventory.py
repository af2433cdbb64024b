"""The workspace inventory (``ws.inventory``): what each dataset holds, when it was scanned, by
whom, and which columns a human confirmed or corrected.

``get(dataset)`` is the contract the guard relies on: a plain dict whose columns already carry the
human overrides (``overridden`` true, ``detected_category`` the scan's own answer), with the table
grade and flags recomputed from them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select

from omniguard.classify.tables import classify_columns, classify_datasets, classify_overrides
from omniguard.config import iso_utc
from omniguard.errors import InputError, PolicyError


class Inventory:
    def __init__(self, ws: Any):
        self.ws = ws

    # --- writing -------------------------------------------------------------------------------

    def save(self, result: Any, *, dataset: str | None = None, source: str = "frame",
             actor: str | None = None) -> dict[str, Any]:
        """Store a :class:`~omniguard.classify.table.TableResult` (replacing an earlier scan of the
        same dataset; overrides are kept) and audit it in the same transaction."""
        name = dataset or result.dataset
        if not name:
            raise InputError("a dataset name is needed to save a scan in the inventory")
        who = actor or self.ws.audit.actor
        row = {"dataset": name, "source": source, "rows": int(result.rows), "individuals": int(result.individuals),
               "grade": result.grade, "flags": json.dumps(result.flags, sort_keys=True), "sample": int(result.sample),
               "policy_version": result.policy_version[:64], "scanned_at": iso_utc(), "scanned_by": who[:256]}
        cols = [{"dataset": name, "name": c.name, "position": i, "entity": c.entity, "category": c.category,
                 "grade": c.grade, "confidence": float(c.confidence), "prevalence": float(c.prevalence),
                 "personal": bool(c.personal), "evidence": json.dumps(c.evidence, ensure_ascii=False),
                 "contains": json.dumps(c.contains), "sampled": int(c.sampled), "non_null": int(c.non_null),
                 "protection": c.protection}
                for i, c in enumerate(result.columns)]
        with self.ws.store.write() as conn:
            conn.execute(delete(classify_columns).where(classify_columns.c.dataset == name))
            conn.execute(delete(classify_datasets).where(classify_datasets.c.dataset == name))
            conn.execute(classify_datasets.insert().values(**row))
            if cols:
                conn.execute(classify_columns.insert(), cols)
            self.ws.audit.record("inventory.save", conn=conn, actor=who, dataset=name,
                                 columns=[c.name for c in result.columns], rows=int(result.rows), decision="info",
                                 details={"grade": result.grade, "personal_columns": result.flags.get("personal_columns"),
                                          "sample": int(result.sample)})
        return self.get(name)  # type: ignore[return-value]

    def set_override(self, dataset: str, column: str, category: str, *, actor: str | None = None) -> dict[str, Any]:
        """A human's decision on one column's category; it wins over every later scan."""
        try:
            self.ws.policy.category(category)
        except PolicyError:
            known = ", ".join(sorted(self.ws.policy.categories))
            raise InputError(f"unknown category {category!r} (known: {known})") from None
        record = self.get(dataset)
        if record is None:
            raise InputError(f"dataset {dataset!r} is not in the inventory; scan it with --save first")
        if column not in {c["name"] for c in record["columns"]}:
            raise InputError(f"dataset {dataset!r} has no column {column!r}")
        who = actor or self.ws.audit.actor
        with self.ws.store.write() as conn:
            conn.execute(delete(classify_overrides).where((classify_overrides.c.dataset == dataset)
                                                          & (classify_overrides.c.name == column)))
            conn.execute(classify_overrides.insert().values(dataset=dataset, name=column, category=category,
                                                            set_by=who[:256], set_at=iso_utc()))
            self.ws.audit.record("inventory.override", conn=conn, actor=who, dataset=dataset, columns=[column],
                                 decision="info", details={"category": category})
        return self.get(dataset)  # type: ignore[return-value]

    def clear_override(self, dataset: str, column: str, *, actor: str | None = None) -> bool:
        with self.ws.store.write() as conn:
            n = conn.execute(delete(classify_overrides).where((classify_overrides.c.dataset == dataset)
                                                              & (classify_overrides.c.name == column))).rowcount
            if n:
                self.ws.audit.record("inventory.override", conn=conn, actor=actor, dataset=dataset, columns=[column],
                                     decision="info", details={"cleared": True})
        return bool(n)

    # --- reading -------------------------------------------------------------------------------

    def get(self, dataset: str) -> dict[str, Any] | None:
        """The dataset's record with overrides applied, or None if it was never saved."""
        with self.ws.store.read() as conn:
            head = conn.execute(select(classify_datasets).where(classify_datasets.c.dataset == dataset)).mappings().first()
            if head is None:
                return None
            cols = conn.execute(select(classify_columns).where(classify_columns.c.dataset == dataset)
                                .order_by(classify_columns.c.position)).mappings().all()
            overrides = {r.name: r for r in conn.execute(
                select(classify_overrides).where(classify_overrides.c.dataset == dataset))}
        return self._record(dict(head), [dict(c) for c in cols], overrides)

    def column_grades(self, dataset: str) -> dict[str, str] | None:
        """{column: grade} with overrides applied, or None if the dataset was never saved."""
        rec = self.get(dataset)
        return None if rec is None else {c["name"]: c["grade"] for c in rec["columns"]}

    def datasets(self) -> list[dict[str, Any]]:
        """One summary line per dataset (name, rows, grade, scanned_at, scanned_by)."""
        with self.ws.store.read() as conn:
            rows = conn.execute(select(classify_datasets.c.dataset, classify_datasets.c.rows,
                                       classify_datasets.c.grade, classify_datasets.c.scanned_at,
                                       classify_datasets.c.scanned_by).order_by(classify_datasets.c.dataset))
            return [dict(r._mapping) for r in rows]

    def _record(self, head: dict[str, Any], cols: list[dict[str, Any]], overrides: dict[str, Any]) -> dict[str, Any]:
        from omniguard.classify.columns import ColumnResult
        from omniguard.classify.table import table_flags, table_grade

        results = []
        for c in cols:
            r = ColumnResult(name=c["name"], entity=c["entity"], category=c["category"], grade=c["grade"],
                             confidence=c["confidence"], prevalence=c["prevalence"],
                             evidence=json.loads(c["evidence"]), contains=json.loads(c["contains"]),
                             personal=bool(c["personal"]), sampled=c["sampled"], non_null=c["non_null"],
                             protection=c.get("protection"))
            o = overrides.get(c["name"])
            if o is not None and o.category in self.ws.policy.categories:
                cat = self.ws.policy.category(o.category)
                r.detected_category = r.category
                r.category, r.grade, r.personal, r.overridden = cat.id, cat.grade.value, cat.personal, True
                r.evidence = [*r.evidence, f"category set by {o.set_by} at {o.set_at}"]
            results.append(r)
        flags = json.loads(head["flags"])
        flags.update(table_flags(results, int(head["individuals"])))
        return {
            "dataset": head["dataset"], "source": head["source"], "rows": int(head["rows"]),
            "individuals": int(head["individuals"]), "grade": table_grade(results), "flags": flags,
            "sample": head["sample"], "policy_version": head["policy_version"], "scanned_at": head["scanned_at"],
            "scanned_by": head["scanned_by"], "columns": [r.to_dict() for r in results],
        }
