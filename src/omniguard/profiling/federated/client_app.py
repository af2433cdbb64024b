"""The partner's Flower ClientApp: it runs next to the partner's data and only ever sends model
updates or noisy cluster statistics.

Every message is checked against the partner's approval (same job, same spec digest, no more
rounds than approved), the data is loaded through the consent gate at every round, and each step
is written to the partner's own audit log. In the Deployment Engine the SuperNode's node config
names the workspace and the job (``omniguard-workspace``, ``omniguard-job``); in simulation the
runner maps each partition id to a partner.
"""

from __future__ import annotations

import hmac
import json
import logging
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from omniguard.errors import AccessDenied, OmniguardError
from omniguard.profiling import metrics, models
from omniguard.profiling.federated import jobs
from omniguard.profiling.federated.model import save_model, verify_model
from omniguard.profiling.federated.partner import (
    PARTNER_ROLE,
    ROUNDS,
    Approval,
    load_partner_data,
    sgd_config,
)
from omniguard.profiling.federated.spec import JobSpec, load_spec

Site = tuple[str, str]  # (workspace folder, job id)
_OPEN: dict[str, Any] = {}  # one Workspace per process (Ray actors serve several rounds)


def _workspace(path: str) -> Any:
    if path not in _OPEN:
        from omniguard.workspace import Workspace

        _OPEN[path] = Workspace.open(path)
    return _OPEN[path]


def _site(context: Context, sites: dict[int, Site] | None) -> Site:
    if sites is not None:
        return sites[int(context.node_config["partition-id"])]
    try:
        return str(context.node_config["omniguard-workspace"]), str(context.node_config["omniguard-job"])
    except KeyError:
        raise AccessDenied("this SuperNode was not started by `omniguard federation join`") from None


def _approved(ws: Any, job_id: str, msg: Message, action: str) -> tuple[JobSpec, Approval, Path]:
    folder = jobs.job_dir(ws, job_id, "partner")
    approval = Approval.load(folder)
    spec = load_spec(folder / jobs.SPEC)
    cfg = msg.content.get("config", {})
    ok = (str(cfg.get("job-id", "")) == job_id
          and hmac.compare_digest(str(cfg.get("spec-digest", "")), approval.spec_digest)
          and hmac.compare_digest(spec.digest(), approval.spec_digest))
    if not ok:
        ws.audit.record(action, role=PARTNER_ROLE, purpose=spec.purpose, decision="deny",
                        reason="message does not match the approved job and spec", details={"job": job_id})
        raise AccessDenied(f"job {job_id}: message does not match the approved spec")
    return spec, approval, folder


def _ran(folder: Path) -> list[dict[str, Any]]:
    path = folder / ROUNDS
    return [json.loads(line) for line in path.read_text().splitlines() if line] if path.exists() else []


def handle_train(msg: Message, site: Site) -> Message:
    ws = _workspace(site[0])
    spec, approval, folder = _approved(ws, site[1], msg, "federation.round")
    cfg = msg.content["config"]
    rnd, phase = int(cfg["server-round"]), str(cfg["phase"])
    allowed = spec.rounds + (1 if spec.task == "segments" else 0)
    done = _ran(folder)
    if len(done) >= allowed or any(int(r["round"]) == rnd for r in done):
        ws.audit.record("federation.round", role=PARTNER_ROLE, purpose=spec.purpose, decision="deny",
                        reason="more rounds than approved, or a round replayed", details={"job": spec.job_id, "round": rnd})
        raise AccessDenied(f"job {spec.job_id}: round {rnd} is beyond what this partner approved")
    data = load_partner_data(ws, spec, approval.data_path, dataset=approval.dataset, server_round=rnd)
    if data.rows == 0:
        raise AccessDenied(f"job {spec.job_id}: no subject has consent any more")
    params = msg.content["arrays"].to_numpy_ndarrays()[0].astype(np.float64)
    index = spec.partner_index(approval.partner)
    if spec.task == "propensity":
        if params.shape != (spec.dimension + 1,) or not np.isfinite(params).all():
            raise AccessDenied(f"job {spec.job_id}: the global model has the wrong shape")
        w, steps = models.dp_sgd(params, data.X, data.y, sgd_config(spec, approval.noise_multiplier),
                                 models.partner_rng(approval.seed, index, rnd),
                                 sampling_rate=approval.sampling_rate, steps=approval.steps_per_round)
        arrays = [w]
    else:
        if params.ndim != 2 or params.shape[1] != spec.dimension or len(params) not in (1, spec.k):
            raise AccessDenied(f"job {spec.job_id}: the centroids have the wrong shape")
        sums, counts = models.cluster_stats(data.X, params, clip=spec.clip, noise_multiplier=approval.noise_multiplier,
                                            rng=models.partner_rng(approval.seed, index, rnd - 1))
        arrays, steps = [sums, counts], 1
    with open(folder / ROUNDS, "a", encoding="utf-8") as f:
        f.write(json.dumps({"round": rnd, "phase": phase, "rows": data.rows, "steps": steps}) + "\n")
    ws.audit.record("federation.round", role=PARTNER_ROLE, purpose=spec.purpose, dataset=approval.dataset,
                    rows=data.rows, subjects=data.rows, subjects_digest=data.subjects_digest,
                    details={"job": spec.job_id, "round": rnd, "phase": phase, "steps": steps,
                             "noise_multiplier": round(approval.noise_multiplier, 4)})
    privacy = approval.privacy or {}
    info = ConfigRecord({"id": approval.partner, "noise-multiplier": float(approval.noise_multiplier),
                         "sampling-rate": float(approval.sampling_rate), "steps": int(approval.releases),
                         "epsilon": float(privacy.get("epsilon", -1.0)), "delta": float(privacy.get("delta", 0.0))})
    content = RecordDict({"arrays": ArrayRecord(arrays), "metrics": MetricRecord({"num-examples": data.rows}),
                          "partner": info})
    return Message(content, reply_to=msg)


