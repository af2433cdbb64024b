"""Each recognizer of the Chinese pack: valid values are found, checksum-failing values and
look-alike decoys are not (or stay below the counting score without context)."""

from __future__ import annotations

import pytest

from omniguard.classify.columns import COUNT_SCORE

# (entity, valid values, values that must not be found as that entity)
CASES = [
    ("CN_RESIDENT_ID", ["11010519491231002X", "身份证号11010519491231002X", "身份证 110105491231002"],
     ["110105194912310021", "202405201234567890", "99010519491231002X"]),
    ("CN_MOBILE", ["13812345678", "16577855754", "+86 138 1234 5678", "138-1234-5678", "19912345678"],
     ["14012345678", "12812345678", "1381234567", "2381234567890"]),
    ("CN_LANDLINE", ["010-62345678", "(0755)86543210", "0571-88776655-123"], ["400-800-1234", "0571-123"]),
    ("BANK_CARD", ["6222021234567890128", "4111111111111111", "6222 0212 3456 7890 128"],
     ["6901234567892", "6222021234567890129", "123456789012"]),
    ("CN_USCC", ["91350100M000100Y43"], ["91350100M000100Y44", "91350100m000100y43", "I1350100M000100Y43"]),
    ("CN_PASSPORT", ["护照号 E12345678", "passport EA1234567"], ["E12345678", "e12345678"]),
    ("CN_TRAVEL_PERMIT", ["港澳通行证 C12345678", "回乡证 H1234567801"], ["C12345678"]),
    ("HK_ID", ["A123456(3)", "AB987654(3)"], ["A123456(4)", "a123456(3)"]),
    ("TW_ID", ["A123456789"], ["A123456788", "a123456789", "A323456789"]),
    ("CN_LICENSE_PLATE", ["粤B12345", "京AD12345", "沪A12345F", "吉Q-88869", "浙A·8K2M9"], ["粤b12345", "X12345", "粤I12345"]),
    ("GPS_COORDINATE", ["31.230416,121.473701", "22.5431，114.0579"], ["0.48,0.89", "131.2304,221.4737"]),
    ("WECHAT_ID", ["微信 zhang_wei88", "wxid_ab12cd34ef56gh"], ["WXAB12CD34EF", "zhang_wei88"]),
    ("WECHAT_OPENID", ["openid oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"], ["oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "OUPF8UMUAJO_M2PXB1Q9ZNJWES6O"]),
    ("CN_ADDRESS", ["广东省深圳市南山区科技园南路88号3栋2单元1201室", "北京市朝阳区建国路1号", "江苏省南京市鼓楼区中山路"],
     ["周末送货", "科技园南路"]),
    ("CN_POSTAL_CODE", ["邮编 518057"], ["518057"]),
    ("EMAIL_ADDRESS", ["zhang.wei@qq.com", "a.b@shop.com.cn"], ["zhang.wei@qq", "@qq.com"]),
    ("IP_ADDRESS", ["192.168.1.10", "2001:db8::8a2e:370:7334"], ["999.1.1.1"]),
    ("PERSON", ["张伟", "欧阳娜娜", "收货人：王斌", "阿依古丽·买买提", "张*"], ["王老吉凉茶310ml", "周末送货", "abc"]),
]


@pytest.mark.parametrize(("entity", "good", "bad"), CASES, ids=[c[0] for c in CASES])
def test_recognizer(analyzer, find, entity, good, bad):
    for text in good:
        found = {e: s for (e, _), s in find(text).items()}
        assert found.get(entity, 0) >= COUNT_SCORE, f"{entity} missed in case {good.index(text)}"
    for text in bad:
        found = {e: s for (e, _), s in find(text).items()}
        assert found.get(entity, 0) < COUNT_SCORE, f"{entity} false positive in case {bad.index(text)}"


def test_checksum_valid_scores_one_and_context_lifts_patterns(analyzer, find):
    assert find("11010519491231002X")[("CN_RESIDENT_ID", "11010519491231002X")] == 1.0
    assert find("13812345678")[("CN_MOBILE", "13812345678")] == 0.4
    assert find("13812345678", context=["手机号"])[("CN_MOBILE", "13812345678")] == 0.75


def test_no_presidio_default_recognizers(analyzer, find):
    names = {r.name for r in analyzer.registry.recognizers}
    assert "CreditCardRecognizer" not in names and "UrlRecognizer" not in names and "SpacyRecognizer" not in names
