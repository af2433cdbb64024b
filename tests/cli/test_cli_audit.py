from __future__ import annotations

import json


def test_audit_commands_end_to_end(cli, tmp_path):
    ws = tmp_path / "ws"
    assert cli(f"init {ws}").exit_code == 0
    from omniguard.workspace import Workspace

    with Workspace.open(ws) as w:
        w.audit.record("read", actor="a@x", purpose="analytics", dataset="crm.csv", rows=10)
        w.audit.record("read", actor="b@x", purpose="personalised_marketing", decision="deny", reason="no consent")
        w.audit.record("decrypt", actor="a@x", role="dpo", dataset="crm.csv", rows=3)
    r = cli(f"-w {ws} audit log --json --actor a@x")
    assert [e["action"] for e in r.json()] == ["read", "decrypt"]
    r = cli(f"-w {ws} audit log --action 'work*' --json")
    assert [e["action"] for e in r.json()] == ["workspace.init"]
    r = cli(f"-w {ws} audit log --decision deny --json")
    assert len(r.json()) == 1 and r.json()[0]["reason"] == "no consent"
    r = cli(f"-w {ws} audit log -o {tmp_path / 'out.jsonl'} --since 2000-01-01")
    assert r.exit_code == 0
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[0])["seq"] == 1
    r = cli(f"-w {ws} audit checkpoint -o {tmp_path / 'cp.json'} --json")
    assert r.exit_code == 0 and r.json()["seq"] == 5
    r = cli(f"-w {ws} audit verify --checkpoint {tmp_path / 'cp.json'} --json")
    assert r.exit_code == 0 and r.json()["ok"] and r.json()["signatures_checked"] >= 1
    r = cli(f"-w {ws} audit public-key -o {tmp_path / 'pub.txt'}")
    r = cli(f"-w {ws} audit verify --checkpoint {tmp_path / 'cp.json'} --public-key {tmp_path / 'pub.txt'}")
    assert r.exit_code == 0
    r = cli(f"-w {ws} audit report -o {tmp_path / 'r.html'} --json")
    html = (tmp_path / "r.html").read_text()
    assert r.exit_code == 0 and "Denials" in html and "no consent" in html and "intact" in html
    assert html.count('class="chart"') == 1
    r = cli(f"-w {ws} audit report -o {tmp_path / 'r.zh.html'} --lang zh")
    assert "拒绝记录" in (tmp_path / "r.zh.html").read_text()
    # every command above that read the log left its own trace
    actions = [e["action"] for e in cli(f"-w {ws} audit log --json").json()]
    assert {"audit.export", "audit.checkpoint", "audit.verify", "audit.report"} <= set(actions)


def test_policy_commands(cli, tmp_path):
    ws = tmp_path / "ws"
    cli(f"init {ws}")
    r = cli(f"-w {ws} policy validate --json")
    assert r.exit_code == 0 and r.json()["purposes"] >= 6
    r = cli(f"-w {ws} policy show purposes --json")
    ids = {p["id"] for p in r.json()}
    assert {"membership", "order_fulfilment", "personalised_marketing", "analytics", "joint_profiling",
            "cross_border_service"} <= ids


def test_tables_print_brackets_as_text(cli, tmp_path, monkeypatch):
    from omniguard.cli import common

    monkeypatch.setattr(common.console, "width", 200)
    ws = tmp_path / "ws"
    cli(f"init {ws}")
    from omniguard.workspace import Workspace

    with Workspace.open(ws) as w:
        w.audit.record("read", actor="[/b]odd[red]name", dataset="[saved]")
    r = cli(f"-w {ws} audit log")
    assert r.exit_code == 0, r.stderr
    assert "[/b]odd[red]name" in r.stdout
    assert "[saved]" in r.stdout


def test_subject_count_with_a_digest(workspace):
    n, d = workspace.audit.subjects_digest(["a", "b"])
    workspace.audit.record("federation.round", rows=2, subjects=n, subjects_digest=d)
    ev = next(iter(workspace.audit.query(action="federation.round")))
    assert ev["subjects"] == 2 and ev["subjects_digest"] == d and "subject_ref" not in ev
