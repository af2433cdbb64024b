"""Validation of consent events, columnar: one pass per rule over the whole batch.

The importer and the single-event calls (``grant`` ...) share this code, so a rule cannot hold for
one path and not the other. The input is a frame of text columns with canonical names; the output
is the typed frame the writer appends plus ``(row, problem)`` pairs. Problems never quote a value
from the data, except ids of purposes, notices and channels, which are policy, not personal data.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select, text

from omniguard.config import iso_utc
from omniguard.consent.model import (
    ACTIONS,
    BEIJING,
    CHANNELS,
    CONSENT_ACTIONS,
    EVENT_ID_PATTERN,
    MAX_EVIDENCE_BYTES,
    OPT_ACTIONS,
    SUBJECT_RULE,
    subject_mask,
)
from omniguard.consent.tables import consent_tombstones
from omniguard.crypto.sm3 import sm3_hasher
from omniguard.policy import LegalBasis

ACTION_ALIASES = {"同意": "grant", "授权": "grant", "撤回": "withdraw", "撤销": "withdraw", "过期": "expire",
                  "到期": "expire", "拒绝个性化": "opt_out", "恢复个性化": "opt_in", "opt-out": "opt_out",
                  "opt-in": "opt_in", "optout": "opt_out", "optin": "opt_in"}
CHANNEL_ALIASES = {"小程序": "mini-program", "mini_program": "mini-program", "门店": "store", "客服": "call-centre",
                   "呼叫中心": "call-centre", "call_centre": "call-centre", "call-center": "call-centre",
                   "纸质": "paper", "网页": "web", "官网": "web", "应用": "app", "导入": "import"}
_TRUE = {"1", "true", "t", "yes", "y", "是", "单独", "单独同意"}
_FALSE = {"", "0", "false", "f", "no", "n", "否"}
_HAS_ZONE = r"(?:Z|z|[+-]\d\d:?\d\d)$"
_BEIJING_US = 8 * 3600 * 10**6
STORED = "event id already imported"
_NOTICE_REF = re.compile(r"([a-z][a-z0-9_\-]{0,63})@([1-9][0-9]{0,5})")
_IDENT = re.compile(r"^[a-z][a-z0-9_\-]{0,63}$")


@dataclass
class Validated:
    events: pd.DataFrame  # typed, the writer's columns (no ``batch``)
    problems: list[tuple[int, str]]  # (row position, message), in row order
    readmitted: list[str]  # tombstone refs to mark readmitted


def _text(df: pd.DataFrame, col: str) -> pd.Series:
    """A column as stripped text (pandas "str": missing stays missing, comparisons are plain bools);
    empty cells are missing. Whole-number columns (JSON lines) keep no ".0"."""
    if col not in df:
        return pd.Series(np.nan, index=df.index, dtype="str")
    s = df[col]
    if pd.api.types.is_float_dtype(s.dtype) and (s.dropna() % 1 == 0).all():
        s = s.astype("Int64")
    s = s.astype("str").str.strip()
    return s.where(s != "", np.nan)


def _per_value(s: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """``s.map(fn)`` computed once per distinct value: purposes, actions, channels and notices
    repeat a handful of values over a million rows."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    values = np.empty(len(uniques) + 1, dtype=object)
    values[:-1] = [fn(u) for u in uniques]
    values[-1] = fn(None)
    return pd.Series(values[codes], index=s.index)


def _times(s: pd.Series) -> pd.Series:
    """ISO 8601 text -> UTC timestamps (NaT when unreadable). Naive times are Beijing time.
    Arrow's ISO parser takes the whole column at once; a column with any unreadable value falls
    back to pandas, row by row, to tell which."""
    arr = pa.array(s, type=pa.string(), from_pandas=True)
    zoned = pc.fill_null(pc.match_substring_regex(arr, _HAS_ZONE), False)
    micros = np.full(len(arr), np.iinfo(np.int64).min, dtype=np.int64)  # NaT
    try:
        for mask, typ, shift in ((zoned, pa.timestamp("us", tz="UTC"), 0),
                                 (pc.and_(pc.invert(zoned), pc.is_valid(arr)), pa.timestamp("us"), _BEIJING_US)):
            pos = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
            if len(pos):
                parsed = pc.cast(arr.take(pa.array(pos)), typ).cast(pa.int64()).to_numpy()
                micros[pos] = parsed - shift
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _times_slow(s)
    return pd.Series(pd.to_datetime(micros, unit="us", utc=True), index=s.index)


