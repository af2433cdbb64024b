"""Rules over the policy pack alone: what the organisation declared it does."""

from __future__ import annotations

from omniguard.compliance.checks import CheckContext, Finding, Rule, rule
from omniguard.policy import LegalBasis


def _sensitive_categories(ctx: CheckContext, purpose) -> list[str]:
    return [c for c in purpose.categories if ctx.ws.policy.category(c).pipl_sensitive]


@rule("art29-sensitive-separate-consent", "PIPL Art. 29",
      "Sensitive personal information processed on consent needs separate consent",
      "基于同意处理敏感个人信息应取得单独同意")
def sensitive_needs_separate_consent(ctx: CheckContext, r: Rule) -> list[Finding]:
    out = []
    for p in ctx.ws.policy.purposes.values():
        sensitive = _sensitive_categories(ctx, p)
        if sensitive and p.legal_basis == LegalBasis.consent and not p.separate_consent:
            out.append(r.finding("high", f"purpose:{p.id}",
                                 f"uses sensitive categories {', '.join(sensitive)} without separate consent"))
    return out


@rule("art23-partner-separate-consent", "PIPL Art. 23",
      "Providing personal information to another handler needs separate consent",
      "向其他个人信息处理者提供个人信息应取得单独同意")
def partners_need_separate_consent(ctx: CheckContext, r: Rule) -> list[Finding]:
    out = []
    for p in ctx.ws.policy.purposes.values():
        handlers = [t.name for t in p.third_parties if t.role == "handler"]
        if handlers and not p.separate_consent:
            out.append(r.finding("high", f"purpose:{p.id}",
                                 f"provides data to {', '.join(handlers)} without separate consent"))
    return out


@rule("art38-cross-border-mechanism", "PIPL Art. 38-39",
      "Cross-border provision needs a recorded mechanism (assessment, standard contract, certification) and separate consent",
      "向境外提供个人信息应具备法定条件（安全评估、标准合同、认证）并取得单独同意")
def cross_border_needs_mechanism(ctx: CheckContext, r: Rule) -> list[Finding]:
    out = []
    for p in ctx.ws.policy.purposes.values():
        cb = p.cross_border
        if cb is None:
            continue
        if cb.mechanism is None:
            out.append(r.finding("high", f"purpose:{p.id}",
                                 f"sends data to {', '.join(cb.countries)} with no security assessment, standard "
                                 "contract or certification recorded"))
        elif cb.mechanism != "exempt" and not cb.reference:
            out.append(r.finding("medium", f"purpose:{p.id}", f"{cb.mechanism} recorded without a reference"))
        if not p.separate_consent and p.legal_basis == LegalBasis.consent:
            out.append(r.finding("high", f"purpose:{p.id}", "cross-border provision without separate consent"))
    return out
