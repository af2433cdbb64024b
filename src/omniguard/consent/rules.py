"""The consent decision, written once as one SQL ``CASE`` that both ``allowed()`` and ``explain()``
evaluate, so a batch answer and an explanation can never disagree.

The rules, in the order they are checked (the first that applies is the reason):

1. ``opted_out``: the person refused personalised or automated processing (Art. 24).
2. ``no_consent``: nothing recorded for this purpose.
3. ``withdrawn``: the last act was a withdrawal (Art. 15).
4. ``expired``: an expire event, or the consent's end passed.
5. ``bundled``: the purpose needs separate consent (单独同意; Art. 23, 25, 29, 39) and the grant
   was part of a bundle.
6. ``minor_without_guardian``: the person was under 14 at the grant and no guardian consent is
   recorded (Art. 31).
7. ``stale``: a later published version of the cited notice changed this purpose's terms (Art. 14).

Purposes whose legal basis is not consent (Art. 13(1) 2-7) need none of this; only an erasure
tombstone or an Art. 24 opt-out stops them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    true,
    union,
)

from omniguard.consent.model import CONSENT_ACTIONS, OPT_ACTIONS
from omniguard.consent.tables import consent_events, consent_state, consent_subjects
from omniguard.policy import Purpose

REASONS: dict[str, str] = {
    "ok": "valid consent",
    "not_required": "the legal basis is not consent (PIPL Art. 13(1) 2-7); no consent needed",
    "erased": "the subject was erased (PIPL Art. 47); a tombstone blocks any further use",
    "opted_out": "the person refused personalised or automated processing (PIPL Art. 24)",
    "no_consent": "no consent recorded for this purpose",
    "withdrawn": "consent was withdrawn (PIPL Art. 15)",
    "expired": "consent expired",
    "bundled": "the purpose needs separate consent (单独同意, PIPL Art. 23/25/29/39); "
               "a bundled consent does not satisfy it",
    "minor_without_guardian": "the person was under 14 when consenting and no guardian consent is "
                              "recorded (PIPL Art. 31)",
    "stale": "the notice changed since consent was given (PIPL Art. 14); consent must be asked again",
}

STATE_COLUMNS = ("subject_id", "status", "event_id", "ts", "notice_id", "notice_version", "separate",
                 "guardian_ref", "channel", "expires_at", "opted_out", "opt_event_id", "opt_ts")


def current_source(purpose_id: str) -> Subquery:
    st = consent_state
    return select(*(st.c[c] for c in STATE_COLUMNS)).where(st.c.purpose == purpose_id).subquery("st")


def as_of_source(purpose_id: str, at: str) -> Subquery:
    """The state the events recorded up to ``at`` imply: the same rows ``consent_state`` held
    then (minus erased subjects, whose history is gone)."""
    ev = consent_events

    def last(actions: tuple[str, ...], *cols: Any) -> Subquery:
        rn = func.row_number().over(partition_by=ev.c.subject_id, order_by=(ev.c.ts.desc(), ev.c.seq.desc()))
        inner = select(*cols, rn.label("rn")).where(ev.c.purpose == purpose_id, ev.c.action.in_(actions),
                                                   ev.c.ts <= at).subquery()
        return select(*(c for c in inner.c if c.key != "rn")).where(inner.c.rn == 1).subquery()

    status = case(*((ev.c.action == a, s) for a, s in (("grant", "granted"), ("withdraw", "withdrawn"))),
                  else_="expired")
    c = last(CONSENT_ACTIONS, ev.c.subject_id, status.label("status"), ev.c.event_id, ev.c.ts, ev.c.notice_id,
             ev.c.notice_version, ev.c.separate, ev.c.guardian_ref, ev.c.channel, ev.c.expires_at)
    o = last(OPT_ACTIONS, ev.c.subject_id, case((ev.c.action == "opt_out", true()), else_=false()).label("opted_out"),
             ev.c.event_id.label("opt_event_id"), ev.c.ts.label("opt_ts"))
    ids = union(select(c.c.subject_id), select(o.c.subject_id)).subquery()
    return (
        select(ids.c.subject_id, c.c.status, c.c.event_id, c.c.ts, c.c.notice_id, c.c.notice_version,
               func.coalesce(c.c.separate, false()).label("separate"), c.c.guardian_ref, c.c.channel,
               c.c.expires_at, func.coalesce(o.c.opted_out, false()).label("opted_out"), o.c.opt_event_id,
               o.c.opt_ts)
        .select_from(ids.outerjoin(c, c.c.subject_id == ids.c.subject_id)
                     .outerjoin(o, o.c.subject_id == ids.c.subject_id))
        .subquery("st")
    )


def decision(src: Subquery, purpose: Purpose, fresh: dict[str, int | None], at: Any) -> ColumnElement[str]:
    """The reason code of every row of ``src`` joined to ``consent_subjects`` ('ok' = allowed).
    ``at`` (an ``iso_utc`` text or a bind parameter) None leaves out the time-based end of
    consent (the caller filters on ``expires_at``)."""
    sj = consent_subjects
    whens: list[tuple[ColumnElement[bool], str]] = []
    if purpose.automated_decision:
        whens.append((src.c.opted_out == true(), "opted_out"))
    whens.append((src.c.status.is_(None), "no_consent"))
    whens.append((src.c.status == "withdrawn", "withdrawn"))
    ended: ColumnElement[bool] = src.c.status == "expired"
    if at is not None:
        ended = or_(ended, and_(src.c.expires_at.is_not(None), src.c.expires_at <= at))
    whens.append((ended, "expired"))
    if purpose.separate_consent:
        whens.append((src.c.separate == false(), "bundled"))
    whens.append((and_(src.c.guardian_ref.is_(None), sj.c.adult_from.is_not(None), src.c.ts < sj.c.adult_from),
                  "minor_without_guardian"))
    fresh_terms = [and_(src.c.notice_id == n, src.c.notice_version >= v) for n, v in sorted(fresh.items())
                   if v is not None]
    whens.append((not_(or_(*fresh_terms)) if fresh_terms else literal_column("1") == literal_column("1"), "stale"))
    return case(*whens, else_="ok")


def decided(src: Subquery, purpose: Purpose, fresh: dict[str, int | None], at: Any, *cols: Any) -> Select:
    """``SELECT cols, reason`` over the state rows joined to what we know of subjects' ages."""
    sj = consent_subjects
    reason = decision(src, purpose, fresh, at).label("reason")
    return select(*cols, reason).select_from(src.outerjoin(sj, sj.c.subject_id == src.c.subject_id))


def valid_ids(src: Subquery, purpose: Purpose, fresh: dict[str, int | None], at: Any) -> Select:
    """``SELECT subject_id, expires_at`` of rows whose reason is 'ok'."""
    sj = consent_subjects
    return (select(src.c.subject_id, src.c.expires_at)
            .select_from(src.outerjoin(sj, sj.c.subject_id == src.c.subject_id))
            .where(decision(src, purpose, fresh, at) == "ok"))
