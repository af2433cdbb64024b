"""The impact assessment as a page (Chinese or English), built with :class:`omniguard.reporting.Report`."""

from __future__ import annotations

import collections
import functools
from typing import Any

from omniguard.compliance.labels import GRADE_NAMES, badge, pick, word
from omniguard.reporting import Report

TEXT: dict[str, dict[str, str]] = {
    "title": {"en": "Personal information impact assessment", "zh": "个人信息保护影响评估"},
    "record": {"en": "Record", "zh": "评估记录"},
    "why": {"en": "Why an assessment is required (PIPL Art. 55)", "zh": "需要评估的情形（个人信息保护法第五十五条）"},
    "why_none": {"en": "None of the Art. 55 occasions applies; the assessment is kept as a record.",
                 "zh": "不属于第五十五条规定的情形；本评估作为记录留存。"},
    "purpose": {"en": "Purpose, legal basis and consent", "zh": "处理目的、合法性基础与同意"},
    "job": {"en": "Federated job", "zh": "联邦学习任务"},
    "categories": {"en": "Data categories and grades", "zh": "个人信息类别与分级"},
    "datasets": {"en": "Datasets and volume", "zh": "数据集与数据量"},
    "recipients": {"en": "Recipients and cross-border transfer", "zh": "接收方与跨境提供"},
    "protection": {"en": "Protection applied, per role and grade", "zh": "按角色和级别采取的保护措施"},
    "privacy": {"en": "Differential privacy spent", "zh": "差分隐私预算消耗"},
    "findings": {"en": "Compliance findings concerning this activity", "zh": "与本处理活动相关的合规检查发现"},
    "risks": {"en": "Residual risks", "zh": "剩余风险"},
    "questions": {"en": "Questions for the officer", "zh": "需评估人员回答的问题"},
    "open": {"en": "open", "zh": "未回答"},
    "not_required": {"en": "(not required here)", "zh": "（此处不要求）"},
    "cols_per_grade": {"en": "Columns per grade", "zh": "各级别字段数"},
    "consent_reasons": {"en": "Consent state of subjects", "zh": "个人同意状态"},
    "eps_per_dataset": {"en": "Epsilon spent per dataset", "zh": "各数据集消耗的 ε"},
}

_KV = {
    "id": ("Assessment", "评估编号"), "status": ("Status", "状态"), "created_at": ("Created (UTC)", "创建时间 (UTC)"),
    "created_by": ("Created by", "创建人"), "retain_until": ("Kept until (UTC)", "保存至 (UTC)"),
    "policy_version": ("Policy version", "策略版本"), "content_sm3": ("Content SM3", "内容 SM3"),
    "signature": ("Signature", "签名"),
}


