"""Whole federated jobs for bench_federated.py: the Deployment Engine (real processes on
loopback, TLS and SuperNode authentication), the simulation engine (Ray) and the in-process loop of
the same job, each timed from the outside; Ray's start-up alone."""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from omniguard.profiling import datasets, models


def timing(reps: int) -> list[str]:
    """Whole jobs: Deployment Engine (processes on loopback), simulation (Ray), in-process loop."""
    omniguard = str(Path(sys.executable).parent / "omniguard")
    root = Path(tempfile.mkdtemp(prefix="og-bench-"))
    env = {**os.environ, "OMNIGUARD_BENCH": "1"}
    try:
        setup = _timing_setup(root)
        ray_s = [_ray_startup() for _ in range(reps)]
        inproc, sim, dep, dep_report = [], [], [], []
        for r in range(reps):
            t = time.perf_counter()
            parts = [_load(setup, name) for name in setup["partners"]]
            models.train_federated_kmeans(parts, 5, 2, clip=math.sqrt(parts[0].shape[1]), noise_multipliers=[2.0] * 3,
                                          seeds=[None] * 3)
            inproc.append(time.perf_counter() - t)
            spec = _job_spec(setup, f"sim-{r}")
            args = [omniguard, "federation", "simulate", str(spec), "-w", str(setup["coordinator"]), "--json"]
            for name in setup["partners"]:
                args += ["--partner", name, str(root / name), str(root / f"{name}.csv")]
            t = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True, env=env)
            sim.append(time.perf_counter() - t)
            t = time.perf_counter()
            report = _deployment_job(setup, _job_spec(setup, f"dep-{r}"), omniguard, env)
            dep.append(time.perf_counter() - t)
            dep_report.append(report)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    base = statistics.median(inproc)
    b = dep_report[-1]
    return ["### Time of a whole job (3 partners x 1,000 customers, segments, mean round + 2 Lloyd rounds, DP ε=3)", "",
            f"Medians of {reps} runs on this machine (2 cores, shared with other work during the run).", "",
            "| engine | wall time (s) | ratio to the in-process loop |", "|---|---|---|",
            f"| in-process numpy loop (baseline) | {base:.3f} | 1 |",
            f"| simulation: `omniguard federation simulate` (Flower + Ray), whole command | {statistics.median(sim):.1f} | {statistics.median(sim) / base:.0f} |",
            f"| of which Ray start-up and shutdown (measured alone) | {statistics.median(ray_s):.1f} | |",
            f"| Deployment Engine: `serve` + 3 `join` processes, TLS + node auth, until all exit | {statistics.median(dep):.1f} | {statistics.median(dep) / base:.0f} |",
            f"| of which the ServerApp (rounds, signing, model delivery) | {statistics.median(x['serverapp_seconds'] for x in dep_report):.1f} | |",
            "", f"Payload per deployment job: {b['bytes_sent']} bytes sent, {b['bytes_received']} received "
            "(arrays and configs of the messages; the signed model is the largest).", ""]


def _ray_startup() -> float:
    code = "import time,ray;t=time.perf_counter();ray.init(num_cpus=2,include_dashboard=False,logging_level='ERROR');ray.shutdown();print(time.perf_counter()-t)"
    return float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()[-1])


def _timing_setup(root: Path) -> dict:
    from omniguard.profiling.federated.pki import loopback_pki, node_keypair
    from omniguard.workspace import Workspace

    frames = datasets.retail_customers(datasets.RetailPlan(partners=3, customers=1000, seed=3))
    names = ["p0", "p1", "p2"]
    coord = Workspace.init(root / "coordinator", actor="bench")
    for name, f in zip(names, frames, strict=True):
        ws = Workspace.init(root / name, actor=f"bench@{name}")
        f.drop(columns=["segment"]).to_csv(root / f"{name}.csv", index=False)
        datasets.record_consent(ws, f["member_id"], "joint_profiling")
        ws.ledger.set_budget(f"{name}.csv", 1000.0, 1.0e-2)
        ws.close()
    pki = loopback_pki(root / "pki")
    keys = [node_keypair(root / "pki" / f"node{i}.key") for i in range(3)]
    return {"root": root, "coordinator": root / "coordinator", "partners": names, "pki": pki, "keys": keys,
            "key": "sm2:" + coord.signer.public_key.hex(),
            "features": "".join(f'[[features]]\ncolumn = "{c}"\ncategory = "transaction"\nlower = {lo}\nupper = {hi}\n\n'
                                for c, (lo, hi) in datasets.RETAIL_FEATURES.items())}


def _load(setup: dict, name: str) -> np.ndarray:
    import pandas as pd

    df = pd.read_csv(setup["root"] / f"{name}.csv")
    lo = np.array([b[0] for b in datasets.RETAIL_FEATURES.values()])
    hi = np.array([b[1] for b in datasets.RETAIL_FEATURES.values()])
    return models.scale_to_box(df[list(datasets.RETAIL_FEATURES)].to_numpy(float), lo, hi)


def _job_spec(setup: dict, job: str) -> Path:
    text = (f'[job]\nid = "{job}"\ntask = "segments"\npurpose = "joint_profiling"\nsubject_column = "member_id"\n'
            f'rounds = 2\n\n[coordinator]\nname = "bench"\npublic_key = "{setup["key"]}"\n\n'
            + "".join(f'[[partners]]\nid = "{p}"\n' for p in setup["partners"]) + "\n" + setup["features"]
            + "[privacy]\nepsilon = 3.0\ndelta = 1e-5\n")
    path = setup["root"] / f"{job}.toml"
    path.write_text(text)
    return path


def _deployment_job(setup: dict, spec: Path, omniguard: str, env: dict) -> dict:
    root, pki = setup["root"], setup["pki"]
    serve_out = root / f"{spec.stem}.serve.json"
    procs = []
    with open(serve_out, "wb") as out:
        procs.append(subprocess.Popen([omniguard, "federation", "serve", str(spec), "--tls-ca", str(pki.ca), "--tls-cert",
                                       str(pki.cert), "--tls-key", str(pki.key),
                                       *(a for k in setup["keys"] for a in ("--node-key", str(k))),
                                       "-w", str(setup["coordinator"]), "--json"], stdout=out, env=env))
    status = setup["coordinator"] / "federation" / spec.stem / "coordinator" / "status.json"
    while not (status.exists() and json.loads(status.read_text()).get("state") == "waiting-for-partners"):
        if procs[0].poll() is not None:
            raise RuntimeError("serve failed")
        time.sleep(0.3)
    port = json.loads(status.read_text())["address"].rsplit(":", 1)[1]
    for i, name in enumerate(setup["partners"]):
        procs.append(subprocess.Popen([omniguard, "federation", "join", str(spec), "--superlink", f"127.0.0.1:{port}",
                                       "--partner", name, "--data", str(root / f"{name}.csv"), "--root-certificates",
                                       str(pki.ca), "--auth-key", str(root / "pki" / f"node{i}.key"), "-w", str(root / name),
                                       "--json"], stdout=subprocess.DEVNULL, env=env))
    for p in procs:
        if p.wait(timeout=1800) != 0:
            raise RuntimeError(f"a federation process failed ({p.args[2]})")
    return json.loads(serve_out.read_text())
