"""Workspace, audited actions, a signed checkpoint, verification and tamper detection."""

from __future__ import annotations

import shutil
import sqlite3
from typing import Any

from omniguard.audit import Checkpoint
from omniguard.demo import DemoContext, Step
from omniguard.workspace import Workspace


def create_workspace(ctx: DemoContext) -> dict[str, Any]:
    ctx.ws = Workspace.init(ctx.directory / "retailer", actor="demo-dpo@retailer")
    return {"workspace": str(ctx.ws.root), "store": ctx.ws.store.dialect, "policy": ctx.ws.policy.version}


def audited_actions(ctx: DemoContext) -> dict[str, Any]:
    audit = ctx.ws.audit
    audit.record("read", actor="analyst-li@retailer", role="analyst", purpose="analytics",
                 dataset="crm/members.csv", columns=["member_id", "city", "spend_90d"], rows=1200,
                 subjects=[f"M{i:06d}" for i in range(1200)], decision="allow")
    audit.record("read", actor="marketing-wu@retailer", role="marketing", purpose="joint_profiling",
                 dataset="crm/members.csv", decision="deny", reason="role marketing may not use purpose joint_profiling")
    n = audit.record_many(
        {"action": "read", "actor": f"pipeline-{i % 3}@retailer", "role": "data_engineer", "purpose": "analytics",
         "dataset": "pos/tickets.parquet", "rows": 500, "details": {"batch": i}}
        for i in range(2000)
    )
    return {"events": 2 + n}


def checkpoint_and_verify(ctx: DemoContext) -> dict[str, Any]:
    cp = ctx.ws.checkpoint()
    path = ctx.directory / "audit-checkpoint.json"
    cp.save(path)
    rep = ctx.ws.verify([Checkpoint.load(path)])
    ctx.data["checkpoint"] = path
    return {"checkpoint_seq": cp.seq, "chain": "intact" if rep.ok else "DAMAGED", "events": rep.events,
            "checkpoint_file": str(path)}


def tamper_detection(ctx: DemoContext) -> dict[str, Any]:
    """Edit one event in a copy of the store, as an insider with database rights would."""
    if ctx.ws.store.dialect != "sqlite":
        return {"skipped": "store is not SQLite"}
    copy_dir = ctx.directory / "tampered-copy"
    shutil.copytree(ctx.ws.root, copy_dir, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    with sqlite3.connect(ctx.ws.root / "omniguard.db") as src, sqlite3.connect(copy_dir / "omniguard.db") as dst:
        src.backup(dst)
        dst.execute("UPDATE audit_events SET body = replace(body, '\"rows\":1200', '\"rows\":12') WHERE seq = 2")
    with Workspace.open(copy_dir) as tampered:
        rep = tampered.verify([Checkpoint.load(ctx.data["checkpoint"])])
    first = rep.first
    shutil.rmtree(copy_dir)
    return {"detected": not rep.ok, "first_damage": f"{first.kind} at seq {first.seq}" if first else None}


def audit_report(ctx: DemoContext) -> dict[str, Any]:
    from omniguard.audit.report import render_html, summarise
    from omniguard.fileio import atomic_write_text

    path = ctx.directory / "audit-report.html"
    atomic_write_text(path, render_html(summarise(ctx.ws.audit.query()), verify=ctx.ws.verify().to_dict()))
    ctx.reports["audit report"] = str(path)
    return {"report": str(path)}


STEPS = [
    Step(10, "Create a workspace (SQLite, file master key, default PIPL policy pack)", create_workspace),
    Step(20, "Record audited data accesses (one allowed read, one denial, a batch of 2,000)", audited_actions),
    Step(900, "Sign an SM2 checkpoint and verify the SM3 chain against it", checkpoint_and_verify),
    Step(910, "Tamper with a copy of the log and show verification catching it", tamper_detection),
    Step(990, "Write the audit report", audit_report),
]
