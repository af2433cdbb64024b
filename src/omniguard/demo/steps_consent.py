"""Demo: the consent registry (steps 100-199) and data-subject rights (step 700).

Members are ``M0000000`` ... ``M0004999`` (``ctx.data["consent_members"]``); later steps can check
consent for them with ``ctx.ws.consent.allowed(ids, purpose)``.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from omniguard.consent import reports
from omniguard.consent.importer import ImportRejected
from omniguard.consent.synthetic import consent_events, member_id
from omniguard.demo import DemoContext, Step

MEMBERS = 5000


def import_history(ctx: DemoContext) -> dict[str, Any]:
    ws = ctx.ws
    frame = consent_events(12_000, MEMBERS, seed=ctx.seed, end="2026-05-31", chinese_headers=True)
    path = ctx.directory / "consent-events-gbk.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    bad = frame.copy()
    bad.loc[41, "会员编号"] = "张三 13800138000"  # a shifted column: a name and phone in the id field
    bad.loc[977, "发生时间"] = "2031-01-01T00:00:00Z"
    bad.loc[2024, "流水号"] = bad.loc[7, "流水号"]
    bad_path = ctx.directory / "consent-events-bad.csv"
    bad.to_csv(bad_path, index=False, encoding="gbk")
    try:
        ws.consent.import_file(bad_path)
        rejected: list[str] = []
    except ImportRejected as e:
        rejected = e.report.lines()
    rep = ws.consent.import_file(path)
    ctx.data["consent_members"] = list(member_id(range(MEMBERS)))
    ctx.data["consent_file"] = path
    return {"bad_file": f"rejected whole, nothing imported: {'; '.join(rejected)}",
            "imported": f"{rep.imported} events of {rep.subjects} members ({rep.encoding}, Chinese headers) "
                        f"in {rep.seconds:.2f} s", "by_action": rep.by_action}


def counter_acts(ctx: DemoContext) -> dict[str, Any]:
    c = ctx.ws.consent
    out = {}
    c.grant("M0009001", "joint_profiling", notice="joint-profiling-consent@1", channel="app")
    out["bundled joint-profiling consent"] = c.explain("M0009001", "joint_profiling").code
    c.grant("M0009001", "joint_profiling", notice="joint-profiling-consent@1", separate=True, channel="app",
            evidence={"screen": "joint-profiling-consent v1", "accepted": "separate toggle"})
    out["after a separate act"] = c.explain("M0009001", "joint_profiling").code
    c.grant("M0009002", "analytics", notice="privacy-notice@1", birth_date="2016-09-01", channel="store")
    out["child (10) consenting alone"] = c.explain("M0009002", "analytics").code
    c.grant("M0009002", "analytics", notice="privacy-notice@1", guardian="M0009003", channel="store")
    out["with the guardian's consent"] = c.explain("M0009002", "analytics").code
    c.grant("M0009004", "personalised_marketing", notice="privacy-notice@1", channel="mini-program")
    c.opt_out("M0009004", "personalised_marketing", channel="mini-program")
    out["granted, then opted out of personalised push (Art. 24)"] = c.explain("M0009004", "personalised_marketing").code
    c.withdraw("M0009001", "joint_profiling", channel="app")
    out["withdrawn (one call, like the grant)"] = c.explain("M0009001", "joint_profiling").code
    return out


def publish_notice_v2(ctx: DemoContext) -> dict[str, Any]:
    """The retailer keeps analytics data longer in v2: consent to analytics under v1 goes stale,
    the other purposes of the notice keep theirs; 70% of members accept v2 in the app."""
    from omniguard.workspace import Workspace

    before = _coverage(ctx)
    root = ctx.ws.root
    doc = yaml.safe_load((root / "policies" / "notices.yaml").read_text(encoding="utf-8"))
    doc["notices"].append({"id": "privacy-notice", "version": 2, "language": "zh-CN", "title": "隐私政策（第 2 版）",
                           "text": "notices/privacy-notice-v2.md", "published": "2026-06-01",
                           "purposes": [{"purpose": "membership"}, {"purpose": "order_fulfilment"},
                                        {"purpose": "personalised_marketing"},
                                        {"purpose": "analytics", "retention_days": 540}]})
    (root / "policies" / "notices" / "privacy-notice-v2.md").write_text(
        "# 隐私政策（第 2 版）\n经营分析数据保存 540 天（原 365 天）。\nAnalytics data is now kept 540 days (was 365).\n",
        encoding="utf-8")
    (root / "policies" / "notices.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                                                    encoding="utf-8")
    ctx.ws.close()
    ctx.ws = Workspace.open(root)
    stale = _coverage(ctx)
    members = ctx.data["consent_members"]
    accepted = ctx.directory / "consent-v2-campaign.csv"
    import pandas as pd

    take = members[: int(len(members) * 0.7)]
    pd.DataFrame({"subject_id": take, "purpose": "analytics", "action": "grant", "ts": "2026-06-15T12:00:00+08:00",
                  "notice": "privacy-notice@2", "channel": "app"}).to_csv(accepted, index=False)
    ctx.ws.consent.import_file(accepted)
    return {"analytics coverage before v2": before["analytics"], "after publishing v2": stale["analytics"],
            "after the re-consent campaign": _coverage(ctx)["analytics"],
            "personalised_marketing (terms unchanged)": stale["personalised_marketing"]}


def _coverage(ctx: DemoContext) -> dict[str, str]:
    members = ctx.data["consent_members"]
    out = {}
    for p in ("analytics", "personalised_marketing"):
        n = int(ctx.ws.consent.allowed(members, p).sum())
        out[p] = f"{n} of {len(members)} members allowed"
    return out


def receipts_and_stats(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.consent import receipts

    ws = ctx.ws
    rec = ws.consent.grant("M0009005", "health_services", notice="health-consent@1", separate=True, channel="store",
                           sign=True)
    path = ctx.directory / "consent-receipt.json"
    path.write_text(json.dumps(rec.receipt, ensure_ascii=False, indent=2), encoding="utf-8")
    ok, fingerprint = receipts.verify(json.loads(path.read_text(encoding="utf-8")), ws.signer.public_key)
    stats = reports.stats(ws)
    stats_path = ctx.directory / "consent-stats.json"
    stats_path.write_text(json.dumps(stats, ensure_ascii=False, indent=2), encoding="utf-8")
    ctx.reports["consent stats"] = str(stats_path)
    ctx.reports["signed consent receipt"] = str(path)
    cover = {p["purpose"]: f"{p['coverage']:.0%}" for p in stats["purposes"] if p["coverage"] is not None}
    return {"receipt": f"signed (SM2) and verified offline: {ok}, key {fingerprint}", "coverage": cover,
            "stale analytics consents": next(p["stale"] for p in stats["purposes"] if p["purpose"] == "analytics")}


def subject_rights(ctx: DemoContext) -> dict[str, Any]:
    ws = ctx.ws
    members = ctx.data["consent_members"]
    crm = ctx.directory / "crm-members.csv"
    crm.write_text("member_id,city,tier\n" + "".join(f"{m},上海,{'gold' if i % 3 else 'silver'}\n"
                                                   for i, m in enumerate(members[:50])), encoding="utf-8")
    doc = ws.rights.export(members[1], datasets=[f"{crm}:member_id"])
    export_path = ctx.directory / "subject-access-export.json"
    export_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    ctx.reports["subject access export"] = str(export_path)
    erased = ws.rights.erase(members[2], datasets=[f"{crm}:member_id"])
    try:
        ws.consent.import_file(ctx.data["consent_file"], dry_run=True)
        resurrect = "accepted (unexpected)"
    except ImportRejected as e:
        erased_lines = [ln for ln in e.report.lines() if "erased" in ln]
        resurrect = f"refused, the erased member's line among them: {erased_lines[0] if erased_lines else '(none)'}"
    shredded = _erase_encrypted_member(ctx)
    late = ws.rights.open("access", members[3], received="2026-10-09T10:00:00+08:00")
    overdue = [r.request_id for r in ws.rights.list(overdue=True)]
    return {"access export": f"{len(doc['consent']['history'])} consent events, {len(doc['audit_events'])} audit "
                             f"events, {sum(len(d['rows']) for d in doc['datasets'])} CRM rows -> {export_path.name}",
            "erasure": {k: erased[k] for k in ("deleted", "datasets", "key_shredded")},
            "re-import of the old file": resurrect,
            **({"erasure of an encrypted member": shredded} if shredded else {}),
            "overdue requests": f"{overdue} (received {late.received_at[:10]}, due {late.due})"}


def _erase_encrypted_member(ctx: DemoContext) -> dict[str, Any] | None:
    """When the crypto steps left a member table with per-member keys, erase one of its members:
    the row goes and so does their key (crypto-shredding every copy of their encrypted name)."""
    path = ctx.data.get("members_encrypted")
    if path is None:
        return None
    from omniguard.tabular import read_table

    member = str(read_table(path)["member_id"].iloc[1])
    res = ctx.ws.rights.erase(member, datasets=[f"{path}:member_id"])
    return {"datasets": res["datasets"], "key_shredded": res["key_shredded"]}


STEPS = [
    Step(100, "Import the consent history (GBK, Chinese headers); a file with bad lines is rejected whole",
         import_history),
    Step(110, "Consent at the counter: separate consent, a child's guardian, an Art. 24 opt-out, a withdrawal",
         counter_acts),
    Step(120, "Publish privacy-notice v2: analytics consent under v1 goes stale until people accept v2",
         publish_notice_v2),
    Step(130, "A signed consent receipt verified offline; coverage and stale-consent statistics", receipts_and_stats),
    Step(700, "Data-subject rights: access export, erasure with a tombstone, overdue requests", subject_rights),
]
