"""Columns already holding omniguard ciphertexts or tokens are still personal data, recognised as
protected; the guard passes them through; Art. 51 counts only encrypted ones as encrypted."""

from __future__ import annotations

import pandas as pd
import pytest

from omniguard.classify import classify_frame
from omniguard.compliance.checks import run_checks


@pytest.fixture
def frames(workspace):
    from omniguard.synth.retail import generate_customers

    df = generate_customers(120, seed=3)[["customer_name", "id_card_no", "bank_card_no", "amount"]]
    enc = df.copy()
    enc["id_card_no"] = workspace.keyring.column_cipher("crm.csv", "id_card_no").encrypt(df["id_card_no"])
    enc["bank_card_no"] = workspace.keyring.tokenizer().tokenize(df["bank_card_no"])
    enc["c9"] = workspace.keyring.column_cipher("crm.csv", "c9").encrypt(df["bank_card_no"])
    enc["mobile"] = workspace.keyring.column_cipher("crm.csv", "mobile").encrypt(pd.Series(["13812345678"] * len(df)))
    return df, enc


def test_ciphertexts_and_tokens_are_recognised(workspace, frames):
    _, enc = frames
    cols = {c.name: c for c in classify_frame(enc, workspace.policy).columns}
    # "id_card_no" could name an ID card or a bank card: graded conservatively, still sensitive
    assert (cols["id_card_no"].entity, cols["id_card_no"].protection, cols["id_card_no"].grade) == \
        ("ENCRYPTED_FIELD", "encrypted", "sensitive")
    assert cols["bank_card_no"].protection == "tokenized" and cols["bank_card_no"].personal
    assert (cols["c9"].entity, cols["c9"].category, cols["c9"].grade) == ("ENCRYPTED_FIELD", "protected_unknown",
                                                                         "sensitive")
    assert cols["customer_name"].protection is None
    assert (cols["mobile"].entity, cols["mobile"].protection, cols["mobile"].grade) == ("CN_MOBILE", "encrypted", "internal")
    # the inventory keeps the protected form
    res = classify_frame(enc, workspace.policy)
    workspace.inventory.save(res, dataset="crm.csv", source="csv")
    got = {c["name"]: c for c in workspace.inventory.get("crm.csv")["columns"]}
    assert got["id_card_no"]["protection"] == "encrypted"


def test_art51_rule_pass_and_fail(workspace, frames):
    df, _ = frames
    assert run_checks(workspace, only=["art51-sensitive-encrypted-at-rest"])[0].status == "n/a"
    workspace.inventory.save(classify_frame(df, workspace.policy), dataset="clear.csv", source="csv")
    (res,) = run_checks(workspace, only=["art51-sensitive-encrypted-at-rest"])
    assert res.status == "fail"
    assert {f.target for f in res.findings} == {"dataset:clear.csv#id_card_no", "dataset:clear.csv#bank_card_no"}
    # the same data stored with the sensitive columns encrypted passes
    enc2 = df.copy()
    for col in ("id_card_no", "bank_card_no"):
        enc2[col] = workspace.keyring.column_cipher("enc.csv", col).encrypt(df[col])
    workspace.inventory.save(classify_frame(enc2, workspace.policy), dataset="clear.csv", source="csv")
    assert run_checks(workspace, only=["art51-sensitive-encrypted-at-rest"])[0].status == "pass"


def test_art6_categories_without_purpose(workspace, frames, edit_policy):
    df, _ = frames
    workspace.inventory.save(classify_frame(df, workspace.policy), dataset="crm.csv", source="csv")
    assert run_checks(workspace, only=["art6-categories-without-purpose"])[0].status == "pass"
    plates = pd.DataFrame({"licence_plate": ["粤B12345", "京A9K3L2", "沪C88888"] * 20})
    workspace.inventory.save(classify_frame(plates, workspace.policy), dataset="parking.csv", source="csv")
    assert run_checks(workspace, only=["art6-categories-without-purpose"])[0].status == "pass"  # analytics uses it

    def drop_vehicle(doc):
        for p in doc["purposes"]:
            p["categories"] = [c for c in p["categories"] if c != "vehicle"]

    ws = edit_policy(workspace, drop_vehicle)
    (res,) = run_checks(ws, only=["art6-categories-without-purpose"])
    assert res.status == "fail" and res.findings[0].target == "category:vehicle"


def test_guard_releases_stored_protection_as_is(workspace, frames):
    _, enc = frames
    enc = enc.assign(member_id=[f"M{i:04d}" for i in range(len(enc))])
    res = workspace.guard.run(enc, purpose="order_fulfilment", actor="wms", role="customer_service",
                              subject_column="member_id", dataset="crm-enc")
    assert res.operators["bank_card_no"] == "clear"  # stored as tokens: released as stored, not masked
    assert (res.frame["bank_card_no"] == enc["bank_card_no"]).all()
    assert "id_card_no" in res.dropped_columns  # encrypted data of unknown kind is not for order fulfilment
