"""Chinese and English words shared by the compliance pages (impact assessment and report):
grades, legal bases, protection operators, risk levels, check statuses."""

from __future__ import annotations

from typing import Any

from omniguard.policy import GRADES

# The grades in order, as plain text (keys of the report and assessment JSON documents).
GRADE_NAMES: tuple[str, ...] = tuple(g.value for g in GRADES)

WORDS: dict[str, dict[str, str]] = {
    # grades
    "public": {"en": "public", "zh": "公开"},
    "internal": {"en": "internal", "zh": "内部"},
    "sensitive": {"en": "sensitive", "zh": "敏感"},
    "highly_sensitive": {"en": "highly sensitive", "zh": "极敏感"},
    "core": {"en": "highly sensitive", "zh": "极敏感"},  # the top grade's name in records made before 0.2
    # legal bases (PIPL Art. 13)
    "consent": {"en": "consent (Art. 13(1)1)", "zh": "取得个人同意（第十三条第一款第一项）"},
    "contract": {"en": "contract or HR management (Art. 13(1)2)", "zh": "订立、履行合同或人力资源管理所必需（第二项）"},
    "legal_obligation": {"en": "statutory duty (Art. 13(1)3)", "zh": "履行法定职责或者法定义务所必需（第三项）"},
    "public_health": {"en": "emergency (Art. 13(1)4)", "zh": "应对突发公共卫生事件等所必需（第四项）"},
    "news_reporting": {"en": "news reporting (Art. 13(1)5)", "zh": "新闻报道、舆论监督（第五项）"},
    "public_information": {"en": "published information (Art. 13(1)6)", "zh": "处理已公开的个人信息（第六项）"},
    "other_law": {"en": "other law (Art. 13(1)7)", "zh": "法律、行政法规规定的其他情形（第七项）"},
    # protection operators
    "clear": {"en": "clear", "zh": "明文"},
    "mask": {"en": "mask", "zh": "掩码"},
    "generalize": {"en": "generalize", "zh": "泛化"},
    "tokenize": {"en": "tokenize", "zh": "令牌化"},
    "encrypt": {"en": "encrypt (SM4)", "zh": "加密（SM4）"},
    "redact": {"en": "redact", "zh": "删除内容"},
    "drop": {"en": "drop", "zh": "不提供"},
    "anonymize_text": {"en": "anonymise text", "zh": "文本匿名化"},
    "stored_encrypted": {"en": "as stored (SM4 ciphertext)", "zh": "按存储形式（SM4 密文）"},
    "stored_tokenized": {"en": "as stored (keyed token)", "zh": "按存储形式（令牌）"},
    # risk levels, statuses
    "high": {"en": "high", "zh": "高"},
    "medium": {"en": "medium", "zh": "中"},
    "low": {"en": "low", "zh": "低"},
    "pass": {"en": "pass", "zh": "通过"},
    "fail": {"en": "fail", "zh": "未通过"},
    "n/a": {"en": "n/a", "zh": "不适用"},
    "draft": {"en": "draft", "zh": "草稿"},
    "complete": {"en": "complete", "zh": "已完成"},
    # consent decision reasons (omniguard.consent.rules.REASONS)
    "ok": {"en": "valid", "zh": "有效"},
    "not_required": {"en": "not required", "zh": "无需同意"},
    "erased": {"en": "erased", "zh": "已删除"},
    "opted_out": {"en": "opted out (Art. 24)", "zh": "拒绝个性化"},
    "no_consent": {"en": "no consent", "zh": "未同意"},
    "withdrawn": {"en": "withdrawn", "zh": "已撤回"},
    "expired": {"en": "expired", "zh": "已过期"},
    "bundled": {"en": "bundled, not separate", "zh": "非单独同意"},
    "minor_without_guardian": {"en": "minor, no guardian", "zh": "未成年且无监护人同意"},
    "stale": {"en": "stale (notice changed)", "zh": "告知已变更"},
    # consent acts
    "withdraw": {"en": "withdrawal", "zh": "撤回"},
    "expire": {"en": "expiry", "zh": "到期"},
    "opt_out": {"en": "opt-out", "zh": "拒绝个性化"},
    # third-party roles
    "entrusted": {"en": "entrusted party (Art. 21)", "zh": "受托方（第二十一条）"},
    "handler": {"en": "other handler (Art. 23)", "zh": "其他个人信息处理者（第二十三条）"},
    "joint": {"en": "joint handler (Art. 20)", "zh": "共同处理者（第二十条）"},
}

BADGE = {"high": "bad", "medium": "warn", "low": "ok", "pass": "ok", "fail": "bad", "n/a": "g-public",
         "draft": "warn", "complete": "ok", "public": "g-public", "internal": "g-internal",
         "sensitive": "g-sensitive", "highly_sensitive": "g-highly_sensitive"}


def word(value: Any, lang: str) -> str:
    """The word for a code in ``lang``; codes it does not know are shown as they are."""
    if value is None:
        return ""
    entry = WORDS.get(str(value))
    return entry.get(lang, entry["en"]) if entry else str(value)


def badge(report: Any, code: str) -> str:
    """A coloured badge for a grade, level or status (markup for a ``raw_columns`` cell)."""
    return report.badge(word(code, report.lang), BADGE.get(code, "g-public"))


def pick(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en
