"""Run a whole job on one machine with Flower's simulation engine (Ray), every partner with its
own workspace: the same ServerApp and ClientApp as the Deployment Engine, the same approvals,
gates, audit events and report.

Also the coordinator-side steps both engines share: preparing the job folder and finishing the
report once the ServerApp is done.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omniguard.errors import InputError, OmniguardError
from omniguard.profiling.federated import jobs
from omniguard.profiling.federated.partner import approve, settle
from omniguard.profiling.federated.report import build_report, write_report
from omniguard.profiling.federated.server_app import OUTCOME, make_server_app
from omniguard.profiling.federated.spec import JobSpec, load_spec


@dataclass(frozen=True)
class Site:
    """One partner in a simulation: its workspace, its data file, and optionally its dataset name
    in the budget ledger and a seed (tests; real partners leave it to OS entropy)."""

    partner: str
    workspace: str
    data: str
    dataset: str | None = None
    seed: int | None = None


class JobFailed(OmniguardError):
    exit_code = 1


def coordinator_key(ws: Any) -> str:
    return "sm2:" + ws.signer.public_key.hex()


def prepare(ws: Any, spec_path: str | Path) -> tuple[JobSpec, Path]:
    """The coordinator's copy of the spec and its job folder; audited."""
    spec, folder = jobs.install_spec(ws, spec_path, "coordinator")
    if spec.coordinator_key and spec.coordinator_key != coordinator_key(ws):
        raise InputError(f"job {spec.job_id}: the spec names another coordinator key than this workspace's")
    jobs.set_status(folder, "prepared", job=spec.job_id, partners=list(spec.partners))
    ws.audit.record("federation.job_created", role="coordinator", purpose=spec.purpose, decision="info",
                    details={"job": spec.job_id, "spec": spec.digest()[:16], "task": spec.task})
    return spec, folder


def finish(ws: Any, spec: JobSpec, folder: Path, *, engine: str, wall_seconds: float,
           extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read what the ServerApp left, write the job report (JSON + HTML) and audit it."""
    status = jobs.read_json(folder / jobs.STATUS)
    outcome = jobs.read_json(folder / OUTCOME)
    if status.get("state") != "completed" or not outcome:
        raise JobFailed(f"job {spec.job_id} did not complete ({status.get('error') or status.get('state', 'no status')})")
    report = build_report(spec, outcome, engine=engine, wall_seconds=wall_seconds,
                          coordinator_key=coordinator_key(ws), extra=extra)
    json_path, html_path = write_report(folder, report)
    ws.audit.record("federation.report", role="coordinator", purpose=spec.purpose, rows=report["rows_total"],
                    details={"job": spec.job_id, "engine": engine, "file": html_path.name})
    report["files"] = {"json": str(json_path), "html": str(html_path), "model": str(folder / "model.json")}
    return report


def quiet_flower() -> None:
    """Flower logs every round on stderr and Ray warns about a future default; the CLI has its
    own output and the job report."""
    logging.getLogger("flwr").setLevel(logging.ERROR)
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")


def simulate(ws: Any, spec_path: str | Path, sites: list[Site], *, allow_no_dp: bool = False,
             timeout: float = 600.0, cpus: int = 2) -> dict[str, Any]:
    from flwr.simulation import run_simulation

    from omniguard.profiling.federated.client_app import make_client_app
    from omniguard.workspace import Workspace

    partners = load_spec(spec_path).partners
    if sorted(s.partner for s in sites) != sorted(partners):
        raise InputError(f"give exactly one site per partner ({', '.join(partners)})")
    spec, folder = prepare(ws, spec_path)
    by_partner = {s.partner: s for s in sites}
    ordered = [by_partner[p] for p in spec.partners]
    for site in ordered:
        with Workspace.open(site.workspace) as pws:
            approve(pws, folder / jobs.SPEC, site.data, partner=site.partner, dataset=site.dataset,
                    allow_no_dp=allow_no_dp, seed=site.seed, coordinator_key=coordinator_key(ws))
    client_sites = {i: (str(Path(s.workspace).resolve()), spec.job_id) for i, s in enumerate(ordered)}
    server_app = make_server_app(str(Path(ws.root).resolve()), spec.job_id)
    client_app = make_client_app(client_sites)
    quiet_flower()
    started = time.perf_counter()
    try:
        run_simulation(server_app=server_app, client_app=client_app, num_supernodes=len(ordered),
                       backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0},
                                       "init_args": {"num_cpus": cpus, "include_dashboard": False}})
    except Exception as e:  # the ServerApp's own error is in the status file
        jobs.set_status(folder, "failed", error=jobs.read_json(folder / jobs.STATUS).get("error") or type(e).__name__)
    wall = time.perf_counter() - started
    settled = {}
    for site in ordered:
        with Workspace.open(site.workspace) as pws:
            settled[site.partner] = settle(pws, spec.job_id)
    return finish(ws, spec, folder, engine="simulation (Flower + Ray)", wall_seconds=wall,
                  extra={"partners_settled": settled})
