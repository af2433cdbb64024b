"""Rules over the inventory and the consent registry: what the organisation actually holds."""

from __future__ import annotations

import collections

from omniguard.compliance.checks import CheckContext, Finding, Rule, rule
from omniguard.policy import Grade

AT_REST = ("csv", "parquet", "jsonl", "sql")  # inventory sources that are stored data, not frames in flight


def _records(ctx: CheckContext) -> list[dict]:
    if "inventory" not in ctx._cache:
        inv = ctx.ws.inventory
        ctx._cache["inventory"] = [r for r in (inv.get(d["dataset"]) for d in inv.datasets()) if r]
    return ctx._cache["inventory"]


@rule("art51-sensitive-encrypted-at-rest", "PIPL Art. 51",
      "Sensitive and highly sensitive columns stored at rest are encrypted", "静态存储的敏感及极敏感数据列已加密")
def sensitive_encrypted(ctx: CheckContext, r: Rule) -> list[Finding] | None:
    records = [rec for rec in _records(ctx) if rec.get("source") in AT_REST]
    if not records:
        return None
    out = []
    for rec in records:
        for c in rec["columns"]:
            if c.get("personal") and Grade(c["grade"]) >= Grade.sensitive and c.get("protection") != "encrypted":
                out.append(r.finding("high" if Grade(c["grade"]) == Grade.highly_sensitive else "medium",
                                     f"dataset:{rec['dataset']}#{c['name']}",
                                     f"{c['grade']} column ({c.get('category')}) stored "
                                     f"{'as tokens' if c.get('protection') == 'tokenized' else 'in clear'}, not SM4-encrypted"))
    return out


@rule("art6-categories-without-purpose", "PIPL Art. 6",
      "Every personal-data category held is used by some purpose (minimum necessary)",
      "所持有的每类个人信息都有处理目的（最小必要）")
def categories_without_purpose(ctx: CheckContext, r: Rule) -> list[Finding] | None:
    records = _records(ctx)
    if not records:
        return None
    used = {c for p in ctx.ws.policy.purposes.values() for c in p.categories}
    held: dict[str, list[str]] = collections.defaultdict(list)
    for rec in records:
        for c in rec["columns"]:
            cat = c.get("category")
            if c.get("personal") and cat and cat not in used:
                held[cat].append(f"{rec['dataset']}#{c['name']}")
    return [r.finding("medium", f"category:{cat}",
                      f"held in {len(cols)} column(s) (e.g. {', '.join(cols[:3])}) but no purpose uses it: "
                      "delete it or declare the purpose") for cat, cols in sorted(held.items())]
