"""The coordinator's Flower ServerApp: run the rounds, sign the model with the coordinator's SM2
key, send it to every partner, and leave the outcome for the job report.

The run config (Deployment Engine) or the simulation runner names the coordinator's workspace and
the job; everything else comes from the coordinator's copy of the spec. Each round, screening
decision and the final model is audited in the coordinator's workspace.
"""

from __future__ import annotations

import json
import time
from typing import Any

from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, RecordDict
from flwr.serverapp import Grid, ServerApp

from omniguard.config import iso_utc
from omniguard.profiling.federated import jobs
from omniguard.profiling.federated.model import model_body, save_model, sign_model
from omniguard.profiling.federated.spec import JobSpec, load_spec
from omniguard.profiling.federated.strategies import make_strategy, record_bytes

COORDINATOR_ROLE = "coordinator"
OUTCOME = "outcome.json"
_ACTIONS = {"round": "federation.round", "rejected": "federation.update_rejected",
            "clipped": "federation.update_clipped", "failure": "federation.partner_failed"}
_DECISIONS = {"round": "info", "rejected": "deny", "clipped": "partial", "failure": "error"}


def _wait_for_partners(grid: Grid, needed: int, wait: float) -> int:
    deadline = time.monotonic() + wait
    while (online := len(list(grid.get_node_ids()))) < needed:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{online} of the {needed} partners needed connected within {wait:.0f} s")
        time.sleep(1.0)
    return online


def run_job(grid: Grid, workspace: str, job_id: str, *, timeout: float = 600.0,
            wait_partners: float = 600.0) -> dict[str, Any]:
    from omniguard.workspace import Workspace

    ws = Workspace.open(workspace)
    folder = jobs.job_dir(ws, job_id, "coordinator")
    spec = load_spec(folder / jobs.SPEC)
    started = time.perf_counter()
    jobs.set_status(folder, "running", started=iso_utc())
    ws.audit.record("federation.job_started", role=COORDINATOR_ROLE, purpose=spec.purpose,
                    details={"job": job_id, "spec": spec.digest()[:16], "task": spec.task, "rounds": spec.rounds,
                             "partners": list(spec.partners)})
    events: list[dict[str, Any]] = []

    def on_event(kind: str, info: dict[str, Any]) -> None:
        events.append({"kind": kind, **info})
        ws.audit.record(_ACTIONS[kind], role=COORDINATOR_ROLE, purpose=spec.purpose, decision=_DECISIONS[kind],
                        reason=info.get("reason"), details={"job": job_id, **{k: v for k, v in info.items() if k != "reason"}})

    try:
        online = _wait_for_partners(grid, spec.min_partners, wait_partners)
        ws.audit.record("federation.partners_online", role=COORDINATOR_ROLE, purpose=spec.purpose, decision="info",
                        details={"job": job_id, "nodes": online})
        strategy, initial, flower_rounds = make_strategy(spec, on_event)
        result = strategy.start(grid=grid, initial_arrays=ArrayRecord([initial]), num_rounds=flower_rounds,
                                timeout=timeout,
                                train_config=ConfigRecord({"job-id": job_id, "spec-digest": spec.digest()}))
        if strategy.rounds_done < spec.rounds:
            raise RuntimeError(f"only {strategy.rounds_done} of {spec.rounds} rounds had enough partners")
        params = result.arrays.to_numpy_ndarrays()[0]
        body = model_body(spec, params, rounds=strategy.rounds_done, privacy=_privacy(spec, strategy.partners))
        doc = sign_model(body, ws.signer)
        save_model(folder / "model.json", doc)
        ws.audit.record("federation.model_signed", role=COORDINATOR_ROLE, purpose=spec.purpose,
                        details={"job": job_id, "signer": ws.signer.fingerprint(), "rounds": strategy.rounds_done})
        shared = _distribute(grid, spec, doc, strategy, timeout)
    except Exception as e:
        jobs.set_status(folder, "failed", error=type(e).__name__ + ": " + str(e)[:300])
        ws.audit.record("federation.job_finished", role=COORDINATOR_ROLE, purpose=spec.purpose, decision="error",
                        reason=type(e).__name__, details={"job": job_id})
        raise
    outcome = {
        "job": job_id, "task": spec.task, "spec_digest": spec.digest(), "rounds": strategy.rounds_done,
        "flower_rounds": flower_rounds, "partners": strategy.partners, "partner_metrics": shared,
        "events": [e for e in events if e["kind"] != "round"], "round_log": [e for e in events if e["kind"] == "round"],
        "bytes_sent": strategy.bytes_sent, "bytes_received": strategy.bytes_received,
        "serverapp_seconds": round(time.perf_counter() - started, 2), "privacy": body["privacy"],
        "model": "model.json", "finished": iso_utc(),
    }
    jobs.write_json(folder / OUTCOME, outcome)
    jobs.set_status(folder, "completed", rounds=strategy.rounds_done)
    ws.audit.record("federation.job_finished", role=COORDINATOR_ROLE, purpose=spec.purpose,
                    details={"job": job_id, "rounds": strategy.rounds_done,
                             "partners_received_model": sorted(shared), "bytes": strategy.bytes_sent + strategy.bytes_received})
    return outcome


