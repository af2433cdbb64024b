"""The compliance demo steps run on a workspace and show what they claim; the shipped answers file
answers every question the joint-profiling assessment requires."""

from __future__ import annotations

import json
from pathlib import Path

from omniguard.demo import DemoContext
from omniguard.demo.steps_compliance import STEPS


def test_compliance_demo_steps(tmp_path, populated):
    ctx = DemoContext(directory=tmp_path, ws=populated)
    out = {s.order: s.run(ctx) for s in STEPS}
    assert "art38-cross-border-mechanism" in out[800]["failed (findings to act on)"]  # a finding, not an error
    checks = json.loads(Path(ctx.reports["compliance checks (JSON)"]).read_text(encoding="utf-8"))
    assert {r["rule"] for r in checks if r["status"] == "fail"} == set(out[800]["failed (findings to act on)"])
    assert out[810]["status"] == "complete" and out[810]["signature"] == "verified"
    assert out[810]["answers"] == "pia-answers-joint-profiling.yaml"
    for lang in ("zh", "en"):
        for name in (f"impact assessment, joint profiling ({lang})", f"compliance report ({lang})"):
            assert Path(ctx.reports[name]).read_text(encoding="utf-8").startswith("<!doctype html>")
    assert "joint_profiling" not in out[820]["purposes still lacking a current assessment"]
    assert out[820]["accesses"] == 4 and out[820]["denials"] == 2  # guarded reads, a DP release; two denials
