"""pandas is the guard's working form; polars and Arrow tables go in and come back out unchanged in kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from omniguard.errors import InputError


def to_pandas(frame: Any) -> tuple[pd.DataFrame, Callable[[pd.DataFrame], Any]]:
    """(pandas view of ``frame``, function turning a pandas result back into the caller's kind)."""
    if isinstance(frame, pd.DataFrame):
        return frame, lambda df: df
    mod = type(frame).__module__
    if mod.startswith("polars"):
        import polars as pl

        if isinstance(frame, pl.LazyFrame):
            frame = frame.collect()
        return frame.to_pandas(), lambda df: pl.from_pandas(df)
    if mod.startswith("pyarrow"):
        import pyarrow as pa

        if isinstance(frame, pa.RecordBatch):
            return frame.to_pandas(), lambda df: pa.RecordBatch.from_pandas(df, preserve_index=False)
        if isinstance(frame, pa.Table):
            return frame.to_pandas(), lambda df: pa.Table.from_pandas(df, preserve_index=False)
    raise InputError(f"the guard takes a pandas, polars or Arrow table, not {type(frame).__name__}")
