"""Several processes appending at once make one unbroken chain; a killed writer leaves a log that
verifies with every committed event present."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from sqlalchemy import text

WRITERS = 4
PER_WRITER = 150

WRITER = textwrap.dedent("""
    import os, sys, time
    from omniguard.workspace import Workspace
    path, wid, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ws = Workspace.open(path)
    while not os.path.exists(go):  # start together
        time.sleep(0.01)
    for i in range(int(sys.argv[4]) // 3):  # single appends interleaved with small batches
        ws.audit.record("read", actor=f"writer-{wid}", rows=i)
        ws.audit.record_many([{"action": "read", "actor": f"writer-{wid}", "rows": i}] * 2, batch_size=2)
    ws.close()
""")


def test_concurrent_writers_make_one_chain(any_workspace, tmp_path):
    ws = any_workspace
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(ws.root), str(w), str(go), str(PER_WRITER)]) for w in range(WRITERS)]
    time.sleep(1.0)
    go.touch()
    for p in procs:
        assert p.wait(120) == 0
    rep = ws.verify()
    assert rep.ok, rep.damage
    assert rep.events == 1 + WRITERS * PER_WRITER
    with ws.store.read() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_events ORDER BY seq"))]
    assert seqs == list(range(1, rep.events + 1))
    actors = {e["actor"] for e in ws.audit.query(action="read")}
    assert actors == {f"writer-{w}" for w in range(WRITERS)}


CHILD = textwrap.dedent("""
    import sys
    from omniguard.workspace import Workspace
    ws = Workspace.open(sys.argv[1])
    def progress(done):
        print(done, flush=True)
    ws.audit.record_many(({"action": "read", "rows": i, "details": {"i": i}} for i in range(10**7)),
                         batch_size=2000, progress=progress)
""")


def test_sigkill_mid_batch_leaves_a_verifiable_log(workspace):
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(workspace.root)], stdout=subprocess.PIPE, text=True)
    reported = 0
    deadline = time.time() + 60
    while reported < 6000 and time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        reported = int(line)
    time.sleep(0.05)  # let it get into the middle of the next batch
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert reported >= 6000, "writer did not get going"
    rep = workspace.verify()
    assert rep.ok, rep.damage
    committed = rep.events - 1  # minus workspace.init
    assert committed >= reported
    assert committed % 2000 == 0  # whole batches only
