from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniguard.audit.chain import canonical

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.text())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(), inner, max_size=4)), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), values, max_size=8))
def test_same_bytes_as_the_standard_library_definition(event):
    expected = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical(event) == expected


def test_non_finite_numbers_are_refused():
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError):
            canonical({"details": {"x": [1, bad]}})
