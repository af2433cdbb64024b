"""Every operator: output shape, no leakage of the original value, nulls kept, determinism where
promised. tokenize/encrypt run against the real crypto keyring and skip only when it is absent."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from omniguard.errors import InputError, KeyMaterialError
from omniguard.protect import OPERATORS, ProtectionContext, get_operator

HAS_KEYRING = importlib.util.find_spec("omniguard.crypto.keyring") is not None
needs_keyring = pytest.mark.skipif(not HAS_KEYRING, reason="omniguard.crypto.keyring (crypto issue) not merged yet")


def S(*values):
    return pd.Series(list(values), dtype="str")


@pytest.mark.parametrize("entity,value,expected", [
    ("CN_MOBILE", "13812345678", "138****5678"),
    ("CN_RESIDENT_ID", "11010519491231002X", "110***********002X"),
    ("BANK_CARD", "6222021234567890128", "622202******0128"),
    ("PERSON", "欧阳娜娜", "欧**"),
    ("PERSON", "张伟", "张**"),
    ("EMAIL_ADDRESS", "zhang.wei@qq.com", "z***@qq.com"),
    ("CN_ADDRESS", "广东省深圳市南山区科技园南路88号", "广东省深圳市****"),
    ("CN_LICENSE_PLATE", "粤B12345", "粤B*****"),
    (None, "ORD-2024-0001", "O****1"),
])
def test_mask_shapes(entity, value, expected):
    out = get_operator("mask").apply(S(value, None), entity=entity)
    assert out.iloc[0] == expected and pd.isna(out.iloc[1])


def test_mask_short_values_fully_starred_and_no_leak():
    out = get_operator("mask").apply(S("ab", "x", "13812345678"), first=2, last=2)
    assert out.tolist() == ["**", "*", "13*******78"]


def test_mask_keeps_index_and_name():
    s = pd.Series(["13812345678", "13912345678"], index=[10, 20], name="mobile", dtype="str")
    out = get_operator("mask").apply(s, entity="CN_MOBILE")
    assert list(out.index) == [10, 20] and out.name == "mobile"


def test_redact_and_drop_and_clear():
    s = S("13812345678", None)
    assert get_operator("redact").apply(s).tolist()[0] == "[REDACTED]" and pd.isna(get_operator("redact").apply(s)[1])
    assert get_operator("drop").apply(s) is None
    assert get_operator("clear").apply(s) is s
    with pytest.raises(InputError):
        get_operator("scramble")


def test_generalize_forms():
    g = get_operator("generalize")
    assert g.apply(S("1990-05-03", "2015年6月1日", None), entity="DATE_OF_BIRTH").tolist()[:2] == ["1990", "2015"]
    import datetime as dt

    ctx = ProtectionContext(today=dt.date(2026, 1, 1))
    assert g.apply(S("1990-05-03", "2015-06-01"), entity="DATE_OF_BIRTH", to="age_band", ctx=ctx).tolist() == \
        ["30-39", "10-19"]
    assert g.apply(S("31.230416,121.473701", "22.5431，114.0579"), entity="GPS_COORDINATE").tolist() == \
        ["31.23,121.47", "22.54,114.05"]
    assert g.apply(S("广东省深圳市南山区科技园南路88号", "北京市朝阳区建国路1号"), entity="CN_ADDRESS").tolist() == \
        ["广东省深圳市南山区", "北京市朝阳区"]
    assert g.apply(S("12.5", "480", "99999"), to="band").tolist() == ["0-50", "200-500", ">=20000"]
    assert g.apply(S("192.168.1.77"), entity="IP_ADDRESS").tolist() == ["192.168.1.0/24"]
    assert g.apply(S("13812345678"), entity="CN_MOBILE").tolist() == ["138****5678"]  # no coarser form: mask


def test_operators_are_columnar_on_a_large_column():
    s = pd.Series([f"139{i:08d}" for i in range(50_000)], dtype="str")
    out = get_operator("mask").apply(s, entity="CN_MOBILE")
    assert len(out) == len(s) and out.str.fullmatch(r"139\*{4}\d{4}").all()
    assert not (out == s).any()


def test_keyed_operators_need_a_context():
    with pytest.raises(KeyMaterialError):
        get_operator("tokenize").apply(S("a"), ctx=ProtectionContext())
    with pytest.raises(KeyMaterialError):
        get_operator("encrypt").apply(S("a"), ctx=None)
    assert OPERATORS["tokenize"].keyed and OPERATORS["encrypt"].keyed and not OPERATORS["mask"].keyed


@needs_keyring
def test_tokenize_deterministic_joinable_no_leak(workspace):
    ctx = ProtectionContext.from_workspace(workspace, dataset="crm")
    s = S("13812345678", "13912345678", "13812345678", None)
    a = get_operator("tokenize").apply(s, ctx=ctx)
    b = get_operator("tokenize").apply(S("13812345678"), ctx=ctx)
    assert a[0] == a[2] == b[0] and a[0] != a[1] and pd.isna(a[3])
    assert not a.dropna().str.contains("13812345678").any()


@needs_keyring
def test_encrypt_round_trip_no_leak(workspace):
    ctx = ProtectionContext.from_workspace(workspace, dataset="crm")
    s = S("11010519491231002X", None)
    enc = get_operator("encrypt").apply(s, column="id_card_no", ctx=ctx)
    assert "11010519491231002X" not in enc.iloc[0] and pd.isna(enc.iloc[1])
    assert workspace.keyring.column_cipher("crm", "id_card_no").decrypt(enc).iloc[0] == "11010519491231002X"
