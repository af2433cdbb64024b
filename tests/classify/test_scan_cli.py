"""`omniguard scan`: JSON contract, inventory with overrides surviving a re-scan, the HTML report,
the audit event, and bad input (encodings, ragged rows, empty files, NUL bytes, huge cells)."""

from __future__ import annotations

import pytest


@pytest.fixture
def ws_dir(workspace):
    return workspace.root


@pytest.fixture(scope="module")
def small_table():
    from omniguard.synth.retail import generate_customers

    return generate_customers(300, seed=5)


def test_scan_json_contract_and_audit(cli, ws_dir, small_table, workspace):
    path = ws_dir / "cust.csv"
    small_table.to_csv(path, index=False)
    r = cli(["scan", str(path), "--json", "--sample", "30", "-w", str(ws_dir)])
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    (ds,) = doc["datasets"]
    cols = {c["name"]: c for c in ds["columns"]}
    assert set(cols) == set(small_table.columns)
    for c in ds["columns"]:
        assert {"name", "entity", "category", "grade", "confidence", "prevalence", "evidence"} <= set(c)
    assert cols["mobile"]["entity"] == "CN_MOBILE" and cols["order_no"]["entity"] is None
    assert ds["saved"] is False
    events = list(workspace.audit.query(action="scan"))
    assert events and events[-1]["resource"]["dataset"].endswith("cust.csv") and events[-1]["rows"] == 300
    for value in small_table["mobile"]:
        assert value not in r.stdout


def test_save_override_survives_rescan_and_report(cli, ws_dir, small_table, workspace):
    path = ws_dir / "cust.csv"
    small_table.to_csv(path, index=False)
    args = ["scan", str(path), "--json", "--sample", "20", "-w", str(ws_dir)]
    r = cli([*args, "--save", "--set", "member_no=online_identifier"])
    assert r.exit_code == 0, r.stderr
    name = r.json()["datasets"][0]["dataset"]
    rec = workspace.inventory.get(name)
    member = next(c for c in rec["columns"] if c["name"] == "member_no")
    assert member["overridden"] and member["category"] == "online_identifier" and member["personal"]
    assert member["detected_category"] == "internal_business"
    report = ws_dir / "inv.html"
    r2 = cli([*args, "--save", "--report", str(report)])  # re-scan without --set
    assert r2.exit_code == 0, r2.stderr
    member = next(c for c in workspace.inventory.get(name)["columns"] if c["name"] == "member_no")
    assert member["overridden"] and member["category"] == "online_identifier"
    html = report.read_text(encoding="utf-8")
    assert "<table>" in html and "online_identifier" in html and "#ef6c00" in html
    assert small_table["id_card_no"].iloc[0] not in html
    bad = cli([*args, "--set", "member_no=no_such_category"])
    assert bad.exit_code == 2 and "unknown category" in bad.stderr
    missing = cli([*args, "--set", "nope=contact"])
    assert missing.exit_code == 2 and "no column" in missing.stderr


def test_gbk_and_bom_files(cli, ws_dir, small_table):
    from omniguard.synth.retail import generate_customers

    zh = generate_customers(120, seed=2, naming="zh")
    zh.to_csv(ws_dir / "gbk.csv", index=False, encoding="gbk")
    zh.to_csv(ws_dir / "bom.csv", index=False, encoding="utf-8-sig")
    r = cli(["scan", str(ws_dir / "gbk.csv"), str(ws_dir / "bom.csv"), "--json", "--sample", "20", "-w", str(ws_dir)])
    assert r.exit_code == 0, r.stderr
    for ds in r.json()["datasets"]:
        assert ds["columns"][0]["name"] == "客户姓名"
        assert {c["name"]: c["entity"] for c in ds["columns"]}["手机号"] == "CN_MOBILE"


@pytest.mark.parametrize("content,message", [
    (b"", "empty file"),
    (b"a,b\n1,2\n3\n", "line 3: expected 2 fields"),
    (b"a,b\n1,\x00\n", "NUL bytes"),
    (b"\xff\xfea\x00,\x00b\x00\n\x00", "NUL bytes"),  # UTF-16 is refused too
])
def test_bad_csv_gives_one_line_error(cli, ws_dir, content, message):
    path = ws_dir / "bad.csv"
    path.write_bytes(content)
    r = cli(["scan", str(path), "-w", str(ws_dir)])
    assert r.exit_code == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2


