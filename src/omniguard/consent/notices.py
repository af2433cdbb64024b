"""Versioned privacy notices and staleness (PIPL Art. 14, 17; ISO/IEC 29184 re-notice on change).

A notice version states, per purpose, the categories, third parties and retention. When a later
published version of the same notice states different terms for a purpose, or drops it, consent
given under earlier versions is *stale* for that purpose: the person agreed to something else.
Purposes whose terms did not change keep their consent.

Staleness is computed from the policy pack, not stored: a consent under ``N@v`` is fresh for
purpose P at time t when ``v >= fresh_from(N, P, t)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from omniguard.config import iso_utc
from omniguard.consent.tables import consent_notices
from omniguard.crypto.sm3 import sm3
from omniguard.errors import InputError
from omniguard.policy import Notice, PolicyPack

TERMS = ("categories", "third_parties", "retention_days")


@dataclass(frozen=True)
class Terms:
    categories: tuple[str, ...]
    third_parties: tuple[str, ...]
    retention_days: int

    def diff(self, other: Terms) -> list[str]:
        return [t for t in TERMS if getattr(self, t) != getattr(other, t)]


@dataclass(frozen=True)
class Change:
    """Version ``version`` of ``notice_id`` changed the terms of ``purpose`` (or dropped it)."""

    notice_id: str
    version: int
    published: dt.date
    purpose: str
    changed: tuple[str, ...]  # term names, or ("dropped",), or ("added",)

    def describe(self) -> str:
        what = "dropped the purpose" if self.changed == ("dropped",) else "changed " + ", ".join(self.changed)
        return f"{self.notice_id}@{self.version} (published {self.published}) {what}"


def terms_of(notice: Notice, purpose_id: str) -> Terms | None:
    for np_ in notice.purposes:
        if np_.purpose == purpose_id:
            return Terms(tuple(sorted(np_.categories or ())), tuple(sorted(np_.third_parties or ())),
                         int(np_.retention_days or 0))
    return None


def _as_date(at: str | None) -> dt.date:
    """The Beijing calendar date of an ``iso_utc`` instant (notices are published on local dates)."""
    t = dt.datetime.fromisoformat((at or iso_utc()).replace("Z", "+00:00"))
    return t.astimezone(dt.timezone(dt.timedelta(hours=8))).date()


def versions(pack: PolicyPack, notice_id: str, at: str | None = None) -> list[Notice]:
    """Published versions of one notice, oldest first (published on or before ``at``)."""
    day = _as_date(at)
    return sorted((n for n in pack.notices if n.id == notice_id and n.published <= day), key=lambda n: n.version)


def changes(pack: PolicyPack, purpose_id: str, at: str | None = None) -> list[Change]:
    """Every published version that changed the terms of ``purpose_id``, per notice, in order."""
    out: list[Change] = []
    for nid in sorted({n.id for n in pack.notices}):
        prev: Terms | None = None
        seen = False
        for n in versions(pack, nid, at):
            cur = terms_of(n, purpose_id)
            if cur is not None and not seen:
                seen = True
                out.append(Change(nid, n.version, n.published, purpose_id, ("added",)))
            elif seen and cur is None and prev is not None:
                out.append(Change(nid, n.version, n.published, purpose_id, ("dropped",)))
            elif seen and cur is not None and prev is None:
                out.append(Change(nid, n.version, n.published, purpose_id, ("added",)))
            elif cur is not None and prev is not None and cur != prev:
                out.append(Change(nid, n.version, n.published, purpose_id, tuple(prev.diff(cur))))
            prev = cur
    return out


def fresh_from(pack: PolicyPack, purpose_id: str, at: str | None = None) -> dict[str, int | None]:
    """notice id -> the lowest version whose consent for ``purpose_id`` is still fresh at ``at``
    (None: the notice's latest version no longer covers the purpose, so nothing under it is)."""
    out: dict[str, int | None] = {}
    for c in changes(pack, purpose_id, at):
        out[c.notice_id] = None if c.changed == ("dropped",) else c.version
    return out


def stale_reason(pack: PolicyPack, purpose_id: str, notice_id: str | None, version: int | None,
                 at: str | None = None) -> str | None:
    """Why consent under ``notice_id@version`` is stale for the purpose, or None when it is fresh."""
    if notice_id is None or version is None:
        return "no notice recorded with the consent"
    fresh = fresh_from(pack, purpose_id, at)
    if notice_id not in fresh:
        return f"{notice_id}@{version} is not a published notice for this purpose"
    lowest = fresh[notice_id]
    if lowest is not None and version >= lowest:
        return None
    later = [c for c in changes(pack, purpose_id, at) if c.notice_id == notice_id and c.version > version]
    return "superseded: " + "; ".join(c.describe() for c in later) if later else "superseded"


def notice_for_grant(pack: PolicyPack, ref: tuple[str, int], purpose_id: str) -> Notice:
    """The notice version a grant cites; it must exist and cover the purpose."""
    notice = pack.notice(ref[0], ref[1])
    if terms_of(notice, purpose_id) is None:
        raise InputError(f"notice {ref[0]}@{ref[1]} does not cover purpose {purpose_id!r}; "
                         "consent can only be given to what the person was told")
    return notice


def notice_text_sm3(pack: PolicyPack, notice: Notice) -> str:
    return sm3((pack.directory / notice.text).read_bytes()).hex()


def remember_notices(conn: Connection, pack: PolicyPack, refs: set[tuple[str, int]]) -> None:
    """Record the SM3 of each cited notice text the first time it is used, so the evidence of
    what was shown survives later edits of the pack."""
    if not refs:
        return
    have = {(r[0], r[1]) for r in conn.execute(select(consent_notices.c.notice_id, consent_notices.c.notice_version))}
    rows: list[dict[str, Any]] = []
    for nid, ver in sorted(refs - have):
        n = pack.notice(nid, ver)
        rows.append({"notice_id": nid, "notice_version": ver, "text_sm3": notice_text_sm3(pack, n),
                     "title": n.title, "published": n.published.isoformat(), "first_used": iso_utc()})
    if rows:
        conn.execute(consent_notices.insert(), rows)


def notice_table(pack: PolicyPack) -> list[dict[str, Any]]:
    """Every notice version with its purposes and what it changed (for `consent notices`)."""
    far = iso_utc(dt.datetime(2999, 1, 1, tzinfo=dt.UTC))
    first = {n.id: min(m.version for m in pack.notices if m.id == n.id) for n in pack.notices}
    all_changes = [c for p in pack.purposes for c in changes(pack, p, far)]
    rows = []
    for n in sorted(pack.notices, key=lambda n: (n.id, n.version)):
        changed = {c.purpose: list(c.changed) for c in all_changes
                   if c.notice_id == n.id and c.version == n.version and n.version != first[n.id]}
        rows.append({"notice": f"{n.id}@{n.version}", "published": n.published.isoformat(), "language": n.language,
                     "title": n.title, "purposes": [np_.purpose for np_ in n.purposes], "changed": changed,
                     "text_sm3": notice_text_sm3(pack, n)})
    return rows
