"""`omniguard federation plan|simulate|serve|join|status|score|pki`: federated profiling jobs."""

from __future__ import annotations

from pathlib import Path

import click

from omniguard.cli.common import common_options, console, emit, state, table
from omniguard.errors import InputError


@click.group("federation")
def federation_group() -> None:
    """Federated segments and propensity models between partners, with differential privacy."""


def _summary(report: dict) -> None:
    priv = report.get("privacy") or {}
    line = (f"epsilon {priv.get('epsilon')} at delta {priv.get('delta')} per customer"
            if priv.get("mode") == "record" else "no differential privacy")
    table(["partner", "rows used", "epsilon", "model received", *sorted({k for p in report["partners"] for k in p["metrics"]})],
          [[p["id"], p["rows"], p["epsilon"], "yes" if p["received_model"] else "no",
            *[f"{p['metrics'][k]:.4g}" if isinstance(p["metrics"].get(k), float) else p["metrics"].get(k)
              for k in sorted({k for q in report["partners"] for k in q["metrics"]})]] for p in report["partners"]],
          title=f"job {report['job']} ({report['task']}, {report['engine']})")
    console.print(f"{report['rounds']} rounds in {report['wall_seconds']} s; {line}; "
                  f"{report['bytes_sent'] + report['bytes_received']} payload bytes")
    console.print(f"report: {report['files']['html']}")


@federation_group.command("plan")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--rows", type=click.IntRange(min=1), help="Plan the privacy for this many customers.")
@click.option("--data", type=click.Path(dir_okay=False), help="Count the consenting customers in this file instead.")
@click.option("--dataset", help="Ledger name of the data (default: the file name), to show the budget left.")
@common_options
def plan_cmd(spec, rows, data, dataset) -> None:
    """Check a job spec against this workspace's policy and compute its privacy before the job."""
    from omniguard.profiling.federated.partner import check_policy, load_partner_data, plan_privacy
    from omniguard.profiling.federated.spec import load_spec

    ws = state().open_workspace()
    job = load_spec(spec)
    check_policy(ws, job)
    if data:
        rows = load_partner_data(ws, job, data, dataset=dataset or Path(data).name).rows
    out = {"job": job.job_id, "task": job.task, "purpose": job.purpose, "spec_digest": job.digest(),
           "partners": list(job.partners), "rounds": job.rounds, "policy": "allowed",
           "features": [f"{f.column} ({f.category}, {ws.policy.grade_of(f.category).value})" for f in job.features],
           "coordinator_key": job.coordinator_key or None}
    if rows:
        z, q, per_round, g = plan_privacy(job, rows)
        out.update(rows=rows, noise_multiplier=round(z, 4), sampling_rate=q, steps_per_round=per_round,
                   privacy=g.to_dict() if g else {"mode": "none"})
        if data or dataset:
            out["budget"] = ws.ledger.state(dataset or Path(data).name).to_dict()

    def human(d: dict) -> None:
        console.print(f"job {d['job']}: {d['task']} for purpose {d['purpose']}, {d['rounds']} rounds, partners "
                      f"{', '.join(d['partners'])}; this workspace's policy allows it")
        console.print("features: " + "; ".join(d["features"]))
        if "privacy" in d:
            p = d["privacy"]
            console.print(f"for {d['rows']} customers: " + (
                f"epsilon {p['epsilon']:.4g} (PLD; RDP {p['epsilon_rdp']:.4g}) at delta {p['delta']:g} per "
                f"customer, noise multiplier {d['noise_multiplier']}, {p['mechanism']}"
                if "epsilon" in p else "no differential privacy"))

    emit(out, human)


@federation_group.command("simulate")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--partner", "partners", nargs=3, multiple=True, required=True, metavar="ID WORKSPACE DATA",
              help="A partner: its id in the spec, its workspace folder and its data file (repeat per partner).")
@click.option("--allow-no-dp", is_flag=True, help="Let partners run a spec with privacy mode = 'none'.")
@click.option("--cpus", type=click.IntRange(min=1), default=2, show_default=True, help="CPUs Ray may use.")
@common_options
def simulate_cmd(spec, partners, allow_no_dp, cpus) -> None:
    """Run a job on this machine with Flower's simulation engine; this workspace coordinates."""
    from omniguard.profiling.federated.simulation import Site, simulate

    ws = state().open_workspace()
    sites = [Site(pid, str(Path(w).resolve()), str(Path(d).resolve())) for pid, w, d in partners]
    for s in sites:
        if not Path(s.data).is_file():
            raise InputError(f"partner {s.partner}: {Path(s.data).name}: file not found")
    emit(simulate(ws, spec, sites, allow_no_dp=allow_no_dp, cpus=cpus), _summary)


def _tls(ca, cert, key):
    from omniguard.profiling.federated.pki import TlsFiles

    given = [v is not None for v in (ca, cert, key)]
    if any(given) and not all(given):
        raise InputError("TLS needs --tls-ca, --tls-cert and --tls-key together")
    return TlsFiles(Path(ca), Path(cert), Path(key)) if all(given) else None


