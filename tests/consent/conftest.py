"""Fixtures for the consent registry: workspaces on a copy of the default pack that also publishes
privacy-notice v2, which changes the retention of ``analytics`` (and nothing else)."""

from __future__ import annotations

import shutil

import pytest
import yaml

V2_PUBLISHED = "2026-02-01"


def pack_with_v2(tmp_path, *, published: str = V2_PUBLISHED):
    from omniguard.policy import default_pack_dir

    pack = tmp_path / "pack"
    shutil.copytree(default_pack_dir(), pack)
    doc = yaml.safe_load((pack / "notices.yaml").read_text(encoding="utf-8"))
    doc["notices"].append({
        "id": "privacy-notice", "version": 2, "language": "zh-CN", "title": "隐私政策（第 2 版）",
        "text": "notices/privacy-notice-v2.md", "published": published,
        "purposes": [{"purpose": "membership"}, {"purpose": "order_fulfilment"},
                     {"purpose": "personalised_marketing"}, {"purpose": "analytics", "retention_days": 540}],
    })
    (pack / "notices" / "privacy-notice-v2.md").write_text("# 隐私政策（第 2 版）\n经营分析保存 540 天。\n", encoding="utf-8")
    (pack / "notices.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return pack


@pytest.fixture
def v2_pack(tmp_path):
    return pack_with_v2(tmp_path)


@pytest.fixture
def v2_workspace(tmp_path):
    from omniguard.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", actor="tester@test", policies=pack_with_v2(tmp_path))
    yield ws
    ws.close()


@pytest.fixture
def any_v2_workspace(tmp_path, store_url):
    from omniguard.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", actor="tester@test", store_url=store_url, policies=pack_with_v2(tmp_path))
    yield ws
    ws.close()
