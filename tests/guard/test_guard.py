"""The guard: consent rows, minimum-necessary columns, protection by grade and role, one audit
event per call, and audited denials."""

from __future__ import annotations

import pandas as pd
import pytest

from omniguard.crypto import looks_like_ciphertext
from omniguard.errors import AccessDenied, InputError, UnknownPurpose

N = 60


@pytest.fixture(scope="module")
def customers():
    from omniguard.synth.retail import generate_customers

    df = generate_customers(N, seed=5)
    df.insert(0, "member_id", [f"M{i:05d}" for i in range(N)])
    return df


@pytest.fixture
def ws(workspace):
    """Members 0-39 consented to personalised marketing; 10-14 withdrew; 40-59 never consented.
    Everyone is a customer with orders (contract basis: no consent needed)."""
    c = workspace.consent
    for i in range(40):
        c.grant(f"M{i:05d}", "personalised_marketing", notice="privacy-notice@1", channel="app")
    for i in range(10, 15):
        c.withdraw(f"M{i:05d}", "personalised_marketing", channel="app")
    return workspace


def _reads(ws):
    return [e for e in ws.audit.query(action="read")]


def test_withdrawn_and_unconsented_subjects_never_appear(ws, customers):
    res = ws.guard.run(customers, purpose="personalised_marketing", actor="crm@retailer", role="marketing",
                       subject_column="member_id", dataset="crm/customers")
    assert res.rows_out == 35 and res.rows_in == N and res.decision == "partial"
    tok = ws.keyring.tokenizer("org")
    released = set(res.frame["member_id"])
    assert released == {tok.token(f"M{i:05d}") for i in range(40) if not 10 <= i < 15}
    assert res.scanned_now and ws.inventory.get("crm/customers") is not None


def test_minimum_necessary_drops_columns_outside_the_purpose(ws, customers):
    res = ws.guard.run(customers, purpose="personalised_marketing", actor="crm@retailer", role="marketing",
                       subject_column="member_id", dataset="crm/customers")
    rec = {c["name"]: c for c in ws.inventory.get("crm/customers")["columns"]}
    allowed = set(ws.policy.purpose("personalised_marketing").categories)
    for col in res.columns_out:
        c = rec[col]
        assert not c["personal"] or c["category"] in allowed or col == "member_id"
    # identity documents and bank cards are not for marketing
    sensitive = [n for n, c in rec.items() if c["grade"] == "sensitive"]
    assert sensitive and not set(sensitive) & set(res.columns_out)
    assert all("minimum necessary" in res.dropped_columns[n] or "ceiling" in res.dropped_columns[n]
               for n in sensitive)


def test_role_without_decrypt_never_sees_clear_sensitive_values(ws, customers):
    res = ws.guard.run(customers, purpose="order_fulfilment", actor="wms@retailer", role="fulfilment_ops",
                       subject_column="member_id", dataset="crm/customers")
    rec = {c["name"]: c for c in ws.inventory.get("crm/customers")["columns"]}
    sensitive_out = [c for c in res.columns_out if rec[c]["grade"] == "sensitive"]
    assert sensitive_out, "order fulfilment keeps the bank card (financial account)"
    for col in sensitive_out:
        assert looks_like_ciphertext(res.frame[col].dropna()).all()
        clear = set(customers[col].dropna())
        assert not clear & set(res.frame[col].dropna())
    assert res.rows_out == N  # contract basis: no consent needed


def test_exactly_one_audit_event_per_call(ws, customers):
    before = len(_reads(ws))
    checks_before = len(list(ws.audit.query(action="consent.check")))
    ws.guard(customers, purpose="personalised_marketing", actor="crm@retailer", role="marketing",
             subject_column="member_id", dataset="crm/customers")
    ws.guard(customers, purpose="analytics", actor="bi@retailer", role="analyst",
             subject_column="member_id", dataset="crm/customers")
    evs = _reads(ws)[before:]
    assert len(evs) == 2
    assert len(list(ws.audit.query(action="consent.check"))) == checks_before
    ev = evs[0]
    assert ev["purpose"] == "personalised_marketing" and ev["rows"] == 35 and ev["subjects"] == 35
    assert ev["details"]["rows_without_consent"] == 25
    assert "M00001" not in str(ev)


