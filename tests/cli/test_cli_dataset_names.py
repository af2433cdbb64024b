"""`scan`, `protect` and `encrypt --grade` agree on a file's inventory name, so a human's overrides
made after a scan are the ones the guard and encryption use."""

from __future__ import annotations


def test_scan_then_protect_and_encrypt_use_the_same_inventory_entry(cli, workspace, tmp_path):
    from omniguard.synth.retail import generate_customers

    sub = tmp_path / "crm"
    sub.mkdir()
    df = generate_customers(80, seed=2)[["customer_name", "mobile", "id_card_no", "amount"]]
    df.insert(0, "member_id", [f"M{i:04d}" for i in range(len(df))])
    df.to_csv(sub / "customers.csv", index=False)
    w = f"-w {workspace.root}"
    assert cli(f"{w} scan crm/customers.csv --save --json", cwd=tmp_path).exit_code == 0
    r = cli(f"{w} protect crm/customers.csv --purpose order_fulfilment --actor a --role customer_service "
            f"-s member_id -o out.csv --json", cwd=tmp_path)
    assert r.exit_code == 0, r.stderr
    assert r.json()["dataset"] == "crm/customers.csv" and r.json()["scanned_now"] is False
    r = cli(f"{w} encrypt crm/customers.csv --grade sensitive -o enc.csv --json", cwd=tmp_path)
    assert r.exit_code == 0, r.stderr
    assert "id_card_no" in r.stdout
