from omniguard.audit import GENESIS, canonical, link


def test_record_and_verify_on_both_stores(any_workspace):
    ws = any_workspace
    rec = ws.audit.record("read", purpose="analytics", dataset="crm.csv", rows=3, subjects=["a", "b", "a"])
    assert rec.seq == 2  # seq 1 is workspace.init
    n = ws.audit.record_many({"action": "read", "rows": i} for i in range(25))
    assert n == 25
    rep = ws.verify()
    assert rep.ok, rep.damage
    assert rep.events == 27
    evs = list(ws.audit.query(action="read"))
    assert len(evs) == 26
    assert evs[0]["subjects"] == 2 and evs[0]["subjects_digest"].startswith("d:")


def test_hash_is_sm3_of_prev_and_canonical_body(workspace):
    ev = next(workspace.audit.query())
    body = {k: v for k, v in ev.items() if k != "hash"}
    assert link(GENESIS, canonical(body)).hex() == ev["hash"]
