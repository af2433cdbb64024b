"""Workspace creation, discovery, keys and bad input: clear message, exit 2, nothing changed."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from omniguard.errors import KeyMaterialError, WorkspaceExists, WorkspaceNotFound
from omniguard.workspace import Workspace, find_workspace


def test_init_layout(workspace):
    root = workspace.root
    assert (root / "omniguard.toml").is_file()
    assert (root / "policies" / "purposes.yaml").is_file()
    key = root / "keys" / "master.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(base64.b64decode(key.read_text())) == 32
    assert (root / "audit-signing.pub").read_text().startswith("sm2:04")
    assert key.read_text().strip() not in (root / "omniguard.toml").read_text()
    ev = next(workspace.audit.query(action="workspace.init"))
    assert ev["actor"] == "tester@test"


def test_init_refuses_existing_and_force_keeps_keys(workspace):
    root = workspace.root
    key_before = (root / "keys" / "master.key").read_bytes()
    with pytest.raises(WorkspaceExists):
        Workspace.init(root)
    (root / "policies" / "purposes.yaml").write_text("# edited by the organisation\n")
    ws2 = Workspace.init(root, force=True)
    assert (root / "keys" / "master.key").read_bytes() == key_before
    assert ws2.config.workspace_id == workspace.config.workspace_id
    assert list(root.glob("policies.bak-*/purposes.yaml"))  # the edited pack is kept aside
    assert ws2.verify().ok and ws2.verify().events == 2


def test_discovery_order(workspace, tmp_path, monkeypatch):
    sub = workspace.root / "data" / "deep"
    sub.mkdir(parents=True)
    assert find_workspace(start=sub) == workspace.root
    monkeypatch.setenv("OMNIGUARD_WORKSPACE", str(workspace.root))
    assert find_workspace(start=tmp_path) == workspace.root
    with pytest.raises(WorkspaceNotFound):
        find_workspace(tmp_path / "nowhere")


def test_env_key_provider(tmp_path, monkeypatch):
    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("OMNIGUARD_MASTER_KEY", key)
    ws = Workspace.init(tmp_path / "w")
    assert ws.config.keys["provider"] == "env" and not (tmp_path / "w" / "keys" / "master.key").exists()
    ws.close()
    monkeypatch.setenv("OMNIGUARD_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(KeyMaterialError, match="wrong master key"):
        Workspace.open(tmp_path / "w")
    monkeypatch.delenv("OMNIGUARD_MASTER_KEY")
    with pytest.raises(KeyMaterialError, match="not set"):
        Workspace.open(tmp_path / "w")


def test_failed_init_leaves_nothing(tmp_path):
    target = tmp_path / "new"
    with pytest.raises(Exception):  # noqa: B017 - any store error
        Workspace.init(target, store_url="postgresql://nobody@127.0.0.1:1/none")
    assert not target.exists()
