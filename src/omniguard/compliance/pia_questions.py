"""The questions only a person can answer, and the officer's answers file.

Art. 56 asks whether the purpose and method are lawful, proper and necessary, what the effect on
individuals and the security risks are, and whether the safeguards are lawful, effective and
proportionate. omniguard can count and check; these judgements it cannot make. Each question has a
stable key (documented in docs/compliance.md); some apply only when the activity has recipients,
goes abroad, decides automatically or uses sensitive categories. An assessment stays a draft until
every question that applies is answered.

Answers file (YAML, UTF-8): a mapping of question key to text, e.g.::

    purpose_lawful: |
      Joint segments are built on separate consent (Art. 23) ...
    reviewer: Wang Fang, data protection officer
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omniguard.errors import InputError

MAX_ANSWER = 20_000


@dataclass(frozen=True)
class Question:
    key: str
    article: str
    en: str
    zh: str
    applies_when: str = "always"  # always | recipients | cross_border | automated_decision | sensitive | joint | never

    def applies(self, facts: dict[str, Any]) -> bool:
        codes = {t["code"] for t in facts["triggers"]}
        return {
            "always": True,
            "never": False,
            "recipients": bool(facts["recipients"]),
            "cross_border": facts["cross_border"] is not None,
            "automated_decision": "automated_decision" in codes,
            "sensitive": "sensitive" in codes,
            "joint": facts["job"] is not None or bool(facts["purpose"].get("joint_profiling")),
        }[self.applies_when]


QUESTIONS: tuple[Question, ...] = (
    Question("purpose_lawful", "PIPL Art. 56(1)",
             "Are the purpose and the method of processing lawful, proper and necessary?",
             "处理目的、处理方式等是否合法、正当、必要？"),
    Question("necessity", "PIPL Art. 6, 56(1)",
             "Why is each data category needed, and why would less data not do (minimum necessary)?",
             "为何需要每一类个人信息？为何更少的数据不能满足目的（最小必要）？"),
    Question("sensitive_necessity", "PIPL Art. 28, 30",
             "What specific purpose and sufficient necessity justify the sensitive categories, and how are "
             "individuals told of the necessity and the impact?",
             "处理敏感个人信息的特定目的和充分必要性是什么？如何告知个人其必要性及对个人权益的影响？",
             "sensitive"),
    Question("impact_on_individuals", "PIPL Art. 56(2)",
             "What effect can the processing have on individuals' rights and interests?",
             "处理活动对个人权益可能产生哪些影响？"),
    Question("security_risks", "PIPL Art. 56(2)",
             "Which security risks (leak, tampering, loss, misuse) remain, how likely and how severe are they?",
             "存在哪些安全风险（泄露、篡改、丢失、滥用），其可能性和严重程度如何？"),
    Question("safeguards_proportionate", "PIPL Art. 56(3)",
             "Are the protection measures lawful, effective and proportionate to the risk?",
             "所采取的保护措施是否合法、有效并与风险程度相适应？"),
    Question("recipient_agreements", "PIPL Art. 20, 21, 23",
             "Which agreement binds each recipient (entrustment contract, joint-handler agreement, terms of "
             "provision), and how is it supervised?",
             "与每个接收方签订了何种协议（委托处理合同、共同处理协议、提供条款），如何监督其履行？",
             "recipients"),
    Question("model_outputs_as_pi", "PIPL Art. 23, 73",
             "Do the model updates, models or DP outputs provided to partners count as personal information, "
             "and why?",
             "向合作方提供的模型更新、模型或差分隐私结果是否属于个人信息？理由是什么？",
             "joint"),
    Question("foreign_recipient_protection", "PIPL Art. 38-39",
             "How does the foreign recipient meet PIPL-level protection, and how can individuals exercise "
             "their rights against it?",
             "境外接收方如何达到本法规定的保护标准？个人如何向其行使权利？",
             "cross_border"),
    Question("automated_decision_fairness", "PIPL Art. 24",
             "How are transparency, fair treatment and an easy way to refuse personalisation ensured?",
             "如何保证决策的透明度和结果公平、公正，并提供便捷的拒绝方式？",
             "automated_decision"),
    Question("incident_response", "PIPL Art. 51, 57",
             "Which incident response plan covers this processing, and who is notified?",
             "哪一份安全事件应急预案覆盖该处理活动？需要通知谁？"),
    Question("residual_risk_decision", "PIPL Art. 56",
             "Are the residual risks accepted, and under which conditions or follow-up actions?",
             "是否接受剩余风险？附带哪些条件或后续措施？"),
    Question("reviewer", "PIPL Art. 52",
             "Who carried out and approved this assessment (name and function)?",
             "评估由谁开展并批准（姓名与职务）？"),
    Question("notes", "", "Anything else the reader should know (optional).", "其他说明（可选）。", "never"),
)

BY_KEY = {q.key: q for q in QUESTIONS}


def load_answers(path: str | Path) -> dict[str, str]:
    """Read an answers file; every problem is one line naming the file and the key."""
    import yaml

    from omniguard.fileio import read_utf8

    path = Path(path)
    text = read_utf8(path, "an answers file")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputError(f"{path.name}: not valid YAML{where}") from None
    return check_answers(doc, path.name)


def check_answers(doc: Any, shown: str = "answers") -> dict[str, str]:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError(f"{shown}: expected a mapping of question key to answer text")
    out = {}
    for key, value in doc.items():
        if key not in BY_KEY:
            raise InputError(f"{shown}: unknown question key {str(key)[:64]!r} (known: {', '.join(BY_KEY)})")
        if value is None:
            continue
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise InputError(f"{shown}: {key}: the answer must be text")
        text = str(value).strip()
        if len(text) > MAX_ANSWER:
            raise InputError(f"{shown}: {key}: answers are at most {MAX_ANSWER} characters")
        if text:
            out[key] = text
    return out


def question_sheet(facts: dict[str, Any], answers: dict[str, str]) -> dict[str, Any]:
    """Every question with whether it applies and its answer; the open ones; the status."""
    rows = []
    for q in QUESTIONS:
        applies = q.applies(facts)
        rows.append({"key": q.key, "article": q.article, "en": q.en, "zh": q.zh, "required": applies,
                     "answer": answers.get(q.key)})
    open_keys = [r["key"] for r in rows if r["required"] and not r["answer"]]
    return {"questions": rows, "open": open_keys, "status": "draft" if open_keys else "complete"}
