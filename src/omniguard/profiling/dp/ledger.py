"""The privacy budget ledger: one (epsilon, delta) budget per dataset, and every DP job or release
charged against it. ``ws.ledger`` is a :class:`BudgetLedger`.

Spending composes by basic composition (epsilons and deltas add up), which is loose but holds for
any mix of mechanisms and accountants; the per-job figures themselves come from the PLD
accountant. A charge is checked and written under the store's writer lock together with its audit
event, so two jobs approved at once cannot both squeeze into the last of a budget. A refused
charge raises :class:`~omniguard.errors.AccessDenied` and is audited too.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from omniguard.config import iso_utc
from omniguard.errors import AccessDenied, InputError
from omniguard.profiling.tables import dp_budgets, dp_ledger

KINDS = ("federated-job", "release")
_SLACK = 1e-9  # float noise when a charge lands exactly on the budget


@dataclass(frozen=True)
class BudgetState:
    dataset: str
    epsilon: float | None  # None: no budget set, so nothing may be charged
    delta: float | None
    spent_epsilon: float
    spent_delta: float

    @property
    def remaining_epsilon(self) -> float | None:
        return None if self.epsilon is None else max(0.0, self.epsilon - self.spent_epsilon)

    @property
    def remaining_delta(self) -> float | None:
        return None if self.delta is None else max(0.0, self.delta - self.spent_delta)

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "budget_epsilon": self.epsilon, "budget_delta": self.delta,
                "spent_epsilon": round(self.spent_epsilon, 6), "spent_delta": self.spent_delta,
                "remaining_epsilon": None if self.remaining_epsilon is None else round(self.remaining_epsilon, 6),
                "remaining_delta": self.remaining_delta, "composition": "basic (sums of epsilon and delta)"}


def _check_dataset(dataset: str) -> str:
    if not isinstance(dataset, str) or not dataset.strip() or len(dataset) > 200:
        raise InputError("a dataset name is 1-200 characters")
    return dataset.strip()


def _check_loss(epsilon: float, delta: float) -> None:
    if not (math.isfinite(epsilon) and epsilon >= 0):
        raise InputError("epsilon must be a finite number >= 0")
    if not (math.isfinite(delta) and 0 <= delta < 1):
        raise InputError("delta must be in [0, 1)")


class BudgetLedger:
    def __init__(self, ws: Any):
        self.ws = ws

    # --- budgets -------------------------------------------------------------------------------

    def set_budget(self, dataset: str, epsilon: float, delta: float) -> BudgetState:
        """Set (or change) the total budget of a dataset. Lowering it below what is spent is
        allowed (the dataset is then simply exhausted) and shows in the audit event."""
        dataset = _check_dataset(dataset)
        _check_loss(epsilon, delta)
        with self.ws.store.write() as conn:
            before = self._state(conn, dataset)
            values = {"epsilon": float(epsilon), "delta": float(delta), "updated_at": iso_utc(),
                      "updated_by": self.ws.audit.actor}
            if before.epsilon is None:
                conn.execute(dp_budgets.insert().values(dataset=dataset, **values))
            else:
                conn.execute(dp_budgets.update().where(dp_budgets.c.dataset == dataset).values(**values))
            self.ws.audit.record("dp.budget.set", conn=conn, dataset=dataset, decision="info",
                                 details={"epsilon": epsilon, "delta": delta, "previous_epsilon": before.epsilon,
                                          "spent_epsilon": round(before.spent_epsilon, 6)})
            return self._state(conn, dataset)

    def state(self, dataset: str) -> BudgetState:
        with self.ws.store.read() as conn:
            return self._state(conn, _check_dataset(dataset))

    def datasets(self) -> list[BudgetState]:
        with self.ws.store.read() as conn:
            names = {r[0] for r in conn.execute(select(dp_budgets.c.dataset))}
            names |= {r[0] for r in conn.execute(select(dp_ledger.c.dataset).distinct())}
            return [self._state(conn, n) for n in sorted(names)]

    def _state(self, conn: Connection, dataset: str) -> BudgetState:
        row = conn.execute(select(dp_budgets.c.epsilon, dp_budgets.c.delta)
                           .where(dp_budgets.c.dataset == dataset)).first()
        spent = conn.execute(select(func.coalesce(func.sum(dp_ledger.c.epsilon), 0.0),
                                    func.coalesce(func.sum(dp_ledger.c.delta), 0.0))
                             .where(dp_ledger.c.dataset == dataset)).first()
        return BudgetState(dataset, None if row is None else float(row[0]), None if row is None else float(row[1]),
                           float(spent[0]), float(spent[1]))

    # --- charges -------------------------------------------------------------------------------

    def charge(self, dataset: str, epsilon: float, delta: float, *, kind: str, ref: str, unit: str,
               purpose: str | None = None, details: dict[str, Any] | None = None) -> int:
        """Record a privacy loss against ``dataset``; refuse it when the budget would be exceeded.
        Returns the ledger entry id."""
        dataset = _check_dataset(dataset)
        _check_loss(epsilon, delta)
        if kind not in KINDS:
            raise InputError(f"ledger kind must be one of {', '.join(KINDS)}")
        info = {"kind": kind, "ref": ref, "epsilon": epsilon, "delta": delta, "unit": unit, **(details or {})}
        with self.ws.store.write() as conn:
            st = self._state(conn, dataset)
            reason = _refusal(st, epsilon, delta)
            if reason is None:
                result = conn.execute(dp_ledger.insert().values(
                    ts=iso_utc(), dataset=dataset, kind=kind, ref=ref, epsilon=float(epsilon), delta=float(delta),
                    unit=unit, status="charged", details=json.dumps(details or {}, sort_keys=True, default=str)))
                entry = int(result.inserted_primary_key[0])
                self.ws.audit.record("dp.charge", conn=conn, dataset=dataset, purpose=purpose,
                                     details={**info, "entry": entry,
                                              "remaining_epsilon": round(st.epsilon - st.spent_epsilon - epsilon, 6)})
                return entry
        self.ws.audit.record("dp.charge", dataset=dataset, purpose=purpose, decision="deny", reason=reason, details=info)
        raise AccessDenied(f"privacy budget of dataset {dataset!r}: {reason}",
                           hint="see `omniguard dp budget show`; a data owner may raise it with `omniguard dp budget set`")

    def settle(self, entry: int, epsilon: float, delta: float) -> None:
        """Replace a planned charge by what actually ran (never more than was approved)."""
        _check_loss(epsilon, delta)
        with self.ws.store.write() as conn:
            row = conn.execute(select(dp_ledger.c.dataset, dp_ledger.c.epsilon, dp_ledger.c.delta, dp_ledger.c.ref)
                               .where(dp_ledger.c.id == entry)).first()
            if row is None:
                raise InputError(f"no ledger entry {entry}")
            if epsilon > row[1] + _SLACK or delta > row[2] + _SLACK:
                raise InputError(f"ledger entry {entry}: what ran cannot exceed what was approved")
            conn.execute(dp_ledger.update().where(dp_ledger.c.id == entry)
                         .values(epsilon=float(epsilon), delta=float(delta), status="settled"))
            self.ws.audit.record("dp.settle", conn=conn, dataset=row[0], decision="info",
                                 details={"entry": entry, "ref": row[3], "approved_epsilon": row[1],
                                          "epsilon": epsilon, "delta": delta})

    def entries(self, dataset: str | None = None) -> list[dict[str, Any]]:
        q = select(dp_ledger).order_by(dp_ledger.c.id)
        if dataset:
            q = q.where(dp_ledger.c.dataset == dataset)
        with self.ws.store.read() as conn:
            return [{**dict(r._mapping), "details": json.loads(r.details)} for r in conn.execute(q)]


def _refusal(st: BudgetState, epsilon: float, delta: float) -> str | None:
    if st.epsilon is None or st.delta is None:
        return "no budget is set for this dataset"
    if st.spent_epsilon + epsilon > st.epsilon + _SLACK:
        return (f"epsilon {epsilon:.4g} requested, {max(0.0, st.epsilon - st.spent_epsilon):.4g} "
                f"of {st.epsilon:g} left")
    if st.spent_delta + delta > st.delta + _SLACK:
        return f"delta {delta:g} requested, {max(0.0, st.delta - st.spent_delta):g} of {st.delta:g} left"
    return None
