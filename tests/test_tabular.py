"""The fast CSV writer writes exactly what pandas writes, and the reader reads it back."""

from __future__ import annotations

import io

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from omniguard.tabular import _write_csv, read_table, write_table

_cell = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list('ab,"\n\r 张三 ;\t\'1')), max_size=8))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=4).flatmap(
    lambda ncols: st.lists(st.lists(_cell, min_size=ncols, max_size=ncols), max_size=6).map(
        lambda rows: (ncols, rows))))
def test_text_tables_match_pandas_byte_for_byte(shape):
    ncols, rows = shape
    df = pd.DataFrame(rows, columns=[f"c{i},\"x\"" if i == 1 else f"c{i}" for i in range(ncols)], dtype="str")
    if not rows:
        df = pd.DataFrame({c: pd.Series([], dtype="str") for c in df.columns})
    out = io.BytesIO()
    _write_csv(df, out)
    assert out.getvalue() == df.to_csv(index=False).encode("utf-8")


def test_duplicate_column_names_are_written_as_pandas_writes_them():
    df = pd.DataFrame([["x", "y"]], columns=["a", "a"])
    out = io.BytesIO()
    _write_csv(df, out)
    assert out.getvalue() == b"a,a\nx,y\n"


def test_non_text_columns_are_formatted_by_pandas(tmp_path):
    df = pd.DataFrame({"n": [1.0, 2.5], "b": [True, False], "s": ["x", None],
                       "t": pd.to_datetime(["2025-01-01", "2025-01-02"])})
    write_table(df, tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_bytes() == df.to_csv(index=False).encode("utf-8")


def test_written_text_reads_back(tmp_path):
    df = pd.DataFrame({"name": ["张三", 'say "hi", ok', None], "addr": ["北京,朝阳", "a\nb", ""]}, dtype="str")
    write_table(df, tmp_path / "o.csv")
    back = read_table(tmp_path / "o.csv")
    assert back["name"].tolist()[:2] == ["张三", 'say "hi", ok'] and pd.isna(back["name"].iloc[2])
    assert back["addr"].tolist()[:2] == ["北京,朝阳", "a\nb"]
