"""Rule over the impact assessments: Art. 55 requires one, in advance, for each purpose that
processes sensitive data, decides automatically, entrusts or provides data to others, or sends it
abroad."""

from __future__ import annotations

from omniguard.compliance.checks import CheckContext, Finding, Rule, rule
from omniguard.compliance.pia_facts import PIA_RULE, triggers


@rule(PIA_RULE, "PIPL Art. 55-56",
      "Purposes that need an impact assessment have a current one (complete, made for the purpose as defined now)",
      "需要个人信息保护影响评估的处理目的具有现行有效的评估（已完成且针对当前定义的目的）")
def pia_recorded(ctx: CheckContext, r: Rule) -> list[Finding]:
    from omniguard.compliance import pia

    out = []
    for p in sorted(ctx.ws.policy.purposes.values(), key=lambda p: p.id):
        why = triggers(ctx.ws.policy, p)
        if not why:
            continue
        rec, problem = pia.current(ctx.ws, p.id)
        if problem:
            occasions = ", ".join(t["en"] for t in why)
            missing = rec is None
            todo = "create one" if missing else "assess again, with every required answer"
            out.append(r.finding("high" if missing else "medium", f"purpose:{p.id}",
                                 f"{problem}; required because it {occasions} "
                                 f"({todo}: `omniguard pia create --purpose {p.id} --answers FILE`)"))
    return out
