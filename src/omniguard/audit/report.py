"""`audit report`: who accessed what, for which purpose, denials and decrypts, per day (HTML)."""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any


def summarise(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    per_day: collections.Counter[str] = collections.Counter()
    per_day_deny: collections.Counter[str] = collections.Counter()
    by_actor_purpose: collections.Counter[tuple[str, str, str]] = collections.Counter()
    by_action: collections.Counter[str] = collections.Counter()
    denials: list[dict[str, Any]] = []
    decrypts: list[dict[str, Any]] = []
    n = 0
    for ev in events:
        n += 1
        day = ev["ts"][:10]
        per_day[day] += 1
        by_action[ev["action"]] += 1
        by_actor_purpose[(ev["actor"], ev.get("role") or "", ev.get("purpose") or "")] += 1
        if ev["decision"] == "deny":
            per_day_deny[day] += 1
            denials.append(ev)
        if ev["action"].startswith("decrypt") or ev["action"].endswith(".decrypt"):
            decrypts.append(ev)
    return {
        "events": n,
        "per_day": sorted(per_day.items()),
        "denials_per_day": dict(per_day_deny),
        "by_action": by_action.most_common(),
        "by_actor_purpose": [
            {"actor": a, "role": r, "purpose": p, "events": c} for (a, r, p), c in by_actor_purpose.most_common()
        ],
        "denials": denials[-200:],
        "decrypts": decrypts[-200:],
    }


_TEXT = {
    "title": {"en": "Audit report", "zh": "审计报告"},
    "chain": {"en": "Chain integrity", "zh": "日志链完整性"},
    "intact": {"en": "intact", "zh": "完整"},
    "damaged": {"en": "DAMAGED", "zh": "已被篡改"},
    "per_day": {"en": "Events and denials per day", "zh": "每日事件与拒绝"},
    "who": {"en": "Who accessed, in which role, for which purpose", "zh": "访问者、角色与目的"},
    "actions": {"en": "Actions", "zh": "操作"},
    "denials": {"en": "Denials", "zh": "拒绝记录"},
    "decrypts": {"en": "Decrypts", "zh": "解密记录"},
    "allowed": {"en": "allowed and other", "zh": "允许及其他"},
    "denied": {"en": "denied", "zh": "拒绝"},
    "cols_ev": {"en": "seq|time (UTC)|actor|role|action|purpose|dataset|rows|reason",
                "zh": "序号|时间 (UTC)|访问者|角色|操作|目的|数据集|行数|原因"},
    "cols_who": {"en": "actor|role|purpose|events", "zh": "访问者|角色|目的|事件数"},
    "cols_act": {"en": "action|events", "zh": "操作|事件数"},
}


def render_html(summary: dict[str, Any], *, title: str | None = None, verify: dict[str, Any] | None = None,
                lang: str = "en") -> str:
    from omniguard.reporting import Report

    rep = Report(title or "", lang=lang, extra_text=_TEXT)
    if not title:
        rep.title = rep.t("title")
    rep.paragraph(f"{summary['events']} {rep.t('events')}", muted=True)
    if verify is not None:
        rep.heading(rep.t("chain"))
        if verify["ok"]:
            state = rep.t("intact")
        else:
            first = verify["damage"][0]
            state = f"{rep.t('damaged')}: {first['kind']} @ seq {first['seq']}"
        rep.kv({rep.t("chain"): state, "events": verify["events"], "checkpoints": verify["checkpoints_checked"]})
    days = [d for d, _ in summary["per_day"]]
    denied = [summary["denials_per_day"].get(d, 0) for d in days]
    rep.heading(rep.t("per_day"))
    rep.bar_chart(days, {rep.t("allowed"): [c - x for (_, c), x in zip(summary["per_day"], denied, strict=True)],
                         rep.t("denied"): denied}, stacked=True, caption=rep.t("per_day"))
    rep.heading(rep.t("who"))
    rep.table(rep.t("cols_who").split("|"),
              [[r["actor"], r["role"], r["purpose"], r["events"]] for r in summary["by_actor_purpose"]])
    rep.heading(rep.t("actions"))
    rep.table(rep.t("cols_act").split("|"), summary["by_action"])

    def ev_rows(evs: list[dict[str, Any]]) -> list[list[Any]]:
        return [[ev["seq"], ev["ts"][:19], ev["actor"], ev.get("role"), ev["action"], ev.get("purpose"),
                 ev.get("resource", {}).get("dataset"), ev.get("rows"), ev.get("reason")] for ev in evs]

    rep.heading(rep.t("denials"))
    rep.table(rep.t("cols_ev").split("|"), ev_rows(summary["denials"]))
    rep.heading(rep.t("decrypts"))
    rep.table(rep.t("cols_ev").split("|"), ev_rows(summary["decrypts"]))
    return rep.render()