def handle_model(msg: Message, site: Site) -> Message:
    """The final message: the coordinator's signed model. Verify, keep, score own customers."""
    ws = _workspace(site[0])
    spec, approval, folder = _approved(ws, site[1], msg, "federation.model_received")
    doc_bytes = msg.content["config"].get("model", b"")
    try:
        doc = json.loads(bytes(doc_bytes).decode("utf-8"))
        body = verify_model(doc, approval.coordinator_key)
        if body.get("job_id") != spec.job_id or body.get("spec_digest") != approval.spec_digest:
            raise AccessDenied("the model belongs to another job or spec")
    except (OmniguardError, ValueError) as e:
        reason = e.message if isinstance(e, OmniguardError) else "the model is not valid JSON"
        ws.audit.record("federation.model_received", role=PARTNER_ROLE, purpose=spec.purpose, decision="deny",
                        reason=reason, details={"job": spec.job_id})
        raise AccessDenied(f"job {spec.job_id}: model refused: {reason}") from None
    save_model(folder / "model.json", doc)
    ws.audit.record("federation.model_received", role=PARTNER_ROLE, purpose=spec.purpose,
                    details={"job": spec.job_id, "task": spec.task, "signer": doc["signer"][:20],
                             "rounds": body.get("rounds")})
    local = local_metrics(ws, spec, approval, body)
    jobs.write_json(folder / "local-metrics.json", local)
    jobs.set_status(folder, "model-received", model="model.json", local_metrics=local)
    shared = ({k: float(v) for k, v in local.items() if isinstance(v, int | float) and np.isfinite(v)}
              if spec.share_metrics else {})
    content = RecordDict({"metrics": MetricRecord({"verified": 1, **shared}),
                          "partner": ConfigRecord({"id": approval.partner})})
    return Message(content, reply_to=msg)


def local_metrics(ws: Any, spec: JobSpec, approval: Approval, body: dict[str, Any]) -> dict[str, Any]:
    """How the shared model does on this partner's own (consenting) customers."""
    data = load_partner_data(ws, spec, approval.data_path, dataset=approval.dataset, server_round=None)
    if spec.task == "propensity":
        s = models.predict_proba(np.asarray(body["weights"]), data.X)
        return {"rows": data.rows, "auc": metrics.roc_auc(data.y, s),
                "conversion_top20": metrics.top_share_conversion(data.y, s, 0.2),
                "conversion_all": float(np.mean(data.y))}
    seg = models.assign(data.X, np.asarray(body["centroids"]))
    sizes = np.bincount(seg, minlength=spec.k)
    return {"rows": data.rows, "segments_nonempty": int((sizes > 0).sum()),
            "largest_segment_share": float(sizes.max() / max(data.rows, 1))}


def _sanitized(handler: Any, msg: Message, site: Site) -> Message:
    """Flower sends an exception's text back to the coordinator, which audits it: omniguard's own
    errors never quote data; any other is reduced to its type, and the partner's log gets the
    place it was raised (never the message, which might quote a value)."""
    try:
        return handler(msg, site)
    except OmniguardError:
        raise
    except Exception as e:
        frame = traceback.extract_tb(e.__traceback__)[-1]
        logging.getLogger(__name__).error("ClientApp failed: %s at %s:%s", type(e).__name__,
                                          Path(frame.filename).name, frame.lineno)
        raise RuntimeError(f"partner-side {type(e).__name__}") from None


def make_client_app(sites: dict[int, Site] | None = None) -> ClientApp:
    app = ClientApp()

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        return _sanitized(handle_train, msg, _site(context, sites))

    @app.evaluate()
    def receive_model(msg: Message, context: Context) -> Message:
        return _sanitized(handle_model, msg, _site(context, sites))

    return app


app = make_client_app()
