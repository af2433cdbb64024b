from __future__ import annotations

import pytest
import yaml


@pytest.fixture
def edit_policy():
    """Edit a workspace's purposes.yaml (or another file) and reopen the workspace."""

    def edit(ws, fn, file="purposes.yaml"):
        from omniguard.workspace import Workspace

        path = ws.root / "policies" / file
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        fn(doc)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        ws.close()
        return Workspace.open(ws.root)

    return edit

