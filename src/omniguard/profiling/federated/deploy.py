"""Flower's Deployment Engine for real partners: ``serve`` runs the SuperLink and the job at the
coordinator, ``join`` runs a SuperNode next to a partner's data.

Both start Flower's own processes (``flower-superlink``, ``flower-supernode``; they start the
SuperExec and a ``flwr-serverapp`` / ``flwr-clientapp`` process per run or message), find them by
PATH in this Python's environment, and stop every process they started, and its descendants, by
pid when they finish or fail. TLS and SuperNode authentication are options; plain TCP is for
loopback trials only. Flower polls every few seconds and starts a process per message, so a job
is best designed with few, rich rounds (see docs/federation.md).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omniguard.errors import InputError
from omniguard.profiling.federated import jobs
from omniguard.profiling.federated.partner import approve, settle
from omniguard.profiling.federated.pki import TlsFiles
from omniguard.profiling.federated.simulation import JobFailed, finish, prepare

BIN = Path(sys.executable).parent
CONNECTION = "omniguard"
REPLY_GRACE = 120.0  # seconds a partner waits, model in hand, for the coordinator to finish
StateCallback = Callable[[str, dict[str, Any]], None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _exe(name: str) -> str:
    path = BIN / name
    if not path.exists():
        raise InputError(f"{name} is not installed next to this Python (pip install 'flwr>=1.41,<1.43')")
    return str(path)


def flower_env(flwr_home: Path) -> dict[str, str]:
    """Flower starts its helper processes by name, so this venv's bin must come first on PATH."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "FLWR_HOME": str(flwr_home),
            "FLWR_DISABLE_UPDATE_CHECK": "1", "FLWR_TELEMETRY_ENABLED": "0",
            "FLWR_SUPEREXEC_TASK_POLL_INTERVAL": "0.2"}


# --- processes ------------------------------------------------------------------------------------


