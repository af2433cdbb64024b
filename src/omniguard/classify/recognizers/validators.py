"""Check-digit algorithms and value normalisation for Chinese identifiers.

Pure functions with no Presidio in sight, so the recognizers, the column classifier, the synthetic
generator and the property tests share one implementation. Checksums matter twice: they lift a
pattern hit to certainty, and their known random-pass rates (Luhn 1/10, MOD 11-2 1/11, GB 32100
1/31) are what the column classifier's prevalence floors are calibrated against.
"""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers

# --- normalisation ------------------------------------------------------------------------------

# Full-width ASCII (U+FF01..U+FF5E) -> ASCII, the ideographic space -> space, and the dashes and
# dots people type between digit groups -> "-".
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
for _dash in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d":
    _FULLWIDTH[ord(_dash)] = ord("-")
FULLWIDTH_TABLE = _FULLWIDTH


def normalise_text(text: str) -> str:
    """Full-width digits, letters and punctuation to ASCII (``１３８`` -> ``138``); other text kept."""
    return text.translate(FULLWIDTH_TABLE)


_SEPARATORS = re.compile(r"[\s\-.()（）]")


def compact(text: str) -> str:
    """Drop the separators people put inside numbers (``138-1234-5678``, ``+86 138 1234 5678``)."""
    return _SEPARATORS.sub("", normalise_text(text))


# --- resident identity card (GB 11643-1999) -----------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# Province-level codes (GB/T 2260 first two digits) plus 71 Taiwan, 81 Hong Kong, 82 Macau, 83
# (the residence permits of Hong Kong, Macau and Taiwan residents use 81/82/83).
PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
     50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)


def resident_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def _real_date(yyyymmdd: str, *, earliest: int = 1900) -> bool:
    try:
        d = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return dt.date(earliest, 1, 1) <= d <= dt.date.today()


def resident_id_valid(value: str) -> bool:
    """18-character mainland ID (and the 2023 foreign permanent-resident ID starting with 9):
    province code, a real birth date not in the future, and the MOD 11-2 check character."""
    s = value.upper()
    if len(s) != 18 or not s[:17].isdigit() or s[17] not in "0123456789X":
        return False
    province = int(s[:2]) if s[0] != "9" else int(s[1:3])
    if province not in PROVINCE_CODES:
        return False
    if not _real_date(s[6:14]):
        return False
    return resident_id_check_char(s[:17]) == s[17]


def legacy_id15_valid(value: str) -> bool:
    """The pre-1999 15-digit ID: region, YYMMDD (19xx) and a sequence; it has no check digit."""
    return (len(value) == 15 and value.isdigit() and int(value[:2]) in PROVINCE_CODES
            and _real_date("19" + value[6:12]))


# --- bank cards ----------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` Luhn-valid."""
    for d in "0123456789":
        if luhn_valid(partial + d):
            return d
    raise AssertionError("unreachable")


def bank_card_valid(value: str) -> bool:
    """16-19 digits starting 3-6 (UnionPay 62, Visa 4, Mastercard 5, Amex/JCB 3) and Luhn."""
    s = compact(value)
    return 16 <= len(s) <= 19 and s[0] in "3456" and luhn_valid(s)


# --- unified social credit code (GB 32100-2015) --------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """GB 11714 organisation-code check character (characters 9-17 of a USCC)."""
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))  # A=10 ... Z=35
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def uscc_valid(value: str) -> bool:
    s = value.upper()
    if len(s) != 18 or any(c not in USCC_ALPHABET for c in s):
        return False
    if s[0] not in "123456789ANY" or s[1] not in "123456789":
        return False
    return uscc_check_char(s[:17]) == s[17]


# --- Hong Kong and Taiwan identity cards ---------------------------------------------------------

_HKID = re.compile(r"^([A-Z]{1,2})(\d{6})\(?([0-9A])\)?$")


def hkid_valid(value: str) -> bool:
    m = _HKID.match(value.upper().replace(" ", ""))
    if not m:
        return False
    letters, digits, check = m.groups()
    chars = ([36] if len(letters) == 1 else []) + [ord(c) - 55 for c in letters] + [int(d) for d in digits]
    total = sum(v * w for v, w in zip(chars, range(9, 1, -1), strict=True))
    expected = (11 - total % 11) % 11
    return check == ("A" if expected == 10 else str(expected))


# Letter -> two-digit area code; note the out-of-order I, O, W, X, Y, Z.
_TW_LETTERS = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True))
_TW_WEIGHTS = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)


def twid_valid(value: str) -> bool:
    s = value.upper()
    if len(s) != 10 or s[0] not in _TW_LETTERS or s[1] not in "1289" or not s[1:].isdigit():
        return False
    code = _TW_LETTERS[s[0]]
    digits = [code // 10, code % 10, *(int(c) for c in s[1:])]
    return sum(d * w for d, w in zip(digits, _TW_WEIGHTS, strict=True)) % 10 == 0


# --- phone numbers (phonenumbers keeps the prefix tables current) --------------------------------


def _cn_number_type(value: str) -> int | None:
    s = compact(value)
    if s.startswith("0086"):
        s = "+86" + s[4:]
    try:
        n = phonenumbers.parse(s, "CN")
    except phonenumbers.NumberParseException:
        return None
    if n.country_code != 86 or not phonenumbers.is_valid_number(n):
        return None
    return phonenumbers.number_type(n)


def cn_mobile_valid(value: str) -> bool:
    return _cn_number_type(value) == phonenumbers.PhoneNumberType.MOBILE


def cn_landline_valid(value: str) -> bool:
    return _cn_number_type(value) in (phonenumbers.PhoneNumberType.FIXED_LINE,
                                      phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


# --- coordinates ---------------------------------------------------------------------------------

_PAIR = re.compile(r"^\s*(-?\d{1,3}\.\d+)\s*[,，]\s*(-?\d{1,3}\.\d+)\s*$")


def gps_pair_valid(value: str) -> bool:
    """"lat,lon" or "lon,lat" with both parts in range (either order is common in Chinese apps)."""
    m = _PAIR.match(value)
    if not m:
        return False
    a, b = float(m.group(1)), float(m.group(2))
    return (abs(a) <= 90 and abs(b) <= 180) or (abs(b) <= 90 and abs(a) <= 180)