@pytest.mark.parametrize(
    ("kwargs", "exc", "reason"),
    [
        ({"purpose": "nope", "role": "marketing"}, UnknownPurpose, "unknown purpose"),
        ({"purpose": "personalised_marketing", "role": "fulfilment_ops"}, AccessDenied, "may not use purpose"),
        ({"purpose": "cross_border_service", "role": "dpo"}, AccessDenied, "without a recorded assessment"),
        ({"purpose": "personalised_marketing", "role": "nobody"}, InputError, "unknown role"),
    ],
)
def test_denials_are_clear_and_audited(ws, customers, kwargs, exc, reason):
    before = len(_reads(ws))
    with pytest.raises(exc, match=reason):
        ws.guard(customers, actor="x@retailer", subject_column="member_id", dataset="crm/customers", **kwargs)
    evs = _reads(ws)[before:]
    assert len(evs) == 1 and evs[0]["decision"] == "deny" and reason in evs[0]["reason"]


def test_core_data_requested_for_marketing_is_denied(ws, customers):
    df = customers.assign(password=["pbkdf2$" + "a" * 20] * N)
    with pytest.raises(AccessDenied, match="highly sensitive data"):
        ws.guard(df, purpose="personalised_marketing", actor="x@retailer", role="marketing",
                 subject_column="member_id", dataset="crm/with-passwords")
    assert _reads(ws)[-1]["decision"] == "deny"


def test_consent_purpose_needs_a_subject_column(ws, customers):
    with pytest.raises(AccessDenied, match="name the subject column"):
        ws.guard(customers, purpose="personalised_marketing", actor="x", role="marketing", dataset="crm/customers")


def test_polars_and_arrow_come_back_in_kind(ws, customers):
    import polars as pl
    import pyarrow as pa

    out = ws.guard(pl.from_pandas(customers), purpose="personalised_marketing", actor="x", role="marketing",
                   subject_column="member_id", dataset="crm/customers")
    assert isinstance(out, pl.DataFrame) and out.height == 35
    out = ws.guard(pa.Table.from_pandas(customers), purpose="personalised_marketing", actor="x", role="marketing",
                   subject_column="member_id", dataset="crm/customers")
    assert isinstance(out, pa.Table) and out.num_rows == 35


def test_decorator_session_and_batches(ws, customers, tmp_path):
    import pickle

    from omniguard.guard.batch import GuardBatches

    @ws.guard.step(purpose="personalised_marketing", actor="step@x", role="marketing", subject_column="member_id",
                   dataset="crm/customers")
    def count(df: pd.DataFrame) -> int:
        return len(df)

    assert count(customers) == 35
    with ws.guard.session(purpose="personalised_marketing", actor="s@x", role="marketing",
                          subject_column="member_id") as g:
        assert len(g(customers, dataset="crm/customers")) == 35
    gate = pickle.loads(pickle.dumps(GuardBatches(ws.root, purpose="personalised_marketing", actor="spark@x",
                                                  role="marketing", subject_column="member_id",
                                                  dataset="crm/customers")))
    parts = list(gate.iter(iter([customers.iloc[:30], customers.iloc[30:]])))
    assert sum(len(p) for p in parts) == 35
    with pytest.raises(InputError, match="no inventory"):
        GuardBatches(ws.root, purpose="analytics", actor="x", role="analyst", subject_column="member_id",
                     dataset="never-scanned")(customers)


def test_protect_cli(cli, ws, customers, tmp_path):
    src = tmp_path / "customers.csv"
    customers.to_csv(src, index=False)
    out = tmp_path / "out.csv"
    r = cli(f"-w {ws.root} protect {src} --purpose personalised_marketing --actor crm@x --role marketing "
            f"-s member_id -o {out} --json")
    assert r.exit_code == 0, r.stderr
    d = r.json()
    assert d["rows_out"] == 35 and d["decision"] == "partial"
    assert len(pd.read_csv(out)) == 35
    denied = tmp_path / "denied.csv"
    r = cli(f"-w {ws.root} protect {src} --purpose personalised_marketing --actor x --role fulfilment_ops "
            f"-s member_id -o {denied}")
    assert r.exit_code == 1 and "may not use purpose" in r.stderr and not denied.exists()
    r = cli(f"-w {ws.root} protect {src} --purpose personalised_marketing --actor x --role marketing "
            f"-s nocolumn -o {denied}")
    assert r.exit_code == 2 and "subject column" in r.stderr and not denied.exists()
