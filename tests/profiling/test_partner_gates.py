"""The partner's gates: policy (purpose, categories, grades), budget, consent, and the ClientApp's
checks on every message."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from flwr.app import ArrayRecord, ConfigRecord, Message, MessageType, RecordDict
from profiling_helpers import PURPOSE, feature_block, withdraw, write_spec

from omniguard.errors import AccessDenied, InputError
from omniguard.profiling.federated.partner import approve, check_policy, load_partner_data
from omniguard.profiling.federated.spec import load_spec, parse_spec

KEY = "sm2:04" + "ab" * 64


def _edit_purpose(ws, **changes):
    """Change the joint_profiling purpose in this workspace's own policy pack and reopen it."""
    from omniguard.workspace import Workspace

    path = ws.root / "policies" / "purposes.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for p in doc["purposes"]:
        if p["id"] == PURPOSE:
            p.update(changes)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return Workspace.open(ws.root)


def _refusals(ws):
    return list(ws.audit.query(action="federation.job_refused", decision="deny"))


def test_policy_refuses_core_and_sensitive_features_and_wrong_purposes(workspace, tmp_path):
    ws = workspace
    ok = load_spec(write_spec(tmp_path, job_id="ok"))
    check_policy(ws, ok)  # the default pack allows transaction features for joint profiling
    core = parse_spec(write_spec(tmp_path, job_id="core", features=feature_block({"pin": (0, 9999)}, "authentication"))
                      .read_text())
    with pytest.raises(AccessDenied, match="category 'authentication' is not allowed"):
        check_policy(ws, core)
    health = parse_spec(write_spec(tmp_path, job_id="health", features=feature_block({"rx": (0, 1)}, "health")).read_text())
    with pytest.raises(AccessDenied, match="not allowed for 'joint_profiling'"):
        check_policy(ws, health)
    for purpose, message in [("analytics", "not a joint-profiling purpose"), ("no_such", "not in this partner's policy")]:
        with pytest.raises(AccessDenied, match=message):
            check_policy(ws, parse_spec(write_spec(tmp_path, job_id=f"p-{purpose}".replace("_", "-"), purpose=purpose)
                                        .read_text()))
    refused = _refusals(ws)
    assert len(refused) == 4 and all(e["role"] == "partner_node" for e in refused)


def test_a_core_grade_feature_is_refused_even_if_the_purpose_lists_it(workspace, tmp_path):
    ws = _edit_purpose(workspace, categories=["basic_profile", "online_identifier", "transaction", "authentication"],
                       max_grade="highly_sensitive")
    spec = parse_spec(write_spec(tmp_path, features=feature_block({"pin": (0, 9999)}, "authentication")).read_text())
    with pytest.raises(AccessDenied, match="grade highly_sensitive is not available in clear to role 'partner_node'"):
        check_policy(ws, spec)
    ws = _edit_purpose(workspace, max_grade="internal")
    with pytest.raises(AccessDenied, match="grade highly_sensitive is above the maximum grade internal of purpose 'joint_profiling'"):
        check_policy(ws, spec)


def test_a_purpose_without_separate_consent_is_refused(workspace, tmp_path):
    ws = _edit_purpose(workspace, separate_consent=False)
    with pytest.raises(AccessDenied, match=r"does not require separate consent \(PIPL Art. 23\)"):
        check_policy(ws, load_spec(write_spec(tmp_path)))
    assert _refusals(ws)[-1]["reason"].endswith("(PIPL Art. 23)")


def test_no_dp_needs_the_partners_consent_and_no_key_is_an_error(partner_factory, small_frames, tmp_path):
    ws, data = partner_factory("brand", small_frames[0], consent=False)
    with pytest.raises(AccessDenied, match="without differential privacy"):
        approve(ws, write_spec(tmp_path, job_id="nodp", privacy='mode = "none"'), data, partner="brand",
                coordinator_key=KEY)
    with pytest.raises(InputError, match="no coordinator key"):
        approve(ws, write_spec(tmp_path, job_id="nokey"), data, partner="brand")


def test_budget_is_charged_at_approval_and_overspending_refused(partner_factory, small_frames, tmp_path):
    ws, data = partner_factory("brand", small_frames[0], budget=(4.0, 1e-4))
    fixed = "noise_multiplier = 1.3\ndelta = 1e-5"  # epsilon follows from the noise (about 2.7 here)
    a = approve(ws, write_spec(tmp_path, job_id="first", privacy=fixed), data, partner="brand", coordinator_key=KEY)
    assert 2.0 < a.privacy["epsilon"] <= 4.0 and a.ledger_entry is not None and a.noise_multiplier == 1.3
    assert ws.ledger.state(data.name).spent_epsilon == pytest.approx(a.privacy["epsilon"])
    with pytest.raises(AccessDenied, match="privacy budget"):
        approve(ws, write_spec(tmp_path, job_id="second", privacy=fixed), data, partner="brand", coordinator_key=KEY)
    assert [e["ref"] for e in ws.ledger.entries()] == ["first"]