@federation_group.command("serve")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the SuperLink listens on.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=0, help="SuperLink port (default: a free one).")
@click.option("--tls-ca", type=click.Path(dir_okay=False, exists=True), help="CA certificate (PEM).")
@click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True), help="SuperLink certificate (PEM).")
@click.option("--tls-key", type=click.Path(dir_okay=False, exists=True), help="SuperLink private key (PEM).")
@click.option("--node-key", "node_keys", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="A partner's SuperNode public key; with any, only registered nodes may join (repeatable).")
@click.option("--insecure", is_flag=True, help="Allow plain TCP on a non-loopback address (trials only).")
@click.option("--wait-partners", type=float, default=600.0, show_default=True, help="Seconds to wait for partners.")
@click.option("--timeout", type=float, default=3600.0, show_default=True, help="Seconds the run may take.")
@common_options
def serve_cmd(spec, host, port, tls_ca, tls_cert, tls_key, node_keys, insecure, wait_partners, timeout) -> None:
    """Coordinate a job on the Deployment Engine: SuperLink + ServerApp, sign and send the model."""
    from omniguard.profiling.federated.deploy import ServeOptions, serve, terminate_on_sigterm

    tls = _tls(tls_ca, tls_cert, tls_key)
    if tls is None and host not in ("127.0.0.1", "localhost", "::1") and not insecure:
        raise InputError("without TLS the SuperLink may only listen on loopback; give --tls-* or --insecure")
    ws = state().open_workspace()
    terminate_on_sigterm()

    def on_state(s: str, info: dict) -> None:
        if s == "waiting-for-partners" and not state().json:
            console.print(f"SuperLink listening on {host}:{info['port']}; waiting for partners")

    report = serve(ws, spec, ServeOptions(host=host, port=port, tls=tls, node_public_keys=tuple(map(Path, node_keys)),
                                          wait_partners=wait_partners, timeout=timeout), on_state=on_state)
    emit(report, _summary)


@federation_group.command("join")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--superlink", required=True, metavar="HOST:PORT", help="The coordinator's SuperLink.")
@click.option("--partner", required=True, help="This partner's id in the spec.")
@click.option("--data", required=True, type=click.Path(dir_okay=False), help="This partner's customer table.")
@click.option("--dataset", help="Ledger name of the data (default: the file name).")
@click.option("--root-certificates", type=click.Path(dir_okay=False, exists=True), help="CA that signed the SuperLink.")
@click.option("--auth-key", type=click.Path(dir_okay=False, exists=True), help="This node's private key (node auth).")
@click.option("--coordinator-key", help="sm2:04... key the model must be signed with, if the spec names none.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=0, help="Local SuperNode port (default: free).")
@click.option("--allow-no-dp", is_flag=True, help="Accept a spec without differential privacy.")
@click.option("--timeout", type=float, default=3600.0, show_default=True)
@common_options
def join_cmd(spec, superlink, partner, data, dataset, root_certificates, auth_key, coordinator_key, port,
             allow_no_dp, timeout) -> None:
    """Approve a job and take part from a SuperNode next to this partner's data."""
    from omniguard.profiling.federated.deploy import JoinOptions, join, terminate_on_sigterm

    if not Path(data).is_file():
        raise InputError(f"{Path(data).name}: file not found")
    ws = state().open_workspace()
    terminate_on_sigterm()
    out = join(ws, spec, data, partner=partner, dataset=dataset, allow_no_dp=allow_no_dp,
               coordinator_key=coordinator_key,
               options=JoinOptions(superlink=superlink, root_certificates=Path(root_certificates) if root_certificates else None,
                                   auth_key=Path(auth_key) if auth_key else None, port=port, timeout=timeout))
    emit(out, lambda d: console.print(
        f"job {d['job']}: {d['rounds']} rounds with {d['rows']} customers; model verified and saved to {d['model']}; "
        + (f"privacy spent: epsilon {d['privacy']['epsilon']} at delta {d['privacy']['delta']} per customer"
           if d.get("privacy") else "no differential privacy")))


@federation_group.command("status")
@click.argument("job", required=False)
@common_options
def status_cmd(job) -> None:
    """Jobs this workspace coordinates or takes part in, and their state."""
    from omniguard.profiling.federated.jobs import list_jobs

    ws = state().open_workspace()
    rows = list_jobs(ws, job)
    if job and not rows:
        raise InputError(f"no job {job!r} in this workspace")
    emit({"jobs": rows}, lambda d: table(["job", "role", "state", "updated", "rows"],
                                         [[r["job"], r["role"], r.get("state"), str(r.get("updated", ""))[:19],
                                           r.get("rows")] for r in d["jobs"]], title="federated jobs"))


@federation_group.command("score")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--data", required=True, type=click.Path(dir_okay=False), help="This partner's customers.")
@click.option("--subject-column", required=True, help="Customer id column.")
@click.option("--coordinator-key", help="sm2:04... key to verify with (default: the key pinned when the job was approved).")
@click.option("--purpose", help="Purpose to check consent for (default: the job's purpose).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Scores (CSV/Parquet/JSONL).")
@common_options
def score_cmd(model, data, subject_column, coordinator_key, purpose, output) -> None:
    """Score this partner's own customers with a verified shared model (segments or propensity)."""
    from omniguard.profiling.federated.scoring import score_customers

    ws = state().open_workspace()
    out = score_customers(ws, model, data, subject_column=subject_column, output=output,
                          coordinator_key=coordinator_key, purpose=purpose)
    emit(out, lambda d: console.print(f"scored {d['rows']} consenting customers with job {d['job']}'s "
                                      f"{d['task']} model; written to {d['file']}"))


@federation_group.command("pki")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--nodes", type=click.IntRange(min=0, max=100), default=0, help="Also make this many SuperNode key pairs.")
@common_options
def pki_cmd(folder, nodes) -> None:
    """Make a trial CA, a loopback SuperLink certificate and SuperNode keys (not for production)."""
    from omniguard.profiling.federated.pki import loopback_pki, node_keypair

    files = loopback_pki(Path(folder))
    keys = [str(node_keypair(Path(folder) / f"node{i}.key")) for i in range(nodes)]
    emit({"ca": str(files.ca), "cert": str(files.cert), "key": str(files.key), "node_public_keys": keys},
         lambda d: console.print(f"CA {d['ca']}, SuperLink certificate {d['cert']}, {len(keys)} node key pairs"))


COMMANDS = [federation_group]
