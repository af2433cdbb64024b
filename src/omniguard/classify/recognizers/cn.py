"""The Chinese recognizer pack: one small PatternRecognizer per identifier.

Conventions (each one fixes a pitfall in ``notes/classification.md``):

* boundaries are explicit ASCII look-arounds, never ``\\b``: Han characters count as word
  characters, so ``\\b`` finds nothing in ``身份证号11010519491231002X``;
* identifiers whose letters are upper case by definition (plates, USCC, passports, HKID, TW ID,
  openid) compile without IGNORECASE, which Presidio applies by default;
* context words are at least three letters or Chinese (a two-letter word like ``wx`` is a
  substring of coupon codes and plates);
* score ladder: checksum-valid -> 1.0 (``validate_result`` True); a pattern whose validator
  passes keeps its base score (0.3-0.6) so a context word can lift it (+0.35); a failing
  validator drops the match; context-only identifiers start at 0.01-0.2.

Values are expected in normalised form (:func:`validators.normalise_text`: full-width to ASCII,
length-preserving, so offsets still point into the original text).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from presidio_analyzer import Pattern, PatternRecognizer

from omniguard.classify.recognizers import validators as v

CASE_SENSITIVE = re.DOTALL | re.MULTILINE
NB = r"(?<![0-9A-Za-z])"  # not preceded by an ASCII letter or digit
NA = r"(?![0-9A-Za-z])"
NBD = r"(?<![0-9])"
NAD = r"(?![0-9])"


class _CnRecognizer(PatternRecognizer):
    """A PatternRecognizer declared by class attributes (Presidio's registered-class style)."""

    ENTITY = ""
    PATTERNS: tuple[tuple[str, str, float], ...] = ()
    CONTEXT: tuple[str, ...] = ()
    FLAGS = re.DOTALL | re.MULTILINE | re.IGNORECASE
    CHECK: Callable[[str], bool] | None = None  # a checksum: True -> score 1.0, False -> dropped

    def __init__(self, supported_language: str = "zh"):
        super().__init__(
            supported_entity=self.ENTITY,
            name=type(self).__name__,
            supported_language=supported_language,
            patterns=[Pattern(n, r, s) for n, r, s in self.PATTERNS],
            context=list(self.CONTEXT),
            global_regex_flags=self.FLAGS,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        check = type(self).CHECK
        return None if check is None else check(pattern_text)


class CnResidentIdRecognizer(_CnRecognizer):
    """居民身份证号码 (GB 11643-1999): 18 characters with MOD 11-2, or the legacy 15 digits."""

    ENTITY = "CN_RESIDENT_ID"
    PATTERNS = (
        ("id18", NB + r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]" + NA, 0.5),
        ("id15", NB + r"[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}" + NA, 0.2),
    )
    CONTEXT = ("身份证", "身份证号", "身份证号码", "证件号", "证件号码", "公民身份号码", "居民身份证", "idcard",
               "identity", "sfz", "sfzh")

    def validate_result(self, pattern_text: str) -> bool | None:
        if len(pattern_text) == 18:
            return v.resident_id_valid(pattern_text)
        return None if v.legacy_id15_valid(pattern_text) else False


class CnMobileRecognizer(_CnRecognizer):
    """Mainland mobile numbers, with +86/0086 and separators; validity from phonenumbers."""

    ENTITY = "CN_MOBILE"
    PATTERNS = ((
        "mobile", NBD + r"(?:(?:\+|00)?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}" + NAD, 0.4),)
    CONTEXT = ("手机", "手机号", "手机号码", "电话", "联系电话", "联系方式", "移动电话", "mobile", "phone", "cellphone",
               "tel", "telephone", "sjh")

    def validate_result(self, pattern_text: str) -> bool | None:
        return None if v.cn_mobile_valid(pattern_text) else False


class CnLandlineRecognizer(_CnRecognizer):
    """Fixed-line numbers with an area code; the bare form (no separator) is context-only."""

    ENTITY = "CN_LANDLINE"
    PATTERNS = (
        ("landline_sep", NBD + r"(?:\(0\d{2,3}\)|0\d{2,3}[ -])[2-9]\d{6,7}(?:-\d{1,5})?" + NAD, 0.5),
        ("landline_bare", NBD + r"0\d{2,3}[2-9]\d{6,7}" + NAD, 0.2),
    )
    CONTEXT = ("电话", "座机", "固话", "固定电话", "家庭电话", "办公电话", "landline", "phone", "tel", "telephone")
    _EXT = re.compile(r"-\d{1,5}$")

    def validate_result(self, pattern_text: str) -> bool | None:
        if v.cn_landline_valid(pattern_text):
            return None
        stripped = self._EXT.sub("", pattern_text)
        return None if stripped != pattern_text and v.cn_landline_valid(stripped) else False


class BankCardRecognizer(_CnRecognizer):
    """Bank cards: 16-19 digits. Luhn-valid -> 1.0. A Luhn failure keeps the low base score
    (some old domestic debit cards fail Luhn), so only a 卡号 context word makes it count.
    Replaces Presidio's CreditCardRecognizer, whose 13-digit form catches EAN-13 barcodes."""

    ENTITY = "BANK_CARD"
    PATTERNS = (
        ("unionpay", NBD + r"62\d{14,17}" + NAD, 0.3),
        ("grouped", NBD + r"[3-6]\d{3}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?" + NAD, 0.2),
        ("bare", NBD + r"[3-6]\d{15,18}" + NAD, 0.05),
    )
    CONTEXT = ("银行卡", "银行卡号", "卡号", "借记卡", "信用卡", "储蓄卡", "银行账号", "card", "bank", "yhk", "yhkh")

    def validate_result(self, pattern_text: str) -> bool | None:
        return True if v.bank_card_valid(pattern_text) else None


class CnUsccRecognizer(_CnRecognizer):
    """统一社会信用代码 (GB 32100-2015), 18 characters from a 31-symbol alphabet."""

    ENTITY = "CN_USCC"
    PATTERNS = (("uscc", NB + r"[1-9ANY][1-9]\d{6}[0-9A-HJ-NPQRTUWXY]{10}" + NA, 0.3),)
    CONTEXT = ("统一社会信用代码", "信用代码", "税号", "纳税人识别号", "uscc", "tax")
    FLAGS = CASE_SENSITIVE
    CHECK = staticmethod(v.uscc_valid)


class CnPassportRecognizer(_CnRecognizer):
    """Chinese passports (E/G + 8 digits, E + letter + 7, diplomatic/service/public). No check
    digit on the printed number, so context-only."""

    ENTITY = "CN_PASSPORT"
    PATTERNS = (("passport", NB + r"(?:[EG]\d{8}|E[A-HJ-NP-Z]\d{7}|[DSP]E?\d{7})" + NA, 0.1),)
    CONTEXT = ("护照", "护照号", "护照号码", "passport")
    FLAGS = CASE_SENSITIVE


class CnTravelPermitRecognizer(_CnRecognizer):
    """往来港澳通行证 (C...), 港澳居民来往内地通行证 (H/M...), 往来台湾通行证 (L...). Context-only."""

    ENTITY = "CN_TRAVEL_PERMIT"
    PATTERNS = (
        ("to_hk_macau", NB + r"C[0-9A-HJ-NP-Z]\d{7}" + NA, 0.1),
        ("home_return", NB + r"[HM]\d{8}(?:\d{2})?" + NA, 0.1),
        ("to_taiwan", NB + r"L\d{8}" + NA, 0.1),
    )
    CONTEXT = ("通行证", "港澳通行证", "回乡证", "台胞证", "来往内地通行证", "permit")
    FLAGS = CASE_SENSITIVE


class HkIdRecognizer(_CnRecognizer):
    """Hong Kong identity card, e.g. ``A123456(3)``, with its check digit."""

    ENTITY = "HK_ID"
    PATTERNS = (("hkid", NB + r"[A-Z]{1,2}\d{6}\s?\(?[0-9A]\)?" + r"(?![0-9A-Za-z])", 0.3),)
    CONTEXT = ("香港身份证", "身份證", "hkid")
    FLAGS = CASE_SENSITIVE
    CHECK = staticmethod(v.hkid_valid)


class TwIdRecognizer(_CnRecognizer):
    """Taiwan national identification number, e.g. ``A123456789``, with its check digit."""

    ENTITY = "TW_ID"
    PATTERNS = (("twid", NB + r"[A-Z][1289]\d{8}" + NA, 0.3),)
    CONTEXT = ("身分證", "身分證字號", "台湾身份证")
    FLAGS = CASE_SENSITIVE
    CHECK = staticmethod(v.twid_valid)


_PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


class CnLicensePlateRecognizer(_CnRecognizer):
    """Licence plates (GA 36-2018), ordinary and new-energy (8 characters)."""

    ENTITY = "CN_LICENSE_PLATE"
    _HEAD = f"[{_PLATE_PROVINCES}][A-HJ-NP-Z][-·• ]?"
    PATTERNS = (
        ("new_energy", _HEAD + r"(?:[A-HJ-K][A-HJ-NP-Z0-9]\d{4}|\d{5}[A-HJ-K])" + NA, 0.6),
        ("ordinary", _HEAD + r"[A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警港澳]" + NA, 0.5),
    )
    CONTEXT = ("车牌", "车牌号", "车牌号码", "号牌", "plate", "vehicle")
    FLAGS = CASE_SENSITIVE


class GpsCoordinateRecognizer(_CnRecognizer):
    """A latitude/longitude pair with at least 4 decimals (about 11 m), either order."""

    ENTITY = "GPS_COORDINATE"
    PATTERNS = (("pair", r"(?<![0-9.])-?\d{1,3}\.\d{4,}\s*[,，]\s*-?\d{1,3}\.\d{4,}(?![0-9.])", 0.4),)
    CONTEXT = ("经纬度", "坐标", "定位", "位置", "gps", "location", "coordinates", "latlng", "lnglat")

    def validate_result(self, pattern_text: str) -> bool | None:
        return None if v.gps_pair_valid(pattern_text) else False


class WeChatIdRecognizer(_CnRecognizer):
    """微信号: 6-20 characters starting with a letter; only ``wxid_`` ids are distinctive, the rest
    is context-only. No ``wx``/``vx`` context words (they are substrings of coupon codes)."""

    ENTITY = "WECHAT_ID"
    _NB = r"(?<![0-9A-Za-z_\-.@])"
    _NA = r"(?![0-9A-Za-z_\-.@])"
    PATTERNS = (
        ("wxid", _NB + r"wxid_[a-z0-9]{10,16}" + _NA, 0.5),
        ("custom_id", _NB + r"[A-Za-z][-_A-Za-z0-9]{5,19}" + _NA, 0.05),
    )
    CONTEXT = ("微信", "微信号", "wechat", "weixin")


class WeChatOpenIdRecognizer(_CnRecognizer):
    """WeChat openid / unionid: 28 characters starting with ``o`` (an observed convention, not a
    documented format), so it needs a column-name or in-text hint."""

    ENTITY = "WECHAT_OPENID"
    PATTERNS = ((("openid", r"(?<![0-9A-Za-z_\-])o[-_A-Za-z0-9]{27}(?![0-9A-Za-z_\-])", 0.2)),)
    CONTEXT = ("openid", "unionid", "open_id", "union_id")
    FLAGS = CASE_SENSITIVE


_PROVINCE_NAMES = ("北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|"
                   "海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门")
_H = r"[\u4e00-\u9fff]"
_ADMIN = (rf"(?:(?:{_PROVINCE_NAMES})(?:省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区)?)?"
          rf"(?:{_H}{{1,8}}?(?:市|自治州|地区|盟))?(?:{_H}{{1,8}}?(?:区|县|旗|市))?")
_STREET = r"[\u4e00-\u9fff0-9]{1,12}?(?:路|街|大道|道|巷|弄|胡同|里)"
# building, unit and room parts, then an optional postcode
_TAIL = r"(?:[A-Za-z0-9\-]{1,5}(?:号楼|号|栋|幢|座|单元|楼|层|室|户)){0,4}(?:\s?[0-8]\d{5}(?![0-9]))?"


class CnAddressRecognizer(_CnRecognizer):
    """Postal addresses: optional province / city / district, a road and a number with 号, then
    up to four building, unit and room parts. Addresses without 号 are caught only when at least
    two administrative levels precede the road (weaker)."""

    ENTITY = "CN_ADDRESS"
    PATTERNS = (
        ("street_number", _ADMIN + _STREET + r"\d{1,5}(?:-\d{1,4})?号" + _TAIL, 0.5),
        ("admin_chain", rf"{_H}{{2,10}}?(?:省|自治区|特别行政区|市){_H}{{1,8}}?(?:市|区|县|自治州|地区|盟)"
                        + _STREET + _TAIL, 0.4),
    )
    CONTEXT = ("地址", "收货地址", "住址", "家庭住址", "送货地址", "详细地址", "address", "addr")


class CnPostalCodeRecognizer(_CnRecognizer):
    """Six-digit postcodes: any six digits, so context-only (邮编)."""

    ENTITY = "CN_POSTAL_CODE"
    PATTERNS = (("postcode", r"(?<![0-9.])[0-8]\d{5}(?![0-9.])", 0.01),)
    CONTEXT = ("邮编", "邮政编码", "postcode", "zipcode", "zip", "postal")


CN_RECOGNIZERS: tuple[type[_CnRecognizer], ...] = (
    CnResidentIdRecognizer, CnMobileRecognizer, CnLandlineRecognizer, BankCardRecognizer, CnUsccRecognizer,
    CnPassportRecognizer, CnTravelPermitRecognizer, HkIdRecognizer, TwIdRecognizer, CnLicensePlateRecognizer,
    GpsCoordinateRecognizer, WeChatIdRecognizer, WeChatOpenIdRecognizer, CnAddressRecognizer, CnPostalCodeRecognizer,
)
