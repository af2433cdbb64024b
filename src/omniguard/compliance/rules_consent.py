"""Rules over the consent registry: consents past their term, children without a guardian."""

from __future__ import annotations

from sqlalchemy import func, select

from omniguard.compliance.checks import CheckContext, Finding, Rule, rule
from omniguard.config import iso_utc


def _state(ctx: CheckContext):
    if "consent_state" not in ctx._cache:
        from omniguard.consent.reports import state_frame

        ctx._cache["consent_state"] = state_frame(ctx.ws)
    return ctx._cache["consent_state"]


@rule("art19-retention-term-ended", "PIPL Art. 19, 47",
      "No consent is still in force past the retention term its notice states",
      "同意未超出告知的保存期限仍然有效")
def retention_term_ended(ctx: CheckContext, r: Rule) -> list[Finding] | None:
    from omniguard.consent.tables import consent_state as st

    with ctx.ws.store.read() as conn:
        if not conn.execute(select(func.count()).select_from(st)).scalar_one():
            return None
        rows = conn.execute(select(st.c.purpose, func.count())
                            .where(st.c.status == "granted", st.c.expires_at.is_not(None),
                                   st.c.expires_at <= iso_utc(ctx.now))
                            .group_by(st.c.purpose).order_by(st.c.purpose)).all()
    return [r.finding("medium", f"purpose:{p}",
                      f"{n} consent(s) past the retention term are still recorded as granted: run "
                      "`omniguard consent expire-due` and delete or anonymise the data (Art. 47)") for p, n in rows]


@rule("art31-minors-guardian-consent", "PIPL Art. 31",
      "Children under 14 are processed only with a guardian's consent", "不满十四周岁未成年人的个人信息须取得监护人同意")
def minors_need_guardian(ctx: CheckContext, r: Rule) -> list[Finding] | None:
    state = _state(ctx)
    if state.empty:
        return None
    bad = state[state["reason"] == "minor_without_guardian"].groupby("purpose").size()
    return [r.finding("high", f"purpose:{p}",
                      f"{n} child(ren) under 14 consented without a guardian's consent: their data must not be "
                      "processed until a guardian consents") for p, n in bad.items()]