def render(record: Any, lang: str = "en") -> str:
    """HTML of a stored assessment (a :class:`~omniguard.compliance.pia.PiaRecord`)."""
    doc, f = record.document, record.document["facts"]
    p = f["purpose"]
    rep = Report(f"{TEXT['title'][lang]}: {pick(lang, p['name'], p['name_zh'])}", lang=lang, extra_text=TEXT,
                 subtitle=f"{record.id} · {word(record.status, lang)}")
    e = functools.partial(pick, lang)  # e("English", "中文")
    rep.heading(rep.t("record")).kv({pick(lang, *_KV[k]): v for k, v in {
        "id": record.id, "status": word(record.status, lang), "created_at": record.created_at[:19],
        "created_by": record.created_by, "retain_until": record.retain_until[:19],
        "policy_version": doc["policy_version"], "content_sm3": record.content_sm3,
        "signature": f"SM2-with-SM3, {e('key', '公钥')} {record.public_key[:18]}…"}.items()})

    rep.heading(rep.t("why"))
    if f["triggers"]:
        rep.table([e("article", "条款"), e("occasion", "情形")], [[t["article"], t[lang]] for t in f["triggers"]])
    else:
        rep.paragraph(rep.t("why_none"))

    c = f["consent"]
    rep.heading(rep.t("purpose")).kv({
        e("Purpose", "目的"): f"{p['id']} · {pick(lang, p['name'], p['name_zh'])}",
        e("Description", "说明"): p["description"],
        e("Legal basis", "合法性基础"): word(p["legal_basis"], lang),
        e("Separate consent asked", "要求单独同意"): rep.t("yes" if p["separate_consent"] else "no"),
        e("Separate consent required by", "单独同意的法律依据"): ", ".join(c["separate_required_by"]) or rep.t("none"),
        e("Retention (days)", "保存期限（天）"): p["retention_days"],
        e("Highest grade allowed", "允许的最高级别"): word(p["max_grade"], lang),
        e("Automated decisions", "自动化决策"): rep.t("yes" if p["automated_decision"] else "no"),
        e("Subjects known to the registry", "同意登记中的个人数"): c["known_subjects"],
        e("Subjects with valid consent", "同意有效的个人数"): c["allowed"] if c["consent_required"] else e(
            "not required (legal basis is not consent)", "不需要（合法性基础不是同意）"),
        e("Consent coverage", "同意覆盖率"): f"{c['coverage']:.1%}" if c["coverage"] is not None else "",
        e("Stale consents (notice changed)", "告知变更后失效的同意"): c["stale"],
    })
    if c["reasons"]:
        reasons = sorted(c["reasons"].items())
        rep.bar_chart([word(k, lang) for k, _ in reasons], {e("subjects", "人数"): [v for _, v in reasons]},
                      caption=rep.t("consent_reasons"))
    if f["job"] is not None:
        _job(rep, f["job"], e)

    rep.heading(rep.t("categories"))
    rep.table([e("category", "类别"), e("name", "名称"), e("grade", "级别"), e("PIPL sensitive", "敏感个人信息")],
              [[x["id"], pick(lang, x["name"], x["name_zh"]), badge(rep, x["grade"]) if x["grade"] else "?",
                rep.t("yes" if x["pipl_sensitive"] else "no")] for x in f["categories"]], raw_columns=[2])

    v = f["volume"]
    rep.heading(rep.t("datasets")).kv({
        e("Datasets", "数据集数"): v["datasets"], e("Rows", "行数"): v["rows"],
        e("Individuals (largest dataset)", "个人数（最大数据集）"): v["individuals_max"],
        e("Individuals with sensitive data", "含敏感信息的个人数"): v["sensitive_individuals_max"],
        e("Volume flags", "数据量标记"): ", ".join(v["flags"]) or rep.t("none")})
    rep.table([e("dataset", "数据集"), e("rows", "行数"), e("individuals", "个人数"), e("grade", "级别"),
               e("columns of these categories", "相关字段")],
              [[d["dataset"], d["rows"], d["individuals"], badge(rep, d["grade"]),
                ", ".join(f"{x['name']} ({x['category']})" for x in d["columns"])] for d in f["datasets"]],
              raw_columns=[3])
    grades = collections.Counter(x["grade"] for d in f["datasets"] for x in d["columns"])
    if grades:
        order = [g for g in GRADE_NAMES if grades[g]]
        rep.bar_chart([word(g, lang) for g in order], {e("columns", "字段数"): [grades[g] for g in order]},
                      caption=rep.t("cols_per_grade"))

    rep.heading(rep.t("recipients"))
    rep.table([e("recipient", "接收方"), e("role", "身份"), e("country", "国家/地区")],
              [[r["name"], word(r["role"], lang), r["country"] or ""] for r in f["recipients"]])
    cb = f["cross_border"]
    if cb is not None:
        rep.kv({e("Countries", "境外国家/地区"): ", ".join(cb["countries"]),
                e("Foreign recipients", "境外接收方"): ", ".join(cb["recipients"]) or rep.t("none"),
                e("Mechanism (Art. 38)", "出境条件（第三十八条）"): cb["mechanism"] or e("none recorded", "未记录"),
                e("Reference", "编号"): cb["reference"] or "", e("Recorded", "记录日期"): cb["recorded"] or ""})

    _protection(rep, f["protection"], lang, e)
    _privacy(rep, f["privacy"], lang, e)

    rep.heading(rep.t("findings"))
    rep.paragraph(e(f"{f['findings']['rules_run']} rules run when the assessment was made.",
                    f"评估时运行了 {f['findings']['rules_run']} 条规则。"), muted=True)
    rep.table([e("severity", "严重程度"), e("rule", "规则"), e("article", "条款"), e("about", "对象"),
               e("finding", "发现")],
              [[badge(rep, x["severity"]), x["rule"], x["article"], x["target"], x["message"]]
               for x in f["findings"]["items"]], raw_columns=[0])

    rep.heading(rep.t("risks"))
    rep.table([e("level", "等级"), e("article", "条款"), e("risk", "风险")],
              [[badge(rep, r["level"]), r["article"], r[lang]] for r in doc["risks"]], raw_columns=[0])

    rep.heading(rep.t("questions"))
    rep.table([e("key", "键"), e("article", "条款"), e("question", "问题"), e("answer", "回答")],
              [[q["key"], q["article"], q[lang],
                q["answer"] or (rep.t("open") if q["required"] else rep.t("not_required"))]
               for q in doc["questions"]])
    return rep.render()


