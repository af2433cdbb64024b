"""Differentially private segment statistics with OpenDP (Context API on Polars): per-segment
counts, sums and means with declared bounds, confidence intervals, and the budget spent, charged
to the ledger and written to the audit log.

When the segment keys are not public, the set of segments itself is private: OpenDP then
releases only segments whose noisy count clears a threshold (it needs a delta for that), which is
the DP form of a clean room's minimum group size. When the keys are public (``public_keys``),
every listed segment is released, empty or not, and no delta is needed.
"""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from omniguard.errors import InputError

UNIT = "customer (one row per customer)"


@dataclass(frozen=True)
class Bounded:
    column: str
    lower: float
    upper: float


LARGE_EPSILON = 5.0  # OpenDP's own warning level for a single release


@dataclass
class SegmentRelease:
    release_id: str
    dataset: str
    by: list[str]
    epsilon: float
    delta: float
    unit: str
    alpha: float
    keys_public: bool
    threshold: int | None  # smallest noisy count a private segment needs to be released
    table: pd.DataFrame
    mechanisms: list[dict[str, Any]] = field(default_factory=list)
    ledger_entry: int | None = None
    remaining_epsilon: float | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"release": self.release_id, "dataset": self.dataset, "by": self.by, "epsilon": self.epsilon,
                "delta": self.delta, "unit": self.unit, "confidence": 1 - self.alpha, "keys_public": self.keys_public,
                "threshold": self.threshold, "mechanisms": self.mechanisms, "ledger_entry": self.ledger_entry,
                "remaining_epsilon": self.remaining_epsilon, "warnings": self.warnings,
                "segments": self.table.replace({np.nan: None}).to_dict(orient="records")}


def _numeric(df: pd.DataFrame, b: Bounded, shown: str) -> np.ndarray:
    if b.column not in df.columns:
        raise InputError(f"{shown}: no column {b.column!r}")
    if not (math.isfinite(b.lower) and math.isfinite(b.upper) and b.upper > b.lower):
        raise InputError(f"{b.column}: bounds must be finite with upper > lower")
    raw = df[b.column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(values) & raw.notna().to_numpy() | np.isinf(values))
    if len(bad):
        raise InputError(f"{shown}: line {int(bad[0]) + 2}: column {b.column!r} is not a number")
    return values  # missing cells stay NaN; OpenDP fills them inside the bounds


def release_segments(ws: Any, frame: pd.DataFrame, *, by: list[str], epsilon: float, dataset: str,
                     count: bool = True, sums: list[Bounded] | None = None, means: list[Bounded] | None = None,
                     delta: float = 0.0, public_keys: list[str] | None = None, alpha: float = 0.05,
                     max_groups: int = 1000, purpose: str | None = None, shown: str = "data") -> SegmentRelease:
    """Release DP statistics per segment of ``frame`` (one row per customer)."""
    import opendp.prelude as dp
    import polars as pl

    sums, means = list(sums or []), list(means or [])
    if not by or any(c not in frame.columns for c in by):
        raise InputError(f"{shown}: --by names a column the data does not have")
    if not (count or sums or means):
        raise InputError("nothing to release: ask for --count, --sum or --mean")
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise InputError("epsilon must be a positive number")
    if not 0 < alpha < 1:
        raise InputError("alpha must be between 0 and 1")
    if public_keys is None and not 0 < delta < 1e-3:
        raise InputError("the segment keys are private: give a small --delta (e.g. 1e-6) so that rare segments "
                         "can be suppressed, or --keys to declare the public list of segments")
    if not 0 <= delta < 1e-3:
        raise InputError("delta must be in [0, 0.001)")
    cols: dict[str, Any] = {c: frame[c].astype("string").fillna("").to_numpy(dtype=object) for c in by}
    for b in {b.column: b for b in [*sums, *means]}.values():
        cols[b.column] = _numeric(frame, b, shown)
    data = pl.DataFrame(cols, schema={**{c: pl.String for c in by},
                                      **{b.column: pl.Float64 for b in [*sums, *means]}})
    n = len(data)
    aggs = []
    if count or means:
        aggs.append(dp.len(signed=False))  # counts clamped at zero
    seen: set[str] = set()
    for b in [*sums, *means]:
        if b.column not in seen:
            seen.add(b.column)
            aggs.append(pl.col(b.column).fill_null(b.lower).fill_nan(b.lower)
                        .dp.sum(bounds=(b.lower, b.upper)).alias(f"sum_{b.column}"))
    margin = dp.polars.Margin(by=by, max_length=max(1_000_000, 10 ** math.ceil(math.log10(max(n, 1) * 2))),
                              max_groups=len(public_keys) if public_keys else max_groups)
    dp.enable_features("contrib")
    logging.getLogger("opendp").setLevel(logging.ERROR)  # its epsilon advice goes in `warnings`, in our words
    context = dp.Context.compositor(
        data=data.lazy(), privacy_unit=dp.unit_of(contributions=1),
        privacy_loss=dp.loss_of(epsilon=epsilon, delta=delta or None), split_evenly_over=1, margins=[margin])
    query = context.query().group_by(by).agg(*aggs)
    if public_keys is not None:
        if len(by) != 1:
            raise InputError("--keys declares the segments of one --by column")
        keys = pl.DataFrame({by[0]: [str(k) for k in public_keys]}, schema={by[0]: pl.String})
        query = query.join(keys.lazy(), on=by, how="right")
    summary = query.summarize(alpha=alpha)  # builds and checks the measurement; spends nothing
    release_id = "r-" + secrets.token_hex(6)
    entry = ws.ledger.charge(dataset, epsilon, delta, kind="release", ref=release_id, unit=UNIT, purpose=purpose,
                             details={"by": by, "aggregates": len(aggs), "keys_public": public_keys is not None})
    released = query.release().collect().to_pandas()
    table, mechanisms, threshold = _confidence(released, summary.to_pandas(), by, sums, means, count)
    ws.audit.record("dp.release", purpose=purpose, dataset=dataset, columns=[*by, *seen], rows=n,
                    details={"release": release_id, "epsilon": epsilon, "delta": delta, "unit": UNIT,
                             "segments_released": len(table), "keys_public": public_keys is not None,
                             "threshold": threshold, "ledger_entry": entry,
                             "mechanisms": [f"{m['aggregate']} of {m['column']}: {m['distribution']} scale "
                                            f"{m['scale']:.4g}" for m in mechanisms]})
    warnings = [f"epsilon {epsilon:g} per customer is above {LARGE_EPSILON:g}: a guarantee this weak protects "
                "little; releases usually stay at or below 1"] if epsilon > LARGE_EPSILON else []
    return SegmentRelease(release_id, dataset, by, epsilon, delta, UNIT, alpha, public_keys is not None, threshold,
                          table, mechanisms, entry, ws.ledger.state(dataset).remaining_epsilon, warnings)


