"""The synthetic generator is deterministic and its ground truth holds: every personal value
validates, every mobile prefix is current."""

from __future__ import annotations

import pandas as pd

from omniguard.classify.recognizers import validators as v
from omniguard.synth.retail import COLUMNS, NAMINGS, column_names, generate_customers, ground_truth


def test_shape_namings_and_determinism():
    a = generate_customers(200, seed=1)
    assert a.shape == (200, 25) and list(a.columns) == [c.en for c in COLUMNS]
    pd.testing.assert_frame_equal(a, generate_customers(200, seed=1))
    assert not a.equals(generate_customers(200, seed=2))
    for naming in NAMINGS:
        assert len(set(column_names(naming).values())) == 25
        assert set(ground_truth(naming)) == set(column_names(naming).values())
    assert sum(c.decoy for c in COLUMNS) == 11


def test_values_validate():
    df = generate_customers(500, seed=3)
    assert df["mobile"].map(v.cn_mobile_valid).all()
    assert df["id_card_no"].map(v.resident_id_valid).all()
    assert df["invoice_tax_id"].map(v.uscc_valid).all()
    assert df["bank_card_no"].map(v.bank_card_valid).mean() > 0.95
    assert df["last_location"].map(v.gps_pair_valid).all()
    assert df["wx_openid"].str.fullmatch(r"o[-_A-Za-z0-9]{27}").all()
    assert df["home_phone"].map(v.cn_landline_valid).mean() > 0.95
    assert df["mobile"].str[:3].nunique() > 30  # new prefixes (16x/17x/19x) too, not just Faker's


def test_large_tables_resample_the_pool():
    df = generate_customers(30_000, seed=5, pool_rows=2_000)
    assert len(df) == 30_000 and df["mobile"].nunique() <= 2_000
