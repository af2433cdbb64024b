"""ws.inventory on SQLite and PostgreSQL: save, get, overrides, audit events in the same transaction."""

from __future__ import annotations

import pytest

from omniguard.errors import InputError


@pytest.fixture(scope="module")
def scanned():
    from omniguard.classify import classify_frame
    from omniguard.policy import default_pack_dir, load_pack
    from omniguard.synth.retail import generate_customers

    return classify_frame(generate_customers(200, seed=9), load_pack(default_pack_dir()), sample=20, dataset="crm/customers")


def test_save_get_override(any_workspace, scanned):
    inv = any_workspace.inventory
    assert inv.get("crm/customers") is None
    rec = inv.save(scanned)
    assert rec["grade"] == "sensitive" and rec["rows"] == 200 and rec["scanned_by"] == "tester@test"
    assert [c["name"] for c in rec["columns"]] == [c.name for c in scanned.columns]
    rec = inv.set_override("crm/customers", "id_card_no", "authentication")
    col = next(c for c in rec["columns"] if c["name"] == "id_card_no")
    assert col["overridden"] and col["grade"] == "highly_sensitive" and col["detected_category"] == "identity_document"
    assert rec["grade"] == "highly_sensitive"  # table grade follows the human decision
    inv.save(scanned)  # a re-scan keeps the override
    assert next(c for c in inv.get("crm/customers")["columns"] if c["name"] == "id_card_no")["overridden"]
    assert inv.clear_override("crm/customers", "id_card_no")
    assert inv.get("crm/customers")["grade"] == "sensitive"
    assert [d["dataset"] for d in inv.datasets()] == ["crm/customers"]
    actions = [e["action"] for e in any_workspace.audit.query(action="inventory.*")]
    assert actions == ["inventory.save", "inventory.override", "inventory.save", "inventory.override"]
    assert any_workspace.verify().ok


def test_override_errors(workspace, scanned):
    with pytest.raises(InputError, match="not in the inventory"):
        workspace.inventory.set_override("nope", "x", "contact")
    workspace.inventory.save(scanned)
    with pytest.raises(InputError, match="unknown category"):
        workspace.inventory.set_override("crm/customers", "mobile", "bogus")
    with pytest.raises(InputError, match="no column"):
        workspace.inventory.set_override("crm/customers", "bogus", "contact")