def _confidence(released: pd.DataFrame, summary: pd.DataFrame, by: list[str], sums: list[Bounded],
                means: list[Bounded], count: bool) -> tuple[pd.DataFrame, list[dict[str, Any]], int | None]:
    """Add (1 - alpha) intervals: value +- OpenDP's accuracy; a mean's interval is the
    conservative ratio of its sum and count intervals (coverage at least 1 - 2 alpha)."""
    acc = {row["column"]: float(row["accuracy"]) for _, row in summary.iterrows()}
    threshold = None
    if "threshold" in summary.columns and summary["threshold"].notna().any():
        threshold = int(summary["threshold"].dropna().max())
    mechanisms = [{"column": r["column"], "aggregate": r["aggregate"], "distribution": r["distribution"],
                   "scale": float(r["scale"]), "accuracy": float(r["accuracy"])} for _, r in summary.iterrows()]
    out = released[by].copy()
    if "len" in released:
        n = released["len"].astype(np.float64)
        if count:
            out["count"] = released["len"].astype("Int64")
            out["count_ci_low"] = np.maximum(n - acc["len"], 0.0)
            out["count_ci_high"] = n + acc["len"]
    for b in sums:
        s = released[f"sum_{b.column}"].astype(np.float64)
        out[f"sum_{b.column}"] = s
        out[f"sum_{b.column}_ci_low"] = s - acc[f"sum_{b.column}"]
        out[f"sum_{b.column}_ci_high"] = s + acc[f"sum_{b.column}"]
    for b in means:
        s, a_s = released[f"sum_{b.column}"].astype(np.float64), acc[f"sum_{b.column}"]
        n, a_n = released["len"].astype(np.float64), acc["len"]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(n > 0, s / n, np.nan)
            corners = np.stack([(s + ds) / (n + dn) for ds in (-a_s, a_s) for dn in (-a_n, a_n)])
        usable = (n - a_n) > 0  # otherwise the count interval reaches zero and the mean is unbounded
        out[f"mean_{b.column}"] = np.clip(mean, b.lower, b.upper)
        out[f"mean_{b.column}_ci_low"] = np.where(usable, np.clip(corners.min(axis=0), b.lower, b.upper), b.lower)
        out[f"mean_{b.column}_ci_high"] = np.where(usable, np.clip(corners.max(axis=0), b.lower, b.upper), b.upper)
    return out.sort_values(by).reset_index(drop=True), mechanisms, threshold


def render_html(release: SegmentRelease, title: str) -> str:
    """A one-page report of a release: the table with its intervals and the privacy terms."""
    import html

    d = release.to_dict()
    cols = list(release.table.columns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
                   for row in release.table.itertuples(index=False))
    keys = ("public segment keys (every listed segment is shown)" if d["keys_public"] else
            f"private segment keys: segments below a noisy count of {d['threshold']} are suppressed")
    mech = "".join(f"<li>{html.escape(m['aggregate'])} of {html.escape(m['column'])}: {html.escape(m['distribution'])}, "
                   f"scale {m['scale']:.4g}, ±{m['accuracy']:.4g} at {int(d['confidence'] * 100)}%</li>"
                   for m in d["mechanisms"])
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
            "th,td{border:1px solid #ccc;padding:.3em .6em}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p><strong>ε = {d['epsilon']:g}, δ = {d['delta']:g} per "
            f"{html.escape(d['unit'])}</strong> (release {html.escape(d['release'])}, dataset "
            f"{html.escape(d['dataset'])}); {html.escape(keys)}; budget left ε = {d['remaining_epsilon']:.4g}.</p>"
            f"<table><tr>{head}</tr>{body}</table><ul>{mech}</ul>"
            "<p>Intervals: value ± OpenDP's accuracy; a mean's interval combines its sum and count intervals "
            "(coverage at least 1 − 2α).</p></body></html>\n")


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "–" if v != v else f"{v:.4g}"
    return str(v)
