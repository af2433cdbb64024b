"""Keyring: column ciphers, rotation v1 -> v2 -> v3, re-wrap, destroy, per-subject keys and shredding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from omniguard.crypto import DecryptionError
from omniguard.crypto.tables import crypto_keys, crypto_subject_keys
from omniguard.errors import InputError

PHONES = pd.Series(["13800138000", None, "", "13900139000", "１３８００１３８０００"], name="phone")


def test_column_round_trip_keeps_nulls_index_and_name(any_workspace):
    c = any_workspace.keyring.column_cipher("crm.csv", "phone")
    s = PHONES.copy()
    s.index = [10, 11, 12, 13, 14]
    enc = c.encrypt(s)
    assert enc.index.tolist() == s.index.tolist() and enc.name == "phone"
    assert enc.isna().tolist() == s.isna().tolist()
    assert not enc.dropna().isin(s.dropna()).any()
    back = c.decrypt(enc)
    assert back.tolist()[:1] == ["13800138000"] and back.equals(s.astype("str"))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.none(), st.text(max_size=30)), max_size=40))
def test_hypothesis_round_trip(workspace, values):
    c = workspace.keyring.column_cipher("t", "c")
    s = pd.Series(values, dtype="str")
    out = c.decrypt(c.encrypt(s), audit=False)
    assert out.isna().tolist() == s.isna().tolist()
    assert out.dropna().tolist() == s.dropna().tolist()


def test_same_column_same_keyset_other_column_other_key(workspace):
    kr = workspace.keyring
    a, b = kr.column_cipher("crm.csv", "phone"), kr.column_cipher("crm.csv", "phone")
    assert a.key_id == b.key_id
    other = kr.column_cipher("crm.csv", "mobile")
    assert other.key_id != a.key_id
    enc = a.encrypt(PHONES)
    with pytest.raises(DecryptionError, match="another column"):
        other.decrypt(enc)  # cut and paste into another column is refused


def test_rotation_v1_v2_v3_old_cells_still_decrypt(any_workspace):
    kr = any_workspace.keyring
    v1 = kr.column_cipher("crm.csv", "phone").encrypt(PHONES)
    ks = kr.column_keyset("crm.csv", "phone")
    assert kr.rotate(ks) == 2
    v2 = kr.column_cipher("crm.csv", "phone").encrypt(PHONES)
    assert kr.rotate(kr.column_keyset("crm.csv", "phone")) == 3
    c3 = kr.column_cipher("crm.csv", "phone")
    assert c3.version == 3
    v3 = c3.encrypt(PHONES)
    for enc in (v1, v2, v3):
        assert c3.decrypt(enc).equals(PHONES.astype("str"))
    assert v1.dropna().str.slice(0, 16).nunique() == 1 and v1.iloc[0][:16] != v3.iloc[0][:16]
    rewrap = kr.rewrap()
    assert rewrap["kek_version"] == 2 and rewrap["keys"] >= 3
    kr._keys.clear()
    kr._handles.clear()
    assert c3.decrypt(v1).equals(PHONES.astype("str"))  # re-wrapped keys still open old data


def test_destroyed_version_makes_its_cells_unreadable(workspace):
    kr = workspace.keyring
    v1 = kr.column_cipher("d", "c").encrypt(PHONES)
    ks = kr.column_keyset("d", "c")
    kr.rotate(ks)
    with pytest.raises(InputError, match="primary"):
        kr.destroy_version(kr.column_keyset("d", "c"), 2)
    kr.destroy_version(kr.column_keyset("d", "c"), 1)
    with pytest.raises(DecryptionError, match="destroyed"):
        kr.column_cipher("d", "c").decrypt(v1)


def test_shredding_one_subject_leaves_the_others_readable(any_workspace):
    kr = any_workspace.keyring
    c = kr.column_cipher("crm.csv", "name")
    names = pd.Series(["张三", "李四", None, "王五"])
    ids = pd.Series(["M1", "M2", "M3", "M4"])
    enc = c.encrypt(names, ids)
    assert kr.subject_key_count() == 3  # no key for a subject with only nulls
    assert c.decrypt(enc, ids).equals(names.astype("str"))
    assert kr.shred_subject("M2") is True
    assert kr.shred_subject("M2") is False
    after = c.decrypt(enc, ids)
    assert after.tolist()[0] == "张三" and after.tolist()[3] == "王五"
    assert pd.isna(after.iloc[1]) and pd.isna(after.iloc[2])
    with pytest.raises(DecryptionError):
        c.decrypt(enc, ids.replace({"M1": "M4"}))  # cells are bound to their subject
    events = list(any_workspace.audit.query(action="key.shred"))
    assert [e["decision"] for e in events] == ["allow", "info"]
    assert all("M2" not in str(e) for e in events) and events[0]["subject_ref"].startswith("s:")


def test_subject_cells_need_subject_ids(workspace):
    c = workspace.keyring.column_cipher("x", "y")
    enc = c.encrypt(pd.Series(["a"]), pd.Series(["S1"]))
    with pytest.raises(DecryptionError, match="subject ids"):
        c.decrypt(enc)
    with pytest.raises(InputError, match="no subject id"):
        c.encrypt(pd.Series(["a", "b"]), pd.Series(["S1", None]))


def test_store_holds_only_wrapped_keys(any_workspace):
    kr = any_workspace.keyring
    c = kr.column_cipher("crm.csv", "phone")
    c.encrypt(PHONES, pd.Series(["a", "b", "c", "d", "e"]))
    tok = kr.tokenizer("org")
    material = [kr.key_bytes(c.key_id, 1), tok._key]
    material += [h._key for h in kr.subject_keys(["a", "c"])]
    with any_workspace.store.read() as conn:
        stored = [bytes(r[0]) for r in conn.execute(select(crypto_keys.c.wrapped))]
        stored += [bytes(r[0]) for r in conn.execute(select(crypto_subject_keys.c.wrapped))]
        dump = b"".join(stored)
    assert len(stored) >= 4
    for key in material:
        assert key not in dump and key.hex().encode() not in dump


def test_decrypt_is_audited_with_cells(workspace):
    c = workspace.keyring.column_cipher("crm.csv", "phone")
    enc = c.encrypt(PHONES)
    c.decrypt(enc, actor="dpo@x", role="dpo", purpose="membership")
    ev = list(workspace.audit.query(action="decrypt"))[-1]
    assert ev["details"]["cells"] == 4 and ev["rows"] == 4 and ev["role"] == "dpo"
    assert ev["resource"] == {"dataset": "crm.csv", "columns": ["phone"]}
    bad = enc.iloc[[0]].str.slice(0, -4)  # truncated
    with pytest.raises(DecryptionError):
        c.decrypt(bad)
    assert list(workspace.audit.query(action="decrypt"))[-1]["decision"] == "error"


def test_large_column_takes_the_batch_path(workspace):
    c = workspace.keyring.column_cipher("big", "id")
    s = pd.Series([f"11010119{i:010d}" for i in range(20000)])
    enc = c.encrypt(s)
    assert enc.str.len().nunique() == 1
    assert np.array_equal(c.decrypt(enc, audit=False).to_numpy(), s.to_numpy())
