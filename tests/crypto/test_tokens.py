"""HMAC-SM3 tokens: format, determinism, domains, shared join keys, nulls."""

from __future__ import annotations

import hmac
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniguard.crypto.tokens import Tokenizer, check_domain, looks_like_token
from omniguard.errors import InputError
from omniguard.workspace import Workspace

TOKEN = re.compile(r"^tk1_[a-z2-7]{8}_[a-z2-7]{24}$")


def test_format_and_definition():
    key = bytes(range(32))
    tok = Tokenizer(key)
    t = tok.token("13800138000")
    assert TOKEN.match(t)
    import base64

    body = hmac.digest(key, b"\x01" + b"13800138000", "sm3")[:15]
    tag = hmac.digest(key, b"\x00tag", "sm3")[:5]
    assert t == f"tk1_{base64.b32encode(tag).decode().lower()}_{base64.b32encode(body).decode().lower()}"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=30))
def test_vectorised_equals_scalar_and_keeps_nulls(values):
    tok = Tokenizer(b"k" * 32)
    out = tok.tokenize(pd.Series(values, dtype=object))
    assert out.isna().tolist() == [v is None for v in values]
    assert [x for x in out.tolist() if isinstance(x, str)] == [tok.token(v) for v in values if v is not None]


def test_normalisation_full_width_and_spaces():
    tok = Tokenizer(b"k" * 32)
    assert tok.token("１３８００１３８０００") == tok.token(" 13800138000 ") == tok.token("13800138000")
    assert tok.matches("13800138000", tok.token("13800138000"))
    assert not tok.matches("13800138001", tok.token("13800138000"))


def test_domains_org_partner_and_shared_join_key(tmp_path):
    a = Workspace.init(tmp_path / "brand", actor="a")
    b = Workspace.init(tmp_path / "retailer", actor="b")
    phones = pd.Series(["13800138000", "13900139000", None])
    org = a.keyring.tokenizer().tokenize(phones)
    assert org.equals(a.keyring.tokenizer("org").tokenize(phones))  # same in every table of one org
    assert not org.dropna().isin(b.keyring.tokenizer().tokenize(phones).dropna()).any()
    p1 = a.keyring.tokenizer("partner:retailer").tokenize(phones)
    p2 = a.keyring.tokenizer("partner:other").tokenize(phones)
    assert not p1.dropna().isin(p2.dropna()).any() and not p1.dropna().isin(org.dropna()).any()
    with pytest.raises(InputError, match="join key"):
        a.keyring.tokenizer("join:retailer")
    secret = bytes(range(32))
    a.keyring.token_keyset("join:retailer", material=secret)
    b.keyring.token_keyset("join:retailer", material=secret)
    assert a.keyring.tokenizer("join:retailer").tokenize(phones).equals(
        b.keyring.tokenizer("join:retailer").tokenize(phones))
    with pytest.raises(InputError, match="shared with a partner"):
        a.keyring.rotate(a.keyring.token_keyset("join:retailer"))
    new_secret = bytes(range(1, 33))  # both sides agree on a new join key: a new version on each
    a.keyring.token_keyset("join:retailer", material=new_secret)
    b.keyring.token_keyset("join:retailer", material=new_secret)
    assert a.keyring.token_keyset("join:retailer").primary_version == 2
    assert a.keyring.tokenizer("join:retailer").token("x") == b.keyring.tokenizer("join:retailer").token("x")


def test_domain_names_are_checked():
    for bad in ("", "ORG", "partner:", "partner:A B", "other:x", "join:../x"):
        with pytest.raises(InputError):
            check_domain(bad)
    assert check_domain("partner:brand-x.cn") == "partner:brand-x.cn"


def test_rotating_the_token_key_changes_tag_and_tokens(workspace):
    kr = workspace.keyring
    t1 = kr.tokenizer().token("x")
    kr.rotate(kr.token_keyset("org"))
    t2 = kr.tokenizer().token("x")
    assert t1 != t2 and t1[:13] != t2[:13]
    assert looks_like_token(pd.Series([t1, "x", None])).tolist() == [True, False, False]


def test_numbers_are_tokenized_as_text():
    tok = Tokenizer(b"k" * 32)
    assert tok.tokenize(pd.Series([13800138000])).iloc[0] == tok.token("13800138000")


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=1, max_size=100), st.lists(st.binary(max_size=80), max_size=5))
def test_hmac_many_is_hmac_sm3(key, messages):
    from omniguard.crypto.sm3 import hmac_sm3, hmac_sm3_many

    assert hmac_sm3_many(key, messages) == [hmac_sm3(key, m) for m in messages]
    assert hmac_sm3_many(key, messages) == [hmac.digest(key, m, "sm3") for m in messages]


def test_mixed_object_column_is_tokenized_as_text():
    tok = Tokenizer(b"k" * 32)
    out = tok.tokenize(pd.Series([1, "a", None], dtype=object))
    assert out.iloc[0] == tok.token("1") and out.iloc[1] == tok.token("a") and pd.isna(out.iloc[2])
