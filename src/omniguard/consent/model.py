"""The vocabulary of consent events and the validators every entry point shares.

Subject ids are opaque strings, but not arbitrary ones: 1-128 characters of ``A-Z a-z 0-9 . _ :
@ + -`` starting with a letter or digit. That keeps ids safe in CSV, file names and logs, and turns
a shifted CSV column (a name or an address landing in the id column) into a rejected line instead
of a new "subject". Errors never quote the offending value.
"""

from __future__ import annotations

import datetime as dt
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
    return _years_later(pd.to_datetime(births, format="%Y-%m-%d"), MINOR_AGE)


def adult_from_ages(ages: pd.Series, ts: pd.Series) -> pd.Series:
    """Vectorised :func:`adult_from_age`."""
    utc = pd.to_datetime(ts, format="%Y-%m-%dT%H:%M:%S.%fZ", utc=True)
    local = (utc + pd.Timedelta(hours=8)).dt.tz_localize(None).dt.normalize()
    return _years_later(local, MINOR_AGE - ages.astype("int64"))


def _years_later(local_dates: pd.Series, years: Any) -> pd.Series:
    """Midnight Beijing time of the same day ``years`` later (29 February -> 1 March), as UTC text."""
    year = local_dates.dt.year + years
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    feb29 = (local_dates.dt.month == 2) & (local_dates.dt.day == 29) & ~leap
    day = pd.to_datetime(pd.DataFrame({"year": year, "month": local_dates.dt.month.where(~feb29, 3),
                                       "day": local_dates.dt.day.where(~feb29, 1)}))
    return (day - pd.Timedelta(hours=8)).dt.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
