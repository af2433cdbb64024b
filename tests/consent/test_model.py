"""Validators and date arithmetic: the vectorised forms agree with the scalar ones."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from omniguard.consent.model import (
    adult_from_age,
    adult_from_ages,
    adult_from_birth,
    adult_from_births,
    subject_mask,
    valid_subject,
)

ids = st.one_of(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:@+\-]{0,127}", fullmatch=True), st.text(max_size=140))


@settings(max_examples=100, deadline=None)
@given(st.lists(ids, max_size=30))
def test_subject_mask_matches_the_scalar_validator(values):
    mask = subject_mask(pd.Series(values, dtype=object))
    assert mask.tolist() == [valid_subject(v) for v in values]
    assert all(1 <= len(v) <= 128 and not any(c.isspace() for c in v) for v, ok in zip(values, mask, strict=True) if ok)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31)), min_size=1, max_size=20))
def test_adult_from_births_matches_scalar(births):
    got = adult_from_births(pd.Series([b.isoformat() for b in births])).tolist()
    assert got == [adult_from_birth(b) for b in births]
    for b, instant in zip(births, got, strict=True):
        local = dt.datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(dt.timezone(dt.timedelta(hours=8)))
        assert local.hour == 0 and local.year == b.year + 14
        assert (local.month, local.day) == ((b.month, b.day) if (b.month, b.day) != (2, 29) or local.day == 29 else (3, 1))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 100), st.datetimes(min_value=dt.datetime(2000, 1, 1),
                                                               max_value=dt.datetime(2030, 1, 1))), min_size=1, max_size=20))
def test_adult_from_ages_matches_scalar(pairs):
    ts = [t.strftime("%Y-%m-%dT%H:%M:%S.%fZ") for _, t in pairs]
    got = adult_from_ages(pd.Series([a for a, _ in pairs]), pd.Series(ts)).tolist()
    assert got == [adult_from_age(a, t) for (a, _), t in zip(pairs, ts, strict=True)]
