"""The compliance report page (Chinese or English) from :func:`omniguard.compliance.report.build`."""

from __future__ import annotations

import functools
from typing import Any

from omniguard.compliance.labels import GRADE_NAMES, badge, pick, word
from omniguard.reporting import Report

TEXT: dict[str, dict[str, str]] = {
    "title": {"en": "Personal information protection: compliance report", "zh": "个人信息保护合规报告"},
    "summary": {"en": "Summary", "zh": "概览"},
    "coverage": {"en": "Consent coverage per purpose", "zh": "各目的同意覆盖率"},
    "coverage_cap": {"en": "Share of known subjects with valid consent, at the end of each month",
                     "zh": "每月末同意有效的个人占已知个人的比例"},
    "withdrawals": {"en": "Withdrawals over time", "zh": "撤回同意趋势"},
    "withdrawals_cap": {"en": "Consent withdrawals per month and purpose", "zh": "每月各目的撤回同意次数"},
    "access": {"en": "Accesses per purpose and role", "zh": "按目的和角色统计的数据访问"},
    "access_cap": {"en": "Allowed data accesses (audit log), per purpose, stacked by role",
                   "zh": "已允许的数据访问（审计日志），按目的、按角色堆叠"},
    "denials": {"en": "Denials", "zh": "拒绝访问"},
    "denials_cap": {"en": "Denied requests per month (audit log)", "zh": "每月被拒绝的请求（审计日志）"},
    "latest_denials": {"en": "Latest denials", "zh": "最近的拒绝记录"},
    "grades": {"en": "Grade distribution of the inventory", "zh": "数据清单分级分布"},
    "grades_cap": {"en": "Columns per grade in all scanned datasets", "zh": "所有已扫描数据集中各级别字段数"},
    "budget": {"en": "Privacy budget spent per dataset", "zh": "各数据集的隐私预算消耗"},
    "budget_cap": {"en": "Epsilon: budget and spent, per dataset", "zh": "各数据集 ε 预算与已消耗"},
    "checks": {"en": "Compliance checks", "zh": "合规检查"},
    "findings": {"en": "Findings", "zh": "检查发现"},
    "check_history": {"en": "Earlier check runs", "zh": "历次检查"},
    "pias": {"en": "Personal information impact assessments", "zh": "个人信息保护影响评估"},
}


