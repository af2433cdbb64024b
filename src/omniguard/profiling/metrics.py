"""Utility metrics of the joint-profiling report: AUC, conversion among the top-scored share
(the CoIL-2000 "mail the best 20%" question), lift, and the adjusted Rand index between two
segmentations. Plain numpy/pandas, so a partner can compute them without extra packages."""

from __future__ import annotations

import numpy as np
import pandas as pd


def roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve by the rank-sum formula (ties count one half). NaN when only one
    class is present."""
    y = np.asarray(y).astype(bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = pd.Series(np.asarray(scores, dtype=np.float64)).rank(method="average").to_numpy()
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def top_share_conversion(y: np.ndarray, scores: np.ndarray, share: float = 0.2) -> float:
    """Conversion rate among the ``share`` of customers with the highest scores (ties broken by
    a stable sort, so the figure is reproducible)."""
    y = np.asarray(y, dtype=np.float64)
    m = max(1, round(share * len(y)))
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return float(y[order[:m]].mean())


def lift(y: np.ndarray, scores: np.ndarray, share: float = 0.2) -> float:
    base = float(np.mean(y))
    return top_share_conversion(y, scores, share) / base if base > 0 else float("nan")


def adjusted_rand_index(a: np.ndarray, b: np.ndarray) -> float:
    """Hubert-Arabie adjusted Rand index of two labelings (1 = identical up to renaming)."""
    _, ai = np.unique(np.asarray(a), return_inverse=True)
    _, bi = np.unique(np.asarray(b), return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1.0)

    def pairs(x: np.ndarray) -> float:
        return float((x * (x - 1) / 2).sum())

    n = len(ai)
    index = pairs(table)
    rows, cols = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    expected = rows * cols / (n * (n - 1) / 2)
    maximum = (rows + cols) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)
