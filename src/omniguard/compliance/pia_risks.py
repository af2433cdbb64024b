"""Residual risks, derived from the gathered facts: what is left after the controls omniguard
applies (consent gate, minimum necessary, protection by grade and role, DP, audit).

Each risk names the article it bears on, a level (high / medium / low) and the figures it rests on,
in English and Chinese. The rules are deliberately plain so an officer can check each conclusion
against the facts printed beside it.
"""

from __future__ import annotations

from typing import Any

from omniguard.policy import Grade

LEVELS = ("high", "medium", "low")

# 2024 Provisions on cross-border data flows: which route a yearly volume needs (non-CIIO).
SECURITY_ASSESSMENT_PI, SECURITY_ASSESSMENT_SENSITIVE, CONTRACT_PI = 1_000_000, 10_000, 100_000
_ROUTE_STRENGTH = {"exempt": 0, "standard_contract": 1, "certification": 1, "security_assessment": 2}


def _risk(code: str, level: str, article: str, en: str, zh: str, **figures: Any) -> dict[str, Any]:
    assert level in LEVELS
    return {"code": code, "level": level, "article": article, "en": en, "zh": zh, "figures": figures}


def required_route(individuals: int, sensitive_individuals: int) -> str:
    """The weakest cross-border route the volume allows: exempt, standard_contract (or
    certification) or security_assessment."""
    if individuals >= SECURITY_ASSESSMENT_PI or sensitive_individuals >= SECURITY_ASSESSMENT_SENSITIVE:
        return "security_assessment"
    if individuals >= CONTRACT_PI or sensitive_individuals > 0:
        return "standard_contract"
    return "exempt"