def _times_slow(s: pd.Series) -> pd.Series:
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
    zoned = s.str.contains(_HAS_ZONE, regex=True)
    if zoned.any():
        out[zoned] = pd.to_datetime(s[zoned], utc=True, format="ISO8601", errors="coerce")
    naive = s.notna() & ~zoned
    if naive.any():
        local = pd.to_datetime(s[naive], format="ISO8601", errors="coerce")
        out[naive] = local.dt.tz_localize(BEIJING).dt.tz_convert("UTC")
    return out


def _iso(t: pd.Series) -> pd.Series:
    """UTC timestamps as ``iso_utc`` text (``2026-11-22T00:16:29.123456Z``), formatted by Arrow."""
    naive = pa.array(t.dt.tz_convert(None).to_numpy(dtype="datetime64[us]"), type=pa.timestamp("us"),
                     mask=t.isna().to_numpy())
    text = pc.binary_join_element_wise(pc.replace_substring(pc.cast(naive, pa.string()), " ", "T"),
                                       pa.scalar("Z"), "")
    return pd.Series(pd.array(text, dtype="str"), index=t.index)


def _quoted(value: Any) -> str:
    return f" {value!r}" if isinstance(value, str) and _IDENT.match(value) else ""


def validate(ws: Any, df: pd.DataFrame, *, default_channel: str, readmit_erased: bool = False,
             derive_ids: bool = True, first_line: int = 2, check_stored: bool = True) -> Validated:
    """Check every row; return the typed events and the problems found (empty = all good).
    ``check_stored=False`` leaves ids already in the store to the unique index at write time
    (a bulk import then asks :func:`already_stored` only when the insert hits one)."""
    pack = ws.policy
    df = df.reset_index(drop=True)
    n = len(df)
    problems: list[tuple[int, str]] = []

    def flag(mask: Any, message: str | Callable[[np.ndarray], list[str]]) -> None:
        pos = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(pos):
            texts = message(pos) if callable(message) else [message] * len(pos)
            problems.extend(zip(pos.tolist(), texts, strict=True))

    subject = _text(df, "subject_id")
    flag(~subject_mask(subject), f"malformed subject id (expected {SUBJECT_RULE})")

    purposes = pack.purposes
    purpose = _text(df, "purpose")
    known_purpose = purpose.isin(list(purposes)).to_numpy()
    flag(~known_purpose, lambda pos: ["unknown purpose" + _quoted(purpose.iloc[i]) for i in pos])

    action = _per_value(_text(df, "action"), lambda a: ACTION_ALIASES.get(a, a.lower()) if a else a)
    flag(~action.isin(ACTIONS).to_numpy(), "unknown action (expected grant, withdraw, expire, opt_out or opt_in)")
    on_consent = purpose.isin([p for p, v in purposes.items() if v.legal_basis is LegalBasis.consent])
    automated = purpose.isin([p for p, v in purposes.items() if v.automated_decision])
    is_consent_act = action.isin(CONSENT_ACTIONS)
    grant = (action == "grant").to_numpy()
    flag(known_purpose & is_consent_act & ~on_consent,
         "the purpose rests on a legal basis other than consent (PIPL Art. 13); there is no consent to "
         "grant or withdraw")
    flag(known_purpose & action.isin(OPT_ACTIONS) & ~automated,
         "opt-out applies to personalised or automated-decision purposes (PIPL Art. 24); withdraw consent instead")

    ts = _times(_text(df, "ts"))
    flag(ts.isna(), "missing or unreadable time (expected ISO 8601, e.g. 2026-11-01T08:00:00+08:00)")
    now = pd.Timestamp(iso_utc())
    flag(ts > now, "time in the future; consent events record what already happened")

    notice_id, notice_ver = _notice_refs(df)
    bad_ref = notice_id.notna() & notice_ver.isna()
    flag(bad_ref, "malformed notice (expected ID@VERSION, e.g. privacy-notice@1)")
    has_ref = (notice_id.notna() & notice_ver.notna()).to_numpy()
    ref = notice_id.fillna("") + "@" + notice_ver.fillna(0).astype(int).astype("str")
    exists = ref.isin([f"{nt.id}@{nt.version}" for nt in pack.notices]).to_numpy()
    flag(has_ref & ~exists, lambda pos: ["unknown notice version" + _quoted(notice_id.iloc[i]) for i in pos])
    flag(grant & ~has_ref & ~bad_ref, "a grant must cite the notice the person was shown (notice ID@VERSION)")
    retention_of = {f"{nt.id}@{nt.version}|{np_.purpose}": float(np_.retention_days or 0)
                    for nt in pack.notices for np_ in nt.purposes}
    ref_purpose = ref + "|" + purpose.fillna("")
    covered = ref_purpose.isin(list(retention_of)).to_numpy()
    flag(known_purpose & has_ref & exists & ~covered & is_consent_act, "the notice does not cover this purpose")

    sep = _per_value(_text(df, "separate"), lambda v: None if v is None else v.lower())
    flag(~sep.fillna("").isin(_TRUE | _FALSE), "separate: expected true or false")
    separate = sep.isin(_TRUE).to_numpy() & grant

    channel = _per_value(_text(df, "channel").fillna(default_channel),
                         lambda c: CHANNEL_ALIASES.get(c, c.lower()) if c else c)
    flag(~channel.isin(CHANNELS), "unknown channel (known: " + ", ".join(CHANNELS) + ")")

    guardian = _text(df, "guardian_ref")
    flag(guardian.notna() & ~subject_mask(guardian), f"malformed guardian reference (expected {SUBJECT_RULE})")

    birth = _text(df, "birth_date")
    birth_t = pd.to_datetime(birth, format="%Y-%m-%d", errors="coerce")
    flag(birth.notna() & (birth_t.isna() | (birth_t < pd.Timestamp("1900-01-01")) | (birth_t > now.tz_localize(None))),
         "birth date: expected a past date YYYY-MM-DD")
    age_raw = _text(df, "age")
    age = pd.to_numeric(age_raw, errors="coerce")
    flag(age_raw.notna() & (age.isna() | (age < 0) | (age > 150) | (age % 1 != 0)), "age: expected a whole number 0-150")
    age = age.where(birth.isna() & (age % 1 == 0))  # a birth date is the better statement

    evidence = _text(df, "evidence")
    present = evidence.notna().to_numpy()
    bad_evidence = np.zeros(n, dtype=bool)
    bad_evidence[present] = [_bad_evidence(v) for v in evidence[present]]  # JSON has no columnar parser
    flag(bad_evidence, f"evidence: expected a JSON object of at most {MAX_EVIDENCE_BYTES} bytes")

    exp_raw = _text(df, "expires_at")
    expires = _times(exp_raw)
    flag(exp_raw.notna() & expires.isna(), "unreadable expiry time (expected ISO 8601)")
    flag(expires.notna() & ts.notna() & (expires <= ts), "expiry must come after the time of the event")
    default_end = ts + pd.to_timedelta(ref_purpose.map(retention_of).astype(float), unit="D")
    expires = expires.where(expires.notna(), default_end).where(grant)

    ts_iso = _iso(ts)
    if "event_id" in df:
        event_id = _text(df, "event_id")
    elif derive_ids:
        event_id = _derived_ids(subject, purpose, action, ts_iso, notice_id, notice_ver)
    else:
        event_id = pd.Series([f"ev-{uuid.uuid4().hex}" for _ in range(n)], dtype="str")
    flag(~event_id.str.fullmatch(EVENT_ID_PATTERN), "malformed event id (1-64 characters of A-Z a-z 0-9 . _ : -)")
    dup = (event_id.notna() & event_id.duplicated(keep="first")).to_numpy()
    if dup.any():
        first_pos = pd.Series(np.arange(n)).groupby(event_id.fillna("").to_numpy()).transform("min").to_numpy()
        flag(dup, lambda pos: [f"duplicated event id (first on line {first_pos[i] + first_line})" for i in pos])
    if check_stored:
        flag(already_stored(ws, event_id), STORED)

    readmitted = _tombstones(ws, subject, ts_iso, readmit_erased, flag)

    events = pd.DataFrame({
        "event_id": event_id, "subject_id": subject, "purpose": purpose, "action": action.astype("str"),
        "ts": ts_iso, "notice_id": notice_id.where(has_ref, np.nan),
        "notice_version": notice_ver.where(has_ref).astype("Int64"), "separate": separate,
        "guardian_ref": guardian, "channel": channel.astype("str"), "expires_at": _iso(expires),
        "birth_date": birth, "age": age.astype("Int64"), "evidence": evidence,
    })
    problems.sort(key=lambda p: p[0])
    return Validated(events, problems, readmitted)


