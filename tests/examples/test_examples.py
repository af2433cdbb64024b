"""The examples the engineer's guide quotes: the pipeline example runs end to end; the Spark and
Ray examples compile, refuse cleanly without their engine, and run for real when it is installed."""

from __future__ import annotations

import importlib.util
import json
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from omniguard import Workspace

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MEMBERS = 400  # retail_sample.prepare's default
CONSENTING = int(MEMBERS * 0.7)  # granted analytics and personalised marketing
WITHDRAWN = len(range(0, CONSENTING, 14))  # every 14th of them withdrew analytics


def _run(script: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_compiles(script, tmp_path):
    py_compile.compile(str(EXAMPLES / script), cfile=str(tmp_path / "x.pyc"), doraise=True)


def test_pipeline_example_runs_end_to_end(tmp_path):
    proc = _run("pipeline_guard.py", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["rows"] == MEMBERS
    assert summary["audience"] == CONSENTING
    assert summary["analytics_rows"] == summary["batch_rows"] == summary["consenting"] == CONSENTING - WITHDRAWN
    # minimum necessary: analytics never gets contact, identity or financial columns
    assert not {"mobile", "email", "id_card_no", "bank_card_no", "shipping_address"} & set(summary["analytics_columns"])
    first = summary["audience_first_row"]
    assert first["member_id"].startswith("tk1_") and "*" in first["mobile"] and "*" in first["customer_name"]
    assert summary["denied"].startswith("access denied")
    assert summary["roundtrip"] is True and summary["verified"] is True

    ws = Workspace.open(tmp_path / "run" / "retailer")
    reads = list(ws.audit.query(action="read"))
    assert len(reads) == summary["read_events"] == 9  # 4 single calls, 4 batches, 1 denial
    assert [e["decision"] for e in reads].count("deny") == 1
    assert all(e["rows"] == CONSENTING - WITHDRAWN for e in reads if e["decision"] != "deny"
               and e["purpose"] == "analytics" and e["actor"] != "spark-etl@retailer")
    assert sum(e["rows"] for e in reads if e["actor"] == "spark-etl@retailer") == CONSENTING - WITHDRAWN
    assert next(ws.audit.query(action="report.publish"))["subjects"] == CONSENTING - WITHDRAWN
    assert ws.verify().ok
    ws.close()


_BLOCKED = """
import runpy, sys
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"pyspark", "ray"}:
            raise ImportError(f"No module named {name!r}")
sys.meta_path.insert(0, Missing())
sys.argv = [sys.argv[1], sys.argv[2]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.parametrize("script", ["spark_guard.py", "ray_guard.py"])
def test_engine_examples_refuse_cleanly_without_their_engine(script, tmp_path):
    proc = subprocess.run([sys.executable, "-c", _BLOCKED, str(EXAMPLES / script), str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: this example needs") and len(proc.stderr.splitlines()) == 1
    assert not (tmp_path / "run").exists()  # nothing was created


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed")
def test_ray_example_guards_every_batch(tmp_path):
    proc = _run("ray_guard.py", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith(f"{CONSENTING - WITHDRAWN} of {MEMBERS} rows released in 4 guarded batches")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
                    reason="pyspark or Java is not installed")
def test_spark_example_guards_every_batch(tmp_path):
    proc = _run("spark_guard.py", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith(f"{CONSENTING - WITHDRAWN} of {MEMBERS} rows released in 4 guarded")
