"""`omniguard federation plan|status|score|pki|join|serve` without a running federation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
from profiling_helpers import feature_block, withdraw, write_spec

from omniguard.profiling.federated.model import model_body, save_model, sign_model
from omniguard.profiling.federated.spec import load_spec


def test_plan_shows_privacy_before_the_job(workspace, cli, tmp_path):
    spec = write_spec(tmp_path, rounds=3)
    r = cli(f"federation plan {spec} --rows 2000 -w {workspace.root} --json")
    assert r.exit_code == 0, r.stderr
    d = r.json()
    assert d["policy"] == "allowed" and d["rows"] == 2000 and d["steps_per_round"] == 32
    assert d["privacy"]["epsilon"] <= 3.0 < d["privacy"]["epsilon_rdp"] + 1 and d["privacy"]["delta"] == 1e-5
    assert "customer" in d["privacy"]["unit"]
    human = cli(f"federation plan {spec} --rows 2000 -w {workspace.root}")
    assert "per customer" in human.stdout and "noise multiplier" in human.stdout


def test_refused_and_malformed_specs_exit_cleanly(workspace, cli, tmp_path):
    core = write_spec(tmp_path, job_id="core", features=feature_block({"pwd_hash": (0, 1)}, "authentication"))
    r = cli(f"federation plan {core} -w {workspace.root}")
    assert r.exit_code == 1 and r.stderr.count("\n") <= 2
    assert r.stderr.startswith("error: job core refused: column 'pwd_hash'")
    bad = tmp_path / "bad.toml"
    bad.write_text("[job]\nid = 'x'\n", encoding="utf-8")
    r = cli(f"federation plan {bad} -w {workspace.root}")
    assert r.exit_code == 2 and r.stderr.startswith("error: bad.toml: [job] task: missing")
    r = cli(f"federation serve {write_spec(tmp_path)} --host 0.0.0.0 -w {workspace.root}")
    assert r.exit_code == 2 and "loopback" in r.stderr
    assert cli(f"federation status -w {workspace.root} --json").json() == {"jobs": []}


def test_pki_writes_private_keys_owner_only(workspace, cli, tmp_path):
    r = cli(f"federation pki {tmp_path / 'pki'} --nodes 2 -w {workspace.root} --json")
    assert r.exit_code == 0, r.stderr
    d = r.json()
    assert len(d["node_public_keys"]) == 2
    for key in (d["key"], *(k.removesuffix(".pub") for k in d["node_public_keys"])):
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert Path(d["node_public_keys"][0]).read_text().startswith("ecdsa-sha2-nistp384 ")


def test_score_uses_a_verified_model_on_consenting_customers(partner_factory, small_frames, cli, tmp_path):
    ws, data = partner_factory("brand", small_frames[0])
    withdraw(ws, small_frames[0]["member_id"].iloc[:10])
    spec = load_spec(write_spec(tmp_path))
    doc = sign_model(model_body(spec, np.linspace(-1, 1, spec.dimension + 1), rounds=2, privacy={}), ws.signer)
    save_model(tmp_path / "model.json", doc)
    out = tmp_path / "scores.csv"
    key = "sm2:" + ws.signer.public_key.hex()
    r = cli(f"federation score {tmp_path / 'model.json'} --data {data} --subject-column member_id "
            f"--coordinator-key {key} -o {out} -w {ws.root} --json")
    assert r.exit_code == 0, r.stderr
    scores = pd.read_csv(out)
    assert len(scores) == r.json()["rows"] == len(small_frames[0]) - 10
    assert scores["propensity"].between(0, 1).all()
    other = "sm2:" + "04" + "11" * 64
    r = cli(f"federation score {tmp_path / 'model.json'} --data {data} --subject-column member_id "
            f"--coordinator-key {other} -o {tmp_path / 'x.csv'} -w {ws.root}")
    assert r.exit_code == 1 and "does not verify" in r.stderr and not (tmp_path / "x.csv").exists()
    event = next(ws.audit.query(action="federation.score"))
    assert event["rows"] == len(scores) and event["details"]["rows_without_consent"] == 10


def test_join_refuses_a_job_its_policy_forbids_before_starting_anything(partner_factory, small_frames, cli, tmp_path):
    ws, data = partner_factory("brand", small_frames[0])
    spec = write_spec(tmp_path, features=feature_block({"card_cvv": (0, 999)}, "authentication"),
                      coordinator_key="sm2:04" + "ab" * 64)
    r = cli(f"federation join {spec} --superlink 127.0.0.1:9 --partner brand --data {data} -w {ws.root}")
    assert r.exit_code == 1 and "refused" in r.stderr
    assert not (ws.root / "federation" / "job-1" / "partner" / "flwr").exists()
    assert ws.ledger.entries() == []


def test_simulate_needs_one_site_per_partner(workspace, cli, tmp_path):
    spec = write_spec(tmp_path)
    data = tmp_path / "x.csv"
    data.write_text("member_id\nA\n")
    r = cli(f"federation simulate {spec} --partner brand {workspace.root} {data} -w {workspace.root}")
    assert r.exit_code == 2 and "one site per partner (brand, retailer)" in r.stderr
    r = cli(f"federation simulate {spec} --partner brand {workspace.root} {tmp_path / 'none.csv'} -w {workspace.root}")
    assert r.exit_code == 2 and "none.csv: file not found" in r.stderr
