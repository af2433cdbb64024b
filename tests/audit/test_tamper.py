"""Every kind of tampering is detected and named; an untouched log verifies."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from omniguard.audit import Checkpoint, canonical, link


@pytest.fixture
def filled(any_workspace):
    ws = any_workspace
    ws.audit.record_many({"action": "read", "purpose": "analytics", "rows": i, "dataset": f"t{i % 3}"}
                         for i in range(1, 40))
    return ws  # seq 1..40


def _exec(ws, sql, **params):
    with ws.store.engine.begin() as conn:
        conn.execute(text(sql), params)


def _row(ws, seq):
    with ws.store.read() as conn:
        return conn.execute(text("SELECT seq, body, prev_hash, hash FROM audit_events WHERE seq = :s"), {"s": seq}).one()


def test_untouched_log_verifies(filled):
    rep = filled.verify()
    assert rep.ok and rep.events == 40 and rep.last_seq == 40


def test_edited_field(filled):
    body = json.loads(_row(filled, 17).body)
    body["rows"] = 999
    _exec(filled, "UPDATE audit_events SET body = :b WHERE seq = 17", b=canonical(body).decode())
    rep = filled.verify()
    assert not rep.ok
    assert (rep.first.seq, rep.first.kind) == (17, "edited")


def test_deleted_row(filled):
    _exec(filled, "DELETE FROM audit_events WHERE seq = 21")
    rep = filled.verify()
    assert (rep.first.seq, rep.first.kind) == (21, "deleted")


def test_deleted_row_with_renumbering(filled):
    _exec(filled, "DELETE FROM audit_events WHERE seq = 21")
    for s in range(22, 41):
        _exec(filled, "UPDATE audit_events SET seq = :n WHERE seq = :s", n=s - 1, s=s)
    rep = filled.verify()
    assert (rep.first.seq, rep.first.kind) == (21, "deleted")


def test_inserted_row(filled):
    # shift 25.. up by one and slip a well-formed event in at 25, linked to 24
    for s in range(40, 24, -1):
        _exec(filled, "UPDATE audit_events SET seq = :n WHERE seq = :s", n=s + 1, s=s)
    prev = bytes(_row(filled, 24).hash)
    body = canonical({"v": 1, "seq": 25, "ts": "2026-01-01T00:00:00.000000Z", "action": "read",
                      "actor": "intruder", "decision": "allow"})
    _exec(filled, "INSERT INTO audit_events (seq, body, prev_hash, hash) VALUES (25, :b, :p, :h)",
          b=body.decode(), p=prev, h=link(prev, body))
    rep = filled.verify()
    assert (rep.first.seq, rep.first.kind) == (25, "inserted")


def test_swapped_rows(filled):
    a, b = _row(filled, 30), _row(filled, 31)
    _exec(filled, "UPDATE audit_events SET seq = -1 WHERE seq = 30")
    _exec(filled, "UPDATE audit_events SET seq = 30 WHERE seq = 31")
    _exec(filled, "UPDATE audit_events SET seq = 31 WHERE seq = -1")
    assert bytes(_row(filled, 30).hash) == bytes(b.hash) and bytes(_row(filled, 31).hash) == bytes(a.hash)
    rep = filled.verify()
    assert (rep.first.seq, rep.first.kind) == (30, "reordered")


def test_truncated_tail_behind_kept_checkpoint(filled, tmp_path):
    cp = filled.checkpoint()
    cp.save(tmp_path / "cp.json")
    kept = Checkpoint.load(tmp_path / "cp.json")
    _exec(filled, "DELETE FROM audit_events WHERE seq > 33")
    _exec(filled, "DELETE FROM audit_checkpoints")  # the insider removes the stored copy too
    rep = filled.verify([kept])
    assert not rep.ok
    assert (rep.first.seq, rep.first.kind) == (34, "truncated")
    # without the kept checkpoint a clean tail cut is invisible: that is why auditors keep one
    assert filled.verify().ok


def test_rewritten_chain_caught_by_checkpoint(filled, tmp_path):
    kept = filled.checkpoint()
    # an insider edits seq 10 and recomputes every later hash: links are consistent again
    with filled.store.read() as conn:
        rows = conn.execute(text("SELECT seq, body FROM audit_events ORDER BY seq")).all()
    prev = bytes(32)
    for seq, body in rows:
        if seq == 10:
            ev = json.loads(body)
            ev["actor"] = "someone-else"
            body = canonical(ev).decode()
        h = link(prev, body.encode())
        _exec(filled, "UPDATE audit_events SET body = :b, prev_hash = :p, hash = :h WHERE seq = :s",
              b=body, p=prev, h=h, s=seq)
        prev = h
    rep = filled.verify([kept])
    assert not rep.ok
    assert {d.kind for d in rep.damage} == {"edited"}


def test_forged_checkpoint(filled, tmp_path):
    cp = filled.checkpoint()
    cp.save(tmp_path / "cp.json")
    data = json.loads((tmp_path / "cp.json").read_text())
    data["seq"] = 39
    data["hash"] = bytes(_row(filled, 39).hash).hex()
    (tmp_path / "forged.json").write_text(json.dumps(data))
    rep = filled.verify([Checkpoint.load(tmp_path / "forged.json")])
    assert (rep.first.seq, rep.first.kind) == (39, "bad-signature")


def test_checkpoint_signed_by_another_key(filled, tmp_path):
    from omniguard.crypto.sm2 import SM2KeyPair

    cp = filled.checkpoint()
    other = SM2KeyPair.generate()
    unsigned = Checkpoint(cp.workspace, cp.seq, cp.hash, cp.ts, other.public_key.hex(), "")
    forged = Checkpoint(cp.workspace, cp.seq, cp.hash, cp.ts, other.public_key.hex(),
                        other.sign(unsigned.payload()).hex())
    assert forged.signature_valid()  # valid under its own key...
    rep = filled.verify([forged])  # ...but not under the workspace's
    assert rep.first.kind == "bad-signature"


def test_tampered_stored_checkpoint(filled):
    filled.checkpoint()
    _exec(filled, "UPDATE audit_checkpoints SET hash = :h", h=bytes(32))
    rep = filled.verify()
    assert rep.first.kind == "bad-signature"


def test_parallel_walk_agrees_and_falls_back_to_precise_diagnosis(filled, monkeypatch):
    from omniguard.audit import verify as verify_mod

    monkeypatch.setattr(verify_mod, "PARALLEL_MIN_EVENTS", 10)
    rep = verify_mod.verify_log(filled.store, workspace_id=filled.config.workspace_id,
                                public_key=filled.signer.public_key, parallel=2)
    assert rep.ok
    serial = verify_mod.verify_log(filled.store, workspace_id=filled.config.workspace_id,
                                   public_key=filled.signer.public_key, parallel=1)
    assert rep.last_hash == serial.last_hash and rep.events == serial.events == 40
    _exec(filled, "DELETE FROM audit_events WHERE seq = 33")
    rep = verify_mod.verify_log(filled.store, workspace_id=filled.config.workspace_id,
                                public_key=filled.signer.public_key, parallel=2)
    assert (rep.first.seq, rep.first.kind) == (33, "deleted")
