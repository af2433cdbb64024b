"""A real federation on loopback: `omniguard federation serve` (SuperLink + ServerApp) and three
`omniguard federation join` (SuperNodes) as separate processes on free ports, with TLS and SuperNode
authentication, a DP segments job run to the end, and every process cleaned up, even on failure.

Kept short for CI: one Lloyd round after the mean round, no evaluate rounds; Flower polls every
few seconds and starts a process per message, so the job takes about a minute on an idle 2-core box.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from profiling_helpers import withdraw, write_spec

from omniguard.profiling.dp.accounting import gaussian_guarantee
from omniguard.profiling.federated.deploy import alive, descendants
from omniguard.profiling.federated.model import verify_model

pytestmark = [pytest.mark.federation, pytest.mark.timeout(900)]
OMNIGUARD = str(Path(sys.executable).parent / "omniguard")
PARTNERS = ("p0", "p1", "p2")


@pytest.fixture
def processes():
    """Processes the test starts; teardown stops them and everything they started, by pid."""
    started: list[subprocess.Popen] = []
    seen: set[int] = set()
    yield started, seen
    seen |= descendants(*(p.pid for p in started))
    for p in started:
        if p.poll() is None:
            p.terminate()  # omniguard turns SIGTERM into a clean stop of its Flower processes
    for p in started:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in seen) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in seen:
        if alive(pid):
            subprocess.run(["kill", "-9", str(pid)], check=False)


def _start(started, args, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        proc = subprocess.Popen([OMNIGUARD, *args], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    started.append(proc)
    return proc


def _status(ws_root: Path, job: str) -> dict:
    path = ws_root / "federation" / job / "coordinator" / "status.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def test_superlink_and_three_supernodes_run_a_dp_job(partner_factory, small_frames, cli, tmp_path, processes):
    started, seen = processes
    coordinator, _ = partner_factory("coordinator", small_frames[0].iloc[:3], consent=False, budget=None)
    sites = {}
    for name, frame in zip(PARTNERS, small_frames, strict=True):
        ws, data = partner_factory(name, frame)
        sites[name] = (ws, data)
    withdraw(sites["p1"][0], small_frames[1]["member_id"].iloc[:5])
    pki = cli(f"federation pki {tmp_path / 'pki'} --nodes 3 -w {coordinator.root} --json").json()
    key = "sm2:" + coordinator.signer.public_key.hex()
    # A fixed noise multiplier (epsilon follows) spares each partner the calibration at approval.
    spec = write_spec(tmp_path, job_id="loopback", task="segments", partners=PARTNERS, rounds=1,
                      coordinator_key=key, privacy="noise_multiplier = 2.0\ndelta = 1e-5")
    expected = gaussian_guarantee(2.0, 2, 1e-5)  # the mean round and one Lloyd round

    serve = _start(started, ["federation", "serve", str(spec), "--tls-ca", pki["ca"], "--tls-cert", pki["cert"],
                             "--tls-key", pki["key"], *(a for k in pki["node_public_keys"] for a in ("--node-key", k)),
                             "--wait-partners", "300", "--timeout", "600", "-w", str(coordinator.root), "--json"],
                   tmp_path / "serve.out")
    deadline = time.monotonic() + 180
    while _status(coordinator.root, "loopback").get("state") != "waiting-for-partners":
        assert serve.poll() is None, (tmp_path / "serve.out").read_text()[-2000:]
        assert time.monotonic() < deadline, "the SuperLink did not come up"
        time.sleep(0.5)
    port = _status(coordinator.root, "loopback")["address"].rsplit(":", 1)[1]
    joins = {name: _start(started, ["federation", "join", str(spec), "--superlink", f"127.0.0.1:{port}",
                                     "--partner", name, "--data", str(sites[name][1]),
                                     "--root-certificates", pki["ca"], "--auth-key", str(tmp_path / "pki" / f"node{i}.key"),
                                     "-w", str(sites[name][0].root), "--json"], tmp_path / f"{name}.out")
             for i, name in enumerate(PARTNERS)}
    deadline = time.monotonic() + 600
    while any(p.poll() is None for p in started):
        seen |= descendants(*(p.pid for p in started if p.poll() is None))
        assert time.monotonic() < deadline, "the job did not finish in 10 minutes"
        time.sleep(1.0)

    outputs = {name: (tmp_path / f"{name}.out").read_text() for name in ("serve", *PARTNERS)}
    assert serve.returncode == 0, outputs["serve"][-3000:]
    assert all(p.returncode == 0 for p in joins.values()), {n: outputs[n][-2000:] for n in PARTNERS}
    assert len(seen) > 8  # SuperLink, SuperExecs, SuperNodes, ServerApp and ClientApp processes
    time.sleep(1.0)
    assert [pid for pid in seen if alive(pid)] == []  # every Flower process is gone

    report = json.loads(outputs["serve"][outputs["serve"].index("{"):])
    assert report["rounds"] == 1 and report["tls"] and report["node_auth"] and report["leftover_processes"] == 0
    assert [(p["id"], p["rows"], p["received_model"]) for p in report["partners"]] == [
        ("p0", 300, True), ("p1", 295, True), ("p2", 300, True)]
    assert report["privacy"]["mode"] == "record"
    assert report["privacy"]["epsilon"] == pytest.approx(expected.epsilon, abs=1e-4)
    assert report["privacy"]["delta"] == 1e-5 and "customer" in report["privacy"]["unit"]
    doc = json.loads((coordinator.root / "federation" / "loopback" / "coordinator" / "model.json").read_text())
    assert len(verify_model(doc, key)["centroids"]) == 5

    for name in PARTNERS:
        ws, _ = sites[name]
        out = json.loads(outputs[name][outputs[name].index("{"):])
        assert out["rounds"] == 1 and out["privacy"]["epsilon"] == pytest.approx(expected.epsilon)
        assert json.loads(Path(out["model"]).read_text()) == doc
        entry = ws.ledger.entries()[0]
        assert entry["status"] == "settled" and entry["epsilon"] == pytest.approx(out["privacy"]["epsilon"])
        rounds = list(ws.audit.query(action="federation.round"))
        assert [e["details"]["phase"] for e in rounds] == ["mean", "lloyd"]
        assert len({e["subjects_digest"] for e in rounds}) == 1
        assert next(ws.audit.query(action="federation.model_received"))["decision"] == "allow"
    kept = small_frames[1]["member_id"].iloc[5:].to_numpy(dtype=object)
    p1_rounds = list(sites["p1"][0].audit.query(action="federation.round"))
    assert p1_rounds[0]["subjects_digest"] == sites["p1"][0].audit.subjects_digest(kept)[1]
    actions = [e["action"] for e in coordinator.audit.query(action="federation.*")]
    for needed in ("federation.partners_online", "federation.model_signed", "federation.job_finished"):
        assert needed in actions
    assert actions.count("federation.round") == 2
