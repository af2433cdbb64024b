"""An access request gives the person a readable copy of their encrypted cells (PIPL Art. 45)."""

from __future__ import annotations

import pandas as pd

from omniguard.crypto.frame import encrypt_frame


def test_access_export_decrypts_the_subjects_cells(workspace, tmp_path):
    df = pd.DataFrame({"member_id": ["M0000001", "M0000002"], "mobile": ["13812345678", "13987654321"],
                       "city": ["上海", "杭州"]})
    enc = encrypt_frame(workspace, df, dataset="members.csv", columns=["mobile"], subject_column="member_id").frame
    path = tmp_path / "members.csv"
    enc.to_csv(path, index=False)
    assert "13812345678" not in path.read_text()
    doc = workspace.rights.export("M0000001", datasets=[(path, "member_id")])
    (ds,) = doc["datasets"]
    assert ds["rows"] == [{"member_id": "M0000001", "mobile": "13812345678", "city": "上海"}]
    assert not any("left encrypted" in n for n in doc["notes"])
    # a role that may not decrypt gets the stored form and a note
    doc = workspace.rights.export("M0000002", datasets=[(path, "member_id")], role="analyst")
    assert doc["datasets"][0]["rows"][0]["mobile"].startswith("SM4B")
    assert any("left encrypted" in n for n in doc["notes"])
