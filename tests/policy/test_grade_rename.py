"""The top grade is "highly sensitive" (极敏感, L4), never "core" / 核心 (which a regulator reads as
the state's core data under the Data Security Law). Workspaces made before 0.2 still open."""

from __future__ import annotations

import sqlalchemy as sa

from omniguard.policy import GRADES, Grade, load_pack
from omniguard.workspace import Workspace


def test_grade_order_and_the_old_name_maps_to_the_new_grade():
    assert [g.value for g in GRADES] == ["public", "internal", "sensitive", "highly_sensitive"]
    assert Grade("core") is Grade.highly_sensitive
    assert Grade.highly_sensitive > Grade.sensitive


def test_an_old_workspace_opens_and_shows_the_new_name(tmp_path, cli):
    ws = Workspace.init(tmp_path / "old", actor="tester@test")
    root = ws.root
    df_cols = {"login_password": ["$2b$12$" + "b" * 53] * 12, "member_no": [f"M{i:04d}" for i in range(12)]}
    import pandas as pd

    from omniguard.classify import classify_frame

    result = classify_frame(pd.DataFrame(df_cols), ws.policy)
    ws.inventory.save(result, dataset="accounts", source="frame")
    assert ws.inventory.get("accounts")["grade"] == "highly_sensitive"
    # Make it look like a workspace of 0.1: "core" in the pack and in the store, classify schema v2.
    for name in ("roles.yaml", "taxonomy.yaml"):
        p = root / "policies" / name
        p.write_text(p.read_text(encoding="utf-8").replace("highly_sensitive", "core"), encoding="utf-8")
    with ws.store.engine.begin() as conn:
        for table in ("classify_datasets", "classify_columns"):
            conn.execute(sa.text(f"UPDATE {table} SET grade = 'core' WHERE grade = 'highly_sensitive'"))
        conn.execute(sa.text("UPDATE omniguard_schema SET version = 2 WHERE component = 'classify'"))
    ws.close()

    pack = load_pack(root / "policies")
    assert pack.category("authentication").grade is Grade.highly_sensitive
    assert pack.role("marketing").protection.for_grade(Grade.highly_sensitive) == "drop"
    reopened = Workspace.open(root)
    rec = reopened.inventory.get("accounts")
    assert rec["grade"] == "highly_sensitive"
    assert {c["grade"] for c in rec["columns"]} >= {"highly_sensitive"}
    reopened.close()
    shown = cli(f"scan --help -w {root}")
    assert shown.exit_code == 0
    out = cli(f"policy show roles -w {root}").stdout + cli(f"policy show taxonomy -w {root}").stdout
    assert "核心" not in out and "core" not in out.replace("score", "")


def test_no_chinese_label_names_the_top_grade_core():
    from omniguard.compliance.labels import WORDS

    assert all(w["zh"] != "核心" for w in WORDS.values())
    assert WORDS["highly_sensitive"]["zh"] == "极敏感"
