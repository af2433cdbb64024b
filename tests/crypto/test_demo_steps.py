"""The crypto demo steps run on a fresh workspace and show what they claim."""

from __future__ import annotations

from omniguard.demo import DemoContext
from omniguard.demo.steps_crypto import STEPS
from omniguard.workspace import Workspace


def test_crypto_demo_steps(tmp_path):
    ctx = DemoContext(directory=tmp_path)
    ctx.ws = Workspace.init(tmp_path / "retailer", actor="demo")
    out = {s.order: s.run(ctx) for s in STEPS}
    assert out[300]["encrypted_cells"] == 4000
    assert out[310] == {"analyst": "denied and audited", "dpo_decrypted_cells": 4000}
    assert out[320]["org_and_partner_tokens_join"] is False
    assert out[330]["reencrypted_cells"] == 2000 and out[330]["kek_generation"] == 2
    assert out[340] == {"key_destroyed": True, "erased_member_readable": False, "other_members_readable": 1999}
    assert ctx.ws.verify().ok