def _job(rep: Report, job: dict[str, Any], e: Any) -> None:
    priv = job["privacy"]
    rep.heading(rep.t("job")).kv({
        e("Job", "任务"): job["job_id"], e("Task", "任务类型"): job["task"],
        e("Partners", "参与方"): ", ".join(job["partners"]), e("Coordinator", "协调方"): job["coordinator"],
        e("Rounds", "轮数"): job["rounds"],
        e("Features", "特征"): ", ".join(f"{x['column']} ({x['category']})" for x in job["features"]),
        e("Privacy", "隐私保护"): (f"{priv['mode']}, ε = {priv['epsilon']}, δ = {priv['delta']}, "
                                 f"{e('unit', '单位')}: {priv['unit']}") if priv["mode"] == "record" else priv["mode"],
        e("Spec SM3", "任务规格 SM3"): job["spec_digest"],
        e("In this workspace", "本工作区中的状态"): "; ".join(
            f"{h['role']}: {h['state']}" + (f", {h['rows']} {e('rows', '行')}" if h["rows"] is not None else "")
            for h in job["here"]) or e("not run here", "未在此运行")})


def _protection(rep: Report, prot: dict[str, Any], lang: str, e: Any) -> None:
    rep.heading(rep.t("protection"))
    grades = [g for g in GRADE_NAMES
              if any(g in r["grades"] for r in prot["roles"])]
    rep.table([e("role", "角色"), e("decrypt", "可解密"), e("export", "可导出"), *[word(g, lang) for g in grades]],
              [[r["role"], rep.t("yes" if r["decrypt"] else "no"), rep.t("yes" if r["export"] else "no"),
                *[word(r["grades"].get(g), lang) for g in grades]] for r in prot["roles"]])
    roles = [r["role"] for r in prot["roles"]]
    if prot["columns"]:
        rep.table([e("dataset", "数据集"), e("column", "字段"), e("grade", "级别"), *roles],
                  [[x["dataset"], x["column"], badge(rep, x["grade"]),
                    *[word(x["operators"].get(r), lang) for r in roles]] for x in prot["columns"]], raw_columns=[2])


def _privacy(rep: Report, priv: dict[str, Any], lang: str, e: Any) -> None:
    rep.heading(rep.t("privacy"))
    rep.paragraph(e(f"Composition: {priv['composition']}. Every figure carries epsilon, delta and the privacy unit.",
                    "组合方式：基本组合（ε 与 δ 相加）。每个数值都标明 ε、δ 和隐私单位。"), muted=True)
    rep.table([e("dataset", "数据集"), "ε", "δ", e("privacy unit", "隐私单位"), e("budget ε", "ε 预算"),
               e("ε spent by all uses", "所有用途已耗 ε"), e("ε left", "剩余 ε")],
              [[d["dataset"], d["epsilon"], d["delta"], d["unit"], d["budget_epsilon"], d["spent_epsilon_all"],
                d["remaining_epsilon"]] for d in priv["datasets"]])
    if priv["datasets"]:
        rep.bar_chart([d["dataset"] for d in priv["datasets"]], {"ε": [d["epsilon"] for d in priv["datasets"]]},
                      caption=rep.t("eps_per_dataset"))
    rep.table([e("entry", "账目"), e("time (UTC)", "时间 (UTC)"), e("dataset", "数据集"), e("kind", "类型"),
               e("job or release", "任务或发布"), "ε", "δ", e("privacy unit", "隐私单位"), e("status", "状态")],
              [[x["id"], x["ts"][:19], x["dataset"], x["kind"], x["ref"], x["epsilon"], x["delta"], x["unit"],
                x["status"]] for x in priv["entries"]])
