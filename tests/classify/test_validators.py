"""Check-digit algorithms: known vectors, and hypothesis round trips (a computed check character
validates; any other one does not)."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from omniguard.classify.recognizers import validators as v


def test_known_vectors():
    assert v.resident_id_valid("11010519491231002X")
    assert v.resident_id_valid("11010519491231002x")
    assert not v.resident_id_valid("110105194912310021")  # checksum
    assert not v.resident_id_valid("99010519491231002X")  # no province 99
    assert not v.resident_id_valid("110105194902300027")  # 30 February
    assert not v.resident_id_valid("110105209912310023")  # born in the future
    assert v.legacy_id15_valid("110105491231002")
    assert not v.legacy_id15_valid("110105491331002")  # month 13
    assert v.luhn_valid("6222021234567890128") and v.bank_card_valid("6222 0212 3456 7890 128")
    assert not v.bank_card_valid("6901234567892")  # EAN-13: too short for a card
    assert v.uscc_valid("91350100M000100Y43") and not v.uscc_valid("91350100M000100Y44")
    assert v.hkid_valid("A123456(3)") and not v.hkid_valid("A123456(4)")
    assert v.twid_valid("A123456789") and not v.twid_valid("A123456788")
    assert v.cn_mobile_valid("+86 138 1234 5678") and v.cn_mobile_valid("138-1234-5678")
    assert not v.cn_mobile_valid("14012345678")  # 140 is not allocated
    assert v.cn_landline_valid("010-62345678") and not v.cn_landline_valid("13812345678")
    assert v.gps_pair_valid("31.230416,121.473701") and not v.gps_pair_valid("131.2304,221.4737")


def test_fullwidth_normalisation_keeps_length():
    text = "手机：１３８－１２３４－５６７８"
    out = v.normalise_text(text)
    assert out == "手机:138-1234-5678" and len(out) == len(text)
    assert v.compact("＋８６ １３８ １２３４ ５６７８") == "+8613812345678"


@settings(max_examples=200, deadline=None)
@given(region=st.sampled_from(["110105", "310115", "440305", "510107", "810000"]),
       date=st.dates(min_value=__import__("datetime").date(1930, 1, 1),
                     max_value=__import__("datetime").date(2015, 12, 31)),
       seq=st.integers(0, 999), wrong=st.sampled_from("0123456789X"))
def test_resident_id_round_trip(region, date, seq, wrong):
    body = f"{region}{date:%Y%m%d}{seq:03d}"
    check = v.resident_id_check_char(body)
    assert v.resident_id_valid(body + check)
    if wrong != check:
        assert not v.resident_id_valid(body + wrong)


@settings(max_examples=200, deadline=None)
@given(digits=st.text(alphabet=string.digits, min_size=15, max_size=18), wrong=st.integers(0, 9))
def test_luhn_round_trip(digits, wrong):
    check = v.luhn_check_digit(digits)
    assert v.luhn_valid(digits + check)
    if str(wrong) != check:
        assert not v.luhn_valid(digits + str(wrong))


@settings(max_examples=200, deadline=None)
@given(body=st.text(alphabet=v.USCC_ALPHABET, min_size=15, max_size=15), wrong=st.sampled_from(v.USCC_ALPHABET))
def test_uscc_round_trip(body, wrong):
    first17 = "91" + body
    check = v.uscc_check_char(first17)
    assert v.uscc_valid(first17 + check)
    if wrong != check:
        assert not v.uscc_valid(first17 + wrong)