def test_missing_file_and_ten_megabyte_cell(cli, ws_dir):
    r = cli(["scan", str(ws_dir / "nope.csv"), "-w", str(ws_dir)])
    assert r.exit_code == 2 and "file not found" in r.stderr
    big = ws_dir / "big.csv"
    big.write_text("remark,mobile\n" + "好" * ((10 << 20) // 3) + ",13812345678\n周末送货,13912345678\n", encoding="utf-8")
    r = cli(["scan", str(big), "--json", "-w", str(ws_dir)])
    assert r.exit_code == 0, r.stderr
    cols = {c["name"]: c for c in r.json()["datasets"][0]["columns"]}
    assert cols["mobile"]["entity"] == "CN_MOBILE"
    assert "analysed in part" in " ".join(cols["remark"]["evidence"])


def test_sql_table_sampled_in_the_database(cli, ws_dir, small_table):
    import sqlite3

    db = ws_dir / "shop.db"
    with sqlite3.connect(db) as conn:
        small_table.to_sql("customers", conn, index=False)
    from omniguard.classify.readers import read_sql_sample

    df, total = read_sql_sample(f"sqlite:///{db}", "customers", 50)
    assert total == 300 and len(df) == 50 and list(df.columns) == list(small_table.columns)
    r = cli(["scan", f"sqlite:///{db}#customers", "--json", "--sample", "20", "-w", str(ws_dir)])
    assert r.exit_code == 0, r.stderr
    ds = r.json()["datasets"][0]
    assert ds["rows"] == 300 and {c["name"]: c["entity"] for c in ds["columns"]}["id_card_no"] == "CN_RESIDENT_ID"
    r = cli(["scan", f"sqlite:///{db}#nope", "-w", str(ws_dir)])
    assert r.exit_code == 2 and "no table" in r.stderr


@pytest.mark.postgres
def test_sql_sampling_on_postgresql(pg_url, small_table):
    import sqlalchemy as sa

    from omniguard.classify.readers import read_sql_sample

    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    small_table.to_sql("customers", engine, index=False)
    engine.dispose()
    df, total = read_sql_sample(pg_url, "customers", 40)
    assert total == 300 and len(df) == 40 and df["mobile"].isin(small_table["mobile"]).all()


def test_encrypt_by_grade_uses_the_scan(cli, ws_dir, small_table):
    """The crypto command reads grades from `scan --json` output and from the inventory."""
    import pandas as pd

    path = ws_dir / "cust.csv"
    small_table.to_csv(path, index=False)
    report = ws_dir / "scan.json"
    r = cli(["scan", str(path), "--json", "--sample", "20", "-w", str(ws_dir)])
    report.write_text(r.stdout, encoding="utf-8")
    out = ws_dir / "enc.csv"
    r = cli(["encrypt", str(path), "--grade", "sensitive", "--scan-report", str(report), "-o", str(out),
             "-w", str(ws_dir)])
    assert r.exit_code == 0, r.stderr
    enc = pd.read_csv(out, dtype=str)
    for col in ("id_card_no", "bank_card_no", "last_location"):
        assert not enc[col].isin(small_table[col]).any()
    assert (enc["mobile"] == small_table["mobile"]).all()
    assert cli(["scan", str(path), "--save", "--sample", "20", "-w", str(ws_dir)]).exit_code == 0
    r = cli(["encrypt", str(path), "--grade", "sensitive", "--dataset", str(path), "-o", str(out), "-w", str(ws_dir)])
    assert r.exit_code == 0, r.stderr
    assert not pd.read_csv(out, dtype=str)["id_card_no"].isin(small_table["id_card_no"]).any()


def test_parquet_and_jsonl_sources(cli, ws_dir, small_table):
    small_table.head(100).to_parquet(ws_dir / "cust.parquet", index=False)
    small_table.head(100).to_json(ws_dir / "cust.jsonl", orient="records", lines=True, force_ascii=False)
    r = cli(["scan", str(ws_dir / "cust.parquet"), str(ws_dir / "cust.jsonl"), "--json", "--sample", "20",
             "-w", str(ws_dir)])
    assert r.exit_code == 0, r.stderr
    for ds in r.json()["datasets"]:
        assert {c["name"]: c["entity"] for c in ds["columns"]}["id_card_no"] == "CN_RESIDENT_ID"
    (ws_dir / "broken.parquet").write_bytes(b"PAR1 not really")
    r = cli(["scan", str(ws_dir / "broken.parquet"), "-w", str(ws_dir)])
    assert r.exit_code == 2 and "Parquet" in r.stderr


def test_human_output_says_saved_and_keeps_brackets_in_names(cli, ws_dir, small_table):
    """Console markup must not eat " [saved]" nor a dataset name holding brackets."""
    path = ws_dir / "cust.csv"
    small_table.iloc[:40].to_csv(path, index=False)
    r = cli(["scan", str(path), "--save", "--name", "crm/[bold]members", "--sample", "30", "-w", str(ws_dir)])
    assert r.exit_code == 0, r.stderr
    assert "crm/[bold]members: 40 rows" in r.stdout and "[saved]" in r.stdout
