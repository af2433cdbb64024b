"""The guard for distributed batches: Spark ``mapInPandas`` and Ray Data ``map_batches``.

    gate = GuardBatches("/shared/retailer", purpose="analytics", actor="spark-etl", role="analyst",
                        subject_column="member_id", dataset="crm/members")
    spark_df.mapInPandas(gate.iter, schema=out_schema)          # Spark: an iterator of pandas frames
    ray_ds.map_batches(gate, batch_format="pandas")             # Ray: one pandas frame per call

The object pickles as its settings only; each worker process opens the workspace once, and each
batch is one guarded, audited access. The dataset must have been scanned beforehand (workers do
not classify), so every batch is protected by the same plan.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pandas as pd

_OPEN: dict[str, Any] = {}


class GuardBatches:
    def __init__(self, workspace: str | os.PathLike[str], *, purpose: str, actor: str, role: str | None = None,
                 subject_column: str | None = None, dataset: str):
        self.workspace = str(workspace)
        self.kwargs = {"purpose": purpose, "actor": actor, "role": role, "subject_column": subject_column,
                       "dataset": dataset}

    def _ws(self) -> Any:
        key = f"{os.getpid()}:{self.workspace}"
        if key not in _OPEN:
            from omniguard.workspace import Workspace

            _OPEN[key] = Workspace.open(self.workspace)
        return _OPEN[key]

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        return self._ws().guard(batch, scan=False, **self.kwargs)

    def iter(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield self(batch)