def _notice_refs(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    if "notice" in df:
        ref = _text(df, "notice")
        nid = _per_value(ref, lambda r: _split_ref(r)[0]).astype("str")
        return nid, pd.to_numeric(_per_value(ref, lambda r: _split_ref(r)[1]), errors="coerce")
    nid = _text(df, "notice_id")
    ver = pd.to_numeric(_text(df, "notice_version"), errors="coerce")
    return nid, ver.where(ver >= 1)


def _split_ref(ref: str | None) -> tuple[str | None, int | None]:
    if ref is None:
        return None, None
    m = _NOTICE_REF.fullmatch(ref)
    return (m.group(1), int(m.group(2))) if m else ("?", None)


def _bad_evidence(value: str) -> bool:
    if len(value.encode()) > MAX_EVIDENCE_BYTES:
        return True
    try:
        return not isinstance(json.loads(value), dict)
    except ValueError:
        return True


def _derived_ids(*cols: pd.Series) -> pd.Series:
    """Without an event id column, an event is named by its content, so importing the same file
    twice is caught as duplicates instead of doubling the history."""
    joined = cols[0].fillna("")
    for c in cols[1:]:
        joined = joined + "|" + c.astype(str).fillna("")
    return joined.map(lambda s: "h-" + sm3_hasher(s.encode()).hex()[:32])


def already_stored(ws: Any, event_id: pd.Series) -> np.ndarray:
    ids = event_id.dropna().unique().tolist()
    if not ids:
        return np.zeros(len(event_id), dtype=bool)
    with ws.store.read() as conn:
        if ws.store.dialect == "postgresql":
            found = conn.execute(text("SELECT event_id FROM consent_events WHERE event_id = ANY(:ids)"), {"ids": ids})
        else:
            found = conn.execute(text("SELECT event_id FROM consent_events WHERE event_id IN "
                                      "(SELECT value FROM json_each(:ids))"), {"ids": json.dumps(ids)})
        have = {r[0] for r in found}
    return event_id.isin(have).to_numpy() if have else np.zeros(len(event_id), dtype=bool)


def _tombstones(ws: Any, subject: pd.Series, ts_iso: pd.Series, readmit: bool, flag: Any) -> list[str]:
    """Erased subjects stay erased: events from before the erasure are refused; new consent is
    accepted only when the caller says the person came back (``readmit``)."""
    with ws.store.read() as conn:
        rows = conn.execute(select(consent_tombstones.c.tag, consent_tombstones.c.subject_ref,
                                   consent_tombstones.c.erased_at, consent_tombstones.c.readmitted_at)).all()
    if not rows:
        return []
    by_tag = {r.tag: r for r in rows}
    valid = subject.notna() & pd.Series(subject_mask(subject), index=subject.index)
    tags = {s: ws.consent.checker.tag(s) for s in subject[valid].unique()}
    hit = subject.map(lambda s: by_tag.get(tags.get(s, "")))
    erased_at = hit.map(lambda r: r.erased_at if r is not None else None)
    hit_mask = erased_at.notna()
    before = hit_mask & ts_iso.notna() & (ts_iso.fillna("") <= erased_at.fillna(""))
    flag(before, "the subject was erased (PIPL Art. 47); events from before the erasure cannot be recorded again")
    after_open = hit_mask & ~before & hit.map(lambda r: r is not None and r.readmitted_at is None)
    if not readmit:
        flag(after_open, "the subject was erased (PIPL Art. 47); record new consent only if the person came back "
                         "(--readmit-erased, readmit_erased=True)")
        return []
    return sorted({r.subject_ref for r in hit[after_open]})
