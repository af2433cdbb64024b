"""The guard: one gate for every data access by a pipeline.

``ws.guard(df, purpose=..., actor=..., role=None, subject_column=...)`` returns the frame a
pipeline step may use, after, in this order:

1. the purpose exists and the role may use it; a cross-border purpose has a recorded mechanism;
2. the dataset has an inventory entry (classified in memory and saved on first sight, and the
   result says so);
3. highly sensitive columns asked for a purpose whose ceiling is lower are refused outright;
4. rows of subjects without valid consent for the purpose are dropped (PIPL Art. 13-14; the
   consent registry knows about separate consent, guardians, withdrawals, opt-outs, erasure);
5. columns outside the purpose's categories, or above its grade ceiling, are dropped (Art. 6);
6. every remaining column is protected by the plan for its grade and the role;
7. one audit event with the decision and the counts.

Denials raise :class:`omniguard.errors.AccessDenied` after writing their own audit event.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from omniguard.errors import AccessDenied, InputError, OmniguardError
from omniguard.guard.frames import to_pandas
from omniguard.policy import Grade, LegalBasis


@dataclasses.dataclass
class GuardResult:
    frame: Any
    dataset: str
    purpose: str
    role: str
    decision: str  # allow | partial
    rows_in: int
    rows_out: int
    columns_out: list[str]
    dropped_columns: dict[str, str]  # column -> why
    operators: dict[str, str]  # column -> operator applied
    scanned_now: bool
    audit_seq: int
    timings: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per stage

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("frame")
        d["rows_dropped"] = self.rows_in - self.rows_out
        return d


class Guard:
    """``ws.guard``: call it on a frame; ``run`` gives the frame with the decision and counts."""

    def __init__(self, ws: Any):
        self.ws = ws

    def __call__(self, frame: Any, *, purpose: str, actor: str, role: str | None = None,
                 subject_column: str | None = None, dataset: str | None = None, scan: bool = True) -> Any:
        return self.run(frame, purpose=purpose, actor=actor, role=role, subject_column=subject_column,
                        dataset=dataset, scan=scan).frame

    # --- the gate ---------------------------------------------------------------------------

    def run(self, frame: Any, *, purpose: str, actor: str, role: str | None = None,
            subject_column: str | None = None, dataset: str | None = None, scan: bool = True) -> GuardResult:
        """The gate (see the module docstring). ``scan=False`` refuses a dataset with no inventory
        instead of classifying it (batch workers must not race to classify the same data)."""
        clock = _Laps()
        df, back = to_pandas(frame)
        dataset = dataset or _frame_name(df)
        ws, policy = self.ws, self.ws.policy
        base = {"actor": actor, "dataset": dataset, "rows": len(df)}

        def deny(reason: str, *, role_id: str | None = None, purpose_id: str | None = None) -> None:
            ws.audit.record("read", decision="deny", reason=reason, role=role_id, purpose=purpose_id, **base)
            raise AccessDenied(f"access denied: {reason}")

        try:
            p = policy.purpose(purpose)
            r = policy.role(role)
        except OmniguardError as e:  # unknown purpose or role: bad input, still audited
            ws.audit.record("read", decision="deny", reason=e.message[:200], **base)
            raise
        if not r.may_use(p.id):
            deny(f"role {r.id} may not use purpose {p.id}", role_id=r.id, purpose_id=p.id)
        if p.cross_border is not None and p.cross_border.mechanism is None:
            deny(f"purpose {p.id} transfers data abroad without a recorded assessment, standard contract or "
                 "certification (PIPL Art. 38)", role_id=r.id, purpose_id=p.id)
        if subject_column is not None and subject_column not in df.columns:
            raise InputError(f"subject column {subject_column!r} is not in the data")

        clock.lap("checks")
        record, scanned_now = self._inventory(df, dataset, scan=scan)
        columns = {c["name"]: c for c in record["columns"] if c["name"] in df.columns}
        unknown = [c for c in df.columns if c not in columns]
        if unknown:  # the data has columns the inventory never saw: classify them now
            if not scan:
                raise InputError(f"dataset {dataset!r} has columns its inventory lacks; scan it again")
            record, scanned_now = self._inventory(df, dataset, scan=True, rescan=True)
            columns = {c["name"]: c for c in record["columns"] if c["name"] in df.columns}

        top = [n for n, c in columns.items() if Grade(c["grade"]) == Grade.highly_sensitive
               and c.get("personal", True) and p.max_grade < Grade.highly_sensitive]
        if top:
            deny(f"highly sensitive data ({len(top)} column(s): {', '.join(top)}) requested for purpose {p.id}, "
                 f"which allows up to {p.max_grade.value}", role_id=r.id, purpose_id=p.id)

        keep, dropped = self._minimum_necessary(columns, p, subject_column)
        if subject_column is None and p.legal_basis == LegalBasis.consent and any(
                c.get("personal", True) and c.get("category") for c in columns.values() if c["name"] in keep):
            deny(f"purpose {p.id} rests on consent: name the subject column so that only consenting "
                 "subjects' rows are released", role_id=r.id, purpose_id=p.id)

        clock.lap("inventory")
        rows = np.ones(len(df), dtype=bool)
        subjects = None
        if subject_column is not None:
            rows = ws.consent.allowed(df[subject_column], p.id, record=False)
            subjects = df[subject_column][rows]
        clock.lap("consent")
        kept = df.loc[rows, keep] if not rows.all() else df[keep]
        clock.lap("select")

        from omniguard.protect import ProtectionContext, build_plan

        plan = build_plan({"dataset": dataset, "columns": [columns[c] for c in keep]}, policy, r)
        plan = _keep_stored_protection(plan, columns)
        if subject_column is not None:
            plan = _pseudonymise_subject_column(plan, subject_column, r)
        ctx = ProtectionContext.from_workspace(ws, dataset, subject_ids=subjects)
        out = plan.apply(kept, ctx, unplanned="drop")
        clock.lap("protect")
        for a in plan.actions:
            if a.operator == "drop":
                dropped[a.column] = a.reason
        decision = "allow" if rows.all() and not dropped else "partial"
        operators = {a.column: a.operator for a in plan.actions if a.operator != "drop"}
        rec = ws.audit.record(
            "read", actor=actor, role=r.id, purpose=p.id, legal_basis=p.legal_basis.value, dataset=dataset,
            columns=list(out.columns), rows=len(out), subjects=subjects if subjects is not None else None,
            decision=decision,
            reason=f"{len(df) - len(out)} row(s) without valid consent dropped" if not rows.all() else "",
            details={"rows_in": len(df), "rows_without_consent": int((~rows).sum()),
                     "columns_dropped": len(dropped), "operators": sorted(set(operators.values())),
                     "scanned_now": scanned_now},
        )
        clock.lap("audit")
        result = back(out.reset_index(drop=True))
        clock.lap("convert")
        return GuardResult(result, dataset, p.id, r.id, decision, len(df), len(out), list(out.columns), dropped,
                           operators, scanned_now, rec.seq, clock.laps)

    def _inventory(self, df: pd.DataFrame, dataset: str, *, scan: bool,
                   rescan: bool = False) -> tuple[dict[str, Any], bool]:
        inv = self.ws.inventory
        record = None if rescan else inv.get(dataset)
        if record is not None:
            return record, False
        if not scan:
            raise InputError(f"dataset {dataset!r} has no inventory entry; run `omniguard scan` on it first")
        from omniguard.classify import classify_frame

        result = classify_frame(df, self.ws.policy)
        result.dataset = dataset
        inv.save(result, dataset=dataset, source="guard")
        return inv.get(dataset), True

    def _minimum_necessary(self, columns: dict[str, dict[str, Any]], p: Any,
                           subject_column: str | None) -> tuple[list[str], dict[str, str]]:
        keep, dropped = [], {}
        for name, c in columns.items():
            cat, grade = c.get("category"), Grade(c["grade"])
            personal = c.get("personal", True) and cat is not None
            if name == subject_column:
                keep.append(name)  # pseudonymised by the plan like any identifier
            elif not personal:
                keep.append(name)
            elif cat not in p.categories:
                dropped[name] = f"category {cat} is not used by purpose {p.id} (minimum necessary, Art. 6)"
            elif grade > p.max_grade:
                dropped[name] = f"grade {grade.value} is above purpose {p.id}'s ceiling {p.max_grade.value}"
            else:
                keep.append(name)
        return keep, dropped

    # --- pipeline forms -----------------------------------------------------------------------

    def step(self, *, purpose: str, actor: str, role: str | None = None, subject_column: str | None = None,
             dataset: str | None = None) -> Callable:
        """Decorator: the step's first argument is guarded before the step sees it."""

        def deco(fn: Callable) -> Callable:
            @functools.wraps(fn)
            def wrapper(frame: Any, *args: Any, **kwargs: Any) -> Any:
                guarded = self(frame, purpose=purpose, actor=actor, role=role, subject_column=subject_column,
                               dataset=dataset)
                return fn(guarded, *args, **kwargs)

            return wrapper

        return deco

    @contextlib.contextmanager
    def session(self, *, purpose: str, actor: str, role: str | None = None,
                subject_column: str | None = None) -> Iterator[Callable[..., Any]]:
        """``with ws.guard.session(purpose=..., actor=...) as g: out = g(df, dataset="crm")``"""

        def gate(frame: Any, dataset: str | None = None, subject_column_: str | None = None) -> Any:
            return self(frame, purpose=purpose, actor=actor, role=role,
                        subject_column=subject_column_ or subject_column, dataset=dataset)

        yield gate


