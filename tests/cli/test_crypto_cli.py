"""`omniguard keys|encrypt|decrypt|reencrypt|token` end to end, exit codes and atomic outputs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

CSV = "id,name,phone,idno,city\nM1,张三,13800138000,110101199003071234,北京\nM2,李四,,11010119900307123X,上海\n" \
      "M3,王五,13900139000,110101199003074321,北京\n"


@pytest.fixture
def ws_dir(tmp_path, cli):
    assert cli(f"init {tmp_path / 'ws'} --actor tester").exit_code == 0
    (tmp_path / "ws" / "m.csv").write_text(CSV, encoding="utf-8")
    return tmp_path / "ws"


def test_encrypt_then_decrypt_round_trip_and_audit(ws_dir, cli):
    r = cli("encrypt m.csv --columns phone,idno -o enc.csv --json", cwd=ws_dir)
    assert r.exit_code == 0, r.stderr
    assert r.json()["cells"] == 5
    enc = pd.read_csv(ws_dir / "enc.csv", dtype=str)
    assert enc["phone"].dropna().str.startswith("SM4B").all() and enc["city"].tolist() == ["北京", "上海", "北京"]
    assert "13800138000" not in (ws_dir / "enc.csv").read_text(encoding="utf-8")
    r = cli("decrypt enc.csv -o dec.csv --role dpo --json", cwd=ws_dir)
    assert r.exit_code == 0, r.stderr
    assert (ws_dir / "dec.csv").read_text(encoding="utf-8") == CSV
    ev = cli("audit log --action decrypt --json", cwd=ws_dir).json()[-1]
    assert ev["decision"] == "allow" and ev["details"]["cells"] == 5 and ev["role"] == "dpo"
    assert cli("audit verify", cwd=ws_dir).exit_code == 0


def test_denied_decrypt_is_audited_and_exits_1(ws_dir, cli):
    cli("encrypt m.csv --columns phone -o enc.csv", cwd=ws_dir)
    r = cli("decrypt enc.csv -o dec.csv", cwd=ws_dir)  # default role: analyst, no decrypt
    assert r.exit_code == 1 and "may not decrypt" in r.stderr
    assert not (ws_dir / "dec.csv").exists()
    r = cli("decrypt enc.csv -o dec.csv --role data_engineer", cwd=ws_dir)
    assert r.exit_code == 1
    denials = cli("audit log --action decrypt --decision deny --json", cwd=ws_dir).json()
    assert [d["role"] for d in denials] == ["analyst", "data_engineer"]


def test_bad_input_exits_2_and_writes_nothing(ws_dir, cli):
    cli("encrypt m.csv --columns phone -o enc.csv", cwd=ws_dir)
    text = (ws_dir / "enc.csv").read_text(encoding="utf-8")
    cell = next(c for c in text.split(",") if c.startswith("SM4B"))
    (ws_dir / "tampered.csv").write_text(text.replace(cell, cell[:-6] + "AAAAAA"), encoding="utf-8")
    r = cli("decrypt tampered.csv -o out.csv --role dpo", cwd=ws_dir)
    assert r.exit_code == 2 and r.stderr.startswith("error: cannot decrypt 1 cell(s) of column 'phone'")
    assert "Traceback" not in r.stderr and not (ws_dir / "out.csv").exists()
    for args in ("encrypt m.csv --columns nope -o x.csv", "encrypt m.csv -o x.csv",
                 "encrypt m.csv --columns phone --grade sensitive -o x.csv",
                 "encrypt missing.csv --columns phone -o x.csv", "decrypt enc.csv -o x.csv --role nobody",
                 "encrypt m.csv --grade sensitive -o x.csv"):
        r = cli(args, cwd=ws_dir)
        assert r.exit_code == 2, args
        assert r.stderr.startswith("error: ") and not (ws_dir / "x.csv").exists()


def test_encrypt_by_grade_from_a_scan_report(ws_dir, cli):
    report = {"files": [{"file": "m.csv", "columns": [
        {"name": "id", "grade": "internal"}, {"name": "name", "grade": "internal"},
        {"name": "phone", "grade": "internal"}, {"name": "idno", "grade": "sensitive"},
        {"name": "city", "grade": "public"}]}]}
    (ws_dir / "scan.json").write_text(json.dumps(report))
    r = cli("encrypt m.csv --grade sensitive --scan-report scan.json -o enc.csv --json", cwd=ws_dir)
    assert r.exit_code == 0, r.stderr
    assert r.json()["columns"] == ["idno"]


def test_rotate_reencrypt_destroy_and_shred(ws_dir, cli):
    assert cli("keys init", cwd=ws_dir).exit_code == 0
    cli("encrypt m.csv --columns phone -o v1.csv", cwd=ws_dir)
    cli("encrypt m.csv --columns name --subject-column id -o subj.csv", cwd=ws_dir)
    r = cli("keys rotate m.csv/phone --rewrap --json", cwd=ws_dir)
    assert r.exit_code == 0, r.stderr
    assert r.json()["rotated"][0]["version"] == 2 and r.json()["rewrap"]["subject_keys"] == 3
    r = cli("reencrypt v1.csv -o v2.csv --json", cwd=ws_dir)
    assert r.exit_code == 0 and r.json()["cells"] == 2
    assert cli("keys destroy m.csv/phone --version 1", cwd=ws_dir).exit_code == 2  # needs --yes
    assert cli("keys destroy m.csv/phone --version 1 --yes", cwd=ws_dir).exit_code == 0
    assert cli("decrypt v1.csv --role dpo -o out.csv", cwd=ws_dir).exit_code == 2
    assert cli("decrypt v2.csv --role dpo -o out.csv", cwd=ws_dir).exit_code == 0
    listing = cli("keys list --json", cwd=ws_dir).json()
    phone = next(k for k in listing["keysets"] if k["name"] == "m.csv/phone")
    assert phone["primary"] == 2 and phone["destroyed"] == 1 and listing["kek_version"] == 2
    r = cli("keys shred M1 --json", cwd=ws_dir)
    assert r.json()["keys_destroyed"] == 1
    r = cli("decrypt subj.csv --role dpo -o subj_out.csv --json", cwd=ws_dir)
    assert r.exit_code == 0 and r.json()["erased"] == 1
    out = pd.read_csv(ws_dir / "subj_out.csv", dtype=str)
    assert out["name"].isna().tolist() == [True, False, False] and out["name"].iloc[1] == "李四"


def test_tokens_cli_and_join_keys(tmp_path, ws_dir, cli):
    r = cli("token file m.csv --columns phone,idno -o tok.csv --json", cwd=ws_dir)
    assert r.exit_code == 0 and r.json()["cells"] == 5
    tok = pd.read_csv(ws_dir / "tok.csv", dtype=str)
    assert tok["phone"].dropna().str.match(r"^tk1_[a-z2-7]{8}_[a-z2-7]{24}$").all()
    r = cli("token value --json", cwd=ws_dir, input="13800138000\n")
    assert r.json()["tokens"] == [tok["phone"].iloc[0]]
    assert cli("token join-key new --domain join:partner -o secret.hex", cwd=ws_dir).exit_code == 0
    assert (ws_dir / "secret.hex").stat().st_mode & 0o777 == 0o600
    other = tmp_path / "other"
    cli(f"init {other} --actor o")
    assert cli(f"token join-key import {ws_dir / 'secret.hex'} --domain join:partner", cwd=other).exit_code == 0
    a = cli("token value --domain join:partner --json", cwd=ws_dir, input="13800138000\n").json()["tokens"]
    b = cli("token value --domain join:partner --json", cwd=other, input="13800138000\n").json()["tokens"]
    assert a == b and a != [tok["phone"].iloc[0]]


def test_public_key_export(ws_dir, cli):
    r = cli("keys public --format pem --json", cwd=ws_dir)
    assert r.json()["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert cli("keys public --format hex --json", cwd=ws_dir).json()["public_key"].startswith("04")