def _privacy(spec: JobSpec, partners: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the partners report they approved (each partner's own ledger is the authority)."""
    if not spec.privacy.enabled:
        return {"mode": "none", "note": "no differential privacy"}
    from omniguard.profiling.dp.accounting import UNIT_CUSTOMER, composed_epsilon

    per = {p: {"epsilon": round(v.get("epsilon", -1.0), 4), "delta": v.get("delta")} for p, v in sorted(partners.items())}
    out: dict[str, Any] = {"mode": "record", "unit": UNIT_CUSTOMER, "delta": spec.privacy.delta,
                           "target_epsilon": spec.privacy.epsilon, "per_partner": per,
                           "epsilon": max((v["epsilon"] for v in per.values()), default=None),
                           "accountant": "dp-accounting PLD"}
    mechanisms = [(float(v["sampling-rate"]), float(v["noise-multiplier"]), int(v["steps"]))
                  for v in partners.values() if v.get("noise-multiplier", 0) > 0 and "steps" in v]
    if len(mechanisms) > 1:
        out["epsilon_customer_of_all_partners"] = round(composed_epsilon(mechanisms, spec.privacy.delta), 4)
    return out


def _distribute(grid: Grid, spec: JobSpec, doc: dict[str, Any], strategy: Any, timeout: float) -> dict[str, Any]:
    config = ConfigRecord({"job-id": spec.job_id, "spec-digest": spec.digest(),
                           "model": json.dumps(doc, ensure_ascii=False).encode()})
    messages = [Message(RecordDict({"config": config}), message_type=MessageType.EVALUATE, dst_node_id=n)
                for n in grid.get_node_ids()]
    strategy.bytes_sent += sum(record_bytes(m.content) for m in messages)
    shared: dict[str, Any] = {}
    for reply in grid.send_and_receive(messages, timeout=timeout):
        if reply.has_error():
            strategy.on_event("failure", {"round": "model", "node": reply.metadata.src_node_id,
                                          "reason": str(reply.error.reason)[:200]})
            continue
        strategy.bytes_received += record_bytes(reply.content)
        partner = str(reply.content["partner"]["id"])
        shared[partner] = {k: v for k, v in reply.content["metrics"].items()}
    return shared


def make_server_app(workspace: str | None = None, job_id: str | None = None) -> ServerApp:
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        ws = workspace or str(context.run_config["omniguard-workspace"])
        job = job_id or str(context.run_config["omniguard-job"])
        run_job(grid, ws, job, timeout=float(context.run_config.get("omniguard-timeout", 600.0)),
                wait_partners=float(context.run_config.get("omniguard-wait-partners", 600.0)))

    return app


app = make_server_app()