class _Laps:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._t, 4)
        self._t = now


def _keep_stored_protection(plan: Any, columns: dict[str, dict[str, Any]]) -> Any:
    """Values already stored as SM4 ciphertexts or keyed tokens leave as they are (unless the role
    drops their grade): masking a ciphertext is meaningless, and the guard never decrypts."""
    actions = []
    for a in plan.actions:
        if columns[a.column].get("protection") in ("encrypted", "tokenized") and a.operator != "drop":
            a = dataclasses.replace(a, operator="clear", params={},
                                    reason=f"stored {columns[a.column]['protection']}: released as stored")
        actions.append(a)
    return dataclasses.replace(plan, actions=actions)


def _pseudonymise_subject_column(plan: Any, subject_column: str, role: Any) -> Any:
    """The subject id identifies a person whatever its values look like (at least an internal-grade
    online identifier): it leaves in clear only to roles that see that grade in clear, otherwise as
    a keyed token, so released rows stay joinable inside the organisation (pseudonymised data,
    PIPL Art. 73) and nothing more."""
    actions = []
    for a in plan.actions:
        grade = max(Grade(a.grade), Grade.internal)
        if a.column == subject_column and role.protection.for_grade(grade) != "clear":
            a = dataclasses.replace(a, operator="tokenize", params={},
                                    reason=f"subject id: keyed token (role {plan.role} does not see it in clear)")
        actions.append(a)
    return dataclasses.replace(plan, actions=actions)


def _frame_name(df: pd.DataFrame) -> str:
    """A stable name for an unnamed frame: its column names (never its values)."""
    from omniguard.crypto.sm3 import sm3

    return "frame:" + sm3("\x1f".join(map(str, df.columns)).encode()).hex()[:12]
