"""Value forms that are not a recognizer's business: masked, hashed, numbers that lost their form,
and the cheap checks behind name-only entities. Also the one function that turns a value into
evidence without revealing it.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from omniguard.classify.recognizers.names import SINGLE_SURNAMES

_KEEP = frozenset("-_ @.·:/,()+")


def shape_of(value: str, max_len: int = 24) -> str:
    """Evidence without the value: the first character if it is an ASCII letter or digit (the
    kind of number, e.g. ``1`` for a mobile), separators kept, everything else ``*``."""
    out = []
    for i, ch in enumerate(value[:max_len]):
        if ch in _KEEP or (i == 0 and ch.isascii() and ch.isalnum()):
            out.append(ch)
        else:
            out.append("*")
    return "".join(out) + ("…" if len(value) > max_len else "")


# --- masked and hashed values -------------------------------------------------------------------

_MASK_CHAR = re.compile(r"[*＊●]")
_SURNAME_CLASS = "[" + "".join(sorted(SINGLE_SURNAMES)) + "]"
MASKED_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("CN_MOBILE", re.compile(r"^(?:\+?86)?1[3-9]\d[*＊●]{4}\d{4}$")),
    ("CN_RESIDENT_ID", re.compile(r"^\d{1,6}[*＊●]{8,14}\d{0,4}[\dXx]?$")),
    ("BANK_CARD", re.compile(r"^\d{4,6}[*＊●]{4,9}\d{4}$")),
    ("EMAIL_ADDRESS", re.compile(r"^[^@\s]{0,3}[*＊●]+[^@\s]{0,3}@[\w.-]+$")),
    ("PERSON", re.compile(rf"^{_SURNAME_CLASS}(?:[*＊●]{{1,3}}|某{{1,2}})$")),
    ("CN_ADDRESS", re.compile(r"^[\u4e00-\u9fff]{2,}(?:省|市|区|县)[\u4e00-\u9fff]*[*＊●]{2,}$")),
)
_HEX = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9A-F]{32}|[0-9A-F]{40}|[0-9A-F]{64})$")
_SCIENTIFIC = re.compile(r"^[1-9](?:\.\d+)?[eE]\+?(\d{1,2})$")
# Anything that could make a sample masked, hashed or scientific: a mask character, a 32+ hex run,
# or an exponent.
SPECIAL_HINT = re.compile(r"[*＊●某]|[0-9a-fA-F]{32}|\d[eE]\+?\d")


def masked_share(values: pd.Series) -> float:
    return float(values.str.contains(_MASK_CHAR).mean()) if len(values) else 0.0


def masked_entity(values: pd.Series) -> tuple[str | None, float]:
    """The entity whose masked form most of the values take, and that share."""
    best, share = None, 0.0
    for entity, rx in MASKED_SHAPES:
        s = float(values.str.match(rx).mean())
        if s > share:
            best, share = entity, s
    return best, share


def hashed_share(values: pd.Series) -> tuple[float, int]:
    hit = values.str.match(_HEX)
    lengths = values[hit].str.len()
    return float(hit.mean()), int(lengths.mode().iloc[0]) if len(lengths) else 0


def scientific_share(values: pd.Series) -> tuple[float, int]:
    """Share of Excel-style ``1.10105E+17`` numbers and their typical digit count (exponent + 1)."""
    exp = values.str.extract(_SCIENTIFIC, expand=False)
    hit = exp.notna()
    digits = int(exp[hit].astype(int).mode().iloc[0]) + 1 if hit.any() else 0
    return float(hit.mean()), digits


def numbers_as_text(col: pd.Series) -> tuple[pd.Series, str | None]:
    """Text of a numeric column without the float artefacts (``1.3812345678e10`` -> ``13812345678``),
    plus a note when the numbers may have lost digits or a trailing X."""
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        return col, None
    nonnull = col.dropna()
    if pd.api.types.is_integer_dtype(col):
        return nonnull.astype("int64").astype(str), "stored as integers"
    whole = (nonnull == np.floor(nonnull)).all() if len(nonnull) else False
    if whole:
        too_long = (nonnull.abs() >= 1e15).any()
        text = nonnull.map(lambda x: format(x, ".0f"))
        return text, "stored as floating-point numbers" + ("; digits beyond the 15th are lost" if too_long else "")
    return nonnull.astype(str), None


# --- checks behind name-only entities -----------------------------------------------------------

_GENDER = frozenset({"男", "女", "m", "f", "male", "female", "男性", "女性", "1", "2", "0", "未知", "unknown", "u"})


def share_gender(values: pd.Series) -> float:
    return float(values.str.strip().str.lower().isin(_GENDER).mean())


def parsed_dates(values: pd.Series) -> pd.Series:
    cleaned = values.str.replace(r"[年月]", "-", regex=True).str.replace("日", "", regex=False)
    return pd.to_datetime(cleaned, errors="coerce", format="mixed")


def share_under_14(dates: pd.Series, today: dt.date | None = None) -> float:
    ok = dates.dropna()
    if ok.empty:
        return 0.0
    today = today or dt.date.today()
    cutoff = pd.Timestamp(today.year - 14, today.month, min(today.day, 28))
    return float((ok > cutoff).mean())


def share_small_ints(values: pd.Series, lo: int = 0, hi: int = 120) -> float:
    nums = pd.to_numeric(values, errors="coerce")
    return float(((nums >= lo) & (nums <= hi) & (nums == np.floor(nums))).mean())


def looks_secret(values: pd.Series) -> float:
    """Share of values that look like credentials: hashes, bcrypt/argon strings, or 4-8 digit PINs
    and codes, or long random tokens."""
    rx = r"^(?:\$2[aby]?\$|\$argon2|pbkdf2|[0-9a-fA-F]{32,}$|\d{3,8}$|[A-Za-z0-9+/=_\-.]{16,}$)"
    return float(values.str.match(rx).mean())
