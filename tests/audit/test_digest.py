from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from omniguard.audit.digest import set_bytes


def reference(ids) -> tuple[int, bytes]:
    u = sorted({str(i).encode() for i in ids if i is not None})
    return len(u), b"\n".join(u)


ids_strategy = st.lists(st.one_of(st.none(), st.text(min_size=0, max_size=70), st.sampled_from(["M1", "M10", "M2"])),
                        max_size=60)


@settings(max_examples=200, deadline=None)
@given(ids_strategy)
def test_matches_the_definition_for_any_ids(ids):
    assert set_bytes(ids) == reference(ids)
    assert set_bytes(pd.Series(ids, dtype=object)) == reference(ids)
    assert set_bytes(pa.array(ids, type=pa.string())) == reference(ids)


def test_order_duplicates_and_kinds_do_not_matter():
    ids = [f"M{i:07d}" for i in range(5000)]
    rng = np.random.default_rng(3)
    shuffled = list(rng.permutation(ids)) + ids[:100]
    expect = reference(ids)
    assert set_bytes(shuffled) == expect
    assert set_bytes(pd.Series(shuffled)) == expect
    assert set_bytes(np.array(shuffled)) == expect
    assert set_bytes(pd.Series([12, 7, 12])) == (2, b"12\n7")
    assert set_bytes([]) == (0, b"")


def test_digest_is_keyed_and_set_sensitive(workspace):
    n, d = workspace.audit.subjects_digest(["a", "b", "a"])
    assert n == 2 and d == workspace.audit.subjects_digest(pd.Series(["b", "a"]))[1]
    assert d != workspace.audit.subjects_digest(["a", "c"])[1]
