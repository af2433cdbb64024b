"""Protection plans from grade x role, applied to the synthetic table; free text anonymised
through presidio-anonymizer with the same operators."""

from __future__ import annotations

import pandas as pd
import pytest

from omniguard.protect import ProtectionContext, build_plan
from omniguard.protect.text import anonymize_texts


@pytest.fixture(scope="module")
def scanned():
    from omniguard.classify import classify_frame
    from omniguard.policy import default_pack_dir, load_pack
    from omniguard.synth.retail import generate_customers

    policy = load_pack(default_pack_dir())
    df = generate_customers(300, seed=4)
    return policy, df, classify_frame(df, policy, sample=30, dataset="crm/customers")


def test_plan_follows_role_and_grade(scanned):
    policy, _, result = scanned
    plan = build_plan(result, policy, "customer_service")
    ops = {a.column: a.operator for a in plan.actions}
    assert ops["id_card_no"] == "mask" and ops["bank_card_no"] == "mask"  # sensitive -> mask
    assert ops["mobile"] == "clear" and ops["order_no"] == "clear"  # internal -> clear
    assert ops["remark"] == "anonymize_text"
    marketing = {a.column: a.operator for a in build_plan(result, policy, "marketing").actions}
    assert marketing["mobile"] == "mask" and marketing["id_card_no"] == "tokenize"
    assert marketing["order_no"] == "clear"  # not personal: the category's default
    partner = {a.column: a.operator for a in build_plan(result, policy, "partner_node").actions}
    assert partner["id_card_no"] == "drop" and partner["remark"] == "drop"
    assert plan.to_dict()["role"] == "customer_service"


def test_apply_customer_service_plan(scanned):
    policy, df, result = scanned
    out = build_plan(result, policy, "customer_service").apply(df, ProtectionContext())
    assert list(out.columns) == list(df.columns)
    assert out["id_card_no"].str.fullmatch(r"\d{3}\*{11}\d{3}[\dX]").all()
    assert not out["id_card_no"].isin(df["id_card_no"]).any()
    assert (out["mobile"] == df["mobile"]).all()
    hits = df["remark"].str.contains(r"身份证\d")
    assert hits.any() and not any(i in t for i, t in zip(df.loc[hits, "id_card_no"], out.loc[hits, "remark"], strict=True))


def test_core_columns_are_dropped_and_unplanned_columns_fail_closed(scanned):
    policy, df, result = scanned
    rec = result.to_dict()
    rec["columns"][0] = {**rec["columns"][0], "grade": "highly_sensitive", "category": "authentication"}
    out = build_plan(rec, policy, "dpo").apply(df.assign(extra="x"), ProtectionContext())
    assert "customer_name" not in out.columns and "extra" not in out.columns
    from omniguard.errors import InputError

    with pytest.raises(InputError):
        build_plan(rec, policy, "dpo").apply(df.assign(extra="x"), ProtectionContext(), unplanned="error")


def test_free_text_anonymiser_uses_the_column_operators():
    texts = pd.Series(["请联系王斌，电话16577855754", "客户身份证11010519491231002X已核验", "周末送货", None], dtype="str")
    out = anonymize_texts(texts, entity_ops={"CN_MOBILE": "mask", "PERSON": "mask", "CN_RESIDENT_ID": "redact"})
    assert out[0] == "请联系王**，电话165****5754"
    assert out[1] == "客户身份证<CN_RESIDENT_ID>已核验"
    assert out[2] == "周末送货" and pd.isna(out[3])
    dropped = anonymize_texts(texts, entity_ops={}, default="drop")
    assert "16577855754" not in dropped[0] and "王斌" not in dropped[0]