def render(data: dict[str, Any], lang: str = "en") -> str:
    rep = Report(TEXT["title"][lang], lang=lang, extra_text=TEXT,
                 subtitle=pick(lang, f"Period from {data['since'][:10]} to {data['generated_at'][:10]} (UTC)",
                               f"统计期间：{data['since'][:10]} 至 {data['generated_at'][:10]}（UTC）"))
    e = functools.partial(pick, lang)  # e("English", "中文")
    c, a, d, inv, pr, ch, pi = (data[k] for k in ("consent", "access", "denials", "inventory", "privacy", "checks",
                                                  "pias"))
    rep.heading(rep.t("summary")).kv({
        e("Subjects known to the consent registry", "同意登记中的个人数"): c["known_subjects"],
        e("Data accesses in the period", "期间内数据访问次数"): a["total"],
        e("Denials in the period", "期间内拒绝次数"): d["total"],
        e("Datasets in the inventory", "清单中的数据集"): inv["datasets"],
        e("Datasets with a privacy budget or DP spending", "有隐私预算或差分隐私消耗的数据集"): len(pr["datasets"]),
        e("Compliance rules failing", "未通过的合规规则"): ", ".join(ch["failed"]) or rep.t("none"),
        e("Purposes lacking a current impact assessment", "缺少有效影响评估的目的"):
            ", ".join(r["purpose"] for r in pi["required"] if not r["current"]) or rep.t("none"),
        e("Policy version", "策略版本"): data["policy_version"]})

    rep.heading(rep.t("coverage"))
    if c["months"] and c["coverage_over_time"]:
        rep.line_chart(c["months"], {_short(data, p, lang): v for p, v in c["coverage_over_time"].items()},
                       caption=rep.t("coverage_cap"), y_max=1, percent=True)
    rep.table([e("purpose", "目的"), e("legal basis", "合法性基础"), e("separate consent", "单独同意"),
               e("valid consent", "同意有效"), e("coverage", "覆盖率"), e("stale", "告知变更失效")],
              [[_purpose(data, p["purpose"], lang), word(p["legal_basis"], lang),
                rep.t("yes" if p["separate_consent"] else "no"), p["allowed"] if p["allowed"] is not None else "-",
                f"{p['coverage']:.1%}" if p["coverage"] is not None else "-", p["stale"]] for p in c["current"]])

    rep.heading(rep.t("withdrawals"))
    if c["withdrawals_over_time"]:
        rep.bar_chart(c["months"], {_short(data, p, lang): v for p, v in c["withdrawals_over_time"].items()},
                      caption=rep.t("withdrawals_cap"), stacked=True)
    rep.table([e("month", "月份"), e("purpose", "目的"), e("act", "操作"), e("events", "次数")],
              [[r["month"], _purpose(data, r["purpose"], lang), word(r["action"], lang), r["events"]]
               for r in c["acts_over_time"]])

    rep.heading(rep.t("access"))
    if a["by_purpose_role"]:
        purposes = sorted({r["purpose"] for r in a["by_purpose_role"]})
        roles = sorted({r["role"] for r in a["by_purpose_role"]})
        n = {(r["purpose"], r["role"]): r["events"] for r in a["by_purpose_role"]}
        rep.bar_chart([_short(data, p, lang) for p in purposes],
                      {role: [n.get((p, role), 0) for p in purposes] for role in roles},
                      caption=rep.t("access_cap"), stacked=True)
    rep.table([e("purpose", "目的"), e("role", "角色"), e("accesses", "访问次数"), e("rows", "行数")],
              [[_purpose(data, r["purpose"], lang), r["role"], r["events"], r["rows"]] for r in a["by_purpose_role"]])

    rep.heading(rep.t("denials"))
    if d["total"]:
        rep.bar_chart(c["months"], {e("denials", "拒绝"): d["per_month"]}, caption=rep.t("denials_cap"))
    rep.table([e("action", "操作"), e("reason", "原因"), e("denials", "次数")],
              [[r["action"], r["reason"], r["events"]] for r in d["by_reason"]])
    rep.paragraph(rep.t("latest_denials"), muted=True)
    rep.table([e("seq", "序号"), e("time (UTC)", "时间 (UTC)"), e("actor", "访问者"), e("role", "角色"),
               e("action", "操作"), e("purpose", "目的"), e("dataset", "数据集"), e("reason", "原因")],
              [[x["seq"], x["ts"][:19], x["actor"], x["role"], x["action"], x["purpose"], x["dataset"], x["reason"]]
               for x in d["latest"]])

    rep.heading(rep.t("grades"))
    if inv["datasets"]:
        rep.bar_chart([word(g, lang) for g in GRADE_NAMES], {e("columns", "字段数"): [inv["columns_by_grade"][g]
                                                                              for g in GRADE_NAMES]},
                      caption=rep.t("grades_cap"))
    rep.table([e("dataset", "数据集"), e("table grade", "表级别"), e("rows", "行数"), e("individuals", "个人数"),
               *[word(g, lang) for g in GRADE_NAMES]],
              [[x["dataset"], badge(rep, x["grade"]), x["rows"], x["individuals"], *[x["columns"][g] for g in GRADE_NAMES]]
               for x in inv["per_dataset"]], raw_columns=[1])

    rep.heading(rep.t("budget"))
    rep.paragraph(e(f"Composition: {pr['composition']}. Every figure carries epsilon, delta and the privacy unit.",
                    "组合方式：基本组合（ε 与 δ 相加）。每个数值都标明 ε、δ 和隐私单位。"), muted=True)
    if pr["datasets"]:
        rep.bar_chart([x["dataset"] for x in pr["datasets"]],
                      {e("budget ε", "ε 预算"): [x["budget_epsilon"] or 0 for x in pr["datasets"]],
                       e("spent ε", "已耗 ε"): [x["spent_epsilon"] for x in pr["datasets"]]},
                      caption=rep.t("budget_cap"))
    rep.table([e("dataset", "数据集"), e("budget ε", "ε 预算"), e("budget δ", "δ 预算"), e("spent ε", "已耗 ε"),
               e("spent δ", "已耗 δ"), e("ε left", "剩余 ε"), e("privacy unit", "隐私单位"), e("ledger entries", "账目数")],
              [[x["dataset"], x["budget_epsilon"], x["budget_delta"], x["spent_epsilon"], x["spent_delta"],
                x["remaining_epsilon"], x["unit"], x["entries"]] for x in pr["datasets"]])

    _checks(rep, ch, lang, e)
    _pias(rep, data, pi, lang, e)
    return rep.render()