def derive(facts: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for fn in (_no_inventory, _job_scope, _sensitive, _consent, _recipients, _cross_border, _automated, _volume, _privacy,
               _findings):
        out.extend(fn(facts))
    return sorted(out, key=lambda r: LEVELS.index(r["level"]))


def _no_inventory(f: dict[str, Any]) -> list[dict[str, Any]]:
    if f["datasets"]:
        return []
    return [_risk("no_inventory", "medium", "PIPL Art. 51",
                  "No scanned dataset holds the activity's categories: volumes and columns are unknown to this "
                  "assessment. Scan the datasets (omniguard scan --save) and assess again.",
                  "清单中没有包含这些类别的已扫描数据集：本评估无法得知数据量和字段。请先扫描（omniguard scan --save）后重新评估。")]


def _job_scope(f: dict[str, Any]) -> list[dict[str, Any]]:
    """A job's features must stay inside its purpose's categories and grade ceiling (Art. 6); each
    partner's gate refuses such a spec, and the assessment says so up front."""
    if f["job"] is None:
        return []
    p = f["purpose"]
    ceiling = Grade(p["max_grade"])
    outside = [c["id"] for c in f["categories"]
               if c["id"] not in p["categories"] or c["grade"] is None or Grade(c["grade"]) > ceiling]
    if not outside:
        return []
    return [_risk("job_out_of_scope", "high", "PIPL Art. 6, 23",
                  f"Job {f['job']['job_id']} uses categories outside purpose {p['id']} or above its grade "
                  f"ceiling ({', '.join(outside)}); partners' gates will refuse it.",
                  f"任务 {f['job']['job_id']} 使用了目的 {p['id']} 范围之外或超过其最高级别的类别（{', '.join(outside)}）；"
                  "各参与方的准入检查将拒绝该任务。", categories=outside)]


def _sensitive(f: dict[str, Any]) -> list[dict[str, Any]]:
    sens = [c["id"] for c in f["categories"] if c["pipl_sensitive"]]
    if not sens:
        return []
    clear = sorted({rid for c in f["protection"]["columns"] if Grade(c["grade"]) >= Grade.sensitive
                    for rid, op in c["operators"].items() if op == "clear"})
    if clear:
        return [_risk("sensitive_in_clear", "high", "PIPL Art. 28, 51",
                      f"Sensitive categories ({', '.join(sens)}) reach role(s) {', '.join(clear)} in clear: a leak "
                      "from those roles exposes them directly.",
                      f"敏感类别（{', '.join(sens)}）以明文提供给角色 {', '.join(clear)}：这些角色一旦泄露即直接暴露。",
                      categories=sens, roles=clear)]
    return [_risk("sensitive", "medium", "PIPL Art. 28",
                  f"Sensitive categories ({', '.join(sens)}) are processed; they reach every role masked, tokenised, "
                  "encrypted or not at all, but misuse would harm dignity or safety.",
                  f"处理敏感类别（{', '.join(sens)}）；各角色只获得掩码、令牌化、加密后的数据或不获得，但一旦滥用将损害人格尊严或人身财产安全。",
                  categories=sens)]


def _consent(f: dict[str, Any]) -> list[dict[str, Any]]:
    c = f["consent"]
    out = []
    if not c["consent_required"]:
        return out
    reasons = c["reasons"]
    if c["separate_required_by"] and not c["separate_consent"]:
        out.append(_risk("separate_consent_missing", "high", ", ".join(c["separate_required_by"]),
                         "The purpose needs separate consent but the policy does not ask for it.",
                         "该目的依法需要单独同意，但策略未要求单独同意。"))
    minors = int(reasons.get("minor_without_guardian", 0))
    if minors:
        out.append(_risk("minors_without_guardian", "medium", "PIPL Art. 31",
                         f"{minors} subject(s) consented under 14 without a guardian's consent; the guard withholds "
                         "their rows, but the collection itself needs a guardian.",
                         f"{minors} 名不满十四周岁的个人未经监护人同意即表示同意；守卫会排除其数据，但收集本身仍需监护人同意。",
                         subjects=minors))
    if c["stale"]:
        out.append(_risk("stale_consent", "low", "PIPL Art. 14",
                         f"{c['stale']} subject(s) consented under an older notice whose terms changed; their rows are "
                         "withheld until they consent again.",
                         f"{c['stale']} 名个人的同意基于条款已变更的旧版告知；在其重新同意前其数据被排除。",
                         subjects=c["stale"]))
    return out


def _recipients(f: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    handlers = [r["name"] for r in f["recipients"] if r["role"] in ("handler", "joint")]
    entrusted = [r["name"] for r in f["recipients"] if r["role"] == "entrusted"]
    dp = bool(f["privacy"]["entries"])
    if handlers:
        if dp:
            eps = max(d["epsilon"] for d in f["privacy"]["datasets"])
            out.append(_risk("provision_dp", "low", "PIPL Art. 23",
                             f"Other handlers ({', '.join(handlers)}) receive only outputs under differential "
                             f"privacy (at most epsilon {eps:g} per dataset, see the privacy section); what they "
                             "can infer about one person is bounded, not nil.",
                             f"其他处理者（{', '.join(handlers)}）只获得差分隐私保护下的结果（每个数据集 ε 至多 {eps:g}，见隐私部分）；"
                             "其对个人的推断受限但不为零。", recipients=handlers, epsilon=eps))
        else:
            out.append(_risk("provision", "medium", "PIPL Art. 23",
                             f"Other handlers ({', '.join(handlers)}) receive data derived from personal information "
                             "with no differential privacy recorded in the ledger; they must keep to the consented "
                             "scope.",
                             f"其他处理者（{', '.join(handlers)}）获得源自个人信息的数据，预算账本中无差分隐私记录；须确保其不超出同意范围。",
                             recipients=handlers))
    if entrusted:
        out.append(_risk("entrusted", "low", "PIPL Art. 21",
                         f"Entrusted parties ({', '.join(entrusted)}) process on the handler's behalf; the contract "
                         "and supervision are the control.",
                         f"受托方（{', '.join(entrusted)}）代为处理；控制措施是委托合同和监督。", recipients=entrusted))
    return out


def _cross_border(f: dict[str, Any]) -> list[dict[str, Any]]:
    cb = f["cross_border"]
    if cb is None:
        return []
    v = f["volume"]
    people = v["consenting_subjects"] if v["consenting_subjects"] is not None else v["individuals_max"]
    sens = v["sensitive_individuals_max"]
    need = required_route(people, sens)
    have = cb.get("mechanism")
    where = ", ".join(cb["countries"])
    if have is None:
        return [_risk("cross_border_no_mechanism", "high", "PIPL Art. 38",
                      f"Data goes to {where} with no security assessment, standard contract or certification recorded; "
                      f"at {people} individuals the 2024 Provisions call for: {need}.",
                      f"数据出境至 {where}，未记录安全评估、标准合同或认证；按 {people} 人的规模，2024 年规定要求：{need}。",
                      individuals=people, required=need)]
    if _ROUTE_STRENGTH[have] < _ROUTE_STRENGTH[need]:
        return [_risk("cross_border_route_too_weak", "high", "PIPL Art. 38; 2024 Provisions Art. 7-8",
                      f"Recorded route '{have}' is weaker than the volume needs ({people} individuals, {sens} with "
                      f"sensitive data: {need}).",
                      f"已记录的路径“{have}”弱于数据量所需（{people} 人，其中敏感 {sens} 人：{need}）。",
                      individuals=people, sensitive_individuals=sens, required=need, recorded=have)]
    return [_risk("cross_border", "medium", "PIPL Art. 38-39",
                  f"Data goes to {where} under {have}; enforcement of individuals' rights abroad depends on the "
                  "recipient's terms.",
                  f"数据依据 {have} 出境至 {where}；个人在境外行使权利取决于接收方的承诺。", required=need, recorded=have)]


def _automated(f: dict[str, Any]) -> list[dict[str, Any]]:
    if not any(t["code"] == "automated_decision" for t in f["triggers"]):
        return []
    opted = int(f["consent"]["reasons"].get("opted_out", 0))
    return [_risk("automated_decision", "medium", "PIPL Art. 24",
                  f"Automated decisions or personalised pushes: unfair differential treatment must be tested; "
                  f"{opted} person(s) refused personalisation and are excluded by the guard.",
                  f"自动化决策或个性化推送：须测试是否存在不合理差别待遇；{opted} 人已拒绝个性化，守卫会排除其数据。",
                  opted_out=opted)]


def _volume(f: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    flags = set(f["volume"]["flags"])
    if "pi_volume_1m" in flags:
        out.append(_risk("volume_1m", "medium", "PIPL Art. 52; Compliance Audit Measures",
                         "A dataset holds personal information of at least 1,000,000 individuals: a data protection "
                         "officer and regular compliance audits are required.",
                         "某数据集含不少于 100 万人的个人信息：须设个人信息保护负责人并定期开展合规审计。"))
    if "reidentification_kit" in flags:
        out.append(_risk("reidentification_kit", "medium", "PIPL Art. 51",
                         "A dataset combines name, an ID or phone number and an address: one leak identifies people "
                         "outright.",
                         "某数据集同时含姓名、证件号或手机号及地址：一旦泄露即可直接识别个人。"))
    return out


def _privacy(f: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for d in f["privacy"]["datasets"]:
        budget, left = d["budget_epsilon"], d["remaining_epsilon"]
        if budget and left is not None and left < 0.1 * budget:
            out.append(_risk("budget_nearly_spent", "medium", "PIPL Art. 51",
                             f"Dataset {d['dataset']}: {left:g} of epsilon {budget:g} left ({d['unit']}); further "
                             "releases will be refused.",
                             f"数据集 {d['dataset']}：ε 预算 {budget:g} 仅剩 {left:g}（{d['unit']}）；后续发布将被拒绝。",
                             dataset=d["dataset"], remaining_epsilon=left))
    job = f["job"]
    if job is not None and job["privacy"]["mode"] != "record":
        out.append(_risk("job_without_dp", "high", "PIPL Art. 23, 51",
                         f"Job {job['job_id']} runs without differential privacy: model updates may reveal records.",
                         f"任务 {job['job_id']} 不使用差分隐私：模型更新可能泄露个人记录。"))
    return out


def _findings(f: dict[str, Any]) -> list[dict[str, Any]]:
    return [_risk(f"finding:{x['rule']}", x["severity"], x["article"],
                  f"Compliance check {x['rule']} fails: {x['message']}.",
                  f"合规检查 {x['rule']} 未通过：{x['message']}。", target=x["target"])
            for x in f["findings"]["items"]]
