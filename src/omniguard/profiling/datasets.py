"""Data for benchmarks, tests and the demo: the CoIL-2000 "Caravan" customers (real, offline, in
the ``islp`` wheel) and a small numeric retail generator with a planted propensity.

The generator is deliberately simple and documented, so a reader can tell which effects the
federated models should find: several latent segments, per-partner covariate and label shift,
and a purchase propensity that depends on a few features.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omniguard.errors import InputError

# --- CoIL-2000 Caravan ----------------------------------------------------------------------------

# Horizontal split by customer main type (MOSHOOFD 1..10): each partner serves different kinds of
# customers, the non-IID case of the research notes.
CARAVAN_PARTNERS: dict[str, tuple[int, ...]] = {
    "p1": (1, 2), "p2": (3, 4), "p3": (5, 6, 7), "p4": (8,), "p5": (9, 10),
}


def caravan_path() -> Path:
    """Where ``ISLP/data/Caravan.csv`` lives, found without importing ISLP (which would pull in
    torch and friends)."""
    spec = importlib.util.find_spec("ISLP")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the CoIL-2000 data comes from the islp wheel: pip install --no-deps islp")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "Caravan.csv"
    if not path.is_file():
        raise InputError("the installed islp wheel has no data/Caravan.csv")
    return path


def load_caravan() -> pd.DataFrame:
    """5,822 customers x 85 features + ``Purchase`` (0/1: bought the new caravan policy)."""
    df = pd.read_csv(caravan_path())
    df["Purchase"] = (df["Purchase"] == "Yes").astype(np.int8)
    return df


# --- synthetic retail customers ---------------------------------------------------------------------

RETAIL_FEATURES: dict[str, tuple[float, float]] = {
    # column: (lower, upper) bounds a job spec would declare; values outside are clipped.
    "recency_days": (0.0, 365.0),
    "frequency_90d": (0.0, 30.0),
    "monetary_90d": (0.0, 5000.0),
    "share_beauty": (0.0, 1.0),
    "share_baby": (0.0, 1.0),
    "share_fresh": (0.0, 1.0),
    "age_band": (1.0, 7.0),
    "city_tier": (1.0, 5.0),
}
RETAIL_LABEL = "bought_new"


@dataclass(frozen=True)
class RetailPlan:
    partners: int = 2
    customers: int = 2000  # per partner
    segments: int = 5
    seed: int = 7
    label_shift: float = 0.8  # spread of per-partner base rates (log-odds)
    extra_features: int = 0  # more category-share columns that follow the segment but not the label
    base_logit: float = -2.6  # log-odds of buying for an average customer
    signal: float = 2.0  # strength of the planted propensity


def retail_customers(plan: RetailPlan) -> list[pd.DataFrame]:
    """One frame per partner: ``member_id``, the :data:`RETAIL_FEATURES` columns, ``segment`` (the
    planted truth) and ``bought_new``. Partners share the segment profiles but mix them
    differently, and differ in base conversion."""
    rng = np.random.default_rng(plan.seed)
    d = len(RETAIL_FEATURES)
    lower = np.array([b[0] for b in RETAIL_FEATURES.values()])
    upper = np.array([b[1] for b in RETAIL_FEATURES.values()])
    centres = rng.uniform(0.1, 0.9, size=(plan.segments, d))
    spread = rng.uniform(0.05, 0.12, size=(plan.segments, d))
    # Planted propensity: recent, frequent, high-spend, beauty-leaning customers in bigger cities.
    coef = np.array([-2.0, 1.5, 1.2, 1.0, -0.3, 0.2, 0.4, -0.8])
    extra_centres = rng.uniform(0.0, 1.0, size=(plan.segments, plan.extra_features))
    frames = []
    for p in range(plan.partners):
        mix = rng.dirichlet(np.full(plan.segments, 1.5))
        seg = rng.choice(plan.segments, size=plan.customers, p=mix)
        unit = np.clip(centres[seg] + spread[seg] * rng.standard_normal((plan.customers, d)), 0.0, 1.0)
        base = plan.base_logit + plan.label_shift * rng.standard_normal()
        logit = base + (unit - 0.5) @ coef * plan.signal
        bought = (rng.random(plan.customers) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int8)
        values = lower + unit * (upper - lower)
        frame = pd.DataFrame(values, columns=list(RETAIL_FEATURES))
        for col in ("frequency_90d", "age_band", "city_tier", "recency_days"):
            frame[col] = np.round(frame[col]).astype(np.int64)
        if plan.extra_features:
            extra = np.clip(extra_centres[seg] + 0.1 * rng.standard_normal((plan.customers, plan.extra_features)), 0, 1)
            for j in range(plan.extra_features):
                frame[f"share_cat_{j:02d}"] = np.round(extra[:, j], 3)
        frame.insert(0, "member_id", [f"P{p}-{i:07d}" for i in range(plan.customers)])
        frame["segment"] = seg
        frame[RETAIL_LABEL] = bought
        frames.append(frame)
    return frames


# --- consent for the synthetic customers ------------------------------------------------------------


def record_consent(ws: Any, subject_ids: Iterable[str], purpose: str, action: str = "grant",
                   *, channel: str = "app") -> int:
    """Record one consent act (``grant`` or ``withdraw``) per subject through the registry's bulk
    import, all in one transaction and one audit event; a grant is the separate consent of the
    latest notice covering ``purpose``. Returns the number of events."""
    import pandas as pd

    ids = list(dict.fromkeys(str(i) for i in subject_ids))  # one act per subject
    notice = max((n for n in ws.policy.notices if any(p.purpose == purpose for p in n.purposes)),
                 key=lambda n: (n.published, n.version))
    grant = action == "grant"
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2 if grant else 1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    frame = pd.DataFrame({"subject_id": ids, "purpose": purpose, "action": action, "ts": when,
                          "notice": f"{notice.id}@{notice.version}" if grant else "",
                          "separate": "true" if grant else "false", "channel": channel})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{action}-{purpose}.csv"
        frame.to_csv(path, index=False)
        return ws.consent.import_file(path).imported