def _purpose(data: dict[str, Any], pid: str, lang: str) -> str:
    names = data["purposes"].get(pid)
    return f"{pid} · {names[lang]}" if names else pid


def _short(data: dict[str, Any], pid: str, lang: str) -> str:
    """A chart label: the Chinese name (short) or the purpose id."""
    names = data["purposes"].get(pid)
    return names["zh"] if names and lang == "zh" else pid


def _checks(rep: Report, ch: dict[str, Any], lang: str, e: Any) -> None:
    rep.heading(rep.t("checks"))
    rep.paragraph(e(f"Run when this report was made ({ch['at'][:19]} UTC).",
                    f"生成本报告时运行（{ch['at'][:19]} UTC）。"), muted=True)
    rep.table([e("rule", "规则"), e("article", "条款"), e("status", "状态"), e("findings", "发现数")],
              [[r["rule"], r["article"], badge(rep, r["status"]), len(r["findings"])] for r in ch["results"]],
              raw_columns=[2])
    rep.paragraph(rep.t("findings"), muted=True)
    rep.table([e("severity", "严重程度"), e("article", "条款"), e("about", "对象"), e("finding", "发现")],
              [[badge(rep, f["severity"]), f["article"], f["target"], f["message"]]
               for r in ch["results"] for f in r["findings"]], raw_columns=[0])
    rep.paragraph(rep.t("check_history"), muted=True)
    rep.table([e("seq", "序号"), e("time (UTC)", "时间 (UTC)"), e("actor", "执行者"), e("failed rules", "未通过规则")],
              [[h["seq"], h["ts"][:19], h["actor"], ", ".join(h["failed"]) or rep.t("none")] for h in ch["history"]])


def _pias(rep: Report, data: dict[str, Any], pi: dict[str, Any], lang: str, e: Any) -> None:
    rep.heading(rep.t("pias"))
    rep.table([e("purpose", "目的"), e("why required (Art. 55)", "需要评估的情形"), e("latest", "最新评估"),
               e("current", "有效"), e("note", "说明")],
              [[_purpose(data, r["purpose"], lang), ", ".join(r["triggers"]), r["latest"] or "-",
                badge(rep, "pass" if r["current"] else "fail"), r["problem"] or ""] for r in pi["required"]],
              raw_columns=[3])
    rep.table([e("assessment", "评估"), e("status", "状态"), e("created (UTC)", "创建时间 (UTC)"),
               e("kept until", "保存至"), e("open questions", "未答问题"), e("risks high/medium/low", "高/中/低风险")],
              [[x["id"], badge(rep, x["status"]), x["created_at"][:19], x["retain_until"][:10], x["open_questions"],
                "/".join(str(x["risks"][k]) for k in ("high", "medium", "low"))] for x in pi["latest"]],
              raw_columns=[1])
