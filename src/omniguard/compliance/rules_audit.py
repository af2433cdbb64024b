"""Rules over the audit log: what actually happened (Art. 54 compliance audits)."""

from __future__ import annotations

import collections
import datetime as dt
from zoneinfo import ZoneInfo

from omniguard.compliance.checks import CheckContext, Finding, Rule, rule


@rule("art54-audit-chain-intact", "PIPL Art. 54",
      "The audit log is intact (hash chain and signed checkpoints)", "审计日志完整（哈希链与签名检查点）")
def audit_chain_intact(ctx: CheckContext, r: Rule) -> list[Finding]:
    rep = ctx.ws.verify()
    return [r.finding("high", "audit-log", f"{d.kind} at seq {d.seq}: {d.detail}") for d in rep.damage]


def _role(ctx: CheckContext, role_id: str | None):
    return ctx.ws.policy.roles.get(role_id or "")


def _is_decrypt(action: str) -> bool:
    return action == "decrypt" or action.endswith(".decrypt")


def _is_export(action: str) -> bool:
    return action == "export" or action.endswith(".export")


def _role_lacks(ctx: CheckContext, r: Rule, is_action, permission: str, severity: str, verb: str) -> list[Finding]:
    """Allowed actions done in a role the policy pack does not grant ``permission`` to."""
    seen: collections.Counter[tuple[str, str]] = collections.Counter()
    for ev in ctx.events():
        if is_action(ev["action"]) and ev["decision"] in ("allow", "partial"):
            role = _role(ctx, ev.get("role"))
            if role is None or not getattr(role, permission):
                seen[(ev["actor"], ev.get("role") or "(none)")] += 1
    return [r.finding(severity, f"actor:{a}", f"{n} {verb}(s) in role {role} which may not {verb}")
            for (a, role), n in sorted(seen.items())]


@rule("audit-unexpected-decrypt", "PIPL Art. 51",
      "Decrypts only by roles allowed to decrypt", "仅授权角色可解密")
def unexpected_decrypts(ctx: CheckContext, r: Rule) -> list[Finding]:
    return _role_lacks(ctx, r, _is_decrypt, "decrypt", "high", "decrypt")


@rule("audit-unexpected-export", "PIPL Art. 51",
      "Exports only by roles allowed to export", "仅授权角色可导出")
def unexpected_exports(ctx: CheckContext, r: Rule) -> list[Finding]:
    return _role_lacks(ctx, r, lambda a: _is_export(a) and not a.startswith("audit."), "export", "medium", "export")


@rule("audit-bulk-export", "PIPL Art. 51",
      "No bulk exports above the threshold", "无超过阈值的批量导出")
def bulk_exports(ctx: CheckContext, r: Rule) -> list[Finding]:
    out = []
    for ev in ctx.events():
        if _is_export(ev["action"]) and ev["decision"] in ("allow", "partial") and \
                (ev.get("rows") or 0) >= ctx.bulk_export_rows:
            out.append(r.finding("medium", f"actor:{ev['actor']}",
                                 f"exported {ev['rows']} rows (seq {ev['seq']}, threshold {ctx.bulk_export_rows})"))
    return out


@rule("audit-outside-hours", "PIPL Art. 51",
      "Data accesses within the role's working hours", "在角色工作时间内访问数据")
def outside_hours(ctx: CheckContext, r: Rule) -> list[Finding]:
    tz = ZoneInfo(ctx.timezone)
    seen: collections.Counter[tuple[str, str]] = collections.Counter()
    for ev in ctx.events():
        if ev["action"] not in ("read", "export", "decrypt") and not ev["action"].endswith((".read", ".export", ".decrypt")):
            continue
        role = _role(ctx, ev.get("role"))
        if role is None or role.working_hours is None or ev["decision"] == "deny":
            continue
        start, end = role.working_hours
        hour = dt.datetime.fromisoformat(ev["ts"].replace("Z", "+00:00")).astimezone(tz).hour
        if not start <= hour < end:
            seen[(ev["actor"], role.id)] += 1
    return [r.finding("low", f"actor:{a}", f"{n} access(es) outside {role}'s working hours ({ctx.timezone})")
            for (a, role), n in sorted(seen.items())]
