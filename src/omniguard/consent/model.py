"""The vocabulary of consent events and the validators every entry point shares.

Subject ids are opaque strings, but not arbitrary ones: 1-128 characters of ``A-Z a-z 0-9 . _ :
@ + -`` starting with a letter or digit. That keeps ids safe in CSV, file names and logs, and turns
a shifted CSV column (a name or an address landing in the id column) into a rejected line instead
of a new "subject". Errors never quote the offending value.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import numpy as np
import pandas as pd

from omniguard.config import iso_utc
from omniguard.errors import InputError

SUBJECT_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:@+\-]{0,127}"
_SUBJECT_RE = re.compile(SUBJECT_PATTERN)
SUBJECT_RULE = "1-128 characters of A-Z a-z 0-9 . _ : @ + -, starting with a letter or digit"
EVENT_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}"

CONSENT_ACTIONS = ("grant", "withdraw", "expire")
OPT_ACTIONS = ("opt_out", "opt_in")
ACTIONS = CONSENT_ACTIONS + OPT_ACTIONS
STATUS_OF = {"grant": "granted", "withdraw": "withdrawn", "expire": "expired"}

# Where consent was collected. "import" marks events whose source system did not say.
CHANNELS = ("app", "mini-program", "web", "store", "call-centre", "paper", "import", "api", "cli")

MINOR_AGE = 14  # PIPL Art. 28 and 31
BEIJING = dt.timezone(dt.timedelta(hours=8))
MAX_EVIDENCE_BYTES = 4096


def valid_subject(subject_id: object) -> bool:
    return isinstance(subject_id, str) and _SUBJECT_RE.fullmatch(subject_id) is not None


def check_subject(subject_id: object, what: str = "subject id") -> str:
    if not valid_subject(subject_id):
        raise InputError(f"malformed {what} (expected {SUBJECT_RULE})")
    return str(subject_id)


def subject_mask(ids: pd.Series) -> np.ndarray:
    """Vectorised :func:`valid_subject` over a column of text (NaN/None are invalid)."""
    return ids.astype("string").str.fullmatch(SUBJECT_PATTERN).fillna(False).to_numpy(dtype=bool)


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InputError(f"unknown channel {channel!r} (known: {', '.join(CHANNELS)})")
    return channel


def parse_notice_ref(ref: str) -> tuple[str, int]:
    """``privacy-notice@2`` -> ("privacy-notice", 2)."""
    nid, sep, ver = str(ref).partition("@")
    if not sep or not nid or not ver.isdigit() or int(ver) < 1:
        raise InputError("a notice is given as ID@VERSION, e.g. privacy-notice@1")
    return nid, int(ver)


def to_utc(value: dt.datetime | str | None, *, what: str = "time", naive_tz: dt.tzinfo = BEIJING) -> str:
    """An instant as ``iso_utc`` text. Naive times are Beijing time unless told otherwise."""
    if value is None:
        return iso_utc()
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"{what}: expected an ISO 8601 time such as 2026-11-01T08:00:00+08:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=naive_tz)
    return iso_utc(value)


def not_future(ts: str, what: str = "time") -> str:
    if ts > iso_utc():
        raise InputError(f"{what} is in the future; consent events record what already happened")
    return ts


def parse_date(value: str | dt.date, what: str = "date") -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{what}: expected a date YYYY-MM-DD") from None


def adult_from_birth(birth: dt.date) -> str:
    """The UTC instant a person born on ``birth`` (a date in China) turns 14: midnight Beijing
    time on the 14th birthday; 29 February birthdays count on 1 March in common years."""
    year = birth.year + MINOR_AGE
    try:
        day = birth.replace(year=year)
    except ValueError:
        day = dt.date(year, 3, 1)
    return iso_utc(dt.datetime(day.year, day.month, day.day, tzinfo=BEIJING))


def adult_from_age(age: int, at_ts: str) -> str:
    """A stated age at an instant bounds the 14th birthday; take the latest possible one, so an
    uncertain age never lets a child's own consent count early."""
    local = dt.datetime.fromisoformat(at_ts.replace("Z", "+00:00")).astimezone(BEIJING).date()
    shift = MINOR_AGE - age
    try:
        day = local.replace(year=local.year + shift)
    except ValueError:
        day = dt.date(local.year + shift, 3, 1)
    return iso_utc(dt.datetime(day.year, day.month, day.day, tzinfo=BEIJING))


def adult_from_births(births: pd.Series) -> pd.Series:
    """Vectorised :func:`adult_from_birth` over ``YYYY-MM-DD`` text (already validated)."""
    d = pd.to_datetime(births, format="%Y-%m-%d")
    year = d.dt.year + MINOR_AGE
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    feb29 = (d.dt.month == 2) & (d.dt.day == 29) & ~leap
    month = d.dt.month.where(~feb29, 3)
    day = d.dt.day.where(~feb29, 1)
    local = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}))
    return (local - pd.Timedelta(hours=8)).dt.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def adult_from_ages(ages: pd.Series, ts: pd.Series) -> pd.Series:
    """Vectorised :func:`adult_from_age`."""
    local = (pd.to_datetime(ts, format="%Y-%m-%dT%H:%M:%S.%fZ", utc=True) + pd.Timedelta(hours=8)).dt.tz_localize(None)
    year = local.dt.year + (MINOR_AGE - ages.astype("int64"))
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    feb29 = (local.dt.month == 2) & (local.dt.day == 29) & ~leap
    month = local.dt.month.where(~feb29, 3)
    day = local.dt.day.where(~feb29, 1)
    out = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}))
    return (out - pd.Timedelta(hours=8)).dt.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def evidence_text(evidence: Any) -> str | None:
    """Evidence of what was shown and how it was accepted, as canonical JSON text."""
    if evidence is None or evidence == "":
        return None
    if isinstance(evidence, str):
        try:
            evidence = json.loads(evidence)
        except ValueError:
            raise InputError("evidence: expected a JSON object, e.g. {\"shown\": \"...\", \"accepted\": \"tap\"}") from None
    if not isinstance(evidence, dict):
        raise InputError("evidence: expected a JSON object")
    text = json.dumps(evidence, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode()) > MAX_EVIDENCE_BYTES:
        raise InputError(f"evidence: larger than {MAX_EVIDENCE_BYTES} bytes; store the screen capture elsewhere and reference it")
    return text