def _parents() -> dict[int, int]:
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                out[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    return out


def descendants(*pids: int) -> set[int]:
    """Every live descendant of ``pids`` (read from /proc), the pids included."""
    parents = _parents()
    found, frontier = set(pids), list(pids)
    while frontier:
        p = frontier.pop()
        for child, parent in parents.items():
            if parent == p and child not in found:
                found.add(child)
                frontier.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie is already dead, waiting to be reaped


@dataclass
class Processes:
    """The processes this command started; :meth:`stop` ends them and all their descendants,
    snapshotting the tree first (the SuperLink's SuperExec runs in its own session)."""

    started: list[subprocess.Popen] = field(default_factory=list)

    def start(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.started.append(proc)
        return proc

    def stop(self, timeout: float = 15.0) -> list[int]:
        tree = descendants(*(p.pid for p in self.started))
        for p in reversed(self.started):
            if p.poll() is None:
                p.terminate()
        for p in reversed(self.started):
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        deadline = time.monotonic() + timeout
        while any(alive(pid) for pid in tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in tree:
            if alive(pid):
                with suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
        return sorted(pid for pid in tree if alive(pid))


def _health(address: str, ca: Path | None) -> bool:
    """True when the SuperLink at ``host:port`` answers its health check."""
    scheme = "https" if ca else "http"
    ctx = ssl.create_default_context(cafile=str(ca)) if ca else None
    try:
        with urllib.request.urlopen(f"{scheme}://{address}/health", timeout=2, context=ctx) as r:
            return r.status == 200
    except OSError:
        return False


def _wait(what: str, ready: Callable[[], bool], proc: subprocess.Popen | None, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc is not None and proc.poll() is not None:
            raise JobFailed(f"{what}: the process stopped (exit {proc.returncode}); see {log}")
        if time.monotonic() > deadline:
            raise JobFailed(f"{what}: not ready after {timeout:.0f} s; see {log}")
        time.sleep(0.3)


def _flwr(args: list[str], env: dict[str, str], timeout: float = 120.0) -> dict[str, Any]:
    r = subprocess.run([_exe("flwr"), *args, "--format", "json"], env=env, capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    try:
        data = json.loads(r.stdout)
    except ValueError:
        raise JobFailed(f"flwr {args[0]}: unexpected output (exit {r.returncode})") from None
    if r.returncode != 0 or data.get("success") is False:
        raise JobFailed(f"flwr {' '.join(args[:2])}: {str(data.get('error-message', data))[:300]}")
    return data


# --- coordinator ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port
    tls: TlsFiles | None = None  # None: plain TCP, loopback trials only
    node_public_keys: tuple[Path, ...] = ()  # non-empty: only these SuperNodes may connect
    wait_partners: float = 600.0
    timeout: float = 3600.0


def _app_dir(folder: Path, ws_root: Path, job_id: str, timeout: float, wait_partners: float) -> Path:
    app = folder / "flwr" / "app"
    app.mkdir(parents=True, exist_ok=True)
    (app / "pyproject.toml").write_text(f"""[project]
name = "omniguard-job"
version = "1.0.0"
description = "omniguard federated job {job_id}"
dependencies = []
requires-python = ">=3.11"

[tool.flwr.app]
publisher = "omniguard"

[tool.flwr.app.components]
serverapp = "omniguard.profiling.federated.server_app:app"
clientapp = "omniguard.profiling.federated.client_app:app"

[tool.flwr.app.config]
omniguard-workspace = {json.dumps(str(ws_root))}
omniguard-job = {json.dumps(job_id)}
omniguard-timeout = {float(timeout)}
omniguard-wait-partners = {float(wait_partners)}
""", encoding="utf-8")
    return app


def _connection(home: Path, address: str, ca: Path | None) -> None:
    home.mkdir(parents=True, exist_ok=True)
    # Flower's configuration accepts only an absolute path here (a relative --tls-ca was refused).
    trust = f"root-certificates = {json.dumps(str(Path(ca).resolve()))}" if ca else "insecure = true"
    (home / "config.toml").write_text(f'[superlink]\ndefault = "{CONNECTION}"\n\n[superlink.{CONNECTION}]\n'
                                      f'address = "{address}"\n{trust}\n', encoding="utf-8")


def serve(ws: Any, spec_path: str | Path, options: ServeOptions, *, on_state: StateCallback | None = None) -> dict[str, Any]:
    """Run one job as coordinator from start to report; returns the report."""
    spec, folder = prepare(ws, spec_path)
    port = options.port or free_port()
    home = folder / "flwr" / "home"
    env = flower_env(home)
    _connection(home, f"127.0.0.1:{port}" if options.host in ("0.0.0.0", "::") else f"{options.host}:{port}",
                options.tls.ca if options.tls else None)
    app = _app_dir(folder, Path(ws.root).resolve(), spec.job_id, options.timeout, options.wait_partners)
    log = folder / "flwr" / "superlink.log"
    args = [_exe("flower-superlink"), "--host", options.host, "--port", str(port),
            "--disable-runtime-dependency-installation"]
    if options.tls:
        args += ["--ssl-ca-certfile", str(options.tls.ca), "--ssl-certfile", str(options.tls.cert),
                 "--ssl-keyfile", str(options.tls.key)]
    else:
        args.append("--insecure")
    if options.node_public_keys:
        args.append("--enable-supernode-auth")
    procs = Processes()
    started = time.perf_counter()
    state = on_state or (lambda _s, _i: None)
    try:
        link = procs.start(args, env, log)
        _wait("SuperLink", lambda: _health(f"127.0.0.1:{port}", options.tls.ca if options.tls else None), link, 60, log)
        _register(options.node_public_keys, env)
        jobs.set_status(folder, "waiting-for-partners", address=f"{options.host}:{port}", tls=bool(options.tls),
                        node_auth=bool(options.node_public_keys))
        state("waiting-for-partners", {"port": port})
        # The ServerApp waits for the partners itself; polling with the flwr CLI costs seconds of CPU a call.
        run_id = int(_flwr(["run", str(app), CONNECTION], env)["run-id"])
        state("running", {"run_id": run_id})
        _wait(f"job {spec.job_id}",
              lambda: jobs.read_json(folder / jobs.STATUS).get("state") in ("completed", "failed"),
              link, options.wait_partners + options.timeout, log)
        status = _run_status(env, run_id, options.timeout)
        wall = time.perf_counter() - started
        if status != "finished:completed" or jobs.read_json(folder / jobs.STATUS).get("state") != "completed":
            detail = jobs.read_json(folder / jobs.STATUS).get("error") or status
            jobs.set_status(folder, "failed", error=detail)
            raise JobFailed(f"job {spec.job_id}: the run ended {status} ({detail})")
    finally:
        leftovers = procs.stop()
    return finish(ws, spec, folder, engine="Flower Deployment Engine", wall_seconds=wall,
                  extra={"superlink_port": port, "tls": bool(options.tls), "node_auth": bool(options.node_public_keys),
                         "leftover_processes": len(leftovers)})


def _register(keys: tuple[Path, ...], env: dict[str, str]) -> None:
    """Register every partner's public key, in parallel (each flwr CLI call takes seconds)."""
    calls = [subprocess.Popen([_exe("flwr"), "supernode", "register", str(k), CONNECTION, "--format", "json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
             for k in keys]
    for key, call in zip(keys, calls, strict=True):
        out, _ = call.communicate(timeout=120)
        try:
            ok = call.returncode == 0 and json.loads(out).get("success", False)
        except ValueError:
            ok = False
        if not ok:
            raise JobFailed(f"could not register the SuperNode key {key.name}")


def _run_status(env: dict[str, str], run_id: int, timeout: float) -> str:
    """The run's final status as the SuperLink reports it (the ServerApp may be winding down)."""
    deadline = time.monotonic() + min(timeout, 120.0)
    while True:
        runs = _flwr(["ls", CONNECTION, "--run-id", str(run_id)], env, timeout=60).get("runs", [])
        status = str(runs[0].get("status", "")) if runs else ""
        if status.startswith("finished") or time.monotonic() > deadline:
            return status
        time.sleep(1.0)


# --- partner --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinOptions:
    superlink: str  # host:port of the coordinator's SuperLink
    root_certificates: Path | None = None  # None: plain TCP (loopback trials only)
    auth_key: Path | None = None  # the SuperNode's private key, registered by the coordinator
    port: int = 0  # the SuperNode's local Runtime API port; 0: a free port
    timeout: float = 3600.0


def join(ws: Any, spec_path: str | Path, data_path: str | Path, *, partner: str, options: JoinOptions,
         dataset: str | None = None, allow_no_dp: bool = False, coordinator_key: str | None = None,
         on_state: StateCallback | None = None) -> dict[str, Any]:
    """Approve the job, serve it from a SuperNode until the signed model arrives, settle the
    budget. Returns the partner's summary (rows, privacy spent, local metrics)."""
    approval = approve(ws, spec_path, data_path, partner=partner, dataset=dataset, allow_no_dp=allow_no_dp,
                       coordinator_key=coordinator_key)
    folder = jobs.job_dir(ws, approval.job_id, "partner")
    home = folder / "flwr"
    home.mkdir(parents=True, exist_ok=True)
    node_config = home / "node-config.toml"
    node_config.write_text(f"omniguard-workspace = {json.dumps(str(Path(ws.root).resolve()))}\n"
                           f"omniguard-job = {json.dumps(approval.job_id)}\n", encoding="utf-8")
    args = [_exe("flower-supernode"), "--superlink", options.superlink, "--port", str(options.port or free_port()),
            "--node-config", str(node_config)]
    args += ["--root-certificates", str(options.root_certificates)] if options.root_certificates else ["--insecure"]
    if options.auth_key:
        args += ["--auth-supernode-private-key", str(options.auth_key)]
    log = home / "supernode.log"
    procs = Processes()
    jobs.set_status(folder, "joining", superlink=options.superlink)
    (on_state or (lambda _s, _i: None))("joining", {"superlink": options.superlink})
    try:
        node = procs.start(args, flower_env(home), log)
        _wait(f"job {approval.job_id}", lambda: jobs.read_json(folder / jobs.STATUS).get("state") == "model-received",
              node, options.timeout, log)
        # The ClientApp has the model. Stopping the SuperNode now would make the SuperLink drop the
        # reply the coordinator has not collected yet, so wait until the coordinator closes the
        # SuperLink at the end of its run (or a grace period passes).
        with suppress(JobFailed):
            _wait("coordinator", lambda: not _health(options.superlink, options.root_certificates), node,
                  REPLY_GRACE, log)
    finally:
        procs.stop()
        summary = settle(ws, approval.job_id)
    status = jobs.read_json(folder / jobs.STATUS)
    return {"job": approval.job_id, "partner": partner, "rows": approval.rows, "model": str(folder / "model.json"),
            "local_metrics": status.get("local_metrics"), **summary}


def terminate_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so that ``finally`` blocks stop Flower's processes."""
    def handler(_sig: int, _frame: Any) -> None:
        raise SystemExit(128 + signal.SIGTERM)

    with suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, handler)
