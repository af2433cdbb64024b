"""Shared fixtures: workspaces on SQLite and on the real PostgreSQL server, and a CLI runner.

PostgreSQL tests take the server URL from OMNIGUARD_TEST_PG_URL (``.ci/run`` sets it) and run
each test in its own schema, so parallel sessions and helpers never see each other's tables.
"""

from __future__ import annotations

import os
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

PG_ENV = "OMNIGUARD_TEST_PG_URL"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for var in ("OMNIGUARD_MASTER_KEY", "OMNIGUARD_WORKSPACE", "OMNIGUARD_STORE_URL"):
        monkeypatch.delenv(var, raising=False)


def _pg_base_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set (.ci/run sets it; CI never skips these)")
    return url


@pytest.fixture
def pg_url():
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    import psycopg

    base = _pg_base_url()
    schema = "og_" + secrets.token_hex(6)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """Each test using this runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def workspace(tmp_path):
    from omniguard.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", actor="tester@test")
    yield ws
    ws.close()


@pytest.fixture
def any_workspace(tmp_path, store_url):
    """A workspace on SQLite and, in a second run, on PostgreSQL."""
    from omniguard.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", actor="tester@test", store_url=store_url)
    yield ws
    ws.close()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        import json

        return json.loads(self.stdout)


@pytest.fixture
def cli():
    """Run the omniguard CLI in-process: ``cli("audit verify --json", cwd=...)``."""
    from omniguard.cli import main

    def run(args: str | list[str], cwd: Path | None = None, env: dict | None = None, input: str | None = None):
        argv = shlex.split(args) if isinstance(args, str) else list(args)
        runner = CliRunner()
        old = Path.cwd()
        try:
            if cwd:
                os.chdir(cwd)
            r = runner.invoke(main, argv, env=env, input=input, catch_exceptions=True)
        finally:
            os.chdir(old)
        if r.exception and not isinstance(r.exception, SystemExit):
            raise r.exception
        return CliResult(r.exit_code, r.stdout, r.stderr)

    return run


@pytest.fixture(scope="session")
def chromium():
    """Render an HTML file in headless Chromium; returns the DOM after scripts ran.

    Debian's chromium is installed by `make test` (scripts/ensure-chromium.sh) when missing; this
    fixture runs the same script, and fails (never skips) if Chromium cannot be had."""
    import shutil
    import subprocess
    import tempfile

    if shutil.which("chromium") is None:
        script = Path(__file__).resolve().parent.parent / "scripts" / "ensure-chromium.sh"
        r = subprocess.run(["bash", str(script)], capture_output=True, text=True)
        if r.returncode != 0 or shutil.which("chromium") is None:
            pytest.fail(f"headless Chromium unavailable: {r.stderr.strip()[-300:]}")

    def render(path: Path) -> str:
        with tempfile.TemporaryDirectory() as profile:
            r = subprocess.run(
                ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom",
                 Path(path).resolve().as_uri()],
                capture_output=True, text=True, timeout=90,
            )
        assert r.returncode == 0, r.stderr[-500:]
        return r.stdout

    return render
