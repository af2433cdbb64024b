"""Regression tests for the pitfalls of notes/classification.md §1.3: each one silently breaks
detection when reintroduced."""

from __future__ import annotations

import socket

import pytest


def test_pitfall1_blank_pipeline_lemmas_make_context_fire(analyzer, find):
    nlp = analyzer.nlp_engine.nlp["zh"]
    assert [t.lemma_ for t in nlp("Phone 手机")] == ["phone", "手机"]
    # in-text context: the same number scores higher next to a context word
    assert find("phone: 13812345678")[("CN_MOBILE", "13812345678")] == 0.75
    assert find("编号 13812345678")[("CN_MOBILE", "13812345678")] == 0.4


def test_pitfall2_tokenizer_splits_cjk_runs_from_ascii(analyzer, find):
    nlp = analyzer.nlp_engine.nlp["zh"]
    doc = nlp("身份证号:11010519491231002X，手机13812345678")
    assert [t.text for t in doc] == ["身份证号", ":", "11010519491231002X", "，", "手机", "13812345678"]
    assert doc.text == "身份证号:11010519491231002X，手机13812345678"  # offsets align
    assert find("护照号E12345678")[("CN_PASSPORT", "E12345678")] >= 0.4


def test_pitfall3_no_word_boundary_next_to_chinese(analyzer, find):
    found = find("身份证号11010519491231002X手机13812345678")
    assert found[("CN_RESIDENT_ID", "11010519491231002X")] == 1.0
    assert ("CN_MOBILE", "13812345678") in found


def test_pitfall4_email_needs_no_network(monkeypatch):
    """Build a fresh analyzer and analyse an e-mail with sockets blocked: a Public Suffix List
    (or spaCy model) download would raise here."""
    from omniguard.classify.engine import build_analyzer

    def refuse(*_a, **_k):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    fresh = build_analyzer()
    res = fresh.analyze(text="联系 a.b@shop.com.cn", language="zh")
    assert [(r.entity_type, r.score) for r in res] == [("EMAIL_ADDRESS", 1.0)]


def test_pitfall5_short_context_words_do_not_fire_inside_tokens(analyzer, find):
    # the coupon code starts with WX, the plate contains VX: neither is a WeChat id
    assert find("WXAB12CD34EF").get(("WECHAT_ID", "WXAB12CD34EF"), 0) < 0.35
    assert find("粤BVX123", context=["coupon", "code"]).get(("WECHAT_ID", "BVX123"), 0) < 0.35
    assert find("微信 zhang_wei88")[("WECHAT_ID", "zhang_wei88")] >= 0.4
    # whole-word for ASCII, substring for Chinese context words
    assert find("客户手机号13812345678")[("CN_MOBILE", "13812345678")] == 0.75


@pytest.mark.parametrize("text,entity", [("粤b12345", "CN_LICENSE_PLATE"), ("91350100m000100y43", "CN_USCC"),
                                         ("护照 e12345678", "CN_PASSPORT"), ("a123456(3)", "HK_ID")])
def test_pitfall6_case_sensitive_identifiers(analyzer, find, text, entity):
    assert entity not in {e for e, _ in find(text)}


def test_pitfall7_ean13_barcode_is_not_a_card(analyzer, find):
    ean = "6901234567892"  # Luhn-valid EAN-13 with a Chinese GS1 prefix
    from omniguard.classify.recognizers.validators import luhn_valid

    assert luhn_valid(ean)
    assert "BANK_CARD" not in {e for e, _ in find(ean, context=["card"])}
    assert "CREDIT_CARD" not in {e for e, _ in find(ean)}


def test_pitfall8_column_name_context_reaches_context_only_types(analyzer, find):
    # the column classifier relies on analyze(context=[...]) for types without in-text context
    oid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    assert find(oid)[("WECHAT_OPENID", oid)] == 0.2
    assert find(oid, context=["wx", "openid"])[("WECHAT_OPENID", oid)] == 0.55