def test_a_subject_who_withdrew_is_in_no_training_data(partner_factory, small_frames, tmp_path):
    spec_path = write_spec(tmp_path, partners=("brand", "retailer", "mall"), privacy="noise_multiplier = 1.5")
    expected = {}
    for name, frame in zip(("brand", "retailer", "mall"), small_frames, strict=True):
        ws, data = partner_factory(name, frame)
        leaving = frame["member_id"].iloc[[3, 17]].tolist()
        withdraw(ws, leaving)
        a = approve(ws, spec_path, data, partner=name, coordinator_key=KEY)
        kept = frame.loc[~frame["member_id"].isin(leaving), "member_id"]
        expected[name] = ws.audit.subjects_digest(kept.to_numpy(dtype=object))
        loaded = load_partner_data(ws, load_spec(spec_path), data, dataset=data.name, server_round=1)
        assert a.rows == loaded.rows == len(frame) - 2 == expected[name][0]
        assert loaded.subjects_digest == expected[name][1] != ws.audit.subjects_digest(frame["member_id"])[1]
        events = list(ws.audit.query(action="federation.data_loaded"))
        assert [e["rows"] for e in events] == [len(frame) - 2] * 2
        assert {e["subjects_digest"] for e in events} == {expected[name][1]}
        assert all(e["details"]["rows_without_consent"] == 2 for e in events)
        assert not any(i in str(e) for e in ws.audit.query() for i in leaving)  # never a raw id


def test_bad_data_gives_one_line_errors_without_values(partner_factory, small_frames, tmp_path):
    frame = small_frames[0].copy()
    frame["monetary_90d"] = frame["monetary_90d"].astype(object)
    frame.loc[5, "monetary_90d"] = "secret-value"
    ws, data = partner_factory("brand", frame)
    with pytest.raises(InputError, match=r"line 7: column 'monetary_90d' is not a number") as e:
        approve(ws, write_spec(tmp_path), data, partner="brand", coordinator_key=KEY)
    assert "secret-value" not in str(e.value)
    twice = small_frames[0].copy()
    twice.loc[1, "member_id"] = twice.loc[0, "member_id"]
    ws2, data2 = partner_factory("dup", twice)
    with pytest.raises(InputError, match="repeats a subject id"):
        approve(ws2, write_spec(tmp_path, job_id="dup", partners=("dup", "x")), data2, partner="dup", coordinator_key=KEY)


def _train_message(spec, rnd, digest=None, params=None):
    cfg = ConfigRecord({"job-id": spec.job_id, "spec-digest": digest or spec.digest(), "server-round": rnd,
                        "phase": "sgd"})
    arrays = ArrayRecord([np.zeros(spec.dimension + 1) if params is None else params])
    return Message(RecordDict({"arrays": arrays, "config": cfg}), dst_node_id=7, message_type=MessageType.TRAIN)


def test_client_app_trains_only_under_its_approval(partner_factory, small_frames, tmp_path, task_identity):
    from omniguard.profiling.federated.client_app import handle_train

    ws, data = partner_factory("brand", small_frames[0])
    spec_path = write_spec(tmp_path, rounds=2)
    approve(ws, spec_path, data, partner="brand", coordinator_key=KEY, seed=1)
    spec = load_spec(spec_path)
    site = (str(ws.root), spec.job_id)
    reply = handle_train(_train_message(spec, 1), site)
    assert reply.content["metrics"]["num-examples"] == len(small_frames[0])
    assert reply.content["partner"]["id"] == "brand" and reply.content["partner"]["epsilon"] <= 3.0
    with pytest.raises(AccessDenied, match="beyond what this partner approved"):
        handle_train(_train_message(spec, 1), site)  # replayed round
    with pytest.raises(AccessDenied, match="does not match the approved spec"):
        handle_train(_train_message(spec, 2, digest="0" * 64), site)
    with pytest.raises(AccessDenied, match="wrong shape"):
        handle_train(_train_message(spec, 2, params=np.zeros(3)), site)
    handle_train(_train_message(spec, 2), site)
    with pytest.raises(AccessDenied, match="beyond what this partner approved"):
        handle_train(_train_message(spec, 3), site)  # a third round was never approved
    denied = [e["reason"] for e in ws.audit.query(decision="deny")]
    assert len(denied) == 3


def test_unexpected_client_errors_reach_the_coordinator_without_data():
    from omniguard.profiling.federated.client_app import _sanitized

    def broken(_msg, _site):
        raise KeyError("M0000042")

    with pytest.raises(RuntimeError) as e:
        _sanitized(broken, None, ("ws", "job"))
    assert str(e.value) == "partner-side KeyError" and e.value.__cause__ is None

    def refused(_msg, _site):
        raise AccessDenied("job j: round 3 is beyond what this partner approved")

    with pytest.raises(AccessDenied, match="beyond"):
        _sanitized(refused, None, ("ws", "job"))
