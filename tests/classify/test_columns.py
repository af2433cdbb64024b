"""The column classifier on the synthetic retail table and on the hard forms: masked, hashed,
numbers that lost their form, full-width digits and separators, decoys, free text."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from omniguard.classify import FREE_TEXT, classify_frame, classify_series
from omniguard.synth.retail import COLUMNS, ground_truth


def test_named_columns_all_correct_and_no_decoy_is_pi(customers, policy):
    result = classify_frame(customers, policy, sample=60)
    truth = ground_truth("en")
    wrong = [(c.name, c.entity) for c in result.columns if c.entity != truth[c.name].entity]
    assert wrong == []
    for c in result.columns:
        if truth[c.name].decoy:
            assert not c.personal and c.category == "internal_business"
    assert result.column("id_card_no").grade == "sensitive"
    assert result.column("remark").entity == FREE_TEXT
    assert {"CN_RESIDENT_ID", "CN_MOBILE"} <= set(result.column("remark").contains)
    assert result.grade == "sensitive" and result.flags["reidentification_kit"]


def test_opaque_names_never_grade_a_decoy_as_pi(customers, policy):
    result = classify_frame(customers, policy, sample=60, name_hints=False)
    for c, truth in zip(result.columns, COLUMNS, strict=True):
        if truth.decoy:
            assert not c.personal, c.name
    # checksum and pattern entities need no name
    by_key = {t.key: c for c, t in zip(result.columns, COLUMNS, strict=True)}
    for key in ("mobile", "id_card", "bank_card", "email", "gps", "plate"):
        assert by_key[key].entity == next(t.entity for t in COLUMNS if t.key == key)


def test_evidence_never_holds_a_value(customers, policy):
    result = classify_frame(customers.head(300), policy, sample=40)
    blob = json.dumps(result.to_dict(), ensure_ascii=False)
    for col in ("mobile", "id_card_no", "customer_name", "email", "bank_card_no", "shipping_address"):
        for value in customers[col].head(300):
            assert value not in blob
    assert re.search(r"shapes: 1\*{10}", blob)


def _one(policy, name, values, **kw):
    return classify_series(name, pd.Series(values), policy, sample=kw.pop("sample", 100), **kw)


def test_mixed_formats_fullwidth_and_separators(policy):
    values = ["138-1234-5678", "+86 139 1234 5678", "１３７１２３４５６７８", "0086 15012345678", "18612345678"] * 10
    r = _one(policy, "c07", values, name_hints=False)
    assert r.entity == "CN_MOBILE" and r.prevalence == 1.0


def test_member_no_holding_real_mobiles_is_pi_but_phone_shaped_numbers_are_not(policy):
    from omniguard.synth.retail import generate_customers

    df = generate_customers(400, seed=3)
    assert _one(policy, "member_no", df["mobile"]).entity == "CN_MOBILE"
    assert _one(policy, "member_no", df["member_no"]).entity is None


def test_masked_values_are_still_personal(policy):
    masked = [f"13{i % 10}****{1000 + i}" for i in range(60)]
    r = _one(policy, "contact", masked)
    assert r.entity == "CN_MOBILE" and r.personal and "masked" in r.evidence[0]
    names = _one(policy, "c01", ["张*", "王**", "李某", "欧*", "陈**"] * 10, name_hints=False)
    assert names.entity == "PERSON"


def test_hashed_identifiers(policy):
    import hashlib

    hashes = [hashlib.sha256(f"1381234{i:04d}".encode()).hexdigest() for i in range(80)]
    r = _one(policy, "mobile_sha256", hashes)
    assert r.entity == "HASHED_IDENTIFIER" and r.personal and r.category == "online_identifier"


def test_ids_stored_as_numbers(policy):
    from omniguard.classify.recognizers.validators import resident_id_check_char

    bodies = [f"44030519{80 + i % 20}0{1 + i % 9}1{i % 10}{i % 10}{(i * 7) % 10}{i % 3}" for i in range(60)]
    ids = [b + resident_id_check_char(b) for b in bodies]
    ints = pd.Series([int(x) for x in ids if x[-1] != "X"] + [int(x[:17]) for x in ids if x[-1] == "X"])
    r = classify_series("c03", ints, policy, name_hints=False)
    assert r.entity == "CN_RESIDENT_ID" and "stored as integers" in r.evidence
    floats = pd.Series(["1.10105E+17", "4.40305E+17", "3.10115E+17"] * 20)
    assert _one(policy, "sfzh", floats).entity == "CN_RESIDENT_ID"
    assert "scientific notation" in _one(policy, "c09", floats, name_hints=False).evidence[0]


def test_legacy_15_digit_ids_with_a_name(policy):
    values = [f"110105{40 + i % 50:02d}{1 + i % 12:02d}{1 + i % 28:02d}{i:03d}" for i in range(40)]
    assert _one(policy, "身份证号", values).entity == "CN_RESIDENT_ID"


@pytest.mark.parametrize("name,values,entity", [
    ("password_hash", ["$2b$12$" + "a" * 53] * 20, "PASSWORD"),
    ("cvv2", ["123", "456", "789", "012"] * 10, "CARD_SECURITY_CODE"),
    ("gender", ["男", "女"] * 20, "GENDER"),
    ("birthday", ["1988-03-01", "1990-12-31", "1975-07-15"] * 10, "DATE_OF_BIRTH"),
    ("birthday", ["2019-03-01", "1990-12-31", "1975-07-15"] * 10, "MINOR_AGE"),
])
def test_name_only_entities_confirmed_by_values(policy, name, values, entity):
    r = _one(policy, name, values)
    assert r.entity == entity and r.personal


def test_password_column_is_highly_sensitive(policy):
    assert _one(policy, "登录密码", ["$2b$12$" + "b" * 53] * 10).grade == "highly_sensitive"


def test_empty_and_null_columns(policy):
    assert _one(policy, "c01", [None, None, ""]).entity is None
    empty_named = _one(policy, "mobile", pd.Series([np.nan] * 5))
    assert empty_named.entity is None and empty_named.sampled == 0


def test_volume_flags(policy):
    from omniguard.classify.columns import ColumnResult
    from omniguard.classify.table import table_flags

    cols = [ColumnResult("id", "CN_RESIDENT_ID", "identity_document", "sensitive", 1.0, 1.0, personal=True)]
    assert table_flags(cols, 9_999)["sensitive_volume_10k"] is False
    assert table_flags(cols, 10_000)["sensitive_volume_10k"] is True
    assert table_flags(cols, 1_000_000)["pi_volume_1m"] is True
    assert table_flags(cols, 10_000_000)["important_data_candidate"] is True


def test_polars_and_arrow_inputs(customers, policy):
    import polars as pl
    import pyarrow as pa

    small = customers[["mobile", "order_no"]].head(200)
    for frame in (pl.from_pandas(small), pa.Table.from_pandas(small)):
        r = classify_frame(frame, policy, sample=30)
        assert [c.entity for c in r.columns] == ["CN_MOBILE", None]


def test_free_text_uses_in_text_context_without_bleeding_between_values(policy):
    texts = [f"客户护照 E{12345670 + i}，已登记" for i in range(8)] + [f"周末送货，第{i}次" for i in range(30)]
    r = _one(policy, "备注", texts)
    assert r.entity == FREE_TEXT and "CN_PASSPORT" in r.contains
    # a context word in one value never lifts a look-alike in the next one
    bare = [f"编号{'，' * (i % 8)} E{12345670 + i} 护照" for i in range(30)]  # text-like: lengths vary
    assert "CN_PASSPORT" not in _one(policy, "c05", bare, name_hints=False).contains
